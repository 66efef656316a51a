"""lszoo.datasets.check and tools/analysis_tools/check_dataset.py: every file of every split opened
and reported; the cheap pre-training check (every listed file exists and is not empty)."""
import shutil

import h5py
import numpy as np
import pytest
from helpers import run_tool
from mmengine.config import Config

import lszoo  # noqa: F401
from lszoo.datasets.check import (check_datasets, check_listed_files, dataset_configs,
                                  format_report, problem_count)
from lszoo.datasets.synthetic_writers import write_synthetic_dataset
from lszoo.errors import DataError

LOAD = [dict(type='LoadLandslideSample')]


@pytest.fixture(scope='module')
def l4s_root(tmp_path_factory):
    return write_synthetic_dataset('l4s', tmp_path_factory.mktemp('l4s') / 'l4s', num_images=8,
                                   size=16, seed=5)


def _cfg(root):
    def loader(split):
        return dict(batch_size=1, num_workers=0,
                    dataset=dict(type='L4SDataset', data_root=str(root), split=split,
                                 pipeline=LOAD))
    return Config(dict(custom_imports=dict(imports=['lszoo'], allow_failed_imports=False),
                       train_dataloader=loader('train'), val_dataloader=loader('val'),
                       test_dataloader=loader('val')))


@pytest.fixture
def damaged(l4s_root, tmp_path):
    root = tmp_path / 'l4s'
    shutil.copytree(l4s_root, root)
    val = sorted((root / 'ValidData/img').iterdir())
    val[0].write_bytes(val[0].read_bytes()[:200])  # truncated
    with h5py.File(val[1], 'r+') as f:  # all NaN
        data = f['img'][()]
        data[...] = np.nan
        f['img'][...] = data
    train = sorted((root / 'TrainData/img').iterdir())
    with h5py.File(train[0], 'r+') as f:  # 13 bands instead of 14
        data = f['img'][()]
        del f['img']
        f.create_dataset('img', data=data[..., :13])
    with h5py.File(train[1], 'r+') as f:  # a quarter NaN
        data = f['img'][()]
        data[:8, :8] = np.nan
        f['img'][...] = data
    mask = sorted((root / 'TrainData/mask').iterdir())[2]
    with h5py.File(mask, 'r+') as f:
        m = f['mask'][()]
        m[0, 0] = 7
        f['mask'][...] = m
    return root, val, train, mask


def test_dataset_configs_dedupes_and_unwraps(l4s_root):
    cfg = _cfg(l4s_root)
    assert [label for label, _ in dataset_configs(cfg)] == ['train', 'val']  # test == val
    cfg.train_dataloader.dataset = dict(type='ConcatDataset', datasets=[
        cfg.train_dataloader.dataset, dict(cfg.val_dataloader.dataset, split='test')])
    assert [label for label, _ in dataset_configs(cfg, ['train'])] == ['train[0]', 'train[1]']


def test_check_datasets_reports_every_kind(damaged):
    root, val, train, mask = damaged
    reports = check_datasets(_cfg(root), progress=False)
    by = {r['label']: r for r in reports}
    assert by['train']['problems'] == {'format': 1, 'mask': 1}
    assert by['val']['problems'] == {'unreadable': 1, 'all_invalid': 1}
    assert by['train']['nan_files'] == 1 and by['train']['max_nan_share'] == pytest.approx(0.25)
    assert by['train']['files'] == 2 * by['train']['samples']
    assert by['train']['dtypes'] == {'float64': by['train']['samples']}
    text = format_report(reports)
    assert f'train: format: {train[0]}: has 13 bands, expected 14' in text
    assert f'train: mask: {mask}: mask values [7]' in text
    assert f'val: unreadable: {val[0]}: unreadable HDF5 file' in text
    assert f'val: all_invalid: {val[1]}: every pixel is NaN/inf/nodata' in text
    assert problem_count(reports) == 4


def test_check_listed_files_is_cheap_and_names_missing_and_empty(l4s_root, tmp_path):
    root = tmp_path / 'l4s'
    shutil.copytree(l4s_root, root)
    cfg = _cfg(root)
    assert check_listed_files(cfg) > 0
    ds_files = sorted((root / 'ValidData/mask').iterdir())
    ds_files[0].write_bytes(b'')
    with pytest.raises(DataError, match=rf'1 listed dataset file\(s\) are missing or empty: '
                                        rf'val: {ds_files[0]}: empty \(0 bytes\)\. Run '):
        check_listed_files(cfg)


def test_tool_prints_table_and_exit_code(damaged, tmp_path):
    root = damaged[0]
    path = tmp_path / 'cfg.py'
    _cfg(root).dump(str(path))
    res = run_tool('analysis_tools/check_dataset.py', path, '--split', 'val')
    assert res.returncode == 1, res.stderr[-2000:]
    assert 'val: L4SDataset (' in res.stderr and 'elapsed' in res.stderr  # progress bar
    lines = res.stdout.splitlines()
    table = lines[next(i for i, ln in enumerate(lines) if ln.startswith('split ')):]
    assert table[0].split()[:4] == ['split', 'dataset', 'samples', 'files']
    assert table[1].startswith('val ') and 'unreadable 1, all_invalid 1' in table[1]
    assert not any(ln.startswith('train') for ln in table)  # --split val
    assert table[-1] == '2 problem(s) found'
    res = run_tool('analysis_tools/check_dataset.py', tmp_path / 'nope.py')
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith('lszoo: error: config file')
