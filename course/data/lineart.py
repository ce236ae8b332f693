"""Line art made from colour images: what a colourisation model reads, and how its lines are judged.

:func:`line_art` is the standard way illustrators' data sets are made (PaintsChainer and the seed):
the image in grey, dilated with a 3x3 square (every pixel the brightest of its neighbours), minus
the grey image itself, inverted. Where the picture is flat the difference is 0 (white paper); at a
dark stroke, or the dark side of an edge, the neighbours are brighter and the pixel turns dark.
:func:`xdog` is another: the extended difference of Gaussians (Winnemöller et al., 2012), a soft
threshold of a sharpened band-pass, which gives cleaner, more even strokes on photographs.
:func:`line_mask` turns line art into the pixels that are lines (for :func:`course.metrics.line_f1`).

Sizes matter too. The seed made its line art at full size and shrank it to 128 px with OpenCV's
``INTER_AREA``, which averages every source pixel into the result: a thin line becomes a fainter,
still continuous one. ``INTER_CUBIC`` reads only the 4x4 source pixels nearest each result pixel,
so when shrinking by more than 2 most pixels of a thin line are never read: lines break into dashes
and stairs ("jaggies"). :func:`shrink_line_art` shrinks either way, :func:`shift_sensitivity`
measures the difference.
"""
from __future__ import annotations

import numpy

from course.images import as_float, resize, to_grey

__all__ = ["line_art", "line_mask", "shift_sensitivity", "shrink_line_art", "xdog"]

LINE_THRESHOLD = 0.5
"""Line art darker than this (on [0, 1], paper white 1) counts as a line in :func:`line_mask`."""


def line_art(image: numpy.ndarray, *, kernel: int = 3, gain: float = 1.0) -> numpy.ndarray:
    """Dilate-minus-original line art of ``image`` (grey, RGB or RGBA, uint8 or [0, 1]): float32 (H, W), white paper.

    ``1 - clip(gain * (dilate(grey, kernel x kernel) - grey), 0, 1)``: 1 where the image is flat,
    darker the stronger the edge. ``gain`` darkens faint lines (photographs have softer edges than
    drawings); ``kernel`` is the square's side, so lines are about ``kernel - 1`` pixels wide.
    """
    import cv2

    if kernel < 2:
        raise ValueError(f"the dilation square needs a side of at least 2 pixels, not {kernel}")
    if gain <= 0:
        raise ValueError(f"gain must be positive, not {gain}")
    grey = to_grey(image)
    dilated = cv2.dilate(grey, numpy.ones((kernel, kernel), numpy.uint8))
    return (1 - numpy.clip(gain * (dilated - grey), 0, 1)).astype(numpy.float32)


def xdog(image: numpy.ndarray, *, sigma: float = 0.8, k: float = 1.6, sharpen: float = 20.0,
         epsilon: float = 0.01, phi: float = 50.0) -> numpy.ndarray:
    """XDoG line art of ``image``: float32 (H, W) in [0, 1], white paper, dark strokes.

    With Gaussian blurs ``G_s`` of the grey image, ``D = (1 + sharpen) G_sigma - sharpen G_{k sigma}``
    (a sharpened difference of Gaussians); pixels with ``D >= epsilon`` are paper (1), the others
    ``1 + tanh(phi (D - epsilon))``, a soft step into black. The defaults are the paper's
    (``sigma`` 0.8 at this scale, ``k`` 1.6), ``epsilon`` chosen for values in [0, 1].
    """
    import cv2

    if sigma <= 0 or k <= 1:
        raise ValueError(f"XDoG needs sigma > 0 and k > 1, not {sigma} and {k}")
    grey = to_grey(image)
    small = cv2.GaussianBlur(grey, (0, 0), sigma)
    large = cv2.GaussianBlur(grey, (0, 0), sigma * k)
    d = (1 + sharpen) * small - sharpen * large
    lines = numpy.where(d >= epsilon, 1.0, 1 + numpy.tanh(phi * (d - epsilon)))
    return numpy.clip(lines, 0, 1).astype(numpy.float32)


def line_mask(lines: numpy.ndarray, threshold: float = LINE_THRESHOLD) -> numpy.ndarray:
    """The pixels of line art ``lines`` ((H, W) or (N, 1, H, W), white paper) darker than ``threshold``: booleans."""
    return as_float(lines) < threshold


def shrink_line_art(lines: numpy.ndarray, size: int | tuple[int, int], interpolation: str = "area") -> numpy.ndarray:
    """Line art (H, W) shrunk to ``size`` (a side, or (width, height)) with ``"area"`` (INTER_AREA) or ``"cubic"``."""
    import cv2

    methods = {"area": cv2.INTER_AREA, "cubic": cv2.INTER_CUBIC}
    if interpolation not in methods:
        raise ValueError(f"interpolation is 'area' or 'cubic', not {interpolation!r}")
    return resize(as_float(lines), size, interpolation=methods[interpolation])


def shift_sensitivity(lines: numpy.ndarray, factor: int, interpolation: str = "area") -> float:
    """How much shrinking ``lines`` by ``factor`` changes when the drawing moves by one source pixel.

    The line art is shrunk as it is and moved right by one pixel (its last column dropped from both),
    and the mean absolute difference of the two small images is returned, on the [0, 1] scale. A
    one-pixel move is a ``1 / factor`` move after shrinking, so a shrink that really averages changes
    a little everywhere; one that skips source pixels shows or hides whole pieces of a line, which is
    what jagged, broken lines are. Lower is steadier.
    """
    lines = as_float(lines)
    if factor < 2 or min(lines.shape[:2]) < 2 * factor:
        raise ValueError(f"shrink by a factor of 2 or more, and give an image at least twice that size, not {factor}")
    height, width = lines.shape[:2]
    width -= 1 + (width - 1) % factor
    height -= height % factor
    size = (width // factor, height // factor)
    still = shrink_line_art(lines[:height, 1:width + 1], size, interpolation)
    moved = shrink_line_art(lines[:height, :width], size, interpolation)
    return float(numpy.abs(still - moved).mean())
