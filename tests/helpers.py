"""What several test files share: paths, running tools, tiny configs and runners.

Tests import it as ``from helpers import ...`` (pytest puts ``tests/`` on ``sys.path`` for
``conftest.py``); fixtures stay in ``conftest.py``.
"""
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys

import torch
from mmengine.model import BaseModel
from rasterio.crs import CRS
from rasterio.transform import from_origin

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(REPO, 'configs', 'demo', 'unet_synthetic.py')
REALDATA = osp.join(osp.dirname(REPO), 'shared', 'realdata')
FIXTURES = osp.join(REPO, 'tests', 'fixtures')
TESTS = osp.join(REPO, 'tests')
#: where :func:`write_scene` puts its scenes: UTM 33N, 10 m pixels
SCENE_CRS = CRS.from_epsg(32633)
SCENE_TRANSFORM = from_origin(500000.0, 4200000.0, 10.0, 10.0)


def free_port() -> int:
    """A TCP port that is free right now (for torchrun's rendezvous)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_tool(*args, cwd: str = REPO, env: dict = None, timeout: float = 600):
    """Run ``tools/<args[0]>`` (``.py`` with this Python, ``.sh`` with bash) and capture its output.

    Returns the :class:`subprocess.CompletedProcess` (``returncode``, ``stdout``, ``stderr``).
    """
    script = osp.join(REPO, 'tools', args[0])
    cmd = ([sys.executable, script] if script.endswith('.py') else ['bash', script])
    return _run(cmd + [str(a) for a in args[1:]], cwd, env, timeout)


def run_study(name: str, *args, env: dict = None, timeout: float = 600):
    """Run the study ``benchmarks/<name>.py`` as its users do (``python -m benchmarks.<name>``
    from the repository root) and capture its output."""
    cmd = [sys.executable, '-m', f'benchmarks.{name}'] + [str(a) for a in args]
    return _run(cmd, REPO, env, timeout)


def _run(cmd, cwd, env, timeout):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def load_script(relpath: str, name: str = None):
    """Import the script ``REPO/relpath`` (a tool, a converter) as a module, without running its
    ``__main__`` block."""
    name = name or 'lszoo_script_' + relpath.replace('/', '_').replace('.py', '')
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OneWeight(BaseModel):
    """A one-parameter model for hook tests: ``loss = w * x``, so SGD moves ``w`` by ``-lr * x``
    per iteration; predict reports the weight in use (``[{'w': w}]``)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return dict(loss=(self.w * inputs).sum())
        return [dict(w=float(self.w.detach()))]


def train_recording_iters(runner) -> list:
    """``runner.train()``, returning the iteration number at each ``before_train_iter`` (where
    a resumed run starts)."""
    seen = []
    orig = runner.call_hook

    def spy(fn_name, **kwargs):
        if fn_name == 'before_train_iter':
            seen.append(runner.iter)
        return orig(fn_name, **kwargs)

    runner.call_hook = spy
    runner.train()
    return seen


def tiny_train_config(work_dir, iters=2, interval=1, seed=0, loss_decode=None,
                      checkpoint_kwargs=None, **extra):
    """A tiny mmseg training config on the in-memory synthetic dataset (seconds on a CPU)."""
    norm = dict(type='BN', requires_grad=True)
    pipeline = [dict(type='PackSegInputs',
                     meta_keys=('img_path', 'ori_shape', 'img_shape', 'band_names'))]

    def loader(shuffle_seed, train):
        ds = dict(type='SyntheticLandslideDataset', num_samples=2, size=32, seed=shuffle_seed,
                  pipeline=pipeline)
        sampler = (dict(type='InfiniteSampler', shuffle=False) if train else
                   dict(type='DefaultSampler', shuffle=False))
        return dict(batch_size=2 if train else 1, num_workers=0, sampler=sampler, dataset=ds)

    cfg = dict(
        default_scope='mmseg',
        custom_imports=dict(imports=['lszoo'], allow_failed_imports=False),
        runner_type='LSZooRunner',
        work_dir=str(work_dir),
        randomness=dict(seed=seed),
        model=dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor', mean=None, std=None,
                                   bgr_to_rgb=False, pad_val=0, seg_pad_val=255, size=(32, 32)),
            backbone=dict(type='UNet', in_channels=5, base_channels=4, num_stages=2,
                          strides=(1, 1), enc_num_convs=(1, 1), dec_num_convs=(1, ),
                          downsamples=(True, ), enc_dilations=(1, 1), dec_dilations=(1, ),
                          norm_cfg=norm, upsample_cfg=dict(type='InterpConv')),
            decode_head=dict(type='FCNHead', in_channels=4, in_index=-1, channels=4,
                             num_convs=1, concat_input=False, num_classes=2, norm_cfg=norm,
                             align_corners=False,
                             loss_decode=loss_decode or dict(type='CrossEntropyLoss',
                                                             loss_weight=1.0)),
            train_cfg=dict(), test_cfg=dict(mode='whole')),
        train_dataloader=loader(0, True),
        test_dataloader=loader(1, False),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10_000),
        test_cfg=dict(type='TestLoop'),
        test_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        optim_wrapper=dict(type='OptimWrapper',
                           optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        default_hooks=dict(timer=dict(type='IterTimerHook'),
                           logger=dict(type='LoggerHook', interval=1),
                           param_scheduler=dict(type='ParamSchedulerHook'),
                           checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                           interval=interval, **(checkpoint_kwargs or {}))),
        log_processor=dict(by_epoch=False),
        log_level='WARNING',
    )
    cfg.update(extra)
    return cfg


def build_runner(cfg_dict):
    """lszoo's runner of a config dict (:func:`tiny_train_config`)."""
    from mmengine.config import Config

    from lszoo.engine import build_runner as build
    return build(Config(cfg_dict))


# --- scene inference -------------------------------------------------------------------------

def tiny_scene_config(bands=('R', 'G', 'B', 'DEM'), out_channels=1, threshold=0.5,
                      pipeline=None):
    """Scene-inference config dict: a 3-stage mmseg UNet with 8 base channels (small, fast,
    fully convolutional)."""
    return dict(
        default_scope='mmseg',
        bands=list(bands), in_channels=len(bands),
        test_pipeline=pipeline if pipeline is not None else [dict(type='PackSegInputs')],
        model=dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor', mean=None, std=None,
                                   bgr_to_rgb=False, size_divisor=16),
            backbone=dict(type='UNet', in_channels=len(bands), base_channels=8, num_stages=3,
                          strides=(1, 1, 1), enc_num_convs=(1, 1, 1), dec_num_convs=(1, 1),
                          downsamples=(True, True), enc_dilations=(1, 1, 1),
                          dec_dilations=(1, 1), norm_cfg=dict(type='BN'),
                          upsample_cfg=dict(type='InterpConv')),
            decode_head=dict(type='FCNHead', in_channels=8, in_index=2, channels=8,
                             num_convs=1, concat_input=False, num_classes=2,
                             out_channels=out_channels, threshold=threshold,
                             loss_decode=dict(type='CrossEntropyLoss',
                                              use_sigmoid=out_channels == 1)),
            test_cfg=dict(mode='whole')))


def save_checkpoint(cfg, path, seed=0):
    """Random weights (BN statistics too, so eval mode is not an identity) -> checkpoint file."""
    from lszoo.apis import scene as si
    torch.manual_seed(seed)
    model, _ = si.init_scene_model(cfg)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    # centre the logits on typical input so that the mask holds both classes and many blobs
    _, data = write_scene(None, 128, 128, bands=len(cfg['bands']), seed=seed + 7)
    logits = model.inference(torch.from_numpy(data[None]), [dict(
        img_shape=(128, 128), ori_shape=(128, 128), pad_shape=(128, 128))]).detach()
    margin = logits[0, -1] - (logits[0, 0] if logits.shape[1] == 2 else 0)
    with torch.no_grad():
        model.decode_head.conv_seg.bias[-1] -= margin.median()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


def write_scene(path, h, w, bands=4, seed=0, nodata=None, georef=True, dtype='float32',
                transform=None):
    """A smooth random ``bands x h x w`` scene, written as a GeoTIFF at ``path``
    (:data:`SCENE_CRS`, :data:`SCENE_TRANSFORM` unless ``transform``) when ``path`` is given:
    ``(path, data)``."""
    import cv2
    import numpy as np
    import rasterio
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.random((max(h // 16, 2), max(w // 16, 2), bands)).astype(np.float32),
                      (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, bands)
    data = (base + 0.1 * rng.standard_normal((h, w, bands))).astype(dtype).transpose(2, 0, 1)
    if path is None:
        return None, data
    profile = dict(driver='GTiff', width=w, height=h, count=bands, dtype=dtype)
    if georef:
        profile.update(crs=SCENE_CRS, transform=transform or SCENE_TRANSFORM)
    if nodata is not None:
        profile['nodata'] = nodata
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
    return str(path), data


def assert_mask_is_thresholded(mask, prob, thr):
    """``mask == prob > thr`` up to the 1/65535 resolution of the blended sums."""
    import numpy as np
    differ = mask != (prob > thr)
    assert (np.abs(prob[differ] - thr) < 2e-5).all() and differ.mean() < 1e-3


def read(path):
    """Band 1 and the profile of a raster."""
    import rasterio
    with rasterio.open(path) as ds:
        return ds.read(1), ds.profile


def run_infer_scene(args, nproc=None, env_extra=None):
    """``tools/infer_scene.py ARGS`` in this checkout, in ``nproc`` torchrun processes if given."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    env.update(env_extra or {})
    if nproc:
        cmd = [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={nproc}',
               '--master_port', str(29500 + os.getpid() % 1000 + nproc),
               osp.join(REPO, 'tools', 'infer_scene.py'), *args, '--launcher', 'pytorch']
    else:
        cmd = [sys.executable, osp.join(REPO, 'tools', 'infer_scene.py'), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


CHANGE_CONFIG = osp.join(REPO, 'configs', 'demo', 'fc_siam_diff_synthetic.py')


def write_change_pair(folder, h=192, w=256, pre_crs='EPSG:4326', pre_res=6e-5, seed=0):
    """A post-event scene (:data:`SCENE_CRS`, 10 m, 3 bands of 0..255 float32) and its pre-event
    image in ``pre_crs`` at ``pre_res`` covering a larger extent (the post scene is the pre
    scene in another season plus bright new patches); also the pre image aligned onto the post
    grid with ``rasterio.warp.reproject`` (bilinear, what ``gdalwarp -r bilinear`` does).
    Returns ``dict(post=, pre=, aligned=)`` paths."""
    import cv2
    import numpy as np
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject
    rng = np.random.default_rng(seed)
    m = 32  # pre margin in post pixels
    big = cv2.resize(rng.random(((h + 2 * m) // 16, (w + 2 * m) // 16, 3)).astype(np.float32),
                     (w + 2 * m, h + 2 * m), interpolation=cv2.INTER_CUBIC)
    big = (255 * np.clip(big, 0, 1)).transpose(2, 0, 1).astype(np.float32)
    post = big[:, m:m + h, m:m + w].copy()
    big = 0.75 * big + 15.0  # another season: duller, and no date equals the other anywhere
    for _ in range(6):  # new scars: bright patches in the post image only
        y, x = rng.integers(0, h - 24), rng.integers(0, w - 24)
        post[:, y:y + 20, x:x + 20] = 230.0
    folder = str(folder)
    paths = dict(post=osp.join(folder, 'post.tif'), pre=osp.join(folder, 'pre.tif'),
                 aligned=osp.join(folder, 'pre_aligned.tif'))
    big_tf = rasterio.Affine(10.0, 0, SCENE_TRANSFORM.c - 10 * m, 0, -10.0,
                             SCENE_TRANSFORM.f + 10 * m)
    bounds = rasterio.transform.array_bounds(h + 2 * m, w + 2 * m, big_tf)
    tf, pw, ph = calculate_default_transform(SCENE_CRS, pre_crs, w + 2 * m, h + 2 * m,
                                             *bounds, resolution=pre_res)
    pre = np.zeros((3, ph, pw), np.float32)
    reproject(big, pre, src_transform=big_tf, src_crs=SCENE_CRS, dst_transform=tf,
              dst_crs=pre_crs, resampling=Resampling.bilinear)
    aligned = np.zeros((3, h, w), np.float32)
    reproject(pre, aligned, src_transform=tf, src_crs=pre_crs, dst_transform=SCENE_TRANSFORM,
              dst_crs=SCENE_CRS, resampling=Resampling.bilinear)
    for key, data, crs, transform in (('post', post, SCENE_CRS, SCENE_TRANSFORM),
                                      ('pre', pre, pre_crs, tf),
                                      ('aligned', aligned, SCENE_CRS, SCENE_TRANSFORM)):
        with rasterio.open(paths[key], 'w', driver='GTiff', width=data.shape[2],
                           height=data.shape[1], count=3, dtype='float32', crs=crs,
                           transform=transform) as dst:
            dst.write(data)
    return paths


def save_change_checkpoint(config, pair: dict, path, seed=0):
    """Random weights of the change ``config`` whose landslide logits on ``pair`` (post and the
    aligned pre, 0..255 / 255) spread over about +-4 around 0: a mask with both classes and
    margins well above the differences between ways of warping. Returns ``(path, model)``."""
    import numpy as np
    import rasterio
    from lszoo.apis import scene as si
    torch.manual_seed(seed)
    model, _ = si.init_scene_model(config)
    with rasterio.open(pair['post']) as a, rasterio.open(pair['aligned']) as b:
        x = np.concatenate([a.read(window=((0, 128), (0, 128))),
                            b.read(window=((0, 128), (0, 128)))]) / 255.0
    meta = dict(img_shape=(128, 128), ori_shape=(128, 128), pad_shape=(128, 128))
    seg = model.decode_head.conv_seg
    with torch.no_grad():
        logits = model.inference(torch.from_numpy(x[None]).float(), [meta])[0, -1]
        seg.weight *= 2.0 / float(logits.std())
        logits = model.inference(torch.from_numpy(x[None]).float(), [meta])[0, -1]
        seg.bias[-1] -= logits.median()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path), model


def write_real_layout_set(root, n=6, size=64) -> str:
    """``n`` tiny RGB PNG tiles and 0/255 masks in the real sets' layout (``image/*.png`` +
    ``mask/*.png``); landslides are brighter, a ranking a random model can half-find."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'image'))
    os.makedirs(osp.join(root, 'mask'))
    for i in range(n):
        mask = np.zeros((size, size), np.uint8)
        mask[8 + i:30 + i, 10:40] = 255
        img = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
        img[mask > 0] += 100
        Image.fromarray(img).save(osp.join(root, 'image', f'{i:05d}.png'))
        Image.fromarray(mask).save(osp.join(root, 'mask', f'{i:05d}.png'))
    return str(root)


def trained_benchmark_run(tmp_path, iters=30, model='UNet-ResNet-18'):
    """A ``benchmarks.real`` run dir (its dumped config and checkpoint) of ``model`` trained
    ``iters`` steps at batch 2 on :func:`write_real_layout_set` tiles, seed 3."""
    from benchmarks import real
    from lszoo.engine import build_runner as build_lszoo_runner

    data = write_real_layout_set(tmp_path / 'data')
    split_dir = str(tmp_path / 'splits')
    real.write_splits(data, split_dir)
    name, config, overrides = next(m for m in real.LIGHT if m[0] == model)
    run = tmp_path / 'run' / name
    cfg = real.benchmark_config(config, overrides, str(run), data, split_dir, iters, 2, 64,
                                'config', seed=3)
    cfg.log_level = 'WARNING'
    run.mkdir(parents=True)
    cfg.dump(str(run / f'{name}.py'))
    torch.manual_seed(0)
    build_lszoo_runner(cfg).train()
    return run
