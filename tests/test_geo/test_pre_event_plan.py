"""The pre-event image of a change model: band plan, checks, and its warp onto the post grid."""
from contextlib import ExitStack
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, reproject

from helpers import SCENE_CRS, SCENE_TRANSFORM, write_change_pair, write_scene
from lszoo.errors import ConfigError, DataError
from lszoo.geo.pre_event import (check_pre_given, check_same_bands, plan_pair_bands, pre_channels,
                                 pre_then_post_order)
from lszoo.geo.reader import SceneReader

BANDS = ['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B']
LAYOUT = dict(post=[0, 1, 2], pre=[3, 4, 5])


def test_pre_channels_plan_and_stack_order():
    assert pre_channels(BANDS, LAYOUT) == [3, 4, 5]
    assert pre_channels(BANDS, None) == [3, 4, 5]  # by the pre_ prefix
    assert pre_channels(['R', 'G', 'B', 'DEM'], dict(optical=[0, 1, 2])) == []
    assert pre_channels(['a', 'b', 'c', 'd'], dict(post=['a', 'b'], pre=['c', 'd'])) == [2, 3]
    plan = plan_pair_bands(BANDS + ['DEM'], dict(LAYOUT, topo=[6]), 3, None,
                           ('R', 'G', 'B'), ('R', 'G', 'B'), dem='dem.tif', in_channels=7)
    assert plan.sources == [('img', 1), ('img', 2), ('img', 3), ('pre', 1), ('pre', 2),
                            ('pre', 3), ('dem', 1)]
    # bands found by name in either image: a B, G, R file gives band 3 for R
    plan = plan_pair_bands(BANDS, LAYOUT, 3, None, ('B', 'G', 'R'), ('B', 'G', 'R'))
    assert plan.sources == [('img', 3), ('img', 2), ('img', 1), ('pre', 3), ('pre', 2),
                            ('pre', 1)]
    with pytest.raises(DataError, match=r"post\.tif lacks band\(s\) \['B'\]"):
        plan_pair_bands(BANDS, LAYOUT, 3, ('R', 'G', 'X'), source='post.tif')
    ds = lambda count, desc: SimpleNamespace(count=count, descriptions=desc)  # noqa: E731
    check_same_bands(ds(3, ('R', 'G', 'B')), 'post.tif', ds(3, (None, None, None)), 'pre.tif')
    with pytest.raises(DataError, match=r"pre\.tif has bands \['R', 'G', 'X'\], the post-event "
                                        r"image post\.tif has \['R', 'G', 'B'\]"):
        check_same_bands(ds(3, ('R', 'G', 'B')), 'post.tif', ds(3, ('R', 'G', 'X')), 'pre.tif')
    with pytest.raises(DataError, match=r'pre\.tif has 4 band\(s\), the post-event image '
                                        r'post\.tif has 3'):
        check_same_bands(ds(3, ('R', 'G', 'B')), 'post.tif', ds(4, ('R', 'G', 'B', 'N')),
                         'pre.tif')
    with pytest.raises(ConfigError, match='in_channels=5'):
        plan_pair_bands(BANDS, LAYOUT, 3, in_channels=5)
    assert pre_then_post_order(BANDS, LAYOUT) == [3, 4, 5, 0, 1, 2]
    assert pre_then_post_order(['R', 'G', 'B'], dict(post=[0, 1, 2])) is None


def test_config_and_pre_must_agree():
    with pytest.raises(ConfigError, match=r"config c\.py is a bi-temporal .*\['pre_R', "
                                          r"'pre_G', 'pre_B'\].*--pre"):
        check_pre_given(BANDS, LAYOUT, None, 'config c.py')
    with pytest.raises(ConfigError, match=r'--pre .* p\.tif given, but config s\.py is a '
                                          'single-date model'):
        check_pre_given(['R', 'G', 'B'], dict(optical=[0, 1, 2]), 'p.tif', 'config s.py')
    assert check_pre_given(BANDS, LAYOUT, 'p.tif') is True
    assert check_pre_given(['R'], None, None) is False


def test_pre_in_another_crs_is_gdalwarp_of_it_in_every_window(tmp_path):
    """Warped per window, the pre image equals rasterio's reproject (gdalwarp -r bilinear) of the
    whole image onto the post grid, whatever the window: GDAL's kernel scale is fixed."""
    pair = write_change_pair(tmp_path, h=160, w=224)
    with rasterio.open(pair['pre']) as pre:
        assert pre.crs.to_epsg() == 4326
        ref = np.zeros((3, 160, 224), np.float32)
        reproject(pre.read(), ref, src_transform=pre.transform, src_crs=pre.crs,
                  dst_transform=SCENE_TRANSFORM, dst_crs=SCENE_CRS,
                  resampling=Resampling.bilinear)
    with rasterio.open(pair['aligned']) as aligned:
        np.testing.assert_array_equal(aligned.read(), ref)
    with ExitStack() as stack:
        reader = SceneReader(stack, pair['post'], None, BANDS, 6, None, pre_path=pair['pre'],
                             stream_layout=LAYOUT)
        assert reader.valid(0, 160, 0, 224) is None or reader.valid(0, 160, 0, 224).all()
        for y0, y1, x0, x1 in ((0, 160, 0, 224), (17, 80, 33, 190), (100, 160, 200, 224)):
            got = reader.read(y0, y1, x0, x1)
            np.testing.assert_array_equal(got[3:], ref[:, y0:y1, x0:x1])
            with rasterio.open(pair['post']) as post:
                np.testing.assert_array_equal(got[:3], post.read(window=((y0, y1), (x0, x1))))
    # with a DEM on the post grid as a third source (a bi-temporal DiGATe-UNet's input)
    dem, dem_data = write_scene(tmp_path / 'dem.tif', 160, 224, bands=1)
    with ExitStack() as stack:
        reader = SceneReader(stack, pair['post'], dem, BANDS + ['DEM'], 7, None,
                             pre_path=pair['pre'], stream_layout=dict(LAYOUT, topo=[6]))
        got = reader.read(17, 80, 33, 190)
    np.testing.assert_array_equal(got[3:6], ref[:, 17:80, 33:190])
    np.testing.assert_array_equal(got[6], dem_data[0, 17:80, 33:190])
