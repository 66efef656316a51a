"""Export an lszoo segmentor to ONNX: raster values in, landslide probability out.

The graph holds the config's test-pipeline normalisation (:mod:`lszoo.deploy.normalization`),
the segmentor, the resize back to the input size and the final sigmoid (one output channel) or
softmax landslide class (two channels), so its single output ``probability`` is
``N x 1 x H x W`` in [0, 1].

The file carries the metadata the Deepness QGIS plugin reads (``model_type``, ``class_names``,
``tile_size``, ``tiles_overlap``, ``seg_thresh``, ``standardization_mean/std``, ``resolution``;
see ``src/deepness/processing/models/model_base.py`` in PUTvision/qgis-plugin-deepness), every
value JSON-encoded as Deepness parses it. Deepness feeds ``(uint8 / 255 - mean) / std``; lszoo
writes ``mean = 0, std = 1 / input_scale`` so that the graph receives the values lszoo's loader
would give it: the 8-bit values for configs that normalise 8-bit imagery (``input_scale`` 255),
0..1 otherwise (:func:`default_input_scale`).

Deepness takes the tile size from the input's spatial shape (``input_0_shape[-1]``), so the
default export has a fixed square ``tile_size`` and a dynamic batch; ``dynamic_hw=True`` also
leaves height and width free (for ``tools/infer_scene.py --onnx`` with any tile size), checked
at a second size before it is kept.

A change (bi-temporal) model takes one raster stacking both dates, the pre-event image's bands
first, then the post-event image's (what ``gdalbuildvrt -separate stack.vrt pre.tif post.tif``
gives); the graph reorders them to the config's channels and ``lszoo_input``,
``lszoo_input_bands``, ``lszoo_dates`` and ``lszoo_input_channels`` say so
(:mod:`lszoo.deploy.stacked_dates`).
"""
import json
import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lszoo.errors import ConfigError, LSZooWarning
from lszoo.evaluation.threshold import resolve_temperature, resolve_threshold
from lszoo.geo.pre_event import pre_then_post_order
from lszoo.models.decode_heads.temperature import temperature_scaled
from lszoo.utils.fileio import atomic_path
from .normalization import InputNormalization, build_input_normalization
from .stacked_dates import date_metadata

INPUT_NAME = 'image'
OUTPUT_NAME = 'probability'
DEFAULT_OPSET = 17
TOLERANCE = 1e-4  # max abs difference of probabilities, onnxruntime vs PyTorch


def require_onnx():
    """Import ``onnx`` and ``onnxruntime`` or raise one clear error naming the install."""
    try:
        import onnx
        import onnxruntime
    except ImportError as err:
        raise ConfigError(f'ONNX export/inference needs the `onnx` and `onnxruntime` packages '
                          f'({err}); install them with `pip install onnx onnxruntime` or '
                          '`pip install lszoo[deploy]`') from None
    return onnx, onnxruntime


class ProbabilityModel(nn.Module):
    """Raster values ``N x C x H x W`` -> landslide probability ``N x 1 x H x W``.

    ``input_order``: the input's channels are config channels ``input_order`` (a change model
    takes one stack of both dates, pre-event bands first:
    :func:`lszoo.geo.pre_event.pre_then_post_order`); the graph puts them back in config order.
    """

    def __init__(self, segmentor: nn.Module, normalization: InputNormalization,
                 input_order: Optional[Sequence[int]] = None):
        super().__init__()
        self.segmentor = segmentor
        self.normalization = normalization
        self.input_order = list(input_order) if input_order is not None else None
        self.to_config = None if input_order is None else torch.as_tensor(
            np.argsort(self.input_order), dtype=torch.long)
        head = segmentor.decode_head
        self.align_corners = bool(getattr(head, 'align_corners', False))
        self.out_channels = int(getattr(head, 'out_channels', getattr(head, 'num_classes', 2)))
        if self.out_channels not in (1, 2):
            raise ConfigError(f'the decode head has {self.out_channels} output channels; export '
                              'needs a binary model (1 sigmoid or 2 softmax channels)')

    def sample(self, shape, gen) -> torch.Tensor:
        """Random raster-like input in the graph's input channel order."""
        x = self.normalization.sample(shape, gen)
        return x if self.input_order is None else x[:, self.input_order]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.to_config is not None:
            x = x.index_select(1, self.to_config)
        x = self.normalization(x)
        # EncoderDecoder's tensor mode: backbone (+ neck) and the decode head, no auxiliary head
        logits = self.segmentor(x, mode='tensor')
        logits = F.interpolate(logits, size=x.shape[-2:], mode='bilinear',
                               align_corners=self.align_corners)
        if self.out_channels == 1:
            return logits.sigmoid()
        return logits.softmax(1)[:, 1:2]


def default_input_scale(cfg) -> float:
    """What Deepness's ``uint8 / 255`` must be multiplied by to give the raster values the
    graph expects: 255 when the config's test pipeline takes 8-bit values (``NormalizeBands``
    ``scale`` 255, or the scale-free ``minmax``), else 1 (inputs already on a 0..1 scale)."""
    from lszoo.datasets.transforms.tile_steps import test_pipeline_of
    for t in test_pipeline_of(cfg):
        if t.get('type') == 'NormalizeBands':
            mode = t.get('mode', 'meanstd')
            if mode == 'minmax' or (mode == 'scale' and float(t.get('scale', 255.0)) == 255.0):
                return 255.0
    return 1.0


class DeepnessScaleWarning(LSZooWarning):
    """The exported model expects raw values far larger than the 0..input_scale Deepness feeds."""


def _g(values) -> str:
    return '[' + ', '.join(f'{float(v):g}' for v in values) + ']'


def deepness_scale_note(normalization: InputNormalization, scale: float,
                        factor: float = 4.0) -> Optional[str]:
    """A note when the values the graph is trained for are over ``factor`` times larger than
    the ``0..scale`` Deepness hands it (``uint8 / 255 * scale``), else ``None``.

    The typical raw value of a band is ``|mean| + std`` of the graph's first affine step (the
    raw value that normalises to 1); a first ``minmax`` step is scale-free.
    """
    if not normalization.modes or normalization.modes[0] != 'affine':
        return None
    a, b = normalization.a0.flatten().tolist(), normalization.b0.flatten().tolist()
    typical = max(abs(m) + abs(s) for m, s in zip(a, b))
    if typical <= factor * scale:
        return None
    return (f'the model normalises raw values as (x - {_g(a)}) / {_g(b)} (typical value '
            f'{typical:g}), but Deepness feeds uint8 / 255 * input_scale, i.e. 0..{scale:g}: in '
            f'Deepness it would see inputs about {typical / scale:.0f}x smaller than in training. '
            'Map such rasters with tools/infer_scene.py --onnx, or export with --input-scale S '
            'when the 8-bit layer is the raw values times 255 / S (docs/deployment.md)')


def deepness_metadata(in_channels: int, tile_size: int, overlap_px: int, threshold: float,
                      class_name: str = 'landslide', resolution_cm: Optional[float] = None,
                      input_scale: float = 255.0) -> Dict[str, str]:
    """The Deepness keys, JSON-encoded. ``tiles_overlap`` is a percentage of the tile size.

    Deepness feeds ``(uint8 / 255 - mean) / std``; ``mean = 0, std = 1 / input_scale`` hands the
    graph ``uint8 / 255 * input_scale``: the 8-bit values themselves for ``input_scale`` 255.
    """
    meta = dict(
        model_type='Segmentor',
        class_names={0: class_name},  # one sigmoid-like channel; Deepness adds 'background'
        tile_size=int(tile_size),
        tiles_overlap=int(round(100.0 * overlap_px / tile_size)),
        seg_thresh=float(threshold),
        standardization_mean=[0.0] * in_channels,
        standardization_std=[1.0 / input_scale] * in_channels,
    )
    if resolution_cm is not None:
        meta['resolution'] = float(resolution_cm)
    return {k: json.dumps(v) for k, v in meta.items()}


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote and how well the ONNX model matches PyTorch."""

    path: str
    dynamic_hw: bool
    max_abs_diff: float
    checked_shapes: list = field(default_factory=list)
    metadata: Dict[str, str] = field(default_factory=dict)


def _export_graph(wrapper, x, path, dynamic_hw, opset):
    axes = {0: 'batch', 2: 'height', 3: 'width'} if dynamic_hw else {0: 'batch'}
    with warnings.catch_warnings():
        # the TorchScript exporter is deliberate: it needs no onnxscript and runs offline;
        # shape-dependent Python branches are caught by the check at a second size instead
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', category=UserWarning, module=r'torch\.onnx')
        torch.onnx.export(wrapper, (x, ), path, dynamo=False, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], opset_version=opset,
                          dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
                          do_constant_folding=True)


def _fix_output_shape(model) -> None:
    """Declare the output as ``batch x 1 x H x W`` with the input's H, W: the exporter can
    leave the channel symbolic, and Deepness recognises a sigmoid output by ``shape[-3] == 1``."""
    (inp, ), (out, ) = model.graph.input, model.graph.output
    dims_in = inp.type.tensor_type.shape.dim
    dims_out = out.type.tensor_type.shape.dim
    for i in (0, 1, 2, 3):
        dims_out[i].Clear()
        if i == 1:
            dims_out[i].dim_value = 1
        elif dims_in[i].HasField('dim_value'):
            dims_out[i].dim_value = dims_in[i].dim_value
        else:
            dims_out[i].dim_param = dims_in[i].dim_param


def onnx_session(path: str, threads: Optional[int] = None):
    """An onnxruntime CPU session for ``path``."""
    _, ort = require_onnx()
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.log_severity_level = 4  # errors surface as exceptions
    return ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])


@torch.no_grad()
def max_prob_difference(session, wrapper: nn.Module, x: torch.Tensor) -> float:
    """Max abs difference between the onnxruntime and the PyTorch probabilities on ``x``."""
    ref = wrapper(x).numpy()
    out = session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
    if out.shape != ref.shape:
        return float('inf')
    return float(np.abs(out - ref).max())


def _check_export_args(out: str, tile_size: int, overlap: int) -> None:
    if tile_size <= 0 or tile_size % 32:
        raise ConfigError(f'tile size must be a positive multiple of 32, got {tile_size}')
    if not 0 <= overlap < tile_size:
        raise ConfigError(f'overlap must be in [0, tile size), got {overlap}')
    out_dir = osp.dirname(osp.abspath(out))
    if not osp.isdir(out_dir):
        raise ConfigError(f'output folder {out_dir} (for {out}) does not exist')


def _free_size_difference(sess, wrapper, c: int, tile_size: int, gen) -> tuple:
    """Difference at another batch and size: a graph whose shapes tracing froze fails here."""
    x2 = wrapper.sample((1, c, tile_size + 32, tile_size + 64), gen)
    try:
        return max_prob_difference(sess, wrapper, x2), tuple(x2.shape)
    except Exception:  # onnxruntime rejects the shape: sizes are baked in
        return float('inf'), tuple(x2.shape)


def _export_checked(wrapper, x, path: str, dynamic_hw: bool, opset: int, gen,
                    tolerance: float):
    """Export ``wrapper`` to ``path`` and compare onnxruntime with PyTorch at batch 2 and 1 (and
    another size for ``dynamic_hw``; a graph that fails there is exported again with a fixed
    size). Returns ``(dynamic_hw, max difference, checked shapes)``."""
    _export_graph(wrapper, x, path, dynamic_hw, opset)
    sess = onnx_session(path)
    diffs = [max_prob_difference(sess, wrapper, x), max_prob_difference(sess, wrapper, x[:1])]
    shapes = [tuple(x.shape), tuple(x[:1].shape)]
    if dynamic_hw:
        d2, shape2 = _free_size_difference(sess, wrapper, x.shape[1], x.shape[-1], gen)
        if not d2 <= tolerance:
            warnings.warn('the model does not export with a free height/width (the traced '
                          'graph fixes them); exported with a fixed tile size instead',
                          UserWarning, stacklevel=3)
            return _export_checked(wrapper, x, path, False, opset, gen, tolerance)
        diffs.append(d2)
        shapes.append(shape2)
    diff = max(diffs)
    if not diff <= tolerance:
        raise ConfigError(f'the ONNX model differs from PyTorch by {diff:.3g} (max abs '
                          f'probability difference, tolerance {tolerance:g}); not written')
    return dynamic_hw, diff, shapes


def _write_metadata(onnx, path: str, meta: Dict[str, str]) -> None:
    """Replace the metadata of the ONNX file ``path`` by ``meta`` and fix its output shape."""
    model = onnx.load(path)
    _fix_output_shape(model)
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def export_onnx(segmentor: nn.Module, cfg, out: str, *, tile_size: int = 512,
                overlap: int = 64, in_channels: Optional[int] = None,
                threshold: Optional[float] = None, resolution_cm: Optional[float] = None,
                dynamic_hw: bool = False, opset: int = DEFAULT_OPSET,
                input_scale: Optional[float] = None,
                extra_metadata: Optional[Dict[str, str]] = None, seed: int = 0,
                tolerance: float = TOLERANCE, checkpoint: Optional[str] = None,
                temperature: Optional[float] = None) -> ExportResult:
    """Export ``segmentor`` (eval mode, CPU) with ``cfg``'s normalisation to ``out``.

    The export is verified with onnxruntime on random raster-like input
    (:meth:`InputNormalization.sample`) at ``tile_size`` with batch 2 and 1 (and, for
    ``dynamic_hw``, at a second size); a difference above
    ``tolerance`` is a :class:`ConfigError` and nothing is written. The file appears atomically.
    ``seg_thresh`` (Deepness's threshold, also read by ``infer_scene --onnx``) is what
    :func:`lszoo.evaluation.threshold.resolve_threshold` gives: ``threshold``, else the one
    calibrated beside ``checkpoint`` (the file the weights came from), else the segmentor's own;
    ``lszoo_threshold_source`` says which. A temperature fitted beside ``checkpoint``
    (:func:`~lszoo.evaluation.threshold.resolve_temperature`, or ``temperature``) is folded
    into the graph (the logits are divided by it before the sigmoid / softmax) and recorded in
    ``lszoo_temperature`` / ``lszoo_temperature_source``; the exported probability is the
    calibrated one.
    """
    onnx, _ = require_onnx()
    _check_export_args(out, tile_size, overlap)
    segmentor = segmentor.cpu().eval()
    c = in_channels or cfg.get('in_channels') or len(cfg.get('bands') or []) or None
    if c is None:
        raise ConfigError('the number of input channels is unknown: pass in_channels')
    wrapper = ProbabilityModel(
        segmentor, build_input_normalization(cfg, data_preprocessor=getattr(
            segmentor, 'data_preprocessor', None)),
        pre_then_post_order(cfg.get('bands'), cfg.get('stream_layout'))).eval()
    thr, thr_source = resolve_threshold(segmentor, cfg, checkpoint, threshold)
    temp, temp_source = resolve_temperature(segmentor, cfg, checkpoint, temperature)
    gen = torch.Generator().manual_seed(seed)
    x = wrapper.sample((2, c, tile_size, tile_size), gen)
    scale = float(input_scale or default_input_scale(cfg))
    note = deepness_scale_note(wrapper.normalization, scale)
    if note is not None:
        warnings.warn(f'{out}: {note}', DeepnessScaleWarning, stacklevel=2)
    with atomic_path(out) as tmp, temperature_scaled(segmentor, temp):
        dynamic_hw, diff, shapes = _export_checked(wrapper, x, tmp, dynamic_hw, opset, gen,
                                                   tolerance)
        meta = deepness_metadata(c, tile_size, overlap, thr, resolution_cm=resolution_cm,
                                 input_scale=scale)
        meta.update({
            'lszoo_bands': json.dumps(list(cfg.get('bands') or [])),
            'lszoo_normalization': json.dumps(wrapper.normalization.describe()),
            'lszoo_input': json.dumps('raster values as lszoo loads them (float32), N x C x H x W'),
            'lszoo_dynamic_hw': json.dumps(bool(dynamic_hw)),
            'lszoo_input_scale': json.dumps(scale),
            'lszoo_threshold_source': json.dumps(thr_source),
            'lszoo_temperature': json.dumps(temp),
            'lszoo_temperature_source': json.dumps(temp_source),
        })
        meta.update(date_metadata(cfg, wrapper.input_order))
        if note is not None:  # what the warning said, for whoever loads the file later
            meta['lszoo_deepness_warning'] = json.dumps(note)
        meta.update(extra_metadata or {})
        _write_metadata(onnx, tmp, meta)
    return ExportResult(out, dynamic_hw, diff, shapes, meta)


def read_metadata(path: str) -> Dict[str, object]:
    """The ONNX file's metadata, values JSON-decoded (as Deepness reads them)."""
    sess = onnx_session(path)
    return {k: json.loads(v) for k, v in sess.get_modelmeta().custom_metadata_map.items()}
