"""Finding faces in a whole image: a CNN over sliding windows, and the classical detectors to compare with.

The seed's detector: shrink the image to a width of 512, cut square windows at three (size, stride)
scales, resize each to the CNN's input, keep the windows the CNN calls faces, and suppress
overlapping ones (IoU >= 0.3), keeping the most confident. :class:`CNNDetector` does exactly this,
scoring all windows of an image in big batches. The classical detectors wrap OpenCV's cascades
(:class:`CascadeDetector`, Haar or LBP, e.g. ``lbpcascade_animeface.xml``), scikit-image's LBP
cascade (:class:`SkimageCascadeDetector`) and the ``animeface`` package (:class:`AnimeFaceDetector`).
Every detector is called on an image (H, W) or (H, W, 3) and returns :class:`Detections`.

To measure them, :func:`evaluate_detector` matches their boxes to the known faces of
:class:`course.data.faces.Scene` images (precision, recall of upright and tilted faces, time per
image), and :func:`sweep_thresholds` traces the CNN's precision-recall curve. :func:`mine_windows`
collects training windows from scenes of training faces.

Boxes are float arrays (K, 4) of pixel corners ``(x0, y0, x1, y1)``, with ``x1 = x0 + width``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy

from course.data.faces import Scene
from course.files import DataError
from course.images import as_uint8, resize, to_grey
from course.metrics import box_iou

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

    def select(self, boxes: numpy.ndarray, probabilities: numpy.ndarray, threshold: float | None = None) -> Detections:
        """The seed's last step: keep windows with P(face) >= ``threshold`` (default: the detector's), then suppress.

        Of the boxes kept, those with fewer than ``min_neighbors`` face windows around them are dropped.
        """
        threshold = self.threshold if threshold is None else threshold
        faces = numpy.flatnonzero(probabilities >= threshold)
        kept = faces[non_max_suppression(boxes[faces], probabilities[faces], self.iou_threshold)]
        if self.min_neighbors > 1 and len(kept):
            neighbours = (box_iou(boxes[kept], boxes[faces]) >= self.iou_threshold).sum(axis=1)
            kept = kept[neighbours >= self.min_neighbors]
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
    seed's baseline did. Scores are the number of neighbouring raw detections merged into each box.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, scale_factor: float = 1.1, min_neighbors: int = 3,
                 min_size: int = 24):
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
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size

    def __call__(self, image: numpy.ndarray) -> Detections:
        rectangles, neighbours = self.cascade.detectMultiScale2(
            as_uint8(_one_grey_image(image)), scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size))
        return Detections.from_xywh(rectangles, neighbours)


class SkimageCascadeDetector:
    """scikit-image's cascade (``skimage.feature.Cascade``), by default its LBP frontal-face cascade."""

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


@dataclass(frozen=True)
class DetectionScore:
    """How a detector did on a set of scenes. Precision is NaN when it detected nothing."""

    precision: float
    recall: float
    recall_upright: float
    recall_tilted: float
    true_positives: int
    false_positives: int
    missed: int
    seconds_per_image: float

    def row(self, timed: bool = True) -> str:
        """One line for a table (with the time per image if ``timed``)."""
        line = (f"precision {self.precision:6.1%}  recall {self.recall:6.1%}  (upright {self.recall_upright:6.1%}, "
                f"tilted {self.recall_tilted:6.1%})  false positives {self.false_positives:3d}")
        return f"{line}  {1000 * self.seconds_per_image:6.1f} ms/image" if timed else line


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
    """Precision and recall of ``results`` (one :class:`Detections` per scene) against the scenes' faces."""
    found_all, tilted_all = [], []
    right = wrong = 0
    for scene, detections in zip(scenes, results, strict=True):
        found, correct = match_detections(detections, scene.boxes, iou_threshold)
        found_all.append(found)
        tilted_all.append(scene.tilted)
        right += int(correct.sum())
        wrong += int((~correct).sum())
    found, tilted = numpy.concatenate(found_all), numpy.concatenate(tilted_all)

    def fraction(mask):
        return float(found[mask].mean()) if mask.any() else float("nan")

    return DetectionScore(
        precision=right / (right + wrong) if right + wrong else float("nan"),
        recall=fraction(numpy.ones_like(found)), recall_upright=fraction(~tilted), recall_tilted=fraction(tilted),
        true_positives=right, false_positives=wrong, missed=int((~found).sum()),
        seconds_per_image=seconds / len(scenes),
    )


def sweep_thresholds(detector: CNNDetector, scenes: Sequence[Scene], thresholds: Sequence[float], *,
                     iou_threshold: float = 0.5) -> list[DetectionScore]:
    """The CNN detector's precision and recall at each of ``thresholds``: its precision-recall curve.

    Each scene's windows are scored once; only the last step (:meth:`CNNDetector.select`) is redone.
    """
    scored = [detector.score_windows(scene.image) for scene in scenes]
    return [score_detections([detector.select(*s, threshold) for s in scored], scenes, iou_threshold=iou_threshold)
            for threshold in thresholds]


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
