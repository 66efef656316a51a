"""Measuring models: size and speed of one config's model (:mod:`.profile`), two models timed
side by side in one process (:mod:`.side_by_side`), and several trained models evaluated and
timed into one table (:mod:`.compare`).

The command lines are ``tools/analysis_tools/benchmark.py`` and ``compare.py``; the studies that
use these (real, synthetic, DiGATe reference) are in the repository's ``benchmarks/`` folder.
"""
from .profile import benchmark, count_flops, cpu_name, format_table
from .side_by_side import Contender, format_side_by_side, interleave, ratio_stats, side_by_side

__all__ = ['Contender', 'benchmark', 'count_flops', 'cpu_name', 'format_side_by_side',
           'format_table', 'interleave', 'ratio_stats', 'side_by_side']
