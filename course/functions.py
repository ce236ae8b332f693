"""Faster NumPy versions of the two operations that dominate lesson 2's CNN on a CPU.

On NumPy, Chainer 7.8.1 spends most of a CNN training step in two places (measurements in
``benchmarks/README.md``):

* ``F.convolution_2d`` lays out its im2col buffer as ``(N, C, kh, kw, H, W)``, so ``numpy.tensordot``
  must copy the whole buffer into ``(N*H*W, C*kh*kw)`` order before the matrix product, and the
  gradient for ``W`` builds (and copies) the buffer again. Its output is a transposed view, which
  slows down every elementwise function after it (ReLU and its gradient).
* ``F.max_pooling_2d`` pads, builds a ``(N, C, 2, 2, H/2, W/2)`` copy and runs ``argmax`` over axes
  of length 4; its gradient scatters through a flat index array and a col2im.

The functions here compute the same things with less data movement:

* :func:`convolution_2d` builds the im2col buffer once, as ``(C*kh*kw, N*H*W)``, so the forward
  pass, the gradient for ``W`` and the gradient for ``x`` are each one matrix product with no copy
  of the buffer, and its output is C-contiguous ``(N, C, H, W)``. The products are the ones
  ``F.convolution_2d`` computes, so results agree up to float rounding (summation order).
* :func:`max_pooling_2x2` takes the maximum of horizontal pairs, then of vertical pairs of those,
  and sends the gradient to the first maximal pixel in the order Chainer's ``argmax`` uses
  (top-left, top-right, bottom-left, bottom-right): values and gradients are bit for bit those of
  ``F.max_pooling_2d(x, 2)``.

Both fall back to the Chainer function for everything else (CuPy and ChainerX arrays, where cuDNN
is the fast path; dilation; groups; odd image sizes), so a model can always use them. Their second
derivatives are built from Chainer functions, so double backpropagation works too.
:class:`Convolution2D` is ``L.Convolution2D`` (same arguments, parameters and saved files) using
:func:`convolution_2d`. ``tests/test_fast_functions.py`` checks all of this.
"""
from __future__ import annotations

from typing import Sequence

import chainer
import chainer.functions as F
import chainer.links as L
import numpy
from chainer import function_node
from chainer.utils import type_check

__all__ = ["Convolution2D", "convolution_2d", "max_pooling_2x2"]


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _is_numpy(*arrays) -> bool:
    """True when every given array (or Variable) that is not None holds a NumPy array."""
    return all(isinstance(chainer.as_array(a), numpy.ndarray) for a in arrays if a is not None)


# --------------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------------


class _ConvGeometry:
    """Stride and padding of a convolution, and the im2col/col2im helpers that use them."""

    def __init__(self, stride: tuple[int, int], pad: tuple[int, int]):
        self.sy, self.sx = stride
        self.ph, self.pw = pad

    def out_size(self, h: int, w: int, kh: int, kw: int) -> tuple[int, int]:
        """Output height and width (``cover_all=False``, as in ``L.Convolution2D``)."""
        return (h + 2 * self.ph - kh) // self.sy + 1, (w + 2 * self.pw - kw) // self.sx + 1

    def im2col(self, x: numpy.ndarray, kh: int, kw: int) -> numpy.ndarray:
        """``(N, C, H, W)`` -> ``(C*kh*kw, N*oh*ow)``: row ``(c, i, j)`` holds pixel ``(i, j)`` of every window."""
        n, c, h, w = x.shape
        oh, ow = self.out_size(h, w, kh, kw)
        padded = numpy.zeros((c, n, h + 2 * self.ph, w + 2 * self.pw), dtype=x.dtype)
        padded[:, :, self.ph:self.ph + h, self.pw:self.pw + w] = x.transpose(1, 0, 2, 3)
        col = numpy.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                col[:, i, j] = padded[:, :, i:i + self.sy * (oh - 1) + 1:self.sy,
                                      j:j + self.sx * (ow - 1) + 1:self.sx]
        return col.reshape(c * kh * kw, n * oh * ow)

    def col2im(self, col: numpy.ndarray, x_shape: tuple[int, ...], kh: int, kw: int) -> numpy.ndarray:
        """The adjoint of :meth:`im2col`: add each window pixel back where it came from; ``(N, C, H, W)``."""
        n, c, h, w = x_shape
        oh, ow = self.out_size(h, w, kh, kw)
        col = col.reshape(c, kh, kw, n, oh, ow)
        padded = numpy.zeros((c, n, h + 2 * self.ph, w + 2 * self.pw), dtype=col.dtype)
        for i in range(kh):  # the same order of additions as chainer.utils.conv.col2im_cpu
            for j in range(kw):
                padded[:, :, i:i + self.sy * (oh - 1) + 1:self.sy,
                       j:j + self.sx * (ow - 1) + 1:self.sx] += col[:, i, j]
        return numpy.ascontiguousarray(
            padded[:, :, self.ph:self.ph + h, self.pw:self.pw + w].transpose(1, 0, 2, 3))

    @staticmethod
    def channels_first(gy: numpy.ndarray) -> numpy.ndarray:
        """``(N, O, oh, ow)`` -> ``(O, N*oh*ow)``, the layout the matrix products want."""
        n, o = gy.shape[:2]
        return numpy.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(o, -1)


class Convolution2DFunction(function_node.FunctionNode):
    """``y = W * x + b`` on NumPy arrays; the same result as ``F.convolution_2d`` (up to rounding)."""

    def __init__(self, stride: tuple[int, int], pad: tuple[int, int]):
        super().__init__()
        self.geometry = _ConvGeometry(stride, pad)
        self.col: numpy.ndarray | None = None  # the im2col buffer, kept for the gradient of W

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ("x", "W", "b")[:len(in_types)])
        x_type, w_type = in_types[:2]
        type_check.expect(
            x_type.dtype.kind == "f", w_type.dtype == x_type.dtype,
            x_type.ndim == 4, w_type.ndim == 4, x_type.shape[1] == w_type.shape[1],
        )
        if type_check.eval(in_types.size()) == 3:
            b_type = in_types[2]
            type_check.expect(b_type.dtype == x_type.dtype, b_type.ndim == 1,
                              b_type.shape[0] == w_type.shape[0])

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        x, W = inputs[:2]
        n, _, h, w = x.shape
        o, _, kh, kw = W.shape
        oh, ow = self.geometry.out_size(h, w, kh, kw)
        col = self.geometry.im2col(x, kh, kw)
        if chainer.config.enable_backprop:
            self.col = col
        y = W.reshape(o, -1).dot(col).reshape(o, n, oh, ow)  # one matrix product, no copy of col
        out = numpy.empty((n, o, oh, ow), dtype=x.dtype)
        if len(inputs) == 3:  # add the bias while transposing to (N, O, oh, ow)
            numpy.add(y.transpose(1, 0, 2, 3), inputs[2].reshape(1, o, 1, 1), out=out)
        else:
            out[...] = y.transpose(1, 0, 2, 3)
        return out,

    def backward(self, indexes, grad_outputs):
        x, W = self.get_retained_inputs()
        gy, = grad_outputs
        grads = []
        if 0 in indexes:
            grads.append(_Convolution2DGradX(self.geometry, x.shape).apply((W, gy))[0])
        if 1 in indexes:
            grads.append(_Convolution2DGradW(self.geometry, W.shape, self.col).apply((x, gy))[0])
        self.col = None  # handed over (a second backward pass rebuilds it)
        if 2 in indexes:
            grads.append(F.sum(gy, axis=(0, 2, 3)))  # as Chainer does
        return grads


class _Convolution2DGradW(function_node.FunctionNode):
    """``gW`` from ``(x, gy)``: one matrix product with the forward pass's im2col buffer."""

    def __init__(self, geometry: _ConvGeometry, w_shape: tuple[int, ...], col: numpy.ndarray | None):
        super().__init__()
        self.geometry, self.w_shape, self.col = geometry, w_shape, col

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        x, gy = inputs
        kh, kw = self.w_shape[2:]
        col = self.col if self.col is not None else self.geometry.im2col(x, kh, kw)
        self.col = None  # the buffer is not needed again
        gW = self.geometry.channels_first(gy).dot(col.T)  # (O, N*oh*ow) x (N*oh*ow, C*kh*kw)
        return gW.reshape(self.w_shape).astype(x.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        x, gy = self.get_retained_inputs()
        ggW, = grad_outputs
        geometry = self.geometry
        stride, pad = (geometry.sy, geometry.sx), (geometry.ph, geometry.pw)
        grads = []
        if 0 in indexes:
            grads.append(F.deconvolution_2d(gy, ggW, stride=stride, pad=pad, outsize=x.shape[2:]))
        if 1 in indexes:
            grads.append(F.convolution_2d(x, ggW, stride=stride, pad=pad))
        return grads


class _Convolution2DGradX(function_node.FunctionNode):
    """``gx`` from ``(W, gy)``: one matrix product, then col2im."""

    def __init__(self, geometry: _ConvGeometry, x_shape: tuple[int, ...]):
        super().__init__()
        self.geometry, self.x_shape = geometry, x_shape

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        W, gy = inputs
        o, _, kh, kw = W.shape
        gcol = W.reshape(o, -1).T.dot(self.geometry.channels_first(gy))  # (C*kh*kw, N*oh*ow)
        return self.geometry.col2im(gcol, self.x_shape, kh, kw).astype(gy.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        W, gy = self.get_retained_inputs()
        ggx, = grad_outputs
        geometry = self.geometry
        stride, pad = (geometry.sy, geometry.sx), (geometry.ph, geometry.pw)
        grads = []
        if 0 in indexes:
            grads.append(_Convolution2DGradW(geometry, W.shape, None).apply((ggx, gy))[0])
        if 1 in indexes:
            grads.append(F.convolution_2d(ggx, W, stride=stride, pad=pad))
        return grads


def convolution_2d(x, W, b=None, stride: int | Sequence[int] = 1, pad: int | Sequence[int] = 0):
    """``F.convolution_2d(x, W, b, stride, pad)``, faster on NumPy (see the module docstring).

    Falls back to ``F.convolution_2d`` for CuPy and ChainerX arrays.
    """
    if not _is_numpy(x, W, b):
        return F.convolution_2d(x, W, b, stride, pad)
    inputs = (x, W) if b is None else (x, W, b)
    y, = Convolution2DFunction(_pair(stride), _pair(pad)).apply(inputs)
    return y


class Convolution2D(L.Convolution2D):
    """``L.Convolution2D`` whose forward pass uses :func:`convolution_2d` when it can.

    Same constructor, parameters (``W``, ``b``) and saved files as ``L.Convolution2D``.
    """

    def forward(self, x):
        if (self.W.raw_array is None or self.dilate != (1, 1) or self.groups != 1
                or self.x_layout is not None or not _is_numpy(x, self.W)):
            return super().forward(x)  # lazy initialisation, and everything the fast path lacks
        return convolution_2d(x, self.W, self.b, self.stride, self.pad)


# --------------------------------------------------------------------------------------------------
# 2x2 max pooling
# --------------------------------------------------------------------------------------------------

class MaxPooling2x2(function_node.FunctionNode):
    """``F.max_pooling_2d(x, 2)`` for NumPy images with even height and width."""

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ("x",))
        x_type, = in_types
        type_check.expect(x_type.dtype.kind == "f", x_type.ndim == 4,
                          x_type.shape[2] % 2 == 0, x_type.shape[3] % 2 == 0)

    def forward_cpu(self, inputs):
        x, = inputs
        self.retain_inputs((0,))
        # Columns first: the maximum of each horizontal pair, then of each vertical pair of those.
        # (Whole-row views keep NumPy's loops long; a 2x2-corner view would loop 14 pixels at a time.)
        pairs = numpy.maximum(x[..., 0::2], x[..., 1::2])
        return numpy.maximum(pairs[:, :, 0::2], pairs[:, :, 1::2]),

    def backward(self, indexes, grad_outputs):
        x = self.get_retained_inputs()[0].array
        return _MaxPooling2x2Grad(*_winners(x)).apply(grad_outputs)


def _winners(x: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Where each window's maximum is: ``left`` (N, C, H, W/2) and ``top`` (N, C, H/2, W/2), booleans.

    ``left`` says, for each horizontal pair, whether its left pixel is the larger (ties: left);
    ``top`` says, for each window, whether the top pair's maximum is the larger (ties: top). The
    pixel they pick is the first maximal one in reading order (top-left, top-right, bottom-left,
    bottom-right), the one ``F.max_pooling_2d``'s argmax picks. (Windows holding NaN may differ;
    their gradient is meaningless either way.)
    """
    left_pixels, right_pixels = x[..., 0::2], x[..., 1::2]
    left = left_pixels >= right_pixels
    pairs = numpy.maximum(left_pixels, right_pixels)
    top = pairs[:, :, 0::2] >= pairs[:, :, 1::2]
    return left, top


def _route(g: numpy.ndarray, first: numpy.ndarray, out_first: numpy.ndarray, out_second: numpy.ndarray) -> None:
    """``out_first = g where first else +0.0``, ``out_second = g where not first else +0.0``.

    ``g * mask + 0`` is exact: ``g`` where the mask is true, +0.0 elsewhere (``+ 0`` turns the -0.0
    of a negative ``g`` times 0 into +0.0, which is what Chainer's scatter-add gives). On contiguous
    arrays it runs several times faster than ``numpy.where``, and copying the results into the
    strided ``out_*`` views is faster than computing into them. (Tried and slower: ``numpy.where``,
    ``numpy.copyto(..., where=mask)``, and ANDing the float bits with integer masks.)
    """
    for mask, out in ((first, out_first), (~first, out_second)):
        routed = numpy.multiply(g, mask)
        numpy.add(routed, 0, out=routed)
        out[...] = routed


class _MaxPooling2x2Grad(function_node.FunctionNode):
    """Send each window's gradient to its maximal pixel (the others get 0)."""

    def __init__(self, left: numpy.ndarray, top: numpy.ndarray):
        super().__init__()
        self.left, self.top = left, top

    def forward_cpu(self, inputs):
        gy, = inputs
        n, c, h, half_w = self.left.shape
        pairs = numpy.empty((n, c, h, half_w), dtype=gy.dtype)  # the gradient of each horizontal pair
        _route(gy, self.top, pairs[:, :, 0::2], pairs[:, :, 1::2])
        gx = numpy.empty((n, c, h, 2 * half_w), dtype=gy.dtype)
        _route(pairs, self.left, gx[..., 0::2], gx[..., 1::2])
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


def max_pooling_2x2(x):
    """``F.max_pooling_2d(x, 2)``: the same values and gradients, faster on NumPy.

    Falls back to ``F.max_pooling_2d`` for CuPy/ChainerX arrays and odd image sizes.
    """
    array = chainer.as_array(x)
    if (not isinstance(array, numpy.ndarray) or array.ndim != 4
            or array.shape[2] % 2 or array.shape[3] % 2):
        return F.max_pooling_2d(x, 2)
    y, = MaxPooling2x2().apply((x,))
    return y
