"""DiGATe-UNet trains and tests through tools/train.py and tools/test.py on a synthetic copy of
each dataset's public layout (configs/digate_unet/digate_unet_<dataset>.py, shrunk by
lszoo.testing.shrink_config, with timm's tiny ``test_efficientnet`` encoder for speed)."""
import json
from pathlib import Path

import pytest
import torch
from helpers import REPO, load_script
from mmengine.config import Config

from lszoo.datasets.synthetic_writers import write_synthetic_dataset
from lszoo.testing import shrink_config

CROP = 64
TINY = 'test_efficientnet'
TINY_CH = (16, 24, 32, 48, 64)


@pytest.fixture(scope='module')
def tools():
    return (load_script('tools/train.py'),
            load_script('tools/test.py'))


def _data(name, tmp_path):
    n = {'l4s': 4, 'bijie': 5, 'cas': 4, 'gvlm': 3}[name]
    root = write_synthetic_dataset(name, tmp_path / 'data', num_images=n, size=CROP, seed=1)
    if name == 'gvlm':
        conv = load_script('tools/dataset_converters/gvlm.py')
        conv.convert(root, root / f'tiles_{CROP}', size=CROP, overlap=0)
    return root


@pytest.mark.parametrize('name', ['bijie', 'l4s', 'cas', 'gvlm'])
def test_digate_config_trains_and_tests_through_the_tools(name, tools, tmp_path, capsys):
    train_tool, test_tool = tools
    full = Config.fromfile(str(Path(REPO, 'configs', 'digate_unet', f'digate_unet_{name}.py')))
    streams = full.model.backbone.stream_channels
    assert max(max(s) for s in streams) < full.in_channels
    work = tmp_path / 'work'
    cfg = shrink_config(full, work, data_root=str(_data(name, tmp_path)), iters=2, crop=CROP)
    if name == 'gvlm':
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[key].dataset.tile_dir = f'tiles_{CROP}'
    cfg.model.backbone.model_name = TINY
    cfg.model.neck.in_channels = TINY_CH
    cfg.model.decode_head.in_channels = TINY_CH
    path = tmp_path / f'digate_{name}.py'
    cfg.dump(str(path))

    assert train_tool.main([str(path), '--work-dir', str(work), '--no-test']) == 0, \
        capsys.readouterr().err[-3000:]
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file()
    ckpt_data = torch.load(ckpt, map_location='cpu', weights_only=False)
    # the runner's logged training scalars travel in the checkpoint's message hub
    scalars = {k[len('train/'):]: v.data[0]
               for k, v in ckpt_data['message_hub']['log_scalars'].items()}
    for i in range(2):  # main + deep supervision + the four gates' regulariser, both iterations
        assert 0 < scalars['decode.loss_gate_reg'][i] <= 1e-3 * 4 * 0.25
        assert scalars['loss'][i] == pytest.approx(
            scalars['decode.loss_tversky'][i] + scalars['decode.aux_quarter_loss_tversky'][i]
            + scalars['decode.aux_half_loss_tversky'][i] + scalars['decode.loss_gate_reg'][i],
            rel=1e-4)
    state = ckpt_data['state_dict']
    assert any(k.startswith('backbone.encoders.1.') for k in state)  # two encoders
    assert any(k.startswith('decode_head.decoder_b.') for k in state)

    out = tmp_path / 'preds'
    capsys.readouterr()
    assert test_tool.main([str(path), str(ckpt), '--work-dir', str(tmp_path / 'test_wd'),
                           '--out', str(out)]) == 0, capsys.readouterr().err[-3000:]
    metrics = json.loads((out / 'metrics.json').read_text())
    assert {'IoU', 'F1', 'imgIoU', 'imgF1'} <= set(metrics)
    assert all(0 <= metrics[k] <= 100 for k in ('IoU', 'F1'))
