"""How the landslide mask GeoTIFF presents itself in a GIS: a colour table and a band description.

A uint8 mask with values 0, 1 and 255 opens in QGIS/ArcGIS as a grey ramp in which landslides
(1) are indistinguishable from background (0); a palette makes the file readable as is.
"""
#: mask value -> RGBA. A GeoTIFF colour table holds RGB only (GDAL reads alpha 255 back, and 0
#: for the band's nodata value), so transparency of the background is for the GIS to set.
MASK_COLORS = {
    0: (245, 245, 245, 255),  # background
    1: (230, 25, 75, 255),    # landslide
    255: (128, 128, 128, 0),  # nodata: grey, transparent (GDAL reads nodata back with alpha 0)
}
MASK_DESCRIPTION = 'landslide mask: 0 background, 1 landslide, 255 nodata'
PROBABILITY_DESCRIPTION = 'landslide probability'


def style_mask(ds, band: int = 1) -> None:
    """Write the colour table and band description of an open (writable) mask raster."""
    ds.write_colormap(band, MASK_COLORS)
    ds.set_band_description(band, MASK_DESCRIPTION)
