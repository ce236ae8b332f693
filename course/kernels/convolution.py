"""A faster NumPy kernel beneath ``F.convolution_2d`` (Chainer's ``Convolution2DFunction``).

On NumPy, Chainer 7.8.1 lays out the im2col buffer of a convolution as ``(N, C, kh, kw, H, W)``,
so ``numpy.tensordot`` must copy the whole buffer into ``(N*H*W, C*kh*kw)`` order before the
matrix product, and the gradient for ``W`` builds (and copies) the buffer again. Its output is a
transposed view, which slows down every elementwise function after it (ReLU and its gradient).

The kernel here builds the im2col buffer once, as ``(C*kh*kw, N*H*W)``, so the forward pass, the
gradient for ``W`` and the gradient for ``x`` are each one matrix product with no copy of the
buffer, and its output is C-contiguous ``(N, C, H, W)``. For the gradient for ``x``, Chainer's
``col2im`` adds the product back into the image in rows of a few pixels (of ``ow``, seven for a
14x14 image convolved with stride 2); :meth:`ConvolutionPlan.transposed` adds rows of ``ow * N``
values instead. The products are the ones Chainer computes, summed in another order, so results
agree up to float rounding. The deconvolution kernel (:mod:`course.kernels.deconvolution`) is built
from the same pieces.

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

__all__ = ["ConvolutionGradW", "ConvolutionGradX", "ConvolutionPlan", "convolution_and_windows", "fast_methods",
           "planned_methods", "used_fast_path"]

_FAST_DTYPES = (numpy.float32, numpy.float64)  # float16 has no BLAS, and its rounding would differ
_PLAN = "_course_plan"  # on a Convolution2DFunction node: its ConvolutionPlan when the fast path ran
_COL = "_course_col"  # and the forward pass's im2col buffer, kept for a gradient for W


class ConvolutionPlan:
    """The shapes of one convolution: stride, padding, kernel, input and output sizes, and its buffers.

    :meth:`im2col` lays out every window of the input for the matrix products of the forward pass
    and of the gradient for ``W``; :meth:`transposed` computes the gradient for ``x`` (which is also
    a deconvolution's forward pass). Both work on a zero-padded image that is large enough for every
    window (``cover_all=True`` windows may run past the padding, and read zeros there, as
    ``chainer.utils.conv.im2col_cpu`` does).

    Chainer's ``col2im`` adds each kernel pixel's ``(N, C, oh, ow)`` block back into the padded
    image: strided rows of ``ow`` pixels, so NumPy runs one short loop per row (seven pixels for a
    14x14 image convolved with stride 2). :meth:`transposed` puts the batch
    last instead, and splits the padded image into its ``sy * sx`` phases (the pixels ``(py + sy *
    Y, px + sx * X)`` of one offset ``(py, px)``, each a contiguous ``(C, gh, gw, N)`` grid). Kernel
    pixel ``(i, j)`` of every window falls into phase ``(i % sy, j % sx)``, shifted by ``(i // sy, j
    // sx)`` there, and each row of its block is one contiguous run of ``ow * N`` values.
    """

    def __init__(self, stride: tuple[int, int], pad: tuple[int, int], cover_all: bool,
                 x_shape: tuple[int, ...], w_shape: tuple[int, ...]):
        self.stride, self.pad, self.cover_all = tuple(stride), tuple(pad), cover_all
        self.x_shape = tuple(x_shape)
        self.kh, self.kw = w_shape[2:]
        sy, sx = self.stride
        ph, pw = self.pad
        _, _, h, w = x_shape
        self.oh = conv.get_conv_outsize(h, self.kh, sy, ph, cover_all=cover_all)
        self.ow = conv.get_conv_outsize(w, self.kw, sx, pw, cover_all=cover_all)
        self.padded_size = (max(h + 2 * ph, sy * (self.oh - 1) + self.kh),
                            max(w + 2 * pw, sx * (self.ow - 1) + self.kw))
        self.grid = (-(-self.padded_size[0] // sy), -(-self.padded_size[1] // sx))  # one phase's size
        # Each kernel pixel's phase and shift in it, in Chainer's order (row by row).
        self.taps = [(i % sy, j % sx, i // sy, j // sx) for i in range(self.kh) for j in range(self.kw)]

    @classmethod
    def of(cls, node: Convolution2DFunction, x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> "ConvolutionPlan":
        """The plan of a ``Convolution2DFunction`` node's convolution of ``x_shape`` with ``w_shape``."""
        return cls((node.sy, node.sx), (node.ph, node.pw), node.cover_all, x_shape, w_shape)

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

    def transposed(self, W: numpy.ndarray, gy: numpy.ndarray) -> numpy.ndarray:
        """``col2im(W^T gy)``, ``(N, C, H, W)``: the gradient for ``x`` of this convolution for output gradient ``gy``.

        ``W`` is ``(O, C, kh, kw)`` and ``gy`` ``(N, O, oh, ow)``. Each input pixel adds up the
        window pixels it was in, starting from zero, in the order of ``chainer.utils.conv.col2im_cpu``.
        """
        n, c, _, _ = self.x_shape
        o = W.shape[0]
        sy, sx = self.stride
        rows = c * self.kh * self.kw
        if rows < o:  # fewer window rows than output channels: moving the batch last is cheaper on gcol
            gcol = W.reshape(o, -1).T.dot(self.channels_first(gy)).reshape(rows, n, self.oh * self.ow)
            gcol = numpy.ascontiguousarray(gcol.transpose(0, 2, 1))
        else:
            gcol = W.reshape(o, -1).T.dot(numpy.ascontiguousarray(gy.transpose(1, 2, 3, 0)).reshape(o, -1))
        gcol = gcol.astype(gy.dtype, copy=False).reshape(c, self.kh * self.kw, self.oh, self.ow, n)
        phases = numpy.zeros((sy, sx, c) + self.grid + (n,), dtype=gcol.dtype)
        for tap, (py, px, di, dj) in enumerate(self.taps):
            phases[py, px, :, di:di + self.oh, dj:dj + self.ow] += gcol[:, tap]
        return self._interleave(phases)

    def _interleave(self, phases: numpy.ndarray) -> numpy.ndarray:
        """The padded image's phases ``(sy, sx, C, gh, gw, N)`` put back together, unpadded: ``(N, C, H, W)``."""
        _, _, h, w = self.x_shape
        sy, sx = self.stride
        ph, pw = self.pad
        image = numpy.empty(self.x_shape, dtype=phases.dtype)
        for py in range(sy):
            for px in range(sx):
                top, left = (py - ph) % sy, (px - pw) % sx  # the first image row and column in this phase
                grid_top, grid_left = (top + ph) // sy, (left + pw) // sx
                rows, cols = len(range(top, h, sy)), len(range(left, w, sx))
                image[:, :, top::sy, left::sx] = phases[py, px, :, grid_top:grid_top + rows,
                                                        grid_left:grid_left + cols].transpose(3, 0, 1, 2)
        return image

    @staticmethod
    def channels_first(gy: numpy.ndarray) -> numpy.ndarray:
        """``(N, O, oh, ow)`` -> ``(O, N*oh*ow)``, the layout the matrix products want."""
        return numpy.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(gy.shape[1], -1)


def _fast_plan(node: Convolution2DFunction, inputs: tuple[numpy.ndarray, ...]) -> ConvolutionPlan | None:
    """The plan of the fast path for this forward pass, or None where Chainer's own code must run."""
    x, W = inputs[:2]
    if (node.groups != 1 or node.dy != 1 or node.dx != 1 or node.cudnn_fast
            or node._is_chainerx_fallback_mode
            or any(layout is not None for layout in node.input_layouts)
            or not all(type(a) is numpy.ndarray for a in inputs)
            or x.dtype != W.dtype or x.dtype not in _FAST_DTYPES
            or (intel64.should_use_ideep(">=auto") and intel64.inputs_all_ready(inputs))):
        return None
    plan = ConvolutionPlan.of(node, x.shape, W.shape)
    return plan if plan.oh > 0 and plan.ow > 0 else None


def _forward(node: Convolution2DFunction, plan: ConvolutionPlan,
             inputs: tuple[numpy.ndarray, ...]) -> tuple[numpy.ndarray]:
    """``y = W * x + b``: one matrix product with the im2col buffer, written out as ``(N, O, oh, ow)``."""
    node.retain_inputs((0, 1))
    x, W = inputs[:2]
    o = W.shape[0]
    col = plan.im2col(x)
    setattr(node, _PLAN, plan)
    setattr(node, _COL, col)  # without backprop the node, and with it the buffer, is dropped right away
    y = W.reshape(o, -1).dot(col).reshape(o, x.shape[0], plan.oh, plan.ow)  # no copy of col
    out = numpy.empty((x.shape[0], o, plan.oh, plan.ow), dtype=x.dtype)
    if len(inputs) == 3:  # add the bias while transposing to (N, O, oh, ow)
        numpy.add(y.transpose(1, 0, 2, 3), inputs[2].reshape(1, o, 1, 1), out=out)
    else:
        out[...] = y.transpose(1, 0, 2, 3)
    return out,


def _backward(node: Convolution2DFunction, plan: ConvolutionPlan, indexes: tuple[int, ...],
              grad_outputs: tuple[chainer.Variable, ...]) -> list[chainer.Variable]:
    """The gradients for ``x``, ``W`` and ``b`` that ``indexes`` asks for, on the fast kernels."""
    x, W = node.get_retained_inputs()
    gy, = grad_outputs
    grads = []
    if 0 in indexes:
        grads.append(ConvolutionGradX(plan).apply((W, gy))[0])
    if 1 in indexes:
        grads.append(ConvolutionGradW(plan, W.shape, getattr(node, _COL)).apply((x, gy))[0])
    setattr(node, _COL, None)  # handed over (another backward pass rebuilds it)
    if 2 in indexes:
        grads.append(chainer.functions.sum(gy, axis=(0, 2, 3)))  # as Chainer does
    return grads


def planned_methods(attribute: str, fast_plan: Callable, fast_forward: Callable, fast_backward: Callable,
                    ) -> Callable[[Callable, Callable], dict[str, Callable]]:
    """Build :func:`fast_methods` for a function node whose fast path is decided by a plan.

    ``fast_plan(node, inputs)`` returns the plan, or None where Chainer's own code must run;
    ``fast_forward(node, plan, inputs)`` computes the forward pass and stores the plan on the node
    as ``attribute``; ``fast_backward(node, plan, indexes, grad_outputs)`` returns the gradients of
    a node whose forward pass was fast. The convolution and the deconvolution are built this way.
    """

    def methods(forward_cpu: Callable, backward: Callable) -> dict[str, Callable]:
        def fast_forward_cpu(self, inputs):
            """Chainer's ``forward_cpu``, on the course's kernel where it reproduces Chainer's results."""
            plan = fast_plan(self, inputs)
            if plan is None:
                return forward_cpu(self, inputs)
            return fast_forward(self, plan, inputs)

        def fast_backward_method(self, indexes, grad_outputs):
            """Chainer's ``backward``, on the course's kernels when the forward pass was."""
            plan = self.__dict__.get(attribute)
            if plan is None:
                return backward(self, indexes, grad_outputs)
            return fast_backward(self, plan, indexes, grad_outputs)

        return {"forward_cpu": fast_forward_cpu, "backward": fast_backward_method}

    return methods


fast_methods = planned_methods(_PLAN, _fast_plan, _forward, _backward)
"""``Convolution2DFunction``'s ``forward_cpu`` and ``backward`` on the fast kernel, from Chainer's own
two methods (called wherever the fast path does not apply, see the module docstring)."""


def used_fast_path(node: function_node.FunctionNode) -> bool:
    """Whether this ``Convolution2DFunction`` node's forward pass ran on the course's kernel."""
    return _PLAN in node.__dict__


def convolution_and_windows(x: chainer.Variable, W: chainer.Variable, plan: ConvolutionPlan,
                            ) -> tuple[chainer.Variable, numpy.ndarray | None]:
    """``F.convolution_2d(x, W)`` with ``plan``'s stride, padding and ``cover_all``, and the im2col buffer of ``x``.

    The buffer is the forward pass's (None where Chainer's code ran), for a gradient that needs the
    same windows of ``x`` (a deconvolution's gradient for ``W``).
    """
    node = Convolution2DFunction(stride=plan.stride, pad=plan.pad, cover_all=plan.cover_all)
    y, = node.apply((x, W))
    return y, node.__dict__.get(_COL)


class ConvolutionGradW(function_node.FunctionNode):
    """``gW`` from ``(x, gy)``: one matrix product with the forward pass's im2col buffer."""

    def __init__(self, plan: ConvolutionPlan, w_shape: tuple[int, ...], col: numpy.ndarray | None):
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


class ConvolutionGradX(function_node.FunctionNode):
    """``gx`` from ``(W, gy)``: one matrix product, then the additions of :meth:`ConvolutionPlan.transposed`."""

    def __init__(self, plan: ConvolutionPlan):
        super().__init__()
        self.plan = plan

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        W, gy = inputs
        return self.plan.transposed(W, gy),

    def backward(self, indexes, grad_outputs):
        W, gy = self.get_retained_inputs()
        ggx, = grad_outputs
        plan = self.plan
        grads = []
        if 0 in indexes:
            grads.append(ConvolutionGradW(plan, W.shape, None).apply((ggx, gy))[0])
        if 1 in indexes:
            grads.append(chainer.functions.convolution_2d(
                ggx, W, stride=plan.stride, pad=plan.pad, cover_all=plan.cover_all))
        return grads
