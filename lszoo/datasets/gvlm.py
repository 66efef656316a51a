"""GVLM landslide dataset: tiles cut from its 17 site scenes by tools/dataset_converters/gvlm.py."""
from pathlib import Path

from mmseg.registry import DATASETS

from lszoo.errors import DataError
from .base import LandslideBaseDataset, check_split_files, seeded_split, warn_orphan_masks

TILE_SUFFIXES = ('.png', '.tif')


@DATASETS.register_module()
class GVLMDataset(LandslideBaseDataset):
    """GVLM: large-scale landslide change-detection dataset (17 sites worldwide, 0.59 m RGB).

    Source: https://github.com/zxk688/GVLM (v1.0). Licence: non-commercial use only.

    As distributed (v1.0) each site is a folder with ``im1.png`` (pre-event RGB),
    ``im2.png`` (post-event RGB) and ``ref.png`` (landslide change mask, 0/255); scenes range
    from 1748x1748 to 10808x7424. Segmentation uses the post-event image with the change mask
    as the landslide mask. The scenes are cut once into tiles (streaming, bounded memory)::

        python tools/dataset_converters/gvlm.py data/gvlm --size 256 --overlap 0

    which writes ``<data_root>/tiles_256/<site>/{im1,im2,ref}/<site>_<row>_<col>.png``; this
    class reads those tiles (``tile_dir``).

    ==========  ===================  =======
    name        content              stream
    ==========  ===================  =======
    R, G, B     post-event (im2)     optical
    pre_R/G/B   pre-event (im1)      pre
    DEM         ``dem/`` tile        topo
    ==========  ===================  =======

    ``DEM`` is an lszoo extension, not part of GVLM: a single-band elevation tile of the same
    name in ``<site>/dem/`` beside ``im1``/``im2``/``ref`` (the synthetic bi-temporal world of
    :mod:`lszoo.datasets.synthetic_change` writes one; for real GVLM sites, cut a DEM
    co-registered with the scene the same way). Bi-temporal configs name the streams ``post``
    and ``pre`` (``stream_layout``).

    Classes: ref 0 -> 0 background, 255 -> 1 landslide. No official split (the authors' demo
    used a random 60/20/20 split of tiles): split files
    ``<split_dir>/gvlm_<split>_seed42.txt`` are written on first use (60/20/20 of the tiles of
    each site, one seeded generator) and read afterwards. Cut with ``--overlap 0`` for
    training splits, otherwise overlapping tiles leak across splits.

    Citation: X. Zhang, W. Yu, M.-O. Pun, W. Shi, "Cross-domain landslide mapping from
    large-scale remote sensing images using prototype-guided domain-aware progressive
    representation learning", ISPRS J. Photogramm. Remote Sens. 197, 1-17 (2023).
    """

    NAME = 'gvlm'
    URL = 'https://github.com/zxk688/GVLM'
    BANDS = ('R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B', 'DEM')
    BAND_STREAMS = {'R': 'optical', 'G': 'optical', 'B': 'optical',
                    'pre_R': 'pre', 'pre_G': 'pre', 'pre_B': 'pre', 'DEM': 'topo'}
    DEFAULT_BANDS = ('R', 'G', 'B')
    SPLITS = ('train', 'val', 'test', 'all')
    FRACTIONS = (0.6, 0.2, 0.2)

    def __init__(self, *args, tile_dir: str = 'tiles_256', **kwargs):
        self.tile_dir = tile_dir
        super().__init__(*args, **kwargs)

    def list_samples(self):
        root = Path(self.data_root)
        tiles = root / self.tile_dir
        if not tiles.is_dir():
            raise DataError(
                f'GVLMDataset: tile folder {tiles} does not exist; cut the scenes first: '
                f'`python tools/dataset_converters/gvlm.py {root} --size 256 --overlap 0 '
                f'--out {tiles}`')
        per_site = {}
        for site in sorted(p for p in tiles.iterdir() if (p / 'im2').is_dir()):
            per_site[site.name] = sorted(
                f'{site.name}/{p.name}' for p in (site / 'im2').iterdir()
                if p.suffix in TILE_SUFFIXES)
            if (site / 'ref').is_dir():
                warn_orphan_masks('GVLMDataset', site / 'ref',
                                  [p.name for p in (site / 'ref').iterdir()
                                   if p.suffix in TILE_SUFFIXES],
                                  [e.partition('/')[2] for e in per_site[site.name]])
        if self.split == 'all':
            entries = [e for v in per_site.values() for e in v]
        else:
            path = self.split_file(self.split)
            if not path.is_file():
                self.write_seeded_splits(('train', 'val', 'test'), lambda: seeded_split(
                    list(per_site.values()), self.FRACTIONS, self.split_seed))
            check_split_files('GVLMDataset', [self.split_file(n) for n in ('train', 'val', 'test')],
                              [e for v in per_site.values() for e in v], self.rewrite_hint())
            entries = self.read_split(path)
        need_dem = self._needs('DEM')
        # the raw stack is post, pre, DEM in this order: the DEM's index needs the pre bands
        need_pre = need_dem or self._needs('pre_R', 'pre_G', 'pre_B')
        samples = []
        for entry in entries:
            site, _, name = entry.partition('/')
            post = tiles / site / 'im2' / name
            if not post.is_file():
                raise DataError(f'GVLMDataset: split entry {entry!r} points to missing tile '
                                f'{post}; {self.rewrite_hint()}')
            sources = [dict(path=str(post), kind='raster', bands=3, role='image')]
            for needed, folder, bands, role, what in (
                    (need_pre, 'im1', 3, 'pre', ('pre-event tile', 'pre-event bands')),
                    (need_dem, 'dem', 1, 'dem', ('DEM tile', 'DEM band'))):
                extra = tiles / site / folder / name
                if needed and not extra.is_file():
                    raise DataError(f'{post}: no {what[0]} {extra}, but the config asks for '
                                    f'the {what[1]}')
                if needed:
                    sources.append(dict(path=str(extra), kind='raster', bands=bands, role=role))
            ref = tiles / site / 'ref' / name
            samples.append(dict(img_path=str(post),
                                seg_map_path=str(ref) if ref.is_file() else None,
                                sources=sources, mask_kind='raster', mask_map={0: 0, 255: 1},
                                empty_mask=False, site=site))
        return samples
