"""The per-tile normalisation of a config's test pipeline as a torch module (for ONNX graphs).

Scene inference applies the config's test pipeline, minus loading/geometry/packing, to every
tile in numpy. An exported model must carry the same arithmetic inside the graph so that a GIS
plugin only has to feed the raster's values. lszoo's pipelines normalise with
:class:`~lszoo.datasets.transforms.augment.NormalizeBands` (``meanstd``, ``minmax``, ``scale``);
those are translated here, anything else that would change pixel values is refused.
"""
from typing import List, Optional, Sequence

import torch
from torch import nn

from lszoo.errors import ConfigError


def _per_band(spec, names: Sequence[str], what: str) -> List[float]:
    if isinstance(spec, dict):
        missing = [n for n in names if n not in spec]
        if missing:
            raise ConfigError(f'NormalizeBands: no {what} for bands {missing}')
        return [float(spec[n]) for n in names]
    vals = [float(v) for v in spec]
    if len(vals) != len(names):
        raise ConfigError(f'NormalizeBands: {len(vals)} {what} values for {len(names)} bands')
    return vals


class InputNormalization(nn.Module):
    """Applies a list of ``(mode, a, b)`` steps to ``N x C x H x W`` input.

    ``affine``: ``(x - a) / b`` per channel; ``minmax``: per image and channel to [0, 1]
    (a constant channel becomes 0, as ``NormalizeBands`` does).
    """

    def __init__(self, steps: Sequence[tuple], eps: float = 1e-6):
        super().__init__()
        self.modes = [s[0] for s in steps]
        self.eps = eps
        for i, (mode, a, b) in enumerate(steps):
            if mode == 'affine':
                for name, v in ((f'a{i}', a), (f'b{i}', b)):
                    self.register_buffer(name, torch.tensor(v, dtype=torch.float32).view(
                        1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, mode in enumerate(self.modes):
            if mode == 'affine':
                x = (x - getattr(self, f'a{i}')) / getattr(self, f'b{i}')
            else:
                lo = x.amin(dim=(2, 3), keepdim=True)
                rng = x.amax(dim=(2, 3), keepdim=True) - lo
                x = torch.where(rng > self.eps, (x - lo) / rng.clamp_min(self.eps),
                                torch.zeros_like(x))
        return x

    @torch.no_grad()
    def sample(self, shape, generator=None) -> torch.Tensor:
        """Random raster-like input whose normalised values lie in [0, 1] (affine steps
        inverted); 8-bit-like values 0..255 when a step is ``minmax`` (scale-free)."""
        x = torch.rand(*shape, generator=generator)
        if 'minmax' in self.modes:
            return x * 255
        for i in reversed(range(len(self.modes))):
            x = x * getattr(self, f'b{i}') + getattr(self, f'a{i}')
        return x

    def describe(self) -> List[str]:
        return ['minmax' if m == 'minmax' else 'affine (x - mean) / std' for m in self.modes]


def build_input_normalization(cfg, band_names: Optional[Sequence[str]] = None,
                              data_preprocessor=None) -> InputNormalization:
    """Translate the value-changing steps of ``cfg``'s test pipeline (and an enabled
    ``data_preprocessor`` mean/std) into an :class:`InputNormalization`.

    ``band_names`` default to the config's ``bands``; they resolve per-band statistics given by
    band name.
    """
    from lszoo.datasets.transforms.augment import NormalizeBands
    from lszoo.datasets.transforms.tile_steps import tile_value_steps

    names = list(band_names or cfg.get('bands') or [])
    steps = []
    for kind, step in tile_value_steps(cfg):  # the steps scene inference applies too
        if not isinstance(step, NormalizeBands):
            raise ConfigError(f'test_pipeline step {kind} changes pixel values and has no ONNX '
                              'translation; only NormalizeBands can be put in the graph')
        if step.mode == 'meanstd':
            if not names:
                raise ConfigError('NormalizeBands meanstd: the config has no `bands` to look '
                                  'the statistics up by')
            steps.append(('affine', _per_band(step.mean, names, 'mean'),
                          _per_band(step.std, names, 'std')))
        elif step.mode == 'scale':
            n = max(len(names), 1)
            steps.append(('affine', [0.0] * n, [float(step.scale)] * n))
        else:  # 'minmax' (NormalizeBands validates the mode)
            steps.append(('minmax', None, None))
    dp = data_preprocessor
    if dp is not None and getattr(dp, '_enable_normalize', False):
        steps.append(('affine', dp.mean.flatten().tolist(), dp.std.flatten().tolist()))
    return InputNormalization(steps)
