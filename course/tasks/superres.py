"""Lesson 7: x4 super-resolution with SRResNet, then SRGAN's content + adversarial stage, judged as papers judge.

``python -m course train superres --out DIR`` trains, each stage resuming from its own snapshots:

1. the generator with pixel MSE (:func:`course.training.superres.train_superres`, in ``DIR/mse``);
2. the content loss's feature network: lesson 2's CNN trained on digits (``DIR/features``), the
   offline stand-in for VGG (:mod:`course.models.content`);
3. the adversarial stage from the MSE model (:func:`course.training.superres.train_srgan`, in
   ``DIR/gan``).

It writes ``DIR/model.npz`` (the MSE generator, the higher PSNR), ``DIR/generator.npz`` (the
adversarial one, the sharper texture), ``DIR/discriminator.npz`` (each with its ``.json``) and
``DIR/report.json``. :data:`METRIC` is the MSE model's mean Y-PSNR gain over bicubic on the held-out
images. ``python -m course evaluate superres --model DIR/model.npz --data FOLDER`` scores any saved
generator on a folder of full-resolution images; ``python -m course upscale`` enlarges one image.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import chainer
import numpy

from course.data.mnist import load_mnist
from course.data.photos import load_photo
from course.data.superres import (HELD_OUT, TRAINING, SRImage, load_sr_photos, model_values, random_patches,
                                  read_sr_folder, sr_image)
from course.device import get_device
from course.errors import DataError
from course.files import atomic_write, check_writable_folder
from course.images import read_image, write_image
from course.metrics import SRScores, sr_scores, sr_table
from course.models import MnistCNN, load_model, save_model
from course.models.content import DigitFeatures
from course.models.dcgan import Discriminator
from course.models.srresnet import SRResNet
from course.data.resampling import bicubic_upscale
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History, train_classifier
from course.training.superres import PAPER_WEIGHTS, SRGANWeights, train_srgan, train_superres

METRIC = "held_out/psnr_gain_db"
SCALE = 4
"""The enlargement of the whole lesson: x4, the papers' usual benchmark."""
BATCH_SIZE = 16
"""Patches per step in both stages (the paper's and the seed's)."""
TILE = 96
"""Low-resolution tile side for enlarging large images (:func:`upscale`): 96x96 in, 384x384 out."""
BATCH_NORM = False
"""The generator has no batch normalisation, as in EDSR: with it, the quick profile's generator learned
almost nothing (lesson 7's exercise 3 measures it)."""
GAN_LR = 1e-4
"""Adam's learning rate for G and D in the adversarial stage (the paper's)."""
CONTENT_LAYER = "conv1"
"""The layer of lesson 2's CNN whose feature maps the content loss compares (32 maps, 3x3 filters, pooled)."""
GAN_WEIGHTS = PAPER_WEIGHTS
"""G's loss in the adversarial stage: the paper's weighting (content 1, adversarial 1e-3)."""
SOURCES = ("auto", "offline")
"""Offline the shipped photos (:data:`course.data.superres.TRAINING`); or a folder of your own images."""


@dataclass(frozen=True)
class Sizes:
    """Lesson 7's sizes: the generator, its patches, and how long each stage trains.

    The generator: ``channels`` wide, ``blocks`` residual blocks, ``activation``, first/last
    ``kernel``, on the Y channel (``in_channels=1``) or RGB (3). Training: ``patches`` random
    ``patch``-pixel squares of the training photos, :data:`BATCH_SIZE` a step; ``mse_epochs`` of
    pixel MSE with Adam at ``lr`` (cosine decay), then ``gan_epochs`` of content + adversarial loss
    (:data:`GAN_WEIGHTS`, Adam at :data:`GAN_LR`) against a DCGAN-style discriminator
    ``dis_channels`` wide with ``dis_levels`` stride-2 steps. The content loss's features are lesson
    2's CNN's :data:`CONTENT_LAYER`, the CNN trained for ``feature_epochs`` on ``feature_digits``
    real digits (None: all there are). ``exercise_epochs``: the MSE budget of the
    exercises' experiments.
    """

    channels: int
    blocks: int
    activation: str
    kernel: int
    in_channels: int
    patch: int
    patches: int
    mse_epochs: int
    lr: float
    gan_epochs: int
    dis_channels: int
    dis_levels: int
    feature_epochs: int
    feature_digits: int | None
    exercise_epochs: int
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """What the notebook asks on the held-out photos (quick profile, CPU).

    The MSE model's mean Y-PSNR is ``min_mean_gain`` dB or more above bicubic's, and every photo's
    ``min_image_gain`` or more; the adversarial model's sharpness (relative to the original) is
    closer to 1 than the MSE model's.
    """

    min_mean_gain: float
    min_image_gain: float


QUICK = Sizes(channels=32, blocks=4, activation="relu", kernel=3, in_channels=1, patch=48, patches=1200, mse_epochs=3,
              lr=1e-3, gan_epochs=1, dis_channels=32, dis_levels=3, feature_epochs=1, feature_digits=4000,
              exercise_epochs=3, snapshot_every=200)
FULL = replace(QUICK, channels=64, blocks=16, activation="prelu", kernel=9, in_channels=3, patch=96, patches=32000,
               mse_epochs=50, lr=1e-4, gan_epochs=25, dis_channels=64, dis_levels=4, feature_epochs=3,
               feature_digits=None, exercise_epochs=5, snapshot_every=2000)
SIZES = {"quick": QUICK, "full": FULL}
_BARS = Bars(min_mean_gain=0.4, min_image_gain=0.2)
BARS = {"quick": _BARS, "full": replace(_BARS, min_mean_gain=1.5, min_image_gain=0.5)}


# --- the networks ----------------------------------------------------------------------------------

def build_generator(sizes: Sizes, *, seed: int = 0, **changes) -> SRResNet:
    """A fresh SRResNet of ``sizes`` (x4), seeded; ``changes`` override its arguments (e.g. ``bicubic_skip=False``)."""
    set_seed(seed)
    arguments = dict(channels=sizes.channels, blocks=sizes.blocks, scale=SCALE, in_channels=sizes.in_channels,
                     activation=sizes.activation, kernel=sizes.kernel, batch_norm=BATCH_NORM)
    arguments.update(changes)
    return SRResNet(**arguments)


def build_discriminator(sizes: Sizes, *, seed: int = 1) -> Discriminator:
    """Lesson 6's discriminator for ``patch``-pixel patches of ``in_channels``, ``dis_levels`` stride-2 steps."""
    set_seed(seed)
    return Discriminator(sizes.patch, sizes.dis_channels, sizes.dis_levels, sizes.in_channels)


# --- data ------------------------------------------------------------------------------------------

def training_images(source: str | os.PathLike = "auto", sizes: Sizes = QUICK, *, verbose: bool = True) -> list[SRImage]:
    """The training images of ``source``: the 17 shipped photos (``auto``, ``offline``) or every image in a folder."""
    if str(source) in SOURCES:
        images = [sr_image(name, load_photo(name), SCALE, say=None) for name in TRAINING]
        what = f"{len(images)} photos that scikit-image and matplotlib ship ({', '.join(HELD_OUT)} held out)"
    elif Path(source).is_dir():
        images = read_sr_folder(source, SCALE, min_side=sizes.patch, say=print if verbose else None)
        what = f"{len(images)} images of {source}"
    else:
        raise DataError(f"--source {str(source)!r} is neither one of {', '.join(SOURCES)} nor a folder of images")
    if verbose:
        print(f"training on {what}")
    return images


def training_patches(images: list[SRImage], sizes: Sizes, *, seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``sizes.patches`` random (low-resolution, original) patch pairs of ``images`` for ``sizes.in_channels``."""
    return random_patches(images, sizes.patches, sizes.patch, channels=sizes.in_channels, seed=seed)


# --- enlarging whole images ---------------------------------------------------------------------------

def margin(model: SRResNet) -> int:
    """Low-resolution pixels around a tile that reach its output (the receptive field's radius, rounded up, plus 2)."""
    steps = len(model.ups)
    return model.head.W.shape[-1] // 2 + 2 * model.blocks + 1 + steps + model.tail.W.shape[-1] // 2 + 2


def _run(model: SRResNet, x: numpy.ndarray) -> numpy.ndarray:
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        y = model(model.device.send(x[None])).array[0]
    return chainer.backend.CpuDevice().send(y)


def enlarge_values(model: SRResNet, x: numpy.ndarray, *, tile: int = TILE) -> numpy.ndarray:
    """``model`` on one image (C, h, w) of model values, in tiles of ``tile`` low-resolution pixels: (C, h*s, w*s).

    Each tile is run with :func:`margin` pixels of its neighbours around it and only its own part of
    the output is kept, so the result is the whole image's, with no seams (up to float rounding).
    """
    channels, height, width = x.shape
    s, m = model.scale, margin(model)
    out = numpy.empty((channels, height * s, width * s), numpy.float32)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            t0, l0 = max(top - m, 0), max(left - m, 0)
            y = _run(model, x[:, t0:min(bottom + m, height), l0:min(right + m, width)])
            out[:, top * s:bottom * s, left * s:right * s] = \
                y[:, (top - t0) * s:(bottom - t0) * s, (left - l0) * s:(right - l0) * s]
    return out


def bicubic(lr: numpy.ndarray, scale: int = SCALE) -> numpy.ndarray:
    """The baseline: uint8 RGB (h, w, 3) enlarged ``scale`` times by bicubic interpolation, as uint8 RGB."""
    x = numpy.asarray(lr, numpy.float32).transpose(2, 0, 1)[None] / 255
    return _as_pixels(bicubic_upscale(x, scale)[0].transpose(1, 2, 0))


def _as_pixels(rgb: numpy.ndarray) -> numpy.ndarray:
    return numpy.clip(numpy.round(rgb * 255), 0, 255).astype(numpy.uint8)


def upscale(model: SRResNet, lr: numpy.ndarray, *, tile: int = TILE) -> numpy.ndarray:
    """``lr`` (uint8 RGB (h, w, 3)) enlarged by ``model``: uint8 RGB (h*s, w*s, 3).

    An RGB model enlarges all three channels; a Y model enlarges the luma and the colour (Cb, Cr)
    is enlarged bicubically, as SRCNN and most papers do (the eye sees detail in brightness far more
    than in colour).
    """
    from skimage.color import rgb2ycbcr, ycbcr2rgb

    lr = numpy.asarray(lr)
    if model.in_channels == 3:
        return _as_pixels(enlarge_values(model, model_values(lr[None], 3)[0], tile=tile).transpose(1, 2, 0))
    y = enlarge_values(model, model_values(lr[None], 1)[0], tile=tile)[0] * 255
    ycbcr = rgb2ycbcr(bicubic(lr, model.scale))
    ycbcr[..., 0] = numpy.clip(y, 16, 235)  # Y's studio range
    return _as_pixels(numpy.clip(ycbcr2rgb(ycbcr), 0, 1))


SHOWCASE = {"astronaut": (60, 170, 128), "chelsea": (40, 150, 128), "coffee": (120, 220, 128)}
"""For each held-out photo, a square worth looking at closely: (top, left, side) in its pixels."""


def showcase(name: str, image: numpy.ndarray) -> numpy.ndarray:
    """The :data:`SHOWCASE` square of the held-out photo ``name`` in ``image`` (HWC; the middle square for others)."""
    height, width = image.shape[:2]
    side = min(128, height, width)
    top, left, side = SHOWCASE.get(name, ((height - side) // 2, (width - side) // 2, side))
    return image[top:top + side, left:left + side]


def score(model: SRResNet, images: list[SRImage]) -> list[SRScores]:
    """Each image's Y-PSNR, Y-SSIM and sharpness for ``model`` and for bicubic, ``scale`` px cropped at each border."""
    return [sr_scores(image.name, upscale(model, image.lr), bicubic(image.lr, image.scale), image.hr, image.scale)
            for image in images]


def mean_gain(scores: list[SRScores]) -> float:
    """The mean Y-PSNR of the model minus that of bicubic, in dB."""
    return float(numpy.mean([s.psnr for s in scores]) - numpy.mean([s.bicubic_psnr for s in scores]))


# --- the stages ----------------------------------------------------------------------------------------

def train_mse(patches, sizes: Sizes, out: str | os.PathLike, *, epochs: int | None = None, device=None,
              progress: bool = True, live_plot: bool | None = None, title: str = "SRResNet, pixel MSE",
              **changes) -> tuple[SRResNet, History]:
    """Build a generator (:func:`build_generator`, with ``changes``) and train it on ``patches`` with pixel MSE."""
    generator = build_generator(sizes, **changes)
    history = train_superres(generator, patches, epochs=sizes.mse_epochs if epochs is None else epochs,
                             batch_size=BATCH_SIZE, lr=sizes.lr, out=out, device=device,
                             snapshot_every=sizes.snapshot_every, progress=progress, live_plot=live_plot, title=title)
    return generator, history


def train_feature_network(out: str | os.PathLike, *, epochs: int, digits: int | None = None, device=None,
                          progress: bool = True, live_plot: bool | None = None) -> tuple[MnistCNN, History]:
    """Lesson 2's CNN trained on ``digits`` real digits (None: all; Adam 1e-3, batches of 50): the stand-in for VGG."""
    data = load_mnist("auto", verbose=progress).limit(digits)
    set_seed(0)
    cnn = MnistCNN()
    history = train_classifier(cnn, data.train, data.test, epochs=epochs, batch_size=50, out=out, device=device,
                               progress=progress, live_plot=live_plot, title="lesson 2's CNN, for the content loss")
    return cnn, history


def train_adversarial(generator: SRResNet, patches, features, sizes: Sizes, out: str | os.PathLike, *,
                      weights: SRGANWeights | None = None, device=None, progress: bool = True,
                      live_plot: bool | None = None) -> tuple[SRResNet, Discriminator, History]:
    """A copy of the MSE ``generator`` trained on against a new discriminator (default ``weights``: GAN_WEIGHTS)."""
    generator = generator.copy(mode="copy")
    discriminator = build_discriminator(sizes)
    history = train_srgan(generator, discriminator, patches, epochs=sizes.gan_epochs, features=features,
                          weights=weights or GAN_WEIGHTS, batch_size=BATCH_SIZE, lr=GAN_LR, out=out,
                          device=device, snapshot_every=sizes.snapshot_every, progress=progress, live_plot=live_plot,
                          title="SRGAN: content + adversarial")
    return generator, discriminator, history


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[SRResNet, History, list[SRImage]]:
    """Both stages with ``sizes`` (default: the profile's), scored on the held-out photos; see the module docstring.

    Returns the MSE generator, its history with the final figures added to the last entry, and the
    held-out images.
    """
    size = pick_sizes(SIZES, sizes, profile)
    out = check_writable_folder(out)
    device = get_device(device)
    patches = training_patches(training_images(source, size, verbose=progress), size)
    generator, history = train_mse(patches, size, out / "mse", device=device, progress=progress, live_plot=live_plot)
    cnn, _ = train_feature_network(out / "features", epochs=size.feature_epochs, digits=size.feature_digits,
                                   device=device, progress=progress, live_plot=live_plot)
    adversarial, discriminator, _ = train_adversarial(generator, patches, DigitFeatures(cnn, CONTENT_LAYER),
                                                      size, out / "gan", device=device, progress=progress,
                                                      live_plot=live_plot)
    for name, link in (("model", generator), ("generator", adversarial), ("discriminator", discriminator)):
        save_model(link, out / f"{name}.npz")
    held_out = load_sr_photos(HELD_OUT, SCALE)
    mse_scores, gan_scores = score(generator, held_out), score(adversarial, held_out)
    report = {METRIC: mean_gain(mse_scores), "held_out/psnr_db": float(numpy.mean([s.psnr for s in mse_scores])),
              "held_out/bicubic_psnr_db": float(numpy.mean([s.bicubic_psnr for s in mse_scores])),
              "held_out/gan_psnr_gain_db": mean_gain(gan_scores),
              "held_out/mse_sharpness": float(numpy.mean([s.sharpness for s in mse_scores])),
              "held_out/gan_sharpness": float(numpy.mean([s.sharpness for s in gan_scores]))}
    with atomic_write(out / "report.json", "w") as f:
        f.write(json.dumps({"sizes": asdict(size), **report}, indent=1) + "\n")
    if progress:
        print("the MSE model on the held-out photos:\n" + sr_table(mse_scores))
        print("the adversarial model:\n" + sr_table(gan_scores))
    log = [dict(entry) for entry in history.log]
    log[-1].update(report)
    return generator, History(log, out), held_out


def load_generator(path: str | os.PathLike) -> SRResNet:
    """A generator saved by ``train superres`` (``model.npz``, ``generator.npz``), or a DataError saying why not."""
    return load_model(path, expected=SRResNet)


def evaluate(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> dict[str, float]:
    """Score the generator at ``model_path`` on every image of the folder ``data``: prints the per-image table.

    Each image is the original; its low-resolution copy is made as in training. Returns the mean
    Y-PSNR (dB) and Y-SSIM of the model and of bicubic, and last ``psnr_gain_db``.
    """
    model = load_generator(model_path)
    model.to_device(get_device(device))
    images = read_sr_folder(data, model.scale)
    scores = score(model, images)
    print(sr_table(scores))
    mean = lambda field: float(numpy.mean([getattr(s, field) for s in scores]))  # noqa: E731
    return {"psnr_db": mean("psnr"), "bicubic_psnr_db": mean("bicubic_psnr"), "ssim": mean("ssim"),
            "bicubic_ssim": mean("bicubic_ssim"), "psnr_gain_db": mean_gain(scores)}


def upscale_file(model_path: str | os.PathLike, source: str | os.PathLike, target: str | os.PathLike, *,
                 device=None) -> tuple[Path, tuple[int, int]]:
    """Enlarge the image file ``source`` with the generator at ``model_path``; write ``target``; (path, (w, h) out).

    Grey and RGBA files are converted to RGB, and said so; any size works (large ones in tiles).
    """
    model = load_generator(model_path)
    model.to_device(get_device(device))
    image = read_image(source, fix="Give a PNG or JPEG file.")
    if min(image.shape[:2]) < 4:
        raise DataError(f"{source} is {image.shape[1]}x{image.shape[0]} px: give an image of at least 4x4")
    rgb = sr_image(Path(source).name, image, 1, say=print).hr  # conversions only: every size is a multiple of 1
    check_writable_folder(Path(target).parent)
    enlarged = upscale(model, rgb)
    return write_image(target, enlarged), (enlarged.shape[1], enlarged.shape[0])


TASK = Task(
    name="superres", lesson="07",
    help="lesson 7: x4 super-resolution, SRResNet (MSE) then SRGAN (content + adversarial)",
    data="the photos scikit-image and matplotlib ship (astronaut, chelsea, coffee held out), or your folder",
    train=train, metric=METRIC, sizes=SIZES, bars=BARS, sources=SOURCES,
    source_folder="high-resolution images (PNG, JPEG...), each at least one patch large",
    evaluate=evaluate, evaluate_data="a folder of full-resolution images (as Set5 or Set14): each is shrunk x4 and "
                                     "enlarged back",
)
