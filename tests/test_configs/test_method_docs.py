"""Each method's README and metafile.yaml state the loss and threshold its configs use.

``metafile.yaml`` gives every model ``Metadata: Loss`` (the decode head's loss terms, ``[weight
]Type`` joined by `` + ``; a weight of 1 is not written) and ``Metadata: Threshold`` (the
probability threshold of the one-channel head); the README gives each distinct pair once as a
line ``Loss: `<terms>`, threshold <value>``. Both are compared with the parsed configs.
"""
import glob
import os.path as osp
import re

import pytest
import yaml
from helpers import REPO
from mmengine.config import Config

METAFILES = sorted(glob.glob(osp.join(REPO, 'configs', '*', 'metafile.yaml')))
README_LINE = re.compile(r'Loss: `([^`]+)`, threshold ([0-9.]+)')


def config_loss_and_threshold(config: str):
    """``(terms, threshold)`` of a config's decode head: terms as ``[(type, weight)]``."""
    head = Config.fromfile(osp.join(REPO, config)).model.decode_head
    losses = head.loss_decode if isinstance(head.loss_decode, (list, tuple)) else [
        head.loss_decode]
    terms = [(loss['type'], float(loss.get('loss_weight') or 1.0)) for loss in losses]
    return terms, float(head.threshold)


def parse_terms(text: str):
    """``'0.45 CrossEntropyLoss + BinaryDiceLoss'`` -> ``[('CrossEntropyLoss', 0.45),
    ('BinaryDiceLoss', 1.0)]``."""
    terms = []
    for term in text.split(' + '):
        match = re.fullmatch(r'(?:([0-9.]+) )?(\w+)', term.strip())
        assert match, f'cannot read the loss term {term!r} (want "[weight ]Type")'
        terms.append((match.group(2), float(match.group(1) or 1.0)))
    return terms


def _models(metafile: str):
    with open(metafile) as f:
        return [m for m in yaml.safe_load(f)['Models'] if m.get('Config')]


def test_every_method_has_a_metafile_with_models():
    names = [osp.basename(osp.dirname(m)) for m in METAFILES]
    assert {'unet', 'timm_unet', 'deeplabv3plus', 'segformer', 'digate_unet',
            'geonext'} <= set(names)
    assert all(_models(m) for m in METAFILES)


def test_parse_terms_reads_weights_and_defaults():
    assert parse_terms('0.45 CrossEntropyLoss + BinaryDiceLoss') == [
        ('CrossEntropyLoss', 0.45), ('BinaryDiceLoss', 1.0)]
    with pytest.raises(AssertionError, match='cannot read'):
        parse_terms('BCE, Dice')


@pytest.mark.parametrize('metafile', METAFILES, ids=lambda p: osp.basename(osp.dirname(p)))
def test_metafile_and_readme_state_the_configs_loss_and_threshold(metafile):
    pairs = set()
    for model in _models(metafile):
        meta = model['Metadata']
        assert 'Loss' in meta and 'Threshold' in meta, f'{model["Name"]}: no Loss / Threshold'
        terms, threshold = config_loss_and_threshold(model['Config'])
        assert parse_terms(meta['Loss']) == terms, model['Name']
        assert float(meta['Threshold']) == pytest.approx(threshold), model['Name']
        pairs.add((tuple(terms), threshold))
    with open(osp.join(osp.dirname(metafile), 'README.md')) as f:
        stated = {(tuple(parse_terms(t)), float(v)) for t, v in README_LINE.findall(f.read())}
    assert stated == pairs, f'README states {stated}, the configs use {pairs}'
