"""Run an exported lszoo ONNX model on tiles (``tools/infer_scene.py --onnx``).

The graph holds the normalisation, so tiles go in as raster values (the scene reader's output,
nodata filled, edge tiles padded) and the landslide probability comes out. A graph with a fixed
tile size only accepts that size; :attr:`OnnxTileModel.fixed_size` tells scene inference which.
"""
import json
from typing import List, Optional, Sequence

import numpy as np
import torch

from lszoo.errors import ConfigError
from .onnx_export import INPUT_NAME, OUTPUT_NAME, onnx_session


class OnnxTileModel:
    """Callable ``N x C x H x W`` float tensor -> ``N x H x W`` landslide probability."""

    def __init__(self, path: str, threads: Optional[int] = None):
        import os.path as osp
        if not osp.isfile(path):
            raise ConfigError(f'ONNX model {path} does not exist')
        try:
            self.session = onnx_session(path, threads)
        except ConfigError:
            raise
        except Exception as err:
            raise ConfigError(f'{path} is not a loadable ONNX model ({err})') from None
        self.path = path
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if [i.name for i in inputs] != [INPUT_NAME] or [o.name for o in outputs] != [OUTPUT_NAME]:
            raise ConfigError(f'{path} was not exported by tools/export_onnx.py (inputs '
                              f'{[i.name for i in inputs]}, outputs {[o.name for o in outputs]})')
        shape = inputs[0].shape
        self.in_channels = shape[1] if isinstance(shape[1], int) else None
        self.fixed_size = shape[2] if isinstance(shape[2], int) else None
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = {k: json.loads(v) for k, v in meta.items()}
        self.threshold = float(self.metadata.get('seg_thresh', 0.5))
        self.bands: List[str] = list(self.metadata.get('lszoo_bands') or [])
        # a change model takes both dates stacked, pre-event first (lszoo.deploy.stacked_dates)
        order = self.metadata.get('lszoo_input_channels')
        self.input_order = None if order is None or order == sorted(order) else \
            torch.as_tensor(order, dtype=torch.long)

    def check_bands(self, cfg_bands: Optional[Sequence[str]]) -> None:
        """The config's bands must be the ones the model was exported with."""
        if cfg_bands and self.bands and list(cfg_bands) != self.bands:
            raise ConfigError(f'{self.path} was exported for bands {self.bands}, the config '
                              f'lists {list(cfg_bands)}')

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        """``batch``'s channels in the config's order (as scene inference reads them)."""
        if self.input_order is not None:
            batch = batch.index_select(1, self.input_order.to(batch.device))
        x = np.ascontiguousarray(batch.detach().cpu().numpy(), dtype=np.float32)
        if self.fixed_size is not None and x.shape[-2:] != (self.fixed_size, self.fixed_size):
            raise ConfigError(f'{self.path} takes {self.fixed_size}x{self.fixed_size} tiles, '
                              f'got {x.shape[-2]}x{x.shape[-1]} (use --tile {self.fixed_size} '
                              'or export with --dynamic-size)')
        # one run per tile: the same values as one batched run, and faster on CPUs (cache-sized
        # working set; docs/performance.md)
        out = np.empty((x.shape[0], ) + x.shape[2:], np.float32)
        for i in range(x.shape[0]):
            out[i] = self.session.run([OUTPUT_NAME], {INPUT_NAME: x[i:i + 1]})[0][0, 0]
        return torch.from_numpy(out)
