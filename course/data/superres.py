"""Images for super-resolution (lesson 7): high-resolution photos, their low-resolution copies, training patches.

Offline, the photos come from the installed packages (:mod:`course.data.photos`), split *by photo*
so that no held-out photo lends a patch to training: :data:`HELD_OUT` (astronaut, chelsea, coffee)
are the test photos, :data:`TRAINING` the other 17 real photographs (the drawn logo, colour wheel
and horse silhouette are left out: they are not photographs). The real training path is a folder of
your own images (:func:`read_sr_folder`); ``python -m course evaluate superres --data FOLDER`` reads
a test folder the same way (Set5 and Set14 are such folders).

The low-resolution image is the high-resolution one shrunk ``scale`` times with MATLAB's antialiased
bicubic (:func:`course.data.resampling.bicubic_downscale`), the way the published benchmarks made theirs,
and rounded to whole 0-255 values as a saved image file would be. A shrink without antialiasing
(OpenCV's ``INTER_CUBIC``) would alias fine texture into the low-resolution image, and a model
trained on it would learn to undo that aliasing, which real small images do not have.

Training patches are ``patch``-pixel squares cut at random from the high-resolution photos, each
with its low-resolution twin cut from the shrunk whole photo (so a patch's border is the photo's,
not an edge), turned and flipped at random. A model sees the Y channel (``channels=1``, values
Y / 255) or RGB (``channels=3``, values in [0, 1]).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy

from course.data.photos import PHOTOS, load_photo
from course.files import DataError
from course.images import check_image_suffix, folder_files, read_image, to_rgb
from course.data.resampling import bicubic_downscale

HELD_OUT = ("astronaut", "chelsea", "coffee")
"""The test photos: never cut into training patches."""
NOT_PHOTOGRAPHS = ("colorwheel", "horse", "logo")
"""Shipped images that are drawings, not photographs: left out of training."""
TRAINING = tuple(name for name in PHOTOS if name not in HELD_OUT + NOT_PHOTOGRAPHS)
"""The 17 shipped photographs the offline lesson trains on."""


@dataclass(frozen=True)
class SRImage:
    """One high-resolution image (uint8 RGB, H and W multiples of ``scale``) and its low-resolution copy."""

    name: str
    hr: numpy.ndarray  #: uint8 (H, W, 3)
    lr: numpy.ndarray  #: uint8 (H / scale, W / scale, 3)
    scale: int


def crop_to_multiple(image: numpy.ndarray, scale: int) -> numpy.ndarray:
    """``image`` (H, W[, C]) with its bottom rows and right columns cut: both sides become multiples of ``scale``."""
    height, width = image.shape[:2]
    return image[:height - height % scale, :width - width % scale]


def low_resolution(hr: numpy.ndarray, scale: int) -> numpy.ndarray:
    """``hr`` (uint8 RGB, sides multiples of ``scale``) shrunk ``scale`` times, antialiased bicubic, as uint8."""
    small = bicubic_downscale(hr, scale)
    return numpy.clip(numpy.round(small), 0, 255).astype(numpy.uint8)


def sr_image(name: str, image: numpy.ndarray, scale: int, *, min_side: int = 0, say=print) -> SRImage:
    """An :class:`SRImage` of ``image`` (grey, RGB or RGBA, any dtype OpenCV reads): converted and cropped as needed.

    Grey becomes three equal channels and RGBA is put over white, each said through ``say`` (None:
    silent); sides that are not multiples of ``scale`` are cropped (said too). An image whose
    shorter side is below ``max(4 * scale, min_side)`` pixels raises :class:`DataError`: its
    low-resolution copy would be smaller than 4x4.
    """
    say = say or (lambda message: None)
    image = numpy.asarray(image)
    needed = max(4 * scale, min_side)
    height, width = image.shape[:2]
    if min(height, width) < needed:
        raise DataError(f"{name} is {width}x{height} px: super-resolution x{scale} needs at least {needed}x{needed} "
                        f"(a low-resolution copy of 4x4 or more{', and one training patch' if min_side else ''}); "
                        f"remove it or give a larger image")
    if image.ndim == 2 or image.shape[2] == 1:
        say(f"{name}: a grey image, used as RGB with three equal channels")
    elif image.shape[2] == 4:
        say(f"{name}: RGBA, put over a white background and used as RGB")
    if image.dtype != numpy.uint8:
        say(f"{name}: {image.dtype} pixels, reduced to 8 bits")
        top = 65535 if image.dtype == numpy.uint16 else 1
        image = numpy.clip(numpy.round(image.astype(numpy.float64) / top * 255), 0, 255).astype(numpy.uint8)
    rgb = to_rgb(image)
    cropped = crop_to_multiple(rgb, scale)
    if cropped.shape != rgb.shape:
        say(f"{name}: {width}x{height} px is not a multiple of {scale}: cropped to "
            f"{cropped.shape[1]}x{cropped.shape[0]} (right and bottom edges)")
    cropped = numpy.ascontiguousarray(cropped)
    return SRImage(name, cropped, low_resolution(cropped, scale), scale)


def load_sr_photos(names=HELD_OUT, scale: int = 4, *, max_side: int | None = None) -> list[SRImage]:
    """The shipped photos ``names`` (default: the held-out ones) as :class:`SRImage` s, shrunk to ``max_side``."""
    return [sr_image(name, load_photo(name, max_side), scale, say=None) for name in names]


def read_sr_folder(folder: str | os.PathLike, scale: int = 4, *, min_side: int = 0, say=print) -> list[SRImage]:
    """Every image file in ``folder`` as an :class:`SRImage` (see :func:`sr_image` for conversions and errors).

    A file that is not an image (by its suffix, or because OpenCV cannot decode it) raises
    :class:`DataError` naming it: remove it or convert it.
    """
    images = []
    for path in folder_files(folder, not_a_folder="give a folder of image files (PNG, JPEG...)",
                             empty="is empty: put high-resolution images in it (PNG or JPEG, e.g. your own photos, "
                                   "or Set5's and Set14's originals)"):
        check_image_suffix(path)
        image = read_image(path, fix="Remove it from the folder, or convert it to PNG.")
        images.append(sr_image(path.name, image, scale, min_side=min_side, say=say))
    return images


def model_values(images: numpy.ndarray, channels: int) -> numpy.ndarray:
    """uint8 RGB (N, H, W, 3) as a model reads them: float32 (N, 1, H, W) Y / 255 (``channels=1``) or RGB in [0, 1].

    Y is BT.601's studio-range luma (16-235), scikit-image's ``rgb2ycbcr``, as the papers measure it.
    """
    from skimage.color import rgb2ycbcr

    images = numpy.asarray(images)
    if channels == 1:
        return (rgb2ycbcr(images)[..., 0] / 255).astype(numpy.float32)[:, None]
    if channels == 3:
        return numpy.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=numpy.float32) / numpy.float32(255)
    raise ValueError(f"a super-resolution model reads 1 channel (Y) or 3 (RGB), not {channels}")


def random_patches(images: list[SRImage], count: int, patch: int, *, channels: int = 1,
                   seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``count`` training pairs cut at random from ``images``: (low-resolution (N, C, p/s, p/s), high (N, C, p, p)).

    Each patch comes from a photo drawn in proportion to its area, at a random position on the
    low-resolution grid (so the two patches cover exactly the same scene), then is turned by a
    random multiple of 90 degrees and maybe flipped. ``patch`` must be a multiple of the scale and
    fit in every image. The same ``seed`` gives the same patches.
    """
    if not images:
        raise DataError("no training images: give at least one image at least one patch large")
    scale = images[0].scale
    if patch % scale:
        raise ValueError(f"the patch side ({patch}) must be a multiple of the scale ({scale})")
    small = patch // scale
    for image in images:
        if min(image.lr.shape[:2]) < small:
            raise DataError(f"{image.name} is {image.hr.shape[1]}x{image.hr.shape[0]} px, smaller than a training "
                            f"patch of {patch}x{patch}: remove it or train with smaller patches")
    rng = numpy.random.RandomState(seed)
    areas = numpy.array([image.lr.shape[0] * image.lr.shape[1] for image in images], numpy.float64)
    which = rng.choice(len(images), count, p=areas / areas.sum())
    lr = numpy.empty((count, small, small, 3), numpy.uint8)
    hr = numpy.empty((count, patch, patch, 3), numpy.uint8)
    for i, k in enumerate(which):
        image = images[k]
        top = rng.randint(image.lr.shape[0] - small + 1)
        left = rng.randint(image.lr.shape[1] - small + 1)
        turns, flip = rng.randint(4), rng.randint(2)
        pair = (image.lr[top:top + small, left:left + small],
                image.hr[top * scale:top * scale + patch, left * scale:left * scale + patch])
        for out, part in zip((lr, hr), pair):
            part = numpy.rot90(part, turns)
            out[i] = part[:, ::-1] if flip else part
    return model_values(lr, channels), model_values(hr, channels)
