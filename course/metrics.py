"""The numbers that judge a model's outputs: accuracy, confusion, ranking (NDCG), boxes (IoU), captions (BLEU), and their spread."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy


def as_classes(predicted: numpy.ndarray) -> numpy.ndarray:
    """Class indices: ``predicted`` itself, or the argmax of each row when it holds scores (N, classes)."""
    predicted = numpy.asarray(predicted)
    return predicted.argmax(axis=1) if predicted.ndim == 2 else predicted


def accuracy(predicted: numpy.ndarray, labels: numpy.ndarray) -> float:
    """The fraction of ``predicted`` (class indices, or scores to argmax) equal to ``labels``."""
    predicted = as_classes(predicted)
    labels = numpy.asarray(labels)
    if predicted.shape != labels.shape:
        raise ValueError(f"{predicted.shape[0]} predictions for {labels.shape[0]} labels")
    return float((predicted == labels).mean())


def confusion_matrix(predicted: numpy.ndarray, labels: numpy.ndarray, n_classes: int) -> numpy.ndarray:
    """``cm[i, j]`` = how many examples of true class ``i`` were predicted as ``j`` (scikit-learn's)."""
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    return sk_confusion_matrix(labels, as_classes(predicted), labels=numpy.arange(n_classes))


def misclassified(predicted: numpy.ndarray, labels: numpy.ndarray) -> numpy.ndarray:
    """Indices of the examples whose prediction is not their label.

    With class indices, in data order; with scores (N, classes), the most confident mistakes first
    (largest gap between the winning score and the true class's score).
    """
    predicted = numpy.asarray(predicted)
    labels = numpy.asarray(labels)
    if predicted.shape[0] != labels.shape[0]:
        raise ValueError(f"{predicted.shape[0]} predictions for {labels.shape[0]} labels")
    if predicted.ndim != 2:
        return numpy.flatnonzero(predicted != labels)
    winners = predicted.argmax(axis=1)
    wrong = numpy.flatnonzero(winners != labels)
    gap = predicted[wrong, winners[wrong]] - predicted[wrong, labels[wrong]]
    return wrong[numpy.argsort(-gap, kind="stable")]


# --- ranking (lesson 5) ---------------------------------------------------------------------------

_GAINS = {
    "exponential": lambda ratings: numpy.exp2(ratings) - 1,  # 2^rating - 1: the usual NDCG, and the seed's
    "linear": lambda ratings: ratings,  # the rating itself: scikit-learn's ndcg_score
}


def _ranking_arrays(ratings, scores) -> tuple[numpy.ndarray, numpy.ndarray]:
    ratings = numpy.asarray(ratings, dtype=numpy.float64)
    scores = numpy.asarray(scores, dtype=numpy.float64)
    if ratings.ndim != 1 or scores.shape != ratings.shape:
        raise ValueError(f"{scores.shape} scores for {ratings.shape} ratings: give one score per rated item, "
                         f"both as 1-D arrays of the same length")
    if not len(ratings):
        raise ValueError("there are no items to rank")
    if not numpy.isfinite(ratings).all():
        raise ValueError(f"ratings {numpy.flatnonzero(~numpy.isfinite(ratings))[:5].tolist()} are NaN or infinite: "
                         f"rate those items or leave them out")
    if not numpy.isfinite(scores).all():
        raise ValueError("some scores are NaN or infinite: the model that produced them has diverged "
                         "(lower the learning rate and retrain)")
    return ratings, scores


def dcg_at_k(ratings, scores, k: int, *, gain: str = "exponential") -> float:
    """Discounted cumulative gain of the top ``k`` items when items are sorted by ``scores``, highest first.

    The item at position ``i`` (0, 1, 2...) adds ``gain(rating) / log2(i + 2)``; ``gain`` is
    ``"exponential"`` (``2^rating - 1``) or ``"linear"`` (the rating). Items with equal scores are in
    no particular order, so they share the average of their gains (as scikit-learn's ``ndcg_score``
    does). ``k`` larger than the number of items counts them all.
    """
    ratings, scores = _ranking_arrays(ratings, scores)
    if gain not in _GAINS:
        raise ValueError(f"gain must be one of {', '.join(_GAINS)}, not {gain!r}")
    if isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) or k < 1:
        raise ValueError(f"k must be a whole number >= 1 (how many top items count), not {k!r}")
    gains = _GAINS[gain](ratings)
    discount = 1 / numpy.log2(numpy.arange(len(ratings)) + 2)
    discount[k:] = 0
    # Group items of equal score (highest first); each group takes the mean gain over its positions.
    _, group, counts = numpy.unique(-scores, return_inverse=True, return_counts=True)
    mean_gain = numpy.bincount(group.ravel(), weights=gains, minlength=len(counts)) / counts
    group_discount = numpy.diff(numpy.cumsum(discount)[numpy.cumsum(counts) - 1], prepend=0.0)
    return float(mean_gain @ group_discount)


def ndcg_at_k(ratings, scores, k: int, *, gain: str = "exponential") -> float:
    """Normalised DCG@k: :func:`dcg_at_k` of the order by ``scores`` over that of the ideal order (1 = perfect).

    ``ratings`` must be >= 0 (0 = not relevant at all). When every rating is 0, no order is better than
    another and the result is 0, as in scikit-learn.
    """
    ratings, scores = _ranking_arrays(ratings, scores)
    if ratings.min() < 0:
        raise ValueError(f"NDCG needs ratings >= 0 (0 = not relevant), but the lowest is {ratings.min():g}: "
                         f"shift them, e.g. ratings - ratings.min()")
    ideal = dcg_at_k(ratings, ratings, k, gain=gain)
    return dcg_at_k(ratings, scores, k, gain=gain) / ideal if ideal > 0 else 0.0


def pair_accuracy(ratings, scores) -> float:
    """The fraction of pairs with different ratings whose scores are in the same order (a tie counts 1/2).

    What RankNet's loss trains for. 0.5 is a random order, 1 a perfect one.
    """
    ratings, scores = _ranking_arrays(ratings, scores)
    right = total = 0.0
    chunk = max(1, 2_000_000 // len(ratings))  # compare rows against all items, a bounded block at a time
    for start in range(0, len(ratings), chunk):
        higher = ratings[start:start + chunk, None] > ratings[None, :]
        s = scores[start:start + chunk, None]
        right += (higher & (s > scores)).sum() + 0.5 * (higher & (s == scores)).sum()
        total += higher.sum()
    if total == 0:
        raise ValueError("all ratings are equal, so no pair has an order to get right")
    return float(right / total)


# --- boxes (lesson 4) -----------------------------------------------------------------------------

def box_iou(a, b) -> numpy.ndarray | float:
    """Intersection over union of boxes ``a`` (N, 4) and ``b`` (M, 4) given as corners (x0, y0, x1, y1).

    Returns the (N, M) matrix of every pair's IoU, vectorised; a single box (4,) on either side drops
    that axis, so two single boxes give one float. ``x1 = x0 + width``: a box of corners (0, 0, 10, 10)
    covers 100 square pixels. Boxes that only touch, or do not meet, have IoU 0; an empty box
    (zero area) has IoU 0 with everything.
    """
    a_array, b_array = numpy.asarray(a, numpy.float64), numpy.asarray(b, numpy.float64)
    for name, array in (("a", a_array), ("b", b_array)):
        if array.shape[-1:] != (4,) or array.ndim > 2:
            raise ValueError(f"{name} must be a box (4,) or boxes (N, 4) as (x0, y0, x1, y1), not shape {array.shape}")
        if (array[..., 2:] < array[..., :2]).any():
            raise ValueError(f"{name} has a box with x1 < x0 or y1 < y0: boxes are corners (x0, y0, x1, y1), "
                             f"not (x, y, width, height)")
    a2, b2 = a_array.reshape(-1, 1, 4), b_array.reshape(1, -1, 4)
    width = numpy.clip(numpy.minimum(a2[..., 2], b2[..., 2]) - numpy.maximum(a2[..., 0], b2[..., 0]), 0, None)
    height = numpy.clip(numpy.minimum(a2[..., 3], b2[..., 3]) - numpy.maximum(a2[..., 1], b2[..., 1]), 0, None)
    inter = width * height
    area_a = (a2[..., 2] - a2[..., 0]) * (a2[..., 3] - a2[..., 1])
    area_b = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    union = area_a + area_b - inter
    iou = numpy.divide(inter, union, out=numpy.zeros_like(inter), where=union > 0)
    if a_array.ndim == 1 and b_array.ndim == 1:
        return float(iou[0, 0])
    if a_array.ndim == 1:
        return iou[0]
    if b_array.ndim == 1:
        return iou[:, 0]
    return iou


# --- how sure a figure is -------------------------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    """A figure and its confidence interval: ``value`` (on all the data), ``low`` and ``high``."""

    value: float
    low: float
    high: float
    confidence: float

    def __str__(self) -> str:
        return f"{self.value:.1%} [{self.low:.1%}, {self.high:.1%}]"


def bootstrap_interval(statistic: Callable[..., float], data: Sequence[numpy.ndarray], *, resamples: int = 2000,
                       confidence: float = 0.95, seed: int = 0) -> Interval:
    """``statistic(*data)`` and its bootstrap confidence interval, resampling the items of ``data`` together.

    ``data`` holds one array per quantity, one entry per item (e.g. per test scene: true positives,
    false positives); a resample draws items with replacement, keeping each item's entries
    together, so a figure made of ratios of sums (precision over scenes) is resampled as a whole.
    Uses SciPy's ``scipy.stats.bootstrap`` (percentile method); the same ``seed`` gives the same
    interval.
    """
    from scipy.stats import bootstrap

    arrays = [numpy.asarray(a, dtype=numpy.float64) for a in data]
    if not arrays or len({len(a) for a in arrays}) != 1 or len(arrays[0]) < 2:
        raise ValueError("bootstrap_interval needs one or more arrays of the same length, at least 2 items each")
    value = float(statistic(*arrays))
    result = bootstrap(arrays, statistic, paired=True, vectorized=False, n_resamples=resamples,
                       confidence_level=confidence, method="percentile", random_state=seed)
    low, high = (float(v) for v in result.confidence_interval)
    return Interval(value, low, high, confidence)


def mean_and_spread(values: Sequence[float]) -> tuple[float, float]:
    """The mean of ``values`` (e.g. one figure per seed) and their sample standard deviation (ddof=1)."""
    values = numpy.asarray(values, dtype=numpy.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"give two or more values (one per seed or split), not {values.shape}")
    return float(values.mean()), float(values.std(ddof=1))


# --- samples of a generative model (lesson 6) -----------------------------------------------------
# A GAN's samples have no labels to compare with, so a classifier trained on the real data judges
# them: how sure it is about each sample, which classes it sees, and how far the samples' features
# lie from real images' features.

def _probabilities(probabilities) -> numpy.ndarray:
    p = numpy.asarray(probabilities, dtype=numpy.float64)
    if p.ndim != 2 or not len(p):
        raise ValueError(f"give one row of class probabilities per sample, shape (N, classes), not {p.shape}")
    return p


def confident_fraction(probabilities, threshold: float = 0.9) -> float:
    """The fraction of samples whose most likely class has probability >= ``threshold`` (rows of softmax outputs)."""
    return float((_probabilities(probabilities).max(axis=1) >= threshold).mean())


def mean_top_confidence(probabilities) -> float:
    """The mean, over samples, of the probability of each sample's most likely class."""
    return float(_probabilities(probabilities).max(axis=1).mean())


@dataclass(frozen=True)
class Coverage:
    """Which classes a set of samples holds: ``shares[c]`` is the fraction classified as class ``c``."""

    shares: numpy.ndarray

    @property
    def classes_seen(self) -> int:
        """How many classes appear at all, in one sample or more."""
        return int((self.shares > 0).sum())

    def classes_with(self, min_share: float) -> int:
        """How many classes make up ``min_share`` of the samples or more (e.g. 0.02: 2%)."""
        return int((self.shares >= min_share).sum())

    def __str__(self) -> str:
        return " ".join(f"{c}:{share:.1%}" for c, share in enumerate(self.shares))


def mode_coverage(predicted, n_classes: int) -> Coverage:
    """Each class's share of the samples, from class indices or probabilities (N, classes).

    A generator that draws only some of the classes (mode collapse) leaves the others at 0.
    """
    classes = as_classes(predicted)
    if classes.ndim != 1 or not len(classes):
        raise ValueError(f"give one prediction per sample, not shape {classes.shape}")
    if classes.min() < 0 or classes.max() >= n_classes:
        raise ValueError(f"predicted classes must lie in 0..{n_classes - 1}")
    return Coverage(numpy.bincount(classes, minlength=n_classes) / len(classes))


def frechet_distance(features_a, features_b) -> float:
    """The Fréchet distance between two sets of feature vectors (N, D) and (M, D), each seen as a Gaussian.

    ``|mu_a - mu_b|^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2))`` with each set's mean ``mu`` and covariance
    ``C`` (``numpy.cov``, N - 1 in the denominator; the square root is SciPy's ``sqrtm``). This is
    FID's formula; FID itself takes the features from the Inception network, which the course replaces
    with its own CNN, so numbers here are not comparable with published FIDs. 0 for two sets with the
    same mean and covariance. Each set needs more vectors than dimensions, or its covariance is singular
    and the distance is noise.
    """
    import warnings

    from scipy.linalg import LinAlgWarning, sqrtm

    a, b = (numpy.asarray(f, dtype=numpy.float64) for f in (features_a, features_b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"give two sets of feature vectors (N, D) of the same D, not {a.shape} and {b.shape}")
    smallest = min(len(a), len(b))
    if smallest <= a.shape[1]:
        raise ValueError(f"{smallest} feature vectors of {a.shape[1]} dimensions are too few: each set needs more "
                         f"vectors than dimensions (give at least {a.shape[1] + 1}), or its covariance is singular")
    if not (numpy.isfinite(a).all() and numpy.isfinite(b).all()):
        raise ValueError("some features are NaN or infinite: the network that produced them has diverged")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = numpy.atleast_2d(numpy.cov(a, rowvar=False)), numpy.atleast_2d(numpy.cov(b, rowvar=False))
    with warnings.catch_warnings():
        # Features after a ReLU often hold units that never fire, so the product is singular; its square
        # root (with zero eigenvalues) is still what the formula needs.
        warnings.simplefilter("ignore", LinAlgWarning)
        root = sqrtm(cov_a @ cov_b)
        if not numpy.isfinite(root).all():  # nudge both covariances off singularity (as pytorch-fid does)
            nudge = numpy.eye(len(cov_a)) * 1e-6
            root = sqrtm((cov_a + nudge) @ (cov_b + nudge))
    root = numpy.real(root)  # rounding leaves tiny imaginary parts
    distance = ((mean_a - mean_b) ** 2).sum() + numpy.trace(cov_a) + numpy.trace(cov_b) - 2 * numpy.trace(root)
    return float(max(distance, 0.0))


# --- super-resolution (lesson 7): measured as the papers measure it ---------------------------------

def y_channel(rgb) -> numpy.ndarray:
    """The luma Y of ITU-R BT.601 (studio range, 16-235), as MATLAB's ``rgb2ycbcr`` and SR papers compute it.

    ``rgb`` is (..., 3), uint8 0-255 or floats in [0, 1]. ``Y = 16 + (65.481 R + 128.553 G + 24.966 B)``
    with R, G, B in [0, 1]; float64, not rounded.
    """
    rgb = numpy.asarray(rgb)
    if rgb.shape[-1] != 3:
        raise ValueError(f"give RGB images (..., 3), not shape {rgb.shape}")
    values = rgb.astype(numpy.float64) / 255 if rgb.dtype == numpy.uint8 else rgb.astype(numpy.float64)
    return 16 + values @ numpy.array([65.481, 128.553, 24.966])


def crop_border(image: numpy.ndarray, pixels: int) -> numpy.ndarray:
    """``image`` (H, W[, C]) without ``pixels`` rows and columns at each border (the papers crop ``scale``)."""
    if pixels < 0 or 2 * pixels >= min(image.shape[:2]):
        raise ValueError(f"cannot crop {pixels} px from each border of a {image.shape[1]}x{image.shape[0]} image")
    return image[pixels:image.shape[0] - pixels, pixels:image.shape[1] - pixels] if pixels else image


def _y_pair(output, reference, border: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    output, reference = numpy.asarray(output), numpy.asarray(reference)
    if output.shape != reference.shape:
        raise ValueError(f"the output {output.shape} and the reference {reference.shape} must have one shape")
    if (output.dtype == numpy.uint8) != (reference.dtype == numpy.uint8):
        raise ValueError("give both images as uint8 or both as floats in [0, 1]")
    return crop_border(y_channel(output), border), crop_border(y_channel(reference), border)


def y_psnr(output, reference, border: int = 4) -> float:
    """PSNR (dB) of ``output`` against ``reference`` (RGB, uint8 or [0, 1]) on the Y channel, ``border`` px cropped.

    ``10 log10(255^2 / MSE)`` of the two Y channels on the 0-255 scale (scikit-image's
    ``peak_signal_noise_ratio`` with ``data_range=255``). Infinite for identical images.
    """
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _y_pair(output, reference, border)
    if numpy.array_equal(a, b):
        return float("inf")
    return float(peak_signal_noise_ratio(b, a, data_range=255))


def y_ssim(output, reference, border: int = 4) -> float:
    """SSIM of ``output`` against ``reference`` on the Y channel, ``border`` px cropped, as Wang et al.'s code has it.

    scikit-image's ``structural_similarity`` with a Gaussian window (sigma 1.5), population
    covariances and ``data_range=255``: the settings of the reference MATLAB implementation.
    """
    from skimage.metrics import structural_similarity

    a, b = _y_pair(output, reference, border)
    return float(structural_similarity(b, a, data_range=255, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def sharpness(image, border: int = 4) -> float:
    """The mean gradient magnitude of ``image``'s Y channel (RGB, uint8 or [0, 1]), ``border`` px cropped.

    ``mean(sqrt(dY/dx^2 + dY/dy^2))`` with central differences (NumPy's ``gradient``) on the 0-255 Y
    scale: how much the picture changes from pixel to pixel. Soft pictures score low; noise and fine
    texture score high. Compare an output with its original through :func:`sharpness_ratio`.
    """
    y = crop_border(y_channel(image), border)
    dy, dx = numpy.gradient(y)
    return float(numpy.sqrt(dx ** 2 + dy ** 2).mean())


def sharpness_ratio(output, reference, border: int = 4) -> float:
    """:func:`sharpness` of ``output`` over that of ``reference``: 1 as sharp as the original, below 1 softer."""
    return sharpness(output, border) / sharpness(reference, border)


@dataclass(frozen=True)
class SRScores:
    """One image's scores: Y-PSNR (dB), Y-SSIM and sharpness relative to the original, for a model and for bicubic."""

    name: str
    psnr: float
    ssim: float
    sharpness: float
    bicubic_psnr: float
    bicubic_ssim: float
    bicubic_sharpness: float

    @property
    def gain(self) -> float:
        """How many dB the model's PSNR is above bicubic's."""
        return self.psnr - self.bicubic_psnr


def sr_scores(name: str, output, bicubic, reference, border: int = 4) -> SRScores:
    """The :class:`SRScores` of a model's ``output`` and the ``bicubic`` enlargement against ``reference``."""
    return SRScores(name, y_psnr(output, reference, border), y_ssim(output, reference, border),
                    sharpness_ratio(output, reference, border), y_psnr(bicubic, reference, border),
                    y_ssim(bicubic, reference, border), sharpness_ratio(bicubic, reference, border))


def sr_table(scores: Sequence[SRScores]) -> str:
    """A per-image table of :class:`SRScores` and their mean, as papers print it (PSNR in dB, SSIM, sharpness)."""
    if not scores:
        raise ValueError("no scores to tabulate")
    header = (f"{'image':<18} {'PSNR':>7} {'bicubic':>8} {'gain':>6} {'SSIM':>7} {'bicubic':>8} "
              f"{'sharp':>6} {'bicubic':>8}")
    rows = [header]
    for s in scores:
        rows.append(f"{s.name[:18]:<18} {s.psnr:>7.2f} {s.bicubic_psnr:>8.2f} {s.gain:>+6.2f} {s.ssim:>7.4f} "
                    f"{s.bicubic_ssim:>8.4f} {s.sharpness:>6.2f} {s.bicubic_sharpness:>8.2f}")
    mean = {field: float(numpy.mean([getattr(s, field) for s in scores]))
            for field in ("psnr", "bicubic_psnr", "ssim", "bicubic_ssim", "sharpness", "bicubic_sharpness")}
    rows.append(f"{'mean':<18} {mean['psnr']:>7.2f} {mean['bicubic_psnr']:>8.2f} "
                f"{mean['psnr'] - mean['bicubic_psnr']:>+6.2f} {mean['ssim']:>7.4f} {mean['bicubic_ssim']:>8.4f} "
                f"{mean['sharpness']:>6.2f} {mean['bicubic_sharpness']:>8.2f}")
    return "\n".join(rows)


# --- colourisation (lesson 8): lines kept, colour error, colourfulness --------------------------------

def _rgb_hwc(image, name: str = "image") -> numpy.ndarray:
    """An RGB image (H, W, 3) or (3, H, W), uint8 or [0, 1], as float64 (H, W, 3) in [0, 1]."""
    image = numpy.asarray(image)
    if image.ndim == 3 and image.shape[0] == 3 and image.shape[2] != 3:
        image = image.transpose(1, 2, 0)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"give the {name} as RGB (H, W, 3) or (3, H, W), not shape {image.shape}")
    return image.astype(numpy.float64) / 255 if image.dtype == numpy.uint8 else numpy.clip(image.astype(numpy.float64), 0, 1)


def line_f1(input_lines, output_lines, tolerance: int = 1) -> float:
    """F1 between two masks of line pixels (H, W booleans): are the input's lines where the output draws lines?

    Precision: the share of the output's line pixels within ``tolerance`` pixels (a square) of an
    input line; recall: the share of the input's line pixels within ``tolerance`` of an output line
    (0: exact pixels). F1 is their harmonic mean; 0 when either has no line pixel. Make the masks
    with :func:`course.data.lineart.line_mask` of the input line art and of ``line_art(output)``.
    """
    import cv2

    a, b = numpy.asarray(input_lines, bool), numpy.asarray(output_lines, bool)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"give two masks (H, W) of one shape, not {a.shape} and {b.shape}")
    if tolerance < 0:
        raise ValueError(f"tolerance is a number of pixels, 0 or more, not {tolerance}")
    if not a.any() or not b.any():
        return 0.0
    square = numpy.ones((2 * tolerance + 1, 2 * tolerance + 1), numpy.uint8)
    near_a = cv2.dilate(a.astype(numpy.uint8), square).astype(bool)
    near_b = cv2.dilate(b.astype(numpy.uint8), square).astype(bool)
    precision, recall = (b & near_a).sum() / b.sum(), (a & near_b).sum() / a.sum()
    return 0.0 if precision + recall == 0 else float(2 * precision * recall / (precision + recall))


def lab_error(output, reference) -> float:
    """The mean colour difference CIEDE2000 (ΔE00) between ``output`` and ``reference`` (RGB, uint8 or [0, 1]).

    scikit-image's ``rgb2lab`` (sRGB, D65) and ``deltaE_ciede2000``, averaged over the pixels. ΔE00
    is built so that equal numbers look equally different to people: about 1 is the smallest
    difference one notices side by side, above 10 is another colour.
    """
    from skimage.color import deltaE_ciede2000, rgb2lab

    a, b = _rgb_hwc(output, "output"), _rgb_hwc(reference, "reference")
    if a.shape != b.shape:
        raise ValueError(f"the output {a.shape} and the reference {b.shape} must have one shape")
    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


def colourfulness(image) -> float:
    """Hasler and Süsstrunk's colourfulness (2003) of an RGB image (uint8 or [0, 1]), on the 0-255 scale.

    With ``rg = R - G`` and ``yb = (R + G) / 2 - B``: ``sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2
    + mean(yb)^2)``. 0 for any grey image; their survey put "moderately colourful" near 33 and
    "extremely colourful" above 109.
    """
    rgb = _rgb_hwc(image) * 255
    rg = rgb[..., 0] - rgb[..., 1]
    yb = (rgb[..., 0] + rgb[..., 1]) / 2 - rgb[..., 2]
    return float(numpy.hypot(rg.std(), yb.std()) + 0.3 * numpy.hypot(rg.mean(), yb.mean()))


def bleu4(references: Sequence[Sequence[Sequence[str]]], hypotheses: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU-4 (0-1) of token lists ``hypotheses`` against each one's list of reference token lists.

    NLTK's ``corpus_bleu`` with uniform weights over 1- to 4-grams and its smoothing method 1 (as
    Chainer's own examples use it), so a hypothesis without a matching 4-gram does not zero the score.
    """
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

    if len(references) != len(hypotheses) or not hypotheses:
        raise ValueError(f"BLEU needs one list of references per hypothesis: {len(references)} against "
                         f"{len(hypotheses)}")
    return float(corpus_bleu([[list(r) for r in refs] for refs in references], [list(h) for h in hypotheses],
                             smoothing_function=SmoothingFunction().method1))


def exact_match(references: Sequence[Sequence[Sequence[str]]], hypotheses: Sequence[Sequence[str]]) -> float:
    """The fraction of ``hypotheses`` (token lists) equal to one of their references."""
    if len(references) != len(hypotheses) or not hypotheses:
        raise ValueError(f"exact match needs one list of references per hypothesis: {len(references)} against "
                         f"{len(hypotheses)}")
    return float(numpy.mean([list(h) in [list(r) for r in refs] for refs, h in zip(references, hypotheses)]))
