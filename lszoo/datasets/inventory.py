"""Your own scenes and landslide inventory as a dataset of windows read on the fly."""
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from lszoo.errors import ConfigError, DataError
from lszoo.geo.bands import is_dem_band, plan_bands
from lszoo.geo.pre_event import check_pre_given, plan_pair_bands
from lszoo.geo.grid import tile_origins
from .base import resolve_stream_layout
from .inventory_pre import (check_pre_images, default_pair_bands, pair_band_streams,
                            resolve_pre_paths)
from .inventory_scenes import apply_affine, find_scenes, scene_header, under_root
from .inventory_vector import InventoryWarning, read_inventory, reproject_geoms
from .spatial_split import SPLITS, spatial_blocks


def _rounded(values, digits: int = 1) -> tuple:
    """Numbers for a message: plain floats (a tuple of NumPy scalars prints as
    ``(np.float64(...), ...)``)."""
    return tuple(round(float(v), digits) for v in values)


@DATASETS.register_module()
class InventoryDataset(BaseSegDataset):
    """Landslide windows cut on the fly from your GeoTIFF scenes and polygon inventory.

    Nothing is exported: each sample is a rasterio window read of a scene (and of the DEM,
    warped to the scene grid on the fly as in scene inference), with its label rasterised from
    the inventory polygons (``all_touched=False``: a pixel is landslide when its centre is
    inside a polygon). Feed it to :class:`~lszoo.datasets.transforms.LoadInventoryWindow`.

    Splits are honest by default: ``split_mode='blocks'`` assigns square blocks of
    ``block_size`` map units to train/val/test (seeded, stratified by landslide presence) and
    keeps them in a GeoJSON ``split_file`` (reviewable in QGIS, re-read when it exists), so no
    window crosses from one split into another. ``split_mode='scenes'`` takes whole scenes from
    ``scene_splits``. ``split='all'`` covers every scene (export, mapping).

    Windows: ``train`` draws ``num_windows`` random windows per epoch from its blocks,
    a share ``positive_fraction`` of them centred (with jitter) on an inventory polygon;
    ``val``/``test``/``all`` use a fixed grid of windows (stride ``test_stride``, default no
    overlap; windows at block edges are shifted back inside, smaller pieces are smaller windows).

    Args:
        scenes: GeoTIFF path(s), a folder or a glob; same band count, one CRS for blocks.
        inventory: vector file of landslide polygons, any CRS (reprojected to each scene).
        dem: optional elevation raster, any grid and CRS; band name ``'DEM'`` selects it.
        pre: pre-event image of each scene for a change model, any grid and CRS, same bands
            as the scene: one path, a template with ``{name}`` (scene file stem), a list in
            the scenes' order or a dict scene -> path (:mod:`.inventory_pre`); bands ``pre_*``
            (or the ``pre`` stream of ``stream_layout``) read it. Default bands with it: the
            scene's, then ``pre_`` + each; streams ``post``, ``pre`` (and ``topo``).
        data_root: folder that relative ``scenes``, ``inventory`` and ``dem`` paths are in.
        split: ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        split_mode: ``'blocks'`` or ``'scenes'``.
        block_size: block edge in map units of the scenes (blocks mode; required).
        split_fractions: (train, val, test) shares of the blocks.
        split_seed: seed of the block assignment.
        split_file: GeoJSON of blocks; default ``<inventory stem>_blocks<size>_seed<seed>
            .geojson`` beside the inventory.
        scene_splits: scenes mode: ``{'train': [paths or file stems], 'val': [...], ...}``.
        bands: band names (the scenes' band descriptions, or ``band1``.. when they have none)
            or 0-based indices, plus ``'DEM'`` for the DEM raster. Default: all bands (+ DEM).
        scene_band_names: names of the scenes' bands, overriding their descriptions.
        stream_layout: stream -> channels (default: optical bands, then ``topo`` = DEM).
        window_size: window edge in pixels.
        num_windows: random training windows per epoch.
        positive_fraction: share of training windows centred on a landslide.
        test_stride: stride of the val/test grid in pixels (default ``window_size``).
        attribute_filter: OGR SQL string or ``{column: value(s)}`` selecting inventory features.
        ignore_buffer: width (map units) of a band around each polygon edge labelled 255
            (ignored): hand-drawn outlines are uncertain there. 0 disables it.
        sampling: ``'random'`` (default for train) or ``'grid'`` (default otherwise; the
            tile exporter uses it for train too).
    """

    METAINFO = dict(classes=('background', 'landslide'), palette=[[0, 0, 0], [255, 0, 0]])
    NAME = 'inventory'

    def __init__(self, scenes, inventory: str, dem: Optional[str] = None, pre=None,
                 data_root: Optional[str] = None, split: str = 'train',
                 split_mode: str = 'blocks', block_size: Optional[float] = None,
                 split_fractions: Sequence[float] = (0.7, 0.15, 0.15), split_seed: int = 42,
                 split_file: Optional[str] = None, scene_splits: Optional[Dict] = None,
                 bands: Optional[Sequence[Union[int, str]]] = None,
                 scene_band_names: Optional[Sequence[str]] = None,
                 stream_layout: Optional[Dict] = None, window_size: int = 256,
                 num_windows: int = 1000, positive_fraction: float = 0.5,
                 test_stride: Optional[int] = None, attribute_filter=None,
                 ignore_buffer: float = 0.0, sampling: Optional[str] = None,
                 pipeline: Sequence = (), **kwargs):
        if split not in SPLITS + ('all',):
            raise ConfigError(f'InventoryDataset: unknown split {split!r}; expected one of '
                              f'{SPLITS + ("all",)}')
        if split_mode not in ('blocks', 'scenes'):
            raise ConfigError(f"InventoryDataset: split_mode must be 'blocks' or 'scenes' "
                              f'(random per-window splits leak), got {split_mode!r}')
        if not 0 <= positive_fraction <= 1:
            raise ConfigError(f'InventoryDataset: positive_fraction must be in [0, 1], got '
                              f'{positive_fraction}')
        self.sampling = sampling or ('random' if split == 'train' else 'grid')
        if self.sampling not in ('random', 'grid'):
            raise ConfigError(f"InventoryDataset: sampling must be 'random' or 'grid', got "
                              f'{sampling!r}')
        if window_size < 8:
            raise ConfigError(f'InventoryDataset: window_size {window_size} is too small')
        if data_root is not None:
            if not Path(data_root).is_dir():
                raise DataError(
                    f'InventoryDataset: data_root {data_root!r} does not exist; point every '
                    'loader at your folder (docs/own_data.md): --cfg-options '
                    'train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR'
                    ' test_dataloader.dataset.data_root=DIR')
            scenes = [under_root(data_root, p) for p in
                      ([scenes] if isinstance(scenes, (str, Path)) else scenes)]
            inventory, dem = under_root(data_root, inventory), under_root(data_root, dem)
        self.split, self.split_mode = split, split_mode
        self.block_size, self.split_fractions = block_size, tuple(split_fractions)
        self.split_seed, self.scene_splits = int(split_seed), scene_splits
        self.inventory_path, self.dem_path = str(inventory), dem
        self.window_size, self.num_windows = int(window_size), int(num_windows)
        self.positive_fraction = float(positive_fraction)
        self.test_stride = int(test_stride or window_size)
        self.ignore_buffer = float(ignore_buffer)
        self.scenes = [scene_header(p) for p in find_scenes(scenes)]
        self._check_scenes()
        paths = [s['path'] for s in self.scenes]
        self.pre_paths = resolve_pre_paths(pre, paths, data_root)
        check_pre_images(paths, self.pre_paths)
        self.scene_band_names = self._scene_band_names(scene_band_names)
        self.band_names = self._resolve_bands(bands, stream_layout)
        streams = pair_band_streams(self.band_names, stream_layout) if pre is not None else {}
        streams.update({b: 'topo' for b in self.band_names if is_dem_band(b)})
        self.stream_layout = resolve_stream_layout(self.band_names, stream_layout, streams,
                                                   type(self).__name__)
        self._load_inventory(attribute_filter)
        if dem is not None:
            self._check_dem()
        self.split_file = split_file
        kwargs.setdefault('reduce_zero_label', False)
        super().__init__(data_root=None, pipeline=list(pipeline), **kwargs)

    # ------------------------------------------------------------------ checks
    def _check_scenes(self):
        counts = {s['count'] for s in self.scenes}
        if len(counts) > 1:
            listing = ', '.join(f'{Path(s["path"]).name}: {s["count"]}' for s in self.scenes)
            raise DataError(f'scenes have different band counts ({listing}); use scenes of '
                            'one sensor and band set per dataset')
        crss = OrderedDict((s['crs'].to_string(), s['path']) for s in self.scenes)
        if len(crss) > 1 and self.split_mode == 'blocks':
            listing = ', '.join(f'{p} ({c})' for c, p in crss.items())
            raise DataError(f'scenes have mixed CRSs: {listing}; spatial blocks need one CRS. '
                            "Reproject them to one (gdalwarp -t_srs) or use split_mode='scenes'")

    def _scene_band_names(self, names) -> List[str]:
        n = self.scenes[0]['count']
        if names is not None:
            if len(names) != n:
                raise ConfigError(f'scene_band_names has {len(names)} names for scenes with '
                                  f'{n} bands ({self.scenes[0]["path"]})')
            return list(names)
        desc = self.scenes[0]['descriptions']
        if all(desc) and len(set(desc)) == n and all(s['descriptions'] == desc
                                                     for s in self.scenes):
            return list(desc)
        return [f'band{i + 1}' for i in range(n)]

    def _resolve_bands(self, bands, stream_layout=None) -> List[str]:
        avail = self.scene_band_names
        names = None
        if bands is not None:
            names = []
            for b in ([bands] if isinstance(bands, (str, int)) else bands):
                if isinstance(b, int) and not isinstance(b, bool):
                    if not 0 <= b < len(avail):
                        raise ConfigError(f'InventoryDataset: band index {b} is out of range '
                                          f'for {self.scenes[0]["path"]} (bands {avail})')
                    b = avail[b]
                names.append(b)
        pre = self.pre_paths[0]
        if pre is None and names is None:
            return plan_bands(None, len(avail), avail, dem=self.dem_path,
                              source=self.scenes[0]['path']).band_names
        names = names if names is not None else default_pair_bands(avail) + (
            ['DEM'] if self.dem_path is not None else [])
        check_pre_given(names, stream_layout, pre, 'the InventoryDataset bands',
                        'pre= of InventoryDataset')
        if pre is None:
            return plan_bands(names, len(avail), avail, dem=self.dem_path,
                              source=self.scenes[0]['path']).band_names
        return plan_pair_bands(names, stream_layout, len(avail), avail, dem=self.dem_path,
                               source=self.scenes[0]['path'], pre_source=pre).band_names

    def _load_inventory(self, attribute_filter):
        import shapely
        geoms, crs = read_inventory(self.inventory_path, attribute_filter)
        by_crs, self.polygons, self.trees = {}, [], []
        overlaps = 0
        for s in self.scenes:
            key = s['crs'].to_string()
            if key not in by_crs:
                by_crs[key] = reproject_geoms(geoms, crs, s['crs'])
            g = by_crs[key]
            box = shapely.box(*s['bounds'])
            inside = g[shapely.intersects(g, box)]
            self.polygons.append(inside)
            self.trees.append(shapely.STRtree(inside))
            overlaps += bool(len(inside))
        if overlaps == 0:
            tb = shapely.total_bounds(by_crs[self.scenes[0]['crs'].to_string()])
            raise DataError(
                f'{self.inventory_path}: no polygon overlaps any scene (inventory bounds in '
                f'the CRS of {self.scenes[0]["path"]}: {_rounded(tb)}, scene bounds '
                f'{_rounded(self.scenes[0]["bounds"])}); wrong file or wrong CRS?')
        for s, inside in zip(self.scenes, self.polygons):
            if not len(inside):
                warnings.warn(f'{s["path"]}: no inventory polygon of {self.inventory_path} '
                              'falls in this scene; all its windows are background',
                              InventoryWarning, stacklevel=3)

    def _check_dem(self):
        import rasterio
        from rasterio.warp import transform_bounds
        try:
            with rasterio.open(self.dem_path) as dem:
                crs, bounds, count = dem.crs, tuple(dem.bounds), dem.count
        except rasterio.errors.RasterioIOError as exc:
            raise DataError(f'{self.dem_path}: unreadable DEM: {exc}') from None
        if crs is None:
            raise DataError(f'{self.dem_path}: the DEM has no CRS; it cannot be warped to the '
                            'scenes')
        if count != 1:
            raise DataError(f'{self.dem_path}: the DEM must have one band, it has {count}')
        for s in self.scenes:
            l, b, r, t = transform_bounds(crs, s['crs'], *bounds, densify_pts=21)
            sl, sb, sr, st = s['bounds']
            if l >= sr or r <= sl or b >= st or t <= sb:
                raise DataError(f'{self.dem_path}: the DEM does not cover scene {s["path"]} '
                                f'at all (DEM bounds in the scene CRS {_rounded((l, b, r, t))}, '
                                f'scene {_rounded(s["bounds"])})')
            if l > sl or r < sr or b > sb or t < st:
                warnings.warn(f'{self.dem_path}: the DEM covers only part of scene '
                              f'{s["path"]}; elsewhere its band is filled with the window '
                              'median', InventoryWarning, stacklevel=3)

    # ------------------------------------------------------------------ regions
    def _pixel_rect(self, s, bounds):
        """Map bounds -> (row0, col0, row1, col1) pixels of scene ``s``, rounded inwards."""
        inv = ~s['transform']
        c0, r0 = apply_affine(inv, bounds[0], bounds[3])
        c1, r1 = apply_affine(inv, bounds[2], bounds[1])
        r0, c0 = max(0, int(np.ceil(r0 - 1e-6))), max(0, int(np.ceil(c0 - 1e-6)))
        r1, c1 = min(s['height'], int(np.floor(r1 + 1e-6))), min(s['width'],
                                                                  int(np.floor(c1 + 1e-6)))
        return (r0, c0, r1, c1) if r1 > r0 and c1 > c0 else None

    def default_split_file(self) -> str:
        inv = Path(self.inventory_path)
        size = f'{self.block_size:g}'
        return str(inv.with_name(f'{inv.stem}_blocks{size}_seed{self.split_seed}.geojson'))

    def regions(self) -> List[tuple]:
        """``(scene index, row0, col0, row1, col1)`` pixel rectangles of this split."""
        if self.split == 'all':
            return [(i, 0, 0, s['height'], s['width']) for i, s in enumerate(self.scenes)]
        if self.split_mode == 'scenes':
            return self._scene_regions()
        if not self.block_size:
            raise ConfigError("InventoryDataset: split_mode='blocks' needs block_size (map "
                              'units of the scenes, e.g. 5000 for 5 km blocks in UTM)')
        import shapely
        self.split_file = self.split_file or self.default_split_file()
        crs = self.scenes[0]['crs'].to_wkt()

        def positive(bounds):
            box = shapely.box(*bounds)
            return any(len(t.query(box, predicate='intersects')) for t in self.trees)
        blocks = spatial_blocks(self.split_file, [s['bounds'] for s in self.scenes], crs,
                                self.block_size, self.split_fractions, self.split_seed,
                                positive)
        out = []
        for b in blocks:
            if b.split != self.split:
                continue
            for i, s in enumerate(self.scenes):
                rect = self._pixel_rect(s, b.bounds)
                if rect is not None:
                    out.append((i,) + rect)
        if not out:
            raise DataError(f'{self.split_file}: no block of split {self.split!r} covers a '
                            'scene; check the split file or block_size')
        return out

    def _scene_regions(self):
        if not isinstance(self.scene_splits, dict) or self.split not in self.scene_splits:
            raise ConfigError(f"InventoryDataset: split_mode='scenes' needs scene_splits with "
                              f"a {self.split!r} entry, e.g. dict(train=['a.tif'], "
                              "test=['b.tif']) (paths or file stems)")
        names = [str(n) for n in self.scene_splits[self.split]]
        out = []
        for n in names:
            hits = [i for i, s in enumerate(self.scenes)
                    if n in (s['path'], Path(s['path']).name, Path(s['path']).stem)]
            if not hits:
                raise ConfigError(f'scene_splits[{self.split!r}] names {n!r}, which is not '
                                  f'among the scenes {[s["path"] for s in self.scenes]}')
            out.extend((i, 0, 0, self.scenes[i]['height'], self.scenes[i]['width'])
                       for i in hits)
        return out

    # ------------------------------------------------------------------ data list
    def load_data_list(self) -> List[dict]:
        self._regions = self.regions()
        w = self.window_size
        if self.sampling == 'random':
            self._train_regions = [r for r in self._regions
                                   if r[3] - r[1] >= w and r[4] - r[2] >= w]
            if not self._train_regions:
                raise ConfigError(f'InventoryDataset: no {self.split} block piece is at least '
                                  f'{w} x {w} pixels; lower window_size or raise block_size')
            self._positives = self._positive_points()
            return [dict(sample_idx=i) for i in range(self.num_windows)]
        out = []
        for i, r0, c0, r1, c1 in self._regions:
            for y in tile_origins(r1 - r0, w, self.test_stride):
                for x in tile_origins(c1 - c0, w, self.test_stride):
                    win = (c0 + x, r0 + y, min(w, c1 - c0 - x), min(w, r1 - r0 - y))
                    out.append(dict(scene=i, window=tuple(int(v) for v in win)))
        return out

    def _positive_points(self):
        """``(region index, row, col)`` of polygon interior points inside training regions."""
        import shapely
        pts = []
        for k, (i, r0, c0, r1, c1) in enumerate(self._train_regions):
            inv = ~self.scenes[i]['transform']
            for p in shapely.point_on_surface(self.polygons[i]):
                col, row = apply_affine(inv, p.x, p.y)
                if r0 <= row < r1 and c0 <= col < c1:
                    pts.append((k, row, col))
        if not pts and self.positive_fraction > 0:
            warnings.warn(f'{self.inventory_path}: no landslide polygon lies in the training '
                          'blocks; training windows are drawn at random', InventoryWarning,
                          stacklevel=3)
        return pts

    def _draw_window(self):
        w = self.window_size
        if self._positives and np.random.rand() < self.positive_fraction:
            k, row, col = self._positives[np.random.randint(len(self._positives))]
            i, r0, c0, r1, c1 = self._train_regions[k]
            jy, jx = np.random.uniform(-w / 4, w / 4, 2)
            y = int(np.clip(round(row - w / 2 + jy), r0, r1 - w))
            x = int(np.clip(round(col - w / 2 + jx), c0, c1 - w))
        else:
            areas = np.array([(r[3] - r[1] - w + 1) * (r[4] - r[2] - w + 1)
                              for r in self._train_regions], np.float64)
            i, r0, c0, r1, c1 = self._train_regions[np.random.choice(len(areas),
                                                                     p=areas / areas.sum())]
            y, x = np.random.randint(r0, r1 - w + 1), np.random.randint(c0, c1 - w + 1)
        return i, (int(x), int(y), int(w), int(w))  # plain ints: messages, JSON

    def get_data_info(self, idx: int) -> dict:
        import shapely
        from rasterio.windows import Window, bounds as window_bounds
        info = super().get_data_info(idx)
        if self.sampling == 'random':
            info['scene'], info['window'] = self._draw_window()
        s = self.scenes[info['scene']]
        win = Window(*info['window'])
        box = shapely.box(*window_bounds(win, s['transform']))
        geoms = self.polygons[info['scene']][self.trees[info['scene']].query(
            box, predicate='intersects')]
        info.update(img_path=s['path'], seg_map_path=None, dem_path=self.dem_path,
                    pre_path=self.pre_paths[info['scene']],
                    geometries=list(geoms), ignore_buffer=self.ignore_buffer,
                    scene_band_names=list(self.scene_band_names),
                    band_names=list(self.band_names),
                    stream_layout=OrderedDict((k, list(v)) for k, v in
                                              self.stream_layout.items()),
                    reduce_zero_label=False, seg_fields=[], dataset_name=self.NAME)
        return info
