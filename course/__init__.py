"""The `course` package: the real models, data, training loop and checkers behind the notebooks.

Importing it first makes Chainer 7.8.1 work on today's Python, NumPy and protobuf
(see :mod:`course.compat`), then imports Chainer.
"""
from course import compat

compat.apply()

from course import kernels  # noqa: E402  (imports Chainer: after the shims)

kernels.install_unless_disabled()  # faster NumPy kernels beneath Chainer's; COURSE_FAST_KERNELS=0: off

import chainer  # noqa: E402  (must come after the shims)

from course.device import get_device, to_device  # noqa: E402
from course.models import load_model, predict, save_model  # noqa: E402
from course.profiles import active_profile  # noqa: E402
from course.seed import set_seed  # noqa: E402
from course.tasks import bars, sizes  # noqa: E402
from course.training import History, train_classifier  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "active_profile",
    "bars",
    "chainer",
    "get_device",
    "History",
    "load_model",
    "predict",
    "save_model",
    "set_seed",
    "sizes",
    "to_device",
    "train_classifier",
]
