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
from pathlib import Path
from typing import Sequence

import chainer
import chainer.links as L
import numpy
from chainer.training import extensions

from course.data.faces import FaceData, load_faces, make_scenes, read_face_folder, rotate_90s, training_photos
from course.detection import SEED_SCALES, CNNDetector, mine_windows
from course.device import get_device
from course.metrics import accuracy, predict
from course.models.frgnet import FrgNet, load_frgnet
from course.profiles import sizes
from course.seed import set_seed
from course.training import History, save_model
from course.training.loop import check_training_set, classification_evaluator, fit
from course.training.updater import SeededUpdater

METRIC = "validation/main/accuracy"
EVALUATE_METRIC = "accuracy"


class DecayingUpdater(SeededUpdater):
    """:class:`SeededUpdater` whose learning rate is ``lr * lr_decay ** epoch`` at every step.

    The rate is a function of the epoch alone, which snapshots restore, so a resumed run steps with
    exactly the rates of an uninterrupted one. (Chainer's ``ExponentialShift`` keeps a counter of its
    own that autoload restores only after the first rate was set.)
    """

    def __init__(self, iterator, optimizer, *, lr: float, lr_decay: float, **kwargs):
        super().__init__(iterator, optimizer, **kwargs)
        self.lr, self.lr_decay = lr, lr_decay

    def update_core(self):
        self.get_optimizer("main").lr = self.lr * self.lr_decay ** self.epoch
        super().update_core()


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
    return fit(optimizer, (x, t), model, epochs=epochs, batch_size=batch_size, out=out, seed=seed, device=device,
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


def build_frgnet(profile: str | None = None) -> FrgNet:
    """A fresh FrgNet of the profile's size (seeded: the same starting weights every time)."""
    size = sizes("faces", profile)
    set_seed(0)
    return FrgNet(size["insize"], size["channels"], size["hidden"])


def train(out: str | os.PathLike, *, profile: str | None = None, device=None, source: str = "auto",
          progress: bool = True, live_plot: bool | None = None) -> tuple[FrgNet, History, FaceData]:
    """Train lesson 4's FrgNet with the profile's sizes on ``source`` (``auto``, ``offline`` or a folder).

    First as the seed did, on crops (in ``out/classifier``); then, for the profile's ``rounds``, on
    windows mined from scenes of training faces (:func:`finetune_on_scenes`, in ``out/round1``...).
    Writes the final ``out/model.npz`` and ``out/log.json``; run again with the same ``out`` to resume.
    """
    size = sizes("faces", profile)
    data = load_faces(source, size["insize"], nonface_crops=size["nonface_crops"])
    model = build_frgnet(profile)
    out = Path(out)
    history = train_frgnet(
        model, data.train, data.test, epochs=size["epochs"], batch_size=size["batch_size"], lr=size["lr"],
        momentum=size["momentum"], lr_decay=size["lr_decay"], weight_decay=size["weight_decay"],
        rotate=size["rotate"], out=out / "classifier", device=device, snapshot_every=size["snapshot_every"],
        progress=progress, live_plot=live_plot, title="FrgNet: face or not?",
    )
    rounds = finetune_on_scenes(
        model, data, rounds=size["rounds"], scenes_per_round=size["mining_scenes"], epochs=size["finetune_epochs"],
        lr=size["finetune_lr"], batch_size=size["finetune_batch_size"], positive_iou=size["positive_iou"],
        negative_iou=size["negative_iou"], scales=size["scales"], max_positives=size["max_positives"], out=out,
        device=device, progress=progress, live_plot=live_plot)
    history = rounds[-1] if rounds else history
    save_model(model, out / "model.npz")
    (out / "log.json").write_text((history.out / "log.json").read_text())
    return model, History(history.log, out), data


def evaluate(model_path: str | os.PathLike, data: str | os.PathLike, *, device=None) -> float:
    """Accuracy of the FrgNet saved at ``model_path`` on every image of the folder ``data`` (face/, nonface/)."""
    model = load_frgnet(model_path)
    x, t = read_face_folder(data, model.insize)
    return accuracy(predict(model, x, device=device), t)
