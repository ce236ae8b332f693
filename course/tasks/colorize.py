"""Lesson 8: line art to colour, the seed's path (autoencoder, U-Net, GAN + L1, WGAN) and PaintsChainer's hints.

``python -m course train colorize --out DIR`` trains, each stage resuming from its own snapshots:

1. the U-Net with the L1 loss alone (``DIR/unet``);
2. the hinted U-Net: line art plus four hint channels, hints sampled from the originals while it
   trains (``DIR/hinted``), written as ``DIR/model.npz``, the model ``python -m course colorize``
   uses (with or without ``--hints``);
3. GAN + L1: the first stage's U-Net against pix2pix's conditional patch discriminator (``DIR/gan``), written as
   ``DIR/generator.npz`` (and ``DIR/discriminator.npz``).

Everything is judged on the held-out photos (:data:`course.data.colorization.HELD_OUT`), whole, at
the working size: line preservation (:func:`course.metrics.line_f1`), the colour error ΔE00 against
the original (:func:`course.metrics.lab_error`) and colourfulness; ``DIR/report.json`` holds the
figures. :data:`METRIC` is the hinted model's ΔE00 with :data:`HELD_OUT_HINTS` hints an image.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import chainer
import numpy

from course.data.colorization import (HELD_OUT, HINT_CHANNELS, LINE_GAIN, TRAINING, ColourImage, hint_channels, load_colour_photos, place_hints, random_crops, read_colour_folder)
from course.device import get_device
from course.errors import DataError, InputError
from course.files import atomic_write, check_writable_folder
from course.images import as_float, read_grey, read_image, write_image
from course.data.lineart import line_art, line_mask
from course.losses import non_saturating_generator_loss, pixel_l1
from course.metrics import colourfulness, lab_error, line_f1
from course.models import load_model, predict, save_model
from course.models.colorization import ColorAutoencoder, Critic, PatchDiscriminator, UNet
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History
from course.training.colorization import train_colorizer, train_pix2pix, train_wgan

METRIC = "held_out/hinted_lab_error"
BATCH_SIZE = 16
"""Crops per step for every model (PaintsChainer's)."""
HELD_OUT_HINTS = 16
"""Hints an image when the held-out photos are coloured with hints (sampled from the originals, fixed seed)."""
LEVELS = 4
"""Halvings in every network (PaintsChainer's U-Net has four): crops must be multiples of 16 px."""
SOURCES = ("auto", "offline")
"""Offline the shipped colour photos (:data:`course.data.colorization.TRAINING`); or a folder of your own."""


@dataclass(frozen=True)
class Sizes:
    """Lesson 8's sizes: the images, the networks, and how long each model trains.

    Images are shrunk to a shorter side of ``side`` px and ``crops`` random ``crop``-px squares are
    cut from them. Every generator has ``base`` channels at full size, doubling at each of :data:`LEVELS`
    halvings; the discriminator and critic are ``base`` wide with as many halvings. The pixel-loss
    models train ``epochs`` with Adam at ``lr``; GAN + L1 ``gan_epochs`` at ``gan_lr``, G's L1 term
    weighted ``l1_weight`` (pix2pix's 100 on pixels in [-1, 1] is 200 on our [0, 1]; in a CPU-minute that
    leaves G an L1 model, so the quick profile gives the adversarial term the larger say), starting
    from the L1 U-Net; the WGAN
    ``wgan_epochs`` (RMSprop, the paper's 5e-5). A hinted model
    gets 0 to ``max_hints`` hints a crop.
    """

    side: int
    crop: int
    crops: int
    base: int
    epochs: int
    lr: float
    gan_epochs: int
    gan_lr: float
    l1_weight: float
    wgan_epochs: int
    max_hints: int
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """What the notebook asks on the held-out photos (quick profile, CPU).

    The U-Net's line F1 is ``min_line_ratio`` times the autoencoder's or more; its ΔE00 is below the
    autoencoder's and below predicting grey; GAN + L1 (from the L1 U-Net) is ``min_colour_ratio`` times
    as colourful as the same U-Net trained as long with L1 alone, or more; hints lower the hinted
    model's ΔE00 by ``min_hint_gain`` or more.
    """

    min_line_ratio: float
    min_colour_ratio: float
    min_hint_gain: float


QUICK = Sizes(side=64, crop=32, crops=800, base=8, epochs=8, lr=1e-3, gan_epochs=6, gan_lr=1e-3,
              l1_weight=1.0, wgan_epochs=3, max_hints=16, snapshot_every=200)
FULL = replace(QUICK, side=160, crop=128, crops=16000, base=32, epochs=20, lr=2e-4, gan_epochs=20, gan_lr=2e-4,
               l1_weight=200.0, wgan_epochs=20, max_hints=32, snapshot_every=2000)
SIZES = {"quick": QUICK, "full": FULL}
_BARS = Bars(min_line_ratio=2.0, min_colour_ratio=1.1, min_hint_gain=0.5)
BARS = {"quick": _BARS, "full": _BARS}


# --- the networks ----------------------------------------------------------------------------------

def build_autoencoder(sizes: Sizes, *, seed: int = 0) -> ColorAutoencoder:
    """A fresh autoencoder of ``sizes`` (line art in, no skips), seeded."""
    set_seed(seed)
    return ColorAutoencoder(1, sizes.base, LEVELS)


def build_unet(sizes: Sizes, *, hints: bool = False, seed: int = 0) -> UNet:
    """A fresh U-Net of ``sizes``, seeded: line art in, plus the four hint channels when ``hints``."""
    set_seed(seed)
    return UNet(1 + HINT_CHANNELS if hints else 1, sizes.base, LEVELS)


def build_discriminator(sizes: Sizes, *, seed: int = 1) -> PatchDiscriminator:
    """pix2pix's patch discriminator of ``sizes`` for (line art, colour), seeded."""
    set_seed(seed)
    return PatchDiscriminator(1, sizes.base, LEVELS)


def build_critic(sizes: Sizes, *, seed: int = 1) -> Critic:
    """A WGAN critic of ``sizes`` for (line art, colour), seeded."""
    set_seed(seed)
    return Critic(1, sizes.base, LEVELS)


# --- data ------------------------------------------------------------------------------------------

def training_images(source: str | os.PathLike = "auto", sizes: Sizes = QUICK, *,
                    verbose: bool = True) -> list[ColourImage]:
    """The training images: the shipped colour photos (``auto``, ``offline``) or every image in the folder ``source``."""
    if str(source) in SOURCES:
        images = load_colour_photos(TRAINING, sizes.side)
    elif Path(source).is_dir():
        images = read_colour_folder(source, sizes.side)
    else:
        raise InputError(f"source {str(source)!r} is neither one of {', '.join(SOURCES)} nor a folder of colour images")
    if verbose:
        print(f"{len(images)} training images at a shorter side of {sizes.side} px: "
              f"{', '.join(image.name for image in images[:8])}{'...' if len(images) > 8 else ''}")
    return images


def training_crops(images: list[ColourImage], sizes: Sizes, *, seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``sizes.crops`` random (line art, colour) crops of ``sizes.crop`` px from ``images``."""
    if sizes.crop % 2 ** LEVELS:
        raise InputError(f"crop={sizes.crop} cannot be halved {LEVELS} times: choose a multiple of "
                         f"{2 ** LEVELS}")
    return random_crops(images, sizes.crops, sizes.crop, seed=seed)


def held_out_images(sizes: Sizes) -> list[ColourImage]:
    """The held-out photos at the working size: never cut into training crops."""
    return load_colour_photos(HELD_OUT, sizes.side)


def held_out_hints(colour: numpy.ndarray, count: int = HELD_OUT_HINTS, *, seed: int = 0) -> numpy.ndarray:
    """Hint channels (4, H, W) with ``count`` hints sampled from the original ``colour`` (3, H, W), the same for a seed."""
    return hint_channels(colour.shape[1:], place_hints(colour, count, rng=numpy.random.RandomState(seed)))


# --- using a model ---------------------------------------------------------------------------------

def colorize(model: chainer.Link, lines: numpy.ndarray, hints: numpy.ndarray | None = None, *,
             device=None) -> numpy.ndarray:
    """The colours (3, H, W) in [0, 1] that ``model`` gives line art ``lines`` ((H, W) or (1, H, W), white paper 1).

    Any size: the line art is padded with white paper to a multiple of ``2 ** levels`` and the
    result cropped back. A hinted model (5 input channels) reads ``hints`` (4, H, W), or no hints
    (all zeros) when None; a model without hint channels refuses hints.
    """
    lines = as_float(lines)
    lines = lines[0] if lines.ndim == 3 else lines
    height, width = lines.shape
    channels = model.in_channels
    if hints is not None and channels == 1:
        raise InputError("this model was trained without hint channels: colour it without hints, or train the "
                         "hinted model (python -m course train colorize writes it as model.npz)")
    step = 2 ** model.levels
    padded = (-(-height // step) * step, -(-width // step) * step)
    x = numpy.ones((1, channels) + padded, numpy.float32)
    x[0, 0, :height, :width] = lines
    if channels > 1:
        x[0, 1:] = 0
        if hints is not None:
            hints = numpy.asarray(hints, numpy.float32)
            if hints.shape != (HINT_CHANNELS, height, width):
                raise InputError(f"hints must have shape {(HINT_CHANNELS, height, width)} for this line art, not "
                                 f"{hints.shape}")
            x[0, 1:, :height, :width] = hints
    return predict(model, x, device=device)[0, :, :height, :width]


@dataclass(frozen=True)
class Scores:
    """A model's figures on held-out images: each image's line F1, ΔE00 and colourfulness, and their means."""

    names: tuple[str, ...]
    line_f1s: numpy.ndarray
    lab_errors: numpy.ndarray
    colourfulnesses: numpy.ndarray

    @property
    def line_f1(self) -> float:
        return float(self.line_f1s.mean())

    @property
    def lab_error(self) -> float:
        return float(self.lab_errors.mean())

    @property
    def colourfulness(self) -> float:
        return float(self.colourfulnesses.mean())

    def row(self, name: str) -> str:
        """One line of a table (:meth:`header` names the columns)."""
        return f"{name:<24} {self.line_f1:>8.3f} {self.lab_error:>8.2f} {self.colourfulness:>14.1f}"

    @staticmethod
    def header() -> str:
        return f"{'':<24} {'line F1':>8} {'ΔE00':>8} {'colourfulness':>14}"


def output_scores(outputs: list[numpy.ndarray], images: list[ColourImage]) -> Scores:
    """The :class:`Scores` of ``outputs`` (each (3, H, W) in [0, 1]) against ``images``' line art and originals."""
    f1s, errors, colours = [], [], []
    for output, image in zip(outputs, images):
        lines, original = image.pair()
        drawn = line_mask(line_art(output.transpose(1, 2, 0), gain=LINE_GAIN))
        f1s.append(line_f1(line_mask(lines[0]), drawn))
        errors.append(lab_error(output, original))
        colours.append(colourfulness(output))
    return Scores(tuple(image.name for image in images), *(numpy.array(v) for v in (f1s, errors, colours)))


def held_out_scores(model: chainer.Link, images: list[ColourImage], *, hints: int = 0, device=None) -> Scores:
    """``model``'s :class:`Scores` on ``images``, each coloured whole, with ``hints`` hints sampled from its original."""
    outputs = []
    for image in images:
        lines, original = image.pair()
        hint = held_out_hints(original, hints) if model.in_channels > 1 else None
        if hints and hint is None:
            raise InputError("this model has no hint channels: score it with hints=0")
        outputs.append(colorize(model, lines, hint, device=device))
    return output_scores(outputs, images)


def grey_outputs(images: list[ColourImage], level: float) -> list[numpy.ndarray]:
    """The baseline that knows no colour: every pixel the grey ``level`` (e.g. the training crops' mean)."""
    return [numpy.full((3,) + image.lines.shape, level, numpy.float32) for image in images]


# --- training ---------------------------------------------------------------------------------------

def _check_crops(crops) -> None:
    if len(crops[0]) < BATCH_SIZE:
        raise DataError(f"{len(crops[0])} training crops are fewer than one batch ({BATCH_SIZE}): give more")


def train_pixel_model(model: chainer.Link, crops, sizes: Sizes, out: str | os.PathLike, *, loss=pixel_l1,
                      epochs: int | None = None, device=None, progress: bool = True, live_plot: bool | None = None,
                      title: str = "") -> History:
    """Train ``model`` (autoencoder or U-Net, hinted or not) on ``crops`` with ``loss`` and the lesson's settings."""
    _check_crops(crops)
    max_hints = sizes.max_hints if model.in_channels > 1 else None
    return train_colorizer(model, crops, epochs=sizes.epochs if epochs is None else epochs, loss=loss,
                           max_hints=max_hints, batch_size=BATCH_SIZE, lr=sizes.lr, out=out, device=device,
                           snapshot_every=sizes.snapshot_every, progress=progress, live_plot=live_plot, title=title)


def train_gan_l1(crops, sizes: Sizes, out: str | os.PathLike, *, start: UNet | None = None, epochs: int | None = None,
                 generator_loss=non_saturating_generator_loss, device=None, progress: bool = True,
                 live_plot: bool | None = None) -> tuple[UNet, PatchDiscriminator, History]:
    """GAN + L1 with the lesson's settings: a U-Net against a fresh patch discriminator.

    The U-Net is a copy of ``start`` (a U-Net trained with L1, as SRGAN starts from its MSE model)
    when given, else a fresh one (as pix2pix starts); ``start`` itself is left as it is. G's
    adversarial loss is ``generator_loss`` (e.g. the seed's ``course.losses.log_ratio_generator_loss``).
    """
    _check_crops(crops)
    generator = build_unet(sizes) if start is None else copy.deepcopy(start)
    discriminator = build_discriminator(sizes)
    history = train_pix2pix(generator, discriminator, crops, epochs=sizes.gan_epochs if epochs is None else epochs,
                            l1_weight=sizes.l1_weight, generator_loss=generator_loss, batch_size=BATCH_SIZE,
                            lr=sizes.gan_lr, out=out, device=device, snapshot_every=sizes.snapshot_every,
                            progress=progress, live_plot=live_plot, title="GAN + L1")
    return generator, discriminator, history


def train_wgan_l1(crops, sizes: Sizes, out: str | os.PathLike, *, device=None, progress: bool = True,
                  live_plot: bool | None = None) -> tuple[UNet, Critic, History]:
    """WGAN + L1 with the paper's settings (RMSprop 5e-5, 5 critic steps, clip 0.01): a fresh U-Net and critic."""
    _check_crops(crops)
    generator, critic = build_unet(sizes), build_critic(sizes)
    history = train_wgan(generator, critic, crops, epochs=sizes.wgan_epochs, l1_weight=sizes.l1_weight,
                         batch_size=BATCH_SIZE, out=out, device=device, snapshot_every=sizes.snapshot_every,
                         progress=progress, live_plot=live_plot, title="WGAN + L1")
    return generator, critic, history


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[UNet, History, list[ColourImage]]:
    """The U-Net, the hinted U-Net and GAN + L1 with ``sizes`` (default: the profile's); see the module docstring.

    Returns the hinted U-Net, its history with the final figures added to the last entry, and the
    held-out images.
    """
    size = pick_sizes(SIZES, sizes, profile)
    out = check_writable_folder(out)
    device = get_device(device)
    crops = training_crops(training_images(source, size, verbose=progress), size)
    unet = build_unet(size)
    train_pixel_model(unet, crops, size, out / "unet", device=device, progress=progress, live_plot=live_plot,
                      title="U-Net, L1")
    hinted = build_unet(size, hints=True)
    history = train_pixel_model(hinted, crops, size, out / "hinted", device=device, progress=progress,
                                live_plot=live_plot, title="U-Net with hints, L1")
    generator, discriminator, _ = train_gan_l1(crops, size, out / "gan", start=unet, device=device,
                                               progress=progress, live_plot=live_plot)
    for name, link in (("model", hinted), ("generator", generator), ("discriminator", discriminator)):
        save_model(link, out / f"{name}.npz")
    held_out = held_out_images(size)
    plain, gan = held_out_scores(unet, held_out, device=device), held_out_scores(generator, held_out, device=device)
    without, with_hints = (held_out_scores(hinted, held_out, hints=n, device=device) for n in (0, HELD_OUT_HINTS))
    grey = output_scores(grey_outputs(held_out, float(crops[1].mean())), held_out)
    report = {METRIC: with_hints.lab_error, "held_out/hinted_lab_error_without_hints": without.lab_error,
              "held_out/unet_lab_error": plain.lab_error, "held_out/gan_lab_error": gan.lab_error,
              "held_out/grey_lab_error": grey.lab_error, "held_out/unet_line_f1": plain.line_f1,
              "held_out/unet_colourfulness": plain.colourfulness, "held_out/gan_colourfulness": gan.colourfulness}
    with atomic_write(out / "report.json", "w") as f:
        f.write(json.dumps({"sizes": asdict(size), **report}, indent=1) + "\n")
    if progress:
        print("\n".join(f"{key} {value:.4f}" for key, value in report.items() if key != METRIC))
    log = [dict(entry) for entry in history.log]
    log[-1].update(report)
    return hinted, History(log, out), held_out


# --- saved models ---------------------------------------------------------------------------------

def load_colorizer(path: str | os.PathLike) -> chainer.Link:
    """A colouriser saved by ``train colorize`` (``model.npz``, ``generator.npz``) or the notebook, or a DataError."""
    model = load_model(path)
    if not isinstance(model, (UNet, ColorAutoencoder)):
        raise DataError(f"{path} holds a {type(model).__name__}, not a colouriser: give model.npz or generator.npz "
                        f"written by python -m course train colorize")
    return model


def evaluate(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> dict[str, float]:
    """Score the colouriser at ``model_path`` on every colour image of the folder ``data`` (line art made from each).

    The images are shrunk to the active profile's working size, as in training.
    Returns the mean line F1, ΔE00 and colourfulness; for a hinted model also ΔE00 with
    :data:`HELD_OUT_HINTS` hints sampled from each original.
    """
    model = load_colorizer(model_path)
    images = read_colour_folder(data, pick_sizes(SIZES, None, None).side)
    scores = held_out_scores(model, images, device=device)
    print(Scores.header())
    print(scores.row("no hints"))
    result = {"line_f1": scores.line_f1, "lab_error": scores.lab_error, "colourfulness": scores.colourfulness}
    if model.in_channels > 1:
        hinted = held_out_scores(model, images, hints=HELD_OUT_HINTS, device=device)
        print(hinted.row(f"{HELD_OUT_HINTS} hints"))
        result["hinted_lab_error"] = hinted.lab_error
    return result


def read_hints(path: str | os.PathLike, shape: tuple[int, int]) -> numpy.ndarray:
    """Hint channels (4, H, W) from a hints image: an RGBA PNG of the line art's size, opaque where there is a hint.

    Every pixel with alpha above one half is a hint of its RGB colour; the rest is transparent. An
    image of another size, or one without an alpha channel, raises :class:`DataError`.
    """
    image = read_image(path, fix="Give an RGBA PNG, transparent except at the hints.")
    if image.ndim != 3 or image.shape[2] != 4:
        raise DataError(f"{path} has no alpha channel: a hints image is an RGBA PNG, transparent except where a "
                        f"hint is (e.g. saved by HintPanel.save_hints)")
    if image.shape[:2] != tuple(shape):
        raise DataError(f"{path} is {image.shape[1]}x{image.shape[0]} px but the line art is {shape[1]}x{shape[0]}: "
                        f"draw the hints on an image of the line art's size")
    values = as_float(image)
    hints = numpy.zeros((HINT_CHANNELS,) + tuple(shape), numpy.float32)
    mask = values[..., 3] > 0.5
    hints[:3] = values[..., :3].transpose(2, 0, 1) * mask
    hints[3] = mask
    return hints


def colorize_file(model_path: str | os.PathLike, source: str | os.PathLike, target: str | os.PathLike, *,
                  hints_path: str | os.PathLike | None = None, from_colour: bool = False, device=None) -> Path:
    """Colour the line art in ``source`` with the model at ``model_path``; write ``target`` (an RGB image).

    ``from_colour``: ``source`` is a colour image whose line art is made first (dilate-minus-original
    at the image's own size). ``hints_path``: an RGBA hints image of the same size (:func:`read_hints`).
    """
    model = load_colorizer(model_path)
    if from_colour:
        image = read_image(source, fix="Give a PNG or JPEG file.")
        lines = line_art(image, gain=LINE_GAIN)
    else:
        lines = read_grey(source, fix="Give the line art as a PNG or JPEG file (dark lines on white).")
    hints = read_hints(hints_path, lines.shape) if hints_path is not None else None
    check_writable_folder(Path(target).parent)
    colour = colorize(model, lines, hints, device=device)
    return write_image(target, colour.transpose(1, 2, 0))


TASK = Task(
    name="colorize", lesson="08", help="lesson 8: line art to colour, U-Net (L1), with colour hints, GAN + L1",
    data="the colour photos scikit-image, matplotlib and scikit-learn ship (astronaut, chelsea, coffee held out), or "
         "your folder",
    train=train, metric=METRIC, sizes=SIZES, bars=BARS, sources=SOURCES,
    source_folder="colour illustrations (PNG, JPEG...); their line art is made on the fly",
    evaluate=evaluate, evaluate_data="a folder of colour images: line art is made from each and coloured back",
)
