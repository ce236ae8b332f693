import dataclasses

import numpy
import pytest

import course
from course import device as device_module
from course.errors import InputError


@pytest.fixture(autouse=True)
def fresh_device_cache():
    device_module._resolve.cache_clear()
    yield
    device_module._resolve.cache_clear()


def test_numpy_is_used_when_asked(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    assert course.get_device().xp is numpy
    assert isinstance(course.to_device(numpy.arange(3)), numpy.ndarray)


def test_a_device_object_is_passed_through():
    cpu = course.chainer.get_device("@numpy")
    assert course.get_device(cpu) is cpu


def test_without_a_gpu_the_default_is_numpy(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(device_module, "gpu_available", lambda: False)
    assert course.get_device().xp is numpy


def test_asking_for_a_gpu_that_is_not_there_says_why(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "@cupy:0")
    monkeypatch.setattr(device_module, "gpu_status", lambda: "CuPy not installed")
    with pytest.raises(InputError, match=r"asks for a GPU, but CuPy not installed.*Unset COURSE_DEVICE"):
        course.get_device()


def test_a_nonsense_device_is_refused(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "@tpu")
    with pytest.raises(ValueError, match=r"'@tpu' is not a device.*'@numpy'"):
        course.get_device()


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert course.active_profile() == "full"
    assert course.sizes("mnist").cnn_epochs > course.sizes("mnist", "quick").cnn_epochs
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="'fast' is not a profile; use one of quick, full"):
        course.active_profile()


def test_profile_defaults_to_quick_on_cpu(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    assert course.active_profile() == "quick"


def test_every_lesson_has_the_same_sizes_in_both_profiles():
    from course.tasks import TASKS

    for lesson in TASKS:
        assert type(course.sizes(lesson, "quick")) is type(course.sizes(lesson, "full")), lesson
        assert type(course.bars(lesson, "quick")) is type(course.bars(lesson, "full")), lesson


def test_sizes_are_read_only_and_unknown_lessons_are_named():
    with pytest.raises(dataclasses.FrozenInstanceError):
        course.sizes("mnist", "quick").cnn_epochs = 1
    with pytest.raises(InputError, match="no task named 'cifar'"):
        course.sizes("cifar", "quick")
    with pytest.raises(InputError, match="'fast' is not one of quick, full"):
        course.sizes("mnist", "fast")


def test_set_seed_makes_initial_weights_repeatable():
    from course.models import MnistCNN

    course.set_seed(3)
    a = MnistCNN().conv1.W.array.copy()
    course.set_seed(3)
    numpy.testing.assert_array_equal(a, MnistCNN().conv1.W.array)
