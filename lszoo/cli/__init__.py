"""What only the command-line tools use (``tools/*.py``): argument parsing shared by train/test,
:func:`~lszoo.cli.tool.run_tool` error reporting, config loading, the ``--trust-checkpoint``
flag, CPU-distributed setup, preflight checks and the benchmark/compare measurements.

The public Python API is :mod:`lszoo.apis`; nothing here is needed to use lszoo from a config.
"""
