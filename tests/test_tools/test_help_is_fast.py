"""``tools/<tool>.py --help`` prints its help without importing torch (it used to take 5-7 s:
``import lszoo`` registers every module); a real run still registers them (run_tool)."""
import argparse
import subprocess
import sys

import pytest

from helpers import REPO

TOOLS = ['train.py', 'test.py', 'infer_scene.py', 'export_onnx.py', 'evaluate_inventory.py',
         'analysis_tools/check_dataset.py']


def _imported(stderr: str):
    """Module names from ``python -X importtime``'s report."""
    return {line.rsplit('|', 1)[-1].strip() for line in stderr.splitlines()
            if line.startswith('import time:')}


@pytest.mark.parametrize('tool', TOOLS)
def test_help_does_not_import_torch(tool):
    r = subprocess.run([sys.executable, '-X', 'importtime', f'tools/{tool}', '--help'],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith('usage:')
    modules = _imported(r.stderr)
    assert 'argparse' in modules  # the report is read at all
    assert 'torch' not in modules and 'mmseg' not in modules


def test_a_tool_run_registers_lszoo_modules():
    code = ('import sys; sys.argv = ["tools/x.py", "--help"]; import __main__; '
            '__main__.LSZOO_TOOL = True; import lszoo; '
            'assert "lszoo.models" not in sys.modules; '
            'from lszoo.cli.tool import run_tool; '
            'run_tool(lambda a: 0, None); '
            'from mmseg.registry import MODELS; print(MODELS.get("SiameseEncoder").__name__)')
    r = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["SiameseEncoder"]


def test_cfg_options_action_parses_like_mmengine():
    from mmengine.config import DictAction

    from lszoo.cli.tool import CfgOptionsAction
    argv = ['--cfg-options', 'a=1', 'b.c=[1,2]', 'd=x']
    parsed = []
    for action in (CfgOptionsAction, DictAction):
        p = argparse.ArgumentParser()
        p.add_argument('--cfg-options', nargs='+', action=action)
        parsed.append(p.parse_args(argv).cfg_options)
    assert parsed[0] == parsed[1] == {'a': 1, 'b.c': [1, 2], 'd': 'x'}
