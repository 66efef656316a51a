"""lszoo.engine.mmengine_patches: public registrations on ``import lszoo``, the patches of
mmengine internals with the runner or at the first checkpoint load, an opt-out, and an unknown
mmengine reported as a warning at import and one error at the first checkpoint operation."""
import os
import subprocess
import sys
import textwrap

import pytest

import lszoo  # noqa: F401
from lszoo.engine import mmengine_patches

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(*parts, **env):
    """Run the code ``parts`` in a fresh interpreter (nothing patched yet); returns the
    process."""
    code = '\n'.join(textwrap.dedent(p) for p in parts)
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1', **env))


def _states(proc):
    return [ln[len('STATE '):] for ln in proc.stdout.splitlines() if ln.startswith('STATE ')]


LOAD = '''
def load():
    import torch
    from mmengine.runner import CheckpointLoader
    torch.save({'state_dict': {'w': torch.zeros(1)}}, 'c.pth')
    CheckpointLoader.load_checkpoint('c.pth')
'''


def test_import_registers_only_public_api_then_first_load_installs(tmp_path):
    proc = _child('''
        import os; os.chdir(%r)
        import lszoo
        from lszoo.engine import mmengine_patches as m
        print('STATE', m.public_installed(), m.private_installed())
    ''' % str(tmp_path), LOAD, '''
        load()
        print('STATE', m.installed())
    ''')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _states(proc) == ['True False', 'True']


def test_opt_out_leaves_mmengine_internals_alone(tmp_path):
    proc = _child('''
        import os; os.chdir(%r)
        import lszoo
        from lszoo.engine import mmengine_patches as m
    ''' % str(tmp_path), LOAD, '''
        load()
        m.install_private()
        print('STATE', m.public_installed(), m.private_installed())
    ''', LSZOO_NO_MMENGINE_PATCHES='1')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _states(proc) == ['True False']


def test_missing_source_warns_at_import_and_stops_at_first_checkpoint_load(tmp_path):
    proc = _child('''
        import inspect, os, warnings
        os.chdir(%r)
        real = inspect.getsource
        def no_source(obj, *a, **k):  # an install without .py files
            if getattr(obj, '__name__', '') == 'mmengine.hooks.checkpoint_hook':
                raise OSError('could not get source code')
            return real(obj, *a, **k)
        inspect.getsource = no_source
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            import lszoo
        print('WARNED', any('checkpoint_hook' in str(w.message) for w in caught))
    ''' % str(tmp_path), LOAD, '''
        from lszoo.cli.tool import run_tool
        raise SystemExit(run_tool(lambda args: load(), None))
    ''')
    assert 'WARNED True' in proc.stdout, proc.stderr[-2000:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith('lszoo: error:')]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr[-2000:]
    assert 'checkpoint_hook' in errors[0] and 'LSZOO_NO_MMENGINE_PATCHES=1' in errors[0]
    assert 'Traceback' not in proc.stderr


def test_install_is_idempotent():
    mmengine_patches.install()
    mmengine_patches.install()
    assert mmengine_patches.installed()


def test_refuses_to_patch_an_unknown_function(monkeypatch):
    from mmengine.runner import checkpoint as mm_ckpt

    def foreign(path, map_location=None):  # what a changed mmengine could hold there
        return {}
    monkeypatch.setattr(mm_ckpt, '_safe_torch_load', foreign)
    with pytest.raises(mmengine_patches.MMEnginePatchError, match='_safe_torch_load'):
        mmengine_patches.install()
    monkeypatch.undo()
    mmengine_patches.install()
    assert mmengine_patches.installed()


def test_refuses_an_unknown_local_backend(monkeypatch):
    from mmengine.fileio.backends import backends

    class OtherBackend:
        pass
    monkeypatch.setitem(backends, 'local', OtherBackend)
    with pytest.raises(mmengine_patches.MMEnginePatchError, match="'local' file backend"):
        mmengine_patches.install()
