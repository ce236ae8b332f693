"""Lesson 6 (DCGAN) exercise checkers: the Fréchet distance by hand, spherical against linear morphs, and
another generator loss, measured."""
from __future__ import annotations

import math
from typing import Mapping

import numpy

from course.checks import (Wrong, as_number, call_answer, checker, keep_numpy_random_state, require_function,
                           whole_number)
from course.losses import GENERATOR_LOSSES
from course.metrics import frechet_distance


def _feature_sets():
    """(description, a, b): pairs of feature sets, each chosen so that one mistake gives another number."""
    rng = numpy.random.RandomState(6)
    one_a = numpy.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    one_b = numpy.array([[1.0], [4.0], [7.0], [10.0], [13.0]])  # mean 7 against 2, spread three times larger
    mixing = numpy.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.2, -0.5, 0.9]])
    three_a = rng.standard_normal((60, 3))
    three_b = rng.standard_normal((80, 3)) @ mixing * 1.5 + [1.0, -0.5, 0.25]  # correlated, other sizes
    return [
        ("two sets of one feature, 5 vectors each", one_a, one_b),
        ("a set and itself (60 vectors of 3 features)", three_a, three_a.copy()),
        ("60 and 80 vectors of 3 correlated features", three_a, three_b),
    ]


def _variants(a: numpy.ndarray, b: numpy.ndarray) -> dict[str, float]:
    """What common mistakes give for the sets ``a`` and ``b``."""
    from scipy.linalg import sqrtm

    mean = ((a.mean(0) - b.mean(0)) ** 2).sum()
    ca, cb = numpy.atleast_2d(numpy.cov(a, rowvar=False)), numpy.atleast_2d(numpy.cov(b, rowvar=False))
    biased_a, biased_b = (numpy.atleast_2d(numpy.cov(f, rowvar=False, bias=True)) for f in (a, b))
    trace = lambda x, y, root: float(numpy.trace(x) + numpy.trace(y) - 2 * numpy.trace(root))  # noqa: E731
    right = mean + trace(ca, cb, numpy.real(sqrtm(ca @ cb)))
    return {
        "means only": mean,
        "square root of each entry": mean + trace(ca, cb, numpy.sqrt(numpy.abs(ca @ cb))),
        "no factor 2": mean + float(numpy.trace(ca) + numpy.trace(cb) - numpy.trace(numpy.real(sqrtm(ca @ cb)))),
        "covariances with N": mean + trace(biased_a, biased_b, numpy.real(sqrtm(biased_a @ biased_b))),
        "square root of the distance": math.sqrt(max(right, 0)),
        "no mean term": right - mean,
    }


_HINTS = {
    "means only": "you compared the means only; the formula adds Tr(C_a + C_b - 2 sqrtm(C_a C_b)), which measures "
                  "how differently the two sets spread",
    "square root of each entry": "numpy.sqrt takes the root of every entry; the formula needs the matrix square root "
                                 "(scipy.linalg.sqrtm), the matrix R with R @ R = C_a @ C_b",
    "no factor 2": "the cross term is 2 Tr(sqrtm(C_a C_b)): with one feature the distance is "
                   "(mu_a - mu_b)^2 + (s_a - s_b)^2, and (s_a - s_b)^2 = s_a^2 + s_b^2 - 2 s_a s_b",
    "covariances with N": "your covariances divide by N; numpy.cov divides by N - 1 (the unbiased estimate), as FID "
                          "does",
    "square root of the distance": "that is the square root of the Fréchet distance; FID's number is the squared "
                                   "distance, |mu_a - mu_b|^2 + Tr(...), without a root",
    "no mean term": "the covariance term is right but the means are missing: add |mu_a - mu_b|^2",
}


@checker("your Fréchet distance")
def check_frechet(frechet) -> None:
    """``frechet(features_a, features_b)`` must return FID's formula for two sets of feature vectors (N, D), (M, D)."""
    require_function(frechet, "check_frechet(my_frechet)")
    for description, a, b in _feature_sets():
        result = call_answer(frechet, a.copy(), b.copy(), case=description,
                             hint=". numpy.cov(features, rowvar=False) treats each row as one vector"
                             if a.shape[1] > 1 else "")
        if isinstance(result, complex) or numpy.iscomplexobj(result):
            raise Wrong(f"on {description} it returned a complex number; sqrtm leaves tiny imaginary parts from "
                        f"rounding: take the real part (numpy.real) of the square root")
        value = as_number(result, f"on {description} it returned {result!r}; return one number")
        expected = frechet_distance(a, b)
        if abs(value - expected) <= 1e-6 + 1e-4 * abs(expected):
            continue
        for mistake, wrong_value in _variants(a, b).items():
            if abs(value - wrong_value) <= 1e-6 + 1e-4 * abs(wrong_value):
                raise Wrong(_HINTS[mistake])
        raise Wrong(f"on {description} it returned {value:.4g}, expected {expected:.4g}: compute "
                    f"|mu_a - mu_b|^2 + Tr(C_a + C_b - 2 sqrtm(C_a @ C_b)) with each set's mean and "
                    f"numpy.cov(features, rowvar=False)")


@checker("spherical against linear morphs")
def check_spherical_crossings(answer, generator, vectorizer, judge, images, labels, pairs) -> None:
    """``answer`` = (morphs that cross with linear interpolation, with spherical), measured for ``pairs``."""
    from course.tasks.dcgan import crossings, morph_probabilities

    try:
        linear_answer, spherical_answer = answer
    except (TypeError, ValueError):
        raise Wrong(f"answer with two counts, (linear crossings, spherical crossings), not {answer!r}") from None
    linear_answer = whole_number(linear_answer, "count the morphs that cross with a whole number")
    spherical_answer = whole_number(spherical_answer, "count the morphs that cross with a whole number")
    with keep_numpy_random_state():
        linear, spherical = (int(crossings(morph_probabilities(generator, vectorizer, judge, images, labels, pairs,
                                                                   spherical=flag)).sum()) for flag in (False, True))
    if (linear_answer, spherical_answer) == (linear, spherical):
        return
    if (linear_answer, spherical_answer) == (spherical, linear):
        raise Wrong("the two counts are the other way round: linear first, then spherical")
    if linear_answer == spherical_answer == linear:
        raise Wrong("both counts are the linear ones: pass spherical=True to morph_probabilities for the second")
    if linear_answer > len(pairs) or spherical_answer > len(pairs):
        raise Wrong(f"there are only {len(pairs)} pairs: count the morphs (rows), not the steps")
    raise Wrong(f"these are not the counts for the {len(pairs)} pairs given: use crossings(morph_probabilities(...)) "
                f"for the same pairs, once with spherical=False and once with spherical=True, and sum each")


@checker("another generator loss, measured")
def check_generator_losses(generators: Mapping, best, judge, reference_features) -> None:
    """``generators`` = {loss name: generator trained with it}, two or more; ``best`` = the name whose 1,000 samples
    lie closest to the real digits (lowest Fréchet distance in the judge's features)."""
    from course.tasks.dcgan import samples, score_samples

    if not isinstance(generators, Mapping) or len(generators) < 2:
        raise Wrong("pass a dict with two or more generators, {loss name: generator}, e.g. "
                    "{'non-saturating': g1, 'minimax': g2}")
    unknown = [name for name in generators if name not in GENERATOR_LOSSES]
    if unknown:
        raise Wrong(f"{unknown[0]!r} is not a loss name; use the names of course.losses.GENERATOR_LOSSES: "
                    f"{', '.join(GENERATOR_LOSSES)}")
    if "non-saturating" not in generators:
        raise Wrong("include the lesson's loss, 'non-saturating', trained with the same budget, to compare against")
    weights = {name: numpy.concatenate([numpy.asarray(p.array).ravel() for p in g.params()])
               for name, g in generators.items()}
    names = list(weights)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if weights[first].shape == weights[second].shape and numpy.array_equal(weights[first], weights[second]):
                raise Wrong(f"the generators for {first!r} and {second!r} have the same weights: train one per loss "
                            f"(train_generator(..., generator_loss=...)), each into its own folder")
    if best not in generators:
        raise Wrong(f"answer with one of the names you trained, {', '.join(map(repr, names))}, not {best!r}")
    with keep_numpy_random_state():
        distances = {name: score_samples(judge, samples(g), reference_features).frechet
                     for name, g in generators.items()}
    if distances[best] > min(distances.values()):
        raise Wrong(f"the samples of {best!r} are not the closest to the real digits: score each generator with "
                    f"score_samples(judge, samples(generator), real_features) and compare their Fréchet distances")
