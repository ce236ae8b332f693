"""A faster NumPy kernel beneath ``F.convolution_2d`` (Chainer's ``Convolution2DFunction``).

On NumPy, Chainer 7.8.1 lays out the im2col buffer of a convolution as ``(N, C, kh, kw, H, W)``,
so ``numpy.tensordot`` must copy the whole buffer into ``(N*H*W, C*kh*kw)`` order before the
matrix product, and the gradient for ``W`` builds (and copies) the buffer again. Its output is a
transposed view, which slows down every elementwise function after it (ReLU and its gradient).

The kernel here builds the im2col buffer once, as ``(C*kh*kw, N*H*W)``, so the forward pass, the
gradient for ``W`` and the gradient for ``x`` are each one matrix product with no copy of the
buffer, and its output is C-contiguous ``(N, C, H, W)``. The products are the ones Chainer
computes, summed in another order, so results agree up to float rounding.

:func:`fast_methods` builds the ``forward_cpu`` and ``backward`` that :func:`course.kernels.install`
puts on ``Convolution2DFunction``. The forward pass takes the fast path for float32 and float64
NumPy arrays (``x`` and ``W`` of one dtype) with any stride, padding and ``cover_all``, and hands
everything else to Chainer's own method unchanged: dilation, groups, float16 or mixed dtypes,
iDeep, ChainerX fallback, non-standard memory layouts, ``cudnn_fast``, and outputs of size zero
(for Chainer's own error). The backward pass of a node whose forward pass took the fast path uses
the fast gradients below; any other node's backward pass is Chainer's. Second derivatives are
built from Chainer functions (which run on this kernel in turn), so double backpropagation works.
"""
from __future__ import annotations

from typing import Callable

import chainer
import numpy
from chainer import function_node
from chainer.backends import intel64
from chainer.functions.connection.convolution_2d import Convolution2DFunction
from chainer.utils import conv

__all__ = ["fast_methods", "used_fast_path"]

_FAST_DTYPES = (numpy.float32, numpy.float64)  # float16 has no BLAS, and its rounding would differ
_PLAN = "_course_plan"  # on a Convolution2DFunction node: its _Plan when the fast path ran
_COL = "_course_col"  # and the forward pass's im2col buffer, kept for the gradient of W


class _Plan:
    """The shapes of one convolution: stride, padding, kernel, input and output sizes.

    Also the im2col/col2im that use them, on a zero-padded copy of the input that is large enough
    for every window (``cover_all=True`` windows may run past the padding, and read zeros there, as
    ``chainer.utils.conv.im2col_cpu`` does).
    """

    def __init__(self, node: Convolution2DFunction, x_shape: tuple[int, ...], w_shape: tuple[int, ...]):
        self.stride = node.sy, node.sx
        self.pad = node.ph, node.pw
        self.cover_all = node.cover_all
        self.x_shape = tuple(x_shape)
        self.kh, self.kw = w_shape[2:]
        _, _, h, w = x_shape
        self.oh = conv.get_conv_outsize(h, self.kh, node.sy, node.ph, cover_all=node.cover_all)
        self.ow = conv.get_conv_outsize(w, self.kw, node.sx, node.pw, cover_all=node.cover_all)
        self.padded_size = (max(h + 2 * node.ph, node.sy * (self.oh - 1) + self.kh),
                            max(w + 2 * node.pw, node.sx * (self.ow - 1) + self.kw))

    def _windows(self, i: int, j: int) -> tuple[slice, slice]:
        """Where kernel pixel ``(i, j)`` of every window lies in the padded image."""
        sy, sx = self.stride
        return slice(i, i + sy * (self.oh - 1) + 1, sy), slice(j, j + sx * (self.ow - 1) + 1, sx)

    def im2col(self, x: numpy.ndarray) -> numpy.ndarray:
        """``(N, C, H, W)`` -> ``(C*kh*kw, N*oh*ow)``: row ``(c, i, j)`` holds pixel ``(i, j)`` of every window."""
        n, c, h, w = x.shape
        ph, pw = self.pad
        padded = numpy.zeros((c, n) + self.padded_size, dtype=x.dtype)
        padded[:, :, ph:ph + h, pw:pw + w] = x.transpose(1, 0, 2, 3)
        col = numpy.empty((c, self.kh, self.kw, n, self.oh, self.ow), dtype=x.dtype)
        for i in range(self.kh):
            for j in range(self.kw):
                col[:, i, j] = padded[(slice(None), slice(None)) + self._windows(i, j)]
        return col.reshape(c * self.kh * self.kw, n * self.oh * self.ow)

    def col2im(self, col: numpy.ndarray) -> numpy.ndarray:
        """The adjoint of :meth:`im2col`: add each window pixel back where it came from; ``(N, C, H, W)``."""
        n, c, h, w = self.x_shape
        ph, pw = self.pad
        col = col.reshape(c, self.kh, self.kw, n, self.oh, self.ow)
        padded = numpy.zeros((c, n) + self.padded_size, dtype=col.dtype)
        for i in range(self.kh):  # the same order of additions as chainer.utils.conv.col2im_cpu
            for j in range(self.kw):
                padded[(slice(None), slice(None)) + self._windows(i, j)] += col[:, i, j]
        return numpy.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3))

    @staticmethod
    def channels_first(gy: numpy.ndarray) -> numpy.ndarray:
        """``(N, O, oh, ow)`` -> ``(O, N*oh*ow)``, the layout the matrix products want."""
        return numpy.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(gy.shape[1], -1)


def _fast_plan(node: Convolution2DFunction, inputs: tuple[numpy.ndarray, ...]) -> _Plan | None:
    """The plan of the fast path for this forward pass, or None where Chainer's own code must run."""
    x, W = inputs[:2]
    if (node.groups != 1 or node.dy != 1 or node.dx != 1 or node.cudnn_fast
            or node._is_chainerx_fallback_mode
            or any(layout is not None for layout in node.input_layouts)
            or not all(type(a) is numpy.ndarray for a in inputs)
            or x.dtype != W.dtype or x.dtype not in _FAST_DTYPES
            or (intel64.should_use_ideep(">=auto") and intel64.inputs_all_ready(inputs))):
        return None
    plan = _Plan(node, x.shape, W.shape)
    return plan if plan.oh > 0 and plan.ow > 0 else None


def _forward(node: Convolution2DFunction, plan: _Plan, inputs: tuple[numpy.ndarray, ...]) -> tuple[numpy.ndarray]:
    """``y = W * x + b``: one matrix product with the im2col buffer, written out as ``(N, O, oh, ow)``."""
    node.retain_inputs((0, 1))
    x, W = inputs[:2]
    o = W.shape[0]
    col = plan.im2col(x)
    setattr(node, _PLAN, plan)
    setattr(node, _COL, col if chainer.config.enable_backprop else None)
    y = W.reshape(o, -1).dot(col).reshape(o, x.shape[0], plan.oh, plan.ow)  # no copy of col
    out = numpy.empty((x.shape[0], o, plan.oh, plan.ow), dtype=x.dtype)
    if len(inputs) == 3:  # add the bias while transposing to (N, O, oh, ow)
        numpy.add(y.transpose(1, 0, 2, 3), inputs[2].reshape(1, o, 1, 1), out=out)
    else:
        out[...] = y.transpose(1, 0, 2, 3)
    return out,


def _backward(node: Convolution2DFunction, plan: _Plan, indexes: tuple[int, ...],
              grad_outputs: tuple[chainer.Variable, ...]) -> list[chainer.Variable]:
    """The gradients for ``x``, ``W`` and ``b`` that ``indexes`` asks for, on the fast kernels."""
    x, W = node.get_retained_inputs()
    gy, = grad_outputs
    grads = []
    if 0 in indexes:
        grads.append(_Convolution2DGradX(plan).apply((W, gy))[0])
    if 1 in indexes:
        grads.append(_Convolution2DGradW(plan, W.shape, getattr(node, _COL)).apply((x, gy))[0])
    setattr(node, _COL, None)  # handed over (another backward pass rebuilds it)
    if 2 in indexes:
        grads.append(chainer.functions.sum(gy, axis=(0, 2, 3)))  # as Chainer does
    return grads


def fast_methods(forward_cpu: Callable, backward: Callable) -> dict[str, Callable]:
    """``Convolution2DFunction``'s ``forward_cpu`` and ``backward`` on the fast kernel.

    ``forward_cpu`` and ``backward`` are Chainer's own methods, called wherever the fast path
    does not apply (see the module docstring).
    """

    def fast_forward_cpu(self, inputs):
        """Chainer's ``forward_cpu``, on the course's kernel where it reproduces Chainer's results."""
        plan = _fast_plan(self, inputs)
        if plan is None:
            return forward_cpu(self, inputs)
        return _forward(self, plan, inputs)

    def fast_backward(self, indexes, grad_outputs):
        """Chainer's ``backward``, on the course's kernels when the forward pass was."""
        plan = self.__dict__.get(_PLAN)
        if plan is None:
            return backward(self, indexes, grad_outputs)
        return _backward(self, plan, indexes, grad_outputs)

    return {"forward_cpu": fast_forward_cpu, "backward": fast_backward}


def used_fast_path(node: function_node.FunctionNode) -> bool:
    """Whether this ``Convolution2DFunction`` node's forward pass ran on the course's kernel."""
    return _PLAN in node.__dict__


class _Convolution2DGradW(function_node.FunctionNode):
    """``gW`` from ``(x, gy)``: one matrix product with the forward pass's im2col buffer."""

    def __init__(self, plan: _Plan, w_shape: tuple[int, ...], col: numpy.ndarray | None):
        super().__init__()
        self.plan, self.w_shape, self.col = plan, w_shape, col

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        x, gy = inputs
        col = self.col if self.col is not None else self.plan.im2col(x)
        self.col = None  # the buffer is not needed again
        gW = self.plan.channels_first(gy).dot(col.T)  # (O, N*oh*ow) x (N*oh*ow, C*kh*kw)
        return gW.reshape(self.w_shape).astype(x.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        x, gy = self.get_retained_inputs()
        ggW, = grad_outputs
        plan = self.plan
        grads = []
        if 0 in indexes:
            grads.append(chainer.functions.deconvolution_2d(
                gy, ggW, stride=plan.stride, pad=plan.pad, outsize=plan.x_shape[2:]))
        if 1 in indexes:
            grads.append(chainer.functions.convolution_2d(
                x, ggW, stride=plan.stride, pad=plan.pad, cover_all=plan.cover_all))
        return grads


class _Convolution2DGradX(function_node.FunctionNode):
    """``gx`` from ``(W, gy)``: one matrix product, then col2im."""

    def __init__(self, plan: _Plan):
        super().__init__()
        self.plan = plan

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        W, gy = inputs
        o = W.shape[0]
        gcol = W.reshape(o, -1).T.dot(self.plan.channels_first(gy))  # (C*kh*kw, N*oh*ow)
        return self.plan.col2im(gcol).astype(gy.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        W, gy = self.get_retained_inputs()
        ggx, = grad_outputs
        plan = self.plan
        grads = []
        if 0 in indexes:
            grads.append(_Convolution2DGradW(plan, W.shape, None).apply((ggx, gy))[0])
        if 1 in indexes:
            grads.append(chainer.functions.convolution_2d(
                ggx, W, stride=plan.stride, pad=plan.pad, cover_all=plan.cover_all))
        return grads
