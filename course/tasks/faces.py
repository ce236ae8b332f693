"""Lesson 4: the face / non-face CNN, trained as the seed did and as ``python -m course train faces`` does.

The seed's recipe: MomentumSGD (lr 0.001, momentum 0.9), the learning rate multiplied by 0.97
after every epoch, weight decay 0.0001, small mini-batches (10 generalised better than 100), and
the training set multiplied by four with 90/180/270-degree rotations. (The seed also shrank the
weight decay by 0.97 per epoch; here it stays fixed.)

Then what the seed wished it had done: train on images with labelled face positions. Rounds of
:func:`finetune_on_scenes` paste training faces and non-faces into training photos, mine the windows
the detector gets wrong, and train on them. The training curves are measured on the validation
crops; the test crops and test scenes are left for the notebook's final figures.
"""
from __future__ import annotations

import copy
import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import chainer
import chainer.links as L
import numpy
from chainer.training import extensions

from course.data.faces import SOURCES, FaceData, load_faces, read_face_folder, rotate_90s
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
FACE_SIZES = (40, 120)
"""The face sides (px) the cascades search: around the scenes' 48-96 px, as the CNN's windows (``SCALES``) are."""
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
"""The P(face) thresholds tried on the validation scenes (0.5 is the seed's)."""
MIN_NEIGHBORS = (1, 2, 3, 4)
"""The numbers of overlapping face windows a detection may need (OpenCV's minNeighbors), tried on validation."""


@dataclass(frozen=True)
class Sizes:
    """Lesson 4's sizes: the network, the crop classifier's training, the mining rounds and the scenes.

    ``validation_scenes`` are where the detector's settings are chosen, ``test_scenes`` where the
    final figures are measured, once.

    Each mining round keeps at most ``max_positives`` framed faces and ``max_negatives`` false alarms
    (None: all).
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
    validation_scenes: int
    test_scenes: int
    max_positives: int | None
    max_negatives: int | None


@dataclass(frozen=True)
class Bars:
    """The held-out crop accuracy the notebook asks for (always answering "non-face" scores about 0.8)."""

    min_accuracy: float


QUICK = Sizes(insize=24, channels=(8, 16, 32, 32), hidden=64, epochs=8, snapshot_every=500, rounds=2,
              mining_scenes=30, finetune_epochs=2, finetune_batch_size=50, validation_scenes=20, test_scenes=40,
              max_positives=None, max_negatives=None)
FULL = replace(QUICK, insize=64, channels=SEED_CHANNELS, hidden=SEED_HIDDEN, epochs=30, snapshot_every=2000, rounds=3,
               mining_scenes=200, finetune_epochs=10, finetune_batch_size=10, validation_scenes=100, test_scenes=300,
               max_positives=2000, max_negatives=4000)
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


@dataclass(frozen=True)
class BatchNormEffect:
    """What FrgNet's first batch normalisation (``bn1``) does, measured on a batch.

    ``before``, ``train_mode`` and ``test_mode`` hold, per channel of ``conv1``, the (mean, standard
    deviation) of its outputs over the batch: before ``bn1``, after it in train mode (normalised
    with the batch's own mean and variance, then scaled by ``gamma`` and shifted by ``beta``) and
    after it in test mode (normalised with the running averages kept during training). ``moved_*``
    is how far (the largest change of any value) one image's ``bn1`` output moves when the other
    images of its batch are replaced, in each mode.
    """

    before: numpy.ndarray
    train_mode: numpy.ndarray
    test_mode: numpy.ndarray
    gamma: numpy.ndarray
    beta: numpy.ndarray
    moved_train_mode: float
    moved_test_mode: float


def batch_norm_effect(model: FrgNet, batch: numpy.ndarray, other_batch: numpy.ndarray) -> BatchNormEffect:
    """Measure ``model.bn1`` on ``batch`` (N, 1, S, S) in both modes; the first image of ``batch`` is also
    put in front of ``other_batch`` to see whether its output depends on the rest of its batch.

    In train mode a batch normalisation also updates its running averages; there it runs on a copy
    of ``bn1``, so the model stays as training left it.
    """
    cpu = chainer.backend.CpuDevice()

    def conv1(images):
        with chainer.no_backprop_mode():
            return model.conv1(model.xp.asarray(images, numpy.float32) - model.mean)

    def normalised(images, train: bool) -> numpy.ndarray:
        bn = copy.deepcopy(model.bn1) if train else model.bn1
        with chainer.using_config("train", train), chainer.no_backprop_mode():
            return cpu.send(bn(conv1(images)).array)

    def statistics(h: numpy.ndarray) -> numpy.ndarray:
        return numpy.stack([h.mean(axis=(0, 2, 3)), h.std(axis=(0, 2, 3))], axis=1)

    alone_first = numpy.concatenate([batch[:1], other_batch])

    def moved(train: bool) -> float:
        return float(numpy.abs(normalised(batch, train)[0] - normalised(alone_first, train)[0]).max())

    return BatchNormEffect(
        before=statistics(cpu.send(conv1(batch).array)), train_mode=statistics(normalised(batch, True)),
        test_mode=statistics(normalised(batch, False)), gamma=cpu.send(model.bn1.gamma.array),
        beta=cpu.send(model.bn1.beta.array), moved_train_mode=moved(True), moved_test_mode=moved(False),
    )


def finetune_on_scenes(model: FrgNet, data: FaceData, *, rounds: int, scenes_per_round: int, epochs: int,
                       lr: float, batch_size: int = 10, out: str | os.PathLike, positive_iou: float = 0.6,
                       negative_iou: float = 0.5, scales: Sequence[tuple[int, int]] = SEED_SCALES,
                       max_positives: int | None = None, max_negatives: int | None = None, device=None,
                       progress: bool = True, live_plot: bool | None = None) -> list[History]:
    """Teach a crop classifier to work as a detector: mine windows from scenes with known faces, retrain, repeat.

    Each round pastes the *training* faces and non-faces into the *training* photos (upright and
    tilted, feathered, as :meth:`course.data.faces.FaceData.scenes` does), collects the windows as
    the detector sees them with :func:`course.detection.mine_windows` (loosely framed faces, and the
    false alarms of the current model), adds them to the training set and trains on for ``epochs``
    (in ``out/round1``, ``out/round2``...), measured on the validation crops. The training crops and
    the framed faces join turned by 90, 180 and 270 degrees too, as in :func:`train_frgnet` (a face
    turned is still a face); the false alarms join as they were mined, the clutter the scenes hold,
    which keeps each round four times smaller than turning them all. Windows are cut at
    ``scales`` (see :class:`course.detection.CNNDetector`); a fine grid frames each face many times,
    and a poor model raises many false alarms, so at most ``max_positives`` framed faces and
    ``max_negatives`` false alarms (seeded random choices; None: all) join per round. Validation and
    test scenes are never used. Returns each round's history.
    """
    x, t = rotate_90s(*data.train)
    histories = []
    for r in range(1, rounds + 1):
        scenes = data.scenes("train", scenes_per_round, seed=1000 + r)
        detector = CNNDetector(model, scales=scales, device=device)  # mines single windows: min_neighbors=1
        windows, labels = mine_windows(detector, scenes, positive_iou=positive_iou, negative_iou=negative_iou)
        windows, labels = _at_most(windows, labels, {1: max_positives, 0: max_negatives}, seed=r)
        faces, face_labels = rotate_90s(windows[labels == 1], labels[labels == 1])
        x = numpy.concatenate([x, faces, windows[labels == 0]])
        t = numpy.concatenate([t, face_labels, labels[labels == 0]])
        histories.append(train_frgnet(
            model, (x, t), data.validation, epochs=epochs, batch_size=batch_size, lr=lr, out=Path(out) / f"round{r}",
            rotate=False, device=device, progress=progress, live_plot=live_plot,
            title=f"round {r}: + {int(labels.sum())} framed faces, {int((labels == 0).sum())} false alarms",
        ))
    return histories


def _at_most(windows: numpy.ndarray, labels: numpy.ndarray, most: dict[int, int | None], *,
             seed: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``windows`` and ``labels`` with at most ``most[label]`` of each label (a seeded random choice; None: all)."""
    rng = numpy.random.RandomState(seed)
    dropped = []
    for label, limit in most.items():
        members = numpy.flatnonzero(labels == label)
        if limit is not None and len(members) > limit:
            dropped.append(rng.choice(members, len(members) - limit, replace=False))
    if not dropped:
        return windows, labels
    dropped = numpy.concatenate(dropped)
    return numpy.delete(windows, dropped, axis=0), numpy.delete(labels, dropped)


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
        model, data.train, data.validation, epochs=size.epochs, lr=LR, out=out / "classifier", device=device,
        snapshot_every=size.snapshot_every, progress=progress, live_plot=live_plot, title="FrgNet: face or not?",
    )
    rounds = finetune_on_scenes(
        model, data, rounds=size.rounds, scenes_per_round=size.mining_scenes, epochs=size.finetune_epochs,
        lr=LR, batch_size=size.finetune_batch_size, scales=SCALES, max_positives=size.max_positives,
        max_negatives=size.max_negatives, out=out,
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
