"""Clean-up of the polygon inventory for a map product: minimum landslide area, hole filling.

A thresholded probability map leaves specks of one to a few pixels (mostly false landslides on
the synthetic demo) and pinholes inside landslides; a mapper removes both before handing an
inventory on. Areas are given in map units² (m² in a projected CRS) or as ``'<n>px'`` (``n``
pixels of the raster), and applied to whole landslides, in pixel coordinates (exact), after
the merge across block edges.
"""
from typing import List, Tuple, Union

import numpy as np
import shapely
from affine import Affine

from lszoo.errors import ConfigError

Area = Union[float, int, str]


def parse_area(value: Area, name: str = 'area') -> Tuple[float, bool]:
    """``(amount, in_pixels)`` of an area option: a number (map units²) or ``'<n>px'``."""
    text = str(value).strip().lower()
    in_pixels = text.endswith('px')
    try:
        amount = float(text[:-2] if in_pixels else text)
    except ValueError:
        raise ConfigError(f'{name} must be an area in map units² (e.g. 500) or a pixel count '
                          f"such as '5px', got {value!r}") from None
    if not np.isfinite(amount) or amount < 0:
        raise ConfigError(f'{name} must be >= 0, got {value!r}')
    return amount, in_pixels


class PolygonCleanup:
    """Drop landslides below ``min_area`` and fill holes below ``fill_holes`` (pixel-space
    items ``(polygon, n_pixels, prob_sum)`` of :class:`~.polygons.PolygonCollector`)."""

    def __init__(self, transform: Affine, min_area: Area = 0.0, fill_holes: Area = 0.0):
        pixel = abs(transform.a * transform.e - transform.b * transform.d) or 1.0
        self.min_pixels = self._pixels(min_area, pixel, 'min_area')
        self.hole_pixels = self._pixels(fill_holes, pixel, 'fill_holes')

    @staticmethod
    def _pixels(value: Area, pixel: float, name: str) -> float:
        amount, in_pixels = parse_area(value, name)
        return amount if in_pixels else amount / pixel

    def __call__(self, items: List[tuple]) -> List[tuple]:
        if self.min_pixels > 0:
            items = [it for it in items if it[1] >= self.min_pixels]
        if self.hole_pixels > 0:
            items = [(self._fill(g), n, p) for g, n, p in items]
        return items

    def _fill(self, geom):
        """``geom`` without its holes smaller than ``hole_pixels`` (pixel units)."""
        parts = []
        for poly in shapely.get_parts(geom):
            keep = [r for r in poly.interiors
                    if shapely.area(shapely.Polygon(r)) >= self.hole_pixels]
            parts.append(shapely.Polygon(poly.exterior, keep) if len(keep) != len(
                poly.interiors) else poly)
        return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
