"""What every model shares: running it on data in test mode, and counting what training adjusts."""
from __future__ import annotations

import chainer
import numpy

from course.device import get_device


def predict(model: chainer.Link, x, *, batch_size: int = 1000, device=None) -> numpy.ndarray:
    """Run ``model`` on ``x`` in test mode (dropout off, batch statistics frozen), batch by batch; NumPy outputs.

    ``x`` is an array, or anything that slices into arrays (e.g. a dataset reading images from
    disk). The model is moved to ``device`` (default :func:`course.get_device`) and left there.
    """
    device = get_device(device)
    model.to_device(device)
    outputs = []
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        for start in range(0, len(x), batch_size):
            y = model(device.send(x[start : start + batch_size]))
            outputs.append(chainer.backend.CpuDevice().send(y.array))
    return numpy.concatenate(outputs)


def count_parameters(model: chainer.Link) -> int:
    """How many numbers training adjusts (initialised parameters only)."""
    return sum(p.size for p in model.params() if p.array is not None)
