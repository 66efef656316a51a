"""benchmarks/change.py trains a change demo, scores the held-out sites and writes the
table and the pixel counts (one iteration on a tiny world)."""
import json
import math

from benchmarks import change as change_benchmark


def _tool():
    return change_benchmark


def test_change_benchmark_scores_new_scars_and_confounders(tmp_path):
    from lszoo.datasets.synthetic_change import write_change_world
    root = write_change_world(tmp_path / 'world', num_sites=4, size=128, tile=128)
    out = tmp_path / 'table.md'
    tool = _tool()
    assert tool.main(['--configs', 'demo/change_post_only_unet_synthetic.py', '--iters', '1',
                      '--data-root', str(root), '--work-dir', str(tmp_path / 'work'),
                      '--out', str(out)]) == 0
    text = out.read_text()
    assert '| `configs/demo/change_post_only_unet_synthetic.py` | post |' in text
    (result,) = json.loads(out.with_suffix('.json').read_text())
    c = result['pixels']
    assert result['samples'] == 2  # the two held-out test sites, one tile each
    assert c['tp'] + c['fn'] > 0 and c['conf'] > 0
    # new scars, confounders and the rest partition every (valid) test pixel
    assert c['tp'] + c['fn'] + c['conf'] + c['other'] == 2 * 128 * 128
    for key in ('iou', 'recall', 'confounder_fp', 'other_fp'):
        assert 0.0 <= result[key] <= 100.0 or math.isnan(result[key])
    bound = tool.scar_like_bound(result)
    assert math.isclose(bound, 100.0 * (c['tp'] + c['fn']) / (c['tp'] + c['fn'] + c['conf']))
    assert f'{bound:.2f}' in text
