"""GeoNeXt's domain adaptation and zero-shot recipes end to end on tiny synthetic copies of the
datasets (atto encoder, 32x32 crops, two iterations): train on CAS, fine-tune from that
checkpoint on Bijie / Landslide4Sense / GVLM, and test the CAS model on each target's test split
with tools/test.py. Also: the headline config without data fails with one clear message."""
import json
from pathlib import Path

import pytest
import torch
from helpers import REPO, load_script
from mmengine.config import Config

import lszoo  # noqa: F401
from lszoo.datasets.synthetic_writers import write_synthetic_dataset
from lszoo.engine import build_runner
from lszoo.engine.checkpoint import load_checkpoint_file
from lszoo.testing import shrink_config

CFG = Path(REPO, 'configs', 'geonext')
CROP = 32
TARGETS = ['bijie', 'l4s', 'gvlm']


def _load_tool(name):
    return load_script(f'tools/{name}.py')


def _data_root(name, base):
    n = {'l4s': 4, 'bijie': 5, 'cas': 4, 'gvlm': 3}[name]
    root = write_synthetic_dataset(name, base / name, num_images=n, size=CROP, seed=1)
    if name == 'gvlm':
        _load_tool('dataset_converters/gvlm').convert(root, root / f'tiles_{CROP}', size=CROP,
                                                      overlap=0)
    return root


def _tiny(config, work_dir, data_root):
    cfg = shrink_config(str(CFG / config), work_dir, data_root=str(data_root), iters=2, crop=CROP)
    cfg.model.backbone.arch = 'atto'
    cfg.model.decode_head.in_channels = [40, 80, 160, 320]
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None and cfg[key].dataset.get('type') == 'GVLMDataset':
            cfg[key].dataset.tile_dir = f'tiles_{CROP}'
    return cfg


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp('data')
    return {name: _data_root(name, base) for name in ['cas'] + TARGETS}


@pytest.fixture(scope='module')
def cas_checkpoint(roots, tmp_path_factory):
    work = tmp_path_factory.mktemp('cas_pretrain')
    cfg = _tiny('geonext_cas_pretrain.py', work, roots['cas'])
    cfg.optim_wrapper.optimizer.lr = 1e-2  # move the weights well away from the seeded init
    build_runner(cfg).train()
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file()
    return ckpt


def test_zero_shot_configs_change_only_the_test_data():
    pretrain = Config.fromfile(str(CFG / 'geonext_cas_pretrain.py')).to_dict()
    for target in TARGETS:
        zs = Config.fromfile(str(CFG / f'geonext_zeroshot_{target}.py')).to_dict()
        changed = {k for k in set(pretrain) | set(zs) if pretrain.get(k) != zs.get(k)}
        assert changed == {'test_dataloader'}, (target, changed)
        ds = zs['test_dataloader']['dataset']
        assert ds['split'] == 'test' and len(ds['bands']) == 3  # harmonised to RGB
        assert ds['data_root'] == f'data/{target}'


@pytest.mark.parametrize('target', TARGETS)
def test_fine_tune_from_cas_checkpoint(target, roots, cas_checkpoint, tmp_path):
    cfg = _tiny(f'geonext_{target}_from_cas.py', tmp_path / 'work', roots[target])
    assert cfg.load_from.startswith('work_dirs/geonext_cas_pretrain/')
    cfg.load_from = str(cas_checkpoint)
    cfg.optim_wrapper.optimizer.lr = 0.0  # weights stay as loaded: compare them after the run
    runner = build_runner(cfg)
    runner.train()
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()
    # every weight of the CAS model (encoder and decoder) was loaded: nothing mismatched
    cas = load_checkpoint_file(str(cas_checkpoint))['state_dict']
    params = dict(runner.model.named_parameters())
    assert set(params) <= set(cas)
    for key, value in params.items():
        torch.testing.assert_close(value.detach(), cas[key], msg=key)
    iou = runner.message_hub.get_scalar('val/IoU').current()
    assert 0 <= iou <= 100


@pytest.mark.parametrize('target', TARGETS)
def test_zero_shot_with_tools_test(target, roots, cas_checkpoint, tmp_path):
    cfg = _tiny(f'geonext_zeroshot_{target}.py', tmp_path / 'work', roots[target])
    cfg_path = tmp_path / f'geonext_zeroshot_{target}.py'
    cfg.dump(str(cfg_path))
    out = tmp_path / 'out'
    rc = _load_tool('test').main([str(cfg_path), str(cas_checkpoint), '--work-dir',
                                  str(tmp_path / 'work'), '--out', str(out)])
    assert rc == 0
    metrics = json.loads((out / 'metrics.json').read_text())
    flat = json.dumps(metrics)
    for key in ('IoU', 'F1', 'mF1'):
        assert key in flat
    masks = sorted(out.rglob('*.png'))
    assert masks, 'tools/test.py --out wrote no prediction masks'


def test_headline_command_without_data_gives_one_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no data/bijie here
    rc = _load_tool('train').main([str(CFG / 'geonext_bijie.py'), '--work-dir',
                                   str(tmp_path / 'work')])
    err = capsys.readouterr().err
    assert rc == 2
    assert 'data/bijie' in err
    assert 'Traceback' not in err
    # how to point the config at the data: one option for every loader
    assert '--data-root /path/to/data (every loader' in err
