"""Faces and non-faces: a learner's own folder, or real images that scikit-image and matplotlib ship.

Sources, as ``load_faces(source)`` takes them:

1. a folder path: ``FOLDER/face/`` and ``FOLDER/nonface/``, each holding image files (any format
   OpenCV reads), e.g. the crops :func:`crops_from_frames` cut from a learner's own video frames,
   as the seed built its anime set.
2. ``offline`` (what ``auto`` means here): scikit-image's Labeled Faces in the Wild subset (200
   real 25x25 grey crops: 100 faces, 100 non-faces), plus non-face crops cut at random from the
   real photos of :data:`TRAINING_PHOTOS`, which scikit-image and matplotlib ship. Photos with a
   person's face in them (Grace Hopper's portrait; in the validation scenes the cameraman and the
   astronaut) are used only below the face.

Every source is split three ways, each kind on its own (stratified, seeded): a fifth held out for
the **test** (the final figures, used once), a tenth for **validation** (where settings are
chosen), the rest to **train** on (:data:`SPLITS`).

Detection scenes paste one split's faces *and* its non-face crops, as feathered squares, into
photos of the same split (:meth:`FaceData.scenes`): the training photos for mining, the photos of
:data:`VALIDATION_PHOTOS` and :data:`TEST_PHOTOS` (never cut into training crops) for the others.

Images are grey, float32 in [0, 1], shaped (N, 1, size, size); labels are int32, 1 for a face and
0 for anything else (:data:`CLASS_NAMES`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy

from course.data.photos import load_photo
from course.files import DataError
from course.images import folder_files, read_grey, resize, to_grey, write_image

CLASS_NAMES = ("non-face", "face")
SOURCES = ("auto", "offline")
FOLDERS = ("face", "nonface")
HELD_OUT_FRACTION = 0.2
"""The fraction of each kind held out for the test."""
VALIDATION_FRACTION = 0.1
"""The fraction of each kind kept for validation: not trained on, not the test."""
SPLITS = ("train", "validation", "test")

# Photos, as (name, rows kept): rows are cut where a photo holds a face.
TRAINING_PHOTOS: dict[str, slice] = {
    "brick": slice(None), "cell": slice(None), "clock": slice(None), "coins": slice(None), "grass": slice(None),
    "gravel": slice(None), "horse": slice(None), "hubble_deep_field": slice(None),
    "immunohistochemistry": slice(None), "moon": slice(None), "page": slice(None), "retina": slice(None),
    "text": slice(None), "logo": slice(None), "colorwheel": slice(None), "grace_hopper": slice(340, None),
    "present": slice(None),
}
"""Where the training non-face crops and the mining scenes come from."""
VALIDATION_PHOTOS: dict[str, slice] = {
    "chelsea": slice(None), "camera": slice(260, None), "astronaut": slice(260, None),
}
"""The validation scenes' backgrounds: never cut into training crops, never in a test scene."""
TEST_PHOTOS = ("coffee", "rocket", "motorcycle")
"""The test scenes' backgrounds: used nowhere else."""
FEATHER = 0.15
"""The soft border of every pasted square, as a fraction of its side (see :func:`paste_square`)."""
SCENE_SEEDS = {"train": 100, "validation": 200, "test": 300}
"""The default seed of each split's scenes (different, so no two splits share a layout)."""


@dataclass(frozen=True)
class FaceData:
    """Training, validation and test crops ``(images, labels)``, with where they came from."""

    train: tuple[numpy.ndarray, numpy.ndarray]
    validation: tuple[numpy.ndarray, numpy.ndarray]
    test: tuple[numpy.ndarray, numpy.ndarray]
    source: str
    description: str

    @property
    def size(self) -> int:
        """The side of the square crops, in pixels."""
        return int(self.train[0].shape[-1])

    def split(self, name: str) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The crops ``(images, labels)`` of the split ``name``, one of :data:`SPLITS`."""
        if name not in SPLITS:
            raise ValueError(f"no split named {name!r}; the splits are {', '.join(SPLITS)}")
        return getattr(self, name)

    def faces(self, split: str) -> numpy.ndarray:
        """The face crops of ``split`` (one of :data:`SPLITS`), (N, size, size)."""
        x, t = self.split(split)
        return x[t == 1, 0]

    def nonfaces(self, split: str) -> numpy.ndarray:
        """The non-face crops of ``split`` (one of :data:`SPLITS`), (N, size, size)."""
        x, t = self.split(split)
        return x[t == 0, 0]

    def scenes(self, split: str, n: int, *, seed: int | None = None, **options) -> list[Scene]:
        """``n`` scenes of one split: its faces and non-face crops pasted into its photos (:func:`make_scenes`).

        Train scenes are for mining, validation scenes for choosing settings, test scenes for the
        final figures; each split's photos are its own (:func:`scene_photos`), so no scene shares a
        face, a non-face crop or a photo with a scene of another split. ``seed`` defaults to the
        split's own (:data:`SCENE_SEEDS`); ``options`` go to :func:`make_scenes`.
        """
        return make_scenes(self.faces(split), n, nonfaces=self.nonfaces(split), photos=scene_photos(split),
                           seed=SCENE_SEEDS[split] if seed is None else seed, **options)


# ----------------------------------------------------------------------------------------------
# Photos (grey levels, reading and resizing come from course.images)
# ----------------------------------------------------------------------------------------------

_FOLDER_FIX = "Remove it from the folder, or convert it to PNG or JPEG."


def training_photos() -> list[numpy.ndarray]:
    """The photos of :data:`TRAINING_PHOTOS` (grey, faces cut away): where non-face crops come from."""
    return [photo(name)[rows] for name, rows in TRAINING_PHOTOS.items()]


def scene_photos(split: str) -> list[numpy.ndarray]:
    """The backgrounds of ``split``'s scenes (grey, faces cut away): :data:`TRAINING_PHOTOS` for ``train``
    (mining), :data:`VALIDATION_PHOTOS` for ``validation``, :data:`TEST_PHOTOS` for ``test``."""
    if split not in SPLITS:
        raise ValueError(f"no split named {split!r}; the splits are {', '.join(SPLITS)}")
    if split == "train":
        return training_photos()
    if split == "validation":
        return [photo(name)[rows] for name, rows in VALIDATION_PHOTOS.items()]
    return [photo(name) for name in TEST_PHOTOS]


def photo(name: str) -> numpy.ndarray:
    """A real photo shipped with the installed packages (one of :data:`course.data.photos.PHOTOS`), grey."""
    return to_grey(load_photo(name, rgb=False))


# ----------------------------------------------------------------------------------------------
# Crops and rotations
# ----------------------------------------------------------------------------------------------

def random_crops(photos: Sequence[numpy.ndarray], n: int, size: int, *, seed: int = 0,
                 smallest: int = 24) -> numpy.ndarray:
    """``n`` square crops of ``photos`` (sides from ``smallest`` to the shorter side), resized to ``size``.

    Returns float32 (n, size, size). Photos are taken in turn, so each gives about ``n / len(photos)``.
    """
    rng = numpy.random.RandomState(seed)
    crops = numpy.empty((n, size, size), numpy.float32)
    for i in range(n):
        image = photos[i % len(photos)]
        h, w = image.shape
        top = min(h, w)
        if top < smallest:
            raise ValueError(f"a photo of {w}x{h} is smaller than the smallest crop ({smallest}); pass larger photos")
        side = int(numpy.exp(rng.uniform(numpy.log(smallest), numpy.log(top))))  # as many small crops as large
        y, x = rng.randint(0, h - side + 1), rng.randint(0, w - side + 1)
        crops[i] = resize(image[y:y + side, x:x + side], size)
    return crops


def rotate_90s(images: numpy.ndarray, labels: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The seed's augmentation: every image as it is and turned by 90, 180 and 270 degrees (data x 4).

    ``images`` is (N, C, H, W) with H == W. The result holds the N originals, then the N images
    turned by 90 degrees (counter-clockwise), then 180, then 270; ``labels`` repeated the same way.
    """
    images, labels = numpy.asarray(images), numpy.asarray(labels)
    if images.ndim != 4 or images.shape[2] != images.shape[3]:
        raise ValueError(f"rotate_90s needs square images (N, C, H, H), not {images.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels; they must match one to one")
    turned = numpy.concatenate([numpy.rot90(images, k, axes=(2, 3)) for k in range(4)])
    return numpy.ascontiguousarray(turned), numpy.tile(labels, 4)


def _split(images: numpy.ndarray, labels: numpy.ndarray, held_out: float, validation: float, seed: int):
    """Train, validation and test parts: ``held_out`` and ``validation`` of each class (at least one each)
    picked at random, the rest shuffled for training."""
    rng = numpy.random.RandomState(seed)
    test_index, validation_index = [], []
    for c in numpy.unique(labels):
        members = rng.permutation(numpy.flatnonzero(labels == c))
        n_test = max(1, int(round(held_out * len(members))))
        n_validation = max(1, int(round(validation * len(members))))
        test_index.extend(members[:n_test])
        validation_index.extend(members[n_test:n_test + n_validation])
    mask = numpy.ones(len(labels), bool)
    mask[test_index + validation_index] = False
    train_index = rng.permutation(numpy.flatnonzero(mask))
    parts = train_index, numpy.sort(numpy.array(validation_index)), numpy.sort(numpy.array(test_index))
    return tuple((images[index], labels[index]) for index in parts)


def _as_batch(images: numpy.ndarray) -> numpy.ndarray:
    return numpy.ascontiguousarray(images[:, None], dtype=numpy.float32)


# ----------------------------------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------------------------------

def load_offline_faces(size: int = 24, *, nonface_crops: int = 400, seed: int = 0) -> FaceData:
    """LFW's 100 faces and 100 non-faces (scikit-image) plus ``nonface_crops`` crops of real photos.

    All are resized to ``size``. Each kind (LFW faces, LFW non-faces, photo crops) is split on its
    own: a fifth for the test, a tenth for validation, the rest for training. The crops come from
    :data:`TRAINING_PHOTOS` only; the validation and test photos are kept for the scenes.
    """
    import skimage.data

    lfw = skimage.data.lfw_subset().astype(numpy.float32)  # 200 x 25 x 25: 100 faces, then 100 non-faces
    lfw = numpy.stack([resize(image, size) for image in lfw])
    crops = random_crops(training_photos(), nonface_crops, size, seed=seed)
    kinds = [(lfw[:100], 1), (lfw[100:], 0), (crops, 0)]
    splits = [_split(images, numpy.full(len(images), label, numpy.int32), HELD_OUT_FRACTION, VALIDATION_FRACTION,
                     seed + i) for i, (images, label) in enumerate(kinds)]
    (x, t), (xv, tv), (xt, tt) = (
        (numpy.concatenate([parts[j][0] for parts in splits]), numpy.concatenate([parts[j][1] for parts in splits]))
        for j in range(3))
    order = numpy.random.RandomState(seed).permutation(len(t))
    return FaceData(
        (_as_batch(x[order]), t[order]), (_as_batch(xv), tv), (_as_batch(xt), tt), "offline",
        f"scikit-image's LFW subset (100 faces, 100 non-faces) + {nonface_crops} non-face crops of "
        f"{len(TRAINING_PHOTOS)} real photos, {size}x{size} grey: {len(t)} train / {len(tv)} validation / "
        f"{len(tt)} test ({int(t.sum())} / {int(tv.sum())} / {int(tt.sum())} faces)",
    )


def read_face_folder(root: str | os.PathLike, size: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Every image of ``root/face/`` (label 1) and ``root/nonface/`` (label 0), resized to ``size``.

    Returns ``(images, labels)``: float32 (N, 1, size, size) and int32. Raises :class:`DataError`
    naming the problem when ``root`` or a sub-folder is missing or empty, or a file is not an image.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder. Give a folder with the sub-folders {FOLDERS[0]}/ and {FOLDERS[1]}/.")
    images, labels = [], []
    for label, name in ((1, "face"), (0, "nonface")):
        folder = root / name
        if not folder.is_dir():
            raise DataError(f"{root} has no {name}/ sub-folder. Put face crops in {root / 'face'}/ and "
                            f"everything else in {root / 'nonface'}/.")
        files = folder_files(folder, not_a_folder="give a folder of image files",
                             empty="is empty: put image files of that class in it "
                                   "(see crops_from_frames to cut them from your own frames).")
        for path in files:
            images.append(resize(read_grey(path, fix=_FOLDER_FIX), size))
            labels.append(label)
    return _as_batch(numpy.stack(images)), numpy.array(labels, numpy.int32)


def load_face_folder(root: str | os.PathLike, size: int = 64, *, held_out: float = HELD_OUT_FRACTION,
                     validation: float = VALIDATION_FRACTION, seed: int = 0) -> FaceData:
    """Your own crops (see :func:`read_face_folder`): ``held_out`` of each class for the test, ``validation``
    for validation (stratified, seeded, at least one of each), the rest for training."""
    images, labels = read_face_folder(root, size)
    if min(numpy.bincount(labels, minlength=2)) < 3:
        raise DataError(f"{root} needs at least three images in each of face/ and nonface/ "
                        f"(one to train on, one to validate on, one to test on).")
    train, valid, test = _split(images, labels, held_out, validation, seed)
    return FaceData(train, valid, test, "folder",
                    f"your folder {root}, {size}x{size} grey: {len(train[1])} train / {len(valid[1])} validation / "
                    f"{len(test[1])} test ({int(test[1].sum())} test faces)")


def load_faces(source: str | os.PathLike = "auto", size: int = 24, *, nonface_crops: int = 400,
               verbose: bool = True) -> FaceData:
    """Face/non-face crops from ``source``: ``auto``/``offline`` (see the module docstring) or a folder path."""
    if str(source) in SOURCES:
        data = load_offline_faces(size, nonface_crops=nonface_crops)
    elif Path(source).exists():
        data = load_face_folder(source, size)
    else:
        raise ValueError(f"unknown faces source {str(source)!r}: use one of {', '.join(SOURCES)}, "
                         f"or the path of a folder with face/ and nonface/ sub-folders")
    if verbose:
        print(f"faces source: {data.description}")
    return data


# ----------------------------------------------------------------------------------------------
# The seed's procedure: cut a face/non-face set from your own frames with a cascade
# ----------------------------------------------------------------------------------------------

def crops_from_frames(frames: Iterable[str | os.PathLike], out: str | os.PathLike, detector, *,
                      nonface_per_frame: int = 3, seed: int = 0) -> dict[str, int]:
    """Cut ``out/face/`` and ``out/nonface/`` PNG crops from image files ``frames`` with ``detector``.

    ``detector`` is any detector of :mod:`course.detection` (e.g. ``CascadeDetector(
    "lbpcascade_animeface.xml")`` for anime frames). Each box it finds becomes a face crop; from frames
    where it finds nothing, ``nonface_per_frame`` random squares become non-face crops. As in the
    seed, look through both folders afterwards: delete the false faces, and move faces the cascade
    missed (its non-face crops) into ``face/``. Returns the number of crops written per folder.
    """
    out = Path(out)
    for name in FOLDERS:
        (out / name).mkdir(parents=True, exist_ok=True)
    rng = numpy.random.RandomState(seed)
    counts = {"face": 0, "nonface": 0}
    for path in map(Path, frames):
        image = read_grey(path)
        boxes = detector(image).boxes.round().astype(int)
        crops = {"face": [image[y0:y1, x0:x1] for x0, y0, x1, y1 in numpy.clip(boxes, 0, None)]}
        if not len(boxes):
            h, w = image.shape
            crops["nonface"] = []
            for _ in range(nonface_per_frame):
                side = rng.randint(min(24, h, w), min(h, w) + 1)
                y, x = rng.randint(0, h - side + 1), rng.randint(0, w - side + 1)
                crops["nonface"].append(image[y:y + side, x:x + side])
        for name, pieces in crops.items():
            for i, piece in enumerate(pieces):
                write_image(out / name / f"{path.stem}_{i}.png", piece)
                counts[name] += 1
    return counts


# ----------------------------------------------------------------------------------------------
# Scenes: faces and non-faces pasted into real photos at known places
# ----------------------------------------------------------------------------------------------

def _no_boxes() -> numpy.ndarray:
    return numpy.empty((0, 4), numpy.float32)


def _no_angles() -> numpy.ndarray:
    return numpy.empty(0, numpy.float32)


@dataclass(frozen=True)
class Scene:
    """A grey photo (H, W) with squares pasted in, boxes (K, 4) as (x0, y0, x1, y1) and angles in degrees.

    ``boxes`` and ``angles`` are the faces, the truth a detector is scored against;
    ``nonface_boxes`` and ``nonface_angles`` the non-face crops pasted the same way, so that being
    pasted tells a detector nothing.
    """

    image: numpy.ndarray
    boxes: numpy.ndarray
    angles: numpy.ndarray
    nonface_boxes: numpy.ndarray = field(default_factory=_no_boxes)
    nonface_angles: numpy.ndarray = field(default_factory=_no_angles)

    @property
    def tilted(self) -> numpy.ndarray:
        """Which faces are tilted (turned by more than 1 degree)."""
        return numpy.abs(self.angles) > 1


def feathered_mask(side: int, feather: float = FEATHER) -> numpy.ndarray:
    """A (side, side) alpha mask: 1 inside, falling linearly to 0 across the outer ``feather * side`` pixels.

    ``feather=0`` gives a hard-edged square of ones.
    """
    if not 0 <= feather <= 0.5:
        raise ValueError(f"feather is a fraction of the side between 0 and 0.5, not {feather}")
    centres = numpy.arange(side) + 0.5
    to_edge = numpy.minimum(centres, side - centres)  # each pixel centre's distance to the nearer edge
    ramp = numpy.clip(to_edge / (feather * side), 0, 1) if feather else numpy.ones(side)
    return numpy.minimum.outer(ramp, ramp).astype(numpy.float32)


def paste_square(image: numpy.ndarray, patch: numpy.ndarray, box: Sequence[float], angle: float = 0.0, *,
                 feather: float = FEATHER) -> None:
    """Paste ``patch`` (square, grey) into ``image`` in place, scaled to ``box`` and turned by ``angle`` degrees.

    ``box`` is a square (x0, y0, x1, y1); the patch turns about the box's centre (counter-clockwise
    for a positive angle) and only the turned square is pasted, so the photo shows in the corners.
    Its edges are blended into the photo over ``feather`` of its side (:func:`feathered_mask`), so
    no hard edge marks where something was pasted.
    """
    import cv2

    x0, y0, x1, y1 = map(float, box)
    side = x1 - x0
    if side <= 0 or abs((y1 - y0) - side) > 1e-6:
        raise ValueError(f"box {tuple(box)} is not a square with x1 > x0")
    if patch.ndim != 2 or patch.shape[0] != patch.shape[1]:
        raise ValueError(f"the patch must be a square grey image (S, S), not {patch.shape}")
    scale = side / patch.shape[0]
    matrix = cv2.getRotationMatrix2D((patch.shape[1] / 2, patch.shape[0] / 2), angle, scale)
    matrix[:, 2] += [(x0 + x1) / 2 - patch.shape[1] / 2, (y0 + y1) / 2 - patch.shape[0] / 2]
    h, w = image.shape
    pasted = cv2.warpAffine(patch.astype(numpy.float32), matrix, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(feathered_mask(patch.shape[0], feather), matrix, (w, h), flags=cv2.INTER_LINEAR)
    image *= 1 - mask
    image += pasted * mask


def _place_squares(rng: numpy.random.RandomState, count: int, sizes: tuple[int, int], width: int,
                   height: int) -> list[tuple[int, int, int, int]]:
    """``count`` squares with sides in ``sizes``, at random places inside ``width`` x ``height``, none overlapping.

    Squares are placed one by one; when one finds no room, the scene starts over (up to 50 times).
    """
    for _start in range(50):
        boxes: list[tuple[int, int, int, int]] = []
        for _ in range(count):
            for _attempt in range(200):
                side = rng.randint(sizes[0], sizes[1] + 1)
                x0, y0 = rng.randint(0, width - side + 1), rng.randint(0, height - side + 1)
                box = (x0, y0, x0 + side, y0 + side)
                if all(box[0] >= b[2] or b[0] >= box[2] or box[1] >= b[3] or b[1] >= box[3] for b in boxes):
                    boxes.append(box)
                    break
            else:
                break
        if len(boxes) == count:
            return boxes
    raise ValueError(f"could not place {count} squares of {sizes} px in a {width}x{height} scene without "
                     f"overlap; use fewer or smaller ones")


def _angles(rng: numpy.random.RandomState, count: int, tilt: tuple[float, float]) -> list[float]:
    """``count // 2`` upright (0), the others tilted by ``tilt[0]``-``tilt[1]`` degrees, either way."""
    return [0.0 if k < count // 2 else float(rng.choice([-1, 1]) * rng.uniform(*tilt)) for k in range(count)]


def make_scenes(faces: numpy.ndarray, n: int, *, nonfaces: numpy.ndarray | None = None,
                nonfaces_per_scene: int | None = None, width: int = 320, height: int = 240,
                faces_per_scene: int = 4, sizes: tuple[int, int] = (48, 96), tilt: tuple[float, float] = (30, 90),
                photos: Sequence[numpy.ndarray] | None = None, feather: float = FEATHER,
                seed: int = 0) -> list[Scene]:
    """``n`` scenes: crops of ``photos`` (grey; default: the test photos) with ``faces`` (N, S, S) pasted in.

    ``nonfaces`` (M, S, S), when given, are pasted in the same way, ``nonfaces_per_scene`` of them
    (default: as many as faces): same sizes, half upright, half tilted, same feathered edges, so a
    detector cannot tell a face by its being pasted. Of each kind, half (rounded down) stand upright;
    the others are tilted by a random angle between ``tilt[0]`` and ``tilt[1]`` degrees, either way.
    Sides are drawn from ``sizes``, places at random without overlap. Crops are used in turn, so pass
    the faces and non-faces of one split only (:meth:`FaceData.scenes` does).
    """
    faces = numpy.asarray(faces, numpy.float32)
    if faces.ndim != 3 or faces.shape[1] != faces.shape[2] or not len(faces):
        raise ValueError(f"faces must be square grey crops (N, S, S), not {faces.shape}")
    if nonfaces is not None:
        nonfaces = numpy.asarray(nonfaces, numpy.float32)
        if nonfaces.ndim != 3 or nonfaces.shape[1] != nonfaces.shape[2] or not len(nonfaces):
            raise ValueError(f"nonfaces must be square grey crops (M, S, S), not {nonfaces.shape}")
    n_nonfaces = 0 if nonfaces is None else faces_per_scene if nonfaces_per_scene is None else nonfaces_per_scene
    if sizes[1] > min(width, height):
        raise ValueError(f"squares of up to {sizes[1]} px do not fit a {width}x{height} scene")
    rng = numpy.random.RandomState(seed)
    backgrounds = scene_photos("test") if photos is None else [to_grey(p) for p in photos]
    scenes, next_face, next_nonface = [], 0, 0
    for i in range(n):
        background = backgrounds[i % len(backgrounds)]
        zoom = max(width / background.shape[1], height / background.shape[0]) * rng.uniform(1.0, 1.5)
        h, w = background.shape
        big = resize(background, (int(numpy.ceil(w * zoom)), int(numpy.ceil(h * zoom))))
        y, x = rng.randint(0, big.shape[0] - height + 1), rng.randint(0, big.shape[1] - width + 1)
        image = numpy.ascontiguousarray(big[y:y + height, x:x + width])
        places = _place_squares(rng, faces_per_scene + n_nonfaces, sizes, width, height)
        is_face = rng.permutation(numpy.arange(len(places)) < faces_per_scene)  # faces and non-faces anywhere
        face_boxes = [box for box, face in zip(places, is_face) if face]
        nonface_boxes = [box for box, face in zip(places, is_face) if not face]
        face_angles, nonface_angles = _angles(rng, len(face_boxes), tilt), _angles(rng, len(nonface_boxes), tilt)
        for box, angle in zip(face_boxes, face_angles):
            paste_square(image, faces[next_face % len(faces)], box, angle, feather=feather)
            next_face += 1
        for box, angle in zip(nonface_boxes, nonface_angles):
            paste_square(image, nonfaces[next_nonface % len(nonfaces)], box, angle, feather=feather)
            next_nonface += 1
        scenes.append(Scene(image, numpy.array(face_boxes, numpy.float32).reshape(-1, 4),
                            numpy.array(face_angles, numpy.float32),
                            numpy.array(nonface_boxes, numpy.float32).reshape(-1, 4),
                            numpy.array(nonface_angles, numpy.float32)))
    return scenes
