"""Compare a predicted landslide inventory with a reference one, landslide by landslide.

    python tools/evaluate_inventory.py PRED REF [--aoi AOI] [--crs EPSG:NNNN]
        [--size-classes 1000 10000 100000] [--iou 0.5] [--min-area M2] [--merge-touching]
        [--bootstrap 1000 --block-size 1000 --seed 0]
        [--json OUT.json] [--gpkg OUT.gpkg] [--map OUT.png] [--area-figure OUT.png]
        [--prob PROB.tif [--reliability OUT.png] [--bins 15]]

PRED and REF are each a vector inventory (GeoPackage, Shapefile, GeoJSON: one landslide per
feature) or a mask GeoTIFF (value 1 = landslide, one landslide per 8-connected component), in
any CRS: both are reprojected to one projected CRS (``--crs``, else the first projected one of
PRED, REF). The comparison covers ``--aoi`` (a polygon file, or a raster's footprint), else the
footprint of the mask input(s), else everything. Prints the object table (strict: IoU >= 0.5,
loose: any overlap or centroid inside; one-to-one matching), the table by size class and the
area statistics (log-binned area-frequency, maximum-likelihood power-law tail), with bootstrap
intervals over spatial blocks. See docs/metrics.md.
"""
import argparse
import json
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Per-landslide comparison of a predicted and a '
                                'reference inventory (object recall, precision, F1 by size '
                                'class, area statistics).')
    p.add_argument('pred', metavar='PRED', help='predicted inventory (.gpkg/.shp/.geojson) or '
                   'mask GeoTIFF (1 = landslide)')
    p.add_argument('ref', metavar='REF', help='reference inventory or mask GeoTIFF')
    p.add_argument('--aoi', help='area of interest: a polygon file or a raster (its footprint)')
    p.add_argument('--crs', help='projected CRS of the comparison (default: the first '
                   'projected one of PRED, REF)')
    p.add_argument('--size-classes', type=float, nargs='+', metavar='EDGE',
                   default=[1e3, 1e4, 1e5],
                   help='size-class edges in CRS units² (default 1000 10000 100000 m²)')
    p.add_argument('--iou', type=float, default=0.5, help='IoU of the strict rule (0.5)')
    p.add_argument('--min-area', type=float, default=0.0, metavar='AREA',
                   help='leave out landslides smaller than AREA (CRS units²) in both (0)')
    p.add_argument('--merge-touching', action='store_true',
                   help='merge polygons that touch (even at a corner) into one landslide, as '
                   '8-connectivity does on masks (a 4-connected polygonisation splits them)')
    p.add_argument('--bootstrap', type=int, default=1000, metavar='N',
                   help='bootstrap resamples of the spatial blocks for the intervals; 0: none')
    p.add_argument('--block-size', type=float, default=1000.0,
                   help='side of the spatial blocks resampled by the bootstrap, CRS units '
                   '(default 1000: 1 km)')
    p.add_argument('--level', type=float, default=0.95, help='interval coverage (0.95)')
    p.add_argument('--seed', type=int, default=0, help='bootstrap seed')
    p.add_argument('--json', metavar='FILE', help='write the tables as JSON')
    p.add_argument('--gpkg', metavar='FILE', help='write the matched objects with their status')
    p.add_argument('--map', metavar='PNG', help='write a map of hit / missed / false landslides')
    p.add_argument('--area-figure', metavar='PNG', help='write the area-frequency figure')
    p.add_argument('--prob', metavar='TIF', help='also score this landslide-probability GeoTIFF '
                   '(tools/infer_scene.py --prob) against REF: ECE and Brier score')
    p.add_argument('--reliability', metavar='PNG', help='with --prob: write the reliability '
                   'diagram')
    p.add_argument('--bins', type=int, default=15, help='with --prob: probability bins (15)')
    return p.parse_args(argv)


def run(args) -> int:
    import warnings

    from lszoo.apis.inventory.evaluate import (compare_inventories, format_tables, plot_status_map,
                                          to_json, write_gpkg)
    from lszoo.apis.inventory.io import prepare
    from lszoo.errors import ConfigError
    from lszoo.evaluation.area_frequency import plot_area_frequency
    from lszoo.evaluation.objects import check_edges

    edges = check_edges(args.size_classes)
    if not 0 < args.iou <= 1 or args.bootstrap < 0 or args.min_area < 0:
        raise ConfigError('--iou must be in (0, 1], --bootstrap and --min-area >= 0')
    if args.reliability and not args.prob:
        raise ConfigError('--reliability needs --prob (the probability GeoTIFF)')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # pyogrio / rasterio chatter
        from lszoo.apis.inventory.io import InventoryWarning
        warnings.simplefilter('always', InventoryWarning)
        pred, ref, region = prepare(args.pred, args.ref, args.aoi, args.crs, args.min_area,
                                     args.merge_touching)
    res = compare_inventories(pred, ref, edges, args.iou, args.bootstrap, args.block_size,
                              args.seed, args.level)
    print(format_tables(res))
    cal = None
    if args.prob:
        from lszoo.apis.inventory.calibration import probability_calibration
        cal = probability_calibration(args.prob, ref.geoms, ref.crs, region, args.bins)
        print(f'calibration of {args.prob} against REF ({cal["n_pixels"]} pixels, '
              f'{args.bins} bins): ECE {cal["ece"]:.4f}, Brier score {cal["brier"]:.4f}')
        if args.reliability:
            from lszoo.evaluation.probability_calibration import plot_reliability_diagram
            plot_reliability_diagram(cal['counts'], args.reliability)
    if args.json:
        from lszoo.apis.inventory.calibration import calibration_json
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(dict(to_json(res), calibration=calibration_json(cal)), f, indent=1)
    if args.gpkg:
        write_gpkg(res, args.gpkg)
    if args.map:
        plot_status_map(res, args.map, region)
    if args.area_figure:
        plot_area_frequency({'reference': res.matching.ref_area,
                             'predicted': res.matching.pred_area}, args.area_figure,
                            unit=res.unit)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


LSZOO_TOOL = True  # lszoo registers its modules after parsing: --help stays fast

if __name__ == '__main__':
    sys.exit(main())
