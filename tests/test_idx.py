import gzip

import numpy
import pytest

from course.data import DataError, read_idx, write_idx


@pytest.mark.parametrize("dtype", [numpy.uint8, numpy.int8, numpy.int16, numpy.int32, numpy.float32, numpy.float64])
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_round_trip(tmp_path, dtype, name):
    array = (numpy.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / name, array)
    back = read_idx(path)
    assert back.dtype == numpy.dtype(dtype).newbyteorder("=")
    numpy.testing.assert_array_equal(back, array)


def test_header_is_the_real_format(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte", numpy.array([7, 2, 1], numpy.uint8))
    assert path.read_bytes() == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1])


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = write_idx(tmp_path / "plain-name", numpy.zeros((2, 2), numpy.uint8), compress=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert read_idx(path).shape == (2, 2)


def test_missing_file_names_the_file_and_fix(tmp_path):
    with pytest.raises(DataError, match=r"nothere.*does not exist.*download again"):
        read_idx(tmp_path / "nothere", fix="download again")


def test_truncated_raw_file(tmp_path):
    path = write_idx(tmp_path / "x-idx3-ubyte", numpy.ones((4, 28, 28), numpy.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"x-idx3-ubyte is truncated.*\(4, 28, 28\)"):
        read_idx(path)


def test_truncated_gzip_file(tmp_path):
    path = write_idx(tmp_path / "x-idx3-ubyte.gz", numpy.random.RandomState(0).randint(0, 255, (50, 28, 28)).astype(numpy.uint8))
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(DataError, match=r"x-idx3-ubyte.gz is a damaged gzip file"):
        read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"<html>404</html>")
    with pytest.raises(DataError, match=r"page.html is not an IDX file"):
        read_idx(path)


def test_file_longer_than_header_says(tmp_path):
    path = write_idx(tmp_path / "y", numpy.ones(3, numpy.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="longer than its header says"):
        read_idx(path)


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    write_idx(tmp_path / "z.gz", numpy.ones(3, numpy.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["z.gz"]
    assert gzip.decompress((tmp_path / "z.gz").read_bytes())[:4] == bytes([0, 0, 8, 1])
