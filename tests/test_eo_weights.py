"""EO pretrained encoders: first-layer band matching by name, loading a published-format file."""
import pytest
import timm
import torch

from lszoo.datasets.l4s import L4SDataset
from lszoo.errors import CheckpointError, ConfigError
from lszoo.models.backbones import EOTimmBackbone
from lszoo.models.backbones.eo_weights import (S2_L1C_BANDS, canonical_band,
                                               match_input_filters)


@pytest.fixture(scope='module')
def ssl4eo_file(tmp_path_factory):
    """A state dict in the published SSL4EO-S12 format: timm resnet18, 13 input bands, fc."""
    torch.manual_seed(0)
    state = timm.create_model('resnet18', in_chans=13, num_classes=1000).state_dict()
    path = tmp_path_factory.mktemp('eo') / 'resnet18_sentinel2_all_moco.pth'
    torch.save(state, path)
    return path, state


def test_l4s_bands_matched_by_name(ssl4eo_file):
    path, state = ssl4eo_file
    bands = list(L4SDataset.BANDS)  # B1..B12 without B8A, slope, DEM
    enc = EOTimmBackbone(bands=bands, model_name='resnet18', eo_weights=str(path),
                         eo_bands=S2_L1C_BANDS)
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
    with pytest.raises(ConfigError, match='eo_bands is needed'):
        EOTimmBackbone(bands=['B4'], model_name='resnet18', eo_weights=str(path))
    with pytest.raises(CheckpointError, match='does not fit EOTimmBackbone'):
        EOTimmBackbone(bands=['B4'], model_name='resnet34', eo_weights=str(path),
                       eo_bands=S2_L1C_BANDS)
    with pytest.raises(ConfigError, match='neither a local file nor a known name'):
        EOTimmBackbone(bands=['B4'], model_name='resnet18', eo_weights=str(tmp_path / 'x.pth'))


def test_offline_download_is_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError('network unreachable')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    with pytest.raises(CheckpointError, match=r'cannot download EO weights .*eo_weights=/path/'
                                              r'resnet18_sentinel2_all_moco-59bfdff9\.pth') as e:
        EOTimmBackbone(bands=['B4'], eo_weights='ssl4eo_s12_resnet18_moco')
    assert '\n' not in str(e.value)
