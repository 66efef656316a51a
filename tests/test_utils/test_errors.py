"""lszoo.errors.unwrap_worker_error: a DataLoader worker's error comes back as its own line."""
import numpy as np
import pytest
from torch.utils.data import DataLoader, Dataset

from lszoo.errors import DataError, unwrap_worker_error


class _Broken(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        if i == 1:
            raise DataError('/data/x/image_1.h5: unreadable HDF5 file (truncated or not HDF5)')
        return np.zeros(2, np.float32)


def test_worker_error_is_unwrapped_to_its_message():
    loader = DataLoader(_Broken(), batch_size=1, num_workers=1,
                        multiprocessing_context='fork')
    with pytest.raises(DataError) as info:
        list(loader)
    wrapped = info.value
    assert 'DataLoader worker process 0' in str(wrapped)  # torch's wrapping, many lines
    assert len(str(wrapped).splitlines()) > 5
    err = unwrap_worker_error(wrapped)
    assert type(err) is DataError
    assert str(err) == '/data/x/image_1.h5: unreadable HDF5 file (truncated or not HDF5)'


def test_other_errors_unchanged():
    plain = DataError('x.tif: file not found')
    assert unwrap_worker_error(plain) is plain
    other = RuntimeError('Caught ValueError in DataLoader worker process 0.\nOriginal Traceback')
    assert unwrap_worker_error(other) is other
