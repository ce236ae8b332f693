"""Networks, one module per family."""
from course.models.logic import OneLayerNet, TwoLayerNet
from course.models.mnist import MLP, MnistCNN, count_parameters

__all__ = ["MLP", "MnistCNN", "OneLayerNet", "TwoLayerNet", "count_parameters"]
