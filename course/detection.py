"""Finding faces in a whole image: a CNN over sliding windows, and the classical detectors to compare with.

The seed's detector: shrink the image to a width of 512, cut square windows at three (size, stride)
scales, resize each to the CNN's input, keep the windows the CNN calls faces, and suppress
overlapping ones (IoU >= 0.3), keeping the most confident. :class:`CNNDetector` does exactly this,
scoring all windows of an image in big batches. The classical detectors wrap OpenCV's cascades
(:class:`CascadeDetector`, Haar or LBP, e.g. ``lbpcascade_animeface.xml``), scikit-image's LBP
cascade (:class:`SkimageCascadeDetector`) and the ``animeface`` package (:class:`AnimeFaceDetector`).
Every detector is called on an image (H, W) or (H, W, 3) and returns :class:`Detections`.

To measure them, :func:`evaluate_detector` matches their boxes to the known faces of
:class:`course.data.faces.Scene` images: precision, recall of upright and tilted faces, time per
image, and per scene the counts behind them, so every figure comes with a bootstrap interval over
scenes (:meth:`DetectionScore.interval`, :func:`difference_interval`, :func:`detection_table`).
:class:`ScoredScenes` scores a CNN's windows once and then tries any threshold (its precision-recall
curve); :func:`choose_setting` picks the setting that finds the most faces at a given precision,
on validation scenes (:func:`recall_at`: how many that is). :func:`mine_windows` collects training windows from scenes of training faces.

Boxes are float arrays (K, 4) of pixel corners ``(x0, y0, x1, y1)``, with ``x1 = x0 + width``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy

from course.data.faces import Scene
from course.files import DataError
from course.images import as_uint8, resize, to_grey
from course.metrics import Interval, bootstrap_interval, box_iou

SEED_SCALES = ((48, 16), (72, 24), (144, 48))
SEED_WIDTH = 512


@dataclass(frozen=True)
class Detections:
    """What a detector found in one image: boxes (K, 4) as (x0, y0, x1, y1), and a score for each."""

    boxes: numpy.ndarray
    scores: numpy.ndarray

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def from_xywh(cls, rectangles, scores=None) -> "Detections":
        """From (x, y, width, height) rectangles, as OpenCV returns them; scores default to 1."""
        rectangles = numpy.asarray(rectangles, numpy.float32).reshape(-1, 4)
        boxes = rectangles.copy()
        boxes[:, 2:] += rectangles[:, :2]
        scores = numpy.ones(len(boxes), numpy.float32) if scores is None else numpy.asarray(scores, numpy.float32)
        return cls(boxes, scores.reshape(-1))


Detector = Callable[[numpy.ndarray], Detections]


# ----------------------------------------------------------------------------------------------
# Windows and suppression
# ----------------------------------------------------------------------------------------------

def sliding_windows(width: int, height: int, size: int, stride: int) -> numpy.ndarray:
    """Every ``size`` x ``size`` window of a ``width`` x ``height`` image, ``stride`` pixels apart, as boxes.

    Windows start at 0, stride, 2 * stride... and must fit inside the image, so there are
    ``(width - size) // stride + 1`` per row. An image smaller than the window has none.
    """
    if size <= 0 or stride <= 0:
        raise ValueError(f"window size and stride must be positive, not size={size}, stride={stride}")
    xs = numpy.arange(0, width - size + 1, stride)
    ys = numpy.arange(0, height - size + 1, stride)
    x0, y0 = (a.ravel() for a in numpy.meshgrid(xs, ys))
    return numpy.stack([x0, y0, x0 + size, y0 + size], axis=1).astype(numpy.float32)


def count_windows(width: int, height: int, scales: Sequence[tuple[int, int]] = SEED_SCALES) -> int:
    """How many windows :func:`sliding_windows` cuts from a ``width`` x ``height`` image over all ``scales``."""
    return sum(len(sliding_windows(width, height, size, stride)) for size, stride in scales)


def best_window_iou(boxes: numpy.ndarray, width: int, height: int,
                    scales: Sequence[tuple[int, int]] = SEED_SCALES) -> numpy.ndarray:
    """For each of ``boxes`` (K, 4), the highest IoU any window of ``scales`` in a ``width`` x ``height`` image
    has with it: how well the window grid can frame that box at best (an image no wider than 512 px)."""
    windows = numpy.concatenate([sliding_windows(width, height, size, stride) for size, stride in scales])
    boxes = numpy.asarray(boxes, numpy.float64).reshape(-1, 4)
    return box_iou(boxes, windows).max(axis=1) if len(windows) else numpy.zeros(len(boxes))


def crop_windows(image: numpy.ndarray, boxes: numpy.ndarray, out_size: int) -> numpy.ndarray:
    """The windows ``boxes`` (integer corners inside ``image``) resized to ``out_size``: (K, 1, out, out) float32."""
    windows = numpy.empty((len(boxes), 1, out_size, out_size), numpy.float32)
    for i, (x0, y0, x1, y1) in enumerate(boxes.astype(int)):
        windows[i, 0] = resize(image[y0:y1, x0:x1], out_size)
    return windows


def non_max_suppression(boxes: numpy.ndarray, scores: numpy.ndarray, iou_threshold: float = 0.3) -> numpy.ndarray:
    """Indices of the boxes kept, most confident first: each box suppresses the less confident ones it overlaps.

    Greedy, as in the seed: take the highest-scoring box left, drop every remaining box whose IoU
    with it is ``>= iou_threshold``, repeat. Ties in score keep the earlier box.
    """
    boxes = numpy.asarray(boxes, numpy.float64).reshape(-1, 4)
    scores = numpy.asarray(scores, numpy.float64).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores; they must match one to one")
    order = numpy.argsort(-scores, kind="stable")
    overlaps = box_iou(boxes[order], boxes[order])
    alive = numpy.ones(len(order), bool)
    kept = []
    for i in range(len(order)):
        if alive[i]:
            kept.append(order[i])
            alive &= overlaps[i] < iou_threshold
    return numpy.array(kept, dtype=numpy.int64)


def _one_grey_image(image: numpy.ndarray) -> numpy.ndarray:
    """What every detector sees: ``image`` as grey float32 in [0, 1] (:func:`course.images.to_grey`)."""
    image = numpy.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"detectors take one image (H, W) or (H, W, 3), not an array of shape {image.shape}")
    return to_grey(image)


# ----------------------------------------------------------------------------------------------
# The CNN detector
# ----------------------------------------------------------------------------------------------

class CNNDetector:
    """The seed's sliding-window detector around a face/non-face classifier such as :class:`course.models.FrgNet`.

    ``model`` needs what :class:`course.models.FrgNet` has: ``insize`` (S) and
    ``face_probability(windows, batch_size=..., device=...)`` for windows of shape (N, 1, S, S).
    Images wider than ``max_width`` are first shrunk to it (the seed: 512); boxes are reported in the
    original image's pixels. A window is a face when P(face) >= ``threshold``. As in OpenCV's
    ``minNeighbors``, a detection counts only when at least ``min_neighbors`` face windows (itself
    included) overlap it by IoU >= ``iou_threshold``: on a fine grid a real face lights up several
    windows, a lone false alarm often just one. The seed kept every window (``min_neighbors=1``).
    """

    def __init__(self, model, *, scales: Sequence[tuple[int, int]] = SEED_SCALES, threshold: float = 0.5,
                 iou_threshold: float = 0.3, min_neighbors: int = 1, max_width: int = SEED_WIDTH,
                 batch_size: int = 1024, device=None):
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold is a probability between 0 and 1, not {threshold}")
        if min_neighbors < 1:
            raise ValueError(f"min_neighbors counts the window itself, so it is at least 1, not {min_neighbors}")
        self.model, self.scales, self.threshold, self.min_neighbors = model, tuple(scales), threshold, min_neighbors
        self.iou_threshold, self.max_width = iou_threshold, max_width
        self.batch_size, self.device = batch_size, device

    def score_windows(self, image: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
        """All windows of ``image`` over all scales, as boxes in its pixels, and each one's P(face)."""
        image = _one_grey_image(image)
        factor = 1.0
        if image.shape[1] > self.max_width:
            factor = self.max_width / image.shape[1]
            image = resize(image, (self.max_width, max(1, round(image.shape[0] * factor))))
        h, w = image.shape
        smallest = min(size for size, _ in self.scales)
        if min(h, w) < smallest:
            raise ValueError(f"the image ({w}x{h} after shrinking to width <= {self.max_width}) is smaller than the "
                             f"smallest window ({smallest}x{smallest}); use a larger image or smaller scales")
        boxes = numpy.concatenate([sliding_windows(w, h, size, stride) for size, stride in self.scales])
        windows = crop_windows(image, boxes, self.model.insize)
        probabilities = self.model.face_probability(windows, batch_size=self.batch_size, device=self.device)
        return boxes / factor, probabilities

    def select(self, boxes: numpy.ndarray, probabilities: numpy.ndarray, threshold: float | None = None,
               min_neighbors: int | None = None) -> Detections:
        """The seed's last step: keep windows with P(face) >= ``threshold`` (default: the detector's), then suppress.

        Of the boxes kept, those with fewer than ``min_neighbors`` (default: the detector's) face
        windows around them are dropped.
        """
        threshold = self.threshold if threshold is None else threshold
        min_neighbors = self.min_neighbors if min_neighbors is None else min_neighbors
        faces = numpy.flatnonzero(probabilities >= threshold)
        kept = faces[non_max_suppression(boxes[faces], probabilities[faces], self.iou_threshold)]
        if min_neighbors > 1 and len(kept):
            neighbours = (box_iou(boxes[kept], boxes[faces]) >= self.iou_threshold).sum(axis=1)
            kept = kept[neighbours >= min_neighbors]
        return Detections(boxes[kept], probabilities[kept])

    def __call__(self, image: numpy.ndarray) -> Detections:
        return self.select(*self.score_windows(image))


# ----------------------------------------------------------------------------------------------
# Classical detectors
# ----------------------------------------------------------------------------------------------

def opencv_frontal_face_path() -> Path:
    """OpenCV's bundled Haar cascade for upright frontal faces (``haarcascade_frontalface_default.xml``)."""
    import cv2

    return Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"


def _existing(path: str | os.PathLike, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: give the path of {what} (an OpenCV cascade XML file, "
                                f"e.g. lbpcascade_animeface.xml from the lbpcascade_animeface project).")
    return path


class CascadeDetector:
    """An OpenCV cascade (Haar or LBP XML), by default OpenCV's Haar frontal-face cascade.

    Pass the path of another cascade, e.g. ``lbpcascade_animeface.xml``, to detect anime faces as the
    seed's baseline did. Faces are searched from ``min_size`` to ``max_size`` pixels (None: as large as
    the image). Scores are the number of neighbouring raw detections merged into each box.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, scale_factor: float = 1.1, min_neighbors: int = 3,
                 min_size: int = 24, max_size: int | None = None):
        import cv2

        self.path = _existing(path or opencv_frontal_face_path(), "a cascade")
        self.cascade = cv2.CascadeClassifier()
        try:
            self.cascade.load(str(self.path))
        except (cv2.error, SystemError):  # OpenCV raises on some malformed files, returns empty on others
            pass
        if self.cascade.empty():
            raise DataError(f"{self.path} is not a cascade OpenCV can load (it must be an OpenCV cascade XML "
                            f"file, Haar or LBP); download it again or check you gave the right file.")
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors
        self.min_size, self.max_size = min_size, max_size

    def __call__(self, image: numpy.ndarray) -> Detections:
        largest = (self.max_size, self.max_size) if self.max_size else (0, 0)  # (0, 0): OpenCV's "no limit"
        rectangles, neighbours = self.cascade.detectMultiScale2(
            as_uint8(_one_grey_image(image)), scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size), maxSize=largest)
        return Detections.from_xywh(rectangles, neighbours)


class SkimageCascadeDetector:
    """scikit-image's cascade (``skimage.feature.Cascade``), by default its LBP frontal-face cascade.

    Faces are searched from ``min_size`` to ``max_size`` pixels.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, scale_factor: float = 1.2, step_ratio: float = 1.0,
                 min_size: int = 24, max_size: int = 512):
        import skimage.data
        from skimage.feature import Cascade

        self.path = _existing(path or skimage.data.lbp_frontal_face_cascade_filename(), "a cascade")
        try:
            self.cascade = Cascade(str(self.path))
        except Exception as error:  # scikit-image raises whatever its XML reader meets
            raise DataError(f"{self.path} is not a cascade scikit-image can load ({type(error).__name__}: {error}); "
                            f"it reads OpenCV's LBP cascade XML files.") from None
        self.scale_factor, self.step_ratio = scale_factor, step_ratio
        self.min_size, self.max_size = min_size, max_size

    def __call__(self, image: numpy.ndarray) -> Detections:
        found = self.cascade.detect_multi_scale(
            _one_grey_image(image), scale_factor=self.scale_factor, step_ratio=self.step_ratio,
            min_size=(self.min_size, self.min_size), max_size=(self.max_size, self.max_size))
        return Detections.from_xywh([(d["c"], d["r"], d["width"], d["height"]) for d in found])


class AnimeFaceDetector:
    """The ``animeface`` package (nagadomi's imager::AnimeFace), an offline anime-face detector; optional.

    Needs ``pip install animeface``. Scores are its likelihoods; faces below ``min_likelihood`` are dropped.
    """

    def __init__(self, min_likelihood: float = 0.0):
        try:
            import animeface
        except ImportError:
            raise ImportError("AnimeFaceDetector needs the animeface package: pip install animeface") from None
        self.animeface, self.min_likelihood = animeface, min_likelihood

    def __call__(self, image: numpy.ndarray) -> Detections:
        from PIL import Image

        pixels = as_uint8(image)
        faces = [f for f in self.animeface.detect(Image.fromarray(pixels)) if f.likelihood >= self.min_likelihood]
        return Detections.from_xywh([(f.face.pos.x, f.face.pos.y, f.face.pos.width, f.face.pos.height) for f in faces],
                                    [f.likelihood for f in faces])


# ----------------------------------------------------------------------------------------------
# Scoring a detector on scenes with known faces
# ----------------------------------------------------------------------------------------------

def match_detections(detections: Detections, true_boxes: numpy.ndarray,
                     iou_threshold: float = 0.5) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Which true boxes were found, and which detections are right (PASCAL VOC's rule).

    Detections are taken most confident first; each one matches the not-yet-found true box it
    overlaps most, if that IoU is >= ``iou_threshold``. A second detection of a found face is a
    false positive. Returns two boolean arrays: found (per true box) and right (per detection).
    """
    true_boxes = numpy.asarray(true_boxes, numpy.float32).reshape(-1, 4)
    found = numpy.zeros(len(true_boxes), bool)
    right = numpy.zeros(len(detections), bool)
    if not len(detections) or not len(true_boxes):
        return found, right
    overlaps = box_iou(detections.boxes, true_boxes)
    for d in numpy.argsort(-detections.scores, kind="stable"):
        candidates = numpy.where(found, -1.0, overlaps[d])
        best = int(candidates.argmax())
        if candidates[best] >= iou_threshold:
            found[best] = right[d] = True
    return found, right


FIGURES = ("precision", "recall", "recall_upright", "recall_tilted")
"""The figures a :class:`DetectionScore` gives with an interval: each a ratio of sums over scenes."""
_PARTS = {  # figure -> (the counts summed above the line, the counts summed below it)
    "precision": (("true_positives",), ("true_positives", "false_positives")),
    "recall": (("upright_found", "tilted_found"), ("upright", "tilted")),
    "recall_upright": (("upright_found",), ("upright",)),
    "recall_tilted": (("tilted_found",), ("tilted",)),
}


def _ratio(above: numpy.ndarray, below: numpy.ndarray) -> float:
    total = below.sum()
    return float(above.sum() / total) if total else float("nan")


@dataclass(frozen=True)
class SceneCounts:
    """What a detector got right and wrong in each scene: every array holds one whole number per scene.

    A true positive is a detection matched to a face (IoU >= 0.5, :func:`match_detections`); every
    other detection is a false positive, and ``on_nonfaces`` counts those that frame a pasted non-face
    (IoU >= 0.5 with it). ``upright`` and ``tilted`` count the scene's faces of each kind, ``*_found``
    those a detection matched.
    """

    true_positives: numpy.ndarray
    false_positives: numpy.ndarray
    on_nonfaces: numpy.ndarray
    upright: numpy.ndarray
    upright_found: numpy.ndarray
    tilted: numpy.ndarray
    tilted_found: numpy.ndarray

    def __len__(self) -> int:
        return len(self.true_positives)

    def parts(self, figure: str) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Per scene, the two counts whose sums make ``figure`` (one of :data:`FIGURES`): above and below the line."""
        if figure not in _PARTS:
            raise ValueError(f"no figure named {figure!r}; the figures are {', '.join(FIGURES)}")
        above, below = _PARTS[figure]
        return (sum(getattr(self, name) for name in above).astype(numpy.float64),
                sum(getattr(self, name) for name in below).astype(numpy.float64))


@dataclass(frozen=True)
class DetectionScore:
    """How a detector did on a set of scenes, from its :class:`SceneCounts`.

    A figure is NaN when its denominator is 0 (precision when the detector found nothing).
    """

    counts: SceneCounts
    seconds_per_image: float = 0.0

    def figure(self, name: str) -> float:
        """One of :data:`FIGURES` over all scenes, e.g. ``figure("recall_tilted")``."""
        return _ratio(*self.counts.parts(name))

    def interval(self, name: str, *, confidence: float = 0.95, seed: int = 0) -> Interval:
        """The figure ``name`` with its bootstrap interval over scenes (:func:`course.metrics.bootstrap_interval`)."""
        return bootstrap_interval(_ratio, self.counts.parts(name), confidence=confidence, seed=seed)

    @property
    def precision(self) -> float:
        """The fraction of detections that are faces."""
        return self.figure("precision")

    @property
    def recall(self) -> float:
        """The fraction of faces found."""
        return self.figure("recall")

    @property
    def recall_upright(self) -> float:
        """The fraction of upright faces found."""
        return self.figure("recall_upright")

    @property
    def recall_tilted(self) -> float:
        """The fraction of tilted faces found."""
        return self.figure("recall_tilted")

    @property
    def true_positives(self) -> int:
        """Detections matched to a face, over all scenes."""
        return int(self.counts.true_positives.sum())

    @property
    def false_positives(self) -> int:
        """Detections matched to no face, over all scenes."""
        return int(self.counts.false_positives.sum())

    @property
    def missed(self) -> int:
        """Faces no detection matched, over all scenes."""
        c = self.counts
        return int((c.upright + c.tilted - c.upright_found - c.tilted_found).sum())

    def row(self, timed: bool = True) -> str:
        """One line for a table (with the time per image if ``timed``)."""
        line = (f"precision {self.precision:6.1%}  recall {self.recall:6.1%}  (upright {self.recall_upright:6.1%}, "
                f"tilted {self.recall_tilted:6.1%})  false positives {self.false_positives:3d}")
        return f"{line}  {1000 * self.seconds_per_image:6.1f} ms/image" if timed else line


def difference_interval(a: DetectionScore, b: DetectionScore, figure: str, *, confidence: float = 0.95,
                        seed: int = 0) -> Interval:
    """``figure`` of ``a`` minus that of ``b`` (two detectors on the same scenes), with its bootstrap interval.

    Each resample draws scenes and keeps both detectors' counts of a scene together (a paired
    comparison), so what a scene does to both (an easy photo, a hard face) cancels out. An interval
    that holds 0 means the scenes cannot tell the two apart at this ``confidence``.
    """
    if len(a.counts) != len(b.counts):
        raise ValueError(f"the scores come from {len(a.counts)} and {len(b.counts)} scenes; compare detectors on the "
                         f"same scenes")

    def statistic(a_above, a_below, b_above, b_below):
        return _ratio(a_above, a_below) - _ratio(b_above, b_below)

    return bootstrap_interval(statistic, (*a.counts.parts(figure), *b.counts.parts(figure)), confidence=confidence,
                              seed=seed)


def detection_table(scores: Mapping[str, DetectionScore], *, confidence: float = 0.95) -> str:
    """A text table, one detector a row: precision and recall (upright, tilted), each with its bootstrap
    interval over scenes, the false positives (in brackets: how many framed a pasted non-face), and the time."""
    figures = ("precision", "recall_upright", "recall_tilted")
    header = (f"{'detector':<24}" + "".join(f"{name.replace('_', ' '):<24}" for name in figures)
              + f"{'false pos. (non-faces)':>23}{'ms/image':>10}")
    lines = [header, f"{'':<24}" + f"{f'[{confidence:.0%} interval]':<24}" * 3, "-" * len(header)]
    for name, score in scores.items():
        cells = "".join(f"{str(score.interval(figure, confidence=confidence)):<24}" for figure in figures)
        wrong = f"{score.false_positives} ({int(score.counts.on_nonfaces.sum())})"
        lines.append(f"{name:<24}{cells}{wrong:>23}{1000 * score.seconds_per_image:10.1f}")
    return "\n".join(lines)


def evaluate_detector(detector: Detector, scenes: Sequence[Scene], *,
                      iou_threshold: float = 0.5) -> tuple[DetectionScore, list[Detections]]:
    """Run ``detector`` on every scene, match its boxes to the pasted faces, and time it.

    Returns the :class:`DetectionScore` and each scene's :class:`Detections`.
    """
    if not len(scenes):
        raise ValueError("no scenes to evaluate on")
    results, seconds = [], 0.0
    for scene in scenes:
        start = time.perf_counter()
        results.append(detector(scene.image))
        seconds += time.perf_counter() - start
    return score_detections(results, scenes, iou_threshold=iou_threshold, seconds=seconds), results


def score_detections(results: Sequence[Detections], scenes: Sequence[Scene], *, iou_threshold: float = 0.5,
                     seconds: float = 0.0) -> DetectionScore:
    """Precision and recall of ``results`` (one :class:`Detections` per scene) against the scenes' faces.

    ``seconds`` is the time all the scenes took; the score keeps the time per scene.
    """
    if not len(scenes):
        raise ValueError("no scenes to score")
    rows = []
    for scene, detections in zip(scenes, results, strict=True):
        found, right = match_detections(detections, scene.boxes, iou_threshold)
        wrong = detections.boxes[~right]
        on_nonfaces = 0
        if len(wrong) and len(scene.nonface_boxes):
            on_nonfaces = int((box_iou(wrong, scene.nonface_boxes).max(axis=1) >= iou_threshold).sum())
        tilted = scene.tilted
        rows.append((right.sum(), (~right).sum(), on_nonfaces, (~tilted).sum(), (found & ~tilted).sum(),
                     tilted.sum(), (found & tilted).sum()))
    columns = numpy.array(rows, numpy.int64).T
    return DetectionScore(SceneCounts(*columns), seconds_per_image=seconds / len(scenes))


class ScoredScenes:
    """A CNN detector's P(face) for every window of ``scenes``, computed once (the slow part).

    Any threshold and ``min_neighbors`` can then be tried in milliseconds (:meth:`evaluate`,
    :meth:`sweep`), with no further pass of the CNN.
    """

    def __init__(self, detector: CNNDetector, scenes: Sequence[Scene], *, progress: bool = True, desc: str = ""):
        from tqdm.auto import tqdm

        if not len(scenes):
            raise ValueError("no scenes to score")
        self.detector, self.scenes = detector, list(scenes)
        start = time.perf_counter()
        bar = tqdm(self.scenes, desc=desc or "scoring windows", unit="scene", disable=not progress)
        self.windows = [detector.score_windows(scene.image) for scene in bar]
        self.seconds_per_image = (time.perf_counter() - start) / len(self.scenes)

    def detections(self, threshold: float | None = None, min_neighbors: int | None = None) -> list[Detections]:
        """Each scene's detections at ``threshold`` and ``min_neighbors`` (defaults: the detector's)."""
        return [self.detector.select(boxes, p, threshold, min_neighbors) for boxes, p in self.windows]

    def evaluate(self, threshold: float | None = None, min_neighbors: int | None = None, *,
                 iou_threshold: float = 0.5) -> tuple[DetectionScore, list[Detections]]:
        """What :func:`evaluate_detector` gives for the detector at these settings (timed: the scoring)."""
        results = self.detections(threshold, min_neighbors)
        score = score_detections(results, self.scenes, iou_threshold=iou_threshold,
                                 seconds=self.seconds_per_image * len(self.scenes))
        return score, results

    def sweep(self, thresholds: Sequence[float], min_neighbors: Sequence[int] = (1,), *,
              iou_threshold: float = 0.5) -> dict[tuple[int, float], DetectionScore]:
        """The score at every (min_neighbors, threshold) pair; for one ``min_neighbors``, a precision-recall curve."""
        return {(m, t): self.evaluate(t, m, iou_threshold=iou_threshold)[0] for m in min_neighbors for t in thresholds}


def recall_at(sweep: Mapping[tuple[int, float], DetectionScore], precision: float) -> float:
    """The highest recall of any setting in ``sweep`` whose precision is at least ``precision`` (0: none is)."""
    return max((score.recall for score in sweep.values() if score.precision >= precision), default=0.0)


def choose_setting(sweep: Mapping[tuple[int, float], DetectionScore], precision: float) -> tuple[int, float]:
    """The (min_neighbors, threshold) of ``sweep`` that finds the most faces at a precision of at least ``precision``.

    Among settings of equal recall the more precise wins, then the larger ``min_neighbors`` and
    threshold. Use it on validation scenes (e.g. with the best cascade's validation precision as
    ``precision``), never on the scenes you report. Raises ``ValueError`` when no setting is that precise.
    """
    reaching = [(score.recall, score.precision, setting) for setting, score in sweep.items()
                if score.precision >= precision]  # NaN (nothing detected) never reaches
    if not reaching:
        best = max((s.precision for s in sweep.values() if not numpy.isnan(s.precision)), default=float("nan"))
        raise ValueError(f"no setting reaches a precision of {precision:.1%} (the best reaches {best:.1%}); "
                         f"try higher thresholds or more min_neighbors")
    return max(reaching)[2]


def mine_windows(detector: CNNDetector, scenes: Sequence[Scene], *, positive_iou: float = 0.6,
                 negative_iou: float = 0.5) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Training crops as the detector sees them, from scenes whose faces are known: ``(windows, labels)``.

    Positives (label 1): every window whose IoU with a true face is ``>= positive_iou``, i.e. faces
    framed as loosely as the window grid frames them. Hard negatives (label 0): every window the
    detector calls a face (P(face) >= its threshold) whose IoU with every true face is below
    ``negative_iou``, such as half a face or a cup. Windows in between are left out. This is the
    "bootstrapping" of classical face detectors. Build the scenes from *training* faces and photos,
    never from the test ones.
    """
    size = detector.model.insize
    windows, labels = [numpy.empty((0, 1, size, size), numpy.float32)], [numpy.empty(0, numpy.int32)]
    for scene in scenes:
        boxes, probabilities = detector.score_windows(scene.image)
        overlap = box_iou(boxes, scene.boxes).max(axis=1) if len(scene.boxes) else numpy.zeros(len(boxes))
        positive = overlap >= positive_iou
        negative = (probabilities >= detector.threshold) & (overlap < negative_iou)
        chosen = boxes[positive | negative]
        windows.append(crop_windows(_one_grey_image(scene.image), chosen, size))
        labels.append(positive[positive | negative].astype(numpy.int32))
    return numpy.concatenate(windows), numpy.concatenate(labels)
