"""A quiet start (lszoo.quiet_imports): importing lszoo and mmseg prints neither OpenMMLab
start-up notice; with LSZOO_VERBOSE_IMPORTS=1 both come back (so the check can fail)."""
import os
import subprocess
import sys

from helpers import REPO

CODE = ('import lszoo, mmseg.models, mmcv.cnn.bricks.transformer; '
        'import warnings; warnings.warn("a real warning")')


def _run(env_extra):
    env = dict(os.environ, PYTHONPATH=REPO, **env_extra)
    env.pop('LSZOO_VERBOSE_IMPORTS', None) if not env_extra else None
    r = subprocess.run([sys.executable, '-c', CODE], env=env, capture_output=True, text=True,
                       cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout + r.stderr


def test_imports_are_quiet_but_real_warnings_pass():
    out = _run({})
    assert 'Could not import OneDL' not in out
    assert 'MultiScaleDeformableAttention' not in out
    assert 'a real warning' in out


def test_verbose_imports_restore_the_notices():
    out = _run({'LSZOO_VERBOSE_IMPORTS': '1'})
    assert 'Could not import OneDL' in out
    assert 'MultiScaleDeformableAttention' in out
