"""Faces and non-faces: a learner's own folder, or real images that scikit-image and matplotlib ship.

Sources, as ``load_faces(source)`` takes them:

1. a folder path: ``FOLDER/face/`` and ``FOLDER/nonface/``, each holding image files (any format
   OpenCV reads), e.g. the crops :func:`crops_from_frames` cut from a learner's own video frames,
   as the seed built its anime set. A fifth of each class (stratified, seeded) is held out.
2. ``offline`` (what ``auto`` means here): scikit-image's Labeled Faces in the Wild subset (200
   real 25x25 grey crops: 100 faces, 100 non-faces), plus non-face crops cut at random from real
   photos that scikit-image and matplotlib ship. Photos with a person's face in them (the
   astronaut, the cameraman, Grace Hopper) are used only below the face. The photos in
   :data:`SCENE_PHOTOS` are kept out of training: the detection scenes are built on them.

Images are grey, float32 in [0, 1], shaped (N, 1, size, size); labels are int32, 1 for a face and
0 for anything else (:data:`CLASS_NAMES`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy

from course.data.photos import load_photo
from course.files import DataError
from course.images import read_grey, resize, to_grey, write_image

CLASS_NAMES = ("non-face", "face")
SOURCES = ("auto", "offline")
FOLDERS = ("face", "nonface")
HELD_OUT_FRACTION = 0.2

# Photos for training non-faces: (name, rows kept). Rows are cut where a photo holds a face.
TRAINING_PHOTOS: dict[str, slice] = {
    "brick": slice(None), "camera": slice(260, None), "cell": slice(None), "chelsea": slice(None),
    "clock": slice(None), "coins": slice(None), "grass": slice(None), "gravel": slice(None),
    "horse": slice(None), "hubble_deep_field": slice(None), "immunohistochemistry": slice(None),
    "moon": slice(None), "page": slice(None), "retina": slice(None), "text": slice(None),
    "logo": slice(None), "colorwheel": slice(None), "astronaut": slice(260, None),
    "grace_hopper": slice(340, None), "present": slice(None),
}
# Photos kept apart for the detection scenes: never cut into training crops.
SCENE_PHOTOS = ("coffee", "rocket", "motorcycle")


@dataclass(frozen=True)
class FaceData:
    """Training and held-out crops ``(images, labels)``, with where they came from."""

    train: tuple[numpy.ndarray, numpy.ndarray]
    test: tuple[numpy.ndarray, numpy.ndarray]
    source: str
    description: str

    @property
    def size(self) -> int:
        """The side of the square crops, in pixels."""
        return int(self.train[0].shape[-1])

    def training_faces(self) -> numpy.ndarray:
        """The training face crops, (N, size, size): for scenes to mine hard negatives from."""
        x, t = self.train
        return x[t == 1, 0]

    def held_out_faces(self) -> numpy.ndarray:
        """The held-out face crops, (N, size, size): the faces the detection scenes are built from."""
        x, t = self.test
        return x[t == 1, 0]


# ----------------------------------------------------------------------------------------------
# Photos (grey levels, reading and resizing come from course.images)
# ----------------------------------------------------------------------------------------------

_FOLDER_FIX = "Remove it from the folder, or convert it to PNG or JPEG."


def training_photos() -> list[numpy.ndarray]:
    """The photos of :data:`TRAINING_PHOTOS` (grey, faces cut away): where non-face crops come from."""
    return [photo(name)[rows] for name, rows in TRAINING_PHOTOS.items()]


def scene_photos() -> list[numpy.ndarray]:
    """The photos of :data:`SCENE_PHOTOS` (grey), kept out of training for the test scenes."""
    return [photo(name) for name in SCENE_PHOTOS]


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


def _split(images: numpy.ndarray, labels: numpy.ndarray, fraction: float, seed: int):
    """Hold out ``fraction`` of each class (at least one), picked at random; shuffle the training part."""
    rng = numpy.random.RandomState(seed)
    test_index = []
    for c in numpy.unique(labels):
        members = rng.permutation(numpy.flatnonzero(labels == c))
        test_index.extend(members[:max(1, int(round(fraction * len(members))))])
    mask = numpy.ones(len(labels), bool)
    mask[test_index] = False
    train_index = rng.permutation(numpy.flatnonzero(mask))
    test_index = numpy.sort(numpy.array(test_index))
    return (images[train_index], labels[train_index]), (images[test_index], labels[test_index])


def _as_batch(images: numpy.ndarray) -> numpy.ndarray:
    return numpy.ascontiguousarray(images[:, None], dtype=numpy.float32)


# ----------------------------------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------------------------------

def load_offline_faces(size: int = 24, *, nonface_crops: int = 400, seed: int = 0) -> FaceData:
    """LFW's 100 faces and 100 non-faces (scikit-image) plus ``nonface_crops`` crops of real photos.

    All are resized to ``size``. A fifth of each kind (LFW faces, LFW non-faces, photo crops) is held
    out; the photos of :data:`SCENE_PHOTOS` are not used at all.
    """
    import skimage.data

    lfw = skimage.data.lfw_subset().astype(numpy.float32)  # 200 x 25 x 25: 100 faces, then 100 non-faces
    lfw = numpy.stack([resize(image, size) for image in lfw])
    crops = random_crops(training_photos(), nonface_crops, size, seed=seed)
    parts = [(lfw[:100], 1), (lfw[100:], 0), (crops, 0)]
    trains, tests = [], []
    for i, (images, label) in enumerate(parts):
        train, test = _split(images, numpy.full(len(images), label, numpy.int32), HELD_OUT_FRACTION, seed + i)
        trains.append(train)
        tests.append(test)
    rng = numpy.random.RandomState(seed)
    order = rng.permutation(sum(len(labels) for _, labels in trains))
    x = numpy.concatenate([images for images, _ in trains])[order]
    t = numpy.concatenate([labels for _, labels in trains])[order]
    xv = numpy.concatenate([images for images, _ in tests])
    tv = numpy.concatenate([labels for _, labels in tests])
    return FaceData(
        (_as_batch(x), t), (_as_batch(xv), tv), "offline",
        f"scikit-image's LFW subset (100 faces, 100 non-faces) + {nonface_crops} non-face crops of "
        f"{len(TRAINING_PHOTOS)} real photos, {size}x{size} grey: {len(t)} train / {len(tv)} held out "
        f"({int(tv.sum())} faces)",
    )


def _image_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"{folder} is empty: put image files of that class in it "
                        f"(see crops_from_frames to cut them from your own frames).")
    return files


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
        for path in _image_files(folder):
            images.append(resize(read_grey(path, fix=_FOLDER_FIX), size))
            labels.append(label)
    return _as_batch(numpy.stack(images)), numpy.array(labels, numpy.int32)


def load_face_folder(root: str | os.PathLike, size: int = 64, *, held_out: float = HELD_OUT_FRACTION,
                     seed: int = 0) -> FaceData:
    """Your own crops (see :func:`read_face_folder`), with ``held_out`` of each class held out (stratified, seeded)."""
    images, labels = read_face_folder(root, size)
    if min(numpy.bincount(labels, minlength=2)) < 2:
        raise DataError(f"{root} needs at least two images in each of face/ and nonface/ "
                        f"(one to train on, one to hold out).")
    train, test = _split(images, labels, held_out, seed)
    return FaceData(train, test, "folder",
                    f"your folder {root}, {size}x{size} grey: {len(train[1])} train / {len(test[1])} held out "
                    f"({int(test[1].sum())} faces)")


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
# Test scenes: held-out faces pasted into real photos at known places
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scene:
    """A grey photo (H, W) with faces pasted in: their boxes (K, 4) as (x0, y0, x1, y1) and angles (degrees)."""

    image: numpy.ndarray
    boxes: numpy.ndarray
    angles: numpy.ndarray

    @property
    def tilted(self) -> numpy.ndarray:
        """Which faces are tilted (turned by more than 1 degree)."""
        return numpy.abs(self.angles) > 1


def paste_face(image: numpy.ndarray, face: numpy.ndarray, box: Sequence[float], angle: float = 0.0) -> None:
    """Paste ``face`` (square, grey) into ``image`` in place, scaled to ``box`` and turned by ``angle`` degrees.

    ``box`` is a square (x0, y0, x1, y1); the face turns about the box's centre (counter-clockwise
    for a positive angle) and only the turned square is pasted, so the photo shows in the corners.
    """
    import cv2

    x0, y0, x1, y1 = map(float, box)
    side = x1 - x0
    if side <= 0 or abs((y1 - y0) - side) > 1e-6:
        raise ValueError(f"box {tuple(box)} is not a square with x1 > x0")
    scale = side / face.shape[0]
    matrix = cv2.getRotationMatrix2D((face.shape[1] / 2, face.shape[0] / 2), angle, scale)
    matrix[:, 2] += [(x0 + x1) / 2 - face.shape[1] / 2, (y0 + y1) / 2 - face.shape[0] / 2]
    h, w = image.shape
    pasted = cv2.warpAffine(face.astype(numpy.float32), matrix, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(numpy.ones_like(face, numpy.float32), matrix, (w, h), flags=cv2.INTER_LINEAR)
    image *= 1 - mask
    image += pasted * mask


def make_scenes(faces: numpy.ndarray, n: int, *, width: int = 320, height: int = 240, faces_per_scene: int = 4,
                sizes: tuple[int, int] = (48, 96), tilt: tuple[float, float] = (30, 90),
                photos: Sequence[numpy.ndarray] | None = None, seed: int = 0) -> list[Scene]:
    """``n`` scenes: crops of ``photos`` (grey; default :func:`scene_photos`) with ``faces`` (N, S, S) pasted in.

    Half the faces of a scene (rounded down) stand upright; the others are tilted by a random angle
    between ``tilt[0]`` and ``tilt[1]`` degrees, either way. Face sides are drawn from ``sizes``,
    places at random without overlap. Faces are used in turn, so pass held-out faces only.
    """
    faces = numpy.asarray(faces, numpy.float32)
    if faces.ndim != 3 or faces.shape[1] != faces.shape[2] or not len(faces):
        raise ValueError(f"faces must be square grey crops (N, S, S), not {faces.shape}")
    if sizes[1] > min(width, height):
        raise ValueError(f"faces of up to {sizes[1]} px do not fit a {width}x{height} scene")
    rng = numpy.random.RandomState(seed)
    backgrounds = scene_photos() if photos is None else [to_grey(p) for p in photos]
    scenes, next_face = [], 0
    for i in range(n):
        background = backgrounds[i % len(backgrounds)]
        zoom = max(width / background.shape[1], height / background.shape[0]) * rng.uniform(1.0, 1.5)
        h, w = background.shape
        big = resize(background, (int(numpy.ceil(w * zoom)), int(numpy.ceil(h * zoom))))
        y, x = rng.randint(0, big.shape[0] - height + 1), rng.randint(0, big.shape[1] - width + 1)
        image = numpy.ascontiguousarray(big[y:y + height, x:x + width])
        boxes, angles = [], []
        for k in range(faces_per_scene):
            for _attempt in range(200):
                side = rng.randint(sizes[0], sizes[1] + 1)
                x0, y0 = rng.randint(0, width - side + 1), rng.randint(0, height - side + 1)
                box = (x0, y0, x0 + side, y0 + side)
                if all(box[0] >= b[2] or b[0] >= box[2] or box[1] >= b[3] or b[1] >= box[3] for b in boxes):
                    break
            else:
                raise ValueError(f"could not place {faces_per_scene} faces of {sizes} px in a {width}x{height} "
                                 f"scene without overlap; use fewer or smaller faces")
            angle = 0.0 if k < faces_per_scene // 2 else rng.choice([-1, 1]) * rng.uniform(*tilt)
            paste_face(image, faces[next_face % len(faces)], box, angle)
            next_face += 1
            boxes.append(box)
            angles.append(angle)
        scenes.append(Scene(image, numpy.array(boxes, numpy.float32), numpy.array(angles, numpy.float32)))
    return scenes
