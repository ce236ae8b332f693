"""A faster NumPy kernel beneath ``F.deconvolution_2d`` (Chainer's ``Deconvolution2DFunction``).

A deconvolution (transposed convolution) is the gradient of a convolution with respect to its
input, so its forward pass is the convolution kernel's gradient for ``x``, and its gradients are a
convolution (for ``x``) and the convolution kernel's gradient for ``W``, with the roles of the
image and the gradient swapped. On NumPy, Chainer 7.8.1 computes the forward pass as
``col2im(W^T x)`` with ``chainer.utils.conv.col2im_cpu`` (strided rows of a few pixels, see
:class:`course.kernels.convolution.ConvolutionPlan`) and returns a non-contiguous view, which slows
down the batch normalisation and ReLU after it; its gradient for ``W`` builds an im2col buffer of
the output gradient and copies it once more inside ``numpy.tensordot``.

Here the forward pass is :meth:`ConvolutionPlan.transposed <course.kernels.convolution.ConvolutionPlan.transposed>`
(C-contiguous output, the bias added after it, as Chainer adds it), the gradient for ``x`` is
``F.convolution_2d`` as in Chainer (on :mod:`course.kernels.convolution` when it is installed), and
the gradient for ``W`` is one matrix product with that convolution's im2col buffer of the output
gradient (built once for both, and laid out for the product). The products are
the ones Chainer computes, summed in another order, so results agree up to float rounding.

:func:`fast_methods` builds the ``forward_cpu`` and ``backward`` that :func:`course.kernels.install`
puts on ``Deconvolution2DFunction``. The forward pass takes the fast path for float32 and float64
NumPy arrays (``x`` and ``W`` of one dtype) with any stride, padding and ``outsize``, and hands
everything else to Chainer's own method unchanged: dilation, groups, float16 or mixed dtypes,
iDeep, ChainerX fallback and non-standard memory layouts. The backward pass of a node whose forward
pass took the fast path uses the gradients above; any other node's backward pass is Chainer's.
Second derivatives are built from Chainer functions and the convolution kernel's nodes, so double
backpropagation works.
"""
from __future__ import annotations

import chainer
import numpy
from chainer import function_node
from chainer.backends import intel64
from chainer.functions.connection.deconvolution_2d import Deconvolution2DFunction

from course.kernels.convolution import ConvolutionGradW, ConvolutionPlan, convolution_and_windows, planned_methods

__all__ = ["fast_methods", "used_fast_path"]

_FAST_DTYPES = (numpy.float32, numpy.float64)  # float16 has no BLAS, and its rounding would differ
_PLAN = "_course_deconvolution_plan"  # on a Deconvolution2DFunction node: the plan of the convolution it transposes


def _fast_plan(node: Deconvolution2DFunction, inputs: tuple[numpy.ndarray, ...]) -> ConvolutionPlan | None:
    """The convolution whose gradient this forward pass is, or None where Chainer's own code must run.

    That convolution maps the deconvolution's output ``(N, C_out, outh, outw)`` to its input
    ``(N, C_in, h, w)`` with the same ``W``, stride and padding (and ``cover_all`` where ``outsize``
    asks for an output that a plain convolution would not map back onto ``h`` and ``w``).
    """
    x, W = inputs[:2]
    if (node.groups != 1 or node.dy != 1 or node.dx != 1
            or node._is_chainerx_fallback_mode
            or any(layout is not None for layout in node.input_layouts)
            or not all(type(a) is numpy.ndarray for a in inputs)
            or x.dtype != W.dtype or x.dtype not in _FAST_DTYPES
            or (intel64.should_use_ideep(">=auto") and intel64.inputs_all_ready(inputs))):
        return None
    node._calc_out_size(x.shape, W.shape)  # Chainer's own: the output size, or its error for a size <= 0
    node._set_cover_all(x.shape, W.shape)  # what Chainer's backward would set
    plan = ConvolutionPlan((node.sy, node.sx), (node.ph, node.pw), node.cover_all,
                           (x.shape[0], W.shape[1], node.outh, node.outw), W.shape)
    return plan if (plan.oh, plan.ow) == x.shape[2:] else None


def _forward(node: Deconvolution2DFunction, plan: ConvolutionPlan,
             inputs: tuple[numpy.ndarray, ...]) -> tuple[numpy.ndarray]:
    """``y = col2im(W^T x) + b``, C-contiguous ``(N, C_out, outh, outw)``."""
    node.retain_inputs((0, 1))
    x, W = inputs[:2]
    setattr(node, _PLAN, plan)
    y = plan.transposed(W, x)
    if len(inputs) == 3:
        y += inputs[2].reshape(1, -1, 1, 1)
    return y,


def _backward(node: Deconvolution2DFunction, plan: ConvolutionPlan, indexes: tuple[int, ...],
              grad_outputs: tuple[chainer.Variable, ...]) -> list[chainer.Variable]:
    """The gradients for ``x``, ``W`` and ``b`` that ``indexes`` asks for."""
    x, W = node.get_retained_inputs()
    gy, = grad_outputs
    grads, windows = [], None
    if 0 in indexes:  # F.convolution_2d(gy, W), as Chainer does; the windows of gy serve for W too
        gx, windows = convolution_and_windows(gy, W, plan)
        grads.append(gx)
    if 1 in indexes:
        grads.append(ConvolutionGradW(plan, W.shape, windows).apply((gy, x))[0])
    if 2 in indexes:
        grads.append(chainer.functions.sum(gy, axis=(0, 2, 3)))  # as Chainer does
    return grads


fast_methods = planned_methods(_PLAN, _fast_plan, _forward, _backward)
"""``Deconvolution2DFunction``'s ``forward_cpu`` and ``backward`` on the fast kernel, from Chainer's own
two methods (called wherever the fast path does not apply, see the module docstring)."""


def used_fast_path(node: function_node.FunctionNode) -> bool:
    """Whether this ``Deconvolution2DFunction`` node's forward pass ran on the course's kernel."""
    return _PLAN in node.__dict__
