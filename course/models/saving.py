"""Saving a model so that it can be rebuilt from its file alone: ``model.npz`` plus ``model.json``.

Chainer's npz serializer stores the numbers (parameters and persistent values such as a mean image
or batch-normalisation statistics) but not the network that holds them: to load ``model.npz`` you
must first build the same network, with the same sizes. So the course writes beside every
``NAME.npz`` a small ``NAME.json`` naming the model's class and the arguments it was built with::

    {"format": 1, "class": "course.models.mnist.MnistCNN", "arguments": {"n_out": 5, "dropout": 0.3}}

and :func:`load_model` rebuilds that model and loads the numbers into it. A class takes part by
being decorated with :func:`saveable`, which records the arguments of each instance it builds.
Arrays given to a constructor (e.g. a mean image) are not written to the JSON: they are in the npz
already, so the class must accept ``None`` for them. Nothing is ever pickled.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import zipfile
from pathlib import Path
from typing import Any, TypeVar

import chainer
import numpy

from course.files import DataError, atomic_write

FORMAT = 1
_ARGUMENTS = "_saved_arguments"
Model = TypeVar("Model", bound=type)


def saveable(cls: Model) -> Model:
    """Class decorator: remember the arguments each instance is built with, so :func:`save_model` can write them.

    The class itself stays a plain ``chainer.Chain``; only its ``__init__`` is wrapped to keep a
    copy of its (bound, defaults applied) arguments.
    """
    signature = inspect.signature(cls.__init__)
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        original(self, *args, **kwargs)
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(signature.parameters)))  # self
        object.__setattr__(self, _ARGUMENTS, (cls, arguments))  # a decorated subclass overwrites it after

    cls.__init__ = __init__
    return cls


def _json_value(name: str, value: Any, model: chainer.Link) -> Any:
    """An argument as JSON: tuples as lists, arrays left out (None), anything else must be JSON already."""
    if isinstance(value, numpy.ndarray) or chainer.backend.get_array_module(value) is not numpy:
        return None
    if isinstance(value, (tuple, list)):
        return [_json_value(name, v, model) for v in value]
    if isinstance(value, numpy.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(model).__name__} was built with {name}={value!r}, which cannot be written to JSON; "
                    f"give it numbers, strings, tuples or arrays")


def model_config(model: chainer.Link) -> dict:
    """What ``NAME.json`` holds for ``model``: its class and arguments (see the module docstring)."""
    recorded = getattr(model, _ARGUMENTS, None)
    if recorded is None or recorded[0] is not type(model):
        raise TypeError(f"{type(model).__name__} does not record its arguments: decorate the class with "
                        f"@course.models.saveable, or save it with chainer.serializers.save_npz and load it into "
                        f"a model you build yourself (load_model(path, model))")
    cls, arguments = recorded
    return {"format": FORMAT, "class": f"{cls.__module__}.{cls.__qualname__}",
            "arguments": {name: _json_value(name, value, model) for name, value in arguments.items()}}


def config_path(path: str | os.PathLike) -> Path:
    """``NAME.json`` beside ``NAME.npz``."""
    return Path(path).with_suffix(".json")


def save_model(model: chainer.Link, path: str | os.PathLike) -> Path:
    """Write ``model``'s numbers to ``path`` (npz) and, for a :func:`saveable` model, its class and arguments beside it.

    Both files are written atomically (a crash mid-write leaves the previous files intact). A model
    that does not record its arguments (your own ``chainer.Chain``) gets the npz only.
    """
    path = Path(path)
    try:
        config = model_config(model)
    except TypeError:
        config = None
    with atomic_write(path) as f:
        chainer.serializers.save_npz(f, model, compression=True)
    if config is not None:
        with atomic_write(config_path(path), "w") as f:
            json.dump(config, f, indent=1)
            f.write("\n")
    return path


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def build_from_config(config: dict, source: str = "the configuration") -> chainer.Link:
    """A fresh model of the class and arguments in ``config`` (what :func:`model_config` returns)."""
    try:
        if config.get("format") != FORMAT:
            raise DataError(f"{source} is format {config.get('format')!r}; this course reads format {FORMAT}")
        module_name, _, class_name = config["class"].rpartition(".")
        arguments = {name: _tuples(value) for name, value in config["arguments"].items()}
    except (AttributeError, KeyError, TypeError) as error:
        raise DataError(f"{source} is not a model description written by the course ({error!r})") from None
    if not module_name.startswith("course."):
        raise DataError(f"{source} names the class {config['class']}, which is not one of the course's models")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise DataError(f"{source} names the model {config['class']}, which this version of the course does not "
                        f"have: retrain it") from None
    return cls(**arguments)


def load_model(path: str | os.PathLike, model: chainer.Link | None = None, *,
               expected: type | None = None) -> chainer.Link:
    """The model saved at ``path``: rebuilt from ``NAME.json`` (or loaded into ``model``), with its numbers.

    Raises :class:`course.files.DataError` naming the file and the fix when it is missing, is not a
    model file, does not fit the model, or (with ``expected``) holds another kind of model.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist: train first (e.g. `python -m course train mnist --out DIR`), "
                        f"then give DIR/model.npz.")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not a model file (a model is an .npz written by the course's training).")
    if model is None:
        described = config_path(path)
        if not described.is_file():
            raise DataError(f"{path} has no {described.name} beside it saying which model it holds: build the "
                            f"model yourself and load the file into it, load_model(path, model).")
        try:
            config = json.loads(described.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise DataError(f"{described} is not valid JSON ({error}): delete it and the model and retrain.") from None
        model = build_from_config(config, str(described))
    if expected is not None and not isinstance(model, expected):
        raise DataError(f"{path} holds {type(model).__name__}, not {expected.__name__}: give the model that "
                        f"this lesson trains.")
    try:
        chainer.serializers.load_npz(str(path), model)
    except (KeyError, ValueError) as error:
        raise DataError(f"{path} does not fit {type(model).__name__} ({error}): it was saved from another model "
                        f"or other sizes. Build the model that was trained, or retrain.") from None
    return model
