"""lszoo.utils.checkpoint: cleaning a state dict and the one fit check."""
import pytest
import torch

from lszoo.errors import CheckpointError
from lszoo.utils.checkpoint import (check_state_dict_fits, clean_state_dict, load_state_dict,
                                    load_weights)


def test_clean_state_dict_unwraps_strips_and_keeps_a_prefix():
    w = torch.zeros(2)
    ckpt = {'meta': {}, 'state_dict': {'module.backbone.a': w, 'module.head.b': w}}
    assert list(clean_state_dict(ckpt)) == ['backbone.a', 'head.b']
    assert list(clean_state_dict(ckpt, prefix='backbone.')) == ['a']
    assert list(clean_state_dict({'model': {'x': w}})) == ['x']  # release format
    assert list(clean_state_dict({'x': w})) == ['x']  # bare state dict


def test_fit_check_names_every_kind_of_mismatch():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 2, 1))
    state = dict(model.state_dict())
    check_state_dict_fits(state, model, 'a.pth', 'the model')  # fits: no error
    state['0.weight'] = torch.zeros(4, 5, 3, 3)
    del state['1.bias']
    state['extra'] = torch.zeros(1)
    with pytest.raises(CheckpointError) as exc:
        check_state_dict_fits(state, model, 'a.pth', 'the model', hint=' (hint)')
    msg = str(exc.value)
    assert msg.startswith('a.pth: does not fit the model: 1 shape mismatch(es), e.g. 0.weight '
                          '(4, 5, 3, 3) in the checkpoint vs (4, 3, 3, 3) in the model')
    assert "1 of the model's 4 tensors missing, e.g. 1.bias" in msg
    assert '1 unexpected key(s), e.g. extra' in msg and msg.endswith('(hint)')
    with pytest.raises(CheckpointError) as exc:
        check_state_dict_fits(state, model, 'a.pth', 'the model', allow_unexpected=True)
    assert 'unexpected' not in str(exc.value)


def test_load_weights_is_strict_and_safe(tmp_path):
    src, dst = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    path = tmp_path / 'w.pth'
    torch.save({'state_dict': {'module.' + k: v for k, v in src.state_dict().items()}}, path)
    assert set(load_state_dict(path)) == {'weight', 'bias'}
    load_weights(dst, path, 'a linear layer')
    assert torch.equal(dst.weight, src.weight)
    with pytest.raises(CheckpointError, match=r'w\.pth: does not fit a wider layer'):
        load_weights(torch.nn.Linear(4, 2), path, 'a wider layer')
    with pytest.raises(CheckpointError, match='does not exist'):
        load_weights(dst, tmp_path / 'none.pth', 'x')
