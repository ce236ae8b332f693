"""Pick where arrays live: a CuPy GPU when one is usable, else NumPy.

``COURSE_DEVICE`` overrides the choice with any Chainer device specifier, e.g. ``@numpy`` or
``@cupy:0``. Notebooks never name a device; they call :func:`get_device`.
"""
from __future__ import annotations

import functools
import os

import chainer

from course.errors import InputError

ENV_VAR = "COURSE_DEVICE"


def gpu_status() -> str:
    """Say in one line whether a CuPy GPU is usable, and if not, why not."""
    try:
        import cupy
    except ImportError:
        return "CuPy not installed"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # no driver, no device, wrong CUDA build...
        return f"CuPy {cupy.__version__} installed but no usable GPU ({type(error).__name__}: {error})"
    if count == 0:
        return f"CuPy {cupy.__version__} installed but no GPU found"
    try:
        cupy.arange(4).sum().item()  # a kernel launch proves the driver and toolkit agree
    except Exception as error:
        return f"CuPy {cupy.__version__} cannot run on the GPU ({type(error).__name__}: {error})"
    if not chainer.backends.cuda.available:  # e.g. cuBLAS missing: CuPy runs, Chainer's imports fail
        reason = getattr(chainer.backends.cuda, "_resolution_error", "unknown reason")
        return (f"CuPy {cupy.__version__} runs, but Chainer cannot use it ({reason}); "
                f"install the CUDA libraries with it: pip install 'cupy-cuda12x[ctk]'")
    return f"CuPy {cupy.__version__}, {count} GPU(s)"


def gpu_available() -> bool:
    """True when CuPy is installed and can run a kernel on GPU 0."""
    return gpu_status().endswith("GPU(s)")


@functools.lru_cache(maxsize=None)
def _resolve(spec: str | None) -> chainer.backend.Device:
    if spec:
        if spec.startswith("@cupy") and not gpu_available():
            raise InputError(
                f"the device {spec!r} asks for a GPU, but {gpu_status()}. "
                f"Unset {ENV_VAR} (or leave out --device) to fall back to the CPU, or install a CuPy build "
                f"(see README)."
            )
        try:
            return chainer.get_device(spec)
        except Exception as error:
            raise InputError(
                f"{spec!r} is not a device Chainer understands ({error}). "
                f"Use '@numpy' for the CPU or '@cupy:0' for the first GPU."
            ) from None
    return chainer.get_device("@cupy:0" if gpu_available() else "@numpy")


def get_device(spec: str | chainer.backend.Device | None = None) -> chainer.backend.Device:
    """The device the course trains on: ``spec`` (a specifier or a Device), else ``$COURSE_DEVICE``,
    else GPU 0 if usable, else NumPy."""
    if isinstance(spec, chainer.backend.Device):
        device = spec
    else:
        device = _resolve(spec or os.environ.get(ENV_VAR) or None)
    device.use()
    return device


def to_device(array, device: chainer.backend.Device | None = None):
    """Copy a NumPy array (or a tuple of them) to ``device`` (default :func:`get_device`)."""
    device = get_device(device)
    if isinstance(array, tuple):
        return tuple(device.send(a) for a in array)
    return device.send(array)
