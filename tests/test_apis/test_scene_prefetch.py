"""Reading ahead in scene inference (lszoo.apis.scene.prefetch): same outputs, errors from the
reader thread surface unchanged, no thread or file is left behind, pinning only for CUDA."""
import os
import os.path as osp
import threading
import time

import numpy as np
import pytest
import rasterio
import torch
from mmengine.config import Config
from helpers import load_script, read, save_checkpoint, tiny_scene_config, write_scene

from lszoo.apis import scene as si
from lszoo.apis.scene import prefetch
from lszoo.geo.grid import Grid
from lszoo.apis.scene.predictor import TilePredictor
from lszoo.geo.reader import SceneReader
from lszoo.errors import ConfigError, DataError

READER = 'lszoo-scene-reader'
OPTS = dict(tile=128, overlap=32, batch=2, window=256, progress=False, stac=False)


def reader_threads():
    return [t for t in threading.enumerate() if t.name == READER]


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    """A 300 x 420 scene with a nodata hole (valid masks are read in the reader thread too)."""
    d = tmp_path_factory.mktemp('prefetch')
    cfg = tiny_scene_config()
    path, _ = write_scene(d / 'scene.tif', 300, 420, nodata=-9999.0)
    with rasterio.open(path, 'r+') as ds:
        data = ds.read()
        data[:, 40:90, 250:330] = -9999.0
        ds.write(data)
    return dict(cfg=cfg, ckpt=save_checkpoint(cfg, d / 'tiny.pth'), scene=path)


def test_outputs_bit_identical_with_and_without_reading_ahead(tmp_path, scene, monkeypatch):
    threads = []
    real = SceneReader.read

    def recording(self, *a):
        threads.append(threading.current_thread().name)
        return real(self, *a)
    monkeypatch.setattr(SceneReader, 'read', recording)
    outs = {}
    for depth in (0, 2):
        threads.clear()
        res = si.map_scene(scene['cfg'], scene['scene'], str(tmp_path / f'm{depth}.tif'),
                           scene['ckpt'], prob=str(tmp_path / f'p{depth}.tif'), prefetch=depth,
                           **OPTS)
        # reads ran in the main thread without reading ahead, in the reader thread with it
        assert threads and set(threads) == {'MainThread' if depth == 0 else READER}
        assert res.times['wait'] > 0
        outs[depth] = read(tmp_path / f'm{depth}.tif')[0], read(tmp_path / f'p{depth}.tif')[0]
    mask, prob = outs[0]
    assert (mask == 255).any() and (mask == 1).any() and (mask == 0).any()
    np.testing.assert_array_equal(outs[2][0], mask)
    np.testing.assert_array_equal(outs[2][1], prob)  # bit-identical, not just close
    assert reader_threads() == []


@pytest.mark.parametrize('depth', [0, 2])
def test_reader_error_surfaces_unchanged_and_leaves_nothing(tmp_path, scene, monkeypatch,
                                                            depth):
    raised, calls = [], []
    real = SceneReader.read

    def failing(self, y0, y1, x0, x1):
        calls.append(threading.current_thread().name)
        if len(calls) == 2:  # the second (last) window: the first block is written by then
            raised.append(DataError(f'{self.path}: window rows {y0}:{y1} is unreadable'))
            raise raised[0]
        return real(self, y0, y1, x0, x1)
    monkeypatch.setattr(SceneReader, 'read', failing)
    out = tmp_path / 'out'
    out.mkdir()
    with pytest.raises(DataError, match='window rows .* is unreadable') as info:
        si.map_scene(scene['cfg'], scene['scene'], str(out / 'm.tif'), scene['ckpt'],
                     prob=str(out / 'p.tif'), polygons=str(out / 'p.gpkg'), prefetch=depth,
                     **OPTS)
    assert info.value is raised[0]  # the reader's own exception, message and type kept
    assert len(calls) == 2 and calls[-1] == (READER if depth else 'MainThread')
    assert os.listdir(out) == [] and reader_threads() == []


def test_model_error_stops_and_joins_the_reader(tmp_path, scene, monkeypatch):
    """An error on the model side (main thread) while the reader is ahead: the reader stops,
    its thread is joined and the outputs are discarded."""
    from lszoo.apis.scene import predictor
    calls = []

    def failing(model, x):
        calls.append(1)
        if len(calls) == 2:
            time.sleep(0.2)  # let the reader fill the queue and block on it
            raise RuntimeError('out of memory on batch 2')
        return torch.zeros(x.shape[0], x.shape[2], x.shape[3])
    monkeypatch.setattr(predictor, 'predict_tiles', failing)
    with pytest.raises(RuntimeError, match='out of memory on batch 2'):
        si.map_scene(scene['cfg'], scene['scene'], str(tmp_path / 'm.tif'), scene['ckpt'],
                     prob=str(tmp_path / 'p.tif'), prefetch=1, backend='torch', **OPTS)
    assert len(calls) == 2 and os.listdir(tmp_path) == [] and reader_threads() == []


def test_prefetcher_is_bounded_ordered_and_closes_its_generator():
    produced, closed = [], []

    def items():
        try:
            for i in range(100):
                produced.append(i)
                yield i
        finally:
            closed.append(threading.current_thread().name)
    with prefetch.Prefetcher(items(), depth=2) as ahead:
        assert [next(ahead), next(ahead)] == [0, 1]
        deadline = time.monotonic() + 10
        while len(produced) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        # two consumed, two waiting in the queue, one in hand blocked on the full queue: no more
        assert len(produced) == 2 + 2 + 1
        assert next(ahead) == 2
    assert closed == [READER] and reader_threads() == []
    with prefetch.Prefetcher(iter(range(5)), depth=1) as ahead:
        assert list(ahead) == [0, 1, 2, 3, 4] and list(ahead) == []
    with pytest.raises(ValueError, match='depth'):
        prefetch.Prefetcher(iter(()), depth=0)


def fake_pin_memory(calls):
    """Stands in for ``torch.Tensor.pin_memory`` (absent CUDA makes the real one raise): records
    the calling thread and returns a marked copy."""
    def pin_memory(tensor):
        calls.append(threading.current_thread().name)
        out = tensor.clone()
        out.pinned_by_test = True
        return out
    return pin_memory


@pytest.mark.parametrize('device,cuda,pinned', [
    ('cpu', True, False), ('cpu', False, False), ('cuda', True, True), ('cuda:1', True, True),
    (torch.device('cuda', 0), True, True), ('cuda', False, False)])
def test_pinning_only_for_a_cuda_device(monkeypatch, device, cuda, pinned):
    pins = []
    monkeypatch.setattr(torch.Tensor, 'pin_memory', fake_pin_memory(pins))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    x = torch.ones(2, 3, 4, 4)
    out = prefetch.pin_for(x, device)
    assert len(pins) == int(pinned)
    assert (getattr(out, 'pinned_by_test', False) if pinned else out is x)


def test_batches_are_pinned_in_the_reader_thread_and_copied_non_blocking(scene, monkeypatch):
    """The scene path on a (pretended) CUDA device: each batch is pinned once, in the reader
    thread, and moved to the device with ``non_blocking=True``."""
    from contextlib import ExitStack
    pins, moves = [], []
    real_to = torch.Tensor.to

    def to(self, *args, **kwargs):
        if args and str(args[0]).startswith('cuda'):
            moves.append((getattr(self, 'pinned_by_test', False), kwargs))
            return self  # stays on the CPU: the test has no GPU
        return real_to(self, *args, **kwargs)
    monkeypatch.setattr(torch.Tensor, 'pin_memory', fake_pin_memory(pins))
    monkeypatch.setattr(torch.Tensor, 'to', to)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    times = dict(read=0.0, normalize=0.0, model=0.0)
    with ExitStack() as stack:
        reader = SceneReader(stack, scene['scene'], None, None, 4, None)
        predictor = TilePredictor(lambda x: torch.sigmoid(x[:, 0]), reader, 128, None, 'cuda',
                                  times)
        grid = Grid(300, 420, 128, 32, 256)
        batches = grid.batches((0, 0), 2)
        with prefetch.Prefetcher(predictor.read_batches(batches), 1) as ahead:
            preds = [p for b in ahead for p in predictor.predict_batch(b)]
    assert len(pins) == len(batches) and set(pins) == {READER}
    assert moves == [(True, dict(non_blocking=True))] * len(batches)
    assert len(preds) == sum(map(len, batches))


def test_default_and_validation_of_prefetch():
    assert prefetch.default_prefetch('cuda:0') == prefetch.CUDA_PREFETCH == 1
    assert prefetch.default_prefetch('cpu') == prefetch.CPU_PREFETCH
    assert si.SceneOptions(prefetch=0).prefetch == 0
    for bad in (-1, True, 1.5, '2'):
        with pytest.raises(ConfigError, match='prefetch .* must be an integer >= 0'):
            si.SceneOptions(prefetch=bad)


def test_tool_prefetch_flag(tmp_path, scene, capsys):
    tool = load_script('tools/infer_scene.py')
    cfg_path = tmp_path / 'tiny_cfg.py'
    Config(scene['cfg']).dump(str(cfg_path))
    common = [str(cfg_path), scene['ckpt'], scene['scene']]
    for args in ([str(tmp_path / 'x.tif')], [scene['scene'], str(tmp_path / 'many')]):
        assert tool.main([*common, *args, '--prefetch', '-1']) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith('lszoo: error: prefetch') and '-1' in err
        assert len(err.splitlines()) == 1
    assert not osp.exists(tmp_path / 'x.tif') and os.listdir(tmp_path / 'many') == []
    assert tool.main([*common, str(tmp_path / 'm.tif'), '--prefetch', '3', '--tile', '128',
                      '--window', '256', '--no-progress', '--no-stac', '--no-cog']) == 0
    assert 'megapixels/s' in capsys.readouterr().out and osp.isfile(tmp_path / 'm.tif')


def test_benchmark_compares_prefetch_settings_interleaved(tmp_path, monkeypatch, capsys):
    """tools/analysis_tools/benchmark_scene.py --compare-prefetch: one warm-up, then A B, B A, ...
    in one process, a ratio per repetition and their median."""
    import lszoo.apis
    bench = load_script('tools/analysis_tools/benchmark_scene.py')
    order, real = [], lszoo.apis.map_scene

    def spy(*args, **kwargs):
        order.append(kwargs['prefetch'])
        return real(*args, **kwargs)
    monkeypatch.setattr(lszoo.apis, 'map_scene', spy)
    assert bench.main(['--compare-prefetch', '0', '2', '--sizes', '256', '--tile', '128',
                       '--overlap', '32', '--window', '256', '--reps', '3', '--threads', '1',
                       '--workdir', str(tmp_path)]) == 0
    assert order == [0, 0, 2, 2, 0, 0, 2]
    out = capsys.readouterr().out
    reps = [line for line in out.splitlines() if line.strip().startswith('rep ')]
    assert len(reps) == 3 and all('ratio 2/0' in line for line in reps)
    ratios = sorted(float(line.split('ratio 2/0: ')[1].split()[0]) for line in reps)
    assert f'throughput ratio 2/0: median {ratios[1]:.3f}' in out
