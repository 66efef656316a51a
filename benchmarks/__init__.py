"""lszoo's studies: models trained and compared under one budget (real Bijie images, synthetic
scenes), an external yardstick, and DiGATe-UNet timed beside its authors' code.

Run them from the repository root as modules (``python -m benchmarks.real``, ``python -m
benchmarks.synthetic``, ``python -m benchmarks.digate_reference``); they find the configs and
``tools/train.py`` in this checkout. Their committed results are in ``results/``.
"""
