"""Training throughput of the course's models, next to the same network in PyTorch.

Usage::

    python benchmarks/throughput.py mnist [--batch-size N] [--repeats R] [--iterations I]

``mnist`` times training steps (forward, backward, Adam update) of lesson 2's CNN
(``course.models.MnistCNN`` in ``chainer.links.Classifier``) on real MNIST-sized batches
(1x28x28 float32) on the course's device (:func:`course.get_device`), twice: ``course`` with the
fast NumPy kernels that ``import course`` puts beneath Chainer (:mod:`course.kernels`), and
``chainer`` on Chainer's own code (inside ``course.kernels.disabled()``). When PyTorch is
importable it times the same architecture, batch size and optimizer in PyTorch on the CPU with the
same number of threads. Runs alternate (course, chainer, pytorch, course, ...) after one warm-up
run each, so a machine that gets busier or quieter affects every side alike; each side's figure is
the median over ``--repeats`` runs of ``--iterations`` steps.

The last lines are ``ratio course/chainer X.XX`` (what the kernels gain) and ``ratio
course/pytorch X.XX`` (``n/a`` without PyTorch). This is a measurement, not a test: nothing is
asserted.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import course  # noqa: E402  (before chainer: applies the compatibility shims)
import chainer  # noqa: E402
import chainer.links as L  # noqa: E402
import numpy  # noqa: E402

from course import kernels  # noqa: E402
from course.data import load_mnist  # noqa: E402
from course.models import MnistCNN  # noqa: E402

Step = Callable[[], None]


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses (threadpoolctl when installed, else the usual variables)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable])
    return os.cpu_count() or 1


def mnist_batches(batch_size: int, count: int = 4) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``count`` batches of real digits, ``(count, batch_size, 1, 28, 28)`` float32 and int32 labels.

    Cycling through a few different batches keeps the measurement honest without timing data
    loading (the course's converter costs well under 1% of a step; see benchmarks/README.md).
    """
    x, t = load_mnist(verbose=False).train
    need = batch_size * count
    repeat = -(-need // len(x))
    x, t = numpy.concatenate([x] * repeat)[:need], numpy.concatenate([t] * repeat)[:need]
    return x.reshape(count, batch_size, 1, 28, 28), t.reshape(count, batch_size)


def course_step(x: numpy.ndarray, t: numpy.ndarray, fast_kernels: bool) -> tuple[Step, Step]:
    """One training step of the course's CNN on its device, and a function that waits for the device.

    ``fast_kernels``: with :mod:`course.kernels` as ``import course`` installs them (unless
    ``COURSE_FAST_KERNELS=0``), or on Chainer's own code.
    """
    device = course.get_device()
    course.set_seed(0)
    model = L.Classifier(MnistCNN())
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(model)
    xs, ts = device.send(x), device.send(t)
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % len(xs)
        with contextlib.nullcontext() if fast_kernels else kernels.disabled():
            optimizer.update(model, xs[i], ts[i])

    def synchronize() -> None:
        if device.xp is not numpy:
            device.device.synchronize()

    return step, synchronize


def pytorch_step(x: numpy.ndarray, t: numpy.ndarray, threads: int) -> Step:
    """The same network, loss, accuracy and optimizer in PyTorch (CPU, ``threads`` threads)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
    )
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    xs, ts = torch.from_numpy(x), torch.from_numpy(t.astype(numpy.int64))
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % len(xs)
        optimizer.zero_grad(set_to_none=True)
        scores = model(xs[i])
        loss = loss_function(scores, ts[i])
        loss.backward()
        optimizer.step()
        (scores.argmax(1) == ts[i]).float().mean()  # Chainer's Classifier reports accuracy too

    return step


def images_per_second(step: Step, iterations: int, batch_size: int, synchronize: Step = lambda: None) -> float:
    """Run ``step`` ``iterations`` times; training images per second."""
    synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    synchronize()
    return iterations * batch_size / (time.perf_counter() - start)


def benchmark_mnist(batch_size: int, repeats: int, iterations: int) -> None:
    """Print training images/second for lesson 2's CNN with and without the fast kernels and in PyTorch."""
    device = course.get_device()
    threads = blas_threads()
    print(f"model: lesson 2 CNN (course.models.MnistCNN), Adam, batch {batch_size} of 1x28x28 float32")
    print(f"device: {device} ({course.device.gpu_status()}); BLAS threads: {threads}; "
          f"CPUs: {os.cpu_count()}")
    print(f"course: Chainer with the fast kernels ({'installed' if kernels.installed() else 'NOT installed'}); "
          "chainer: Chainer's own code")
    print(f"Python {platform.python_version()}, NumPy {numpy.__version__}, Chainer {chainer.__version__}")
    try:
        import torch
    except ImportError as error:
        torch = None
        print(f"PyTorch is not importable ({error}): timing Chainer only")
    else:
        print(f"PyTorch {torch.__version__} on the CPU with {threads} thread(s)")
    print(f"{repeats} alternating runs of {iterations} iterations each, after one warm-up run each")

    x, t = mnist_batches(batch_size)
    sides: dict[str, tuple[Step, Step]] = {"course": course_step(x, t, fast_kernels=True),
                                           "chainer": course_step(x, t, fast_kernels=False)}
    if torch is not None:
        sides["pytorch"] = (pytorch_step(x, t, threads), lambda: None)

    for step, synchronize in sides.values():  # warm-up: allocations, lazy initialisation, caches
        images_per_second(step, max(2, iterations // 4), batch_size, synchronize)
    figures: dict[str, list[float]] = {name: [] for name in sides}
    for run in range(1, repeats + 1):
        line = []
        for name, (step, synchronize) in sides.items():
            figures[name].append(images_per_second(step, iterations, batch_size, synchronize))
            line.append(f"{name} {figures[name][-1]:8.1f}")
        print(f"run {run}: " + "   ".join(line) + "  images/s")

    medians = {name: statistics.median(values) for name, values in figures.items()}
    for name, value in medians.items():
        print(f"{name} median: {value:.1f} images/s ({1000 * batch_size / value:.1f} ms per step)")
    print(f"ratio course/chainer {medians['course'] / medians['chainer']:.2f}")
    if "pytorch" in medians:
        print(f"ratio chainer/pytorch {medians['chainer'] / medians['pytorch']:.2f}")
        print(f"ratio course/pytorch {medians['course'] / medians['pytorch']:.2f}")
    else:
        print("ratio course/pytorch n/a")


BENCHMARKS = {"mnist": benchmark_mnist}


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run one benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS), help="what to time")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per step (default: the active profile's batch size for the lesson)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side (default 5)")
    parser.add_argument("--iterations", type=int, default=20, help="training steps per run (default 20)")
    args = parser.parse_args(argv)
    batch_size = args.batch_size or course.sizes(args.benchmark).batch_size
    if batch_size < 1 or args.repeats < 1 or args.iterations < 1:
        parser.error("--batch-size, --repeats and --iterations must be positive")
    BENCHMARKS[args.benchmark](batch_size, args.repeats, args.iterations)


if __name__ == "__main__":
    main()
