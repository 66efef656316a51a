"""The frame every ``tools/*.py`` shares: common arguments and error reporting.

Bad input ends as one ``lszoo: error: <message>`` line on stderr and exit code 2
(:func:`run_tool`), never as a traceback from deep inside mmengine.
"""
import argparse
import os
import os.path as osp
import sys
import warnings
from typing import Callable, Optional

from lszoo.errors import LSZooError, LSZooWarning, unwrap_worker_error

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


def add_run_args(parser: argparse.ArgumentParser, launchers=('none', 'pytorch', 'slurm', 'mpi'),
                 what: str = 'checkpoints') -> argparse.ArgumentParser:
    """The options ``tools/train.py`` and ``tools/test.py`` share with mmsegmentation's tools:
    ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``, ``--trust-checkpoint``."""
    parser.add_argument('--work-dir', help='folder for logs and checkpoints '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help='override config keys, e.g. train_cfg.max_iters=100 '
        'test_dataloader.dataset.data_root=/data/l4s')
    parser.add_argument('--launcher', choices=list(launchers), default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_trust_arg(parser, what)
    return parser


class CfgOptionsAction(argparse.Action):
    """mmengine's ``DictAction`` (``KEY=VALUE ...``), imported only when the option is parsed,
    so that building a parser (``--help``) does not import torch through mmengine."""

    def __call__(self, parser, namespace, values, option_string=None):
        from mmengine.config import DictAction
        DictAction(self.option_strings, self.dest)(parser, namespace, values, option_string)


def add_data_root_arg(parser: argparse.ArgumentParser) -> None:
    """``--data-root PATH`` for a tool that reads a config's datasets."""
    parser.add_argument(
        '--data-root', metavar='PATH',
        help='folder of the dataset: sets data_root of every dataset the run reads (all '
        'loaders, nested datasets included) instead of one --cfg-options per loader')


def add_trust_arg(parser: argparse.ArgumentParser, what: str = 'checkpoints') -> None:
    """``--trust-checkpoint`` (see :func:`enable_trust`)."""
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help=f'load {what} with full unpickling (can run code from the file: only for '
        'files you trust)')


def parse_run_args(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse, and export ``--local-rank`` as ``LOCAL_RANK`` unless a launcher set it."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(getattr(args, 'local_rank', 0))
    return args


def default_work_dir(cfg, config_path: str, work_dir: Optional[str] = None) -> None:
    """``--work-dir``, else the config's ``work_dir``, else ``./work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def registry_error_message(err: KeyError, config_path: Optional[str]) -> Optional[str]:
    """A one-line message for mmengine's 'X is not in the ... registry' KeyError, else None."""
    msg = str(err.args[0]) if err.args else str(err)
    if 'registry' not in msg or 'is not in the' not in msg:
        return None
    return f'config {config_path}: {msg.split(". Please check")[0]}'


def report_error(message) -> int:
    """Print ``lszoo: error: <message>`` on stderr; returns the bad-input exit code (2)."""
    print(f'lszoo: error: {message}', file=sys.stderr)
    return EXIT_BAD_INPUT


def _format_warning(message, category, filename, lineno, line=None):
    if isinstance(category, type) and issubclass(category, LSZooWarning):
        return f'lszoo: warning: {message}\n'
    return _FORMAT_WARNING(message, category, filename, lineno, line)


_FORMAT_WARNING = warnings.formatwarning


def run_main(body: Callable[[argparse.Namespace], int], parse_args, argv=None) -> int:
    """:func:`run_tool` after ``parse_args(argv)``, with the command line kept on ``args.argv``
    (reports quote the command that made them)."""
    args = parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    return run_tool(body, args)


def run_tool(body: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command-line tool's ``body(args)``; bad input ends as one ``lszoo: error:`` line.

    :class:`~lszoo.errors.LSZooError` and registry misses (an unknown ``type`` in the config)
    print their message without a traceback and return exit code 2 (an error raised in a
    DataLoader worker too: :func:`~lszoo.errors.unwrap_worker_error`); Ctrl-C prints one line
    and returns 130; anything else propagates. Warnings of lszoo's own kind
    (:class:`~lszoo.errors.LSZooWarning`) print as one ``lszoo: warning: <message>`` line.
    The current directory goes on ``sys.path`` first, so configs can ``custom_imports`` modules
    of the user's own project (as with ``PYTHONPATH=.``).
    """
    import lszoo
    lszoo.register_all_modules()  # deferred by a tool run for --help only (lszoo/__init__.py)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    warnings.formatwarning = _format_warning  # lszoo's own warnings: one line each
    try:
        return body(args)
    except LSZooError as err:
        return report_error(unwrap_worker_error(err))
    except KeyboardInterrupt:
        print('lszoo: interrupted (Ctrl-C); files being written were discarded, finished ones '
              'are kept', file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyError as err:
        msg = registry_error_message(err, getattr(args, 'config', None))
        if msg is None:
            raise
        return report_error(msg)


def enable_trust() -> None:
    """``--trust-checkpoint``: allow full unpickling of checkpoints and say what it risks."""
    from lszoo.utils.checkpoint import set_trust_checkpoint
    set_trust_checkpoint(True)
    print('lszoo: --trust-checkpoint: checkpoints are loaded with torch.load(weights_only=False). '
          'A crafted checkpoint can run arbitrary code on this machine: use it only for files '
          'whose origin you trust.', file=sys.stderr)


def write_json(path: str, obj, indent: int = 2) -> None:
    """Write ``obj`` as JSON to ``path`` (folders created; atomic: the old file or the whole new
    one, never half of it)."""
    from lszoo.utils.fileio import atomic_write_json
    atomic_write_json(osp.abspath(path), obj, indent=indent)


def format_metrics(metrics: dict, title: str = 'metrics') -> str:
    """A two-column text table of a metrics dict."""
    rows = [(str(k), f'{v:.4f}' if isinstance(v, float) else str(v)) for k, v in metrics.items()]
    width = max([len(title)] + [len(k) for k, _ in rows])
    vwidth = max([5] + [len(v) for _, v in rows])
    line = '+' + '-' * (width + 2) + '+' + '-' * (vwidth + 2) + '+'
    out = [line, f'| {title:<{width}} | {"value":>{vwidth}} |', line]
    out += [f'| {k:<{width}} | {v:>{vwidth}} |' for k, v in rows]
    out.append(line)
    return '\n'.join(out)
