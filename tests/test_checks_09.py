"""Lesson 9's checkers accept right answers and reject typical wrong ones with a hint."""
import math

import chainer.functions as F
import numpy
import pytest

import course
from course.checks.lesson09 import check_answer_floor, check_beam_bleu, check_masked_loss
from course.data.captions import JOKES, Vocabulary, answer_floor, tokenize
from course.metrics import bleu4
from course.models.captioning import Captioner
from course.tasks import bokete


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


def _tokens(k):
    return [len(tokenize(joke)) + 1 for joke in JOKES[:k]]


def test_the_floor_checker_accepts_the_right_floor_and_the_courses(capsys):
    assert check_answer_floor(lambda k: k * math.log(k) / sum(_tokens(k))).passed is True
    assert check_answer_floor(answer_floor).passed is True


@pytest.mark.parametrize("wrong, hint", [
    (lambda k: math.log(k), "per token"),
    (lambda k: k * math.log(k) / (sum(_tokens(k)) - k), "<eos>"),
    (lambda k: k * math.log2(k) / sum(_tokens(k)), "nats"),
    (lambda k: float(numpy.mean([math.log(k) / t for t in _tokens(k)])), "total number of tokens"),
    (lambda k: 0.5, "expected"),
    (3.0, "pass the function itself"),
])
def test_the_floor_checker_rejects_typical_mistakes(capsys, wrong, hint):
    assert check_answer_floor(wrong).passed is False
    assert hint in _hint(capsys)


def right_loss(scores, targets):
    n, t, v = scores.shape
    return F.softmax_cross_entropy(scores.reshape(n * t, v).astype(numpy.float32),
                                   targets.reshape(-1).astype(numpy.int32), ignore_label=-1)


def _log_softmax(scores):
    return scores - numpy.log(numpy.exp(scores).sum(-1, keepdims=True))


def test_the_loss_checker_accepts_chainers_loss_and_the_models(capsys):
    assert check_masked_loss(right_loss).passed is True

    def by_hand(scores, targets):
        real = targets != -1
        picked = numpy.take_along_axis(_log_softmax(scores), numpy.where(real, targets, 0)[..., None], -1)[..., 0]
        return -picked[real].mean()

    assert check_masked_loss(by_hand).passed is True


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, t: -numpy.take_along_axis(_log_softmax(s), t[..., None] % s.shape[-1], -1).mean(), "index -1"),
    (lambda s, t: -(numpy.take_along_axis(_log_softmax(s), numpy.where(t < 0, 0, t)[..., None], -1)[..., 0]
                    * (t >= 0)).mean(), "number of real tokens"),
    (lambda s, t: float(right_loss(s, t).array) * (t >= 0).sum(), "the sum"),
    (lambda s, t: numpy.mean([float(right_loss(s[i:i + 1], t[i:i + 1]).array) for i in range(len(t))]),
     "weighs a short caption"),
    (lambda s, t: -numpy.take_along_axis(s, numpy.where(t < 0, 0, t)[..., None], -1)[..., 0][t >= 0].mean(),
     "log-softmax"),
])
def test_the_loss_checker_rejects_typical_mistakes(capsys, wrong, hint):
    assert check_masked_loss(wrong).passed is False
    assert hint in _hint(capsys)


@pytest.fixture(scope="module")
def tiny_captioner():
    vocabulary = Vocabulary.build([tokenize("a 1 on the left"), tokenize("a 2 left of a 3")])
    course.set_seed(0)
    model = Captioner(4, len(vocabulary), 6, 6)
    features = numpy.random.RandomState(0).rand(12, 4).astype(numpy.float32)
    references = [[tokenize("a 1 on the left")]] * 6 + [[tokenize("a 2 left of a 3")]] * 6
    return model, vocabulary, features, references


def test_the_beam_checker_measures_both_decoders(capsys, tiny_captioner):
    model, vocabulary, features, references = tiny_captioner
    greedy = bleu4(references, bokete.caption(model, vocabulary, features, beam=False))
    beam = bleu4(references, bokete.caption(model, vocabulary, features, beam=True))
    assert check_beam_bleu((greedy, beam), *tiny_captioner).passed is True
    assert capsys.readouterr().out.startswith("✓")
    assert check_beam_bleu((greedy + 0.1, beam), *tiny_captioner).passed is False
    assert "not the scores" in _hint(capsys)
    assert check_beam_bleu((greedy * 100 + 2, beam * 100 + 2), *tiny_captioner).passed is False
    assert "between 0 and 1" in _hint(capsys)
    assert check_beam_bleu(0.5, *tiny_captioner).passed is False
    assert "two numbers" in _hint(capsys)
    if abs(greedy - beam) > 1e-4:
        assert check_beam_bleu((beam, greedy), *tiny_captioner).passed is False
        assert "other way round" in _hint(capsys)
