"""LandslideMetric against a hand-computed confusion matrix; degenerate cases; threshold semantics;
distributed aggregation (padding dropped, 2 gloo processes)."""
import json
import math
import socket
import uuid
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

import lszoo  # noqa: F401  (registers the metric)
from lszoo.errors import ConfigError, DataError
from lszoo.evaluation.metrics import landslide_metric
from lszoo.evaluation.metrics.landslide_metric import LandslideMetric

KEYS = ('IoU', 'F1', 'Precision', 'Recall', 'mIoU', 'mF1', 'imgIoU', 'imgF1')


def sample(gt, pred=None, seg_logits=None, name='x.png'):
    """One data sample as mmengine's evaluator passes it (a dict)."""
    out = dict(img_path=name, gt_sem_seg=dict(data=torch.tensor(gt)[None]))
    if pred is not None:
        out['pred_sem_seg'] = dict(data=torch.tensor(pred)[None])
    if seg_logits is not None:
        out['seg_logits'] = dict(data=torch.as_tensor(seg_logits, dtype=torch.float32))
    return out


# Three 2x3 images (255 = ignored).
# 1: TP (0,0), FN (0,1), FP (0,2), TN (1,0) (1,1), (1,2) ignored   -> TP 1 FP 1 FN 1 TN 2
# 2: no landslide, empty prediction                                  -> TN 6
# 3: TP 2, FN (0,2), FP (1,0), TN 2                                   -> TP 2 FP 1 FN 1 TN 2
# total TP 3, FP 2, FN 2, TN 10
IMAGES = [
    ([[1, 1, 0], [0, 0, 255]], [[1, 0, 1], [0, 0, 1]]),
    ([[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]]),
    ([[1, 1, 1], [0, 0, 0]], [[1, 1, 0], [1, 0, 0]]),
]
EXPECTED = dict(
    IoU=100 * 3 / 7, F1=100 * 6 / 10, Precision=100 * 3 / 5, Recall=100 * 3 / 5,
    # background: TP 10, FP 2, FN 2 -> IoU 10/14, F1 20/24
    mIoU=100 * (3 / 7 + 10 / 14) / 2, mF1=100 * (6 / 10 + 20 / 24) / 2,
    # per image IoU 1/3, 1, 2/4; F1 2/4, 1, 4/6
    imgIoU=100 * (1 / 3 + 1 + 2 / 4) / 3, imgF1=100 * (2 / 4 + 1 + 4 / 6) / 3)


def run(samples, size=None, **kwargs):
    metric = METRICS.build(dict(type='LandslideMetric', **kwargs))
    metric.dataset_meta = dict(classes=('background', 'landslide'))
    metric.process({}, samples)
    return metric.evaluate(len(samples) if size is None else size)


def assert_metrics(got, expected):
    assert set(got) == set(KEYS)
    for key in KEYS:
        if math.isnan(expected[key]):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(expected[key]), key


def test_hand_computed_confusion_matrix_three_protocols():
    assert_metrics(run([sample(g, p) for g, p in IMAGES]), EXPECTED)


def test_records_are_counts_per_image():
    metric = LandslideMetric()
    metric.process({}, [sample(g, p) for g, p in IMAGES])
    assert [r.tolist() for r in metric.results] == [[1, 1, 1, 2], [0, 0, 0, 6], [2, 1, 1, 2]]


def test_degenerate_no_landslide_anywhere():
    empty = [sample([[0, 0], [0, 0]], [[0, 0], [0, 0]]) for _ in range(2)]
    nan = float('nan')
    assert_metrics(run(empty), dict(IoU=nan, F1=nan, Precision=nan, Recall=nan, mIoU=100.0,
                                    mF1=100.0, imgIoU=100.0, imgF1=100.0))


def test_degenerate_false_alarms_only_and_misses_only():
    # no landslide in truth, one false positive: precision 0, recall undefined
    got = run([sample([[0, 0], [0, 0]], [[1, 0], [0, 0]])])
    assert got['IoU'] == 0 and got['F1'] == 0 and got['Precision'] == 0
    assert math.isnan(got['Recall'])
    assert got['imgIoU'] == 0 and got['mIoU'] == pytest.approx(100 * (3 / 4) / 2)
    # landslide missed entirely: precision undefined, F1 / IoU / recall 0
    got = run([sample([[1, 0], [0, 0]], [[0, 0], [0, 0]])])
    assert math.isnan(got['Precision'])
    assert got['IoU'] == 0 and got['F1'] == 0 and got['Recall'] == 0


def test_all_ignored_image_is_skipped_by_image_mean():
    samples = [sample(g, p) for g, p in IMAGES]
    samples.append(sample([[255, 255, 255], [255, 255, 255]], [[1, 1, 1], [0, 0, 0]]))
    assert_metrics(run(samples), EXPECTED)


def test_ignore_index_pixels_do_not_count():
    gt, pred = IMAGES[0]
    changed = [row[:] for row in pred]
    changed[1][2] = 0  # the ignored pixel
    assert run([sample(gt, pred)]) == run([sample(gt, changed)])
    other = [[1, 1, 0], [0, 0, 7]]  # 7 as the ignore index: pixel (1,2) ignored again
    assert_metrics(run([sample(other, pred)], ignore_index=7), run([sample(gt, pred)]))


def postprocess(seg_logits, head_threshold=0.3):
    """mmseg's real ``BaseSegmentor.postprocess_result`` on (N, C, H, W) logits."""
    n, _, h, w = seg_logits.shape
    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(ori_shape=(h, w), img_shape=(h, w), img_path='t.png'))
        samples.append(s)
    fake = SimpleNamespace(decode_head=SimpleNamespace(threshold=head_threshold),
                           align_corners=False)
    out = BaseSegmentor.postprocess_result(fake, seg_logits, samples)
    for s in out:
        s.gt_sem_seg = PixelData(data=torch.tensor([[[0, 1]]]))
    return [s.to_dict() for s in out]


def test_threshold_logit_half_is_probability_0_6225():
    logits = torch.tensor([[[[0.49, 0.51]]]])  # truth 0, 1
    prob_threshold = 1 / (1 + math.exp(-0.5))
    assert prob_threshold == pytest.approx(0.6225, abs=1e-4)
    # the head's threshold 0.3 on the probability: both pixels landslide -> one false positive
    got = run(postprocess(logits))
    assert got['Precision'] == pytest.approx(50.0)
    # explicit threshold recomputes from seg_logits: 0.49 -> background, 0.51 -> landslide
    perfect = run(postprocess(logits), threshold=prob_threshold)
    assert perfect['IoU'] == pytest.approx(100.0)
    # two softmax channels with the same class-1 probability agree
    two = torch.cat([torch.zeros_like(logits), logits], dim=1)
    assert run(postprocess(two), threshold=prob_threshold) == perfect
    # a slightly higher threshold rejects 0.51 too (strict >, as mmseg)
    assert run(postprocess(logits), threshold=1 / (1 + math.exp(-0.52)))['IoU'] == 0


def test_one_and_two_channel_models_agree_on_random_maps():
    torch.manual_seed(0)
    z = torch.randn(3, 1, 6, 5) * 3
    gt = (torch.rand(3, 6, 5) > 0.5).long()
    for threshold in (None, 0.5):
        one = postprocess(z, head_threshold=0.5)
        two = postprocess(torch.cat([torch.zeros_like(z), z], dim=1))
        for s, g in zip(one + two, list(gt) * 2):
            s['gt_sem_seg']['data'] = g[None]
        assert run(one, threshold=threshold) == run(two, threshold=threshold)


def test_padded_samples_are_dropped_by_size():
    samples = [sample(g, p) for g, p in IMAGES]
    # a distributed sampler pads with the first sample; evaluate(size) must drop it
    assert_metrics(run(samples + [samples[0]], size=3), EXPECTED)
    assert run(samples + [samples[0]], size=4)['IoU'] != pytest.approx(EXPECTED['IoU'])


def test_table_is_printed(monkeypatch):
    lines = []
    monkeypatch.setattr(landslide_metric, 'print_log', lambda msg, logger=None: lines.append(msg))
    run([sample(g, p) for g, p in IMAGES])
    text = '\n'.join(lines)
    assert 'landslide' in text and 'background' in text
    assert 'TP 3 FP 2 FN 2 TN 10' in text
    assert '42.86' in text and '61.11' in text and 'DiGATe' in text and 'GeoNeXt' in text


def test_no_prefix_warning_and_keys_unprefixed(monkeypatch):
    import mmengine.evaluator.metric as mmengine_metric
    logged = []
    monkeypatch.setattr(mmengine_metric, 'print_log',
                        lambda msg, *args, **kwargs: logged.append(msg))

    class NoPrefix(mmengine_metric.BaseMetric):  # mmengine's default: warns
        def process(self, data_batch, data_samples):
            pass

        def compute_metrics(self, results):
            return {}

    NoPrefix()
    assert any('prefix is not set' in m for m in logged)
    logged.clear()
    samples = [sample(g, p) for g, p in IMAGES]
    assert set(run(samples)) == set(KEYS)  # builds LandslideMetric
    assert not any('prefix is not set' in m for m in logged)
    assert set(run(samples, prefix='val')) == {f'val/{k}' for k in KEYS}


def test_bad_input_messages():
    with pytest.raises(ConfigError, match='probability in'):
        LandslideMetric(threshold=1.5)
    with pytest.raises(DataError, match=r'sample bad\.png holds \[2\]'):
        run([sample([[2, 0]], [[0, 0]], name='bad.png')])
    with pytest.raises(DataError, match=r'outside \[0, 1\]'):
        run([sample([[0, 1]], seg_logits=[[[-3.0, 2.0]]])], threshold=0.5)
    with pytest.raises(DataError, match='needs seg_logits'):
        run([sample([[0, 1]], [[0, 1]])], threshold=0.5)
    with pytest.raises(DataError, match='differ in size'):
        run([sample([[0, 1]], [[0, 1, 1]])])
    metric = LandslideMetric()
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process({}, [sample([[0, 1]], [[0, 1]])])
    with pytest.raises(ConfigError, match='binary'):
        metric.evaluate(1)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rank_main(rank, world, port, out_file):
    torch.set_num_threads(1)  # a forked child cannot use the parent's OpenMP pool (it hangs)
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                                  world_size=world)
    try:
        samples = [sample(g, p) for g, p in IMAGES] + [
            sample([[1, 1, 1], [1, 1, 1]], [[1, 1, 1], [1, 1, 0]]),  # TP 5 FN 1
            sample([[0, 1, 0], [0, 0, 0]], [[0, 1, 1], [0, 0, 0]])]  # TP 1 FP 1
        # DistributedSampler without shuffle: pad to a multiple of world with the first samples
        indices = list(range(len(samples)))
        indices += indices[:(-len(indices)) % world]
        metric = LandslideMetric()
        metric.dataset_meta = dict(classes=('background', 'landslide'))
        metric.process({}, [samples[i] for i in indices[rank::world]])
        result = metric.evaluate(len(samples))
        if rank == 0:
            with open(out_file, 'w') as f:
                json.dump(result, f)
    finally:
        torch_dist.destroy_process_group()


def test_two_process_gloo_evaluation_equals_single_process(tmp_path):
    out_file = str(tmp_path / 'result.json')
    # fork: the children inherit the imported modules (spawn re-imports mmseg, ~20 s each)
    ctx = mp.get_context('fork')
    port = _free_port()
    procs = [ctx.Process(target=_rank_main, args=(rank, 2, port, out_file)) for rank in (0, 1)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join(timeout=120)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    with open(out_file) as f:
        distributed = json.load(f)
    samples = [sample(g, p) for g, p in IMAGES] + [
        sample([[1, 1, 1], [1, 1, 1]], [[1, 1, 1], [1, 1, 0]]),
        sample([[0, 1, 0], [0, 0, 0]], [[0, 1, 1], [0, 0, 0]])]
    single = run(samples)
    # by hand: TP 3+5+1 = 9, FP 2+1 = 3, FN 2+1 = 3 -> IoU 9/15
    assert single['IoU'] == pytest.approx(100 * 9 / 15)
    assert distributed == pytest.approx(single)


@pytest.mark.parametrize('out_channels', [1, 2])
def test_in_an_mmengine_runner_test_loop(tmp_path, out_channels):
    """A tiny mmseg EncoderDecoder on lszoo's synthetic data through ``Runner.test``: the metric
    keys come out; the head's own threshold and the metric's explicit one agree."""
    from mmengine.config import ConfigDict
    from mmengine.runner import Runner
    norm_cfg = dict(type='BN', requires_grad=True)
    model = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=None, std=None,
                               bgr_to_rgb=False, size_divisor=4, seg_pad_val=255),
        backbone=dict(type='UNet', in_channels=5, base_channels=4, num_stages=3,
                      strides=(1, 1, 1), enc_num_convs=(1, 1, 1), dec_num_convs=(1, 1),
                      downsamples=(True, True), enc_dilations=(1, 1, 1), dec_dilations=(1, 1),
                      norm_cfg=norm_cfg),
        decode_head=dict(type='FCNHead', in_channels=4, in_index=2, channels=4, num_convs=1,
                         num_classes=2, out_channels=out_channels, threshold=0.5,
                         norm_cfg=norm_cfg, loss_decode=dict(type='BinaryDiceLoss')),
        test_cfg=dict(mode='whole'))
    dataset = dict(type='SyntheticLandslideDataset', num_samples=3, size=32, seed=3,
                   bands=['R', 'G', 'B', 'DEM', 'slope'],
                   pipeline=[dict(type='PackSegInputs')])
    runner = Runner(
        model=ConfigDict(model), work_dir=str(tmp_path), default_scope='mmseg',
        test_dataloader=dict(batch_size=2, num_workers=0, dataset=dataset,
                             sampler=dict(type='DefaultSampler', shuffle=False)),
        test_evaluator=[dict(type='LandslideMetric'),
                        dict(type='LandslideMetric', threshold=0.5, prefix='t')],
        test_cfg=dict(type='TestLoop'),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        experiment_name=f'metric_{uuid.uuid4().hex}')  # own logger and visualizer
    metrics = runner.test()
    for key in KEYS:
        assert key in metrics
        assert metrics[f't/{key}'] == pytest.approx(metrics[key], nan_ok=True)
    assert 0 <= metrics['imgIoU'] <= 100
