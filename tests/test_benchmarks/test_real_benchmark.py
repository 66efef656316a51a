"""The real Bijie benchmark (benchmarks/real.py, benchmarks/real.py)."""
import builtins
import json
import os.path as osp

import pytest

from helpers import REALDATA
from benchmarks import real as rb
from lszoo.errors import ConfigError, DataError

BIJIE = osp.join(REALDATA, 'bijie_mini')


def _bench_cfg(tmp_path, config, overrides, recipe, **kwargs):
    """``config`` as the benchmark builds it: 50 iterations, batch 4, 128 crops."""
    return rb.benchmark_config(config, overrides, str(tmp_path), 'data', str(tmp_path), 50, 4,
                               128, recipe, **kwargs)


def test_split_rule_is_fixed_and_documented():
    stems = [f'{i:05d}' for i in range(36)]
    train, test = rb.split_stems(list(reversed(stems)))  # input order does not matter
    assert len(train) == 24 and len(test) == 12
    assert test == stems[2::3] and not set(train) & set(test)


def test_nepal_split_tests_the_originals_only():
    stems = ['10009', '10013', 'barrdistorted_1001_0.3_0.3_10003', '10040',
             'barrdistorted_1001_0.3_0.3_10010']
    train, test = rb.split_stems(stems, 'nepal')
    assert test == ['10009', '10013', '10040']
    assert train == ['barrdistorted_1001_0.3_0.3_10003', 'barrdistorted_1001_0.3_0.3_10010']
    with pytest.raises(DataError, match='original chips'):
        rb.split_stems(['10009', '10013'], 'nepal')


def test_seed_summary_is_mean_and_sample_sd():
    import statistics

    from benchmarks.seeds import seed_table, summarize_seeds
    rows = [dict(name='A', seed=s, IoU=v, F1=v, Precision=v, Recall=v)
            for s, v in ((7, 10.0), (1, 30.0), (42, 26.0))]
    rows.append(dict(name='B', seed=1, IoU=5.0, F1=5.0, Precision=5.0, Recall=float('nan')))
    (a, b) = summarize_seeds(rows)
    assert a['seeds'] == [1, 7, 42] and a['IoU_values'] == [30.0, 10.0, 26.0]
    assert a['IoU_mean'] == pytest.approx(statistics.mean([10, 30, 26]))
    assert a['IoU_sd'] == pytest.approx(statistics.stdev([10, 30, 26]))
    # one seed: no spread (nan, not 0); a NaN value stays NaN
    assert b['IoU_sd'] != b['IoU_sd'] and b['Recall_mean'] != b['Recall_mean']
    table = seed_table([a])
    assert '| A | 1, 7, 42 | 22.00 ± 10.58 |' in table and '30.00, 10.00, 26.00 |' in table


def test_missing_data_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match='image'):
        rb.find_samples(str(tmp_path))
    (tmp_path / 'image').mkdir()
    (tmp_path / 'mask').mkdir()
    for name in ('a', 'b', 'c'):
        (tmp_path / 'image' / f'{name}.png').write_bytes(b'')
    (tmp_path / 'mask' / 'a.png').write_bytes(b'')
    with pytest.raises(DataError, match='without a mask'):
        rb.find_samples(str(tmp_path))


def test_candidate_recipe_replaces_loss_and_schedule(tmp_path):
    name, config, overrides = rb.LIGHT[3]
    cfg = _bench_cfg(tmp_path, config, overrides, 'bce_dice')
    assert [d['type'] for d in cfg.model.decode_head.loss_decode] == [
        'BinaryCrossEntropyLoss', 'BinaryDiceLoss']
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert [s['type'] for s in cfg.param_scheduler] == ['LinearLR', 'PolyLR']
    assert cfg.param_scheduler[1]['end'] == 50 and cfg.model.backbone.in_channels == 3
    assert cfg.train_dataloader.batch_size == 4 and cfg.train_cfg.max_iters == 50
    # recipe 'config': the config's own schedule, scaled to the budget (2000 -> 50 iterations)
    own = _bench_cfg(tmp_path, config, overrides, 'config')
    from lszoo.engine.budget_schedule import resolve_fractions
    resolved = resolve_fractions(own.param_scheduler, own.train_cfg.max_iters)
    assert [(s['begin'], s['end']) for s in resolved] == [(0, 5), (5, 50)]
    with pytest.raises(ConfigError, match='recipe'):
        _bench_cfg(tmp_path, config, overrides, 'adamw')


def test_crop_survives_train_py(tmp_path):
    """--crop is what trains: tools/train.py's apply_crop_size (cfg.crop_size into every
    RandomCrop) must not put back the dataset base's 256x256."""
    from lszoo.config.crop_size import apply_crop_size
    name, config, overrides = rb.LIGHT[4]
    cfg = _bench_cfg(tmp_path, config, overrides, 'bce_dice')
    apply_crop_size(cfg)
    crops = [s['crop_size'] for s in cfg.train_dataloader.dataset.pipeline
             if s['type'] == 'RandomCrop']
    assert crops == [(128, 128)]


@pytest.mark.parametrize('name', ['SegFormer-MiT-B0', 'DeepLabV3+-MobileNetV2'])
def test_configs_calibrate_but_the_benchmark_scores_their_fixed_threshold(tmp_path, name):
    """The SegFormer-B0 and DeepLabV3+ MobileNetV2 configs calibrate their threshold when
    training ends (docs/benchmarks/recipes.md, section 5); the benchmark has no validation split
    and scores the fixed threshold, so it drops the hook (benchmarks.threshold scores the
    calibrated one)."""
    from lszoo.config import load_config
    _, config, overrides = next(m for m in rb.LIGHT if m[0] == name)
    hooks = [h['type'] for h in load_config(osp.join(rb.REPO, config)).custom_hooks]
    assert 'CalibrateThresholdHook' in hooks
    cfg = _bench_cfg(tmp_path, config, overrides, 'config')
    assert 'CalibrateThresholdHook' not in [h['type'] for h in cfg.custom_hooks]


def test_seed_and_cfg_options_apply_after_the_recipe(tmp_path):
    """--cfg-options vary one setting against the recipe (here: a constant learning rate)."""
    name, config, overrides = rb.LIGHT[4]
    cfg = _bench_cfg(tmp_path, config, overrides, 'bce_dice', seed=7,
                     cfg_options={'param_scheduler': None,
                                  'model.decode_head.upsample_mode': 'nearest'})
    assert cfg.param_scheduler is None and cfg.randomness == dict(seed=7)
    assert cfg.model.decode_head.upsample_mode == 'nearest'
    assert cfg.optim_wrapper.optimizer.lr == 1e-3  # the rest of the recipe stays
    assert cfg.model.backbone.model_name == 'resnet18'


def test_yardstick_seed_fixes_crops_and_weights():
    """The yardstick seeds NumPy too (mmseg's RandomCrop draws from it): same seed, same run."""
    import numpy as np
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    pytest.importorskip('segmentation_models_pytorch')
    from benchmarks.yardstick import run_yardstick

    class RandomCrops:  # draws its crop from NumPy's global state, like RandomCrop
        def __init__(self):
            g = torch.Generator().manual_seed(0)
            self.img = torch.rand(2, 3, 64, 64, generator=g)
            self.gt = (torch.rand(2, 64, 64, generator=g) > 0.8).long()

        def __len__(self):
            return 2

        def __getitem__(self, i):
            y, x = np.random.randint(0, 33, size=2)
            sample = SegDataSample()
            sample.gt_sem_seg = PixelData(data=self.gt[i:i + 1, y:y + 32, x:x + 32])
            return dict(inputs=self.img[i, :, y:y + 32, x:x + 32], data_samples=sample)

    runs = [run_yardstick(RandomCrops(), RandomCrops(), iters=2, batch=2, seed=s)
            for s in (3, 3, 4)]
    keys = ('IoU', 'F1', 'imgIoU')
    assert [runs[0][k] for k in keys] == [runs[1][k] for k in keys]
    assert runs[0]['params'] == runs[2]['params'] > 0


def test_missing_smp_is_one_clear_error(tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_smp(name, *args, **kwargs):
        if name.startswith('segmentation_models_pytorch'):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_smp)
    code = rb.main(['--data', str(tmp_path), '--work-root', str(tmp_path / 'w')])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install segmentation-models-pytorch' in err
    assert not (tmp_path / 'w').exists()  # refused before any work


def test_unknown_model_name(tmp_path, capsys):
    code = rb.main(['--only', 'UNet-w99', '--work-root', str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and 'UNet-w99' in err and "'yardstick'" in err


def test_tiny_run_on_the_real_samples(tmp_path):
    """Two configs and the yardstick, one iteration each: the table has every protocol."""
    if not osp.isdir(BIJIE):
        pytest.skip('../shared/realdata/bijie_mini is not available')
    try:
        import segmentation_models_pytorch  # noqa: F401
        extra = []
    except ImportError:
        extra = ['--no-yardstick']
    code = rb.main(['--iters', '1', '--crop', '64', '--batch', '2', '--threads', '1',
                         '--only', 'DiGATe-UNet-lcnet050', 'UNet-w16', '--work-root',
                         str(tmp_path), '--out', str(tmp_path / 'out')] + extra)
    assert code == 0
    rows = json.loads((tmp_path / 'out' / 'rows.json').read_text())
    assert [r['name'] for r in rows][:2] == ['UNet-w16', 'DiGATe-UNet-lcnet050']
    assert len(rows) == 2 + (not extra)
    for r in rows:
        for key in ('IoU', 'F1', 'mIoU', 'mF1', 'imgIoU', 'imgF1'):
            assert 0 <= r[key] <= 100
        assert r['params'] > 0 and r['seconds'] > 0
    md = (tmp_path / 'out' / 'real.md').read_text()
    assert '| imgF1 |' in md and 'Train 24 / test 12 images' in md
    split = (tmp_path / 'bijie' / 'splits' / 'bijie_test_seed42.txt').read_text().split()
    assert len(split) == 12


def test_nepal_with_two_seeds_reports_mean_and_spread(tmp_path):
    nepal = osp.join(REALDATA, 'nepal_mini')
    if not osp.isdir(nepal):
        pytest.skip('../shared/realdata/nepal_mini is not available')
    code = rb.main(['--dataset', 'nepal', '--iters', '1', '--crop', '64', '--batch', '2',
                    '--threads', '1', '--only', 'UNet-w16', '--no-yardstick', '--seeds', '1',
                    '2', '--work-root', str(tmp_path), '--out', str(tmp_path / 'out')])
    assert code == 0
    rows = json.loads((tmp_path / 'out' / 'rows.json').read_text())
    assert [(r['name'], r['seed']) for r in rows] == [('UNet-w16', 1), ('UNet-w16', 2)]
    md = (tmp_path / 'out' / 'real.md').read_text()
    assert 'Real nepal benchmark' in md and 'Train 21 / test 15 images' in md
    assert 'Over the 2 seeds (mean ± sample sd)' in md and '| UNet-w16 | 1, 2 |' in md


def test_seed_files_run_apart_merge_into_one_table(tmp_path, capsys):
    """``python -m benchmarks.seeds`` joins per-seed rows.json files; a model and seed twice is
    an error naming the file."""
    import json

    import pytest

    from benchmarks import seeds
    from lszoo.errors import DataError
    files = []
    for seed, iou in ((0, 20.0), (1, 30.0)):
        path = tmp_path / f'rows{seed}.json'
        path.write_text(json.dumps([dict(name='m', seed=seed, IoU=iou, F1=1.0, Precision=1.0,
                                         Recall=1.0)]))
        files.append(str(path))
    assert seeds.main(files + ['--out', str(tmp_path / 't.md')]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith('| m |')][0]
    assert '| 0, 1 |' in line and '25.00 ± 7.07' in line and line.endswith('20.00, 30.00 |')
    assert (tmp_path / 't.md').read_text().count('| m |') == 1
    with pytest.raises(DataError, match='rows0.json'):
        seeds.merge_row_files([files[0], files[0]])


def test_validation_split_is_carved_from_training_only():
    from benchmarks.validation import carve
    stems = [f'{i:05d}' for i in range(36)]
    train, test = rb.split_stems(stems)
    kept, val = carve(list(reversed(train)))
    assert val == sorted(train)[3::4] and len(val) == 6 and len(kept) == 18
    assert not set(val) & set(kept) and not set(val) & set(test)
    with pytest.raises(ConfigError, match='none to validate'):
        carve(['a', 'b', 'c'])


def test_validate_tests_the_best_checkpoint_beside_the_last(tmp_path):
    """Two validations in four iterations: the row names the best one's iteration and scores
    the last checkpoint apart; the validation images are neither trained nor tested on."""
    if not osp.isdir(BIJIE):
        pytest.skip('../shared/realdata/bijie_mini is not available')
    code = rb.main(['--iters', '4', '--validate', '2', '--crop', '64', '--batch', '2',
                    '--threads', '1', '--only', 'UNet-w16', '--no-yardstick', '--work-root',
                    str(tmp_path), '--out', str(tmp_path / 'out')])
    assert code == 0
    (row,) = json.loads((tmp_path / 'out' / 'rows.json').read_text())
    assert row['best_iter'] in (2, 4) and 0 <= row['IoU_last'] <= 100
    work = tmp_path / 'bijie' / 'config' / 'seed42' / 'UNet-w16'
    assert (work / f'best_IoU_iter_{row["best_iter"]}.pth').is_file()
    assert (work / 'iter_4.pth').is_file()
    split = {name: (tmp_path / 'bijie' / 'splits' / f'bijie_{name}_seed42.txt').read_text()
             .split() for name in ('train', 'val', 'test')}
    assert [len(split[n]) for n in ('train', 'val', 'test')] == [18, 6, 12]
    assert not set(split['val']) & (set(split['train']) | set(split['test']))
    md = (tmp_path / 'out' / 'real.md').read_text()
    assert 'Train 18 / validation 6' in md and '| best iter | IoU last |' in md


def test_validate_beyond_the_budget_stops_before_any_work(tmp_path, capsys):
    code = rb.main(['--iters', '2', '--validate', '3', '--only', 'UNet-w16', '--no-yardstick',
                    '--work-root', str(tmp_path / 'bad')])
    assert code == 2 and '--validate' in capsys.readouterr().err
    assert not (tmp_path / 'bad').exists()
