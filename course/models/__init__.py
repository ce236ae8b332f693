"""Networks, one module per family, written with Chainer's own links and functions.

Every model here is a plain ``chainer.Chain``. :func:`saveable` lets :func:`save_model` write, beside
the weights, which class and sizes a model was built with, so :func:`load_model` rebuilds it from
its file alone; :func:`predict` runs any model on data in test mode.
"""
from course.models.core import count_parameters, predict
from course.models.frgnet import FrgNet
from course.models.logic import OneLayerNet, TwoLayerNet
from course.models.mnist import MLP, MnistCNN
from course.models.nin import NIN
from course.models.ranknet import ScoreCNN
from course.models.saving import load_model, saveable, save_model

__all__ = [
    "FrgNet",
    "MLP",
    "MnistCNN",
    "NIN",
    "OneLayerNet",
    "ScoreCNN",
    "TwoLayerNet",
    "count_parameters",
    "load_model",
    "predict",
    "save_model",
    "saveable",
]
