"""Two-process data-parallel training on the CPU (gloo) through tools/dist_train.sh."""
import glob

from helpers import free_port, run_tool

from lszoo.engine.checkpoint import load_checkpoint_file


def test_dist_train_two_processes_gloo(tiny_config, tmp_path):
    work = tmp_path / 'work_dir'
    cfg = tiny_config(iters=2, work_dir=work, options={'log_level': 'INFO',
                                                        'test_after_train': False})
    res = run_tool('dist_train.sh', cfg, 2, env={'PORT': str(free_port()),
                                                'CUDA_VISIBLE_DEVICES': ''})
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    # mmengine's environment report (in the log file; the console shows a summary): a
    # distributed run over two processes on gloo
    full_log = ''.join(open(p).read() for p in glob.glob(str(work / '*/*.log')))
    assert 'Distributed training: True' in full_log
    assert 'GPU number: 2' in full_log  # mmengine's name for the world size
    assert "backend='gloo'" in full_log
    ckpt = load_checkpoint_file(work / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2
    # the checkpoint holds the bare model (no DDP "module." prefix)
    assert all(not k.startswith('module.') for k in ckpt['state_dict'])
    assert 'backbone.encoder.0.0.convs.0.conv.weight' in ckpt['state_dict']
