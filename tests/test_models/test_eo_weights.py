"""EO pretrained encoders: first-layer band matching by name, loading a published-format file."""
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmseg.registry import MODELS

from lszoo.datasets.l4s import L4SDataset
from lszoo.errors import CheckpointError, ConfigError
from lszoo.models.backbones import EOTimmBackbone
from lszoo.models.backbones.eo_weights import (S2_L1C_BANDS, canonical_band,
                                               match_input_filters)


def test_l4s_bands_matched_by_name(ssl4eo_file):
    path, state = ssl4eo_file
    bands = list(L4SDataset.BANDS)  # B1..B12 without B8A, slope, DEM
    enc = EOTimmBackbone(bands=bands, model_name='resnet18', eo_weights=str(path),
                         eo_bands=S2_L1C_BANDS)
    enc.init_weights()  # the runner's call when training starts
    w = enc.timm_model.state_dict()['conv1.weight']
    assert w.shape == (64, 14, 7, 7)
    ck = state['conv1.weight']
    for c, band in enumerate(bands[:12]):
        torch.testing.assert_close(w[:, c], ck[:, S2_L1C_BANDS.index(band)], rtol=0, atol=0)
    torch.testing.assert_close(w[:, 12], ck.mean(1), rtol=0, atol=0)  # slope: initialised
    torch.testing.assert_close(w[:, 13], ck.mean(1), rtol=0, atol=0)  # DEM
    assert enc.eo_band_report == dict(copied=bands[:12], initialised=['slope', 'DEM'])
    torch.testing.assert_close(enc.timm_model.state_dict()['layer4.1.conv2.weight'],
                               state['layer4.1.conv2.weight'], rtol=0, atol=0)
    feats = enc(torch.zeros(1, 14, 64, 64))
    assert [f.shape[1] for f in feats] == [64, 64, 128, 256, 512]


def test_band_name_spellings_and_zero_init():
    w = torch.arange(2 * 13 * 1 * 1, dtype=torch.float32).reshape(2, 13, 1, 1)
    out, copied, init = match_input_filters(w, S2_L1C_BANDS, ['b04', 'B8a', 'NIR'], init='zero')
    assert canonical_band('B02') == 'B2' and copied == ['b04', 'B8a'] and init == ['NIR']
    torch.testing.assert_close(out[:, 0], w[:, 3])
    torch.testing.assert_close(out[:, 1], w[:, 8])
    assert not out[:, 2].any()


def test_bad_eo_input(ssl4eo_file, tmp_path):
    path, _ = ssl4eo_file
    with pytest.raises(ConfigError, match='eo_bands is needed'):  # at construction
        EOTimmBackbone(bands=['B4'], model_name='resnet18', eo_weights=str(path))
    with pytest.raises(ConfigError, match="eo_init must be 'mean' or 'zero'"):
        EOTimmBackbone(bands=['B4'], model_name='resnet18', eo_weights=str(path),
                       eo_bands=S2_L1C_BANDS, eo_init='random')
    enc = EOTimmBackbone(bands=['B4'], model_name='resnet34', eo_weights=str(path),
                         eo_bands=S2_L1C_BANDS)
    with pytest.raises(CheckpointError, match='does not fit EOTimmBackbone'):
        enc.init_weights()
    enc = EOTimmBackbone(bands=['B4'], model_name='resnet18', eo_weights=str(tmp_path / 'x.pth'),
                         eo_bands=S2_L1C_BANDS)
    with pytest.raises(ConfigError, match='neither a local file nor a known name'):
        enc.init_weights()


def test_offline_download_is_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError('network unreachable')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    with pytest.raises(CheckpointError, match=r'cannot download EO weights .*eo_weights=/path/'
                                              r'resnet18_sentinel2_all_moco-59bfdff9\.pth') as e:
        EOTimmBackbone(bands=['B4'], eo_weights='ssl4eo_s12_resnet18_moco').init_weights()
    assert '\n' not in str(e.value)


def test_trained_checkpoint_needs_no_eo_file(tmp_path, monkeypatch):
    """Testing or mapping builds the model and loads a trained checkpoint without calling
    init_weights: neither a download nor the local EO file is needed."""
    def no_download(*args, **kwargs):
        raise AssertionError('downloaded')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_download)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    for weights in ('ssl4eo_s12_resnet18_moco',
                    str(tmp_path / 'absent' / 'resnet18_sentinel2_all_moco-59bfdff9.pth')):
        enc = EOTimmBackbone(bands=['B4', 'DEM'], eo_weights=weights)
        assert not hasattr(enc, 'eo_band_report')  # nothing loaded
        trained = {k: torch.full_like(v, 0.5) for k, v in enc.state_dict().items()}
        enc.load_state_dict(trained)
        torch.testing.assert_close(enc.state_dict()['timm_model.conv1.weight'],
                                   trained['timm_model.conv1.weight'])


def test_published_file_name_carries_its_bands(ssl4eo_file, tmp_path):
    _, state = ssl4eo_file
    path = tmp_path / 'resnet18_sentinel2_all_moco-59bfdff9.pth'  # as downloaded
    torch.save(state, path)
    enc = EOTimmBackbone(bands=['B8', 'DEM'], model_name='resnet18', eo_weights=str(path))
    enc.init_weights()
    assert enc.eo_band_report == dict(copied=['B8'], initialised=['DEM'])
    torch.testing.assert_close(enc.timm_model.state_dict()['conv1.weight'][:, 0],
                               state['conv1.weight'][:, 7], rtol=0, atol=0)


def test_geonext_ssl4eo_config_builds_from_a_local_file(ssl4eo_file, repo_root):
    path, state = ssl4eo_file
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'geonext',
                                   'geonext_resnet18-ssl4eo_inventory.py'))
    assert cfg.model.decode_head.type == 'PSAASPPHead'
    assert cfg.test_pipeline[1] == dict(type='NormalizeBands', mode='scale', scale=10000.0)
    cfg.model.backbone.eo_weights = str(path)  # the offline --cfg-options override
    cfg.model.backbone.eo_bands = list(S2_L1C_BANDS)
    model = MODELS.build(cfg.model)
    model.init_weights()  # the runner's call when training starts
    bands = list(cfg.bands)  # B2 B3 B4 B8 DEM
    w = model.backbone.timm_model.state_dict()['conv1.weight']
    for c, band in enumerate(bands[:4]):
        torch.testing.assert_close(w[:, c], state['conv1.weight'][:, S2_L1C_BANDS.index(band)],
                                   rtol=0, atol=0)
    assert model.backbone.eo_band_report == dict(copied=bands[:4], initialised=['DEM'])
    # the four stride-4..32 levels the PSA-ASPP head reads, widths filled from the encoder
    assert model.decode_head.in_channels == [64, 128, 256, 512]
    model.eval()
    with torch.no_grad():
        feats = model.backbone(torch.rand(1, 5, 64, 64))
        out = model._forward(torch.rand(1, 5, 64, 64))
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2]
    assert out.shape == (1, 1, 64, 64) and torch.isfinite(out).all()


def test_timm_unet_ssl4eo_config_takes_its_decoder_widths_from_the_encoder(ssl4eo_file,
                                                                          repo_root):
    path, _ = ssl4eo_file
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'timm_unet',
                                   'timm_unet_resnet18-ssl4eo_inventory.py'))
    assert cfg.model.decode_head.in_channels == 'auto'
    cfg.model.backbone.eo_weights = str(path)
    cfg.model.backbone.eo_bands = list(S2_L1C_BANDS)
    model = MODELS.build(cfg.model)
    assert model.decode_head.in_channels == [64, 64, 128, 256, 512]  # resnet18, all five levels
    model.eval()
    with torch.no_grad():
        out = model._forward(torch.rand(1, len(cfg.bands), 64, 64))
    assert out.shape == (1, 1, 64, 64) and torch.isfinite(out).all()
