"""Images as the course holds them: one function for each conversion, on OpenCV.

Conventions, everywhere in the course:

- An image is a NumPy array laid out as scikit-image and matplotlib hold it (HWC): ``(H, W)`` grey,
  ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, never OpenCV's BGR (the readers and writers here swap).
- Its values are ``uint8`` 0-255, or floats in [0, 1] (``float32`` when made here).
- Chainer's convolutions take CHW, ``(C, H, W)``, and batches ``(N, C, H, W)``.
- A transparent pixel is composited over white when colours are needed without alpha.

Grey levels are OpenCV's ``COLOR_RGB2GRAY`` (0.299 R + 0.587 G + 0.114 B), not scikit-image's
``rgb2gray`` (which weighs the channels differently). Resizing averages pixels (``INTER_AREA``)
when the result has fewer pixels, so a shrunk photo does not alias, and is bilinear
(``INTER_LINEAR``) when it has more. Reading a file that is missing, is a folder or is no image
raises :class:`course.files.DataError`, whose message names the file and says what to do.

This module depends only on NumPy, OpenCV and :mod:`course.files`, so any lesson's data module
can use it. OpenCV is imported when first needed, which keeps ``import course.data`` light.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy

from course.files import DataError, atomic_write

__all__ = [
    "as_batch",
    "as_float",
    "as_uint8",
    "decode_rgb",
    "over_white",
    "read_grey",
    "read_image",
    "read_rgb",
    "resize",
    "shrink",
    "tile",
    "to_chw",
    "to_grey",
    "to_hwc",
    "to_rgb",
    "to_rgba",
    "write_image",
]

READ_FIX = "Check the path, or convert the file to PNG or JPEG."
"""What a reading error suggests when the caller gives no more specific fix."""


# ----------------------------------------------------------------------------------------------
# Values: uint8 <-> float in [0, 1]
# ----------------------------------------------------------------------------------------------

def as_float(image: numpy.ndarray) -> numpy.ndarray:
    """``image`` as float32 on the [0, 1] scale: integers divided by their dtype's maximum (uint8 by 255).

    Booleans become 0 and 1; floats are only cast to float32 (not clipped).
    """
    image = numpy.asarray(image)
    if image.dtype == bool:
        return image.astype(numpy.float32)
    if image.dtype.kind in "ui":
        # float32 / float32 stays float32 under NumPy 1 and NumPy 2 (NEP 50) alike.
        return image.astype(numpy.float32) / numpy.float32(numpy.iinfo(image.dtype).max)
    if image.dtype.kind != "f":
        raise ValueError(f"an image holds numbers, not {image.dtype} values")
    return image.astype(numpy.float32)


def as_uint8(image: numpy.ndarray) -> numpy.ndarray:
    """``image`` as uint8 0-255: floats in [0, 1] clipped, times 255 and rounded; booleans 0 or 255.

    A uint8 image is returned as it is; other integers are first scaled by :func:`as_float`.
    """
    image = numpy.asarray(image)
    if image.dtype == numpy.uint8:
        return image
    if image.dtype == bool:
        return image.astype(numpy.uint8) * 255
    if image.dtype.kind in "ui":
        image = as_float(image)
    elif image.dtype.kind != "f":
        raise ValueError(f"an image holds numbers, not {image.dtype} values")
    return (numpy.clip(image, 0, 1) * 255).round().astype(numpy.uint8)


# ----------------------------------------------------------------------------------------------
# Channels: grey, RGB, RGBA
# ----------------------------------------------------------------------------------------------

def _check_hwc(image: numpy.ndarray) -> numpy.ndarray:
    image = numpy.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        hint = " It looks channels-first: use to_hwc(image)." if image.ndim == 3 and image.shape[0] in (1, 3, 4) else ""
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), not {image.shape}.{hint}")
    return image


def over_white(image: numpy.ndarray) -> numpy.ndarray:
    """An RGBA image (H, W, 4) composited over white: RGB (H, W, 3), in the image's own scale.

    uint8 stays uint8 (0-255, rounded); floats stay floats ([0, 1]). Each colour ``c`` with opacity
    ``a`` becomes ``c * a + white * (1 - a)``.
    """
    image = numpy.asarray(image)
    if image.ndim != 3 or image.shape[2] != 4:
        raise ValueError(f"over_white takes an RGBA image (H, W, 4), not shape {image.shape}")
    if image.dtype == numpy.uint8:
        alpha = image[..., 3:].astype(numpy.float32) / 255
        return (image[..., :3] * alpha + 255 * (1 - alpha)).round().astype(numpy.uint8)
    if image.dtype.kind != "f":
        raise ValueError(f"over_white takes uint8 or float images, not {image.dtype}: use as_float(image) first")
    alpha = image[..., 3:]
    return image[..., :3] * alpha + (1 - alpha)


def to_grey(image: numpy.ndarray) -> numpy.ndarray:
    """An image (H, W), (H, W, 3) or (H, W, 4), of any dtype, as grey float32 (H, W) in [0, 1].

    Values go to [0, 1] first (:func:`as_float`), transparent pixels become white
    (:func:`over_white`), then OpenCV's ``COLOR_RGB2GRAY`` weighs the channels.
    """
    import cv2

    image = as_float(_check_hwc(image))
    if image.ndim == 3 and image.shape[2] == 4:
        image = over_white(image)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return numpy.clip(image, 0, 1)


def to_rgb(image: numpy.ndarray) -> numpy.ndarray:
    """An image (H, W), (H, W, 3) or (H, W, 4) as RGB (H, W, 3): grey as three equal channels, alpha over white.

    uint8 stays uint8 and floats keep their dtype; other dtypes (booleans, wider integers) become
    float32 in [0, 1] (:func:`as_float`). An RGB image of a kept dtype is returned as it is.
    """
    image = _check_hwc(image)
    if image.dtype != numpy.uint8 and image.dtype.kind != "f":
        image = as_float(image)
    if image.ndim == 2:
        return numpy.repeat(image[..., None], 3, axis=2)
    if image.shape[2] == 4:
        return over_white(image)
    return image


def to_rgba(image: numpy.ndarray, alpha: numpy.ndarray | None = None) -> numpy.ndarray:
    """An image as RGBA (H, W, 4) with opacity ``alpha`` (H, W): the image's own alpha, or opaque, by default.

    ``alpha`` is on the image's scale (0-255 for uint8, [0, 1] for floats). A grey image becomes
    three equal channels; an RGBA image given ``alpha`` has its opacity replaced. Colours are kept.
    """
    image = _check_hwc(image)
    if image.dtype != numpy.uint8 and image.dtype.kind != "f":
        image = as_float(image)
    colour = numpy.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
    if alpha is None:
        if image.ndim == 3 and image.shape[2] == 4:
            return image
        alpha = numpy.full(image.shape[:2], 255 if image.dtype == numpy.uint8 else 1, image.dtype)
    alpha = numpy.asarray(alpha)
    if alpha.shape != image.shape[:2]:
        raise ValueError(f"alpha must have the image's shape {image.shape[:2]}, not {alpha.shape}")
    return numpy.dstack([colour, alpha.astype(image.dtype, copy=False)])


# ----------------------------------------------------------------------------------------------
# Sizes
# ----------------------------------------------------------------------------------------------

def resize(image: numpy.ndarray, size: int | tuple[int, int], *, interpolation: int | None = None) -> numpy.ndarray:
    """``image`` (HWC, uint8 or float in [0, 1]) resized to ``size``: a side (square), or ``(width, height)``.

    By default OpenCV averages pixels (``INTER_AREA``) when the result has fewer pixels and is
    bilinear (``INTER_LINEAR``) when it has as many or more; ``interpolation`` (a ``cv2.INTER_*``
    constant) forces one. Float results are clipped to [0, 1] (area averaging can round a hair past 1).
    """
    import cv2

    image = numpy.asarray(image)
    width, height = (size, size) if isinstance(size, (int, numpy.integer)) else size
    if interpolation is None:
        shrinking = width * height < image.shape[0] * image.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(image, (int(width), int(height)), interpolation=interpolation)
    if resized.dtype.kind == "f":
        numpy.clip(resized, 0, 1, out=resized)
    return resized


def shrink(image: numpy.ndarray, max_side: int, *, side: Literal["longer", "shorter"] = "longer") -> numpy.ndarray:
    """``image`` shrunk so that its ``longer`` (or ``shorter``) side is at most ``max_side`` pixels; never enlarged.

    The aspect ratio is kept (each side rounded, at least 1 pixel) and pixels are averaged
    (``INTER_AREA``). An image already small enough is returned as it is.
    """
    image = numpy.asarray(image)
    if max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, not {max_side}")
    if side not in ("longer", "shorter"):
        raise ValueError(f"side is 'longer' or 'shorter', not {side!r}")
    measured = max(image.shape[:2]) if side == "longer" else min(image.shape[:2])
    if measured <= max_side:
        return image
    import cv2

    scale = max_side / measured
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))  # (width, height)
    return resize(image, size, interpolation=cv2.INTER_AREA)


# ----------------------------------------------------------------------------------------------
# Layouts: HWC <-> CHW, batches
# ----------------------------------------------------------------------------------------------

def to_chw(image: numpy.ndarray) -> numpy.ndarray:
    """HWC -> CHW, the layout Chainer's convolutions take: (H, W, C) -> (C, H, W), grey (H, W) -> (1, H, W)."""
    image = numpy.asarray(image)
    if image.ndim == 2:
        return numpy.ascontiguousarray(image[None])
    if image.ndim != 3:
        raise ValueError(f"to_chw takes one image (H, W) or (H, W, C), not shape {image.shape}")
    return numpy.ascontiguousarray(image.transpose(2, 0, 1))


def to_hwc(image: numpy.ndarray) -> numpy.ndarray:
    """CHW -> HWC, the layout matplotlib and OpenCV take: (C, H, W) -> (H, W, C), one channel -> grey (H, W)."""
    image = numpy.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"to_hwc takes one image (C, H, W), not shape {image.shape}")
    return image[0] if image.shape[0] == 1 else numpy.ascontiguousarray(image.transpose(1, 2, 0))


def as_batch(images: numpy.ndarray) -> numpy.ndarray:
    """Images as a float32 batch (N, C, H, W); grey images (N, H, W) get a channel axis.

    uint8 is scaled to [0, 1] (divided by 255); other numbers are taken as they are, already on the
    [0, 1] scale (they are only cast to float32).
    """
    images = numpy.asarray(images)
    if images.dtype.kind not in "uif":
        raise ValueError(f"images must be numbers, not {images.dtype}")
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, C, H, W), not {images.shape}")
    if images.dtype == numpy.uint8:
        return images.astype(numpy.float32) / numpy.float32(255)
    return images.astype(numpy.float32)


def tile(images: numpy.ndarray, columns: int = 10, *, gap: int = 1) -> numpy.ndarray:
    """A batch (N, C, H, W) as one HWC picture: ``columns`` images a row, ``gap`` pixels of white between.

    Values keep their scale (uint8 0-255 or floats in [0, 1]); a last row that is not full is left
    white. One channel gives a grey (H, W) picture.
    """
    images = numpy.asarray(images)
    if images.ndim != 4 or not len(images):
        raise ValueError(f"tile takes a batch of images (N, C, H, W), not shape {images.shape}")
    if columns < 1 or gap < 0:
        raise ValueError(f"columns must be at least 1 and gap at least 0, not {columns} and {gap}")
    n, c, h, w = images.shape
    columns = min(columns, n)
    rows = -(-n // columns)
    white = 255 if images.dtype == numpy.uint8 else 1
    sheet = numpy.full((c, rows * (h + gap) - gap, columns * (w + gap) - gap), white, images.dtype)
    for i, image in enumerate(images):
        top, left = (i // columns) * (h + gap), (i % columns) * (w + gap)
        sheet[:, top:top + h, left:left + w] = image
    return to_hwc(sheet)


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
"""The file endings :func:`check_image_suffix` takes for image files (formats OpenCV reads)."""


def folder_files(folder: str | os.PathLike, *, not_a_folder: str, empty: str) -> list[Path]:
    """The files of a learner's ``folder``, in name order, hidden files and sub-folders skipped.

    A missing folder raises :class:`DataError` "FOLDER is not a folder: ``not_a_folder``"; a folder
    with no file raises "FOLDER ``empty``" (e.g. ``"is empty: put ... in it"``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: {not_a_folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"{folder} {empty}")
    return files


def check_image_suffix(path: Path) -> None:
    """Raise :class:`DataError` naming ``path`` when its ending is not one of :data:`IMAGE_SUFFIXES`."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DataError(f"{path} is not an image file (suffix {path.suffix or 'none'}; images are "
                        f"{', '.join(IMAGE_SUFFIXES)}): remove it from the folder")


def _imread(path: str | os.PathLike, flag: int, fix: str) -> numpy.ndarray:
    """OpenCV's ``imread(path, flag)``, or a :class:`DataError` that says why not and ends with ``fix``."""
    import cv2

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an image file. {fix}")
    if not path.exists():
        raise DataError(f"{path} does not exist. {fix}")
    if not path.is_file():
        raise DataError(f"{path} is not a regular file, so not an image file. {fix}")
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise DataError(f"{path} cannot be opened ({error.strerror or error}). {fix}") from None
    image = cv2.imread(str(path), flag)
    if image is None:
        raise DataError(f"{path} cannot be read as an image: {path.name} is not an image file OpenCV can read "
                        f"(it may be truncated, empty or another kind of file). {fix}")
    return image


def _from_bgr(image: numpy.ndarray) -> numpy.ndarray:
    import cv2

    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return image


def read_image(path: str | os.PathLike, *, fix: str = READ_FIX) -> numpy.ndarray:
    """The image file at ``path`` as stored: grey (H, W), RGB (H, W, 3) or RGBA (H, W, 4), in its own dtype.

    Any format OpenCV reads (``IMREAD_UNCHANGED``: 8- or 16-bit, alpha kept, EXIF orientation not
    applied). A missing file, a folder, or a file that is no image raises :class:`DataError` naming
    ``path`` and ending with ``fix``.
    """
    import cv2

    return _from_bgr(_imread(path, cv2.IMREAD_UNCHANGED, fix))


def read_grey(path: str | os.PathLike, *, fix: str = READ_FIX) -> numpy.ndarray:
    """The image file at ``path`` as grey float32 (H, W) in [0, 1]: :func:`to_grey` of :func:`read_image`."""
    return to_grey(read_image(path, fix=fix))


def read_rgb(path: str | os.PathLike, *, fix: str = READ_FIX) -> numpy.ndarray:
    """The image file at ``path`` as uint8 RGB (H, W, 3), decoded the way OpenCV's ``IMREAD_COLOR`` does.

    That is: EXIF orientation applied, 16 bits reduced to 8, a grey file repeated into three
    channels, and an alpha channel dropped (read it with :func:`read_image` and use :func:`to_rgb`
    to composite it over white instead). Errors as :func:`read_image`.
    """
    import cv2

    return _from_bgr(_imread(path, cv2.IMREAD_COLOR, fix))


def decode_rgb(data: bytes, what: str = "the data", *, fix: str = READ_FIX) -> numpy.ndarray:
    """Encoded image bytes (JPEG, PNG...) as uint8 RGB (H, W, 3), as :func:`read_rgb` reads a file.

    Bytes that are no image raise :class:`DataError` naming ``what`` (e.g. the URL they came from).
    """
    import cv2

    try:
        image = cv2.imdecode(numpy.frombuffer(data, numpy.uint8), cv2.IMREAD_COLOR) if len(data) else None
    except cv2.error:
        image = None
    if image is None:
        raise DataError(f"{what} cannot be read as an image ({len(data)} bytes that OpenCV cannot decode). {fix}")
    return _from_bgr(image)


def encode_png(image: numpy.ndarray) -> bytes:
    """``image`` (grey, RGB or RGBA; uint8, or floats in [0, 1]) as the bytes of a PNG file, e.g. for a web page."""
    import cv2

    pixels = as_uint8(_check_hwc(image))
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError(f"OpenCV could not encode an image of shape {pixels.shape} as PNG")
    return encoded.tobytes()


def write_image(path: str | os.PathLike, image: numpy.ndarray) -> Path:
    """Write ``image`` (grey, RGB or RGBA; uint8, or floats in [0, 1]) to ``path``, in the format its suffix names.

    Floats and other dtypes are converted with :func:`as_uint8`. The file appears atomically
    (:func:`course.files.atomic_write`). An unknown suffix raises :class:`DataError`.
    """
    import cv2

    path = Path(path)
    pixels = as_uint8(_check_hwc(image))
    if not pixels.size:
        raise ValueError(f"cannot write {path}: the image has no pixels (shape {pixels.shape})")
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    try:
        ok, encoded = cv2.imencode(path.suffix, pixels)
    except cv2.error:
        ok = False
    if not ok:
        raise DataError(f"cannot write {path}: OpenCV has no image format for the suffix {path.suffix!r}; "
                        f"use .png (lossless) or .jpg.")
    with atomic_write(path, "wb") as f:
        f.write(encoded.tobytes())
    return path
