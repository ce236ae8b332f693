"""Lesson 4: the face / non-face CNN, trained as the seed did and as ``python -m course train faces`` does.

The seed's recipe: MomentumSGD (lr 0.001, momentum 0.9), the learning rate multiplied by 0.97
after every epoch, weight decay 0.0001, small mini-batches (10 generalised better than 100), and
the training set multiplied by four with 90/180/270-degree rotations. (The seed also shrank the
weight decay by 0.97 per epoch; here it stays fixed.)

Then what the seed wished it had done: train on images with labelled face positions. Rounds of
:func:`finetune_on_scenes` paste training faces into training photos, mine the windows the detector
gets wrong, and train on them.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import chainer
import chainer.links as L
import numpy
from chainer.training import extensions

from course.data.faces import SOURCES, FaceData, load_faces, make_scenes, read_face_folder, rotate_90s, training_photos
from course.detection import SEED_SCALES, CNNDetector, mine_windows
from course.device import get_device
from course.files import atomic_write, check_writable_folder
from course.metrics import accuracy
from course.models import FrgNet, load_model, predict, save_model
from course.models.frgnet import SEED_CHANNELS, SEED_HIDDEN
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import DecayingUpdater, History
from course.training.loop import check_training_set, classification_evaluator, fit

LR = 0.01
"""The learning rate of both profiles: ten times the seed's 0.001, which suited its 110,000 crops (ours are a few hundred)."""
SCALES = ((48, 8), (60, 10), (76, 12), (96, 16))
"""The sliding windows (size, stride): finer than the seed's (48, 16), (72, 24), (144, 48), which were made for
512-px frames, to frame the scenes' 48-96 px faces."""
MIN_NEIGHBORS = 2
"""A detection needs this many overlapping face windows (OpenCV's minNeighbors)."""
STRICT_THRESHOLD = 0.9
"""The stricter P(face) threshold, fixed in advance, at which the notebook compares precision with the cascades."""


@dataclass(frozen=True)
class Sizes:
    """Lesson 4's sizes: the network, the crop classifier's training, the mining rounds and the test scenes.

    Each mining round keeps at most ``max_positives`` framed faces (None: all).
    """

    insize: int
    channels: tuple[int, int, int, int]
    hidden: int
    epochs: int
    snapshot_every: int
    rounds: int
    mining_scenes: int
    finetune_epochs: int
    finetune_batch_size: int
    test_scenes: int
    max_positives: int | None


@dataclass(frozen=True)
class Bars:
    """The held-out crop accuracy the notebook asks for (always answering "non-face" scores about 0.8)."""

    min_accuracy: float


QUICK = Sizes(insize=24, channels=(8, 16, 32, 32), hidden=64, epochs=5, snapshot_every=500, rounds=2,
              mining_scenes=30, finetune_epochs=2, finetune_batch_size=50, test_scenes=10, max_positives=None)
FULL = replace(QUICK, insize=64, channels=SEED_CHANNELS, hidden=SEED_HIDDEN, epochs=30, snapshot_every=2000, rounds=3,
               mining_scenes=200, finetune_epochs=10, finetune_batch_size=10, test_scenes=20, max_positives=2000)
SIZES = {"quick": QUICK, "full": FULL}
BARS = {"quick": Bars(min_accuracy=0.95), "full": Bars(min_accuracy=0.95)}


def train_frgnet(model: FrgNet, train: tuple[numpy.ndarray, numpy.ndarray],
                 validation: tuple[numpy.ndarray, numpy.ndarray] | None = None, *, epochs: int,
                 batch_size: int = 10, lr: float = 0.001, momentum: float = 0.9, lr_decay: float = 0.97,
                 weight_decay: float = 1e-4, rotate: bool = True, out: str | os.PathLike, seed: int = 0,
                 device=None, snapshot_every: int = 500, progress: bool = True, live_plot: bool | None = None,
                 title: str = "") -> History:
    """Train ``model`` with the seed's recipe (see the module docstring) on Chainer's Trainer.

    Sets the model's mean image from ``train`` (before rotation), multiplies ``train`` by four with
    :func:`rotate_90s` when ``rotate``, and writes ``out/model.npz``, ``out/log.json`` and snapshots;
    running again with the same ``out`` resumes. Same seed, same data, same device: same weights.
    """
    x, t = check_training_set(train, batch_size)
    device = get_device(device)
    model.set_mean(x)
    if rotate:
        x, t = rotate_90s(x, t)
    set_seed(seed)
    classifier = L.Classifier(model)
    classifier.to_device(device)
    optimizer = chainer.optimizers.MomentumSGD(lr=lr, momentum=momentum)
    optimizer.setup(classifier)
    if weight_decay:
        optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(weight_decay))
    evaluator = classification_evaluator(classifier, validation, device) if validation is not None else None
    return fit(optimizer, (x, t), {"model": model}, epochs=epochs, batch_size=batch_size, out=out, seed=seed, device=device,
               evaluator=evaluator, updater_class=functools.partial(DecayingUpdater, lr=lr, lr_decay=lr_decay),
               snapshot_every=snapshot_every, progress=progress, live_plot=live_plot, title=title,
               extra_extensions=[extensions.observe_lr()])


def finetune_on_scenes(model: FrgNet, data: FaceData, *, rounds: int, scenes_per_round: int, epochs: int,
                       lr: float, batch_size: int = 10, out: str | os.PathLike, positive_iou: float = 0.6,
                       negative_iou: float = 0.5, scales: Sequence[tuple[int, int]] = SEED_SCALES,
                       max_positives: int | None = None, device=None, progress: bool = True,
                       live_plot: bool | None = None) -> list[History]:
    """Teach a crop classifier to work as a detector: mine windows from scenes with known faces, retrain, repeat.

    Each round pastes the *training* faces into the *training* photos (upright and tilted, as
    :func:`make_scenes` does), collects the windows as the detector sees them with
    :func:`course.detection.mine_windows` (loosely framed faces, and the false alarms of the current
    model), adds them to the training set and trains on for ``epochs`` (in ``out/round1``, ``out/round2``...).
    Windows are cut at ``scales`` (see :class:`course.detection.CNNDetector`); a fine grid frames each
    face many times, so at most ``max_positives`` framed faces (a seeded random choice) join per round.
    Test faces and test photos are never used. Returns each round's history.
    """
    x, t = data.train
    photos = training_photos()
    histories = []
    for r in range(1, rounds + 1):
        scenes = make_scenes(data.training_faces(), scenes_per_round, photos=photos, seed=1000 + r)
        detector = CNNDetector(model, scales=scales, device=device)  # mines single windows: min_neighbors=1
        windows, labels = mine_windows(detector, scenes, positive_iou=positive_iou, negative_iou=negative_iou)
        if max_positives is not None and labels.sum() > max_positives:  # a fine grid frames each face many times
            positives = numpy.flatnonzero(labels == 1)
            dropped = numpy.random.RandomState(r).choice(positives, len(positives) - max_positives, replace=False)
            windows, labels = numpy.delete(windows, dropped, axis=0), numpy.delete(labels, dropped)
        x, t = numpy.concatenate([x, windows]), numpy.concatenate([t, labels])
        histories.append(train_frgnet(
            model, (x, t), data.test, epochs=epochs, batch_size=batch_size, lr=lr, out=Path(out) / f"round{r}",
            device=device, progress=progress, live_plot=live_plot,
            title=f"round {r}: + {int(labels.sum())} framed faces, {int((labels == 0).sum())} false alarms",
        ))
    return histories


def build_frgnet(sizes: Sizes | None = None, *, profile: str | None = None) -> FrgNet:
    """A fresh FrgNet of ``sizes`` (default: the profile's), seeded: the same starting weights every time."""
    size = pick_sizes(SIZES, sizes, profile)
    set_seed(0)
    return FrgNet(size.insize, size.channels, size.hidden)


def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[FrgNet, History, FaceData]:
    """Train lesson 4's FrgNet with ``sizes`` (default: the profile's) on ``source`` (``auto``, ``offline`` or a folder).

    First as the seed did, on crops (in ``out/classifier``); then, for ``rounds``, on windows mined
    from scenes of training faces (:func:`finetune_on_scenes`, in ``out/round1``...). Writes the final
    ``out/model.npz`` and ``out/log.json``; run again with the same ``out`` to resume.
    """
    size = pick_sizes(SIZES, sizes, profile)
    out = check_writable_folder(out)
    data = load_faces(source, size.insize)
    model = build_frgnet(size)
    history = train_frgnet(
        model, data.train, data.test, epochs=size.epochs, lr=LR, out=out / "classifier", device=device,
        snapshot_every=size.snapshot_every, progress=progress, live_plot=live_plot, title="FrgNet: face or not?",
    )
    rounds = finetune_on_scenes(
        model, data, rounds=size.rounds, scenes_per_round=size.mining_scenes, epochs=size.finetune_epochs,
        lr=LR, batch_size=size.finetune_batch_size, scales=SCALES, max_positives=size.max_positives, out=out,
        device=device, progress=progress, live_plot=live_plot)
    history = rounds[-1] if rounds else history
    save_model(model, out / "model.npz")
    with atomic_write(out / "log.json", "w") as f:
        f.write((history.out / "log.json").read_text())
    return model, History(history.log, out), data


def evaluate(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> dict[str, float]:
    """Accuracy of the FrgNet saved at ``model_path`` on every image of the folder ``data`` (face/, nonface/)."""
    model = load_model(model_path, expected=FrgNet)
    x, t = read_face_folder(data, model.insize)
    return {"accuracy": accuracy(predict(model, x, device=device), t)}


TASK = Task(
    name="faces", lesson="04", help="lesson 4: a face/non-face CNN, then a sliding-window face detector",
    data="scikit-image's LFW faces and crops of the shipped photos, or your folder with face/ and nonface/",
    train=train, metric="validation/main/accuracy", sizes=SIZES, bars=BARS, sources=SOURCES,
    source_folder="face/ and nonface/ sub-folders of image files",
    evaluate=evaluate, evaluate_data="a folder with face/ and nonface/ sub-folders of image files",
)
