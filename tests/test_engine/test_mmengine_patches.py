"""lszoo.engine.mmengine_patches: installed by ``import lszoo``, refused on an unknown mmengine."""
import pytest

import lszoo  # noqa: F401
from lszoo.engine import mmengine_patches


def test_installed_on_import_and_idempotent():
    assert mmengine_patches.installed()
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
    assert mmengine_patches.installed()


def test_refuses_an_unknown_local_backend(monkeypatch):
    from mmengine.fileio.backends import backends

    class OtherBackend:
        pass
    monkeypatch.setitem(backends, 'local', OtherBackend)
    with pytest.raises(mmengine_patches.MMEnginePatchError, match="'local' file backend"):
        mmengine_patches.install()
