"""Networks, one module per family."""
from course.models.logic import OneLayerNet, TwoLayerNet
from course.models.mnist import MLP, MnistCNN, count_parameters

__all__ = ["MLP", "MnistCNN", "OneLayerNet", "TwoLayerNet", "count_parameters"]
from course.models.nin import NIN  # noqa: E402  (lesson 3)
__all__ += ["NIN"]
from course.models.frgnet import FrgNet, load_frgnet  # noqa: E402  (lesson 4)
__all__ += ["FrgNet", "load_frgnet"]
