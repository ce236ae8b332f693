"""A saved model is rebuilt from its file alone: model.npz for the numbers, model.json for the class and sizes."""
import json

import chainer
import chainer.links as L
import numpy
import pytest

import course
from course.errors import DataError
from course.models import NIN, FrgNet, MLP, MnistCNN, OneLayerNet, ScoreCNN, TwoLayerNet, load_model, predict, save_model

BUILT = [
    (lambda: MLP(n_hidden=16, n_out=3), (2, 784)),
    (lambda: MnistCNN(n_out=5, dropout=0.1), (2, 1, 28, 28)),
    (lambda: OneLayerNet(n_out=1), (2, 2)),
    (lambda: TwoLayerNet(n_hidden=3), (2, 2)),
    (lambda: ScoreCNN((3, 4), 8), (2, 1, 28, 28)),
    (lambda: FrgNet(16, (2, 3, 4, 5), 6), (2, 1, 16, 16)),
    (lambda: NIN(4, image_size=24, insize=20, widths=(4, 4, 4, 4), ksizes=(5, 3, 3, 3), first_stride=2,
                 mean=numpy.full((3, 24, 24), 7, numpy.float32)), (2, 3, 24, 24)),
]


@pytest.mark.parametrize("build, shape", BUILT)
def test_every_course_model_is_rebuilt_from_its_file_alone(build, shape, tmp_path):
    course.set_seed(0)
    model = build()
    x = numpy.random.RandomState(0).uniform(0, 1, shape).astype(numpy.float32)
    expected = predict(model, x)  # also initialises lazily sized layers
    save_model(model, tmp_path / "model.npz")
    again = load_model(tmp_path / "model.npz")
    assert type(again) is type(model)
    numpy.testing.assert_array_equal(predict(again, x), expected)


def test_the_json_names_the_class_and_its_arguments_but_no_arrays(tmp_path):
    model = NIN(4, image_size=24, insize=20, widths=(4, 4, 4, 4), ksizes=(5, 3, 3, 3), first_stride=2,
                mean=numpy.ones((3, 24, 24), numpy.float32))
    save_model(model, tmp_path / "nin.npz")
    config = json.loads((tmp_path / "nin.json").read_text())
    assert config["class"] == "course.models.nin.NIN" and config["format"] == 1
    assert config["arguments"] == {"n_classes": 4, "image_size": 24, "insize": 20, "widths": [4, 4, 4, 4],
                                   "ksizes": [5, 3, 3, 3], "first_stride": 2, "dropout": 0.5, "mean": None}
    numpy.testing.assert_array_equal(load_model(tmp_path / "nin.npz").input.mean, 1)  # the mean is in the npz


def test_a_model_of_your_own_is_saved_as_npz_and_loaded_into_the_model_you_build(tmp_path):
    class Mine(chainer.Chain):
        def __init__(self):
            super().__init__()
            with self.init_scope():
                self.fc = L.Linear(3, 2)

    mine = Mine()
    save_model(mine, tmp_path / "mine.npz")
    assert not (tmp_path / "mine.json").exists()
    with pytest.raises(DataError, match=r"no mine.json beside it.*load_model\(path, model\)"):
        load_model(tmp_path / "mine.npz")
    numpy.testing.assert_array_equal(load_model(tmp_path / "mine.npz", Mine()).fc.W.array, mine.fc.W.array)


def test_a_subclass_that_is_not_saveable_is_not_described_as_its_parent(tmp_path):
    class Wider(MLP):
        pass

    save_model(Wider(n_hidden=4), tmp_path / "wider.npz")
    assert not (tmp_path / "wider.json").exists()


@pytest.mark.parametrize("config, message", [
    ({"format": 1, "class": "os.system", "arguments": {}}, "not one of the course's models"),
    ({"format": 1, "class": "course.models.mnist.Gone", "arguments": {}}, "does not have: retrain"),
    ({"format": 9, "class": "course.models.mnist.MLP", "arguments": {}}, "format 9"),
    ({"class": "course.models.mnist.MLP"}, "format None"),
    ({"format": 1, "arguments": {}}, "not a model description"),
])
def test_a_bad_description_is_refused_without_importing_anything_foreign(tmp_path, config, message):
    save_model(MLP(n_hidden=4), tmp_path / "model.npz")
    (tmp_path / "model.json").write_text(json.dumps(config))
    with pytest.raises(DataError, match=message):
        load_model(tmp_path / "model.npz")


def test_files_that_are_not_models_are_named(tmp_path):
    (tmp_path / "notes.npz").write_text("hello")
    with pytest.raises(DataError, match="notes.npz is not a model file"):
        load_model(tmp_path / "notes.npz")
    save_model(MLP(n_hidden=4), tmp_path / "model.npz")
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(DataError, match="model.json is not valid JSON"):
        load_model(tmp_path / "model.npz")
