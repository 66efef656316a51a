"""GeoNeXt's training augmentations that mmcv/mmseg lack, for N-band float images.

GeoNeXt's reference (github ruribev/GeoNeXt, ``utils/augmentations.py``) trains with a horizontal
flip (p=0.35), a rotation by U(-8, 8) degrees on every sample, colour jitter (brightness,
contrast, saturation 0.06, hue 0.02) on every sample and an elastic deformation (alpha 85,
sigma 4.5, p=0.2), all on [0, 1] images (torchvision). Flip and rotation are mmseg's
``RandomFlip`` and ``RandomRotate`` (both handle any channel count); the two here reuse
torchvision's functional ops on the image tensor, so the arithmetic is the reference's, and work
on ``H x W x C`` float arrays with any number of bands (the colour jitter changes the three RGB
channels only). Unlike the reference, nothing is quantised to 8 bits on the way (it converts to a
PIL image for these two).
"""
from typing import Sequence

import numpy as np
import torch
import torchvision.transforms.functional as TF
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from torchvision.transforms import ElasticTransform, InterpolationMode

from lszoo.errors import ConfigError
from .noise import check_prob, float_image


def _hwc_to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def _tensor_to_hwc(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.numpy().transpose(1, 2, 0), dtype=np.float32)


@TRANSFORMS.register_module()
class BandColorJitter(BaseTransform):
    """torchvision-style colour jitter on the RGB channels of an N-band [0, 1] float image.

    With probability ``prob`` (reference: every sample) draws brightness, contrast and
    saturation factors from U(1 - v, 1 + v) and a hue shift from U(-hue, hue) and applies them
    in a random order (as ``torchvision.transforms.ColorJitter``); results are clamped to
    [0, 1]. Other bands (DEM, NIR, ...) are left alone; the mask is never touched.

    Args:
        brightness / contrast / saturation: jitter strengths (reference: 0.06 each).
        hue: hue jitter in [0, 0.5] (reference: 0.02).
        rgb_channels: indices of R, G, B in ``img`` (Landslide4Sense: 3, 2, 1).
        prob: probability of jittering a sample.
    """

    def __init__(self, brightness: float = 0.06, contrast: float = 0.06,
                 saturation: float = 0.06, hue: float = 0.02,
                 rgb_channels: Sequence[int] = (0, 1, 2), prob: float = 1.0):
        for name, v in (('brightness', brightness), ('contrast', contrast),
                        ('saturation', saturation)):
            if not 0 <= v < 1:
                raise ConfigError(f'BandColorJitter: {name} must be in [0, 1), got {v!r}')
        if not 0 <= hue <= 0.5:
            raise ConfigError(f'BandColorJitter: hue must be in [0, 0.5], got {hue!r}')
        if len(rgb_channels) != 3:
            raise ConfigError(f'BandColorJitter: rgb_channels must be three indices, got '
                              f'{rgb_channels!r}')
        self.brightness, self.contrast, self.saturation, self.hue = (
            float(brightness), float(contrast), float(saturation), float(hue))
        self.rgb_channels = [int(c) for c in rgb_channels]
        self.prob = check_prob('BandColorJitter', prob)

    def _params(self):
        order = np.random.permutation(4)
        factors = [np.random.uniform(1 - v, 1 + v) if v else None
                   for v in (self.brightness, self.contrast, self.saturation)]
        shift = np.random.uniform(-self.hue, self.hue) if self.hue else None
        return order, factors + [shift]

    def transform(self, results: dict) -> dict:
        img = float_image('BandColorJitter', results)
        if max(self.rgb_channels) >= img.shape[2]:
            raise ConfigError(f'BandColorJitter: rgb_channels {self.rgb_channels} out of range '
                              f'for an image with {img.shape[2]} channels')
        if np.random.rand() >= self.prob:
            return results
        order, values = self._params()
        ops = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue)
        rgb = _hwc_to_tensor(img[..., self.rgb_channels]).clamp(0, 1)
        for i in order:
            if values[i] is not None:
                rgb = ops[i](rgb, float(values[i]))
        out = img.copy()
        out[..., self.rgb_channels] = _tensor_to_hwc(rgb)
        results['img'] = out
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(brightness={self.brightness}, contrast='
                f'{self.contrast}, saturation={self.saturation}, hue={self.hue}, '
                f'rgb_channels={self.rgb_channels}, prob={self.prob})')


@TRANSFORMS.register_module()
class RandomElasticDeform(BaseTransform):
    """Elastic deformation (torchvision's ``ElasticTransform``) of image and mask together.

    With probability ``prob`` draws one displacement field (uniform noise blurred by a gaussian
    of ``sigma`` pixels, scaled by ``alpha``) and resamples every band of ``img`` bilinearly and
    ``gt_seg_map`` with nearest neighbour; pixels pulled from outside the image become 0
    (image and mask, as in the reference).

    Args:
        alpha: displacement strength in pixels (reference: 85).
        sigma: smoothness of the displacement in pixels (reference: 4.5).
        prob: probability of deforming a sample (reference: 0.2).
    """

    def __init__(self, alpha: float = 85.0, sigma: float = 4.5, prob: float = 0.2):
        if alpha < 0 or sigma < 0:
            raise ConfigError(f'RandomElasticDeform: alpha and sigma must be >= 0, got '
                              f'{alpha!r}, {sigma!r}')
        self.alpha, self.sigma = float(alpha), float(sigma)
        self.prob = check_prob('RandomElasticDeform', prob)

    def transform(self, results: dict) -> dict:
        img = float_image('RandomElasticDeform', results)
        if np.random.rand() >= self.prob:
            return results
        h, w = img.shape[:2]
        half = int(8 * self.sigma + 1) // 2  # torchvision's blur kernel radius
        if self.sigma > 0 and half >= min(h, w):
            raise ConfigError(f'RandomElasticDeform: a {h}x{w} image is too small for sigma='
                              f'{self.sigma} (needs more than {half} pixels per side)')
        disp = ElasticTransform.get_params([self.alpha] * 2, [self.sigma] * 2, [h, w])
        out = TF.elastic_transform(_hwc_to_tensor(img), disp, InterpolationMode.BILINEAR,
                                   fill=[0.0] * img.shape[2])
        results['img'] = _tensor_to_hwc(out)
        if results.get('gt_seg_map') is not None:
            seg = np.asarray(results['gt_seg_map'])
            warped = TF.elastic_transform(torch.from_numpy(seg[None].astype(np.float32)), disp,
                                          InterpolationMode.NEAREST, fill=[0.0])
            results['gt_seg_map'] = warped[0].numpy().astype(seg.dtype)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(alpha={self.alpha}, sigma={self.sigma}, '
                f'prob={self.prob})')
