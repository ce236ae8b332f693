"""Lesson 1: truth tables, the two small nets, the row-by-row loop and the helpers that read answers."""
import matplotlib

matplotlib.use("Agg")

import chainer  # noqa: E402
import chainer.functions as F  # noqa: E402
import numpy  # noqa: E402
import pytest  # noqa: E402

import course  # noqa: E402
from course.data.logic import GATES, INPUTS, truth_table  # noqa: E402
from course.models.logic import (  # noqa: E402
    OneLayerNet,
    TwoLayerNet,
    class1_probability,
    predict_classes,
    raw_outputs,
    rows_right,
    show_predictions,
)
from course.training import plot_loss_curves, train_row_by_row  # noqa: E402


def _sgd(lr=0.1):
    return chainer.optimizers.MomentumSGD(lr=lr, momentum=0.9)


def _xor_by_hand() -> TwoLayerNet:
    """A two-layer net with weights set by hand: h1 = OR-ish, h2 = AND-ish, output = h1 and not h2."""
    net = TwoLayerNet(n_hidden=2)
    net.fc1.W.array[...] = [[20, 20], [20, 20]]
    net.fc1.b.array[...] = [-10, -30]
    net.fc2.W.array[...] = [[-20, 20], [20, -20]]
    net.fc2.b.array[...] = [10, -10]
    return net


# --- truth tables ---------------------------------------------------------------------------------

@pytest.mark.parametrize("gate, rule", [
    ("and", lambda a, b: a and b),
    ("or", lambda a, b: a or b),
    ("xor", lambda a, b: a != b),
    ("nand", lambda a, b: not (a and b)),
])
def test_truth_tables_follow_their_rule(gate, rule):
    x, t = truth_table(gate)
    assert x.dtype == numpy.float32 and x.shape == (4, 2)
    assert t.dtype == numpy.int32 and t.shape == (4,)
    assert [int(rule(int(a), int(b))) for a, b in x] == t.tolist()


def test_repeats_keep_the_row_order_and_regression_targets_are_float_columns():
    x, t = truth_table("xor", repeats=3)
    assert x.shape == (12, 2) and t.tolist() == list(GATES["xor"]) * 3
    numpy.testing.assert_array_equal(x[4:8], INPUTS)
    _, t_reg = truth_table("xor", repeats=2, regression=True)
    assert t_reg.dtype == numpy.float32 and t_reg.shape == (8, 1)
    assert t_reg.ravel().tolist() == [0.0, 1.0, 1.0, 0.0] * 2


def test_an_unknown_gate_is_refused():
    with pytest.raises(ValueError, match="unknown gate 'nor'"):
        truth_table("nor")


# --- models ---------------------------------------------------------------------------------------

def test_model_shapes():
    one = OneLayerNet()
    assert one.fc1.W.shape == (2, 2) and one(INPUTS).shape == (4, 2)
    assert OneLayerNet(n_out=1)(INPUTS).shape == (4, 1)
    two = TwoLayerNet(n_hidden=3)
    assert two.fc1.W.shape == (3, 2) and two.fc2.W.shape == (2, 3)
    assert two(INPUTS).shape == (4, 2)
    assert TwoLayerNet(n_out=1)(INPUTS).shape == (4, 1)


def test_answers_of_a_hand_set_xor_net():
    net = _xor_by_hand()
    assert predict_classes(net, INPUTS).tolist() == [0, 1, 1, 0]
    probability = class1_probability(net, INPUTS)
    assert probability.shape == (4,)
    assert (probability[[1, 2]] > 0.99).all() and (probability[[0, 3]] < 0.01).all()
    assert rows_right(net, "xor") == 4 and rows_right(net, "and") == 1


def test_one_output_is_read_as_a_value_with_threshold_one_half():
    net = OneLayerNet(n_out=1)
    net.fc1.W.array[...] = [[0.5, 0.5]]
    net.fc1.b.array[...] = [0.0]
    numpy.testing.assert_allclose(raw_outputs(net, INPUTS).ravel(), [0.0, 0.5, 0.5, 1.0])
    numpy.testing.assert_allclose(class1_probability(net, INPUTS), [0.0, 0.5, 0.5, 1.0])
    assert predict_classes(net, INPUTS).tolist() == [0, 1, 1, 1]  # 0.5 counts as 1: this is OR


def test_show_predictions_marks_wrong_rows(capsys):
    show_predictions(_xor_by_hand(), "and")
    printed = capsys.readouterr().out
    assert printed.count("WRONG") == 3 and "1/4 rows right" in printed


def test_predicting_runs_in_test_mode_without_a_graph_and_returns_numpy():
    seen = {}

    class Spy(OneLayerNet):
        def forward(self, x):
            seen.update(train=chainer.config.train, backprop=chainer.config.enable_backprop)
            return super().forward(x)

    y = raw_outputs(Spy(), INPUTS.tolist())  # a plain list is accepted too
    assert type(y) is numpy.ndarray and y.shape == (4, 2)
    assert seen == {"train": False, "backprop": False}


# --- the row-by-row loop --------------------------------------------------------------------------

def test_row_by_row_loop_learns_and():
    course.set_seed(0)
    net = OneLayerNet()
    x, t = truth_table("and", repeats=250)
    curve = train_row_by_row(net, x, t, F.softmax_cross_entropy, _sgd(), record_every=100)
    assert len(curve) == 10  # 1,000 rows, a mean per 100
    assert curve[-1] < 0.5 * curve[0]
    assert rows_right(net, "and") == 4


def test_row_by_row_loop_does_one_update_per_row_and_records_a_short_last_block():
    net = OneLayerNet()
    optimizer = _sgd()
    x, t = truth_table("or", repeats=3)  # 12 rows
    curve = train_row_by_row(net, x, t, F.softmax_cross_entropy, optimizer, record_every=5)
    assert optimizer.t == 12
    assert len(curve) == 3  # 5 + 5 + 2 rows


def test_row_by_row_loop_matches_the_loop_written_out():
    x, t = truth_table("xor", repeats=20)
    course.set_seed(3)
    by_library = TwoLayerNet()
    curve = train_row_by_row(by_library, x, t, F.softmax_cross_entropy, _sgd(), record_every=1)
    course.set_seed(3)
    by_hand = TwoLayerNet()
    optimizer = _sgd()
    optimizer.setup(by_hand)
    losses = []
    for i in range(len(x)):
        loss = F.softmax_cross_entropy(by_hand(x[i : i + 1]), t[i : i + 1])
        by_hand.cleargrads()
        loss.backward()
        optimizer.update()
        losses.append(float(loss.array))
    numpy.testing.assert_allclose(curve, losses, rtol=1e-6)
    numpy.testing.assert_array_equal(by_library.fc2.W.array, by_hand.fc2.W.array)


def test_row_by_row_regression_reduces_the_squared_error():
    course.set_seed(0)
    net = TwoLayerNet(n_out=1)
    x, t = truth_table("and", repeats=100, regression=True)
    curve = train_row_by_row(net, x, t, F.mean_squared_error, _sgd(), record_every=100)
    assert curve[-1] < curve[0]


def test_row_by_row_loop_refuses_mismatched_inputs():
    x, t = truth_table("and", repeats=2)
    with pytest.raises(ValueError, match="x has 8 rows but t has 7"):
        train_row_by_row(OneLayerNet(), x, t[:7], F.softmax_cross_entropy, _sgd())
    with pytest.raises(ValueError, match="record_every"):
        train_row_by_row(OneLayerNet(), x, t, F.softmax_cross_entropy, _sgd(), record_every=0)
    optimizer = _sgd()
    optimizer.setup(OneLayerNet())
    with pytest.raises(ValueError, match="another model"):
        train_row_by_row(OneLayerNet(), x, t, F.softmax_cross_entropy, optimizer)


def test_plot_loss_curves_draws_one_line_per_curve():
    ax = plot_loss_curves({"a": [1.0, 0.5], "b": [0.7, 0.6, 0.2]}, rows_per_point=10, log_scale=True)
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert ax.lines[1].get_xdata().tolist() == [10, 20, 30]
    assert ax.get_yscale() == "log"
    matplotlib.pyplot.close(ax.figure)
