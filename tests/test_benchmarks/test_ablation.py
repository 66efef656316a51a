"""benchmarks.ablation: each variant changes one thing of the recipe; the table sets it beside
the recipe's own runs of the same seeds."""
import json
import os.path as osp

import pytest
from helpers import REALDATA

from benchmarks import ablation, real


def _flat(d, prefix=''):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


def _recipe_cfg(tmp_path, data=None):
    """The ablation model's benchmark config (300 iterations, batch 4, 256² crops, seed 0)."""
    _, config, overrides = next(m for m in real.LIGHT if m[0] == ablation.MODEL)
    return real.benchmark_config(config, overrides, str(tmp_path), data or str(tmp_path),
                                 str(tmp_path), 300, 4, 256, 'config', 0)


@pytest.mark.parametrize('variant, changed', [
    ('stretched-schedule', {'param_scheduler'}),
    ('cls-1x1-normal', {'model.decode_head.cls_kernel_size', 'model.decode_head.cls_init'}),
    ('bce-only', {'model.decode_head.loss_decode'}),
    ('lr-1e-4', {'optim_wrapper.optimizer.lr'}),
    ('constant-lr', {'param_scheduler'}),
    ('groupnorm', {'model.backbone.norm_layer', 'model.decode_head.norm_cfg.type',
                   'model.decode_head.norm_cfg.num_groups'}),
    ('batch-8', {'train_dataloader.batch_size'}),
    ('more-augmentation', {'train_dataloader.dataset.pipeline'}),
])
def test_each_variant_changes_one_thing(tmp_path, variant, changed):
    cfg = _recipe_cfg(tmp_path)
    before = _flat(cfg.to_dict())
    ablation.VARIANTS[variant][1](cfg)
    after = _flat(cfg.to_dict())
    assert {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} == changed
    if variant == 'stretched-schedule':
        assert [(s['begin'], s['end']) for s in cfg.param_scheduler] == [(0, 200), (200, 2000)]


def test_groupnorm_variant_builds_a_model_without_batchnorm(tmp_path):
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = _recipe_cfg(tmp_path)
    ablation.group_norm(cfg)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    kinds = {type(m).__name__ for m in model.modules()}
    assert {'ChannelGroupNorm', 'GroupNorm'} <= kinds and not any('BatchNorm' in k for k in kinds)
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 64), mode='tensor')
    assert out.shape[-2:] == (64, 64)


def test_more_augmentation_pipeline_runs_on_real_tiles(tmp_path):
    import numpy as np
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    data = osp.join(REALDATA, 'bijie_mini')
    if not osp.isdir(data):
        pytest.skip('../shared/realdata/bijie_mini is not available')
    real.write_splits(data, str(tmp_path), 'bijie')
    cfg = _recipe_cfg(tmp_path, data)
    ablation.more_augmentation(cfg)
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert types.index('RandomResize') < types.index('RandomCrop') < types.index('RandomRot90')
    init_default_scope('mmseg')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)
    for i in range(4):
        sample = dataset[i]
        assert tuple(sample['inputs'].shape) == (3, 256, 256)
        assert set(np.unique(sample['data_samples'].gt_sem_seg.data.numpy())) <= {0, 1}


def test_table_compares_with_the_recipe_on_the_same_seeds():
    row = dict(Precision=50.0, Recall=40.0)
    rows = [dict(row, name='recipe', seed=0, IoU=30.0), dict(row, name='recipe', seed=1, IoU=20.0),
            dict(row, name='recipe', seed=2, IoU=10.0),
            dict(row, name='bce-only', seed=0, IoU=10.0), dict(row, name='bce-only', seed=1,
                                                                IoU=12.0)]
    lines = ablation.table(rows).splitlines()
    assert lines[2].startswith('| recipe | the config as it is | 0, 1, 2 | 30.00, 20.00, 10.00 |')
    assert '| 11.00 | 25.00 | -14.00 |' in lines[3]


def test_unknown_variant_stops_before_any_work(tmp_path, capsys):
    assert ablation.main(['--variants', 'nope', '--work-root', str(tmp_path)]) != 0
    assert "unknown ['nope']" in capsys.readouterr().err
    assert not (tmp_path / 'bijie').exists()


def test_tiny_run_with_a_baseline_file(tmp_path, capsys):
    if not osp.isdir(osp.join(REALDATA, 'bijie_mini')):
        pytest.skip('../shared/realdata/bijie_mini is not available')
    base = tmp_path / 'rows.json'
    base.write_text(json.dumps([dict(name=ablation.MODEL, seed=3, IoU=5.0, Precision=1.0,
                                     Recall=2.0), dict(name='other', seed=3, IoU=9.0)]))
    code = ablation.main(['--iters', '1', '--crop', '64', '--batch', '2', '--seeds', '3',
                          '--variants', 'bce-only', '--baseline', str(base),
                          '--work-root', str(tmp_path / 'w'), '--out', str(tmp_path / 'out')])
    assert code == 0
    rows = json.loads((tmp_path / 'out' / 'rows.json').read_text())
    assert [(r['name'], r['seed']) for r in rows] == [('recipe', 3), ('bce-only', 3)]
    md = (tmp_path / 'out' / 'ablation.md').read_text()
    assert '| recipe | the config as it is | 3 | 5.00 |' in md and '| bce-only |' in md
    capsys.readouterr()
    assert ablation.main(['--results', str(tmp_path / 'out' / 'rows.json')]) == 0
    printed = capsys.readouterr().out
    assert '| recipe | the config as it is | 3 | 5.00 |' in printed and '| bce-only |' in printed
