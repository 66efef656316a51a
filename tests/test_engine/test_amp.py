"""lszoo.engine.amp: every model family takes a training step under bf16 CPU autocast (what
``tools/train.py --amp`` does without CUDA) with finite losses and gradients, the convolutions
really running in bf16; and ``amp_optim_wrapper`` picks fp16 on CUDA, bf16 on the CPU."""
import os.path as osp

import pytest
import torch
from helpers import REPO

from lszoo.benchmark.side_by_side import train_batch
from lszoo.config import load_config
from lszoo.engine.amp import CPUAutocastOptimWrapper, amp_optim_wrapper

TINY = 'test_efficientnet'  # timm's test encoder, level widths below
TINY_CH = [16, 24, 32, 48, 64]

FAMILIES = {
    'unet': ('configs/demo/unet_synthetic.py', {
        'model.backbone.base_channels': 4, 'model.decode_head.in_channels': 4,
        'model.decode_head.channels': 4}),
    'deeplabv3plus': ('configs/deeplabv3plus/deeplabv3plus_mobilenetv2_synthetic.py', {
        'model.backbone.model_name': TINY, 'model.decode_head.in_channels': 64,
        'model.decode_head.channels': 8, 'model.decode_head.c1_in_channels': 24,
        'model.decode_head.c1_channels': 8}),
    'segformer': ('configs/segformer/segformer_synthetic.py', {
        'model.backbone.embed_dims': 8,  # stage widths 8 x num_heads (1, 2, 5, 8)
        'model.decode_head.in_channels': [8, 16, 40, 64], 'model.decode_head.channels': 8}),
    'timm_unet': ('configs/timm_unet/timm_unet_synthetic.py', {
        'model.backbone.model_name': TINY, 'model.decode_head.in_channels': TINY_CH,
        'model.decode_head.decoder_channels': [16, 8, 8, 8, 8]}),
    'digate_unet': ('configs/demo/digate_unet_synthetic.py', {
        'model.backbone.model_name': TINY, 'model.neck.in_channels': TINY_CH,
        'model.decode_head.in_channels': TINY_CH}),
    'geonext': ('configs/demo/geonext_synthetic.py', {}),
}


def _model(config, options):
    from mmseg.registry import MODELS
    cfg = load_config(osp.join(REPO, config), options)
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_one_bf16_training_step_is_finite(family):
    config, options = FAMILIES[family]
    cfg, model = _model(config, options)
    model.train()
    wrapper = amp_optim_wrapper(cfg.optim_wrapper, cuda=False)
    assert wrapper['type'] == 'CPUAutocastOptimWrapper'
    from mmengine.optim import build_optim_wrapper
    optim = build_optim_wrapper(model, wrapper)
    assert isinstance(optim, CPUAutocastOptimWrapper)

    conv_dtypes = set()
    hooks = [m.register_forward_hook(lambda m, i, o: conv_dtypes.add(o.dtype))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    data = train_batch(cfg.in_channels, 64, 64, batch=2)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    # model.train_step's steps, with a look at the gradients before the optimizer clears them
    with optim.optim_context(model):
        batch = model.data_preprocessor(data, True)
        losses = model(**batch, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    for h in hooks:
        h.remove()
    assert torch.bfloat16 in conv_dtypes, f'{family}: no convolution ran in bf16'
    assert torch.isfinite(loss), f'{family}: loss {log_vars}'
    optim.backward(loss)
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert grads, f'{family}: no gradients'
    bad = [n for n, g in grads.items() if not torch.isfinite(g).all()]
    assert all(g.dtype == torch.float32 for g in grads.values())  # master weights stay fp32
    optim.step()
    changed = [n for n, p in model.named_parameters() if n in before
               and not torch.equal(p.detach(), before[n])]
    if bad:  # bf16 kernels differ by CPU: such a step must be skipped, never taken
        assert optim.skipped_steps == 1 and not changed, f'{family}: non-finite {bad[:5]}'
    else:
        assert optim.skipped_steps == 0 and changed, f'{family}: the step changed no parameter'


def test_amp_optim_wrapper_picks_the_device_precision():
    base = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
    cuda = amp_optim_wrapper(base, cuda=True)
    assert cuda['type'] == 'AmpOptimWrapper' and cuda['dtype'] == 'float16'
    assert cuda['loss_scale'] == 'dynamic'
    cpu = amp_optim_wrapper(base, cuda=False)
    assert cpu['type'] == 'CPUAutocastOptimWrapper' and cpu['dtype'] == 'bfloat16'
    assert base['type'] == 'OptimWrapper'  # the input is not modified
    assert amp_optim_wrapper(cpu, cuda=False) == cpu


def test_cpu_autocast_wrapper_refuses_a_full_precision_dtype():
    params = [torch.nn.Parameter(torch.zeros(1))]
    with pytest.raises(ValueError, match='bfloat16 or float16'):
        CPUAutocastOptimWrapper(torch.optim.SGD(params, lr=0.1), dtype='float32')


def test_non_finite_bf16_gradients_skip_the_step_and_say_so(capsys):
    """--amp on the CPU never trains on a non-finite gradient: the step is skipped, counted and
    logged; after ``max_consecutive_skips`` in a row the run stops with one clear error."""
    from lszoo.engine.hooks.nonfinite_loss import NonFiniteLossError
    model = torch.nn.Linear(3, 1)
    optim = CPUAutocastOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                                    max_consecutive_skips=3)
    before = model.weight.detach().clone()
    loss = model(torch.ones(2, 3)).sum() * float('nan')
    optim.update_params(loss)
    assert torch.equal(model.weight, before) and optim.skipped_steps == 1
    assert model.weight.grad is None or not model.weight.grad.any()  # cleared for the next step
    optim.update_params(model(torch.ones(2, 3)).sum())  # a finite step trains
    assert not torch.equal(model.weight, before) and optim.skipped_steps == 1
    with pytest.raises(NonFiniteLossError, match='3 optimizer steps in a row'):
        for _ in range(3):
            optim.update_params(model(torch.ones(2, 3)).sum() * float('inf'))
    assert optim.skipped_steps == 4
