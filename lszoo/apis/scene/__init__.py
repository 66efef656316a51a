"""Whole-scene inference as small parts, each readable alone.

- :mod:`.options`: the validated settings (:class:`SceneOptions`);
- :mod:`lszoo.geo.grid`: tile origins, blend weights, the block grid (numpy only);
- :mod:`lszoo.geo.reader`: band plan, DEM warp, valid-data mask, nodata fill;
- :mod:`.predictor`: model building, the config's normalisation, ``model.test_step``;
- :mod:`.blend`: the block accumulator;
- :mod:`.writer` and :mod:`.polygons`: atomic mask / probability / inventory outputs;
- :mod:`.extras`: the quicklook and STAC Item written after the rasters;
- :mod:`.mapper`: :func:`map_scene`, the loop over blocks.
"""
from .mapper import SceneResult, map_scene  # noqa: F401
from .options import SceneOptions  # noqa: F401
from .predictor import init_scene_model  # noqa: F401
from .writer import SceneWriter, atomic_outputs  # noqa: F401
