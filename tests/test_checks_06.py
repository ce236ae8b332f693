"""Lesson 6's checkers accept right answers and reject typical wrong ones with a hint."""
import math

import numpy
import pytest
import scipy.linalg

import course
from course.checks.lesson06 import check_frechet, check_generator_losses, check_spherical_crossings
from course.models import MnistCNN
from course.models.dcgan import Generator, Vectorizer
from course.tasks import dcgan


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


# --- check_frechet ---------------------------------------------------------------------------------

def _parts(a, b, bias=False):
    mean = ((a.mean(0) - b.mean(0)) ** 2).sum()
    ca = numpy.atleast_2d(numpy.cov(a, rowvar=False, bias=bias))
    cb = numpy.atleast_2d(numpy.cov(b, rowvar=False, bias=bias))
    return mean, ca, cb


def right_frechet(a, b):
    mean, ca, cb = _parts(a, b)
    return float(mean + numpy.trace(ca + cb - 2 * numpy.real(scipy.linalg.sqrtm(ca @ cb))))


def test_frechet_accepts_a_right_function_and_the_courses(capsys):
    from course.metrics import frechet_distance

    assert check_frechet(right_frechet).passed is True
    assert check_frechet(frechet_distance).passed is True
    assert capsys.readouterr().out.count("✓") == 2


def _means_only(a, b):
    return float(_parts(a, b)[0])


def _elementwise_root(a, b):
    mean, ca, cb = _parts(a, b)
    return float(mean + numpy.trace(ca + cb - 2 * numpy.sqrt(numpy.abs(ca @ cb))))


def _no_two(a, b):
    mean, ca, cb = _parts(a, b)
    return float(mean + numpy.trace(ca + cb - numpy.real(scipy.linalg.sqrtm(ca @ cb))))


def _biased(a, b):
    mean, ca, cb = _parts(a, b, bias=True)
    return float(mean + numpy.trace(ca + cb - 2 * numpy.real(scipy.linalg.sqrtm(ca @ cb))))


def _rows_as_variables(a, b):
    ca, cb = numpy.cov(a), numpy.cov(b)  # (N, N) and (M, M): the product fails for N != M
    return float(numpy.trace(ca @ cb))  # (with one feature, N variables of one observation each: NaN)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy.cov of one observation per variable
@pytest.mark.parametrize("function, word", [
    (lambda a, b: 0.0, "expected"),  # the placeholder
    (_means_only, "compared the means only"),
    (_elementwise_root, "matrix square root"),
    (_no_two, "2 Tr(sqrtm"),
    (_biased, "divide by N"),
    (lambda a, b: math.sqrt(max(right_frechet(a, b), 0)), "square root of the Fréchet distance"),
    (lambda a, b: right_frechet(a, b) - _means_only(a, b), "means are missing"),
    (lambda a, b: complex(right_frechet(a, b), 1e-9), "real part"),
    (_rows_as_variables, "rowvar=False"),
    (lambda a: 0.0, "raised TypeError"),
    (lambda a, b: "0.5", "return one number"),
])
def test_frechet_rejects_typical_mistakes(function, word, capsys):
    assert check_frechet(function).passed is False
    assert word in _hint(capsys)


def test_frechet_rejects_a_non_function(capsys):
    assert check_frechet(1.5).passed is False
    assert "function" in _hint(capsys)


# --- the two experiments, on tiny untrained networks ----------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    """A generator (weights scaled up, so its images differ), a Vectorizer, a judge and held-out-like digits."""
    course.set_seed(0)
    generator = Generator(z_size=4, size=28, channels=8, levels=2)
    for parameter in generator.params():
        if parameter.name == "W":
            parameter.array *= 30
    vectorizer = Vectorizer(z_size=4, size=28, channels=4, levels=2)
    judge = MnistCNN()
    rng = numpy.random.RandomState(0)
    images = rng.uniform(-1, 1, (60, 1, 28, 28)).astype(numpy.float32)
    labels = numpy.arange(60) % 10
    return generator, vectorizer, judge, images, labels, dcgan.different_pairs(labels, 8)


def _counts(tiny):
    generator, vectorizer, judge, images, labels, pairs = tiny
    return tuple(int(dcgan.crossings(dcgan.morph_probabilities(generator, vectorizer, judge, images, labels, pairs,
                                                               spherical=flag)).sum()) for flag in (False, True))


def test_spherical_crossings_accepts_the_measured_counts(tiny, capsys):
    linear, spherical = _counts(tiny)
    assert check_spherical_crossings((linear, spherical), *tiny).passed is True
    assert check_spherical_crossings((float(linear), numpy.int64(spherical)), *tiny).passed is True


def test_spherical_crossings_rejects_typical_mistakes(tiny, capsys, monkeypatch):
    linear, spherical = _counts(tiny)
    if linear == spherical:  # make the two counts differ, so that swapping them is a mistake to catch
        real = dcgan.morph_probabilities

        def shifted(*args, spherical=False, **kwargs):
            p = real(*args, spherical=spherical, **kwargs)
            if spherical:
                p[:, 0], p[:, -1] = 0.1, 0.9  # every spherical morph crosses
            return p

        monkeypatch.setattr(dcgan, "morph_probabilities", shifted)
        linear, spherical = _counts(tiny)
    assert linear != spherical
    for answer, word in [
        ((spherical, linear), "other way round"),
        ((linear, linear), "pass spherical=True"),
        ((linear + 20, spherical), "only 8 pairs"),
        ((0.5, spherical), "whole number"),
        (5, "two counts"),
    ]:
        assert check_spherical_crossings(answer, *tiny).passed is False, answer
        assert word in _hint(capsys)


def test_generator_losses_checks_the_measurement_and_the_setup(tiny, capsys):
    generator, _, judge, images, _, _ = tiny
    course.set_seed(1)
    other = Generator(z_size=4, size=28, channels=8, levels=2)  # small weights: one flat blob
    _, reference = dcgan.judge_images(judge, numpy.concatenate([images] * 4))
    generators = {"non-saturating": generator, "minimax": other}
    distances = {name: dcgan.score_samples(judge, dcgan.samples(g), reference).frechet
                 for name, g in generators.items()}
    best = min(distances, key=distances.get)
    worst = max(distances, key=distances.get)
    assert check_generator_losses(generators, best, judge, reference).passed is True
    capsys.readouterr()
    for arguments, word in [
        (({"non-saturating": generator}, best), "two or more"),
        ((generators, worst), "not the closest"),
        (({"non-saturating": generator, "wgan": other}, best), "not a loss name"),
        (({"minimax": generator, "log-ratio": other}, "minimax"), "'non-saturating'"),
        (({"non-saturating": generator, "minimax": generator}, best), "same weights"),
        ((generators, "nope"), "one of the names you trained"),
    ]:
        assert check_generator_losses(*arguments, judge, reference).passed is False, arguments
        assert word in _hint(capsys)
