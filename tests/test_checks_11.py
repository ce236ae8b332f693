"""Lesson 11's checkers accept right answers and reject typical wrong ones with a hint."""
import numpy

from course.checks.lesson11 import check_batch_order, check_learning_rate_rule
from course.training.distributed import global_batch_order, shard_indices


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


def step_by_step(examples, processes, batch_size, seed):
    shares = shard_indices(examples, processes, seed)
    return numpy.concatenate([share[k * batch_size:(k + 1) * batch_size]
                              for k in range(len(shares[0]) // batch_size) for share in shares])


def test_batch_order_accepts_any_order_within_a_step(capsys):
    def reversed_steps(examples, processes, batch_size, seed):
        order, batch = step_by_step(examples, processes, batch_size, seed), processes * batch_size
        return numpy.concatenate([order[k:k + batch][::-1] for k in range(0, len(order), batch)])

    for answer in (step_by_step, reversed_steps, global_batch_order):
        assert check_batch_order(answer).passed is True
    assert capsys.readouterr().out.count("✓") == 3


def test_batch_order_names_the_usual_mistakes(capsys):
    assert not check_batch_order(lambda n, p, b, s: numpy.concatenate(shard_indices(n, p, s)))
    assert "one after the other" in _hint(capsys)
    assert not check_batch_order(lambda n, p, b, s: numpy.concatenate(
        [share[k * b:(k + 1) * b] for k in range(n // p // b) for share in shard_indices(n, p, shuffle=False)]))
    assert "slices of a permutation" in _hint(capsys)
    assert not check_batch_order(lambda n, p, b, s: numpy.arange(n)[::-1])
    assert "step 1 reads other examples" in _hint(capsys)
    assert not check_batch_order(lambda n, p, b, s: step_by_step(n, p, b, s)[:-1])
    assert "indices; the processes take" in _hint(capsys)
    assert not check_batch_order(numpy.arange(4))
    assert "pass the function itself" in _hint(capsys)


def test_learning_rate_rule_measures_the_linear_rule_right_and_the_others_wrong(capsys):
    assert check_learning_rate_rule(lambda lr, processes: lr * processes).passed is True
    capsys.readouterr()
    assert not check_learning_rate_rule(lambda lr, processes: lr)
    assert "Too slow" in _hint(capsys)
    assert not check_learning_rate_rule(lambda lr, processes: lr * processes ** 0.5)
    assert "Too slow" in _hint(capsys)
    assert not check_learning_rate_rule(lambda lr, processes: 2 * lr * processes if processes > 1 else lr)
    assert "Too far" in _hint(capsys)
    assert not check_learning_rate_rule(lambda lr, processes: 0.1)
    assert "for 1 process it gives 0.1" in _hint(capsys)
