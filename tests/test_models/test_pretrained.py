"""Pretrained starts: the paper configs name timm's weights, training downloads them through timm
(in ``init_weights``), a local file loads the same weights offline, and a failed download stops
with one line naming the weights, their source and the offline alternative. Nothing here touches
the network: downloads are made to fail by patching huggingface_hub's download function as timm
sees it, or by running the tool with ``HF_HUB_OFFLINE=1`` and an empty cache."""
import os.path as osp

import pytest
import timm
import torch
from helpers import REPO, run_tool
from mmengine.config import Config

import lszoo  # noqa: F401
from lszoo.errors import CheckpointError
from lszoo.models.backbones.convnextv2 import ConvNeXtV2Encoder
from lszoo.models.backbones.dual_stream_timm import DualStreamTimmEncoder


@pytest.fixture
def no_network(monkeypatch):
    """Every hub download fails like an unreachable network (after the host probe said it
    answers: the download itself fails); counts the attempts."""
    import timm.models._hub as hub

    from lszoo.models.backbones import timm_pretrained
    monkeypatch.setattr(timm_pretrained, 'host_reachable', lambda host, timeout=3.0: True)
    calls = []

    def fail(*args, **kwargs):
        calls.append(args)
        raise OSError('simulated: network is unreachable\n(second line of the cause)')

    monkeypatch.setattr(hub, 'hf_hub_download', fail)
    return calls


def test_download_failure_is_one_line_naming_weights_source_and_alternative(no_network):
    enc = ConvNeXtV2Encoder('atto', pretrained=True, pretrained_tag='fcmae_ft_in1k')
    assert not no_network  # building the model (e.g. for tools/test.py) never downloads
    with pytest.raises(CheckpointError) as err:
        enc.init_weights()  # the runner calls this when training starts
    msg = str(err.value)
    assert no_network and '\n' not in msg
    assert 'convnextv2_atto.fcmae_ft_in1k' in msg
    assert 'https://huggingface.co/timm/convnextv2_atto.fcmae_ft_in1k' in msg
    assert 'model.backbone.checkpoint=' in msg and 'network is unreachable' in msg


@pytest.fixture
def offline(monkeypatch):
    """The weights' host does not answer; hub downloads are counted (there must be none)."""
    import timm.models._hub as hub

    from lszoo.models.backbones import timm_pretrained
    probed, calls = [], []
    monkeypatch.setattr(timm_pretrained, 'host_reachable',
                        lambda host, timeout=3.0: probed.append(host) and False)
    monkeypatch.setattr(hub, 'hf_hub_download', lambda *a, **k: calls.append(a))
    return probed, calls


def test_offline_without_cache_is_one_line_at_once(offline, monkeypatch):
    """No retries against an unreachable hub: one probe, no download attempt, one line."""
    import huggingface_hub
    monkeypatch.setattr(huggingface_hub, 'try_to_load_from_cache', lambda *a, **k: None)
    probed, calls = offline
    enc = ConvNeXtV2Encoder('atto', pretrained=True, pretrained_tag='fcmae_ft_in1k')
    with pytest.raises(CheckpointError) as err:
        enc.init_weights()
    msg = str(err.value)
    assert probed == ['huggingface.co'] and not calls and '\n' not in msg
    assert 'no network (huggingface.co unreachable)' in msg and 'model.backbone.checkpoint=' in msg


def test_offline_with_the_weights_cached_loads_them_from_the_cache(offline, monkeypatch,
                                                                   tmp_path):
    import huggingface_hub
    from safetensors.torch import save_file
    torch.manual_seed(2)
    sd = timm.create_model('convnextv2_atto').state_dict()
    cached = tmp_path / 'model.safetensors'
    save_file({k: v.contiguous() for k, v in sd.items()}, str(cached))
    asked = []
    monkeypatch.setattr(huggingface_hub, 'try_to_load_from_cache',
                        lambda repo, name, **k: asked.append((repo, name)) or (
                            str(cached) if name == 'model.safetensors' else None))
    enc = ConvNeXtV2Encoder('atto', pretrained=True, pretrained_tag='fcmae_ft_in1k')
    enc.init_weights()
    assert ('timm/convnextv2_atto.fcmae_ft_in1k', 'model.safetensors') in asked
    assert not offline[1]  # no download attempted
    torch.testing.assert_close(enc.model.state_dict()['stem_0.weight'], sd['stem.0.weight'])


def test_local_timm_file_loads_the_same_weights_offline(tmp_path, no_network):
    torch.manual_seed(0)
    sd = timm.create_model('convnextv2_atto').state_dict()  # a timm-format file
    path = tmp_path / 'convnextv2_atto.pth'
    torch.save(sd, path)
    from safetensors.torch import save_file  # the format timm caches from the hub
    hub_file = tmp_path / 'model.safetensors'
    save_file({k: v.contiguous() for k, v in sd.items()}, str(hub_file))
    for kwargs in (dict(checkpoint=str(path)), dict(checkpoint=str(hub_file)),
                   dict(pretrained_cfg_overlay=dict(file=str(path)))):
        enc = ConvNeXtV2Encoder('atto', pretrained=True, pretrained_tag='fcmae_ft_in1k',
                                **kwargs)
        enc.init_weights()
        own = enc.model.state_dict()
        torch.testing.assert_close(own['stem_0.weight'], sd['stem.0.weight'])
        torch.testing.assert_close(own['stages_3.blocks.1.mlp.fc2.weight'],
                                   sd['stages.3.blocks.1.mlp.fc2.weight'])
    assert not no_network
    with pytest.raises(CheckpointError, match='nope.pth does not exist'):
        ConvNeXtV2Encoder('atto', pretrained=True,
                          pretrained_cfg_overlay=dict(file=str(tmp_path / 'nope.pth')))


def test_dual_stream_encoder_pretrained_paths(tmp_path, no_network):
    name = 'mobilenetv3_small_050.lamb_in1k'
    enc = DualStreamTimmEncoder(name, stream_channels=([0, 1, 2], [3, 3, 3]), frozen=True,
                                pretrained=True)
    with pytest.raises(CheckpointError, match=r'mobilenetv3_small_050\.lamb_in1k \(https://'):
        enc.init_weights()
    no_network.clear()
    torch.manual_seed(1)
    sd = timm.create_model('mobilenetv3_small_050').state_dict()
    path = tmp_path / 'mnv3.pth'
    torch.save(sd, path)
    enc = DualStreamTimmEncoder(name, stream_channels=([0, 1, 2], [3, 3, 3]), frozen=True,
                                pretrained=True,
                                timm_kwargs=dict(pretrained_cfg_overlay=dict(file=str(path))))
    enc.init_weights()
    for e in enc.encoders:  # both streams get the weights, and stay frozen
        torch.testing.assert_close(e.state_dict()['conv_stem.weight'], sd['conv_stem.weight'])
        assert not any(p.requires_grad for p in e.parameters())
    assert not no_network


@pytest.mark.parametrize('config,key,value', [
    ('configs/geonext/geonext_bijie.py', 'pretrained_tag', 'fcmae_ft_in22k_in1k'),
    ('configs/geonext/geonext_cas.py', 'pretrained_tag', 'fcmae_ft_in22k_in1k'),
    ('configs/digate_unet/digate_unet_bijie.py', 'model_name', 'tf_efficientnet_b4.ns_jft_in1k'),
])
def test_paper_configs_name_the_papers_weights(config, key, value):
    backbone = Config.fromfile(osp.join(REPO, config)).model.backbone
    assert backbone.pretrained is True and backbone[key] == value


@pytest.mark.parametrize('config', ['configs/demo/geonext_synthetic.py',
                                    'configs/demo/digate_unet_synthetic.py',
                                    'configs/geonext/geonext_bijie_from_cas.py'])
def test_demo_and_transfer_configs_do_not_download(config):
    assert not Config.fromfile(osp.join(REPO, config)).model.backbone.get('pretrained')


def test_testing_a_paper_config_never_downloads(no_network):
    """tools/test.py builds the model but never calls init_weights: the zero-shot config (CAS
    recipe, pretrained=True) builds without touching the network."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(REPO, 'configs/geonext/geonext_zeroshot_bijie.py'))
    assert cfg.model.backbone.pretrained is True
    MODELS.build(cfg.model)
    assert not no_network


def test_digate_default_tag_is_what_timm_resolves():
    """The reference calls timm.create_model('tf_efficientnet_b4', pretrained=True): the tag the
    config names is the one timm resolves that to."""
    from timm.models import get_pretrained_cfg
    cfg = get_pretrained_cfg('tf_efficientnet_b4')
    assert f'{cfg.architecture}.{cfg.tag}' == 'tf_efficientnet_b4.ns_jft_in1k'


def test_train_tool_offline_stops_with_one_line_then_starts_from_a_local_file(tmp_path):
    from lszoo.datasets.synthetic_writers import write_synthetic_dataset
    data = write_synthetic_dataset('bijie', tmp_path / 'bijie', num_images=5, size=64)
    env = dict(HF_HUB_OFFLINE='1', HF_HOME=str(tmp_path / 'hf'),
               TORCH_HOME=str(tmp_path / 'torch'))
    opts = ['--cfg-options', 'train_cfg.max_iters=1']
    for loader in ('train', 'val', 'test'):
        opts += [f'{loader}_dataloader.dataset.data_root={data}',
                 f'{loader}_dataloader.num_workers=0',
                 f'{loader}_dataloader.persistent_workers=False',
                 f'{loader}_dataloader.dataset.pipeline.1.scale=(64,64)']
    opts.append('train_dataloader.batch_size=2')
    # GeoNeXt-tiny with Adam state and the EMA copy saves 0.5 GB per checkpoint: the last
    # checkpoint's weights are enough here (no optimizer state, no best-mIoU copy)
    opts += ['default_hooks.checkpoint.save_optimizer=False',
             'default_hooks.checkpoint.save_best=None']
    config = osp.join(REPO, 'configs', 'geonext', 'geonext_bijie.py')

    res = run_tool('train.py', config, '--work-dir', tmp_path / 'w1', '--no-test', *opts,
                   env=env)
    assert res.returncode == 2, res.stderr[-3000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith('lszoo: error:')]
    assert len(errors) == 1, res.stderr[-3000:]
    assert 'convnextv2_tiny.fcmae_ft_in22k_in1k' in errors[0]
    assert 'huggingface.co/timm/convnextv2_tiny.fcmae_ft_in22k_in1k' in errors[0]
    assert 'model.backbone.checkpoint=' in errors[0]
    assert 'Traceback' not in res.stderr
    assert not osp.exists(tmp_path / 'w1' / 'iter_1.pth')

    # the paper's Bijie run starts from the CAS model: without it, one line naming the file
    res = run_tool('train.py', osp.join(REPO, 'configs', 'geonext', 'geonext_bijie_from_cas.py'),
                   '--work-dir', tmp_path / 'w0', '--no-test', *opts, env=env)
    assert res.returncode == 2, res.stderr[-3000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith('lszoo: error:')]
    assert len(errors) == 1 and 'work_dirs/geonext_cas_pretrain/iter_109560.pth' in errors[0]
    assert 'Traceback' not in res.stderr

    weights = tmp_path / 'convnextv2_tiny.pth'
    torch.save(timm.create_model('convnextv2_tiny').state_dict(), weights)
    res = run_tool('train.py', config, '--work-dir', tmp_path / 'w2', '--no-test',
                   *opts, f'model.backbone.checkpoint={weights}', env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert osp.isfile(tmp_path / 'w2' / 'iter_1.pth')
