"""The frame of the command-line tools (``tools/*.py``): the arguments train and test share,
:func:`~lszoo.cli.tool.run_tool` error reporting, the ``--trust-checkpoint`` flag, CPU-distributed
setup and the converters' command line.

Config loading, overrides and checks are :mod:`lszoo.config`; measurements are
:mod:`lszoo.benchmark`; the public Python API is :mod:`lszoo.apis`.
"""
