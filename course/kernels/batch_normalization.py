"""A faster NumPy kernel beneath ``F.batch_normalization`` (Chainer's ``GeneralBatchNormalizationImpl``).

On NumPy, Chainer 7.8.1's batch normalisation in training mode (``L.BatchNormalization`` while
``chainer.config.train``) computes the variance with ``x.var``, which computes the mean a second
time and allocates ``x - mean`` once more; normalises into new arrays and copies the result once
more (``astype`` without ``copy=False``); and its gradient computes ``x_hat = (x - mean) / std``
again and allocates four temporaries the size of ``x``.

The kernel here makes the same floating-point operations in the same order, so its results are bit
for bit Chainer's, but with fewer passes over the data: ``x - mean`` once, for the variance and for
``x_hat``; each further step in place; and ``x_hat`` kept for the gradient (one array the size of
``x`` per layer, held as long as the graph is) instead of computed again.

:func:`fast_methods` builds the ``forward`` and ``backward`` that :func:`course.kernels.install`
puts on ``GeneralBatchNormalizationImpl``, the implementation that ``BatchNormalization`` and
``BatchNormalizationGrad`` call on NumPy and CuPy arrays without cuDNN or iDeep. The fast path runs
for NumPy arrays whose ``x``, ``gamma`` and ``beta`` are all float32 or all float64 (any axes, with
or without running averages), and hands everything else to Chainer's own methods unchanged: CuPy
and ChainerX arrays, float16 or mixed dtypes, iDeep arrays, non-standard memory layouts, and
subclasses of ``GeneralBatchNormalizationImpl`` (which may compute the statistics otherwise, e.g.
across processes). The gradient of a node whose forward pass took the fast path is the fast one
wherever ``gy`` is a NumPy array of ``x``'s dtype; second derivatives are Chainer's own
(``BatchNormalizationGrad.backward``), which do not use these methods.
"""
from __future__ import annotations

from typing import Callable

import numpy
from chainer import function_node
from chainer.functions.normalization.batch_normalization import GeneralBatchNormalizationImpl

__all__ = ["fast_methods", "used_fast_path"]

_FAST_DTYPES = (numpy.float32, numpy.float64)


class _Normalized:
    """What the forward pass hands its gradient (as ``forward_data``): ``x_hat``, the normalised input."""

    def __init__(self, x_hat: numpy.ndarray):
        self.x_hat = x_hat


def _takes_fast_path(impl: GeneralBatchNormalizationImpl, x, gamma, beta, x_layout, xp,
                     running_mean, running_var) -> bool:
    """Whether the fast kernel reproduces ``impl``'s Chainer forward pass on these arguments."""
    return (type(impl) is GeneralBatchNormalizationImpl and xp is numpy and x_layout is None
            and all(type(a) is numpy.ndarray for a in (x, gamma, beta))
            and all(a is None or type(a) is numpy.ndarray for a in (running_mean, running_var))
            and x.dtype in _FAST_DTYPES and x.dtype == gamma.dtype == beta.dtype)


def _statistics(x: numpy.ndarray, axis: tuple[int, ...], expander: tuple) -> tuple[numpy.ndarray, ...]:
    """``x.mean(axis)``, ``x.var(axis)`` and ``x - mean``, with NumPy's own operations for the first two.

    ``x.var`` computes ``x - mean`` (its mean is ``x.mean``'s, bit for bit: the same sum divided by
    the same count), squares it, sums and divides; so do these lines, keeping ``x - mean``.
    """
    mean = x.mean(axis=axis, dtype=x.dtype)
    centred = x - mean[expander]
    squares = numpy.square(centred)
    var = squares.sum(axis=axis, dtype=x.dtype)
    count = numpy.intp(x.size // mean.size)  # the count x.var divides by, of the same type
    numpy.true_divide(var, count, out=var, casting="unsafe")
    return mean, var, centred


def _forward(axis, gamma, x, expander, beta, eps, decay, running_mean, running_var):
    """Chainer's forward pass of ``GeneralBatchNormalizationImpl`` on NumPy, with fewer passes over ``x``."""
    mean, var, x_hat = _statistics(x, axis, expander)
    inv_std = numpy.reciprocal(numpy.sqrt(var + eps, dtype=x.dtype))
    x_hat *= inv_std[expander]  # (x - mean) * inv_std, as Chainer's _x_hat
    y = x_hat * gamma[expander]
    y += beta[expander]
    if running_mean is not None:  # Chainer's own update of the running averages
        m = x.size // gamma.size
        adjust = m / max(m - 1., 1.)  # unbiased estimation
        running_mean *= decay
        running_mean += (1 - decay) * mean
        running_var *= decay
        running_var += (1 - decay) * adjust * var
    return y, None, running_mean, running_var, mean, var, inv_std, _Normalized(x_hat)


def _backward(axis, gamma, gy, x_hat, expander, inv_std):
    """Chainer's gradient of ``GeneralBatchNormalizationImpl`` on NumPy, in place where Chainer allocates."""
    gbeta = gy.sum(axis=axis, dtype=gamma.dtype)
    work = gy * x_hat
    ggamma = work.sum(axis=axis, dtype=gamma.dtype)
    inv_m = gamma.dtype.type(1. / (x_hat.size // gamma.size))
    # gx = (gamma * inv_std) * (gy - (x_hat * ggamma + gbeta) * inv_m), one operation at a time
    numpy.multiply(x_hat, ggamma[expander], out=work)
    work += gbeta[expander]
    work *= inv_m
    numpy.subtract(gy, work, out=work)
    numpy.multiply((gamma * inv_std)[expander], work, out=work)
    return work, None, ggamma, gbeta


def fast_methods(forward: Callable, backward: Callable) -> dict[str, Callable]:
    """``GeneralBatchNormalizationImpl``'s ``forward`` and ``backward`` on the fast kernel.

    ``forward`` and ``backward`` are Chainer's own methods, called wherever the fast path does not
    apply (see the module docstring).
    """

    def fast_forward(self, axis, gamma, x, x_layout, xp, expander, beta, eps, decay, running_mean, running_var):
        """Chainer's ``forward``, on the course's kernel where it reproduces Chainer's results."""
        if not _takes_fast_path(self, x, gamma, beta, x_layout, xp, running_mean, running_var):
            return forward(self, axis, gamma, x, x_layout, xp, expander, beta, eps, decay, running_mean, running_var)
        return _forward(axis, gamma, x, expander, beta, eps, decay, running_mean, running_var)

    def fast_backward(self, axis, gamma, gy, x, x_layout, xp, expander, mean, inv_std, eps, var, forward_data):
        """Chainer's ``backward``, on the course's kernel when the forward pass was."""
        if not (isinstance(forward_data, _Normalized) and type(gy) is numpy.ndarray and gy.dtype == x.dtype):
            return backward(self, axis, gamma, gy, x, x_layout, xp, expander, mean, inv_std, eps, var, forward_data)
        return _backward(axis, gamma, gy, forward_data.x_hat, expander, inv_std)

    return {"forward": fast_forward, "backward": fast_backward}


def used_fast_path(node: function_node.FunctionNode) -> bool:
    """Whether this ``BatchNormalization`` node's forward pass ran on the course's kernel."""
    return isinstance(node.__dict__.get("forward_data"), _Normalized)
