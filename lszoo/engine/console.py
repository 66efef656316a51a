"""A quiet console for runs: the settings in a few lines, then progress, metrics and problems.

mmengine prints ~500 lines before the first training line (environment, the whole config, the
hook table, deprecation notices). Those stay in the run's log file, which receives every record;
the console (the logger's stdout handler) gets :class:`QuietConsole`, which drops INFO records that
are dumps (several lines, or one very long line) and a short list of notices that are noise for an
lszoo run. Warnings and errors always pass, except the notices named below. Instead
:func:`run_summary` logs what the run is in a few lines, with the log file's path.

``LSZOO_VERBOSE=1`` turns the filter off (mmengine's full console output).
"""
import logging
import os
import warnings
from typing import Optional

# notices with no use on an lszoo run's console (kept in the log file)
NOISE = (
    'Distributed training is not used, all SyncBatchNorm',
    '"FileClient" will be deprecated',
    '"HardDiskBackend" is the alias',
    'Checkpoints will be saved to',
)
MAX_LINES = 3
MAX_CHARS = 400


def verbose() -> bool:
    return os.environ.get('LSZOO_VERBOSE', '') not in ('', '0')


class QuietConsole(logging.Filter):
    """Drop dumps and known notices from a console handler (module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if any(n in msg for n in NOISE):
            return False
        if record.levelno >= logging.WARNING:
            return True
        return msg.count('\n') < MAX_LINES and len(msg) <= MAX_CHARS


def quiet_console(logger: logging.Logger) -> Optional[str]:
    """Install :class:`QuietConsole` on ``logger``'s console handlers (once); returns the log
    file's path when the logger has one."""
    log_file = None
    for h in logger.handlers:
        if isinstance(h, logging.FileHandler):
            log_file = h.baseFilename
        elif isinstance(h, logging.StreamHandler) and not verbose() \
                and not any(isinstance(f, QuietConsole) for f in h.filters):
            h.addFilter(QuietConsole())
    if not verbose():
        # mmseg warns that its visualisation hook draws nothing; lszoo writes its own overlays
        warnings.filterwarnings('ignore', message='The draw is False', category=UserWarning)
    return log_file


def adapt_log_interval(default_hooks, train_cfg) -> None:
    """Progress at least every tenth of a short run: a 20-iteration run with the usual interval
    of 50 would print nothing until it ends."""
    logger = (default_hooks or {}).get('logger')
    max_iters = (train_cfg or {}).get('max_iters')
    if isinstance(logger, dict) and max_iters and 'interval' in logger:
        logger['interval'] = max(1, min(int(logger['interval']), int(max_iters) // 10))


def run_summary(cfg, log_file: Optional[str]) -> str:
    """A few lines saying what the run is: model, data, schedule, where it writes."""
    model = cfg.get('model') or {}
    parts = [model.get('type')] + [(model.get(k) or {}).get('type') for k in
                                   ('backbone', 'neck', 'decode_head')]
    lines = ['model: ' + ' / '.join(p for p in parts if p)]
    for key in ('train_dataloader', 'test_dataloader'):
        loader = cfg.get(key) or {}
        ds = loader.get('dataset') or {}
        if ds:
            root = ds.get('data_root')
            lines.append(f"{key.split('_')[0]} data: {ds.get('type')}"
                         + (f' at {root}' if root else '')
                         + (f", batch {loader.get('batch_size')}" if 'batch_size' in loader
                            else ''))
    train = cfg.get('train_cfg') or {}
    if train.get('max_iters'):
        lines.append(f"schedule: {train['max_iters']} iterations, validation every "
                     f"{train.get('val_interval')}")
    lines.append(f'work dir: {cfg.get("work_dir")}')
    if log_file:
        lines.append(f'full log (environment, config, hooks): {log_file}')
    return '\n'.join(lines)
