"""The settings of one scene-mapping run, validated before any file is opened."""
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

from lszoo.errors import ConfigError

OUT_BLOCK = 256  # internal tile size of the output GeoTIFFs; windows are multiples of it


@dataclass
class SceneOptions:
    """How :func:`~lszoo.apis.scene.map_scene` cuts, predicts and thresholds a scene.

    Attributes:
        tile, overlap, batch: tile size (a multiple of 32), overlap between neighbouring tiles
            and tiles per forward pass.
        window: block (read and write window) size in pixels, a multiple of 256 and >= ``tile``.
        device: torch device of the model.
        threshold: landslide probability threshold (default: the decode head's threshold for
            one sigmoid channel, 0.5 for two softmax channels).
        input_bands: names of the input's bands, to pick the config's bands by name.
        normalize: ``'config'`` (the test pipeline's normalisation), ``'none'``, or a callable
            ``f(HxWxC float32) -> HxWxC float32``.
        progress: show a progress bar (rank 0).
        tta: test-time augmentation, ``'none'``, ``'flip'`` or ``'d4'``
            (:mod:`lszoo.utils.tta`: mean probability over the views).
        cog: write the mask and probabilities as Cloud-Optimized GeoTIFFs (default).
        stac: write a STAC Item ``<mask stem>.stac.json`` beside the mask (default).
        split_tiles: under ``torch.distributed``, split the scene's tiles over the processes
            (default); ``False``: this process maps the whole scene alone (many scenes, one
            scene per process: :mod:`.batch`).
        prefetch: batches of tiles read and normalised ahead, in a background thread, while the
            model computes (:mod:`.prefetch`); 0 reads and computes in turn. Default (``None``):
            1 on CUDA, 0 on CPU (:func:`~lszoo.apis.scene.prefetch.default_prefetch`).
        min_area, fill_holes: polygon inventory clean-up (:mod:`.polygon_filters`): landslides
            smaller than ``min_area`` are left out, holes smaller than ``fill_holes`` filled; in
            map units² or ``'<n>px'``. Default 0: keep everything (``tools/infer_scene.py``
            defaults to ``'5px'`` for both).
        backend: ``'auto'`` (ONNX Runtime on a CPU device when it can run the model, graph
            cached per checkpoint; else PyTorch), ``'torch'`` or ``'onnx'`` (:mod:`.backend`).
    """

    tile: int = 512
    overlap: int = 64
    batch: int = 4
    window: int = 2048
    device: str = 'cpu'
    threshold: Optional[float] = None
    input_bands: Optional[Sequence[str]] = None
    normalize: Union[str, Callable, None] = 'config'
    progress: bool = True
    tta: str = 'none'
    cog: bool = True
    stac: bool = True
    split_tiles: bool = True
    prefetch: Optional[int] = None
    min_area: Union[float, str] = 0.0
    fill_holes: Union[float, str] = 0.0
    backend: str = 'auto'

    def __post_init__(self):
        tile = self.tile
        if tile % 32 or tile <= 0:
            raise ConfigError(f'tile must be a positive multiple of 32, got {tile}')
        if not 0 <= self.overlap < tile:
            raise ConfigError(f'overlap must be in [0, tile), got {self.overlap} (tile {tile})')
        if self.window % OUT_BLOCK or self.window < tile:
            raise ConfigError(f'window must be a multiple of {OUT_BLOCK} and >= tile ({tile}), '
                              f'got {self.window}')
        if self.batch < 1:
            raise ConfigError(f'batch must be >= 1, got {self.batch}')
        if self.threshold is not None and not 0 <= self.threshold < 1:
            raise ConfigError(f'threshold must be in [0, 1), got {self.threshold}')
        p = self.prefetch
        if p is not None and (isinstance(p, bool) or not isinstance(p, int) or p < 0):
            raise ConfigError('prefetch (batches read ahead while the model computes) must be an '
                              f'integer >= 0, 0 to read and compute in turn; got {p!r}')
        from .polygon_filters import parse_area
        parse_area(self.min_area, 'min_area')
        parse_area(self.fill_holes, 'fill_holes')
        from lszoo.utils.tta import tta_ops
        tta_ops(self.tta)  # a ConfigError naming the choices
        if self.backend not in ('auto', 'torch', 'onnx'):
            raise ConfigError(f"backend must be 'auto', 'torch' or 'onnx', got {self.backend!r}")
        if not (callable(self.normalize) or self.normalize in ('config', 'none', None)):
            raise ConfigError(f"normalize must be 'config', 'none' or a callable, got "
                              f'{self.normalize!r}')


def check_output_paths(input: str, output: str, prob: Optional[str] = None,
                       polygons: Optional[str] = None, dem: Optional[str] = None,
                       quicklook: Optional[str] = None, pre: Optional[str] = None,
                       uncertainty: Optional[str] = None) -> None:
    """Before any work: the mask and probabilities have GeoTIFF names, the polygon format is
    known, no two outputs are one file, no output is an input (also through symlinks), every
    output folder is writable (:func:`~lszoo.apis.scene.outputs.check_output_files`)."""
    from .outputs import check_geotiff_names, check_output_files
    from .polygons import vector_driver

    check_geotiff_names({'OUTPUT': output, '--prob': prob, '--uncertainty': uncertainty})
    if polygons is not None:
        vector_driver(polygons)
    check_output_files({'OUTPUT': output, '--prob': prob, '--polygons': polygons,
                        '--quicklook': quicklook, '--uncertainty': uncertainty},
                       {'INPUT': input, '--dem': dem, '--pre': pre})
