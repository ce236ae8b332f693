"""Faster NumPy kernels beneath Chainer's own convolution, deconvolution, batch normalisation and 2x2 max pooling.

On NumPy, Chainer 7.8.1 spends most of a CNN training step in ``F.convolution_2d`` and
``F.max_pooling_2d``, and most of a DCGAN step in convolutions, deconvolutions and batch
normalisation (measurements in ``benchmarks/README.md``). :func:`install` replaces the NumPy code of
the Chainer classes behind them, the CPU forward pass and the backward pass of
``Convolution2DFunction``, ``Deconvolution2DFunction`` and ``MaxPoolingND``, and the forward pass
and gradient of ``GeneralBatchNormalizationImpl``, with kernels that move less data
(:mod:`course.kernels.convolution`, :mod:`course.kernels.deconvolution`,
:mod:`course.kernels.batch_normalization`, :mod:`course.kernels.pooling`: their docstrings say why
they are faster). So every Chainer model on NumPy arrays gets them, the course's and yours alike,
while the model itself stays plain Chainer (``L.Convolution2D``, ``L.Deconvolution2D``,
``L.BatchNormalization``, ``F.max_pooling_2d``).

A kernel runs only where it reproduces Chainer's results: the convolution and the deconvolution up
to float rounding (the same products, summed in another order), the batch normalisation and the
pooling bit for bit, forward, backward and double backward. Every other call (CuPy and ChainerX
arrays, dilation, groups, other pooling windows, odd sizes, ``return_indices=True``, float16,
mixed dtypes, iDeep, ...) goes to Chainer's own code unchanged, and so does the backward pass of
such a call.

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
from chainer.functions.connection.deconvolution_2d import Deconvolution2DFunction
from chainer.functions.normalization.batch_normalization import GeneralBatchNormalizationImpl
from chainer.functions.pooling.max_pooling_nd import MaxPoolingND

from course.kernels import batch_normalization, convolution, deconvolution, pooling

__all__ = ["ENVIRONMENT_VARIABLE", "disabled", "install", "install_unless_disabled", "installed",
           "uninstall", "used_fast_path"]

ENVIRONMENT_VARIABLE = "COURSE_FAST_KERNELS"
"""Set to ``0``, ``import course`` leaves Chainer's methods untouched."""

_KERNELS: dict[type, tuple[tuple[str, ...], Callable[..., dict[str, Callable]]]] = {
    # the class, the names of the methods the kernel replaces, and the function that builds them
    Convolution2DFunction: (("forward_cpu", "backward"), convolution.fast_methods),
    Deconvolution2DFunction: (("forward_cpu", "backward"), deconvolution.fast_methods),
    GeneralBatchNormalizationImpl: (("forward", "backward"), batch_normalization.fast_methods),
    MaxPoolingND: (("forward_cpu", "backward"), pooling.fast_methods),
}
_originals: dict[type, dict[str, Callable]] = {}  # what install() replaced; empty when not installed


def install() -> None:
    """Put the fast kernels beneath Chainer's functions (again: no change)."""
    if _originals:
        return
    for cls, (names, fast_methods) in _KERNELS.items():
        originals = {name: cls.__dict__[name] for name in names}
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
    return any(module.used_fast_path(node) for module in (convolution, deconvolution, batch_normalization, pooling))
