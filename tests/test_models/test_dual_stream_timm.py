"""DualStreamTimmEncoder started from Earth-observation weights: per-stream band matching by name,
the other stream's own start kept, and the DiGATe-UNet SSL4EO config built from a local file."""
import os.path as osp

import pytest
import timm
import torch
from mmengine import Config
from mmseg.registry import MODELS

from lszoo.datasets.l4s import L4SDataset
from lszoo.errors import ConfigError
from lszoo.models.backbones import DualStreamTimmEncoder, dual_stream_timm, eo_weights
from lszoo.models.backbones.eo_weights import S2_L1C_BANDS

L4S = list(L4SDataset.BANDS)  # B1..B12 without B8A, then slope, DEM


@pytest.fixture
def logged(monkeypatch):
    lines = []
    monkeypatch.setattr(eo_weights, 'print_log', lambda msg, **kw: lines.append(msg))
    return lines


def conv1(enc):
    return enc.state_dict()['conv1.weight']


def test_both_streams_matched_by_name_on_l4s_bands(ssl4eo_file, logged):
    path, state = ssl4eo_file
    ck = state['conv1.weight']
    a, b = [3, 2, 1, 7, 12], [12, 13, 13]  # B4 B3 B2 B8 slope | slope DEM DEM
    enc = DualStreamTimmEncoder('resnet18', stream_channels=(a, b), bands=L4S,
                                eo_weights=(str(path), str(path)), eo_bands=S2_L1C_BANDS)
    assert enc.eo_band_report == {} and not logged  # loaded when training starts
    enc.init_weights()
    wa, wb = conv1(enc.encoders[0]), conv1(enc.encoders[1])
    assert wa.shape == (64, 5, 7, 7) and wb.shape == (64, 3, 7, 7)
    for c, band in enumerate(['B4', 'B3', 'B2', 'B8']):
        torch.testing.assert_close(wa[:, c], ck[:, S2_L1C_BANDS.index(band)], rtol=0, atol=0)
    torch.testing.assert_close(wa[:, 4], ck.mean(1), rtol=0, atol=0)  # slope: initialised
    for c in range(3):
        torch.testing.assert_close(wb[:, c], ck.mean(1), rtol=0, atol=0)
    assert enc.eo_band_report == {
        'A': dict(copied=['B4', 'B3', 'B2', 'B8'], initialised=['slope']),
        'B': dict(copied=[], initialised=['slope', 'DEM', 'DEM'])}
    for e in enc.encoders:  # the rest of the encoder is the checkpoint's
        torch.testing.assert_close(e.state_dict()['layer4.1.conv2.weight'],
                                   state['layer4.1.conv2.weight'], rtol=0, atol=0)
    assert 'stream A' in logged[0] and 'B4<-B4[3], B3<-B3[2], B2<-B2[1], B8<-B8[7]' in logged[0]
    assert 'initialised (mean) for slope' in logged[0]
    assert 'stream B' in logged[1] and 'copied (band<-checkpoint band[channel]) none' in logged[1]
    feats_a, feats_b = enc(torch.rand(1, 14, 64, 64))
    assert [f.shape[1] for f in feats_a] == [f.shape[1] for f in feats_b] == enc.out_channels


def test_dem_stream_keeps_its_own_start(ssl4eo_file, tmp_path, monkeypatch):
    path, state = ssl4eo_file
    torch.manual_seed(1)
    rgb = timm.create_model('resnet18', num_classes=1000).state_dict()  # an ImageNet-like file
    torch.save(rgb, tmp_path / 'resnet18_rgb.pth')
    enc = DualStreamTimmEncoder('resnet18', stream_channels=([0, 1, 2], [3, 3, 3]),
                                bands=['B4', 'B3', 'B2', 'DEM'], eo_weights=str(path),
                                eo_bands=S2_L1C_BANDS,
                                checkpoint=str(tmp_path / 'resnet18_rgb.pth'))
    enc.init_weights()
    assert list(enc.eo_band_report) == ['A']
    torch.testing.assert_close(conv1(enc.encoders[0])[:, 0], state['conv1.weight'][:, 3],
                               rtol=0, atol=0)
    torch.testing.assert_close(conv1(enc.encoders[1]), rgb['conv1.weight'], rtol=0, atol=0)
    torch.testing.assert_close(enc.encoders[1].state_dict()['layer1.0.conv1.weight'],
                               rgb['layer1.0.conv1.weight'], rtol=0, atol=0)
    # pretrained=True downloads timm's weights (when training starts) for stream B only
    calls = []
    monkeypatch.setattr(dual_stream_timm, 'load_timm_pretrained',
                        lambda enc, *a, **kw: calls.append(enc))
    enc = DualStreamTimmEncoder('resnet18', stream_channels=([0, 1, 2], [3, 3, 3]),
                                bands=['B4', 'B3', 'B2', 'DEM'], eo_weights=str(path),
                                eo_bands=S2_L1C_BANDS, pretrained=True)
    enc.init_weights()
    assert calls == [enc.encoders[1]]


def test_shared_encoder_matches_stream_a(ssl4eo_file):
    path, state = ssl4eo_file
    enc = DualStreamTimmEncoder('resnet18', stream_channels=([1, 0], [2, 2]), shared=True,
                                bands=['B2', 'B8', 'DEM'], eo_weights=(None, str(path)),
                                eo_bands=S2_L1C_BANDS)
    enc.init_weights()
    assert enc.eo_band_report == {'A': dict(copied=['B8', 'B2'], initialised=[])}
    torch.testing.assert_close(conv1(enc.encoders[0])[:, 0], state['conv1.weight'][:, 7],
                               rtol=0, atol=0)


def test_bad_eo_settings_name_the_problem(ssl4eo_file):
    path, _ = ssl4eo_file
    kw = dict(stream_channels=([0, 1, 2], [3, 3, 3]), eo_bands=S2_L1C_BANDS)
    with pytest.raises(ConfigError, match=r'eo_weights needs bands.*>= 4.*bands=\[.B4., .B3.\]'):
        DualStreamTimmEncoder('resnet18', bands=['B4', 'B3'], eo_weights=str(path), **kw)
    with pytest.raises(ConfigError, match='a pair per stream'):
        DualStreamTimmEncoder('resnet18', bands=['B4', 'B3', 'B2', 'DEM'],
                              eo_weights=[str(path)] * 3, **kw)
    with pytest.raises(ConfigError, match='shared=True has one encoder'):
        DualStreamTimmEncoder('resnet18', stream_channels=([0], [1]), shared=True,
                              bands=['B4', 'DEM'], eo_weights=(str(path), 'other.pth'))


def test_digate_ssl4eo_config_builds_from_a_local_file(ssl4eo_file, repo_root, logged):
    path, state = ssl4eo_file
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'digate_unet',
                                   'digate_unet_resnet18-ssl4eo_inventory.py'))
    assert cfg.model.backbone.eo_weights == 'ssl4eo_s12_resnet18_moco'
    assert cfg.test_pipeline[1] == dict(type='NormalizeBands', mode='scale', scale=10000.0)
    assert cfg.train_dataloader.dataset.pipeline[1] == cfg.test_pipeline[1]
    cfg.model.backbone.update(eo_weights=str(path), eo_bands=list(S2_L1C_BANDS))
    model = MODELS.build(cfg.model)
    model.init_weights()  # the runner's call when training starts
    enc = model.backbone
    assert enc.eo_band_report == {'A': dict(copied=['B4', 'B3', 'B2'], initialised=[])}
    torch.testing.assert_close(conv1(enc.encoders[0]),
                               state['conv1.weight'][:, [3, 2, 1]], rtol=0, atol=0)
    assert not any(p.requires_grad for p in enc.encoders[0].parameters())  # frozen A
    assert all(p.requires_grad for p in enc.encoders[1].parameters())  # B trains
    assert model.neck.in_channels == [64, 64, 128, 256, 512]  # ResNet-18 widths, 'auto'
    model.eval()
    with torch.no_grad():
        out = model._forward(torch.rand(1, 4, 64, 64))
    assert out.shape == (1, 1, 64, 64) and torch.isfinite(out).all()
