"""lszoo.utils.fileio: one atomic write, one temporary-name convention, one stale-file reaper."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

from lszoo.utils.fileio import (TMP_MARK, atomic_path, atomic_write_json, remove_stale_temp_files,
                                sha256_file, temp_path, temp_owner)


def _dead_pid():
    return int(subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                              capture_output=True, text=True).stdout)


def test_atomic_path_publishes_only_on_success(tmp_path):
    out = tmp_path / 'a.png'
    out.write_bytes(b'old')
    with atomic_path(out, '.png') as tmp:
        assert os.path.basename(tmp) == f'.a.png{TMP_MARK}{os.getpid()}.png'
        open(tmp, 'wb').write(b'new')
        assert out.read_bytes() == b'old'
    assert out.read_bytes() == b'new'
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            open(tmp, 'wb').write(b'half')
            raise RuntimeError('writer failed')
    assert out.read_bytes() == b'new' and os.listdir(tmp_path) == ['a.png']


def test_json_and_sha256(tmp_path):
    path = tmp_path / 'sub' / 'r.json'
    atomic_write_json(path, {'a': 1})
    assert json.loads(path.read_text()) == {'a': 1} and path.read_text().endswith('\n')
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_reaper_removes_dead_temporaries_of_one_target(tmp_path):
    dead = _dead_pid()
    stale = tmp_path / f'.mask.tif{TMP_MARK}{dead}'
    scratch = tmp_path / f'.mask.tif{TMP_MARK}{dead}.tiled'  # a suffixed temporary
    other = tmp_path / f'.prob.tif{TMP_MARK}{dead}'
    mine = tmp_path / os.path.basename(temp_path(tmp_path / 'mask.tif'))
    plain = tmp_path / 'mask.tif'
    for p in (stale, scratch, other, mine, plain):
        p.write_bytes(b'x')
    assert temp_owner(stale.name) == dead and temp_owner(plain.name) is None
    assert temp_owner(other.name, 'mask.tif') is None
    assert remove_stale_temp_files(tmp_path, 'mask.tif') == sorted([str(stale), str(scratch)])
    assert remove_stale_temp_files(tmp_path) == [str(other)]
    assert sorted(os.listdir(tmp_path)) == sorted([mine.name, plain.name])
