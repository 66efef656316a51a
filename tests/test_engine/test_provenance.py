"""Each work dir records what is needed to reproduce the run (issue 8)."""
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import timm
import torch

import lszoo
from lszoo.engine.checkpoint import load_checkpoint_file
from lszoo.engine.hooks.provenance import describe_dataset, git_state

from helpers import REPO, build_runner, tiny_train_config



def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('prov')
    runner = build_runner(tiny_train_config(work_dir, iters=2, interval=2, seed=1234))
    runner.train()
    return work_dir, runner


def test_training_run_records_config_seed_versions_and_data(trained):
    work_dir, runner = trained
    rec = json.loads((work_dir / 'provenance.json').read_text())
    assert rec['mode'] == 'train' and rec['seed'] == 1234 == runner.seed
    v = rec['versions']
    assert v['torch'] == torch.__version__.split('+')[0] or v['torch'] == torch.__version__
    assert v['timm'] == timm.__version__ and v['lszoo'] == lszoo.__version__
    import mmengine
    import mmseg
    assert v['mmseg'] == mmseg.__version__ and v['mmengine'] == mmengine.__version__
    # the resolved config, as text (hash recorded) and as a dict
    assert rec['config_sha256'] == sha256(work_dir / 'provenance_config.py')
    assert rec['config']['model']['backbone']['base_channels'] == 4
    assert rec['config']['randomness']['seed'] == 1234
    (train, ) = rec['datasets']['train']
    assert train['type'] == 'SyntheticLandslideDataset' and train['num_samples'] == 2
    keys = sorted(str(0 * 100_003 + i) for i in range(2))  # the synthetic scene seeds
    assert train['samples_sha256'] == hashlib.sha256('\n'.join(keys).encode()).hexdigest()
    # a copy per run in the timestamped log folder
    assert json.loads((Path(runner.log_dir) / 'provenance.json').read_text())['seed'] == 1234


@pytest.mark.skipif(shutil.which('git') is None, reason='git not installed')
def test_git_commit_is_recorded(trained):
    work_dir, _ = trained
    rec = json.loads((work_dir / 'provenance.json').read_text())
    head = subprocess.run(['git', '-C', str(REPO), 'rev-parse', 'HEAD'], capture_output=True,
                          text=True)
    if head.returncode != 0:
        pytest.skip('not a git checkout')
    assert rec['git']['commit'] == head.stdout.strip()
    assert isinstance(rec['git']['dirty'], bool)
    assert git_state(str(work_dir)) is None  # a folder outside any checkout: no commit


def test_checkpoint_meta_carries_provenance(trained):
    work_dir, _ = trained
    meta = load_checkpoint_file(work_dir / 'iter_2.pth')['meta']  # still loads safely
    prov = meta['lszoo_provenance']
    assert prov['seed'] == 1234 and prov['versions']['lszoo'] == lszoo.__version__
    assert prov['datasets']['train'][0]['num_samples'] == 2


def test_test_run_writes_its_own_record(trained, tmp_path):
    work_dir, _ = trained
    before = (work_dir / 'provenance.json').read_bytes()
    runner = build_runner(tiny_train_config(work_dir, load_from=str(work_dir / 'iter_2.pth')))
    runner.test()
    rec = json.loads((work_dir / 'provenance_test.json').read_text())
    assert rec['mode'] == 'test' and rec['load_from'] == str(work_dir / 'iter_2.pth')
    assert rec['datasets']['test'][0]['num_samples'] == 2
    assert (work_dir / 'provenance.json').read_bytes() == before


def test_split_file_checksums_follow_the_files(tmp_path):
    from lszoo.datasets.bijie import BijieDataset
    from lszoo.datasets.synthetic_writers import write_synthetic_dataset
    root = write_synthetic_dataset('bijie', tmp_path / 'bijie', num_images=5, size=32)
    ds = BijieDataset(data_root=str(root), split='train', pipeline=[])
    splits = root / 'splits'
    (splits / 'bijie_train_seed7.txt').write_text('landslide/x\n')  # another seed: not used
    (entry, ) = describe_dataset(ds)
    assert entry['split'] == 'train' and entry['split_seed'] == 42
    assert entry['split_files'] == {
        f'splits/bijie_{s}_seed42.txt': sha256(splits / f'bijie_{s}_seed42.txt')
        for s in ('train', 'val', 'test')}
    assert entry['num_samples'] == len(ds) > 1

    # editing the split list changes both its checksum and the sample fingerprint
    train_file = splits / 'bijie_train_seed42.txt'
    lines = train_file.read_text().splitlines()
    train_file.write_text('\n'.join(lines[:-1]) + '\n')
    (entry2, ) = describe_dataset(BijieDataset(data_root=str(root), split='train', pipeline=[]))
    assert entry2['num_samples'] == entry['num_samples'] - 1
    name = 'splits/bijie_train_seed42.txt'
    assert entry2['split_files'][name] != entry['split_files'][name]
    assert entry2['split_files'][name] == sha256(train_file)
    assert entry2['samples_sha256'] != entry['samples_sha256']
