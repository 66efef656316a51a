"""One writer per output: the lock file beside it (lszoo.utils.output_lock)."""
import os
import socket
import subprocess
import sys
import warnings

import pytest

from lszoo.errors import DataError
from lszoo.utils.output_lock import StaleLockWarning, acquire, lock_path, output_locks, release


def _hold(path, pid):
    with open(lock_path(path), 'w') as f:
        f.write(f'{pid} {socket.gethostname()}\n')


def test_a_live_holder_refuses_and_the_lock_is_released(tmp_path):
    out = str(tmp_path / 'mask.tif')
    with output_locks({'OUTPUT': out, '--prob': None}):
        assert open(lock_path(out)).read().split()[0] == str(os.getpid())
        assert os.path.basename(lock_path(out)) == '.mask.tif.lszoo-lock'
    assert not os.path.exists(lock_path(out))
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        _hold(out, other.pid)
        with pytest.raises(DataError, match=f'OUTPUT .*mask.tif is being written by process '
                           f'{other.pid}'):
            acquire(out, 'OUTPUT')
        assert open(lock_path(out)).read().split()[0] == str(other.pid)  # left alone
    finally:
        other.kill()
        other.wait()


def test_a_dead_holder_is_taken_over_with_a_note(tmp_path):
    out = str(tmp_path / 'mask.tif')
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()
    _hold(out, gone.pid)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        lock = acquire(out, 'OUTPUT')
    assert [str(w.message) for w in seen if w.category is StaleLockWarning] == [
        f'OUTPUT {out}: took over the lock of process {gone.pid}, which no longer runs '
        f'({lock})']
    release(lock)
    assert not os.path.exists(lock)


def test_a_lock_of_another_host_is_never_taken_over(tmp_path):
    out = str(tmp_path / 'mask.tif')
    with open(lock_path(out), 'w') as f:
        f.write('999999 some-other-host\n')
    with pytest.raises(DataError, match='process 999999 on some-other-host'):
        acquire(out)
