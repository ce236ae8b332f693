"""Bicubic resampling by whole factors, as super-resolution papers make and judge their images.

Published super-resolution figures make the low-resolution image with MATLAB's ``imresize(hr, 1/4,
'bicubic')`` and use ``imresize(lr, 4, 'bicubic')`` as the baseline. Both use Keys' cubic kernel
with ``a = -0.5`` and mirror the image at its borders ("symmetric" padding). When *shrinking*,
MATLAB also stretches the kernel by the factor (16 taps instead of 4 for x4), which averages the
pixels a low-resolution pixel covers: it antialiases. OpenCV's ``INTER_CUBIC`` does not stretch it
(it samples 4 of every 16 pixels' neighbourhoods and aliases fine texture) and uses ``a = -0.75``,
so its images are not those of the papers. The two functions here follow MATLAB:

- :func:`bicubic_downscale`: the antialiased shrink, on NumPy (it makes data, once);
- :func:`bicubic_upscale`: the baseline, on NumPy or CuPy arrays alike, since the super-resolution
  network adds it to its own output (:class:`course.models.srresnet.SRResNet`).

For a whole factor ``s`` both are separable filters with fixed weights (:func:`cubic`): shrinking
is a 4s-tap filter with stride ``s``; enlarging gives each of the ``s`` output phases of a pixel its
own 4-tap filter, which is a convolution to ``s * s`` channels followed by a pixel shuffle.
"""
from __future__ import annotations

import chainer
import numpy

A = -0.5
"""The cubic kernel's parameter: MATLAB's and Pillow's -0.5 (OpenCV uses -0.75)."""


def cubic(x, a: float = A) -> numpy.ndarray:
    """Keys' cubic convolution kernel at ``x``: 1 at 0, 0 at every other whole number, 0 beyond |x| = 2."""
    x = numpy.abs(numpy.asarray(x, numpy.float64))
    near = (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
    far = a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a
    return numpy.where(x <= 1, near, numpy.where(x < 2, far, 0.0))


def _check_factor(factor: int) -> int:
    if isinstance(factor, bool) or not isinstance(factor, (int, numpy.integer)) or factor < 1:
        raise ValueError(f"the factor must be a whole number >= 1, not {factor!r}")
    return int(factor)


def downscale_weights(factor: int) -> tuple[numpy.ndarray, int]:
    """The antialiased shrink's taps: weights (4 * factor,) and the offset of the first tap.

    Output pixel ``i`` is centred on input coordinate ``factor * i + (factor - 1) / 2`` and takes the
    input pixels ``factor * i + offset + k`` for ``k < 4 * factor``, weighted by the cubic kernel
    stretched ``factor`` times (and normalised to sum to 1).
    """
    factor = _check_factor(factor)
    taps = numpy.arange(4 * factor)
    offset = factor // 2 - 2 * factor  # the first pixel within 2 * factor of the centre (x4: -6)
    centre = (factor - 1) / 2
    weights = cubic((taps + offset - centre) / factor)
    return weights / weights.sum(), offset


def upscale_weights(factor: int) -> numpy.ndarray:
    """The enlargement's filters: (factor, 5) weights for input pixels ``i - 2 .. i + 2`` of each output phase.

    Output pixel ``factor * i + p`` sits at input coordinate ``i + (p + 0.5) / factor - 0.5``; its
    four nearest input pixels get the cubic kernel's weights, the fifth tap 0.
    """
    factor = _check_factor(factor)
    positions = (numpy.arange(factor) + 0.5) / factor - 0.5  # where each phase sits, from its pixel
    taps = numpy.arange(-2, 3)
    return cubic(positions[:, None] - taps[None, :])


def _mirrored(length: int, indices: numpy.ndarray) -> numpy.ndarray:
    """``indices`` into an axis of ``length``, mirrored at both ends as MATLAB does (-1 -> 0, -2 -> 1)."""
    period = 2 * length
    indices = numpy.mod(indices, period)
    return numpy.where(indices < length, indices, period - 1 - indices)


def _filter_axis(image: numpy.ndarray, axis: int, factor: int) -> numpy.ndarray:
    weights, offset = downscale_weights(factor)
    n_out = image.shape[axis] // factor
    sources = factor * numpy.arange(n_out)[:, None] + offset + numpy.arange(len(weights))[None, :]
    gathered = numpy.take(image, _mirrored(image.shape[axis], sources), axis=axis)  # axis -> (n_out, taps)
    return numpy.tensordot(gathered, weights, axes=([axis + 1], [0]))  # the taps summed away


def bicubic_downscale(image: numpy.ndarray, factor: int) -> numpy.ndarray:
    """``image`` (H, W) or (H, W, C), floats or uint8, shrunk ``factor`` times by MATLAB's antialiased bicubic.

    H and W must be multiples of ``factor`` (crop first: :func:`course.data.superres.crop_to_multiple`).
    Returns float32 on the scale of the input (uint8 input gives floats in 0-255, not rounded: round
    or clip yourself if you need pixels), of shape (H / factor, W / factor[, C]).
    """
    factor = _check_factor(factor)
    image = numpy.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"bicubic_downscale takes one image (H, W) or (H, W, C), not shape {image.shape}")
    height, width = image.shape[:2]
    if height % factor or width % factor or height < factor or width < factor:
        raise ValueError(f"a {width}x{height} image cannot be shrunk {factor} times evenly: crop it to a multiple "
                         f"of {factor} first")
    out = _filter_axis(image.astype(numpy.float64), 0, factor)
    out = _filter_axis(out, 1, factor)
    return out.astype(numpy.float32)


def bicubic_upscale(images, factor: int):
    """A batch (N, C, h, w), NumPy or CuPy, enlarged ``factor`` times by bicubic interpolation: (N, C, h*f, w*f).

    MATLAB's ``imresize(x, factor, 'bicubic')`` without the final rounding: each output phase is a
    fixed 4-tap filter of the mirrored input, first along the rows, then along the columns. The
    result is not clipped (a cubic overshoots a little at sharp edges). Needs no gradient: it is
    applied to data, never to a network's output.
    """
    factor = _check_factor(factor)
    xp = chainer.backend.get_array_module(images)
    images = xp.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"bicubic_upscale takes a batch (N, C, H, W), not shape {images.shape}")
    weights = upscale_weights(factor).astype(images.dtype if images.dtype.kind == "f" else numpy.float32)
    out = images.astype(weights.dtype)
    for axis in (2, 3):
        length = out.shape[axis]
        index = xp.asarray(_mirrored(length, numpy.arange(-2, length + 2)))
        padded = xp.take(out, index, axis=axis)
        phases = []
        for p in range(factor):
            phase = 0
            for k in range(5):
                if weights[p, k] != 0:
                    part = padded[:, :, k:k + length] if axis == 2 else padded[:, :, :, k:k + length]
                    phase = phase + float(weights[p, k]) * part
            phases.append(phase)
        stacked = xp.stack(phases, axis=axis + 1)  # (..., length, factor, ...)
        shape = list(out.shape)
        shape[axis] = length * factor
        out = stacked.reshape(shape)
    return out
