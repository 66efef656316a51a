"""Labels of a raster window from polygons (inventory training windows and tiles)."""
import numpy as np

IGNORE_INDEX = 255


def rasterize_window(geometries, transform, shape, ignore_buffer: float = 0.0) -> np.ndarray:
    """Label ``shape`` (h, w) of polygons in the window's CRS: 1 where a pixel centre is inside a
    polygon (``all_touched=False``), else 0; pixels within ``ignore_buffer`` map units of a
    polygon edge become 255."""
    from rasterio.features import rasterize
    label = np.zeros(shape, np.uint8)
    if not geometries:
        return label
    rasterize(geometries, out=label, transform=transform, default_value=1, all_touched=False)
    if ignore_buffer > 0:
        import shapely
        rings = shapely.buffer(shapely.boundary(np.asarray(geometries, dtype=object)),
                               ignore_buffer)
        rasterize(list(rings), out=label, transform=transform, default_value=IGNORE_INDEX,
                  all_touched=False)
    return label
