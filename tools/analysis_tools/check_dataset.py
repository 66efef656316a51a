#!/usr/bin/env python
"""Open every file of every split of a config's dataloaders and report what is wrong.

    python tools/analysis_tools/check_dataset.py CONFIG [--split train val test]
        [--data-root PATH] [--cfg-options KEY=VALUE ...]

Reads each sample's files as training would (readable, shape, dtype, band count, mask values,
share of NaN/nodata pixels; for windows cut from whole scenes, ``InventoryDataset``: every block
of each scene and of the DEM), with a progress bar, then prints a summary table: files, problems
by kind and the first few names of each. Exit code 0 when no problem was found, 1 when some were,
2 on bad input (a config that does not load, a missing data_root). The logic is in
:mod:`lszoo.datasets.check`; ``tools/train.py`` runs only its cheap part (every listed file exists
and is not empty).
"""
import argparse
import sys


def parse_args(argv=None):
    from lszoo.cli.tool import CfgOptionsAction
    parser = argparse.ArgumentParser(description='Check every file of a config\'s datasets')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--split', nargs='+', choices=['train', 'val', 'test'],
                        help='dataloaders to check (default: all the config has)')
    parser.add_argument('--first', type=int, default=3,
                        help='how many file names to show per kind of problem (default 3)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys, e.g. '
                        'train_dataloader.dataset.data_root=/data/l4s')
    from lszoo.cli.tool import add_data_root_arg
    add_data_root_arg(parser)
    return parser.parse_args(argv)


def check(args) -> int:
    from lszoo.config import load_config
    from lszoo.datasets.check import check_datasets, format_report, problem_count

    cfg = load_config(args.config, args.cfg_options)
    if args.data_root:
        from lszoo.config.data_root import apply_data_root
        apply_data_root(cfg, args.data_root, config_path=args.config)
    reports = check_datasets(cfg, args.split, progress=True, first=args.first)
    print(format_report(reports))
    n = problem_count(reports)
    print(f'{n} problem(s) found' if n else 'no problem found')
    return 1 if n else 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(check, parse_args(argv))


LSZOO_TOOL = True  # lszoo registers its modules after parsing: --help stays fast

if __name__ == '__main__':
    sys.exit(main())
