"""tools/infer_scene.py --help shows each option's default and worked examples."""
from helpers import run_tool


def test_help_shows_defaults_and_examples():
    r = run_tool('infer_scene.py', '--help')
    assert r.returncode == 0, r.stderr
    text = ' '.join(r.stdout.split())  # argparse wraps lines
    for shown in ('--overlap OVERLAP overlap between tiles in pixels (default: 64)',
                  'tiles per forward pass (default: 4)', "'cuda:N' (default: cpu)",
                  '0 keeps all (default: 5px)', 'examples:', '--polygons out/scene_b.gpkg',
                  "--launcher pytorch"):
        assert shown in text, shown
    assert '(default: None)' not in text and '(default: False)' not in text
