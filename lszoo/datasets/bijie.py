"""Bijie landslide dataset, read from its PNG folders as distributed."""
from pathlib import Path
from typing import Optional

from mmseg.registry import DATASETS

from lszoo.errors import DataError
from .base import LandslideBaseDataset, check_split_files, seeded_split, warn_orphan_masks


@DATASETS.register_module()
class BijieDataset(LandslideBaseDataset):
    """Bijie landslide dataset (Bijie City, Guizhou, China; TripleSat optical + DEM).

    Source: http://gpcv.whu.edu.cn/data/Bijie_pages.html (Wuhan University).

    Layout (same file stem across folders)::

        landslide/image/*.png     RGB uint8, varying size (about 0.8 m)      770
        landslide/dem/*.png       single-band DEM
        landslide/mask/*.png      0 background / 255 landslide
        landslide/polygon_coordinate/*.txt   (not used)
        non-landslide/image/*.png                                           2003
        non-landslide/dem/*.png   (no masks: every pixel is background)

    ====  ====  =========  =======
    idx   name  content    stream
    ====  ====  =========  =======
    0-2   R,G,B optical    optical
    3     DEM   elevation  topo
    ====  ====  =========  =======

    Classes: mask 0 -> 0 background, 255 -> 1 landslide. No official split: the split files
    ``<split_dir>/bijie_{train,val,test}_seed42.txt`` are written on first use, 70/20/10 per
    class (landslide, then non-landslide) with one seed-42 generator as DiGATe-UNet did
    (1941/554/278 images); later runs read them. ``split='all'`` lists every image.
    Licence: not stated by the authors (research use).

    Citation: S. Ji, D. Yu, C. Shen, W. Li, Q. Xu, "Landslide detection from an open
    satellite imagery and digital elevation model dataset using attention boosted
    convolutional neural networks", Landslides 17, 1337-1352 (2020).

    Args:
        class_dirs (dict): folder of each class below ``data_root``; a value of ``None``
            drops that class (e.g. ``dict(landslide='.', non_landslide=None)`` for a folder
            that holds ``image/`` and ``mask/`` directly).
    """

    NAME = 'bijie'
    URL = 'http://gpcv.whu.edu.cn/data/Bijie_pages.html'
    BANDS = ('R', 'G', 'B', 'DEM')
    BAND_STREAMS = {'R': 'optical', 'G': 'optical', 'B': 'optical', 'DEM': 'topo'}
    DEFAULT_BANDS = BANDS
    SPLITS = ('train', 'val', 'test', 'all')
    FRACTIONS = (0.7, 0.2, 0.1)

    def __init__(self, *args, class_dirs: Optional[dict] = None, **kwargs):
        self.class_dirs = dict(landslide='landslide', non_landslide='non-landslide')
        if class_dirs is not None:
            self.class_dirs.update(class_dirs)
        super().__init__(*args, **kwargs)

    def _class_images(self):
        root = Path(self.data_root)
        out = {}
        for cls, sub in self.class_dirs.items():
            if sub is None:
                continue
            img_dir = root / sub / 'image'
            if not img_dir.is_dir():
                raise DataError(f'BijieDataset: folder {img_dir} does not exist (expected '
                                f'{root}/{sub}/image/*.png)')
            out[cls] = sorted(p.stem for p in img_dir.glob('*.png'))
            mask_dir = root / sub / 'mask'
            if mask_dir.is_dir():
                warn_orphan_masks('BijieDataset', mask_dir,
                                  [p.stem for p in mask_dir.glob('*.png')], out[cls])
        return out

    def list_samples(self):
        root = Path(self.data_root)
        per_class = self._class_images()
        keys = {cls: [f'{cls}/{s}' for s in stems] for cls, stems in per_class.items()}
        if self.split == 'all':
            entries = [e for v in keys.values() for e in v]
        else:
            path = self.split_file(self.split)
            if not path.is_file():
                self.write_seeded_splits(('train', 'val', 'test'), lambda: seeded_split(
                    list(keys.values()), self.FRACTIONS, self.split_seed))
            check_split_files(
                'BijieDataset', [self.split_file(n) for n in ('train', 'val', 'test')],
                [e for v in keys.values() for e in v], self.rewrite_hint(),
                compare=lambda e: self.class_dirs.get(e.partition('/')[0]) is not None)
            entries = self.read_split(path)
        need_dem = self._needs('DEM')
        samples = []
        for entry in entries:
            cls, _, stem = entry.partition('/')
            if cls not in self.class_dirs or self.class_dirs[cls] is None:
                continue
            base = root / self.class_dirs[cls]
            img = base / 'image' / f'{stem}.png'
            if not img.is_file():
                raise DataError(f'BijieDataset: split file entry {entry!r} points to missing '
                                f'image {img}; {self.rewrite_hint()}')
            sources = [dict(path=str(img), kind='raster', bands=3, role='image', dtype='uint8',
                            format='Bijie images are 8-bit RGB PNG')]
            if need_dem:
                dem = base / 'dem' / f'{stem}.png'
                if not dem.is_file():
                    raise DataError(f'{img}: no DEM {dem}, but the config asks for the DEM '
                                    'band (drop "DEM" from `bands` to use RGB only)')
                sources.append(dict(path=str(dem), kind='raster', bands=1, role='dem'))
            seg = None
            if cls == 'landslide':
                seg = base / 'mask' / f'{stem}.png'
                if not seg.is_file():
                    raise DataError(f'{img}: landslide image without its mask {seg}')
                seg = str(seg)
            samples.append(dict(img_path=str(img), seg_map_path=seg, sources=sources,
                                mask_kind='raster', mask_map={0: 0, 255: 1},
                                empty_mask=cls != 'landslide', bijie_class=cls))
        return samples
