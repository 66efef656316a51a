"""The quicklook map figure (lszoo.geo.quicklook, lszoo.geo.map_figure) and the mask's colour
table and band description."""
import cv2
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from lszoo.geo.map_figure import (MARGINS, NODATA_RGB, OUTLINE_RGB, figure_layout,
                                  format_length, nice_step, scale_bar_length, tick_positions)
from lszoo.geo.mask_style import MASK_COLORS, MASK_DESCRIPTION
from lszoo.geo.quicklook import mask_cells, outline_cells, write_quicklook


def test_nice_numbers():
    assert nice_step(3000) == 1000 and nice_step(7000) == 2000 and nice_step(0.9) == 0.2
    assert tick_positions(500000, 503000).tolist() == [501000, 502000]  # ends left out
    assert tick_positions(12.3, 98.1).tolist() == [20, 40, 60, 80]
    assert scale_bar_length(3000) == 500 and scale_bar_length(30000) == 5000
    assert scale_bar_length(41.0) == 10 and scale_bar_length(0.9, 0.5) == 0.2
    assert format_length(500) == '500 m' and format_length(2000) == '2 km'
    assert format_length(50, 'px') == '50 px'


def test_layout_fits_and_keeps_the_aspect():
    ph, pw, fh, fw = figure_layout(3000, 1500, 800)
    assert max(fh, fw) <= 800 and abs(ph / pw - 2.0) < 0.01
    assert fh == ph + MARGINS['top'] + MARGINS['bottom']
    with pytest.raises(ValueError, match='no room'):
        figure_layout(100, 100, 200)


def test_mask_cells_counts_any_landslide_and_most_nodata():
    class DS:  # the read interface of a rasterio dataset, on an array
        def __init__(self, a):
            self.a, self.height, self.width = a, *a.shape

        def read(self, band, window):
            r, c = window.row_off, window.col_off
            return self.a[r:r + window.height, c:c + window.width]
    a = np.zeros((103, 97), np.uint8)
    a[50, 60] = 1
    a[:30, :40] = 255
    land, nodata, n_land, n_valid = mask_cells(DS(a), (10, 10), budget=2000)  # several strips
    assert land.sum() == 1 and land[int(50 * 10 / 103), int(60 * 10 / 97)]
    assert nodata[:2, :4].all() and not nodata[4:].any()
    assert n_land == 1 and n_valid == a.size - 30 * 40


def test_outline_of_one_cell_is_a_visible_square():
    land = np.zeros((20, 20), bool)
    land[10, 10] = True
    assert outline_cells(land, 2).sum() == 9 and outline_cells(land, 3).sum() == 25


def _write(path, data, nodata=None, crs='EPSG:32633'):
    profile = dict(driver='GTiff', width=data.shape[-1], height=data.shape[-2],
                   count=data.shape[0], dtype=data.dtype.name, crs=crs, nodata=nodata,
                   transform=from_origin(500000.0, 4200000.0, 10.0, 10.0), tiled=True,
                   compress='deflate')
    with rasterio.open(path, 'w', **profile) as ds:
        ds.write(data)
    return str(path)


def test_one_pixel_landslide_stays_visible_in_a_large_scene(tmp_path):
    n = 3000
    img = np.full((3, n, n), 90, np.uint8)
    img[0, :, : n // 2] = 160
    scene = _write(tmp_path / 's.tif', img)
    mask = np.zeros((1, n, n), np.uint8)
    mask[0, 1234, 2345] = 1
    mask[0, :500, :600] = 255
    mpath = _write(tmp_path / 'm.tif', mask, nodata=255)
    out = write_quicklook(scene, mpath, str(tmp_path / 'q.png'), max_size=600)
    png = cv2.imread(out)[..., ::-1]
    ph, pw, fh, fw = figure_layout(n, n, 600)
    assert png.shape == (fh, fw, 3)
    top, left = MARGINS['top'], MARGINS['left']
    panel = png[top:top + ph, left:left + pw]
    yellow = np.argwhere((panel == OUTLINE_RGB).all(-1))
    assert len(yellow) >= 9  # at least the 3 x 3 square
    y, x = yellow.mean(0)
    assert abs(y - 1234 * ph / n) < 3 and abs(x - 2345 * pw / n) < 3
    grey = (panel == NODATA_RGB).all(-1)  # nodata in grey, where the mask has it
    assert grey[: int(450 * ph / n), : int(550 * pw / n)].mean() > 0.9
    assert not grey[int(550 * ph / n):].any()
    # without the landslide no panel pixel is outline-coloured
    mask[0, 1234, 2345] = 0
    mpath = _write(tmp_path / 'm0.tif', mask, nodata=255)
    png0 = cv2.imread(write_quicklook(scene, mpath, str(tmp_path / 'q0.png'), 600))[..., ::-1]
    assert not (png0[top:top + ph, left:left + pw] == OUTLINE_RGB).all(-1).any()


def test_figure_draws_title_legend_scale_bar_ticks_and_north_arrow(tmp_path, monkeypatch):
    import lszoo.geo.map_figure as mf
    texts = []
    real = mf.render_map

    def spy(*args, **kw):
        from matplotlib.figure import Figure
        draw = Figure.draw

        def recording(fig, renderer):
            draw(fig, renderer)
            texts.extend(t.get_text() for t in fig.findobj(
                lambda o: hasattr(o, 'get_text') and o.get_visible()))
        monkeypatch.setattr(Figure, 'draw', recording)
        return real(*args, **kw)
    monkeypatch.setattr('lszoo.geo.quicklook.render_map', spy)
    scene = _write(tmp_path / 's.tif', np.full((3, 300, 300), 50, np.uint8))
    mpath = _write(tmp_path / 'm.tif', np.zeros((1, 300, 300), np.uint8), nodata=255)
    write_quicklook(scene, mpath, str(tmp_path / 'q.png'), title='Scene B')
    for expected in ('Scene B', 'landslide (outline)', 'nodata', '500 m', 'N', '501000',
                     '4199000', 'easting (m)', 'northing (m)'):
        assert expected in texts, expected


def test_mask_has_a_colour_table_and_description(tmp_path):
    from helpers import save_checkpoint, tiny_scene_config, write_scene

    from lszoo.apis.scene import map_scene
    cfg = tiny_scene_config()
    ckpt = save_checkpoint(cfg, tmp_path / 'm.pth')
    scene, _ = write_scene(tmp_path / 's.tif', 96, 96, nodata=-9999.0)
    for cog in (True, False):
        res = map_scene(cfg, scene, str(tmp_path / f'm{cog}.tif'), ckpt,
                        prob=str(tmp_path / f'p{cog}.tif'), tile=64, overlap=16, window=256,
                        progress=False, stac=False, cog=cog)
        with rasterio.open(res.output) as ds, rasterio.open(res.prob) as p:
            cmap = ds.colormap(1)
            assert ds.colorinterp[0] == rasterio.enums.ColorInterp.palette
            assert ds.descriptions == (MASK_DESCRIPTION, ) and ds.nodata == 255
            assert p.descriptions == ('landslide probability', )
        for value in (0, 1, 255):
            assert cmap[value] == MASK_COLORS[value]
