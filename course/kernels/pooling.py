"""A faster NumPy kernel beneath ``F.max_pooling_2d(x, 2)`` (Chainer's ``MaxPoolingND``).

On NumPy, Chainer 7.8.1's max pooling pads the image, builds a ``(N, C, 2, 2, H/2, W/2)`` copy and
runs ``argmax`` over axes of length 4; its gradient scatters through a flat index array and a
col2im.

The kernel here takes the maximum of horizontal pairs, then of vertical pairs of those, and sends
the gradient to the first maximal pixel in the order Chainer's ``argmax`` uses (top-left,
top-right, bottom-left, bottom-right; a NaN counts as the maximum, as in ``argmax``): values and
gradients, first and second order, are bit for bit Chainer's.

:func:`fast_methods` builds the ``forward_cpu`` and ``backward`` that :func:`course.kernels.install`
puts on ``MaxPoolingND``. The forward pass takes the fast path for 2x2 windows with stride 2 and
no padding on NumPy images of even height and width (any float dtype, either ``cover_all``: the
two agree on even sizes), and hands everything else to Chainer's own method unchanged: other
window sizes, strides and padding, odd sizes, other numbers of spatial axes, ``return_indices=True``
(its caller reads the node's ``indexes``), iDeep and ChainerX fallback. The backward pass of a node
whose forward pass took the fast path uses the fast gradient below; any other node's is Chainer's.
"""
from __future__ import annotations

from typing import Callable

import numpy
from chainer import function_node
from chainer.backends import intel64
from chainer.functions.pooling.max_pooling_nd import MaxPoolingND

__all__ = ["fast_methods", "used_fast_path"]

_HAS_NAN = "_course_has_nan"  # on a MaxPoolingND node whose forward pass took the fast path


def _takes_fast_path(node: MaxPoolingND, x) -> bool:
    """Whether the fast kernel reproduces ``node``'s Chainer forward pass on ``x``."""
    return (type(x) is numpy.ndarray and node.ndim == 2 and not node.return_indices
            and node.ksize == (2, 2) and node.stride == (2, 2) and node.pad == (0, 0)
            and x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0
            and not node._is_chainerx_fallback_mode
            and not (intel64.should_use_ideep(">=auto") and intel64.inputs_all_ready((x,))))


def _forward(node: MaxPoolingND, x: numpy.ndarray) -> tuple[numpy.ndarray]:
    """Each 2x2 window's maximum: of the horizontal pairs' maxima, the larger of each vertical pair."""
    node.retain_inputs((0,))
    # Whole-row views keep NumPy's loops long; a 2x2-corner view would loop 14 pixels at a time.
    pairs = numpy.maximum(x[..., 0::2], x[..., 1::2])
    y = numpy.maximum(pairs[:, :, 0::2], pairs[:, :, 1::2])
    # A NaN anywhere makes the sum NaN (so may +inf with -inf: that only costs the slower exact path).
    setattr(node, _HAS_NAN, bool(numpy.isnan(y.sum())))
    return y,


def fast_methods(forward_cpu: Callable, backward: Callable) -> dict[str, Callable]:
    """``MaxPoolingND``'s ``forward_cpu`` and ``backward`` on the fast kernel.

    ``forward_cpu`` and ``backward`` are Chainer's own methods, called wherever the fast path
    does not apply (see the module docstring).
    """

    def fast_forward_cpu(self, inputs):
        """Chainer's ``forward_cpu``, on the course's kernel where it reproduces Chainer's results."""
        x, = inputs
        if not _takes_fast_path(self, x):
            return forward_cpu(self, inputs)
        return _forward(self, x)

    def fast_backward(self, indexes, grad_outputs):
        """Chainer's ``backward``, on the course's kernel when the forward pass was."""
        has_nan = self.__dict__.get(_HAS_NAN)
        if has_nan is None:
            return backward(self, indexes, grad_outputs)
        x = self.get_retained_inputs()[0].array
        return _MaxPooling2x2Grad(*_winners(x, has_nan)).apply(grad_outputs)

    return {"forward_cpu": fast_forward_cpu, "backward": fast_backward}


def used_fast_path(node: function_node.FunctionNode) -> bool:
    """Whether this ``MaxPoolingND`` node's forward pass ran on the course's kernel."""
    return _HAS_NAN in node.__dict__


def _winners(x: numpy.ndarray, has_nan: bool) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Where each window's maximum is: ``left`` (N, C, H, W/2) and ``top`` (N, C, H/2, W/2), booleans.

    ``left`` says, for each horizontal pair, whether its left pixel is the larger (ties: left);
    ``top`` says, for each window, whether the top pair's maximum is the larger (ties: top). The
    pixel they pick is the first maximal one in reading order (top-left, top-right, bottom-left,
    bottom-right), the one Chainer's ``argmax`` picks. ``argmax`` takes the first NaN as the
    maximum, and so do these where ``has_nan`` says there may be one.
    """
    left_pixels, right_pixels = x[..., 0::2], x[..., 1::2]
    left = left_pixels >= right_pixels
    pairs = numpy.maximum(left_pixels, right_pixels)  # NaN where either pixel is
    top = pairs[:, :, 0::2] >= pairs[:, :, 1::2]
    if has_nan:
        left |= numpy.isnan(left_pixels)
        top |= numpy.isnan(pairs[:, :, 0::2])
    return left, top


def _route(g: numpy.ndarray, first: numpy.ndarray, out_first: numpy.ndarray, out_second: numpy.ndarray,
           finite: bool) -> None:
    """``out_first = g where first else +0.0``, ``out_second = g where not first else +0.0``, then ``+ 0``.

    Chainer's gradient adds each value to a zero (col2im), which turns -0.0 into +0.0; so does
    ``+ 0`` here. For finite ``g``, ``g * mask + 0`` is exact: ``g`` where the mask is true, +0.0
    elsewhere. On contiguous arrays it runs several times faster than ``numpy.where``, and copying
    the results into the strided ``out_*`` views is faster than computing into them. (Tried and
    slower: ``numpy.where``, ``numpy.copyto(..., where=mask)``, and ANDing the float bits with
    integer masks.) An infinite or NaN times 0 is NaN, so unless ``finite`` says that every value of
    ``g`` is finite, ``numpy.where`` does it.
    """
    for mask, out in ((first, out_first), (~first, out_second)):
        routed = numpy.multiply(g, mask) if finite else numpy.where(mask, g, 0)
        numpy.add(routed, 0, out=routed)
        out[...] = routed


class _MaxPooling2x2Grad(function_node.FunctionNode):
    """Send each window's gradient to its maximal pixel (the others get 0)."""

    def __init__(self, left: numpy.ndarray, top: numpy.ndarray):
        super().__init__()
        self.left, self.top = left, top

    def forward_cpu(self, inputs):
        gy, = inputs
        finite = bool(numpy.isfinite(gy.sum()))  # an overflowing sum only costs the slower exact path
        n, c, h, half_w = self.left.shape
        pairs = numpy.empty((n, c, h, half_w), dtype=gy.dtype)  # the gradient of each horizontal pair
        _route(gy, self.top, pairs[:, :, 0::2], pairs[:, :, 1::2], finite)
        gx = numpy.empty((n, c, h, 2 * half_w), dtype=gy.dtype)
        _route(pairs, self.left, gx[..., 0::2], gx[..., 1::2], finite)
        return gx,

    def backward(self, indexes, grad_outputs):
        return _MaxPooling2x2Gather(self.left, self.top).apply(grad_outputs)


class _MaxPooling2x2Gather(function_node.FunctionNode):
    """Each window's value at its maximal pixel: the gradient of :class:`_MaxPooling2x2Grad`."""

    def __init__(self, left: numpy.ndarray, top: numpy.ndarray):
        super().__init__()
        self.left, self.top = left, top

    def forward_cpu(self, inputs):
        ggx, = inputs
        pairs = numpy.where(self.left, ggx[..., 0::2], ggx[..., 1::2])
        return numpy.where(self.top, pairs[:, :, 0::2], pairs[:, :, 1::2]),

    def backward(self, indexes, grad_outputs):
        return _MaxPooling2x2Grad(self.left, self.top).apply(grad_outputs)
