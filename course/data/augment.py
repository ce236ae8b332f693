"""Cheap, vectorised augmentation for batches of images."""
from __future__ import annotations

import numpy


def random_shift(images: numpy.ndarray, max_shift: int) -> numpy.ndarray:
    """Shift each image of an (N, C, H, W) batch by up to ``max_shift`` pixels in x and y, zero-filled.

    Draws from NumPy's global generator, which the course's updater re-seeds at every iteration, so
    a resumed run replays the same shifts. Returns a new array of the same dtype.
    """
    if max_shift <= 0:
        return images
    n, _, h, w = images.shape
    m = max_shift
    padded = numpy.pad(images, ((0, 0), (0, 0), (m, m), (m, m)))
    dy = numpy.random.randint(0, 2 * m + 1, size=n)
    dx = numpy.random.randint(0, 2 * m + 1, size=n)
    rows = dy[:, None] + numpy.arange(h)[None, :]  # (N, H)
    cols = dx[:, None] + numpy.arange(w)[None, :]  # (N, W)
    batch = numpy.arange(n)[:, None, None, None]
    channel = numpy.arange(images.shape[1])[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
