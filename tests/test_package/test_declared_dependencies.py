"""Every import lszoo, its tools and its tests make is provided by a declared requirement.

A fresh install (`pip install -e ".[dev]"`, what README.md and .ci/run do) must be enough: a
module that imports an undeclared package works only on machines where something else left that
package behind. Two checks: (1) every module of lszoo/ and every tool imports in a fresh
interpreter, the failures listed by module name; (2) every third-party top-level name imported
anywhere in lszoo/, tools/ or tests/ belongs to a distribution in the dependency closure of lszoo's
declared requirements (install_requires plus the extras named below), which fails even on a
machine where the package happens to be installed.
"""
import ast
import importlib.metadata as md
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from helpers import REPO

ROOT = Path(REPO)
# packages a module may import only when an optional extra is installed
OPTIONAL = {'segmentation_models_pytorch': 'benchmark'}
# packages imported only by code that runs in another environment, allowed in that file only:
# benchmarks/scene_peers.py runs each peer tool in the peers' own venv (documented there; their
# dependencies conflict with lszoo's, so they are no extra of setup.cfg)
OTHER_ENV = {'terratorch': 'benchmarks/scene_peers.py', 'geoai': 'benchmarks/scene_peers.py'}
EXTRAS = {'lszoo': ('dev',), 'tools': ('dev',), 'tests': ('dev',), 'benchmarks': ('dev',)}
LOCAL = {'lszoo', 'conftest', 'helpers', 'tests', 'benchmarks'}


def _modules():
    mods = []
    for path in sorted([*(ROOT / 'lszoo').rglob('*.py'), *(ROOT / 'benchmarks').rglob('*.py')]):
        rel = path.relative_to(ROOT).with_suffix('')
        parts = rel.parts[:-1] if rel.name == '__init__' else rel.parts
        mods.append('.'.join(parts))
    return mods


_IMPORT_ALL = r'''
import importlib.util, json, sys, traceback
mods, tools, optional = json.loads(sys.argv[1])
failed = {}
def record(name, err):
    missing = getattr(err, 'name', None) or ''
    if isinstance(err, ModuleNotFoundError) and missing.split('.')[0] in optional:
        return
    failed[name] = f'{type(err).__name__}: {err}'
for m in mods:
    try:
        importlib.import_module(m)
    except BaseException as err:
        record(m, err)
for path in tools:
    spec = importlib.util.spec_from_file_location('_tool_' + str(len(failed)), path)
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    except SystemExit:
        pass
    except BaseException as err:
        record(path, err)
print(json.dumps(failed))
'''


def test_every_module_and_tool_imports_in_a_fresh_interpreter():
    tools = [str(p) for p in sorted((ROOT / 'tools').rglob('*.py'))]
    assert tools and len(_modules()) > 50
    arg = json.dumps([_modules(), tools, sorted(OPTIONAL)])
    out = subprocess.run([sys.executable, '-c', _IMPORT_ALL, arg], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    failed = json.loads(out.stdout.strip().splitlines()[-1])
    assert failed == {}, '\n'.join(f'{k}: {v}' for k, v in failed.items())


def _third_party_imports(folder: str) -> dict:
    """top-level imported name -> first file importing it (absolute imports only)."""
    names = {}
    for path in sorted((ROOT / folder).rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found = [node.module]
            else:
                continue
            rel = str(path.relative_to(ROOT))
            for name in found:
                top = name.split('.')[0]
                if top not in sys.stdlib_module_names and top not in LOCAL \
                        and not top.startswith('test_') and OTHER_ENV.get(top) != rel:
                    names.setdefault(top, rel)
    return names


def _norm(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def _wanted(req: Requirement, extras) -> bool:
    """``req`` applies here when its marker holds with no extra or with one of ``extras``."""
    return req.marker is None or any(req.marker.evaluate({'extra': e}) for e in ('', *extras))


def _closure(extras) -> set:
    """Normalised names of lszoo's declared requirements (with ``extras``) and of everything
    they require in turn (each with the extras it is asked for), as installed here."""
    todo = [Requirement(r) for r in md.requires('lszoo') or []]
    todo = [r for r in todo if _wanted(r, extras)]
    seen = set()
    while todo:
        req = todo.pop()
        key = (_norm(req.name), tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            reqs = [Requirement(r) for r in md.requires(req.name) or []]
        except md.PackageNotFoundError:
            continue  # not installed: the import check reports it if it matters
        todo += [r for r in reqs if _wanted(r, tuple(req.extras))]
    return {name for name, _ in seen}


@pytest.mark.parametrize('folder', sorted(EXTRAS))
def test_every_imported_package_is_declared(folder):
    declared = _closure(EXTRAS[folder])
    dists = md.packages_distributions()
    undeclared = {}
    for name, where in _third_party_imports(folder).items():
        if name in OPTIONAL:
            continue
        providers = {_norm(d) for d in dists.get(name, [])}
        if not providers & declared:
            undeclared[name] = (where, sorted(providers) or ['not installed'])
    assert undeclared == {}, f'imports in {folder}/ with no declared requirement: {undeclared}'


def test_optional_imports_belong_to_their_extra():
    reqs = [Requirement(r) for r in md.requires('lszoo') or []]
    for module, extra in OPTIONAL.items():
        dist = _norm(module)
        assert any(_norm(r.name) == dist and r.marker is not None
                   and r.marker.evaluate({'extra': extra}) for r in reqs), (module, extra)


def test_the_stac_validator_is_declared():
    """pystac validates only with jsonschema: a mapped scene's Item must be checkable."""
    assert 'jsonschema' in _closure(())
