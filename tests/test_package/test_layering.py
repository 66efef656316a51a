"""The layer rule of docs/architecture.md, read from every import in lszoo/ (function-local ones
too): utils/errors < geo < models, datasets, evaluation < engine < apis, deploy < cli (and
anything newer); a package imports only its own layer or lower ones, lszoo's top-level packages
form no cycle, and no function is longer than 60 lines of code."""
import ast
import collections
import os

import pytest
from helpers import REPO

LSZOO = os.path.join(REPO, 'lszoo')
# config (load_config, overrides, checks) sits beside engine: apis and the tools read configs
RANK = {'utils': 0, 'errors': 0, 'version': 0, 'quiet_imports': 0, 'geo': 1, 'models': 2,
        'datasets': 2, 'evaluation': 2, 'engine': 3, 'config': 3, 'apis': 4, 'deploy': 4}
TOP = 5  # cli, testing and any package not listed: may import everything, imported by none below
MAX_CODE_LINES = 60


def _modules():
    for folder, _, files in os.walk(LSZOO):
        for name in sorted(files):
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.dirname(LSZOO))
                mod = rel[:-3].replace(os.sep, '.')
                yield path, rel, mod[:-len('.__init__')] if name == '__init__.py' else mod, \
                    name == '__init__.py'


def _package(module: str):
    parts = module.split('.')
    return parts[1] if parts[0] == 'lszoo' and len(parts) > 1 else None


def _imported(node, module: str, is_init: bool):
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        if not node.level:
            return [node.module or '']
        base = module.split('.')[:None if is_init else -1]
        base = base[:len(base) - (node.level - 1)]
        return ['.'.join(base + ([node.module] if node.module else []))]
    return []


def _code_lines(fn) -> int:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


@pytest.fixture(scope='module')
def scan():
    edges, long_functions = collections.defaultdict(list), []
    for path, rel, module, is_init in _modules():
        src = _package(module)
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    _code_lines(node) > MAX_CODE_LINES:
                long_functions.append(f'{rel}:{node.lineno} {node.name} ({_code_lines(node)})')
            for target in _imported(node, module, is_init):
                dst = _package(target)
                if src and dst and dst != src:
                    edges[(src, dst)].append(f'{rel}:{node.lineno} imports {target}')
    return edges, long_functions


def test_no_upward_import(scan):
    edges, _ = scan
    upward = [f'{s} -> {d}: {where[0]}' for (s, d), where in sorted(edges.items())
              if RANK.get(d, TOP) > RANK.get(s, TOP)]
    assert not upward, 'imports that point up a layer:\n' + '\n'.join(upward)


def test_no_package_cycle(scan):
    edges, _ = scan
    graph = collections.defaultdict(set)
    for s, d in edges:
        graph[s].add(d)

    def reach(a):
        seen, stack = set(), [a]
        while stack:
            for b in graph[stack.pop()] - seen:
                seen.add(b)
                stack.append(b)
        return seen
    cycles = sorted({tuple(sorted((a, b))) for a in list(graph) for b in reach(a)
                     if b != a and a in reach(b)})
    assert not cycles, 'package cycles: ' + '; '.join(
        f'{a} <-> {b} ({(edges.get((a, b)) or edges.get((b, a)) or ["via others"])[0]})'
        for a, b in cycles)


def test_no_long_function(scan):
    _, long_functions = scan
    assert not long_functions, f'functions over {MAX_CODE_LINES} lines of code:\n' + \
        '\n'.join(long_functions)


def test_function_local_and_relative_imports_are_seen():
    tree = ast.parse('def f():\n    from ..apis import x\n    import lszoo.engine.runner\n')
    found = [t for node in ast.walk(tree) for t in _imported(node, 'lszoo.datasets.io', False)]
    assert [_package(t) for t in found] == ['apis', 'engine']
    assert RANK['datasets'] < RANK['apis']  # so a lower package doing this fails the rule
