"""Colour images and their line art for colourisation (lesson 8), and the colour hints a learner gives.

Offline, the images are the colour photographs the installed packages ship
(:mod:`course.data.photos`), split *by photo*: :data:`HELD_OUT` (astronaut, chelsea, coffee) are the
test images and never lend a crop to training; :data:`TRAINING` are the other colour ones. The real
path is a folder of your own colour illustrations (:func:`read_colour_folder`; the seed collected
200,000), whose line art is made on the fly, so the folder holds nothing but the colour originals.

Each image is shrunk (``INTER_AREA``) so that its shorter side is ``side`` pixels. Its line art is
made as the seed made it: from the colour image at :data:`LINE_SCALE` times that size, then shrunk
with ``INTER_AREA`` too (see :mod:`course.data.lineart` for why not ``INTER_CUBIC``). Training pairs are
random square crops of both, flipped at random (:func:`random_crops`); a model reads line art
(N, 1, H, W) with white paper 1 and writes RGB (N, 3, H, W), both in [0, 1].

Colour hints are PaintsChainer's idea: a few dots of the right colour placed on the line art tell
the model which colour goes where. They are four extra input channels (:func:`hint_channels`): the
dots' RGB and a mask that is 1 where there is a dot. While training, the dots are sampled from the
original (:func:`sample_hints`); at use time the learner places them (:class:`course.widgets.HintPanel`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy

from course.data.photos import load_photo
from course.files import DataError
from course.images import check_image_suffix, folder_files, read_image, resize, shrink, to_chw, to_rgb
from course.data.lineart import line_art

HELD_OUT = ("astronaut", "chelsea", "coffee")
"""The test photos: never cut into training crops (the same as lesson 7's)."""
TRAINING = ("rocket", "motorcycle", "grace_hopper", "china", "flower")
"""The other colour photographs of everyday scenes the packages ship: three of :data:`course.data.photos.PHOTOS`
and scikit-learn's two sample photos (:data:`SKLEARN_PHOTOS`). Left out: the grey photos, the drawings, the
micrographs, retina and the night sky, whose colours no line art could suggest (a white field of paper
is orange on the retina, black in the sky)."""
SKLEARN_PHOTOS = ("china", "flower")
"""scikit-learn's sample photos (``sklearn.datasets.load_sample_image``): a temple in China and a flower."""
LINE_SCALE = 2
"""Line art is drawn at this many times the working size, then shrunk (the seed: made from the original, resized)."""
LINE_GAIN = 3.0
"""Photographs have soft edges: their dilate-minus-original differences are multiplied by this."""
HINT_CHANNELS = 4
"""Hints are RGB plus a mask of where they are."""
GREY_TOLERANCE = 2
"""An image whose channels never differ by more than this (of 255) is grey: it has no colour to learn."""


@dataclass(frozen=True)
class ColourImage:
    """One colour image at its working size and its line art."""

    name: str
    colour: numpy.ndarray  #: uint8 RGB (H, W, 3)
    lines: numpy.ndarray  #: float32 (H, W) in [0, 1], white paper 1

    def pair(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """``(lines (1, H, W), colour (3, H, W))`` as a model reads and writes them, float32 in [0, 1]."""
        return self.lines[None], to_chw(self.colour).astype(numpy.float32) / numpy.float32(255)


def colour_image(name: str, image: numpy.ndarray, side: int) -> ColourImage:
    """A :class:`ColourImage` of ``image`` (RGB, RGBA or grey, uint8 or [0, 1]) shrunk to a shorter side of ``side``.

    Its line art is :func:`course.data.lineart.line_art` of the image at :data:`LINE_SCALE` times that
    size, shrunk with ``INTER_AREA``. A grey image (three equal channels or one) raises
    :class:`DataError`: there would be no colour to learn. So does one smaller than ``side``.
    """
    image = numpy.asarray(image)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1) or _is_grey(to_rgb(image)):
        raise DataError(f"{name} is a grey image: colourisation learns colours from colour originals; remove it or "
                        f"give its colour version")
    height, width = image.shape[:2]
    if min(height, width) < side:
        raise DataError(f"{name} is {width}x{height} px, smaller than the working size {side} px: remove it or "
                        f"give a larger image")
    rgb = to_rgb(image)
    if rgb.dtype != numpy.uint8:
        rgb = (numpy.clip(rgb, 0, 1) * 255).round().astype(numpy.uint8)
    colour = shrink(rgb, side, side="shorter")
    size = (colour.shape[1], colour.shape[0])
    large = shrink(rgb, side * LINE_SCALE, side="shorter")
    lines = resize(line_art(large, gain=LINE_GAIN), size)  # shrinking: INTER_AREA
    return ColourImage(name, numpy.ascontiguousarray(colour), lines.astype(numpy.float32))


def _is_grey(rgb: numpy.ndarray) -> bool:
    values = rgb.astype(numpy.int16) if rgb.dtype == numpy.uint8 else (rgb * 255).astype(numpy.int16)
    return int(numpy.abs(values - values[..., :1]).max()) <= GREY_TOLERANCE


def load_colour_photo(name: str) -> numpy.ndarray:
    """The shipped colour photo ``name`` (one of :data:`course.data.photos.PHOTOS` or :data:`SKLEARN_PHOTOS`), uint8 RGB."""
    if name in SKLEARN_PHOTOS:
        from sklearn.datasets import load_sample_image

        return numpy.ascontiguousarray(load_sample_image(f"{name}.jpg"))
    return load_photo(name)


def load_colour_photos(names=HELD_OUT, side: int = 96) -> list[ColourImage]:
    """The shipped colour photos ``names`` (default the held-out ones) as :class:`ColourImage` s."""
    return [colour_image(name, load_colour_photo(name), side) for name in names]


def read_colour_folder(folder: str | os.PathLike, side: int = 96) -> list[ColourImage]:
    """Every image file in ``folder`` as a :class:`ColourImage`, its line art made on the fly.

    Raises :class:`DataError` naming the problem for: no folder, an empty folder, a file that is no
    image (by suffix, or undecodable), a grey image, an image smaller than ``side``.
    """
    files = folder_files(folder, not_a_folder="give a folder of colour illustrations (PNG or JPEG)",
                         empty="is empty: put colour illustrations in it (PNG or JPEG); their line art is made "
                               "from them")
    images = []
    for path in files:
        check_image_suffix(path)
        image = read_image(path, fix="Remove it from the folder, or convert it to PNG.")
        images.append(colour_image(path.name, image, side))
    return images


def random_crops(images: list[ColourImage], count: int, size: int, *,
                 seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``count`` training pairs: (line art (N, 1, size, size), colour (N, 3, size, size)), float32 in [0, 1].

    Each crop comes from an image drawn in proportion to its area, at a random position, flipped
    left-right at random. The same ``seed`` gives the same crops.
    """
    if not images:
        raise DataError("no training images: give at least one colour image")
    for image in images:
        if min(image.lines.shape) < size:
            raise DataError(f"{image.name} is {image.lines.shape[1]}x{image.lines.shape[0]} px at the working size, "
                            f"smaller than a {size} px crop: use smaller crops or a larger working size")
    rng = numpy.random.RandomState(seed)
    areas = numpy.array([image.lines.size for image in images], numpy.float64)
    which = rng.choice(len(images), count, p=areas / areas.sum())
    lines = numpy.empty((count, 1, size, size), numpy.float32)
    colour = numpy.empty((count, 3, size, size), numpy.float32)
    for i, k in enumerate(which):
        line, rgb = images[k].pair()
        top, left = rng.randint(line.shape[1] - size + 1), rng.randint(line.shape[2] - size + 1)
        window = (slice(None), slice(top, top + size), slice(left, left + size))
        flip = slice(None, None, -1 if rng.randint(2) else 1)
        lines[i], colour[i] = line[window][..., flip], rgb[window][..., flip]
    return lines, colour


def hint_channels(shape: tuple[int, int], hints=()) -> numpy.ndarray:
    """Hint channels (4, H, W) for one image of ``shape`` (H, W): ``hints`` = [(row, column, (r, g, b), radius)].

    Each hint paints a square of side ``2 radius + 1`` centred at (row, column) in its colour (values
    in [0, 1]) and sets the mask there to 1. No hints: all zeros, which the model reads as "no hint".
    """
    height, width = shape
    channels = numpy.zeros((HINT_CHANNELS, height, width), numpy.float32)
    for row, column, rgb, radius in hints:
        if not (0 <= row < height and 0 <= column < width):
            raise ValueError(f"a hint at row {row}, column {column} lies outside the {width}x{height} image")
        window = (slice(max(0, row - radius), row + radius + 1), slice(max(0, column - radius), column + radius + 1))
        channels[(slice(0, 3), *window)] = numpy.asarray(rgb, numpy.float32)[:, None, None]
        channels[(3, *window)] = 1
    return channels


def place_hints(colour: numpy.ndarray, count: int, *, radius: int = 1,
                rng: numpy.random.RandomState | None = None) -> list[tuple[int, int, numpy.ndarray, int]]:
    """``count`` hints for one original ``colour`` (3, H, W): [(row, column, rgb, radius)] at random pixels.

    Each hint has the original's mean colour over its square, as if a person had picked the right
    colour there. Positions come from ``rng`` (default: NumPy's global generator).
    """
    rng = rng if rng is not None else numpy.random
    _, height, width = colour.shape
    hints = []
    for _ in range(count):
        row, column = rng.randint(height), rng.randint(width)
        patch = colour[:, max(0, row - radius):row + radius + 1, max(0, column - radius):column + radius + 1]
        hints.append((int(row), int(column), patch.mean(axis=(1, 2)), radius))
    return hints


def sample_hints(colour: numpy.ndarray, max_hints: int, *, radius: int = 1,
                 rng: numpy.random.RandomState | None = None) -> numpy.ndarray:
    """Hint channels (N, 4, H, W) for a batch of originals ``colour`` (N, 3, H, W): what a training step feeds.

    Each image gets from 0 to ``max_hints`` hints (uniformly many) from :func:`place_hints`. Zero
    hints are drawn as often as any other number, so the model also learns to colour without any.
    """
    rng = rng if rng is not None else numpy.random
    n, _, height, width = colour.shape
    hints = numpy.empty((n, HINT_CHANNELS, height, width), numpy.float32)
    for i in range(n):
        hints[i] = hint_channels((height, width), place_hints(colour[i], rng.randint(max_hints + 1), radius=radius,
                                                               rng=rng))
    return hints
