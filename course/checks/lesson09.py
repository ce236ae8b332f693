"""Lesson 9 (bokete) exercise checkers: the many-answers floor, a masked loss by hand, and greedy against beam
search, measured."""
from __future__ import annotations

import math

import numpy

from course.checks import Wrong, as_number, call_answer, checker, keep_numpy_random_state, require_function
from course.data.captions import JOKES, PAD, answer_floor, tokenize

_KS = (2, 4, 8)


def _floor_variants(k: int) -> dict[str, float]:
    """What common mistakes give for the floor of ``k`` answers."""
    tokens = [len(tokenize(joke)) + 1 for joke in JOKES[:k]]
    return {
        "per answer": math.log(k),
        "no eos": k * math.log(k) / (sum(tokens) - k),
        "bits": k * math.log2(k) / sum(tokens),
        "mean of per-answer ratios": float(numpy.mean([math.log(k) / t for t in tokens])),
    }


_FLOOR_HINTS = {
    "per answer": "that is log K per answer; the loss is a mean per token, so spread the K answers' K log K nats "
                  "over all their tokens",
    "no eos": "the model also predicts <eos> after every answer, and the loss counts it: add one token per answer",
    "bits": "the loss is in nats (natural logarithm, numpy.log), not bits (log2)",
    "mean of per-answer ratios": "each token counts alike in the loss: divide the total (K log K) by the total number "
                                 "of tokens, rather than averaging each answer's log K / length",
}


@checker("the many-answers floor")
def check_answer_floor(floor) -> None:
    """``floor(k)``: the lowest mean loss per token (nats) on the first ``k`` jokes of ``JOKES``, ``<eos>`` counted."""
    require_function(floor, "check_answer_floor(my_floor)")
    for k in _KS:
        value = as_number(call_answer(floor, k, case=f"k={k}"), f"for k={k} return one number")
        expected = answer_floor(k)
        if abs(value - expected) <= 1e-6:
            continue
        for mistake, wrong in _floor_variants(k).items():
            if abs(value - wrong) <= 1e-6:
                raise Wrong(_FLOOR_HINTS[mistake])
        raise Wrong(f"for k={k} it returned {value:.4f}, expected {expected:.4f}: each answer has probability 1/k, "
                    f"so log k nats per answer; divide k log k by the tokens of the k answers, <eos> included")


def _loss_cases():
    rng = numpy.random.RandomState(9)
    scores = rng.standard_normal((3, 4, 6))
    targets = numpy.array([[3, 4, 2, PAD], [5, 2, PAD, PAD], [1, 3, 3, 2]])
    return [("three captions of 3, 2 and 4 tokens, padded to 4", scores, targets),
            ("one caption without padding", scores[:1, :3], targets[:1, :3] * 0 + [[4, 1, 2]])]


def _log_softmax(scores):
    shifted = scores - scores.max(-1, keepdims=True)
    return shifted - numpy.log(numpy.exp(shifted).sum(-1, keepdims=True))


def _loss_variants(scores, targets) -> dict[str, float]:
    log_p = _log_softmax(scores)
    picked = numpy.take_along_axis(log_p, numpy.where(targets == PAD, 0, targets)[..., None], -1)[..., 0]
    real = targets != PAD
    return {
        "right": float(-picked[real].mean()),
        "padding counted": float(-numpy.take_along_axis(log_p, targets[..., None] % scores.shape[-1], -1).mean()),
        "zeros counted": float(-(picked * real).mean()),
        "sum": float(-picked[real].sum()),
        "mean per caption": float(numpy.mean([-picked[i][real[i]].mean() for i in range(len(targets))])),
        "no log-softmax": float(-numpy.take_along_axis(scores, numpy.where(real, targets, 0)[..., None], -1)[..., 0]
                                [real].mean()),
    }


_LOSS_HINTS = {
    "padding counted": "padding (-1) was scored as if it were a token (index -1 is the last one): leave the "
                       "positions where targets == -1 out of the mean",
    "zeros counted": "the padded positions are zeroed but still counted in the mean: divide by the number of real "
                     "tokens, (targets != -1).sum(), not by every position",
    "sum": "that is the sum over the tokens; the loss is the mean, so the learning rate does not depend on the batch",
    "mean per caption": "each caption's mean, then the mean over captions, weighs a short caption's tokens more: take "
                        "one mean over all real tokens, as F.softmax_cross_entropy(..., ignore_label=-1) does",
    "no log-softmax": "the scores are not log-probabilities yet: apply log-softmax (scores minus the log of the sum of "
                      "their exponentials) over the vocabulary first",
}


@checker("your masked loss")
def check_masked_loss(masked_loss) -> None:
    """``masked_loss(scores, targets)``: scores (N, T, V), targets (N, T) padded with -1 -> mean nats per real token."""
    require_function(masked_loss, "check_masked_loss(my_masked_loss)")
    for description, scores, targets in _loss_cases():
        result = call_answer(masked_loss, scores.copy(), targets.copy(), case=description)
        value = as_number(getattr(result, "array", result), f"on {description} it returned {result!r}; return one "
                                                            "number")
        variants = _loss_variants(scores, targets)
        if abs(value - variants["right"]) <= 1e-5:
            continue
        for mistake, wrong in variants.items():
            if mistake != "right" and abs(value - wrong) <= 1e-5:
                raise Wrong(_LOSS_HINTS[mistake])
        raise Wrong(f"on {description} it returned {value:.4f}, expected {variants['right']:.4f}: the mean over the "
                    f"real tokens of -log softmax(scores)[target]")


@checker("greedy against beam search, measured")
def check_beam_bleu(answer, model, vocabulary, features, references) -> None:
    """``answer`` = (held-out BLEU-4 with greedy decoding, with beam search of width 3) for ``features``."""
    from course.metrics import bleu4
    from course.tasks.bokete import caption

    try:
        greedy_answer, beam_answer = (as_number(v, "give two BLEU-4 scores, numbers between 0 and 1") for v in answer)
    except (TypeError, ValueError):
        raise Wrong(f"answer with two numbers, (greedy BLEU-4, beam BLEU-4), not {answer!r}") from None
    with keep_numpy_random_state():
        greedy_bleu = bleu4(references, caption(model, vocabulary, features, beam=False))
        beam_bleu = bleu4(references, caption(model, vocabulary, features, beam=True))
    close = lambda a, b: abs(a - b) <= 1e-4  # noqa: E731
    if close(greedy_answer, greedy_bleu) and close(beam_answer, beam_bleu):
        return
    if close(greedy_answer, beam_bleu) and close(beam_answer, greedy_bleu):
        raise Wrong("the two scores are the other way round: greedy first, then beam search")
    if greedy_answer > 1 or beam_answer > 1:
        raise Wrong("BLEU-4 from course.metrics.bleu4 lies between 0 and 1; do not multiply by 100")
    raise Wrong("these are not the scores of this model on these scenes: caption them with "
                "bokete.caption(model, vocabulary, features, beam=False) and beam=True, and score each with "
                "bleu4(references, captions)")
