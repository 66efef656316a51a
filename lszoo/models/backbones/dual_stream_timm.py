"""Dual-stream encoder over any timm ``features_only`` model: the encoder of DiGATe-UNet.

DiGATe-UNet: Lightweight Dual-Stream Framework for Landslide Segmentation (reference code:
github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation). Two inputs (e.g. optical RGB and
topography) each go through an encoder; the encoders share weights (siamese) or not. The paper's
Bijie run uses two separate ``tf_efficientnet_b4`` encoders that are frozen: their weights get no
gradient but, the model being in train mode, their BatchNorm layers still update running statistics.

Both streams come from the one input tensor of the lszoo sample contract (``docs/architecture.md``):
``stream_channels`` lists each stream's channel indices, matching the dataset's ``stream_layout``;
an index may repeat (the DEM three times for an RGB-shaped encoder).
"""
import logging
from typing import Optional, Sequence, Union

import timm
import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.utils.checkpoint import check_state_dict_fits, clean_state_dict
from .eo_weights import check_eo_settings, load_eo_weights
from .timm_pretrained import (check_overlay_file, create_timm_model,
                              load_timm_pretrained, read_weights_file)


@MODELS.register_module()
class DualStreamTimmEncoder(BaseModule):
    """Two timm ``features_only`` encoders (or one shared) over channel subsets of one input.

    Args:
        model_name: timm model name, e.g. ``'tf_efficientnet_b4'``; must give ``features_only``
            maps at ``out_indices``.
        stream_channels: two sequences of channel indices of the input tensor, stream A (the
            optical stream, fused early in DiGATe-UNet) then stream B. Default ``([0, 1, 2],
            [3, 3, 3])``: RGB + the DEM repeated to three channels (Bijie).
        shared: one encoder for both streams (siamese; both streams need the same channel count).
        frozen: ``True``/``False`` for both encoders, or a pair per stream (only with
            ``shared=False``). Frozen encoders get ``requires_grad=False`` but stay in train mode
            (BatchNorm statistics still update, as in the paper); they run without building an
            autograd graph, which saves memory and time.
        pretrained: start from timm's pretrained weights of ``model_name`` (a tag such as
            ``tf_efficientnet_b4.ns_jft_in1k`` names them; downloaded and cached by timm, loaded
            in ``init_weights``, i.e. when training starts; testing never downloads).
            Offline, give the same weights as ``checkpoint`` (or
            ``timm_kwargs=dict(pretrained_cfg_overlay=dict(file=...))``); a download that fails
            stops with one line naming the weights, where they come from and that alternative.
        checkpoint: optional local file with weights for the encoder(s) (a timm/torchvision state
            dict, or a dict with ``state_dict``/``model``); loaded into every encoder, instead of
            a download. Keys of
            the classifier head are ignored; a first convolution with another input-channel count
            is adapted with timm's ``adapt_input_conv``.
        checkpoint_prefix: prefix to strip from the checkpoint's keys (e.g. ``'backbone.'``).
        out_indices: the five feature levels (strides 2..32).
        timm_kwargs: extra keyword arguments for ``timm.create_model`` (e.g. ``drop_path_rate``).
        bands: the dataset's band names in channel order (the config's ``bands``); needed with
            ``eo_weights``: each stream's ``stream_channels`` pick its band names from it.
        eo_weights: Earth-observation weights (a name of
            :data:`~lszoo.models.backbones.eo_weights.EO_WEIGHTS`, downloaded through
            ``torch.hub`` when networked, or a local file) for stream A, or a pair
            ``(stream A, stream B)`` with ``None`` for a stream that keeps its own start
            (``pretrained`` / ``checkpoint`` / timm's initialisation). The first layer is matched
            to the stream's bands by name, as in ``EOTimmBackbone``; fetched and loaded in
            ``init_weights`` (when training starts; replaces ``checkpoint`` in that stream), so
            testing or mapping with a trained checkpoint never needs them. With ``shared=True``
            the one encoder is matched to stream A.
        eo_bands: band names of a local EO file's input channels (known names carry theirs).
        eo_init: ``'mean'`` or ``'zero'``, for input channels the EO checkpoint lacks.
        compile_frozen: compile the frozen encoders with ``torch.compile``: ``True`` (train and
            eval), ``'train'`` (training steps only: validation, testing and scene mapping, whose
            input sizes vary, stay eager; nothing to do where no encoder is frozen), or a dict
            of ``torch.compile`` keyword arguments with an optional ``when='train'``. Weights
            and state-dict keys stay as they are. The frozen encoders hold most of
            DiGATe-UNet's time and have no backward pass: the cheap part to compile (minutes
            once per input shape; a new shape recompiles, results unchanged). If compiling
            fails (e.g. no C++ compiler) they run eagerly after one warning. Paper configs with
            fixed-size training inputs use ``'train'`` (break-even: ``docs/performance.md``).
            Default off.

    ``forward(x)`` takes ``(N, C, H, W)`` and returns ``(feats_a, feats_b)``, each a tuple of the
    level maps (shallow to deep). ``out_channels`` lists the level widths.
    """

    def __init__(self,
                 model_name: str = 'tf_efficientnet_b4',
                 stream_channels: Sequence[Sequence[int]] = ((0, 1, 2), (3, 3, 3)),
                 shared: bool = False,
                 frozen: Union[bool, Sequence[bool]] = False,
                 pretrained: bool = False,
                 checkpoint: Optional[str] = None,
                 checkpoint_prefix: str = '',
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4),
                 timm_kwargs: Optional[dict] = None,
                 bands: Optional[Sequence[str]] = None,
                 eo_weights: Union[None, str, Sequence[Optional[str]]] = None,
                 eo_bands: Optional[Sequence[str]] = None,
                 eo_init: str = 'mean',
                 compile_frozen: Union[bool, dict] = False,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.stream_channels = self._check_streams(stream_channels, shared)
        frozen = self._check_frozen(frozen, shared)
        self.model_name = model_name
        self.shared = shared
        kwargs = dict(timm_kwargs or {})
        overlay = kwargs.pop('pretrained_cfg_overlay', None)
        if pretrained and checkpoint is None:
            check_overlay_file('DualStreamTimmEncoder', overlay)
        n_enc = 1 if shared else 2
        self.encoders = nn.ModuleList(self._build_encoder(model_name, self.stream_channels[i],
                                                          tuple(out_indices), kwargs)
                                      for i in range(n_enc))
        chans = [tuple(e.feature_info.channels()) for e in self.encoders]
        if len(set(chans)) != 1:  # cannot happen with one model name, kept as a guard
            raise ConfigError(f'DualStreamTimmEncoder: stream widths differ: {chans}')
        self.out_channels = list(chans[0])
        self.reductions = list(self.encoders[0].feature_info.reduction())
        if checkpoint is not None:
            self._load_checkpoint(checkpoint, checkpoint_prefix)
        self._eo = self._eo_per_encoder(eo_weights, bands, eo_bands, eo_init)
        self.eo_band_report = {}  # per stream, filled when the EO weights are loaded
        self.frozen = frozen
        # downloaded in init_weights (when training starts), unless a local file is given; the
        # encoders started from EO weights keep them
        self.pretrained = bool(pretrained) and checkpoint is None
        self._pretrained_args = dict(pretrained_cfg_overlay=overlay, features_only=True,
                                     out_indices=tuple(out_indices), **kwargs)
        self._warn_random_frozen(checkpoint is not None or bool(pretrained))
        self._freeze(compile_frozen)
        # Precomputed channel selectors: a slice (a view, no copy) when the indices are a
        # contiguous increasing run, else an index tensor.
        self._selectors = [self._selector(c) for c in self.stream_channels]

    @staticmethod
    def _check_frozen(frozen, shared) -> tuple:
        if isinstance(frozen, bool):
            frozen = (frozen, frozen)
        frozen = tuple(bool(f) for f in frozen)
        if len(frozen) != 2:
            raise ConfigError(f'DualStreamTimmEncoder: frozen must be a bool or a pair of bools, '
                              f'got {frozen!r}')
        if shared and frozen[0] != frozen[1]:
            raise ConfigError('DualStreamTimmEncoder: with shared=True the one encoder is frozen '
                              f'or not; got frozen={frozen!r}')
        return frozen

    @staticmethod
    def _build_encoder(model_name: str, channels, out_indices: tuple, kwargs: dict):
        try:
            return create_timm_model(model_name, 'DualStreamTimmEncoder',
                                     'model.backbone.checkpoint', features_only=True,
                                     in_chans=len(channels), out_indices=out_indices, **kwargs)
        except ConfigError:
            raise
        except (AssertionError, IndexError, ValueError) as e:
            # unknown model name, or fewer feature levels than out_indices asks for
            raise ConfigError(f'DualStreamTimmEncoder: timm cannot build {model_name!r} with '
                              f'features_only=True, out_indices={out_indices}: {e}') from e

    def _warn_random_frozen(self, started: bool) -> None:
        """A frozen encoder with no weight source would stay random for the whole run."""
        for i, fr in enumerate(self.frozen[:len(self.encoders)]):
            if fr and not started and self._eo[i] is None:
                print_log(f'DualStreamTimmEncoder: frozen {self.model_name} encoder {"AB"[i]} '
                          'keeps its random initial weights (pretrained=False, no checkpoint, '
                          'no eo_weights); set model.backbone.checkpoint to a local weights file',
                          logger='current', level=logging.WARNING)

    def _freeze(self, compile_frozen) -> None:
        """No gradients for the frozen encoders; optionally compile them."""
        frozen = self.frozen
        if compile_frozen and compile_frozen != 'train' and not any(frozen):
            raise ConfigError('DualStreamTimmEncoder: compile_frozen needs a frozen encoder '
                              f'(frozen={frozen!r})')
        kwargs = dict(compile_frozen) if isinstance(compile_frozen, dict) else {}
        when = kwargs.pop('when', 'train' if compile_frozen == 'train' else 'always')
        if compile_frozen not in (False, True, 'train') and not isinstance(compile_frozen, dict) \
                or when not in ('train', 'always'):
            raise ConfigError(f"DualStreamTimmEncoder: compile_frozen must be False, True, "
                              f"'train' or a dict of torch.compile arguments (when='train' or "
                              f"'always'), got {compile_frozen!r}")
        # compiled forms of the frozen encoders, used in training mode only (a plain list: not
        # submodules, so the state dict keeps its keys)
        self._train_compiled = [None] * len(self.encoders)
        for i, (enc, fr) in enumerate(zip(self.encoders, frozen)):
            if not fr:
                continue
            for p in enc.parameters():
                p.requires_grad_(False)
            if compile_frozen and when == 'always':
                enc.compile(**kwargs)
            elif compile_frozen:
                self._train_compiled[i] = torch.compile(enc, **kwargs)

    @staticmethod
    def _check_streams(stream_channels, shared):
        if isinstance(stream_channels, dict):
            stream_channels = list(stream_channels.values())
        try:
            streams = [[int(i) for i in s] for s in stream_channels]
        except TypeError:
            raise ConfigError(f'DualStreamTimmEncoder: stream_channels must be two lists of '
                              f'channel indices, got {stream_channels!r}')
        if len(streams) != 2 or any(len(s) == 0 for s in streams) \
                or any(i < 0 for s in streams for i in s):
            raise ConfigError(f'DualStreamTimmEncoder: stream_channels must be two non-empty '
                              f'lists of non-negative channel indices, got {stream_channels!r}')
        if shared and len(streams[0]) != len(streams[1]):
            raise ConfigError(f'DualStreamTimmEncoder: shared=True needs the same channel count '
                              f'in both streams, got {streams!r}')
        return streams

    @staticmethod
    def _selector(idx):
        if all(b == a + 1 for a, b in zip(idx, idx[1:])):
            return slice(idx[0], idx[-1] + 1)
        return torch.tensor(idx, dtype=torch.long)

    def _load_checkpoint(self, path, prefix):
        ckpt = clean_state_dict(read_weights_file(path), prefix)
        for enc in self.encoders:
            own = enc.state_dict()
            state = {k: v for k, v in ckpt.items() if k in own and torch.is_tensor(v)}
            for k, v in state.items():  # an RGB stem for a stream of another channel count
                if v.ndim == 4 and v.shape[1] != own[k].shape[1] and \
                        v.shape[0] == own[k].shape[0] and v.shape[2:] == own[k].shape[2:]:
                    state[k] = timm.models.adapt_input_conv(own[k].shape[1], v)
            check_state_dict_fits(state, own, str(path), f'encoder {self.model_name}',
                                  hint='; wrong model or checkpoint_prefix?')
            enc.load_state_dict(state, strict=True)
        print_log(f'DualStreamTimmEncoder: loaded {path} into {len(self.encoders)} encoder(s)',
                  logger='current')

    def _eo_per_encoder(self, eo_weights, bands, eo_bands, init) -> list:
        """Per encoder, ``None`` or the arguments of its EO start (checked, not loaded yet)."""
        none = [None] * len(self.encoders)
        if eo_weights is None:
            return none
        per_stream = [eo_weights, None] if isinstance(eo_weights, str) else list(eo_weights)
        if len(per_stream) != 2:
            raise ConfigError(f'DualStreamTimmEncoder: eo_weights must be one weights name/file '
                              f'(stream A) or a pair per stream, got {eo_weights!r}')
        if self.shared:
            if per_stream[1] is not None and per_stream[0] not in (None, per_stream[1]):
                raise ConfigError(f'DualStreamTimmEncoder: shared=True has one encoder, but '
                                  f'eo_weights names two: {eo_weights!r}')
            per_stream = [per_stream[0] or per_stream[1]]
        if not any(per_stream):
            return none
        need = max(max(s) for s in self.stream_channels) + 1
        if bands is None or len(bands) < need:
            raise ConfigError(f'DualStreamTimmEncoder: eo_weights needs bands, the dataset\'s '
                              f'band names in channel order (>= {need} for stream_channels='
                              f'{self.stream_channels}), got bands={bands!r}')
        out = []
        for i, weights in enumerate(per_stream):
            if weights is None:
                out.append(None)
                continue
            owner = f'DualStreamTimmEncoder stream {"AB"[i]}'
            check_eo_settings(owner, weights, eo_bands, init)
            names = [str(bands[c]) for c in self.stream_channels[i]]
            out.append((weights, names, eo_bands, init, owner))
        return out

    def init_weights(self):
        """Start the streams (mmengine's runner calls this when training starts): EO weights
        into the streams that name them, timm's pretrained weights into the others when
        ``pretrained``; otherwise keep timm's initialisation or the ``checkpoint`` loaded at
        construction."""
        for i, (enc, eo) in enumerate(zip(self.encoders, self._eo)):
            if eo is not None and 'AB'[i] not in self.eo_band_report:
                self.eo_band_report['AB'[i]] = load_eo_weights(enc, *eo)
        rest = [i for i, eo in enumerate(self._eo) if eo is None]
        if self.pretrained and rest:
            for i in rest:
                load_timm_pretrained(self.encoders[i], self.model_name, 'DualStreamTimmEncoder',
                                     'model.backbone.checkpoint',
                                     in_chans=len(self.stream_channels[i]),
                                     **self._pretrained_args)
            print_log(f'DualStreamTimmEncoder: {self.model_name} pretrained weights loaded '
                      f'into {len(rest)} encoder(s)', logger='current')
        self._is_init = True

    def _select(self, x, i):
        sel = self._selectors[i]
        if isinstance(sel, slice):
            return x[:, sel]
        if sel.device != x.device:
            sel = self._selectors[i] = sel.to(x.device)
        return x.index_select(1, sel)

    def _run(self, enc, x, i=0):
        compiled = self._train_compiled[i] if self.training else None
        if compiled is not None:
            with torch.no_grad():  # only frozen encoders are compiled
                try:
                    return compiled(x)
                except Exception as e:  # noqa: BLE001  no compiler here: run eagerly from now on
                    self._train_compiled[i] = None
                    print_log(f'DualStreamTimmEncoder: compile_frozen failed ({type(e).__name__}: '
                              f'{str(e).splitlines()[0] if str(e) else ""}); encoder '
                              f'{"AB"[i]} runs eagerly', logger='current', level=logging.WARNING)
        if torch.is_grad_enabled() and not any(p.requires_grad for p in enc.parameters()):
            with torch.no_grad():  # frozen: BN statistics still update in train mode
                return enc(x)
        return enc(x)

    def forward(self, x):
        need = max(max(s) for s in self.stream_channels) + 1
        if x.dim() != 4 or x.shape[1] < need:
            raise ConfigError(
                f'DualStreamTimmEncoder: stream_channels={self.stream_channels} need an '
                f'(N, >={need}, H, W) input, got {tuple(x.shape)}; match the dataset\'s '
                f'stream_layout / bands')
        xa, xb = self._select(x, 0), self._select(x, 1)
        if self.shared:
            enc = self.encoders[0]
            if not self.training:
                # Eval: BN uses running statistics, so one batched call equals two calls.
                feats = self._run(enc, torch.cat([xa, xb], 0))
                n = x.shape[0]
                return tuple(f[:n] for f in feats), tuple(f[n:] for f in feats)
            return tuple(self._run(enc, xa)), tuple(self._run(enc, xb))
        return (tuple(self._run(self.encoders[0], xa, 0)),
                tuple(self._run(self.encoders[1], xb, 1)))

