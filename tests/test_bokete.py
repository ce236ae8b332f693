"""Lesson 9 (bokete): the caption model, masked loss and decoding, the loaders, tokens, the task and its commands."""
import dataclasses
import json
import math
import subprocess
import sys

import chainer
import numpy
import pytest

import course
from course.data import captions
from course.data.captions import (PAD, Vocabulary, answer_floor, describe, encode_batch, make_scenes, many_answers,
                                  read_caption_table, read_coco_captions, read_flickr8k_tokens, tokenize,
                                  tokenize_texts, word_level)
from course.errors import DataError
from course.images import write_image
from course.metrics import bleu4, exact_match
from course.models import MnistCNN
from course.models.captioning import Captioner, beam_search, cell_features, greedy
from course.tasks import bokete
from tests.conftest import size_arguments


def _image(path):
    write_image(path, numpy.full((4, 4), 0.5, numpy.float32))
    return path


# --- the model and its masked loss ------------------------------------------------------------------

def _model(vocabulary_size=7, seed=0):
    course.set_seed(seed)
    return Captioner(5, vocabulary_size, embed=4, hidden=6)


def test_scores_have_one_row_per_position_and_the_image_enters_at_t0_only():
    model = _model()
    features = numpy.random.RandomState(0).rand(3, 5).astype(numpy.float32)
    targets = numpy.array([[3, 4, 2, PAD], [5, 2, PAD, PAD], [3, 3, 4, 2]], numpy.int32)
    with chainer.using_config("train", False):
        scores = model(features, targets).array
        x = model.inputs(features, targets).array
        other = model.inputs(features * 0 + 1, targets).array
    assert scores.shape == (3, 4, 7)
    assert not numpy.allclose(x[:, 0], other[:, 0])  # t = 0 sees the image ...
    numpy.testing.assert_allclose(x[:, 1:], other[:, 1:])  # ... later steps do not
    numpy.testing.assert_allclose(x[:, 0] - model.project(features).array, model.embed.W.array[[1, 1, 1]], rtol=1e-5)


def test_the_masked_loss_is_the_mean_over_real_tokens_by_hand():
    model = _model()
    features = numpy.random.RandomState(1).rand(2, 5).astype(numpy.float32)
    targets = numpy.array([[3, 4, 2], [5, 2, PAD]], numpy.int32)
    with chainer.using_config("train", False):
        scores = model(features, targets).array
        loss = float(model.loss(features, targets).array)
    log_p = scores - numpy.log(numpy.exp(scores).sum(-1, keepdims=True))
    by_hand = -numpy.mean([log_p[0, 0, 3], log_p[0, 1, 4], log_p[0, 2, 2], log_p[1, 0, 5], log_p[1, 1, 2]])
    assert loss == pytest.approx(by_hand, rel=1e-5)
    # padding changes nothing: the same captions with more padding have the same loss
    padded = numpy.concatenate([targets, numpy.full((2, 3), PAD, numpy.int32)], axis=1)
    with chainer.using_config("train", False):
        assert float(model.loss(features, padded).array) == pytest.approx(loss, rel=1e-5)


def _memorised(steps=300):
    """A tiny model trained to say [3, 4] for image 0 and [5] for image 1."""
    model = _model()
    optimizer = chainer.optimizers.Adam(0.05)
    optimizer.setup(model)
    features = numpy.eye(2, 5, dtype=numpy.float32)
    targets = numpy.array([[3, 4, 2], [5, 2, PAD]], numpy.int32)
    for _ in range(steps):
        model.cleargrads()
        model.loss(features, targets).backward()
        optimizer.update()
    return model, features


def test_greedy_and_beam_search_find_what_the_model_learned():
    model, features = _memorised()
    assert greedy(model, features) == [[3, 4], [5]]
    assert beam_search(model, features, width=3) == [[3, 4], [5]]
    assert beam_search(model, features, width=1) == greedy(model, features)


def test_decoding_stops_at_the_length_cap():
    model = _model(seed=3)  # untrained: it rarely says <eos>
    for rows in (greedy(model, numpy.ones((2, 5), numpy.float32), max_length=3),
                 beam_search(model, numpy.ones((2, 5), numpy.float32), width=2, max_length=3)):
        assert all(len(row) <= 3 for row in rows)
        assert all(2 not in row for row in rows)  # <eos> ends a caption and is not part of it


class _Histories(list):
    """A decoding state that is the tokens each row has read; indexed by an array like the LSTM's state."""

    def __getitem__(self, index):
        if isinstance(index, numpy.ndarray):
            return _Histories(list.__getitem__(self, int(i)) for i in index)
        return list.__getitem__(self, index)


class _Trap:
    """A hand-made "model" whose most likely first token (3) leads to a less likely caption than 4 does."""

    xp, bos, eos = numpy, 1, 2
    TABLE = {(): {3: 0.6, 4: 0.4}, (3,): {2: 0.3, 3: 0.35, 4: 0.35}, (4,): {2: 0.99, 3: 0.01}}

    def step(self, state, tokens, features=None):
        if features is not None:
            histories = [()] * len(tokens)
        else:
            histories = [h + (int(t),) for h, t in zip(state[0], tokens)]
        p = numpy.full((len(histories), 5), 1e-9)
        for row, history in enumerate(histories):
            for token, value in self.TABLE.get(history, {2: 1.0}).items():
                p[row, token] = value
        return (_Histories(histories), _Histories(histories)), numpy.log(p)


def test_beam_search_keeps_the_most_likely_caption_greedy_misses():
    features = numpy.ones((1, 5), numpy.float32)
    assert greedy(_Trap(), features) == [[3, 3]]  # 0.6 * 0.35 = 0.21
    assert beam_search(_Trap(), features, width=2) == [[4]]  # 0.4 * 0.99 = 0.396
    assert beam_search(_Trap(), features, width=1) == [[3, 3]]


def test_cell_features_are_the_cnns_fc3_on_each_cell():
    course.set_seed(0)
    cnn = MnistCNN()
    canvas = numpy.random.RandomState(0).rand(2, 1, 28, 84).astype(numpy.float32)
    features = cell_features(cnn, canvas, device="@numpy")
    assert features.shape == (2, 3 * 128)
    with chainer.using_config("train", False):
        middle = cnn.features(canvas[:, :, :, 28:56]).array
    numpy.testing.assert_allclose(features[:, 128:256], middle, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        cell_features(cnn, canvas[:, :, :, :80], device="@numpy")


# --- tokens, the vocabulary, the scenes -----------------------------------------------------------

def test_tokens_are_words_for_english_and_characters_for_japanese():
    assert tokenize("A dog  runs") == ["a", "dog", "runs"]
    assert tokenize("猫が寝てる", words=False) == ["猫", "が", "寝", "て", "る"]
    assert word_level(["a dog runs", "two cats"]) is True
    assert word_level(["猫が寝てる", "犬です"]) is False


def test_the_vocabulary_keeps_tokens_seen_min_count_times_and_maps_the_rest_to_unk():
    vocabulary = Vocabulary.build([["a", "b", "a"], ["a", "c", "b"]], min_count=2)
    assert vocabulary.tokens == ["<unk>", "<bos>", "<eos>", "a", "b"]
    assert vocabulary.encode(["a", "c", "b"]) == [3, 0, 4]
    assert vocabulary.decode([3, 0, 4, 2, 3]) == ["a", "<unk>", "b"]
    assert Vocabulary.from_json(vocabulary.to_json()).tokens == vocabulary.tokens
    with pytest.raises(DataError):
        Vocabulary.from_json('["a", "b"]')
    targets = encode_batch([["a"], ["b", "a", "b"]], vocabulary, max_length=2)
    numpy.testing.assert_array_equal(targets, [[3, 2, PAD], [4, 3, 2]])


def test_scenes_say_what_is_where():
    assert describe([3, None, 7]) == "a 3 left of a 7"
    assert describe([None, 5, None]) == "a 5 in the middle"
    assert describe([1, 2, 3]) == "a 1 left of a 2 left of a 3"
    digits = numpy.zeros((10, 1, 28, 28), numpy.float32)
    for d in range(10):
        digits[d, 0, d, :] = 1  # digit d lights row d
    scenes = make_scenes(digits, numpy.arange(10), 50, seed=0)
    for image, cells, text in zip(scenes.images, scenes.cells, scenes.captions):
        for cell in range(3):
            window = image[0, :, cell * 28:(cell + 1) * 28]
            lit = numpy.flatnonzero(window.max(axis=1))
            assert list(lit) == ([cells[cell]] if cells[cell] >= 0 else [])
        assert text == describe([int(d) if d >= 0 else None for d in cells])
    with pytest.raises(DataError):
        make_scenes(digits[:, :, :20], numpy.arange(10), 5)


def test_many_answers_and_their_floor():
    index, texts = many_answers(3, 4)
    assert list(index) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert texts[:4] == list(captions.JOKES[:4]) and len(set(texts)) == 4
    tokens = sum(len(tokenize(j)) + 1 for j in captions.JOKES[:4])
    assert answer_floor(4) == pytest.approx(4 * math.log(4) / tokens)
    assert answer_floor(1) == 0.0


# --- real loaders, on small files written here ----------------------------------------------------

def test_the_seeds_table_coco_and_flickr8k(tmp_path):
    for name in ("a.png", "b.png"):
        _image(tmp_path / name)
    (tmp_path / "bokete.csv").write_text("image,text\na.png,猫が寝てる\nb.png,犬です\n", encoding="utf-8")
    pairs = read_caption_table(tmp_path / "bokete.csv")
    assert pairs.images == (tmp_path / "a.png", tmp_path / "b.png") and pairs.texts == ("猫が寝てる", "犬です")
    (tmp_path / "bokete.tsv").write_text("image\ttext\nb.png\tA dog, sleeping\n", encoding="utf-8")
    assert read_caption_table(tmp_path / "bokete.tsv").texts == ("A dog, sleeping",)  # a comma inside: tab-separated
    tokens = tokenize_texts(pairs.texts)  # Japanese: characters
    assert tokens == [["猫", "が", "寝", "て", "る"], ["犬", "で", "す"]]
    assert Vocabulary.build(tokens + [["猫"]], min_count=2).tokens == ["<unk>", "<bos>", "<eos>", "猫"]
    (tmp_path / "c.json").write_text(json.dumps({
        "images": [{"id": 7, "file_name": "a.png"}, {"id": 9, "file_name": "b.png"}],
        "annotations": [{"image_id": 7, "caption": "A cat. "}, {"image_id": 9, "caption": "a dog"},
                        {"image_id": 7, "caption": "a sleeping cat"}]}))
    coco = read_coco_captions(tmp_path / "c.json", tmp_path)
    assert coco.texts == ("A cat.", "a dog", "a sleeping cat") and coco.images[2] == tmp_path / "a.png"
    (tmp_path / "Flickr8k.token.txt").write_text("a.png#0\tA cat .\na.png#1\tsome cat\n\nb.png#0\ta dog\n")
    flickr = read_flickr8k_tokens(tmp_path / "Flickr8k.token.txt", tmp_path)
    assert len(flickr) == 3 and flickr.images[1] == tmp_path / "a.png" and flickr.texts[2] == "a dog"
    assert tokenize_texts(flickr.texts)[0] == ["a", "cat", "."]  # English: words


@pytest.mark.parametrize("name, text, message", [
    ("t.csv", "picture,caption\na.png,x\n", "columns image, text"),
    ("t.csv", "image,text\na.png,\n", "line 2"),
    ("t.csv", "image,text\nmissing.png,x\n", "not there"),
    ("t.csv", "image,text\n", "no captions"),
    ("c.json", "{not json", "not a COCO"),
    ("c.json", '{"images": [], "annotations": [{"image_id": 1, "caption": "x"}]}', "image id 1"),
    ("f.txt", "a.png caption without a tab\n", "line 1"),
])
def test_bad_files_raise_clear_data_errors(tmp_path, name, text, message):
    _image(tmp_path / "a.png")
    (tmp_path / name).write_text(text)
    read = {"t.csv": read_caption_table, "c.json": lambda p: read_coco_captions(p, tmp_path),
            "f.txt": lambda p: read_flickr8k_tokens(p, tmp_path)}[name]
    with pytest.raises(DataError, match=message):
        read(tmp_path / name)
    with pytest.raises(DataError, match="not a file"):
        read(tmp_path / "absent")


# --- metrics and baselines --------------------------------------------------------------------------

def test_bleu_and_exact_match():
    references = [[["a", "3", "left", "of", "a", "7"]], [["a", "5", "in", "the", "middle"]]]
    assert bleu4(references, [r[0] for r in references]) == pytest.approx(1.0)
    assert exact_match(references, [references[0][0], ["a", "5"]]) == 0.5
    worse = bleu4(references, [["a", "3", "left", "of", "a", "1"], ["a", "5", "in", "the", "corner"]])
    assert 0 < worse < 1
    with pytest.raises(ValueError):
        bleu4(references, [["a"]])


def test_the_nearest_neighbour_baseline_takes_the_closest_training_caption():
    train = numpy.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    found = bokete.nearest_neighbour_captions(train, ["a 1 on the left", "a 2 on the left", "a 3 on the left"],
                                              numpy.array([[9.0, 1.0], [1.0, 8.0]]))
    assert found == [tokenize("a 2 on the left"), tokenize("a 3 on the left")]
    assert len(bokete.random_captions(["x", "y"], 5)) == 5


# --- the task and the command line -------------------------------------------------------------------

def test_quick_and_full_differ_in_every_size_and_full_is_the_seeds():
    for field in dataclasses.fields(bokete.Sizes):
        assert getattr(bokete.QUICK, field.name) != getattr(bokete.FULL, field.name), field.name
    assert (bokete.FULL.embed, bokete.FULL.hidden) == (100, 100)


TINY = dataclasses.replace(bokete.QUICK, cnn_digits=200, train_scenes=80, test_scenes=20, embed=8, hidden=8,
                           epochs=2, answers=2, answer_epochs=1)


def test_train_and_caption_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "course", "train", "bokete", "--out", str(out), "--source", "offline",
               *size_arguments(TINY)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "held_out bleu4" in done.stdout or "held_out/bleu4" in done.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["sizes"]["train_scenes"] == 80 and 0 <= report["held_out/bleu4"] <= 1
    assert report["answers/floor"] == pytest.approx(answer_floor(2))
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)  # resumes: finished already
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((out / "report.json").read_text())["held_out/bleu4"] == report["held_out/bleu4"]
    scene = make_scenes(numpy.ones((3, 1, 28, 28), numpy.float32), numpy.array([1, 2, 3]), 1).images[0, 0]
    write_image(tmp_path / "scene.png", scene)
    captioned = subprocess.run([sys.executable, "-m", "course", "caption", "--model", str(out),
                                str(tmp_path / "scene.png")], capture_output=True, text=True, timeout=120)
    assert captioned.returncode == 0, captioned.stderr[-2000:]
    assert captioned.stdout.startswith(f"{tmp_path / 'scene.png'}: ")
    missing = subprocess.run([sys.executable, "-m", "course", "caption", "--model", str(tmp_path),
                              str(tmp_path / "scene.png")], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "has no cnn.npz" in missing.stderr
