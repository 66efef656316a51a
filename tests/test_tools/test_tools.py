"""tools/train.py and tools/test.py end to end on a shrunk demo config, and their bad-input
messages (one line on stderr, exit code 2, no traceback)."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from helpers import DEMO_CONFIG, REPO, load_script, run_tool
from mmengine.config import Config

from lszoo.config import checks as preflight
from lszoo.cli.tool import format_metrics
from lszoo.errors import ConfigError, DataError
from lszoo.testing import shrink_config


def _load_tool(name):
    module = load_script(f'tools/{name}.py')
    return module


def _assert_clean_error(code, err, *fragments):
    assert code == 2, err
    assert 'Traceback' not in err
    assert 'lszoo: error:' in err
    for fragment in fragments:
        assert fragment in err, f'{fragment!r} not in {err!r}'


# --- shrink_config ---------------------------------------------------------------------------

def test_shrink_config_makes_a_tiny_run(tmp_path):
    cfg = shrink_config(DEMO_CONFIG, tmp_path / 'wd', iters=3, batch_size=2, crop=32)
    assert cfg.work_dir == str(tmp_path / 'wd')
    assert cfg.train_cfg.max_iters == 3 and cfg.train_cfg.val_interval == 3
    assert cfg.train_dataloader.batch_size == 2 and cfg.train_dataloader.num_workers == 0
    assert cfg.val_dataloader.batch_size == 1
    # synthetic scenes: few and small; the demo's 64-pixel train crop becomes 32
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.num_samples == 4 and cfg[key].dataset.size == 32
    crop = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'RandomCrop']
    assert crop[0]['crop_size'] == (32, 32)
    assert cfg.default_hooks.checkpoint.interval == 3
    # the original config file is untouched
    assert Config.fromfile(DEMO_CONFIG).train_cfg.max_iters > 3


def test_shrink_config_data_root_and_file_datasets(tmp_path):
    cfg = Config(dict(
        train_dataloader=dict(batch_size=16, num_workers=4, persistent_workers=True, dataset=dict(
            type='RepeatDataset', times=10, dataset=dict(
                type='BaseSegDataset', data_root='/data/x', pipeline=[
                    dict(type='RandomResize', scale=(1024, 512), ratio_range=(0.5, 2.0)),
                    dict(type='RandomCrop', crop_size=(512, 512))]))),
        model=dict(test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341))),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=4000,
                                           save_best='mIoU'))))
    out = shrink_config(cfg, tmp_path, data_root='/tmp/tiny', crop=64)
    ds = out.train_dataloader.dataset.dataset
    assert ds.data_root == '/tmp/tiny' and ds.indices == 4
    assert ds.pipeline[0]['scale'] == (64, 64) and ds.pipeline[1]['crop_size'] == (64, 64)
    assert out.train_dataloader.num_workers == 0
    assert out.train_dataloader.persistent_workers is False
    assert out.model.test_cfg.crop_size == (64, 64) and out.model.test_cfg.stride == (32, 32)
    assert 'save_best' not in out.default_hooks.checkpoint
    assert cfg.train_dataloader.dataset.dataset.data_root == '/data/x'  # input not modified


# --- preflight checks (in process) -----------------------------------------------------------

def test_preflight_passes_on_demo():
    cfg = Config.fromfile(DEMO_CONFIG)
    preflight.preflight(cfg, DEMO_CONFIG)
    assert preflight.model_input_channels(cfg) == (5, 'model.backbone.in_channels')
    assert preflight.data_channels(cfg, 'train_dataloader')[0] == 5


def test_preflight_channel_mismatch_names_both_sides():
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.backbone.in_channels = 3
    with pytest.raises(ConfigError) as exc:
        preflight.check_channels(cfg, 'demo.py')
    msg = str(exc.value)
    assert 'demo.py' in msg and 'data gives 5 channels' in msg
    assert "bands = ['R', 'G', 'B', 'DEM', 'slope']" in msg
    assert 'model.backbone.in_channels = 3' in msg


def test_preflight_stream_indices_beyond_the_data():
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.backbone = dict(type='UNet', stream_channels={'optical': [0, 1, 2], 'topo': [5]})
    with pytest.raises(ConfigError, match='reads channel 5 but the data gives only 5'):
        preflight.check_channels(cfg, 'demo.py')


def test_preflight_unknown_type_suggests_close_names():
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.decode_head.loss_decode[1].type = 'BinaryDiceLos'
    with pytest.raises(ConfigError) as exc:
        preflight.check_registered_types(cfg, 'demo.py')
    msg = str(exc.value)
    assert "'BinaryDiceLos'" in msg and 'model.decode_head.loss_decode[1].type' in msg
    assert "Did you mean 'BinaryDiceLoss'" in msg


def test_preflight_missing_data_root_only_for_the_stage(tmp_path):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.test_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    preflight.check_data_roots(cfg, 'demo.py', stage='train')  # test data not used: fine
    with pytest.raises(DataError, match='test_dataloader.dataset.data_root'):
        preflight.check_data_roots(cfg, 'demo.py', stage='test')


def test_preflight_missing_eo_weights_file_only_for_training(tmp_path, ssl4eo_file):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'digate_unet',
                                   'digate_unet_resnet18-ssl4eo_inventory.py'))
    preflight.check_eo_files(cfg, 'eo.py')  # a known name: fetched when training starts
    cfg.model.backbone.eo_weights = [str(ssl4eo_file[0]), str(tmp_path / 'absent.pth')]
    with pytest.raises(ConfigError, match=r'eo\.py: model\.backbone\.eo_weights file '
                                          r'.*absent\.pth does not exist'):
        preflight.check_eo_files(cfg, 'eo.py')
    cfg.test_dataloader.dataset.data_root = str(tmp_path)  # test: the checkpoint replaces them
    preflight.preflight(cfg, 'eo.py', stage='test', checks=('eo_weights',))


def test_format_metrics_table():
    table = format_metrics({'IoU': 61.23456, 'F1': 75.0}, title='test')
    lines = table.splitlines()
    assert lines[1].split('|')[1].strip() == 'test'
    assert '61.2346' in lines[3] and '75.0000' in lines[4]
    assert len({len(line) for line in lines}) == 1  # aligned


# --- bad input through the command line (in process: main(argv) -> exit code) ----------------

@pytest.fixture(scope='module')
def train_tool():
    return _load_tool('train')


@pytest.fixture(scope='module')
def test_tool():
    return _load_tool('test')


def test_train_missing_data_root(train_tool, tiny_config, tmp_path, capsys):
    cfg = tiny_config()
    missing = str(tmp_path / 'no_such_dataset')
    code = train_tool.main([cfg, '--cfg-options', 'train_dataloader.dataset.type=BaseSegDataset',
                            f'train_dataloader.dataset.data_root={missing}'])
    _assert_clean_error(code, capsys.readouterr().err, missing,
                        'train_dataloader.dataset.data_root', cfg, 'does not exist')


def test_train_unknown_model_type(train_tool, tiny_config, capsys):
    cfg = tiny_config()
    code = train_tool.main([cfg, '--cfg-options', 'model.backbone.type=UNett'])
    _assert_clean_error(code, capsys.readouterr().err, "unknown model type 'UNett'",
                        'model.backbone.type', cfg, "Did you mean 'UNet'")


def test_train_channel_mismatch(train_tool, tiny_config, capsys):
    cfg = tiny_config()
    code = train_tool.main([cfg, '--cfg-options', 'model.backbone.in_channels=3'])
    _assert_clean_error(code, capsys.readouterr().err, 'channel mismatch', cfg,
                        'data gives 5 channels', 'model.backbone.in_channels = 3')


def test_train_missing_config(train_tool, tmp_path, capsys):
    code = train_tool.main([str(tmp_path / 'nope.py')])
    _assert_clean_error(code, capsys.readouterr().err, 'nope.py', 'does not exist')


def test_test_missing_checkpoint(test_tool, tiny_config, tmp_path, capsys):
    ckpt = str(tmp_path / 'missing.pth')
    code = test_tool.main([tiny_config(), ckpt])
    _assert_clean_error(code, capsys.readouterr().err, ckpt, 'does not exist')


def test_test_file_that_is_not_a_checkpoint(test_tool, tiny_config, tmp_path, capsys):
    fake = tmp_path / 'notes.pth'
    fake.write_text('these are my notes, not a checkpoint\n')
    code = test_tool.main([tiny_config(), str(fake)])
    _assert_clean_error(code, capsys.readouterr().err, str(fake), 'not a PyTorch checkpoint')


# --- a real (tiny) run through both tools ----------------------------------------------------

def test_train_then_test_cli(tiny_config, tmp_path):
    cfg = tiny_config(iters=2)
    work = tmp_path / 'work_dir'
    res = run_tool('train.py', cfg, '--work-dir', work)
    assert res.returncode == 0, res.stderr[-3000:]
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file() and (work / 'last_checkpoint').read_text().strip().endswith(
        'iter_2.pth')
    # the demo config tests after training: metric table on stdout, overlay panels in work dir
    assert '| IoU ' in res.stdout and '| imgF1 ' in res.stdout
    panels = sorted(glob.glob(str(work / 'overlays' / '*.png')))
    assert len(panels) == 4  # 4 test scenes of 64 px, max_images=6
    fig = cv2.imread(panels[0])  # a titled figure of four panels and a legend
    assert fig.shape[2] == 3 and fig.shape[1] > 4 * 64 and fig.shape[0] > 64

    out, show = tmp_path / 'preds', tmp_path / 'show'
    res = run_tool('test.py', cfg, ckpt, '--work-dir', tmp_path / 'test_wd', '--out', out,
                   '--show-dir', show)
    assert res.returncode == 0, res.stderr[-3000:]
    metrics = json.loads((out / 'metrics.json').read_text())
    assert {'IoU', 'F1', 'Precision', 'Recall', 'mIoU', 'mF1', 'imgIoU', 'imgF1'} <= set(metrics)
    preds = sorted(glob.glob(str(out / '*.png')))
    assert len(preds) == 4
    values = np.unique(np.concatenate([cv2.imread(p, cv2.IMREAD_UNCHANGED).ravel()
                                       for p in preds]))
    assert set(values.tolist()) <= {0, 1}
    assert len(glob.glob(str(show / '*.png'))) == 4
    # the table printed on stdout holds the same numbers as metrics.json
    assert f'{metrics["IoU"]:.4f}' in res.stdout


def test_amp_trains_with_bf16_autocast_on_the_cpu(train_tool, tiny_config, tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip('CUDA is available here: --amp means fp16 AmpOptimWrapper')
    config = tiny_config(iters=2)
    args = train_tool.parse_args([config, '--amp', '--no-test'])
    cfg = train_tool.build_cfg(args)
    assert cfg.optim_wrapper.type == 'CPUAutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert train_tool.main([config, '--amp', '--no-test']) == 0
    assert glob.glob(str(tmp_path / 'work_dir' / '*.pth'))


def test_amp_refuses_an_unknown_optim_wrapper(train_tool, tiny_config, capsys):
    config = tiny_config(options={'optim_wrapper.type': 'ApexOptimWrapper'})
    code = train_tool.main([config, '--amp'])
    _assert_clean_error(code, capsys.readouterr().err, 'ApexOptimWrapper')


# --- overlay panels --------------------------------------------------------------------------

def test_display_channels_follow_band_names():
    from lszoo.engine.hooks.overlay_hook import pick_display_channels
    s2 = [f'B{i}' for i in range(1, 13)] + ['slope', 'DEM']  # L4S order
    assert pick_display_channels(14, s2) == [3, 2, 1]
    assert pick_display_channels(5, ['DEM', 'R', 'G', 'B', 'slope']) == [1, 2, 3]
    assert pick_display_channels(4, None, {'topo': [0], 'optical': [3, 2, 1]}) == [3, 2, 1]
    assert pick_display_channels(1) == [0, 0, 0]
    assert pick_display_channels(5, ['R', 'G', 'B'], rgb_channels=(4, 4, 4)) == [4, 4, 4]


def test_overlay_panel_layout_and_error_colours():
    from lszoo.engine.hooks.overlay_hook import error_map, overlay_panel
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 200  # red image
    truth = np.array([[1, 1], [0, 255]], np.uint8)
    pred = np.array([[1, 0], [1, 0]], np.uint8)
    errors = error_map(rgb, truth, pred)  # RGB
    assert tuple(errors[0, 0]) == (0, 200, 0)   # hit: green
    assert tuple(errors[0, 1]) == (0, 80, 230)  # miss: blue
    assert tuple(errors[1, 0]) == (230, 0, 0)   # false alarm: red
    assert tuple(errors[1, 1]) == (100, 0, 0)   # ignored pixel: the dimmed image
    panel = overlay_panel(rgb, truth, pred)  # a titled figure, BGR, wider than four panels
    assert panel.ndim == 3 and panel.shape[1] > panel.shape[0] > 2


def test_resume_from_missing_file(train_tool, tiny_config, tmp_path, capsys):
    missing = str(tmp_path / 'iter_9.pth')
    code = train_tool.main([tiny_config(), '--resume', missing])
    _assert_clean_error(code, capsys.readouterr().err, '--resume', missing, 'does not exist')


def test_unknown_transform_is_one_line(train_tool, tiny_config, capsys):
    cfg = tiny_config()
    code = train_tool.main([cfg, '--cfg-options', 'train_dataloader.dataset.pipeline.0.type=Cropp'])
    _assert_clean_error(code, capsys.readouterr().err, cfg,
                        'Cropp is not in the mmseg::transform registry')


def test_checkpoint_of_another_model_is_refused(tmp_path):
    import torch
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    from lszoo.errors import CheckpointError
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(DEMO_CONFIG)
    model5 = MODELS.build(cfg.model)
    cfg.model.backbone.in_channels = 3
    model3 = MODELS.build(cfg.model)
    path = tmp_path / 'rgb_only.pth'
    torch.save({'meta': {}, 'state_dict': model3.state_dict()}, path)
    preflight.check_checkpoint_fits(model3, str(path), 'demo.py')  # its own model: fine
    with pytest.raises(CheckpointError) as exc:
        preflight.check_checkpoint_fits(model5, str(path), 'demo.py')
    msg = str(exc.value)
    assert str(path) in msg and '1 shape mismatch' in msg
    assert 'backbone.encoder.0.0.convs.0.conv.weight (16, 3, 3, 3) in the checkpoint vs ' \
           '(16, 5, 3, 3) in the model' in msg
    # a bare state dict without the head's classifier: missing tensors are named
    state = {k: v for k, v in model5.state_dict().items() if not k.startswith('decode_head')}
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r'tensors missing, e\.g\. decode_head\.'):
        preflight.check_checkpoint_fits(model5, str(path), 'demo.py')


# --- issue 12: faults found before training, errors of workers, --bands ----------------------

def _l4s_tiny(tiny_config, tmp_path, workers=0):
    """A shrunk demo config reading a synthetic L4S copy with 5 of its bands (``--bands``)."""
    from lszoo.datasets.synthetic_writers import write_synthetic_dataset
    root = write_synthetic_dataset('l4s', tmp_path / 'l4s', num_images=4, size=32, seed=1)
    path = tiny_config(iters=1)
    cfg = Config.fromfile(path)
    pipe = [dict(type='LoadLandslideSample'), dict(type='PackSegInputs', meta_keys=cfg.meta_keys)]
    for key, split in (('train_dataloader', 'train'), ('val_dataloader', 'val'),
                       ('test_dataloader', 'test')):
        cfg[key].dataset = dict(type='L4SDataset', data_root=str(root), split=split,
                                pipeline=pipe)
    cfg.train_dataloader.num_workers = workers
    cfg.dump(path)
    return path, root


def test_bands_option_and_empty_listed_file(train_tool, tiny_config, tmp_path, capsys):
    cfg, root = _l4s_tiny(tiny_config, tmp_path)
    code = train_tool.main([cfg, '--no-test'])  # 14 L4S bands, the demo model reads 5
    _assert_clean_error(code, capsys.readouterr().err, 'data gives 14 channels',
                        'model expects 5')
    empty = sorted((root / 'ValidData' / 'img').iterdir())[0]
    empty.write_bytes(b'')  # e.g. a copy that ran out of disk: found before training
    code = train_tool.main([cfg, '--no-test', '--bands', 'B2', 'B3', 'B4', 'B8', 'DEM'])
    _assert_clean_error(code, capsys.readouterr().err,
                        f'1 listed dataset file(s) are missing or empty: val: {empty}: empty '
                        '(0 bytes)', 'tools/analysis_tools/check_dataset.py')
    assert not glob.glob(str(tmp_path / 'work_dir' / '*.pth'))


def test_worker_error_is_one_line(train_tool, tiny_config, tmp_path, capsys):
    cfg, root = _l4s_tiny(tiny_config, tmp_path, workers=1)
    for img in (root / 'TrainData' / 'img').iterdir():  # not empty: passes the cheap check
        img.write_bytes(img.read_bytes()[:300])
    code = train_tool.main([cfg, '--no-test', '--bands', 'B2', 'B3', 'B4', 'B8', 'DEM'])
    err = capsys.readouterr().err
    _assert_clean_error(code, err, 'unreadable HDF5 file')
    line = [ln for ln in err.splitlines() if ln.startswith('lszoo: error:')]
    assert len(line) == 1 and 'DataLoader worker' not in err
    assert line[0].startswith(f'lszoo: error: {root}/TrainData/img/image_')


def test_load_from_another_model_before_training(train_tool, tiny_config, tmp_path, capsys):
    import torch
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    other = Config.fromfile(DEMO_CONFIG).model
    other.backbone.in_channels = 3
    path = tmp_path / 'rgb_model.pth'
    torch.save({'meta': {}, 'state_dict': MODELS.build(other).state_dict()}, path)
    cfg = tiny_config(iters=1)
    code = train_tool.main([cfg, '--no-test', '--cfg-options', f'load_from={path}'])
    _assert_clean_error(code, capsys.readouterr().err, f'load_from checkpoint {path}: does not '
                        'fit the model of this config: 1 shape mismatch(es), e.g. backbone.'
                        'encoder.0.0.convs.0.conv.weight (16, 3, 3, 3) in the checkpoint vs '
                        '(16, 5, 3, 3) in the model', '--partial-load')
    assert not glob.glob(str(tmp_path / 'work_dir' / '*.pth'))  # refused before training
    code = train_tool.main([cfg, '--no-test', '--partial-load', '--cfg-options',
                            f'load_from={path}'])
    assert code == 0 and glob.glob(str(tmp_path / 'work_dir' / 'iter_1.pth'))


def test_disk_full_during_checkpoint_save_is_one_line(train_tool, tiny_config, tmp_path,
                                                      capsys, monkeypatch):
    import errno
    import os
    real_fsync = os.fsync

    def fsync(fd):
        if os.readlink(f'/proc/self/fd/{fd}').endswith(f'.iter_1.pth.lszoo-tmp-{os.getpid()}'):
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync)
    code = train_tool.main([tiny_config(iters=1), '--no-test'])
    err = capsys.readouterr().err
    _assert_clean_error(code, err, 'cannot write checkpoint', 'iter_1.pth: No space left on '
                        'device (errno 28); no earlier checkpoint of this run exists')
    assert len([ln for ln in err.splitlines() if ln.startswith('lszoo:')]) == 1
    assert not [n for n in os.listdir(tmp_path / 'work_dir') if 'iter_1.pth' in n]  # no temp
