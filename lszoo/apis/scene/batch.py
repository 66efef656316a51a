"""Many scenes: expand a list / folder / glob of inputs, give each process whole scenes, skip
scenes whose outputs are complete, and sum up what happened.

Under ``torchrun`` each process loads the model once and maps its own share of the scenes
(largest files first, spread so that the shares are even) with :func:`~.mapper.map_scene` on
one process (``split_tiles=False``), so a scene's outputs are the same as from a single run.
Output paths are per scene: a folder (``<folder>/<name>.tif``) or a template with ``{name}``
(the input's file name without extension), as are ``prob``, ``polygons``, ``dem`` and ``pre``.
"""
import glob
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence

from lszoo.errors import ConfigError, DataError, LSZooError

from .outputs import check_geotiff_names

RASTER_EXTS = ('.tif', '.tiff', '.vrt', '.img', '.jp2')
GLOB_CHARS = '*?['


def is_many(inputs: Sequence[str]) -> bool:
    """Several inputs, a folder or a glob pattern (rather than one scene file)."""
    if len(inputs) != 1:
        return True
    item = inputs[0]
    return osp.isdir(item) or (not osp.exists(item) and any(c in item for c in GLOB_CHARS))


def expand_inputs(items: Sequence[str]) -> List[str]:
    """Scene files from files, folders (their rasters, sorted) and glob patterns, in order,
    without repeats; a missing file, an empty folder or a pattern that matches nothing is an
    error naming it."""
    out = []
    for item in items:
        if osp.isdir(item):
            found = sorted(p for p in glob.glob(osp.join(item, '*'))
                           if p.lower().endswith(RASTER_EXTS) and osp.isfile(p))
            if not found:
                raise DataError(f'input folder {item} holds no raster ({", ".join(RASTER_EXTS)})')
        elif osp.isfile(item):
            found = [item]
        elif any(c in item for c in GLOB_CHARS):
            found = sorted(p for p in glob.glob(item) if osp.isfile(p))
            if not found:
                raise DataError(f'input pattern {item} matches no file')
        else:
            raise DataError(f'input scene {item} does not exist')
        out += [p for p in found if osp.abspath(p) not in {osp.abspath(q) for q in out}]
    return out


def scene_name(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def per_scene(template: Optional[str], name: str, what: str, folder_ext: Optional[str] = None):
    """``template`` for scene ``name``: ``{name}`` filled in, or a folder + ``name + ext``."""
    if template is None:
        return None
    if '{name}' in template:
        return template.replace('{name}', name)
    if folder_ext is not None and (osp.isdir(template) or not osp.splitext(template)[1]):
        return osp.join(template, name + folder_ext)
    raise ConfigError(f'{what} {template}: with several scenes it must contain {{name}}'
                      + (' or be a folder' if folder_ext else ''))


@dataclass
class ScenePlan:
    """One scene's input and output paths."""

    input: str
    output: str
    prob: Optional[str] = None
    polygons: Optional[str] = None
    dem: Optional[str] = None
    quicklook: Optional[str] = None
    pre: Optional[str] = None


def plan_scenes(inputs: Sequence[str], output: str, prob=None, polygons=None,
                dem=None, quicklook=None, pre=None) -> List[ScenePlan]:
    """The scenes of ``inputs`` with their outputs; checked before any work: outputs of two
    scenes must not collide and their folders must exist (an output folder is created).
    ``quicklook=''`` puts each scene's quicklook at its default path beside its mask."""
    scenes = expand_inputs(inputs)
    if '{name}' not in output and not osp.splitext(output)[1]:
        os.makedirs(output, exist_ok=True)
    plans, seen = [], {}
    for path in scenes:
        name = scene_name(path)
        plan = ScenePlan(path, per_scene(output, name, 'OUTPUT', '.tif'),
                         per_scene(prob, name, '--prob'),
                         per_scene(polygons, name, '--polygons'), per_scene(dem, name, '--dem'),
                         pre=per_scene(pre, name, '--pre'))
        if quicklook == '':
            from lszoo.geo.quicklook import default_quicklook_path
            plan.quicklook = default_quicklook_path(plan.output)
        else:
            plan.quicklook = per_scene(quicklook, name, '--quicklook')
        check_geotiff_names({'OUTPUT': plan.output, '--prob': plan.prob})
        for p in (plan.output, plan.prob, plan.polygons, plan.quicklook):
            if p is None:
                continue
            if osp.abspath(p) in seen:
                raise ConfigError(f'scenes {seen[osp.abspath(p)]} and {path} would both write {p}')
            seen[osp.abspath(p)] = path
            if not osp.isdir(osp.dirname(osp.abspath(p))):
                raise DataError(f'output folder {osp.dirname(osp.abspath(p))} (for {p}) does '
                                'not exist')
        plans.append(plan)
    return plans


def outputs_complete(plan: ScenePlan, stac: bool = True) -> bool:
    """Every requested output exists (with ``stac``, the STAC Item written last too) and the
    rasters have the input's size (outputs are renamed into place only when a scene finished, so
    this means a finished earlier run)."""
    import rasterio
    paths = [p for p in (plan.output, plan.prob, plan.polygons, plan.quicklook) if p is not None]
    if stac:
        from .extras import stac_path_for
        paths.append(stac_path_for(plan.output))
    if not all(osp.isfile(p) for p in paths):
        return False
    try:
        with rasterio.open(plan.input) as src:
            size = (src.height, src.width)
        for p in (plan.output, plan.prob):
            if p is not None:
                with rasterio.open(p) as ds:
                    if (ds.height, ds.width) != size:
                        return False
    except rasterio.errors.RasterioIOError:
        return False
    return True


def share(plans: Sequence[ScenePlan], rank: int, world: int) -> List[ScenePlan]:
    """This rank's scenes: largest files first, each to the least loaded rank (by bytes), the
    same on every rank."""
    loads, mine = [0] * world, []
    for plan in sorted(plans, key=lambda p: (-osp.getsize(p.input), p.input)):
        r = loads.index(min(loads))
        loads[r] += osp.getsize(plan.input)
        if r == rank:
            mine.append(plan)
    return mine


@dataclass
class SceneOutcome:
    """What happened to one scene: ``done``, ``skipped`` (outputs complete) or ``failed``."""

    input: str
    status: str
    reason: str = ''
    seconds: float = 0.0
    rank: int = 0


def map_scenes(model, cfg, plans: Sequence[ScenePlan], rank: int = 0, world: int = 1,
               overwrite: bool = False, log=print, checkpoint: Optional[str] = None,
               **options) -> List[SceneOutcome]:
    """Map this rank's share of ``plans`` with the built ``model`` (from ``checkpoint``: its
    calibrated threshold, its ONNX graph cache); one failing scene does not stop the others
    (its reason is kept)."""
    from .mapper import map_scene
    outcomes, backends = [], set()
    for plan in share(plans, rank, world):
        if not overwrite and outputs_complete(plan, options.get('stac', True)):
            outcomes.append(SceneOutcome(plan.input, 'skipped', 'outputs complete', rank=rank))
            log(f'[{rank}] {plan.input}: skipped (outputs complete)')
            continue
        start = time.perf_counter()
        try:
            res = map_scene(model, plan.input, plan.output, checkpoint, cfg=cfg, dem=plan.dem,
                            prob=plan.prob, polygons=plan.polygons, quicklook=plan.quicklook,
                            pre=plan.pre, split_tiles=False, **options)
        except (LSZooError, OSError, RuntimeError, ValueError) as err:
            reason = str(err) if isinstance(err, LSZooError) else f'{type(err).__name__}: {err}'
            outcomes.append(SceneOutcome(plan.input, 'failed', reason,
                                         time.perf_counter() - start, rank))
            log(f'[{rank}] {plan.input}: FAILED: {reason}')
            continue
        outcomes.append(SceneOutcome(plan.input, 'done', '', time.perf_counter() - start, rank))
        if res.backend not in backends:  # said once per process
            backends.add(res.backend)
            log(f'[{rank}] {res.backend}')
        log(f'[{rank}] {plan.input} -> {plan.output}: done in {outcomes[-1].seconds:.1f} s')
    return outcomes


def gather_outcomes(outcomes: List[SceneOutcome], world: int) -> Optional[List[SceneOutcome]]:
    """Every rank's outcomes on rank 0 (``None`` elsewhere); the list itself on one process."""
    if world == 1:
        return outcomes
    import torch.distributed as dist
    parts = [None] * world if dist.get_rank() == 0 else None
    dist.gather_object(outcomes, parts, dst=0)
    return [o for part in parts for o in part] if parts is not None else None


def format_summary(outcomes: Sequence[SceneOutcome], world: int, seconds: float) -> str:
    count = {s: sum(o.status == s for o in outcomes) for s in ('done', 'skipped', 'failed')}
    lines = [f"scenes: {count['done']} done, {count['skipped']} skipped, {count['failed']} "
             f'failed ({len(outcomes)} in all, {world} process(es), {seconds:.1f} s)']
    lines += [f'  failed: {o.input}: {o.reason}' for o in outcomes if o.status == 'failed']
    return '\n'.join(lines)
