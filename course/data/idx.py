"""The IDX file format of MNIST (http://yann.lecun.com/exdb/mnist/), gzipped or raw.

A file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy

from course.files import DataError, atomic_write

_DTYPES = {
    0x08: numpy.dtype(numpy.uint8),
    0x09: numpy.dtype(numpy.int8),
    0x0B: numpy.dtype(">i2"),
    0x0C: numpy.dtype(">i4"),
    0x0D: numpy.dtype(">f4"),
    0x0E: numpy.dtype(">f8"),
}
_CODES = {dtype.newbyteorder(">") if dtype.itemsize > 1 else dtype: code for code, dtype in _DTYPES.items()}


def _read_bytes(path: Path, fix: str) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"{path} does not exist. {fix}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise DataError(
                f"{path} is a damaged gzip file ({error}); it is probably truncated. {fix}"
            ) from None
    return raw


def read_idx(path: str | os.PathLike, fix: str = "Delete it and fetch it again.") -> numpy.ndarray:
    """Read an IDX file (``.gz`` or raw, told apart by content) into an array in native byte order.

    A missing, truncated or otherwise malformed file raises :class:`DataError` whose message names the
    file, says what is wrong and ends with ``fix``.
    """
    path = Path(path)
    data = _read_bytes(path, fix)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataError(f"{path} is not an IDX file (its first bytes are {data[:4].hex() or 'empty'}). {fix}")
    dtype, ndim = _DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path} is truncated inside its header. {fix}")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise DataError(
            f"{path} is {problem}: its header promises shape {shape} ({expected} bytes of values) "
            f"but it holds {found}. {fix}"
        )
    array = numpy.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: numpy.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``compress`` (default: when the name ends in .gz).

    The file appears atomically (:func:`course.files.atomic_write`): a crash leaves the old file or none.
    """
    path = Path(path)
    array = numpy.asarray(array)
    big_endian = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if big_endian not in _CODES:
        raise TypeError(f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    payload = (
        bytes([0, 0, _CODES[big_endian], array.ndim])
        + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
        + array.astype(big_endian).tobytes()
    )
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with atomic_write(path, "wb") as f:
        f.write(payload)
    return path
