"""Every name lszoo registers is new: ``import lszoo`` adds entries to mmsegmentation's
registries and never replaces or shadows an mmsegmentation / mmcv / mmengine entry.

The registries are compared before and after ``import lszoo`` in a fresh interpreter (mmseg's
own modules registered first)."""
import json
import subprocess
import sys

import pytest
from helpers import REPO

SNAPSHOT = r'''
import json
import mmseg.registry as R
from mmseg.utils import register_all_modules

def snapshot():
    out = {}
    for kind in [n for n in dir(R) if n.isupper()]:
        reg = getattr(R, kind)
        while reg is not None:
            for name, obj in reg.module_dict.items():
                out[f'{kind}|{reg.scope}|{name}'] = obj
            reg = reg.parent
    return out

register_all_modules(init_default_scope=False)
before = snapshot()
import lszoo  # noqa: E402
after = snapshot()
print('@@' + json.dumps(dict(
    before=sorted(before),
    added={k: getattr(v, '__module__', '') for k, v in after.items() if k not in before},
    replaced=sorted(k for k in before if after.get(k) is not before[k]))))
'''


@pytest.fixture(scope='module')
def registries():
    res = subprocess.run([sys.executable, '-c', SNAPSHOT], capture_output=True, text=True,
                         cwd=REPO, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    line = [ln for ln in res.stdout.splitlines() if ln.startswith('@@')][-1]
    return json.loads(line[2:])


def test_lszoo_registers_its_modules(registries):
    added = {k.split('|')[0] + '|' + k.split('|')[2] for k in registries['added']}
    for entry in ('MODELS|BinaryTverskyLoss', 'MODELS|BinaryDiceLoss',
                  'DATASETS|SyntheticLandslideDataset', 'METRICS|LandslideMetric',
                  'HOOKS|LandslideOverlayHook', 'HOOKS|IterationSeedHook'):
        assert entry in added, entry


def test_added_entries_are_lszoo_classes_in_mmseg_scope(registries):
    for key, module in registries['added'].items():
        kind, scope, name = key.split('|')
        assert module.startswith('lszoo'), f'{kind} {name} comes from {module}, not lszoo'
        # an extra registration in a root registry (mmengine's RUNNERS, for code that builds
        # from the root) is fine as long as the mmseg-scope registry has the entry as well
        assert f'{kind}|mmseg|{name}' in registries['added'], (
            f'{kind} {name} is registered in the {scope} registry but not in mmseg\'s')


def test_nothing_replaced(registries):
    assert registries['replaced'] == []


def test_no_name_collides_with_an_existing_one(registries):
    # compared case-insensitively within each kind of registry, across mmseg/mmcv/mmengine
    existing = {}
    for key in registries['before']:
        kind, scope, name = key.split('|')
        existing.setdefault(kind, {})[name.lower()] = f'{scope}::{name}'
    for key in registries['added']:
        kind, _, name = key.split('|')
        assert name.lower() not in existing.get(kind, {}), (
            f'lszoo {kind} name {name!r} collides with {existing[kind][name.lower()]}')
