"""lszoo.models.layers.utils: resize_to, pad_to, check_channels."""
import pytest
import torch

from lszoo.errors import ConfigError
from lszoo.models.layers.utils import check_channels, pad_to, resize_to


def test_pad_to():
    x = torch.ones(1, 1, 2, 2)
    assert pad_to(x, torch.zeros(1, 1, 2, 2)) is x  # no copy when sizes match
    y = pad_to(x, torch.zeros(1, 1, 3, 5))
    assert y.shape == (1, 1, 3, 5) and y.sum() == 4 and y[0, 0, 0, 1] == 1
    with pytest.raises(ValueError, match='divisible'):
        pad_to(torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 3, 3))


def test_resize_to():
    x = torch.arange(4.0).reshape(1, 1, 2, 2)
    assert resize_to(x, torch.zeros(1, 3, 2, 2)) is x
    y = resize_to(x, torch.zeros(1, 3, 4, 6))
    assert y.shape == (1, 1, 4, 6) and y.min() >= 0 and y.max() <= 3


def test_check_channels():
    feats = [torch.zeros(1, 8, 4, 4), torch.zeros(1, 16, 2, 2)]
    check_channels('Head', (8, 16), feats)
    with pytest.raises(ConfigError, match=r'Head: in_channels=\[8, 32\].*widths \[8, 16\]'):
        check_channels('Head', (8, 32), feats)
