"""Faster NumPy kernels beneath Chainer's own convolution and 2x2 max pooling.

On NumPy, Chainer 7.8.1 spends most of a CNN training step in ``F.convolution_2d`` and
``F.max_pooling_2d`` (measurements in ``benchmarks/README.md``). :func:`install` replaces the CPU
forward pass and the backward pass of the Chainer function nodes behind them,
``Convolution2DFunction`` and ``MaxPoolingND``, with kernels that move less data
(:mod:`course.kernels.convolution`, :mod:`course.kernels.pooling`: their docstrings say why they
are faster). So every Chainer model on NumPy arrays gets them, the course's and yours alike, while
the model itself stays plain Chainer (``L.Convolution2D``, ``F.max_pooling_2d``).

A kernel runs only where it reproduces Chainer's results: the convolution up to float rounding (the
same products, summed in another order), the pooling bit for bit, forward, backward and double
backward. Every other call (CuPy and ChainerX arrays, dilation, groups, other pooling windows, odd
sizes, ``return_indices=True``, float16 convolutions, iDeep, ...) goes to Chainer's own code
unchanged, and so does the backward pass of such a call.

``import course`` installs the kernels unless the environment variable ``COURSE_FAST_KERNELS`` is
``0`` (unset or any other value: installed). :func:`disabled` runs a block on Chainer's own code,
to compare or to time the two. A graph built with the kernels installed must be backpropagated with
them installed. ``tests/test_kernels.py`` checks all of this against Chainer.
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterator

from chainer import function_node
from chainer.functions.connection.convolution_2d import Convolution2DFunction
from chainer.functions.pooling.max_pooling_nd import MaxPoolingND

from course.kernels import convolution, pooling

__all__ = ["ENVIRONMENT_VARIABLE", "disabled", "install", "install_unless_disabled", "installed",
           "uninstall", "used_fast_path"]

ENVIRONMENT_VARIABLE = "COURSE_FAST_KERNELS"
"""Set to ``0``, ``import course`` leaves Chainer's methods untouched."""

_KERNELS: dict[type, Callable[..., dict[str, Callable]]] = {
    Convolution2DFunction: convolution.fast_methods,
    MaxPoolingND: pooling.fast_methods,
}
_METHODS = ("forward_cpu", "backward")
_originals: dict[type, dict[str, Callable]] = {}  # what install() replaced; empty when not installed


def install() -> None:
    """Put the fast kernels beneath Chainer's convolution and max pooling (again: no change)."""
    if _originals:
        return
    for cls, fast_methods in _KERNELS.items():
        originals = {name: cls.__dict__[name] for name in _METHODS}
        for name, method in fast_methods(**originals).items():
            setattr(cls, name, method)
        _originals[cls] = originals


def uninstall() -> None:
    """Restore Chainer's own methods, exactly as they were (not installed: no change)."""
    while _originals:
        cls, originals = _originals.popitem()
        for name, method in originals.items():
            setattr(cls, name, method)


def installed() -> bool:
    """Whether the fast kernels are in place."""
    return bool(_originals)


def install_unless_disabled() -> None:
    """:func:`install`, unless the environment variable ``COURSE_FAST_KERNELS`` is ``0``."""
    if os.environ.get(ENVIRONMENT_VARIABLE) != "0":
        install()


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run the block on Chainer's own code, then put back whatever was installed before."""
    was_installed = installed()
    uninstall()
    try:
        yield
    finally:
        if was_installed:
            install()


def used_fast_path(node: function_node.FunctionNode) -> bool:
    """Whether this function node's forward pass ran on one of the fast kernels.

    For example ``used_fast_path(y.creator)`` for ``y = F.max_pooling_2d(x, 2)``.
    """
    return convolution.used_fast_path(node) or pooling.used_fast_path(node)
