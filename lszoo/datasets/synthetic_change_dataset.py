"""The synthetic bi-temporal world as a dataset that writes itself when missing."""
from mmseg.registry import DATASETS

from lszoo.errors import ConfigError
from .gvlm import GVLMDataset
from .synthetic_change import ensure_change_world


@DATASETS.register_module()
class SyntheticChangeDataset(GVLMDataset):
    """:class:`GVLMDataset` over the synthetic bi-temporal world, written to ``data_root`` by
    :func:`ensure_change_world` when it is not there yet (so the demo configs run on a fresh
    checkout). ``world``: :func:`write_change_world` arguments; ``tile_dir`` follows its tile."""

    def __init__(self, *args, data_root: str = None, world: dict = None, **kwargs):
        world = dict(world or {})
        if data_root is None:
            raise ConfigError('SyntheticChangeDataset: set data_root (where the world is '
                              'written)')
        ensure_change_world(data_root, **world)
        kwargs.setdefault('tile_dir', f'tiles_{world.get("tile", 128)}')
        super().__init__(*args, data_root=data_root, **kwargs)
