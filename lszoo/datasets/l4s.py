"""Landslide4Sense (L4S) dataset, read from its HDF5 files as distributed."""
import re
from pathlib import Path

from mmseg.registry import DATASETS

from lszoo.errors import DataError
from .base import LandslideBaseDataset, warn_orphan_masks

_S2 = ('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9', 'B10', 'B11', 'B12')


@DATASETS.register_module()
class L4SDataset(LandslideBaseDataset):
    """Landslide4Sense: 128x128 Sentinel-2 + ALOS PALSAR patches (IARAI competition 2022).

    Source: Zenodo https://doi.org/10.5281/zenodo.10463239 (full release with all labels) and
    https://github.com/iarai/Landslide4Sense-2022.

    Layout (both are detected automatically)::

        Zenodo:  TrainData/img/image_N.h5, TrainData/mask/mask_N.h5   (3799)
                 ValidData/img, ValidData/mask                        (245)
                 TestData/img,  TestData/mask                         (800)
        mirror:  images/{train,validation,test}/image_N.h5
                 annotations/{train,validation,test}/mask_N.h5

    A split without its mask folder (the first public release had TestData/ValidData without
    masks) loads for prediction: samples then carry no ``gt_seg_map``.

    Image h5: dataset ``img``, (128, 128, 14) float64, channels last, rescaled values
    (about 0-7; cirrus up to 50). Mask h5: dataset ``mask``, (128, 128), 0/1.

    ====  =======  ==========================  ======
    idx   name     content                     stream
    ====  =======  ==========================  ======
    0-11  B1..B12  Sentinel-2 B1-B12 (no B8A)  optical
    12    slope    ALOS PALSAR slope           topo
    13    DEM      ALOS PALSAR DEM             topo
    --    NDVI     (B8 - B4) / (B8 + B4)       optical
    ====  =======  ==========================  ======

    Classes: 0 background, 1 landslide (about 2 % of pixels). Licence: see the Zenodo record.

    Citation: O. Ghorbanzadeh et al., "The Outcome of the 2022 Landslide4Sense Competition:
    Advanced Landslide Detection From Multisource Satellite Imagery", IEEE JSTARS 2022;
    O. Ghorbanzadeh et al., "Landslide4Sense: Reference Benchmark Data and Deep Learning
    Models for Landslide Detection", IEEE TGRS 60, 2022.
    """

    NAME = 'l4s'
    URL = 'https://doi.org/10.5281/zenodo.10463239 (or github.com/iarai/Landslide4Sense-2022)'
    BANDS = _S2 + ('slope', 'DEM')
    DERIVED = {'NDVI': ('ndvi', 'B8', 'B4')}
    BAND_STREAMS = {**{b: 'optical' for b in _S2}, 'NDVI': 'optical', 'slope': 'topo',
                    'DEM': 'topo'}
    DEFAULT_BANDS = BANDS
    ZENODO = {'train': 'TrainData', 'val': 'ValidData', 'test': 'TestData'}
    MIRROR = {'train': 'train', 'val': 'validation', 'test': 'test'}

    def split_dirs(self):
        """(image folder, mask folder) of the split in whichever layout is present."""
        root = Path(self.data_root)
        zen = root / self.ZENODO[self.split]
        if zen.is_dir():
            return zen / 'img', zen / 'mask'
        mir = root / 'images' / self.MIRROR[self.split]
        if mir.is_dir():
            return mir, root / 'annotations' / self.MIRROR[self.split]
        raise DataError(
            f'L4SDataset: split {self.split!r} not found in {root}: expected '
            f'{zen}/img (Zenodo layout) or {mir} (mirror layout)')

    def list_samples(self):
        img_dir, mask_dir = self.split_dirs()
        if not img_dir.is_dir():
            raise DataError(f'L4SDataset: image folder {img_dir} does not exist')
        has_masks = mask_dir.is_dir()
        self.split_sources.append(f'folder {img_dir}')
        samples = []
        files = [p for p in img_dir.iterdir() if p.suffix == '.h5']
        pat = re.compile(r'image_(\d+)\.h5$')

        def key(p):
            m = pat.search(p.name)
            return (0, int(m.group(1))) if m else (1, p.name)

        if has_masks:
            warn_orphan_masks('L4SDataset', mask_dir,
                              [p.name for p in mask_dir.iterdir() if p.suffix == '.h5'],
                              [p.name.replace('image', 'mask', 1) for p in files])
        for p in sorted(files, key=key):
            seg = None
            if has_masks:
                seg = mask_dir / p.name.replace('image', 'mask', 1)
                if not seg.is_file():
                    raise DataError(f'{p}: no mask {seg} (the mask folder {mask_dir} exists, '
                                    'so every image needs its mask)')
                seg = str(seg)
            samples.append(dict(
                img_path=str(p), seg_map_path=seg,
                sources=[dict(path=str(p), kind='h5', key='img', bands=14, role='image')],
                mask_kind='h5', mask_key='mask', mask_map={0: 0, 1: 1}, empty_mask=False))
        return samples
