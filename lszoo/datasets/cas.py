"""CAS Landslide dataset, read from its unzipped sub-dataset folders as distributed."""
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from mmseg.registry import DATASETS

from lszoo.errors import ConfigError, DataError
from .base import LandslideBaseDataset, check_split_files, seeded_split, warn_orphan_masks

TIF_SUFFIXES = ('.tif', '.tiff', '.TIF', '.TIFF')


@DATASETS.register_module()
class CASLandslideDataset(LandslideBaseDataset):
    """CAS Landslide dataset: 20,865 UAV and satellite tiles from nine regions.

    Source: Zenodo https://doi.org/10.5281/zenodo.10294997 (16 zip files, one per
    sub-dataset). Licence: CC BY-NC 4.0.

    Layout: unzip every archive into ``data_root``. Each sub-dataset holds ``img/*.tif``
    (512x512 RGB uint8, not georeferenced), ``mask/*.tif`` (0 background, 1 landslide) and
    ``label/*.tif`` (a colour rendering, ignored). Names like ``Hokkaido0001.tif`` or
    ``Luding_1m_UAV014.tiff`` (``.tif`` and ``.tiff`` both occur). Any folder below
    ``data_root`` (up to three levels deep, so ``<zip name>/img`` and
    ``<zip name>/<zip name>/img`` both work) that contains ``img/`` is a sub-dataset, named by
    its first folder below ``data_root``. A sub-dataset without ``mask/`` loads for prediction.

    ====  =====  =======  =======
    idx   name   content  stream
    ====  =====  =======  =======
    0-2   R,G,B  optical  optical
    ====  =====  =======  =======

    No official split: the paper used a random 7:3 split per sub-dataset. Split files
    ``<split_dir>/cas_<subdataset>_{train,val}_seed42.txt`` are written on first use and read
    afterwards; ``subdatasets`` selects which sub-datasets to use (default all found);
    ``split='all'`` lists every tile. Tiles must be 8-bit RGB: a 16-bit or 4-band tile is an
    error naming the file, unless its 4th band is marked as alpha (then it is dropped, said once).

    Citation: Y. Xu, C. Ouyang, Q. Xu, D. Wang, B. Zhao, Y. Luo, "CAS Landslide Dataset: A
    Large-Scale and Multisensor Dataset for Deep Learning-Based Landslide Detection",
    Scientific Data 11, 12 (2024).

    Args:
        subdatasets (sequence of str, optional): sub-dataset names to use.
        img_dir / mask_dir (str): folder names inside a sub-dataset (``'.'`` for tiles lying
            directly in it).
    """

    NAME = 'cas'
    URL = 'https://doi.org/10.5281/zenodo.10294997'
    BANDS = ('R', 'G', 'B')
    BAND_STREAMS = {'R': 'optical', 'G': 'optical', 'B': 'optical'}
    DEFAULT_BANDS = BANDS
    SPLITS = ('train', 'val', 'all')
    FRACTIONS = (0.7, 0.3)

    def __init__(self, *args, subdatasets: Optional[Sequence[str]] = None,
                 img_dir: str = 'img', mask_dir: str = 'mask', **kwargs):
        self.subdatasets = None if subdatasets is None else list(subdatasets)
        self.img_dir, self.mask_dir = img_dir, mask_dir
        super().__init__(*args, **kwargs)

    def find_subdatasets(self) -> Dict[str, List[Path]]:
        """Sub-dataset name -> folders holding its ``img_dir`` (sorted, deterministic)."""
        root = Path(self.data_root)
        found: Dict[str, List[Path]] = {}
        for dirpath, dirnames, _ in os.walk(root):
            d = Path(dirpath)
            depth = len(d.relative_to(root).parts)
            dirnames[:] = sorted(n for n in dirnames if n not in ('splits', 'label'))
            if depth >= 3:
                dirnames[:] = []
            img = d / self.img_dir
            if img.is_dir() and any(p.suffix in TIF_SUFFIXES for p in img.iterdir()):
                rel = d.relative_to(root).parts
                name = rel[0] if rel else root.name
                found.setdefault(name, []).append(d)
                if self.img_dir != '.':
                    dirnames[:] = []
        return found

    def list_samples(self):
        found = self.find_subdatasets()
        if not found:
            raise DataError(f'CASLandslideDataset: no sub-dataset under {self.data_root} '
                            f'(expected <subdataset>/{self.img_dir}/*.tif from the unzipped '
                            'Zenodo archives)')
        names = sorted(found)
        if self.subdatasets is not None:
            unknown = [s for s in self.subdatasets if s not in found]
            if unknown:
                raise ConfigError(f'CASLandslideDataset: sub-datasets {unknown} not found '
                                  f'under {self.data_root}; available: {names}')
            names = list(self.subdatasets)
        samples = []
        for name in names:
            tiles = {}
            for d in found[name]:
                stems = []
                for p in sorted((d / self.img_dir).iterdir()):
                    if p.suffix in TIF_SUFFIXES:
                        tiles[p.relative_to(self.data_root).as_posix()] = (p, d)
                        stems.append(p.stem)
                mask_dir = d / self.mask_dir
                if mask_dir.is_dir() and self.mask_dir != self.img_dir:
                    warn_orphan_masks('CASLandslideDataset', mask_dir,
                                      [p.stem for p in mask_dir.iterdir()
                                       if p.suffix in TIF_SUFFIXES], stems)
            if self.split == 'all':
                entries = sorted(tiles)
            else:
                path = self.split_file(self.split, name)
                if not path.is_file():
                    self.write_seeded_splits(('train', 'val'), lambda: seeded_split(
                        [list(tiles)], self.FRACTIONS, self.split_seed), name)
                check_split_files(f'CASLandslideDataset ({name})',
                                  [self.split_file(n, name) for n in ('train', 'val')],
                                  list(tiles), self.rewrite_hint())
                entries = self.read_split(path)
            for entry in entries:
                if entry not in tiles:
                    raise DataError(f'{self.split_file(self.split, name)}: entry {entry!r} '
                                    f'has no image file under {self.data_root}; '
                                    f'{self.rewrite_hint()}')
                p, d = tiles[entry]
                samples.append(self._sample(p, d, name))
        return samples

    def _sample(self, img: Path, sub: Path, name: str) -> dict:
        mask_dir = sub / self.mask_dir
        seg = None
        if mask_dir.is_dir() and self.mask_dir != self.img_dir:
            cands = [mask_dir / (img.stem + s) for s in TIF_SUFFIXES]
            hits = [c for c in cands if c.is_file()]
            if not hits:
                raise DataError(f'{img}: no mask {mask_dir}/{img.stem}.tif[f] (the mask '
                                'folder exists, so every tile needs its mask)')
            seg = str(hits[0])
        return dict(img_path=str(img), seg_map_path=seg, subdataset=name,
                    sources=[dict(path=str(img), kind='raster', bands=3, role='image',
                                  dtype='uint8', format='CAS tiles are 8-bit RGB')],
                    mask_kind='raster', mask_map={0: 0, 1: 1}, empty_mask=False)
