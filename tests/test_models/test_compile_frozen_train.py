"""``compile_frozen='train'`` (the DiGATe paper configs' default): the frozen encoders are compiled
for training steps only, give the eager results at every input size, and fall back to eager
when compiling fails."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

import lszoo  # noqa: F401
from lszoo.errors import ConfigError

TINY = 'test_efficientnet'  # timm's 82 k-parameter test network
CFG = dict(type='DualStreamTimmEncoder', model_name=TINY, frozen=True,
           stream_channels=([0, 1, 2], [3, 3, 3]))


def _pair(compile_frozen):
    torch.manual_seed(0)
    plain = MODELS.build(CFG)
    compiled = MODELS.build(dict(CFG, compile_frozen=compile_frozen))
    compiled.load_state_dict(plain.state_dict())
    return plain, compiled


def _same(plain, compiled, x, atol=0.0):
    fa, fb = plain(x)
    ca, cb = compiled(x)
    for f, c in zip(fa + fb, ca + cb):
        assert f.shape == c.shape
        assert torch.allclose(f, c, atol=atol, rtol=0)


def test_train_only_compiles_training_steps_at_any_input_size():
    graphs = []

    def counting_backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    torch._dynamo.reset()
    plain, compiled = _pair(dict(when='train', backend=counting_backend))
    assert list(compiled.state_dict()) == list(plain.state_dict())
    plain.eval(), compiled.eval()
    _same(plain, compiled, torch.randn(1, 4, 48, 80))
    assert not graphs  # evaluation (varied sizes: validation, mapping) stays eager
    plain.train(), compiled.train()
    for size in ((64, 64), (96, 64), (64, 64), (40, 72)):  # BN batch statistics too
        _same(plain, compiled, torch.randn(2, 4, *size))
    assert graphs
    for k, v in plain.state_dict().items():  # running statistics updated alike
        assert torch.allclose(v.float(), compiled.state_dict()[k].float()), k
    torch._dynamo.reset()


def test_compile_failure_falls_back_to_eager():
    def broken_backend(gm, example_inputs):
        raise RuntimeError('no C++ compiler')

    torch._dynamo.reset()
    plain, compiled = _pair(dict(when='train', backend=broken_backend))
    plain.train(), compiled.train()
    _same(plain, compiled, torch.randn(2, 4, 64, 64))
    _same(plain, compiled, torch.randn(2, 4, 64, 64))
    assert compiled._train_compiled == [None, None]
    torch._dynamo.reset()


def test_train_default_is_a_no_op_for_trainable_encoders():
    # e.g. benchmarks/real.py's DiGATe row: the Bijie config with frozen=False
    bb = MODELS.build(dict(CFG, frozen=False, compile_frozen='train'))
    assert bb._train_compiled == [None, None]
    with pytest.raises(ConfigError, match='compile_frozen needs a frozen encoder'):
        MODELS.build(dict(CFG, frozen=False, compile_frozen=True))


def test_bad_compile_frozen_value_is_one_error():
    with pytest.raises(ConfigError, match="compile_frozen must be False, True, 'train'"):
        MODELS.build(dict(CFG, compile_frozen='always'))
    with pytest.raises(ConfigError, match='compile_frozen'):
        MODELS.build(dict(CFG, compile_frozen=dict(when='sometimes')))


def test_paper_config_compiles_its_frozen_encoders_for_training(repo_root):
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'digate_unet', 'digate_unet_bijie.py'))
    assert cfg.model.backbone.compile_frozen == 'train'
    assert cfg.model.backbone.frozen is True
    # fixed-size training inputs: every image is resized to the crop size
    assert any(t['type'] == 'Resize' and t['keep_ratio'] is False for t in cfg.train_pipeline)


def test_shrunk_test_runs_do_not_compile(repo_root, tmp_path):
    from lszoo.testing import shrink_config
    cfg = shrink_config(osp.join(repo_root, 'configs', 'digate_unet', 'digate_unet_bijie.py'),
                        tmp_path, iters=1)
    assert cfg.model.backbone.compile_frozen is False
