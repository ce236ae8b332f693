"""Classic image processing with OpenCV: negative/positive and k-means colour reduction.

Images are NumPy arrays as scikit-image and matplotlib hold them: ``uint8``, shape ``(H, W, 3)``
(RGB) or ``(H, W, 4)`` (RGBA). Alpha is never changed: only the colour of a pixel is inverted or
reduced, not how opaque it is.

:func:`reduce_colours` clusters every pixel's colour with ``cv2.kmeans`` (k-means++ start, at most
50 iterations or until the centres move less than ``eps``) and paints each pixel with its cluster's
centre. Two limits come with this simple recipe: distances are measured in RGB, which is not how
people perceive colour differences (:func:`colour_error` measures them in CIELAB, which is closer),
and a pixel's position plays no part, so a colour region need not be one connected patch.
"""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy

from course.images import to_rgba

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
"""The colour photos this lesson uses, from :data:`course.data.photos.PHOTOS` (no download needed)."""

_AS_UINT8 = "convert it first, e.g. skimage.util.img_as_ubyte(image) for floats in [0, 1]"


def _check_image(image: numpy.ndarray, *, allow_grey: bool) -> numpy.ndarray:
    """``image`` as an array, or a ValueError that names what is wrong with it and the fix."""
    image = numpy.asarray(image)
    shapes = "(H, W), (H, W, 3) or (H, W, 4)" if allow_grey else "(H, W, 3) RGB or (H, W, 4) RGBA"
    grey = allow_grey and image.ndim == 2
    if not grey and (image.ndim != 3 or image.shape[2] not in (3, 4)):
        hint = ""
        if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
            hint = " It is a grey-level image: colour reduction needs colours (skimage.color.gray2rgb makes RGB)."
        elif image.ndim == 3 and image.shape[0] in (3, 4):
            hint = " It looks channels-first: use image.transpose(1, 2, 0)."
        raise ValueError(f"expected an image of shape {shapes}, got shape {image.shape}.{hint}")
    if image.dtype != numpy.uint8:
        raise ValueError(f"expected a uint8 image (0-255), got dtype {image.dtype}: {_AS_UINT8}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"the image has no pixels (shape {image.shape})")
    return image


def cut_out_oval(image: numpy.ndarray) -> numpy.ndarray:
    """An RGBA copy of ``image`` (uint8 RGB), opaque inside the centred oval that fills it, transparent outside.

    Like an animation cel: a picture whose alpha channel says where it covers what lies below.
    """
    image = _check_image(image, allow_grey=False)
    height, width = image.shape[:2]
    y, x = numpy.ogrid[:height, :width]
    inside = ((y + 0.5) / height - 0.5) ** 2 + ((x + 0.5) / width - 0.5) ** 2 <= 0.25
    return to_rgba(image, numpy.where(inside, 255, 0).astype(numpy.uint8))


def negative_positive(image: numpy.ndarray) -> numpy.ndarray:
    """The negative of a uint8 image: each colour value ``v`` becomes ``255 - v``; alpha is kept.

    Accepts grey ``(H, W)``, RGB ``(H, W, 3)`` and RGBA ``(H, W, 4)``. Applying it twice gives the
    image back. The input is not modified.
    """
    image = _check_image(image, allow_grey=True)
    result = numpy.invert(image)  # bitwise NOT of a uint8 is 255 - v, as OpenCV's ~ operator
    if image.ndim == 3 and image.shape[2] == 4:
        result[..., 3] = image[..., 3]
    return result


def count_colours(image: numpy.ndarray) -> int:
    """How many different colours (RGB triples, ignoring alpha) ``image`` uses."""
    image = _check_image(image, allow_grey=False)
    rgb = image[..., :3].reshape(-1, 3).astype(numpy.uint32)
    return len(numpy.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]))


def colour_error(original: numpy.ndarray, changed: numpy.ndarray) -> float:
    """How different two uint8 RGB(A) images look: the mean CIELAB distance (CIE76 ΔE) between their pixels.

    CIELAB is built so that equal distances look about equally different to people; a ΔE of about
    2.3 is just noticeable side by side. Alpha is ignored. Uses scikit-image's ``rgb2lab`` and
    ``deltaE_cie76``.
    """
    from skimage.color import deltaE_cie76, rgb2lab

    original = _check_image(original, allow_grey=False)
    changed = _check_image(changed, allow_grey=False)
    if original.shape[:2] != changed.shape[:2]:
        raise ValueError(f"the images must have the same size, not {original.shape[:2]} and {changed.shape[:2]}")
    return float(deltaE_cie76(rgb2lab(original[..., :3]), rgb2lab(changed[..., :3])).mean())


@dataclass(frozen=True)
class ColourReduction:
    """The result of :func:`reduce_colours`.

    ``image`` is the reduced image (same shape and dtype as the input); ``centres`` the ``k`` cluster
    colours (float32, RGB); ``labels`` each pixel's cluster, shape ``(H, W)``; ``distortion`` the mean
    squared RGB distance from a pixel to its centre (OpenCV's compactness divided by the pixel count);
    ``seconds`` the wall time of clustering and painting.
    """

    image: numpy.ndarray
    centres: numpy.ndarray
    labels: numpy.ndarray
    distortion: float
    seconds: float

    @property
    def k(self) -> int:
        """The number of clusters asked for."""
        return len(self.centres)


def _check_k(k, n_pixels: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"k must be a whole number of colours, not {k!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1 (the number of colours to keep), not {k}")
    if k > n_pixels:
        raise ValueError(f"k={k} is more clusters than the image has pixels ({n_pixels}); use k <= {n_pixels}")
    return int(k)


def reduce_colours(image: numpy.ndarray, k: int, *, max_iter: int = 50, eps: float = 1e-3,
                   attempts: int = 1, seed: int = 0) -> ColourReduction:
    """Reduce ``image`` (uint8 RGB or RGBA) to at most ``k`` colours with ``cv2.kmeans``.

    Every pixel's RGB is one point; k-means++ picks the starting centres, and k-means runs until
    ``max_iter`` iterations or until no centre moves more than ``eps``; the best of ``attempts`` runs is
    kept. Each pixel is then replaced by its centre (rounded to uint8; alpha kept), in one indexing
    expression, ``centres[labels]``. The same ``seed`` gives the same result.
    """
    image = _check_image(image, allow_grey=False)
    height, width = image.shape[:2]
    start = time.perf_counter()
    labels, centres, distortion = _kmeans(image[..., :3].reshape(-1, 3), k, max_iter=max_iter, eps=eps,
                                          attempts=attempts, seed=seed)
    labels = labels.reshape(height, width)
    palette = numpy.clip(numpy.rint(centres), 0, 255).astype(numpy.uint8)
    reduced = image.copy()
    reduced[..., :3] = palette[labels]
    seconds = time.perf_counter() - start
    return ColourReduction(reduced, centres, labels, distortion, seconds)


def _kmeans(points, k, *, max_iter: int, eps: float, attempts: int,
            seed: int) -> tuple[numpy.ndarray, numpy.ndarray, float]:
    """``cv2.kmeans`` of ``points`` (N, D), k-means++ start: labels (N,), centres (k, D), mean squared distance."""
    points = numpy.asarray(points)
    if points.ndim != 2 or not len(points) or points.dtype.kind not in "biuf":
        raise ValueError(f"points must be numbers, one row per point (N, D), not {points.dtype} of shape "
                         f"{points.shape}")
    k = _check_k(k, len(points))
    if max_iter < 1 or attempts < 1:
        raise ValueError(f"max_iter and attempts must be at least 1, got {max_iter} and {attempts}")
    criteria = (cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, max_iter, eps)
    cv2.setRNGSeed(seed)
    compactness, labels, centres = cv2.kmeans(numpy.ascontiguousarray(points, dtype=numpy.float32), k, None,
                                              criteria, attempts, cv2.KMEANS_PP_CENTERS)
    return labels.ravel(), centres, float(compactness) / len(points)


def cluster_colours(points, k: int, *, max_iter: int = 50, eps: float = 1e-3, attempts: int = 1,
                    seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """k-means of any colours, one per row of ``points`` (N, 3), in whatever space they are given.

    Returns ``(labels, centres)``: each point's cluster (N,) and the ``k`` centres (k, 3), float32,
    in the points' own space, so ``centres[labels]`` paints every point with its centre. The same
    clustering as :func:`reduce_colours` (``cv2.kmeans``, k-means++ start, the same stopping rule
    and ``seed``), but for points that are not uint8 RGB, e.g. the floats of a CIELAB image.
    """
    labels, centres, _ = _kmeans(points, k, max_iter=max_iter, eps=eps, attempts=attempts, seed=seed)
    return labels, centres


@dataclass(frozen=True)
class KSweep:
    """Cost and quality of :func:`reduce_colours` for several ``k`` on several images.

    ``seconds[i, j]`` and ``distortion[i, j]`` belong to ``ks[i]`` and image ``j``.
    """

    ks: numpy.ndarray
    seconds: numpy.ndarray
    distortion: numpy.ndarray
    names: tuple[str, ...]

    def mean_seconds(self) -> numpy.ndarray:
        """Wall time per image for each k, averaged over the images."""
        return self.seconds.mean(axis=1)


def sweep_k(images: Sequence[numpy.ndarray], ks: Sequence[int], *, names: Sequence[str] | None = None,
            repeats: int = 1, progress: bool = True, **kmeans) -> KSweep:
    """Time :func:`reduce_colours` and record its distortion for every ``k`` in ``ks`` on every image.

    Each timing is the fastest of ``repeats`` runs (the least disturbed by other programs); the
    remaining keyword arguments go to :func:`reduce_colours`.
    """
    from tqdm.auto import tqdm

    if not images:
        raise ValueError("give at least one image to sweep")
    if not ks:
        raise ValueError("give at least one k to sweep")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    names = tuple(names) if names is not None else tuple(f"image {i}" for i in range(len(images)))
    if len(names) != len(images):
        raise ValueError(f"{len(names)} names for {len(images)} images")
    seconds = numpy.zeros((len(ks), len(images)))
    distortion = numpy.zeros((len(ks), len(images)))
    with tqdm(total=len(ks) * len(images), desc="k-means sweep", unit="run", disable=not progress) as bar:
        for i, k in enumerate(ks):
            for j, image in enumerate(images):
                runs = [reduce_colours(image, k, **kmeans) for _ in range(repeats)]
                seconds[i, j] = min(run.seconds for run in runs)
                distortion[i, j] = runs[0].distortion
                bar.set_postfix(k=k, refresh=False)
                bar.update()
    return KSweep(numpy.asarray(ks), seconds, distortion, names)


def colour_reduction_slider(image: numpy.ndarray, *, k: int = 8, k_max: int = 64, seed: int = 0):
    """An ipywidgets slider for ``k`` that redraws :func:`reduce_colours` of ``image`` next to the original.

    It draws once at ``k`` when displayed, and again only when the slider is released, so it never
    waits for input (a notebook run top to bottom, as in CI, just shows the first picture).
    """
    import ipywidgets
    import matplotlib.pyplot as plt

    image = _check_image(image, allow_grey=False)
    k_max = _check_k(k_max, image.shape[0] * image.shape[1])
    if not 1 <= k <= k_max:
        raise ValueError(f"the starting k={k} must lie between 1 and k_max={k_max}")

    def draw(k: int) -> None:
        reduced = reduce_colours(image, k, seed=seed)
        figure, axes = plt.subplots(1, 2, figsize=(8, 4))
        for ax, picture, title in zip(axes, (image, reduced.image),
                                      ("original", f"k = {k}: {reduced.seconds * 1000:.0f} ms")):
            ax.imshow(picture)
            ax.set_title(title)
            ax.axis("off")
        figure.tight_layout()
        plt.show()

    slider = ipywidgets.IntSlider(value=k, min=1, max=k_max, description="k", continuous_update=False)
    return ipywidgets.interactive(draw, k=slider)
