"""Checkers for lesson 00 (setup): the course device and the profiles' sizes."""
from __future__ import annotations

import dataclasses

import chainer

from course.checks import Wrong, checker, whole_number
from course.device import get_device
from course.profiles import PROFILES, active_profile
from course.tasks import sizes


@checker("an array on the course device")
def check_on_device(array) -> None:
    """``array`` must be an array (not a Variable, not a list) that lives on :func:`course.get_device`."""
    if array is None:
        raise Wrong("make a float32 NumPy array first, then send it to the course device (see \"An operation on the device\").")
    if isinstance(array, chainer.Variable):
        raise Wrong("that is a chainer.Variable; hand in the array inside it (its .array).")
    if isinstance(array, (list, tuple)):
        raise Wrong("that is a Python list/tuple, not an array; build one with numpy.array(...) and send it with course.to_device(...).")
    if not chainer.is_arrays_compatible([array]):
        raise Wrong(f"a {type(array).__name__} is not an array Chainer can use; build a NumPy array and send it with course.to_device(...).")
    device = get_device()
    here = chainer.backend.get_device_from_array(array)
    if here != device:
        raise Wrong(f"the array lives on {here}, but the course device is {device}; use course.to_device(array).")
    if array.size == 0:
        raise Wrong("the array is empty; put at least one number in it.")


@checker("the MNIST batch size of your profile")
def check_mnist_batch_size(value) -> None:
    """``value`` must be the ``batch_size`` of the ``mnist`` lesson in the active profile."""
    if value is None:
        raise Wrong('read it from the lesson\'s sizes with course.sizes(...); lesson 2\'s task is called "mnist".')
    if dataclasses.is_dataclass(value):
        raise Wrong("that is all of the lesson's sizes; pick one of them with .batch_size.")
    value = whole_number(value, f"a batch size is a whole number, not a {type(value).__name__}.", floats=False)
    profile = active_profile()
    right = sizes("mnist", profile).batch_size
    if value == right:
        return
    for other in PROFILES:
        if other != profile and value == sizes("mnist", other).batch_size:
            raise Wrong(f"{value} is the batch size of the {other!r} profile, but this notebook runs the "
                        f"{profile!r} profile; call course.sizes without naming a profile.")
    raise Wrong(f"{value} is not lesson 2's batch size in any profile; look at course.sizes(\"mnist\") again.")
