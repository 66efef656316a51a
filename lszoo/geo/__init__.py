"""Raster geometry and files, below models and datasets (numpy, rasterio, ``lszoo.utils`` only).

- :mod:`.bands`: the band plan (:func:`plan_bands`) and the one DEM-name rule;
- :mod:`.reader`: windows of an image raster plus a DEM warped onto its grid;
- :mod:`.grid`: the tile grid of a scene, blend weights, blocks;
- :mod:`.nodata`: the nodata fill of loaders and scene inference;
- :mod:`.rasterize`: labels of a window from polygons;
- :mod:`.cog`, :mod:`.stac`, :mod:`.quicklook`, :mod:`.display`: Cloud-Optimized GeoTIFFs, STAC
  Items, quicklook PNGs and the display stretch they share with the overlay hook.

Submodules import rasterio, OpenCV and pystac only where they need them; importing this package
imports none of them.
"""
from .bands import DEM_BAND_NAMES, BandPlan, is_dem_band, plan_bands  # noqa: F401
from .nodata import fill_nodata  # noqa: F401
