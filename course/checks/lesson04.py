"""Lesson 4 (faces) exercise checkers: IoU by hand, non-max suppression, counting windows, the rotations."""
from __future__ import annotations

import numpy

from course.checks import Wrong, as_number, call_answer, checker, require_function, whole_number
from course.detection import SEED_SCALES, count_windows, non_max_suppression
from course.metrics import box_iou

# (description, box a, box b) as (x0, y0, x1, y1); x1 = x0 + width.
_IOU_CASES = [
    ("two boxes overlapping by a corner", (0, 0, 10, 10), (5, 5, 15, 15)),
    ("a box and itself", (3, 4, 13, 24), (3, 4, 13, 24)),
    ("a small box inside a big one", (0, 0, 10, 10), (2, 2, 6, 6)),
    ("two boxes far apart", (0, 0, 10, 10), (20, 30, 30, 40)),
    ("two boxes that only touch along an edge", (0, 0, 10, 10), (10, 0, 20, 10)),
    ("two wide boxes side by side, half overlapping", (0, 0, 20, 10), (10, 0, 30, 10)),
]


def _iou_plus_one(a, b) -> float:
    """IoU with the "+1 pixel" convention (x1 counted inclusive): a common mix-up."""
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = w * h
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _iou_unclipped(a, b) -> float:
    """IoU without clipping negative overlaps at 0: disjoint boxes get a positive 'intersection'."""
    inter = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    union = area(a) + area(b) - inter
    return inter / union if union else float("inf")


def _intersection_over_sum(a, b) -> float:
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b))


@checker("your IoU function")
def check_iou(iou_function) -> None:
    """``iou_function(a, b)`` must return the IoU of two boxes given as (x0, y0, x1, y1)."""
    require_function(iou_function, "check_iou(my_iou)")
    answers = []
    for description, a, b in _IOU_CASES:
        hint = (". Boxes that do not meet have IoU 0: clip each overlap (min(x1) - max(x0), and the same in y) "
                "at 0 before multiplying" if description == "two boxes far apart" else "")
        result = call_answer(iou_function, a, b, case=f"{description} {a}, {b}", hint=hint)
        answers.append(as_number(result, f"on {description} it returned {result!r}; return one number, the IoU"))
    expected = [box_iou(a, b) for _, a, b in _IOU_CASES]
    wrong = [i for i, (got, want) in enumerate(zip(answers, expected)) if not abs(got - want) <= 1e-6]
    if not wrong:
        return
    matches = lambda alternative: all(  # noqa: E731
        abs(got - alternative(a, b)) <= 1e-6 for got, (_, a, b) in zip(answers, _IOU_CASES))
    if matches(_iou_plus_one):
        raise Wrong("you counted x1 and y1 as pixels inside the box (+1). Here x1 = x0 + width, so a box "
                    "(0, 0, 10, 10) is 10 pixels wide and covers 100 square pixels")
    if matches(_intersection_over_sum):
        raise Wrong("you divided by the sum of the two areas; the union counts the overlap once: "
                    "area(a) + area(b) - intersection")
    if matches(_iou_unclipped) or answers[3] > 0:
        raise Wrong("boxes that do not meet have IoU 0: when min(x1) - max(x0) (or the same in y) is "
                    "negative, the overlap is 0, so clip each side at 0 before multiplying")
    description, a, b = _IOU_CASES[wrong[0]]
    raise Wrong(f"on {description} {a}, {b} it returned {answers[wrong[0]]:g}, expected {expected[wrong[0]]:g}. "
                f"Intersection: overlap in x times overlap in y; union: area(a) + area(b) - intersection")


def _nms_cases():
    """(description, boxes, scores, threshold). Each case is chosen to catch one mistake."""
    return [
        ("three boxes on one face and one elsewhere",
         numpy.array([[0, 0, 10, 10], [1, 1, 11, 11], [30, 30, 40, 40], [2, 0, 12, 10]], float),
         numpy.array([0.6, 0.9, 0.8, 0.7]), 0.3),
        ("a chain: A overlaps B, B overlaps C, but A does not overlap C",
         numpy.array([[0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]], float),
         numpy.array([0.9, 0.8, 0.7]), 0.3),
        ("two boxes whose IoU is exactly the threshold (0.3)",
         numpy.array([[0, 0, 10, 10], [0, 0, 10, 3]], float), numpy.array([0.9, 0.5]), 0.3),
        ("boxes that do not overlap at all", numpy.array([[0, 0, 5, 5], [10, 10, 15, 15]], float),
         numpy.array([0.2, 0.4]), 0.3),
    ]


def _as_indices(result, n: int, description: str) -> list[int]:
    array = numpy.asarray(result)
    if array.ndim == 2 and array.shape[1:] == (4,):
        raise Wrong(f"on {description} it returned boxes; return the indices of the boxes kept, e.g. [1, 2]")
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise Wrong(f"on {description} it returned {result!r}; return a list of whole-number indices, e.g. [1, 2]")
    indices = [int(i) for i in array]
    if any(i < 0 or i >= n for i in indices) or len(set(indices)) != len(indices):
        raise Wrong(f"on {description} it returned {indices}: each index must appear once and lie in 0..{n - 1}")
    return indices


@checker("your non-max suppression")
def check_nms(nms_function) -> None:
    """``nms_function(boxes, scores, threshold)`` must return the indices the seed's greedy suppression keeps."""
    require_function(nms_function, "check_nms(my_nms)")
    for description, boxes, scores, threshold in _nms_cases():
        result = call_answer(nms_function, boxes.copy(), scores.copy(), threshold, case=description)
        got = sorted(_as_indices(result, len(boxes), description))
        want = sorted(non_max_suppression(boxes, scores, threshold).tolist())
        if got == want:
            continue
        if description.startswith("a chain"):
            raise Wrong(f"on {description} it kept {got}, expected {want}: a box that was suppressed suppresses "
                        f"nothing. Compare each box only with the boxes you already kept")
        if description.startswith("two boxes whose IoU"):
            raise Wrong(f"on {description} it kept {got}, expected {want}: suppress when IoU >= threshold "
                        f"(the seed's rule: 30% overlap or more is the same face)")
        if description.startswith("three boxes") and 0 in got and 1 not in got:
            raise Wrong(f"on {description} it kept {got}, expected {want}: visit the boxes from the highest "
                        f"score down (numpy.argsort(-scores)), not in the order they come")
        raise Wrong(f"on {description} it kept {got}, expected {want}. Take the highest-scoring box left, keep "
                    f"it, drop the boxes overlapping it by IoU >= threshold, repeat")


@checker("the number of windows")
def check_window_count(answer, width: int = 320, height: int = 240, scales=SEED_SCALES) -> None:
    """``answer`` = how many windows the (size, stride) ``scales`` cut from a ``width`` x ``height`` image."""
    answer = whole_number(answer)
    expected = count_windows(width, height, scales)
    if answer == expected:
        return
    per_scale = {size: count_windows(width, height, [(size, stride)]) for size, stride in scales}
    if answer in per_scale.values():
        raise Wrong(f"that is one scale only; add the windows of all {len(scales)} (size, stride) pairs")
    no_plus_one = sum(((width - s) // st) * ((height - s) // st) for s, st in scales)
    if answer == no_plus_one:
        raise Wrong("you forgot the first window: along a row there are (width - size) // stride + 1 positions, "
                    "the +1 being the window at x = 0")
    whole_image = sum((width // st) * (height // st) for _, st in scales)
    if answer == whole_image:
        raise Wrong("width // stride counts starts that would run off the image; a window must fit: "
                    "(width - size) // stride + 1 per row")
    raise Wrong(f"count, for each (size, stride): (width - size) // stride + 1 positions across times "
                f"(height - size) // stride + 1 down, then add the {len(scales)} scales")


def _rotation_images() -> tuple[numpy.ndarray, numpy.ndarray]:
    """Three 1x4x4 images with no symmetry at all (every rotation and mirror differs), labels 1, 0, 1."""
    base = numpy.arange(16, dtype=numpy.float32).reshape(4, 4) ** 1.5
    images = numpy.stack([base, base.T[::-1] + 100, base[::-1] * 2 + 7])[:, None]
    return images, numpy.array([1, 0, 1], numpy.int32)


@checker("your rotation augmentation")
def check_rotations(rotate_function) -> None:
    """``rotate_function(images, labels)`` must return every image at 0, 90, 180 and 270 degrees, labels repeated."""
    require_function(rotate_function, "check_rotations(my_rotations)")
    images, labels = _rotation_images()
    result = call_answer(rotate_function, images.copy(), labels.copy(), case="3 images of shape (3, 1, 4, 4)")
    if not isinstance(result, tuple) or len(result) != 2:
        raise Wrong("return two arrays, (images, labels)")
    out_images, out_labels = (numpy.asarray(a) for a in result)
    if out_images.shape != (12, 1, 4, 4):
        if out_images.shape == (9, 1, 4, 4):
            raise Wrong("you returned 3 copies per image; keep the originals too (0 degrees): data x 4")
        raise Wrong(f"for 3 images of shape (1, 4, 4) return 12 images of shape (1, 4, 4), not {out_images.shape}. "
                    f"Turn the last two axes: numpy.rot90(images, k, axes=(2, 3))")
    if out_labels.shape != (12,):
        raise Wrong(f"return one label per image: 12 labels, not shape {out_labels.shape}")
    rotations = {(i, k): numpy.rot90(images[i, 0], k) for i in range(3) for k in range(4)}
    mirrors = {(i, k): numpy.rot90(images[i, 0].T, k) for i in range(3) for k in range(4)}
    found = []
    for image, label in zip(out_images[:, 0], out_labels):
        match = [key for key, value in rotations.items() if numpy.array_equal(value, image)]
        if not match:
            if any(numpy.array_equal(value, image) for value in mirrors.values()):
                raise Wrong("one of your images is a mirror image (a flip or a transpose), not a rotation; "
                            "a face turned round is never mirrored. Use numpy.rot90")
            raise Wrong("one of your images is not a rotation of an input image; turn the last two axes "
                        "with numpy.rot90(images, k, axes=(2, 3))")
        i, k = match[0]
        if label != labels[i]:
            raise Wrong(f"an image turned by {90 * k} degrees has label {label}, but the original has {labels[i]}: "
                        f"repeat the labels in the same order as the images, e.g. numpy.tile(labels, 4)")
        found.append(match[0])
    if len(set(found)) != 12:
        missing = sorted({90 * k for k in range(4)} - {90 * k for _, k in found})
        missing_text = f" (missing: {missing} degrees)" if missing else ""
        raise Wrong(f"some rotations appear twice and others never{missing_text}; "
                    f"give each image at 0, 90, 180 and 270 degrees once")
