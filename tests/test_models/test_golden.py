"""lszoo's GeoNeXt-tiny and DiGATe-UNet against the authors' reference implementations.

The fixtures in ``../shared/golden`` (see its README) hold every tensor of the reference
``state_dict`` as a seed rule and the reference outputs for a fixed input. The tensors are
regenerated here, renamed by the same converters ``tools/model_converters/*2lszoo.py`` use
(:mod:`lszoo.models.converters`), loaded strictly into models built from the paper configs, and
the outputs must agree within 1e-4. The round trip checks the converter tools end to end.
"""
import json
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from helpers import REPO, load_script

import lszoo  # noqa: F401  (registers the modules)

GOLDEN = osp.join(osp.dirname(REPO), 'shared', 'golden')
TOL = 1e-4
MODELS_ = {
    'geonext': ('geonext_tiny', 'configs/geonext/geonext_cas.py'),
    'digate': ('digate_unet', 'configs/digate_unet/digate_unet_bijie.py'),
}


def golden_path(name: str) -> str:
    path = osp.join(GOLDEN, name)
    if not osp.isfile(path):
        pytest.skip(f'golden fixture {path} is absent (../shared/golden is not beside the '
                    'repository)')
    return path


def make_tensor(entry: dict) -> torch.Tensor:
    """The README's regeneration rule (seeded normal / uniform / constant)."""
    dtype = getattr(torch, entry['dtype'])
    if entry['init'] == 'const':
        return torch.full(entry['shape'], entry['value'], dtype=dtype)
    g = torch.Generator().manual_seed(entry['seed'])
    if entry['init'] == 'normal':
        t = torch.randn(entry['shape'], generator=g, dtype=torch.float32)
        t = t.mul_(entry['std']).add_(entry['mean'])
    elif entry['init'] == 'uniform':
        t = torch.rand(entry['shape'], generator=g, dtype=torch.float32)
        t = t.mul_(entry['high'] - entry['low']).add_(entry['low'])
    else:
        raise ValueError(entry['init'])
    return t.to(dtype)


def reference_tensors(stem: str) -> dict:
    entries = json.load(open(golden_path(f'{stem}_tensors.json')))['tensors']
    out = {}
    for e in entries:
        t = make_tensor(e)
        # the README's per-tensor check: [sum, sum |.|] in float64
        check = [round(t.double().sum().item(), 6), round(t.double().abs().sum().item(), 6)]
        assert check == pytest.approx(e['check'], abs=1e-3), e['name']
        out[e['name']] = t
    return out


def build(config: str):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')  # module-scoped fixtures run before conftest's autouse one
    cfg = Config.fromfile(osp.join(REPO, config))
    if 'compile_frozen' in cfg.model.backbone:  # numerics only; compiling: its own tests
        cfg.model.backbone.compile_frozen = False
    return MODELS.build(cfg.model)


def load_golden(key: str):
    from lszoo.models.converters import convert_digate, convert_geonext
    stem, config = MODELS_[key]
    convert = convert_geonext if key == 'geonext' else convert_digate
    model = build(config)
    model.load_state_dict(convert(reference_tensors(stem)), strict=True)
    outputs = torch.load(golden_path(f'{stem}_outputs.pt'), weights_only=True)
    return model, outputs


@pytest.fixture(scope='module')
def geonext():
    return load_golden('geonext')


@pytest.fixture(scope='module')
def digate():
    return load_golden('digate')


def max_diff(a, b) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


def test_geonext_tiny_eval_logits_match_reference(geonext):
    model, out = geonext
    assert sum(p.numel() for p in model.parameters()) == 32_209_051
    model.eval()
    with torch.no_grad():
        logits = model(out['input'], mode='tensor')
    assert max_diff(logits, out['eval_logits']) < TOL


def digate_input(out):
    """The fixture's R, G, B, DEM input as the Bijie config reads it: R, G, B and the DEM three
    times (stream_channels ([0, 1, 2], [3, 4, 5]); the reference's x2 = x[:, [3, 3, 3]])."""
    return out['input'][:, [0, 1, 2, 3, 3, 3]]


def test_digate_eval_logits_match_reference(digate):
    model, out = digate
    model.eval()
    with torch.no_grad():
        logits = model(digate_input(out), mode='tensor')
    assert max_diff(logits, out['eval_logits']) < TOL


def test_digate_train_outputs_regularisers_and_loss_match_reference(digate):
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    model, out = digate
    x, size = digate_input(out), out['input'].shape[2:]
    model.train()  # every BatchNorm (frozen encoders' too) uses batch statistics
    with torch.no_grad():
        main, aux_q, aux_h, regs = model.decode_head.forward_train(model.extract_feat(x))
    up = dict(size=size, mode='bilinear', align_corners=True)
    assert max_diff(main, out['train_logits']) < TOL
    assert max_diff(F.interpolate(aux_q, **up), out['train_aux_quarter']) < TOL
    assert max_diff(F.interpolate(aux_h, **up), out['train_aux_half']) < TOL
    # lszoo: [early s8, early s16, late 1/2, late 1/4]; reference: [s16, s8, 1/4, 1/2]
    ours = torch.stack([regs[1], regs[0], regs[3], regs[2]])
    assert max_diff(ours, out['train_gate_regs'].reshape(-1)) < TOL
    samples = []
    for t in out['target']:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=t.long())
        samples.append(s)
    data = model.data_preprocessor(dict(inputs=list(x), data_samples=samples), training=True)
    with torch.no_grad():
        losses = model(**data, mode='loss')
    # mmengine's parse_losses: every item whose name contains 'loss' is summed
    parts = {k: v for k, v in losses.items() if 'loss' in k}
    total = sum(parts.values())
    assert len(parts) == 4, parts  # main, two aux, gate regulariser
    assert abs(float(total) - float(out['train_loss']['total'])) < TOL


def load_tool(name):
    return load_script(f'tools/model_converters/{name}.py')


@pytest.mark.parametrize('key,tool', [('geonext', 'geonext2lszoo'), ('digate', 'digate2lszoo')])
def test_converter_round_trip_fits_the_paper_config(tmp_path, key, tool):
    """Reference-named tensors in the reference's checkpoint layout -> converter CLI -> a file
    tools/test.py's fit check accepts and that loads strictly (no missing, no unexpected key)."""
    from mmengine.runner import load_checkpoint

    from lszoo.config.checks import check_checkpoint_fits
    stem, config = MODELS_[key]
    ref = reference_tensors(stem)
    src = tmp_path / 'reference.pth'
    if key == 'geonext':  # best_model.pth.tar layout of GeoNeXt's reference
        torch.save({'epoch': 3, 'state_dict': ref, 'best_val_miou': 0.5}, src)
    else:  # DiGATe's reference saves model.state_dict()
        torch.save(ref, src)
    dst = tmp_path / 'lszoo.pth'
    assert load_tool(tool).main([str(src), str(dst)]) == 0
    model = build(config)
    check_checkpoint_fits(model, str(dst), config)
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    own = model.state_dict()
    saved = torch.load(dst, weights_only=True)['state_dict']
    assert set(saved) == set(own)
    name = 'decode_head.conv_seg.weight'
    torch.testing.assert_close(own[name], saved[name])


def test_converter_rejects_another_models_checkpoint(tmp_path, capsys):
    src = tmp_path / 'other.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}}, src)
    assert load_tool('geonext2lszoo').main([str(src), str(tmp_path / 'out.pth')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('lszoo: error:') and 'other.pth' in err and 'GeoNeXt' in err
    assert not (tmp_path / 'out.pth').exists()


def test_reference_checkpoint_unwrapping_and_ema_shadow():
    from lszoo.errors import CheckpointError
    from lszoo.models.converters import reference_state_dict
    ckpt = {'epoch': 3, 'state_dict': {'module.w': torch.zeros(2), 'module.bn.running_mean':
                                       torch.zeros(2)},
            'ema': {'decay': 0.9999, 'shadow': {'w': torch.ones(2)}}}
    raw = reference_state_dict(ckpt, 'x.pth')
    assert set(raw) == {'w', 'bn.running_mean'} and raw['w'].sum() == 0
    ema = reference_state_dict(ckpt, 'x.pth', use_ema=True)
    assert ema['w'].sum() == 2 and ema['bn.running_mean'].sum() == 0  # buffers: the model's
    with pytest.raises(CheckpointError, match="x.pth: --ema asked for"):
        reference_state_dict({'state_dict': {'w': torch.zeros(1)}}, 'x.pth', use_ema=True)
