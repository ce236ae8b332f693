"""Keep Chainer 7.8.1 (the last release, 2020) working on today's Python, NumPy and protobuf.

Each shim below names what it replaces and why. :func:`apply` runs them once, before Chainer is
first imported; ``import course`` calls it, so every notebook and command gets them for free.
Nothing here changes Chainer's behaviour beyond making removed APIs available again to it alone,
except ``numpy.sctypes``, which Chainer reads at import time from the ``numpy`` module itself.
ChainerMN (``import chainermn``, inside the chainer package) is patched when it is first imported,
not before: importing it starts MPI.
"""
from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

import numpy

_CAFFE_PB2 = "chainer.links.caffe.protobuf3.caffe_pb2"
_applied = False


def _restore_numpy_sctypes() -> None:
    """``numpy.sctypes`` was removed in NumPy 2.0.

    ``chainer.functions.array.as_strided`` builds a table from ``np.sctypes['int']`` at import time,
    so without it ``import chainer`` fails. We put back the same mapping NumPy 1.x had.
    """
    if "sctypes" in vars(numpy):
        return
    numpy.sctypes = {
        "int": [numpy.int8, numpy.int16, numpy.int32, numpy.int64],
        "uint": [numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64],
        "float": [numpy.float16, numpy.float32, numpy.float64, numpy.longdouble],
        "complex": [numpy.complex64, numpy.complex128, numpy.clongdouble],
        "others": [bool, object, bytes, str, numpy.void],
    }


def _skip_environment_check() -> None:
    """Replace ``chainer._environment_check``, which runs on every ``import chainer``.

    It imports ``numpy.distutils`` (gone on Python >= 3.12) and ``pkg_resources`` (gone in
    setuptools >= 81) only to warn about macOS Accelerate and about CuPy versions newer than
    Chainer knew of. Both warnings are moot for this course (CuPy 13/14 is what we support), so the
    module is replaced by one whose ``check()`` does nothing.
    """
    if "chainer._environment_check" in sys.modules:
        return
    stub = types.ModuleType("chainer._environment_check")
    stub.__doc__ = "Replaced by course.compat: the original needs numpy.distutils and pkg_resources."
    stub.check = lambda: None
    sys.modules["chainer._environment_check"] = stub


class _NumpyWithFloatAlias:
    """``numpy`` plus the ``numpy.float`` alias (the builtin ``float``) removed in NumPy 1.24."""

    float = float

    def __getattr__(self, name: str):
        return getattr(numpy, name)


def _patch_resize_images() -> None:
    """``F.resize_images`` computes its sampling grid with ``dtype=numpy.float``.

    That alias was removed in NumPy 1.24, so the function raises ``AttributeError``. Only
    ``compute_indices_and_weights`` uses it (and it makes no ``xp is numpy`` test), so we rebind
    that one function to globals in which ``numpy`` also has ``float``.
    """
    from chainer.functions.array import resize_images

    original = resize_images.compute_indices_and_weights
    if isinstance(original.__globals__.get("numpy"), _NumpyWithFloatAlias):
        return
    patched = types.FunctionType(
        original.__code__,
        {**original.__globals__, "numpy": _NumpyWithFloatAlias()},
        original.__name__,
        original.__defaults__,
        original.__closure__,
    )
    resize_images.compute_indices_and_weights = patched


class _CaffePb2Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Build Chainer's ``caffe_pb2`` with today's protobuf.

    The generated ``caffe_pb2.py`` in Chainer predates protobuf 4, whose C (upb) backend refuses
    hand-constructed descriptors ("Descriptors cannot be created directly"), which breaks
    ``CaffeFunction`` and the Caffe-model conversion of ``VGG16Layers``/``ResNet50Layers``. Setting
    ``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python`` also works but parses a 500 MB model in pure
    Python. Instead we read the serialized ``caffe.proto`` descriptor out of Chainer's file (without
    running it) and build the module the way current ``protoc`` output does, keeping the fast backend.
    """

    def find_spec(self, fullname, path, target=None):
        if fullname != _CAFFE_PB2:
            return None
        original = importlib.machinery.PathFinder.find_spec(fullname, path)
        if original is None or original.origin is None:
            return None
        return importlib.util.spec_from_file_location(fullname, original.origin, loader=self)

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        from google.protobuf import descriptor_pool
        from google.protobuf.internal import builder

        with open(module.__spec__.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        serialized = next(
            kw.value.args[0].value.encode("latin1")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            for kw in node.keywords
            if kw.arg == "serialized_pb"
        )
        descriptor = descriptor_pool.Default().AddSerializedFile(serialized)
        namespace = module.__dict__
        namespace["DESCRIPTOR"] = descriptor
        builder.BuildMessageAndEnumDescriptors(descriptor, namespace)
        builder.BuildTopDescriptorsAndMessages(descriptor, _CAFFE_PB2, namespace)


def _protobuf_needs_rebuilt_caffe_pb2() -> bool:
    try:
        from google.protobuf import __version__ as version
    except ImportError:  # protobuf absent: CaffeFunction cannot work either way
        return False
    return int(version.split(".")[0]) >= 4


_CHAINERMN_MEMORY = "chainermn.communicators._memory_utility"


def _unpack_params(params, attr_name, buffer, transfer_dtype, zero_fill, stream=None):
    """ChainerMN's ``unpack_params``, with ``xp.asarray(v, dtype=...)`` for ``xp.array(v, copy=False, dtype=...)``.

    The GPU communicators (``pure_nccl``, ``flat``) send gradients in one buffer of
    ``transfer_dtype`` (e.g. float16 gradients as float32) and convert them back here. NumPy 2
    (and CuPy 14, which follows it) made ``copy=False`` mean "never copy" and raise
    ``ValueError: Unable to avoid copy`` whenever the dtype changes, which is always the case on
    that line; ``asarray`` is what ``copy=False`` used to mean. Otherwise this is the original.
    """
    if len(params) == 0:
        return
    import chainer

    xp = chainer.backend.get_array_module(getattr(params[0], attr_name))
    offset = 0
    for param in params:
        v = getattr(param, attr_name)
        if attr_name == "grad" and v is None and zero_fill:
            v = param.xp.empty_like(param.data)
            setattr(param, attr_name, v)
        size = v.size * numpy.dtype(transfer_dtype).itemsize
        grad_dtype = v.dtype
        if grad_dtype != transfer_dtype:
            v = xp.asarray(v, dtype=transfer_dtype)
        buffer.to_device(v, size, offset, stream)
        offset += size
        if grad_dtype != transfer_dtype:
            getattr(param, attr_name)[...] = v.astype(grad_dtype)


def _patch_chainermn_memory_utility(module: types.ModuleType) -> None:
    module.unpack_params = _unpack_params


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Run ``patch(module)`` right after the module ``name`` is first imported, by whoever imports it.

    For ChainerMN, which ``import course`` must not import: importing it initialises MPI.
    """

    def __init__(self, name: str, patch):
        self.name, self.patch = name, patch

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader, self.patch)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    """A module's own loader, then a patch."""

    def __init__(self, loader, patch):
        self.loader, self.patch = loader, patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        self.patch(module)


def _patch_chainermn() -> None:
    """Fix ChainerMN 7.8.1 (``import chainermn``, inside the chainer package) for NumPy 2, when it is imported."""
    if _CHAINERMN_MEMORY in sys.modules:
        _patch_chainermn_memory_utility(sys.modules[_CHAINERMN_MEMORY])
    elif not any(isinstance(f, _PatchAfterImport) and f.name == _CHAINERMN_MEMORY for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchAfterImport(_CHAINERMN_MEMORY, _patch_chainermn_memory_utility))


def apply() -> None:
    """Install every shim; safe to call more than once.

    Run it before ``import chainer``: on NumPy 2 and Python >= 3.12 Chainer cannot even be imported
    without it. If Chainer was imported first (possible on old stacks), the shims that still can be
    applied are.
    """
    global _applied
    if _applied:
        return
    _restore_numpy_sctypes()
    _skip_environment_check()
    if _protobuf_needs_rebuilt_caffe_pb2() and not any(
        isinstance(f, _CaffePb2Finder) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _CaffePb2Finder())
    _patch_resize_images()
    _patch_chainermn()
    _applied = True
