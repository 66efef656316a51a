"""Test-time augmentation (lszoo.utils.tta, D4View, LandslideTTAModel): with TTA the prediction
of a flipped (or, for d4, rotated/transposed) input is the flipped prediction."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

import lszoo  # noqa: F401
from lszoo.utils.tta import apply_op, invert_op, tta_config, tta_ops, tta_probabilities
from lszoo.errors import ConfigError


def tiny_model_cfg(out_channels=1):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=None, std=None,
                               bgr_to_rgb=False, size_divisor=16),
        backbone=dict(type='UNet', in_channels=3, base_channels=4, num_stages=3,
                      strides=(1, 1, 1), enc_num_convs=(1, 1, 1), dec_num_convs=(1, 1),
                      downsamples=(True, True), enc_dilations=(1, 1, 1), dec_dilations=(1, 1),
                      norm_cfg=dict(type='BN'), upsample_cfg=dict(type='InterpConv')),
        decode_head=dict(type='FCNHead', in_channels=4, in_index=2, channels=4, num_convs=1,
                         concat_input=False, num_classes=2, out_channels=out_channels,
                         threshold=0.5, loss_decode=dict(type='CrossEntropyLoss',
                                                         use_sigmoid=out_channels == 1)),
        test_cfg=dict(mode='whole'))


def build(out_channels=1):
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(out_channels)).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
    return model


def test_ops_are_the_dihedral_group():
    x = torch.arange(12.).view(1, 3, 4)
    views = {(tuple(apply_op(x, op).shape), tuple(apply_op(x, op).flatten().tolist()))
             for op in range(8)}
    assert len(views) == 8  # eight distinct views
    for op in range(8):
        assert torch.equal(invert_op(apply_op(x, op), op), x)
        a = x.numpy()
        np.testing.assert_array_equal(apply_op(a, op), apply_op(x, op).numpy())
    with pytest.raises(ConfigError, match='--tta'):
        tta_ops('rot')


@pytest.mark.parametrize('mode', ['flip', 'd4'])
def test_scene_tta_is_invariant_to_flipping_the_input(mode):
    model = build()

    @torch.no_grad()
    def prob(x):
        return model(x, mode='tensor')[:, 0].sigmoid()

    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    ref = tta_probabilities(prob, x, mode)
    plain_gap = 0.0
    for op in tta_ops(mode):
        got = tta_probabilities(prob, apply_op(x, op), mode)
        torch.testing.assert_close(got, apply_op(ref, op), atol=1e-5, rtol=0)
        plain_gap = max(plain_gap, float((prob(apply_op(x, op)) - apply_op(prob(x), op)).abs()
                                         .max()))
    assert plain_gap > 1e-3  # without TTA the model is not invariant: the test can fail


@pytest.mark.parametrize('out_channels', [1, 2])
def test_mmseg_tta_model_is_invariant_to_flipping_the_input(out_channels):
    """tools/test.py --tta path: TestTimeAug + D4View + LandslideTTAModel, non-square image."""
    from mmseg.registry import MODELS
    cfg = Config(dict(model=tiny_model_cfg(out_channels), test_dataloader=dict(dataset=dict(
        pipeline=[dict(type='PackSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape',
                                                          'pad_shape', 'flip'))]))))
    tcfg = tta_config(cfg, 'd4')
    assert tcfg.model.type == 'LandslideTTAModel'
    pipeline = Compose(tcfg.test_dataloader.dataset.pipeline)
    tta = MODELS.build(tcfg.model)
    tta.module.load_state_dict(build(out_channels).state_dict())
    tta.eval()
    rng = np.random.default_rng(0)
    img = rng.random((32, 48, 3)).astype(np.float32)
    gt = (rng.random((32, 48)) > 0.5).astype(np.uint8)

    def predict(image, seg):
        res = dict(img=image, img_shape=image.shape[:2], ori_shape=image.shape[:2],
                   img_path='x', gt_seg_map=seg, seg_fields=['gt_seg_map'])
        with torch.no_grad():
            (s, ) = tta.test_step(pseudo_collate([pipeline(res)]))
        assert tuple(s.gt_sem_seg.data.shape[-2:]) == image.shape[:2]
        return s.seg_logits.data, s.pred_sem_seg.data

    logits, pred = predict(img, gt)
    assert pred.shape[-2:] == (32, 48)
    for op in (1, 2, 3, 5):  # flips, and transposes with a flip (rotations)
        l2, p2 = predict(np.ascontiguousarray(apply_op(img, op, h_axis=0)),
                         np.ascontiguousarray(apply_op(gt, op, h_axis=0)))
        torch.testing.assert_close(l2, apply_op(logits, op), atol=1e-5, rtol=0)
        assert torch.equal(p2, apply_op(pred, op))
    if out_channels == 1:
        assert 0 <= logits.min() and logits.max() <= 1  # probabilities, not a double sigmoid


def test_test_tool_with_tta(tiny_config, tmp_path):
    """tools/test.py --tta d4 runs the TTA loop end to end (metrics, masks, overlay figures)."""
    import glob
    import json

    from lszoo.apis.scene import init_scene_model

    from helpers import run_tool
    cfg = tiny_config()
    model, _ = init_scene_model(cfg)
    ckpt = tmp_path / 'w.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    out, show = tmp_path / 'preds', tmp_path / 'show'
    res = run_tool('test.py', cfg, ckpt, '--work-dir', tmp_path / 'wd', '--tta', 'd4',
                   '--out', out, '--show-dir', show)
    assert res.returncode == 0, res.stderr[-3000:]
    metrics = json.loads((out / 'metrics.json').read_text())
    assert {'IoU', 'mIoU', 'imgIoU'} <= set(metrics)
    assert len(glob.glob(str(out / '*.png'))) == len(glob.glob(str(show / '*.png'))) == 4
    dumped = glob.glob(str(tmp_path / 'wd' / '**' / '*.py'), recursive=True)
    assert any("type='LandslideTTAModel'" in open(p).read() for p in dumped)  # TTA did run
    assert any("type='D4View'" in open(p).read() for p in dumped)
