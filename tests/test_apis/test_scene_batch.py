"""lszoo.apis.scene.batch and tools/infer_scene.py with many scenes: inputs from files, folders
and globs; per-scene outputs; skipping finished scenes; two gloo processes sharing the scenes
with masks identical to a single-process run; one summary with failures and their reasons."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from helpers import read, run_infer_scene, save_checkpoint, tiny_scene_config, write_scene

from lszoo.apis import scene as si
from lszoo.apis.scene import batch
from lszoo.errors import ConfigError, DataError


def test_inputs_from_files_folders_and_globs(tmp_path):
    for n in ('b', 'a', 'c'):
        (tmp_path / f'{n}.tif').write_bytes(b'x')
    (tmp_path / 'notes.txt').write_text('x')
    folder = [osp.basename(p) for p in batch.expand_inputs([str(tmp_path)])]
    assert folder == ['a.tif', 'b.tif', 'c.tif']
    mixed = batch.expand_inputs([str(tmp_path / 'c.tif'), str(tmp_path / '*.tif')])
    assert [osp.basename(p) for p in mixed] == ['c.tif', 'a.tif', 'b.tif']  # no repeats
    assert batch.is_many([str(tmp_path)]) and batch.is_many([str(tmp_path / '*.tif')])
    assert not batch.is_many([str(tmp_path / 'a.tif')])
    with pytest.raises(DataError, match='matches no file'):
        batch.expand_inputs([str(tmp_path / '*.jp2')])
    with pytest.raises(DataError, match='missing.tif does not exist'):
        batch.expand_inputs([str(tmp_path / 'missing.tif')])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DataError, match='holds no raster'):
        batch.expand_inputs([str(tmp_path / 'empty')])


def test_per_scene_outputs_are_checked_before_work(tmp_path):
    for n in ('a', 'b'):
        (tmp_path / f'{n}.tif').write_bytes(b'x')
    out = tmp_path / 'out'
    plans = batch.plan_scenes([str(tmp_path / '*.tif')], str(out),
                              prob=str(out / '{name}_prob.tif'))
    assert out.is_dir()
    assert [(osp.basename(p.output), osp.basename(p.prob)) for p in plans] == [
        ('a.tif', 'a_prob.tif'), ('b.tif', 'b_prob.tif')]
    with pytest.raises(ConfigError, match='must contain {name}'):
        batch.plan_scenes([str(tmp_path / '*.tif')], str(out), prob=str(out / 'p.tif'))
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'a.tif').write_bytes(b'x')
    with pytest.raises(ConfigError, match='would both write'):
        batch.plan_scenes([str(tmp_path / 'a.tif'), str(tmp_path / 'sub' / 'a.tif')], str(out))
    with pytest.raises(DataError, match='does not exist'):
        batch.plan_scenes([str(tmp_path / '*.tif')], str(tmp_path / 'nowhere' / '{name}.tif'))


def test_shares_cover_every_scene_once_and_balance_bytes(tmp_path):
    sizes = [900, 100, 500, 400, 300]
    plans = []
    for i, n in enumerate(sizes):
        p = tmp_path / f's{i}.tif'
        p.write_bytes(b'x' * n)
        plans.append(batch.ScenePlan(str(p), str(p) + '.out'))
    shares = [batch.share(plans, r, 2) for r in range(2)]
    names = sorted(p.input for s in shares for p in s)
    assert names == sorted(p.input for p in plans)
    totals = sorted(sum(osp.getsize(p.input) for p in s) for s in shares)
    assert totals == [1000, 1200]  # 900+100 | 500+400+300


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    d = tmp_path_factory.mktemp('many')
    cfg = tiny_scene_config()
    ckpt = save_checkpoint(cfg, d / 'tiny.pth')
    cfg_path = d / 'tiny_cfg.py'
    Config(cfg).dump(str(cfg_path))
    src = d / 'scenes'
    src.mkdir()
    for i, (h, w) in enumerate([(200, 260), (150, 180), (130, 140)]):
        write_scene(src / f'scene{i}.tif', h, w, seed=i)
    return dict(dir=d, cfg=cfg, cfg_path=str(cfg_path), ckpt=ckpt, src=src)


def test_two_processes_share_scenes_skip_done_ones_and_report_failures(scenes, tmp_path):
    src, out = scenes['src'], tmp_path / 'out'
    common = ['--tile', '128', '--overlap', '32', '--batch', '2', '--window', '256']
    # scene2 finished in an earlier run: it must be skipped, its file left untouched
    out.mkdir()
    si.map_scene(scenes['cfg'], str(src / 'scene2.tif'), str(out / 'scene2.tif'),
                 scenes['ckpt'], prob=str(out / 'scene2_prob.tif'), tile=128, overlap=32,
                 batch=2, window=256, progress=False)
    done_before = osp.getmtime(out / 'scene2.tif')
    broken = tmp_path / 'broken.tif'
    broken.write_text('not a raster')
    r = run_infer_scene([scenes['cfg_path'], scenes['ckpt'], str(src / '*.tif'), str(broken),
                  str(out), '--prob', str(out / '{name}_prob.tif'), *common], nproc=2)
    assert r.returncode == 1, r.stderr[-3000:]  # one scene failed
    summary = [line for line in r.stdout.splitlines() if line.startswith('scenes:')]
    assert summary == [summary[0]] and '2 done, 1 skipped, 1 failed (4 in all, 2 process(es)' \
        in summary[0], r.stdout
    assert f'failed: {broken}: cannot open input scene' in r.stdout
    assert '[0]' in r.stdout and '[1]' in r.stdout  # both processes mapped scenes
    assert osp.getmtime(out / 'scene2.tif') == done_before
    # each scene's outputs equal a single-process run of that scene
    for i in (0, 1):
        ref = tmp_path / f'ref{i}.tif'
        si.map_scene(scenes['cfg'], str(src / f'scene{i}.tif'), str(ref), scenes['ckpt'],
                     prob=str(tmp_path / f'ref{i}_prob.tif'), tile=128, overlap=32, batch=2,
                     window=256, progress=False)
        np.testing.assert_array_equal(read(out / f'scene{i}.tif')[0], read(ref)[0])
        np.testing.assert_array_equal(read(out / f'scene{i}_prob.tif')[0],
                                      read(tmp_path / f'ref{i}_prob.tif')[0])
    # a second run finds every good scene complete
    r = run_infer_scene([scenes['cfg_path'], scenes['ckpt'], str(src), str(out), '--prob',
                  str(out / '{name}_prob.tif'), *common, '--no-progress'])
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'scenes: 0 done, 3 skipped, 0 failed (3 in all, 1 process(es)' in r.stdout
