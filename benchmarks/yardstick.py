"""The real benchmark's external yardstick: segmentation_models_pytorch's U-Net ResNet-18.

Trained with BCE + Dice and Adam 1e-3 (constant) on exactly the crops lszoo's configs see (the
same BijieDataset, split files and training pipeline), and scored with the same
:class:`~lszoo.evaluation.LandslideMetric` counts at probability > 0.5. smp is a benchmark-only
dependency: it is not installed with lszoo.
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from lszoo.errors import ConfigError


def import_smp():
    """segmentation_models_pytorch, or one clear error saying how to install it."""
    try:
        import segmentation_models_pytorch as smp
    except ImportError:
        raise ConfigError('the yardstick needs segmentation_models_pytorch, a benchmark-only '
                          'dependency: pip install segmentation-models-pytorch (or pass '
                          '--no-yardstick)') from None
    return smp


def _batches(dataset, batch: int, iters: int, seed: int):
    """``iters`` random batches (with replacement across epochs, shuffled per epoch)."""
    gen = torch.Generator().manual_seed(seed)
    order = []
    for _ in range(iters):
        items = []
        for _ in range(batch):
            if not order:
                order = torch.randperm(len(dataset), generator=gen).tolist()
            items.append(dataset[order.pop()])
        x = torch.stack([it['inputs'].float() for it in items])
        y = torch.stack([it['data_samples'].gt_sem_seg.data[0].long() for it in items])
        yield x, y


def bce_dice(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = 255):
    """BCE + soft Dice (smooth 1) of the landslide class over the batch's valid pixels."""
    valid = target != ignore_index
    t = (target == 1).float()[valid]
    z = logits[:, 0][valid]
    p = z.sigmoid()
    dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    return F.binary_cross_entropy_with_logits(z, t) + dice


@torch.no_grad()
def predict_full(model, x: torch.Tensor, divisor: int = 32) -> torch.Tensor:
    """Landslide probability of one ``C x H x W`` image at full size (zero-padded to a multiple
    of ``divisor`` bottom/right, cropped back, as mmseg's test-time padding)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % divisor, (-w) % divisor
    out = model(F.pad(x[None], (0, pw, 0, ph)))
    return out[0, 0, :h, :w].sigmoid()


def run_yardstick(train_set, test_set, iters: int, batch: int, lr: float = 1e-3,
                  seed: int = 42) -> dict:
    """Train and test the yardstick; metrics (LandslideMetric keys), params and seconds.

    ``seed`` seeds Python, NumPy (the random crops and flips) and torch (the weights, the order),
    as mmengine's ``randomness=dict(seed=...)`` does for lszoo's runs."""
    from mmengine.runner import set_random_seed

    from lszoo.evaluation.metrics.landslide_metric import LandslideMetric

    smp = import_smp()
    set_random_seed(seed)
    model = smp.Unet('resnet18', encoder_weights=None, in_channels=3, classes=1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.time()
    model.train()
    for x, y in _batches(train_set, batch, iters, seed):
        loss = bce_dice(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.time() - start
    model.eval()
    records = []
    for i in range(len(test_set)):
        item = test_set[i]
        prob = predict_full(model, item['inputs'].float())
        gt = item['data_samples'].gt_sem_seg.data[0]
        records.append(LandslideMetric.count(prob > 0.5, gt, 255, str(i)))
    metrics = LandslideMetric.summarize(np.stack(records))
    return dict(metrics, params=sum(p.numel() for p in model.parameters()), seconds=seconds)
