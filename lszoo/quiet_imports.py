"""Import OpenMMLab's modules without their two start-up notices (the one place that does so).

* onedl-mmsegmentation prints ``Could not import OneDL`` (``print_log(..., level=DEBUG)`` with no
  logger falls back to ``print``) from ``mmseg/datasets/__init__.py`` and
  ``mmseg/datasets/transforms/__init__.py`` when the optional ``onedl`` package is absent. While
  those two modules are imported here, ``mmengine.logging.print_log`` drops exactly that
  message; every other call passes through, and the original function is restored afterwards.
* onedl-mmcv, built without compiled ops, warns that ``MultiScaleDeformableAttention`` cannot be
  imported. No lszoo model uses deformable attention, so a warnings filter matching that
  message from ``mmcv.cnn.bricks.transformer`` only is installed (it stays for the process, so
  later imports of that module stay quiet too). Other warnings are untouched.

Set ``LSZOO_VERBOSE_IMPORTS=1`` to see both notices again.
"""
import contextlib
import os
import warnings

ONEDL_NOTICE = 'Could not import OneDL'
MSDA_NOTICE = r'Fail to import ``MultiScaleDeformableAttention``'


@contextlib.contextmanager
def _without_onedl_notice():
    import mmengine.logging as mlog

    original = mlog.print_log

    def print_log(msg, *args, **kwargs):
        if msg == ONEDL_NOTICE and not args and kwargs.get('logger') is None:
            return None
        return original(msg, *args, **kwargs)

    mlog.print_log = print_log
    try:
        yield
    finally:
        mlog.print_log = original


def import_quietly() -> None:
    """Import mmcv's transformer bricks and mmseg's datasets without the notices above."""
    if os.environ.get('LSZOO_VERBOSE_IMPORTS'):
        return
    warnings.filterwarnings('ignore', message=MSDA_NOTICE, category=UserWarning,
                            module=r'mmcv\.cnn\.bricks\.transformer')
    with _without_onedl_notice():
        import mmseg.datasets  # noqa: F401
        import mmseg.datasets.transforms  # noqa: F401
