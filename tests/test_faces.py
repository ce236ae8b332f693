"""Lesson 4's data, model, training task and CLI, and its exercise checkers."""
import cv2
import numpy
import pytest

from dataclasses import replace

from conftest import size_arguments
from course.__main__ import main
from course.checks.lesson04 import check_iou, check_nms, check_rotations, check_window_count
from course.data import DataError
from course.data.faces import (
    TEST_PHOTOS, TRAINING_PHOTOS, VALIDATION_PHOTOS, crops_from_frames, load_face_folder, load_faces,
    load_offline_faces, rotate_90s,
)
from course.detection import Detections, non_max_suppression
from course.images import read_grey
from course.metrics import box_iou
from course.models import FrgNet, load_model, save_model
from course.tasks.faces import QUICK, batch_norm_effect


def _hint(capsys) -> str:
    printed = capsys.readouterr().out
    assert printed.startswith("✗"), printed
    return printed


def _write_folder(root, n_faces=4, n_nonfaces=5, size=30):
    rng = numpy.random.RandomState(0)
    for name, n in (("face", n_faces), ("nonface", n_nonfaces)):
        (root / name).mkdir(parents=True)
        for i in range(n):
            image = rng.randint(0, 256, size=(size, size + i, 3)).astype(numpy.uint8)
            cv2.imwrite(str(root / name / f"{i}.{'png' if i % 2 else 'jpg'}"), image)
    return root


# --- data -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def offline():
    return load_offline_faces(24, nonface_crops=100)


def test_offline_faces_are_real_grey_crops_split_three_ways(offline):
    (x, t), (xv, tv), (xt, tt) = offline.train, offline.validation, offline.test
    assert x.shape[1:] == (1, 24, 24) and x.dtype == numpy.float32 and t.dtype == numpy.int32
    assert 0 <= x.min() and x.max() <= 1
    assert (t.sum(), tv.sum(), tt.sum()) == (70, 10, 20)  # LFW's 100 faces: a fifth for the test, a tenth to validate
    assert (len(tv) - tv.sum(), len(tt) - tt.sum()) == (10 + 10, 20 + 20)  # non-faces: LFW's and the photo crops
    assert len(t) + len(tv) + len(tt) == 200 + 100
    rows = [{row.tobytes() for row in part.reshape(len(part), -1)} for part in (x, xv, xt)]
    assert not rows[0] & rows[1] and not rows[0] & rows[2] and not rows[1] & rows[2]  # no crop in two splits
    assert offline.faces("test").shape == (20, 24, 24) and offline.faces("train").shape == (70, 24, 24)
    assert offline.nonfaces("validation").shape == (20, 24, 24)
    numpy.testing.assert_array_equal(offline.split("validation")[0], xv)
    with pytest.raises(ValueError, match="no split named"):
        offline.faces("held_out")
    assert len(set(t[:20].tolist())) == 2  # shuffled, not sorted by class
    photos = [set(TRAINING_PHOTOS), set(VALIDATION_PHOTOS), set(TEST_PHOTOS)]
    assert not photos[0] & photos[1] and not photos[0] & photos[2] and not photos[1] & photos[2]


def test_offline_faces_are_the_same_every_time(offline):
    again = load_offline_faces(24, nonface_crops=100)
    numpy.testing.assert_array_equal(again.train[0], offline.train[0])


def test_load_faces_reads_a_folder_and_refuses_unknown_sources(tmp_path, capsys):
    root = _write_folder(tmp_path / "mine")
    data = load_faces(root, 16)
    assert "your folder" in capsys.readouterr().out
    assert data.source == "folder" and data.size == 16
    assert data.train[0].shape[1:] == (1, 16, 16)
    assert sorted(numpy.concatenate([data.train[1], data.validation[1], data.test[1]]).tolist()) == [0] * 5 + [1] * 4
    for part in (data.validation[1], data.test[1]):
        assert part.tolist().count(1) >= 1 and part.tolist().count(0) >= 1
    with pytest.raises(ValueError, match="unknown faces source 'kaggle'"):
        load_faces("kaggle")


def test_folder_without_a_sub_folder(tmp_path):
    (tmp_path / "face").mkdir()
    cv2.imwrite(str(tmp_path / "face" / "a.png"), numpy.zeros((8, 8), numpy.uint8))
    with pytest.raises(DataError, match="has no nonface/ sub-folder"):
        load_face_folder(tmp_path)
    with pytest.raises(DataError, match="is not a folder"):
        load_face_folder(tmp_path / "missing")


def test_folder_with_an_empty_class(tmp_path):
    root = _write_folder(tmp_path / "mine")
    for path in (root / "nonface").iterdir():
        path.unlink()
    with pytest.raises(DataError, match="nonface is empty"):
        load_face_folder(root)


def test_folder_with_a_file_that_is_not_an_image(tmp_path):
    root = _write_folder(tmp_path / "mine")
    (root / "face" / "notes.txt").write_text("these are my faces")
    with pytest.raises(DataError, match="notes.txt is not an image"):
        load_face_folder(root)
    with pytest.raises(DataError, match="does not exist"):
        read_grey(root / "nope.png")


def test_folder_with_two_images_of_a_class_cannot_be_split_three_ways(tmp_path):
    root = _write_folder(tmp_path / "mine", n_faces=2)
    with pytest.raises(DataError, match="at least three"):
        load_face_folder(root)


def test_read_grey_gives_grey_floats(tmp_path):
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), numpy.full((5, 7, 3), 255, numpy.uint8))
    image = read_grey(path)
    assert image.shape == (5, 7) and image.dtype == numpy.float32 and image.min() == pytest.approx(1.0)


def test_rotate_90s_multiplies_by_four():
    images = numpy.arange(2 * 9, dtype=numpy.float32).reshape(2, 1, 3, 3)
    turned, labels = rotate_90s(images, numpy.array([1, 0]))
    assert turned.shape == (8, 1, 3, 3) and labels.tolist() == [1, 0] * 4
    numpy.testing.assert_array_equal(turned[2, 0], numpy.rot90(images[0, 0]))
    numpy.testing.assert_array_equal(turned[4, 0], images[0, 0][::-1, ::-1])
    with pytest.raises(ValueError, match="square"):
        rotate_90s(numpy.zeros((1, 1, 3, 4)), numpy.zeros(1))
    with pytest.raises(ValueError, match="one to one"):
        rotate_90s(images, numpy.zeros(3))


def test_crops_from_frames_writes_the_seeds_folders(tmp_path):
    frames = []
    for i in range(2):
        path = tmp_path / f"frame{i}.png"
        cv2.imwrite(str(path), numpy.full((60, 80), 100 * i, numpy.uint8))
        frames.append(path)

    def fake_cascade(image):  # a face in the bright frame only
        boxes = [[10, 5, 40, 35]] if image.mean() > 0.1 else []
        return Detections(numpy.array(boxes, numpy.float32).reshape(-1, 4), numpy.ones(len(boxes)))

    counts = crops_from_frames(frames, tmp_path / "set", fake_cascade, nonface_per_frame=3)
    assert counts == {"face": 1, "nonface": 3}
    face = read_grey(tmp_path / "set" / "face" / "frame1_0.png")
    assert face.shape == (30, 30)
    assert len(list((tmp_path / "set" / "nonface").iterdir())) == 3


# --- model ------------------------------------------------------------------------------------------

def test_frgnet_shapes_mean_and_probability():
    model = FrgNet(24, (4, 4, 8, 8), 16)
    x = numpy.random.RandomState(0).rand(5, 1, 24, 24).astype(numpy.float32)
    model.set_mean(x)
    numpy.testing.assert_allclose(model.mean, x.mean(axis=0), rtol=1e-6)
    p = model.face_probability(x)
    assert p.shape == (5,) and p.dtype == numpy.float64 and ((0 < p) & (p < 1)).all()
    with pytest.raises(ValueError, match="resize the crops to 24x24"):
        model(numpy.zeros((2, 1, 32, 32), numpy.float32))
    with pytest.raises(ValueError, match="multiple of 8"):
        FrgNet(25)
    with pytest.raises(ValueError, match="do not fit"):
        model.set_mean(numpy.zeros((2, 1, 8, 8)))


def test_load_model_rebuilds_the_saved_shapes(tmp_path):
    model = FrgNet(16, (4, 6, 8, 10), 12)
    model.set_mean(numpy.full((3, 1, 16, 16), 0.25, numpy.float32))
    save_model(model, tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz", expected=FrgNet)
    assert again.insize == 16 and again.fc5.W.shape == (12, 10 * 2 * 2)
    numpy.testing.assert_array_equal(again.mean, model.mean)
    with pytest.raises(DataError, match="train first"):
        load_model(tmp_path / "none.npz")
    numpy.savez(tmp_path / "other.npz", W=numpy.zeros(3))
    with pytest.raises(ValueError, match="has no other.json beside it saying which model it holds"):
        load_model(tmp_path / "other.npz")


def test_batch_norm_effect_train_mode_uses_the_batch_test_mode_does_not():
    model = FrgNet(16, (4, 4, 8, 8), 8)
    rng = numpy.random.RandomState(0)
    batch = rng.rand(12, 1, 16, 16).astype(numpy.float32)
    model.set_mean(batch)
    model.bn1.avg_mean[:] = 0.05  # as if trained: running averages away from their starting values
    model.bn1.avg_var[:] = 0.02
    model.bn1.gamma.array[:] = numpy.linspace(0.5, 2, 4)
    before = model.bn1.avg_mean.copy(), model.bn1.avg_var.copy()
    effect = batch_norm_effect(model, batch, rng.rand(5, 1, 16, 16).astype(numpy.float32) * 3)
    assert effect.before.shape == effect.train_mode.shape == effect.test_mode.shape == (4, 2)
    numpy.testing.assert_allclose(effect.train_mode[:, 0], effect.beta, atol=1e-5)  # train mode: mean beta...
    numpy.testing.assert_allclose(effect.train_mode[:, 1], numpy.abs(effect.gamma), rtol=1e-2)  # ...spread |gamma|
    assert effect.moved_train_mode > 1e-3 and effect.moved_test_mode == 0  # only train mode looks at the batch
    numpy.testing.assert_array_equal(model.bn1.avg_mean, before[0])  # the model's running averages are untouched
    numpy.testing.assert_array_equal(model.bn1.avg_var, before[1])


# --- training and the CLI ---------------------------------------------------------------------------

TINY = replace(QUICK, insize=16, channels=(4, 4, 8, 8), hidden=8, epochs=1, snapshot_every=3, rounds=1,
               mining_scenes=2, finetune_epochs=1, max_positives=5, max_negatives=5)
"""The quick faces sizes shrunk to seconds, so the real training path can run in a test."""


@pytest.fixture
def on_the_cpu(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DEVICE", "@numpy")


def test_cli_train_resume_and_evaluate(on_the_cpu, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "faces", "--out", str(out), "--source", "offline", *size_arguments(TINY)]) == 0
    for name in ("model.npz", "log.json", "classifier/log.json", "round1/model.npz"):
        assert (out / name).exists(), name
    first = (out / "log.json").read_text()
    assert main(["train", "faces", "--out", str(out), "--source", "offline", *size_arguments(TINY)]) == 0  # done
    assert (out / "log.json").read_text() == first
    assert "validation accuracy" in capsys.readouterr().out

    folder = _write_folder(tmp_path / "test")
    assert main(["evaluate", "faces", "--model", str(out / "model.npz"), "--data", str(folder)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("accuracy ") and 0 <= float(last.split()[1]) <= 1
    assert main(["evaluate", "faces", "--model", str(out / "model.npz"), "--data", str(tmp_path / "none")]) == 2
    assert "none does not exist; give a folder with face/ and nonface/" in capsys.readouterr().err


def test_train_on_a_folder_and_resume_matches(on_the_cpu, tmp_path):
    from course.tasks import faces as task

    root = _write_folder(tmp_path / "mine", n_faces=20, n_nonfaces=20, size=20)
    two = replace(TINY, rounds=0, epochs=2)
    _, whole, _ = task.train(tmp_path / "whole", sizes=two, source=str(root), progress=False)
    task.train(tmp_path / "split", sizes=replace(two, epochs=1), source=str(root), progress=False)
    _, resumed, _ = task.train(tmp_path / "split", sizes=two, source=str(root), progress=False)
    assert [e["epoch"] for e in resumed.log] == [1, 2]
    for a, b in zip(whole.log, resumed.log):
        assert a["main/loss"] == pytest.approx(b["main/loss"], rel=1e-5)
        assert a["lr"] == pytest.approx(b["lr"])
    assert whole.log[1]["lr"] == pytest.approx(whole.log[0]["lr"] * 0.97)


# --- checkers ---------------------------------------------------------------------------------------

def right_iou(a, b):
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_check_iou_accepts_right_answers(capsys):
    assert check_iou(right_iou) and check_iou(lambda a, b: box_iou(a, b))
    assert capsys.readouterr().out.count("✓") == 2


def _overlap(a, b):
    return (min(a[2], b[2]) - max(a[0], b[0])), (min(a[3], b[3]) - max(a[1], b[1]))


def _area(r):
    return (r[2] - r[0]) * (r[3] - r[1])


def unclipped_iou(a, b):
    w, h = _overlap(a, b)
    return w * h / (_area(a) + _area(b) - w * h)


def over_sum_iou(a, b):
    w, h = _overlap(a, b)
    return max(0, w) * max(0, h) / (_area(a) + _area(b))


@pytest.mark.parametrize("wrong, word", [
    (lambda a, b: 0.0, "expected"),
    (unclipped_iou, "clip"),
    (over_sum_iou, "sum of the two areas"),
    (lambda a, b: right_iou((a[0], a[1], a[2] + 1, a[3] + 1), (b[0], b[1], b[2] + 1, b[3] + 1)), "+1"),
    (lambda a, b: None, "one number"),
    (lambda a: 1.0, "raised TypeError"),
    ("iou", "function itself"),
])
def test_check_iou_rejects_typical_mistakes(wrong, word, capsys):
    assert check_iou(wrong).passed is False
    assert word in _hint(capsys)


def test_check_nms_accepts_the_library_and_any_order(capsys):
    assert check_nms(non_max_suppression)
    assert check_nms(lambda b, s, t: list(reversed(non_max_suppression(b, s, t).tolist())))


def _nms_variant(*, sort=True, strict=False, against_all=False, boxes_out=False):
    def nms(boxes, scores, threshold):
        order = numpy.argsort(-scores) if sort else numpy.arange(len(scores))
        kept, dropped = [], set()
        for i in order:
            if i in dropped:
                continue
            kept.append(int(i))
            for j in order:
                overlap = box_iou(boxes[i], boxes[j])
                if j != i and (overlap > threshold if strict else overlap >= threshold):
                    dropped.add(j)
            if against_all:  # wrong: a dropped box still drops others
                for j in list(dropped):
                    for k in order:
                        if k != j and box_iou(boxes[j], boxes[k]) >= threshold:
                            dropped.add(k)
                dropped.discard(i)
        return boxes[kept] if boxes_out else kept
    return nms


@pytest.mark.parametrize("variant, word", [
    (dict(sort=False), "highest score down"),
    (dict(strict=True), ">= threshold"),
    (dict(against_all=True), "suppresses nothing"),
    (dict(boxes_out=True), "returned boxes"),
])
def test_check_nms_rejects_typical_mistakes(variant, word, capsys):
    assert _nms_variant()(numpy.array([[0, 0, 10, 10], [1, 1, 11, 11]], float), numpy.array([0.5, 0.9]), 0.3) == [1]
    assert check_nms(_nms_variant(**variant)).passed is False
    assert word in _hint(capsys)


def test_check_window_count(capsys):
    assert check_window_count(334) and check_window_count(334.0)
    assert check_window_count(7 * 5 + 4 * 2 + 2 * 1, width=200, height=150, scales=[(48, 24), (96, 32), (150, 50)])
    capsys.readouterr()
    for answer, word in ((234, "one scale"), ((320 - 48) // 16 * ((240 - 48) // 16) + 10 * 7 + 3 * 2, "first window"),
                         (20 * 15 + 13 * 10 + 6 * 5, "run off"), (300, "count"), ("334", "whole number"),
                         (True, "whole number")):
        assert check_window_count(answer).passed is False
        assert word in _hint(capsys)


def test_check_rotations(capsys):
    assert check_rotations(rotate_90s)
    assert check_rotations(lambda x, t: (numpy.concatenate([numpy.rot90(x, -k, axes=(2, 3)) for k in range(4)]),
                                         numpy.tile(t, 4)))
    capsys.readouterr()
    mistakes = [
        (lambda x, t: (numpy.concatenate([numpy.rot90(x, k, axes=(2, 3)) for k in (1, 2, 3)]), numpy.tile(t, 3)),
         "keep the originals"),
        (lambda x, t: (numpy.concatenate([x, x[..., ::-1], x[..., ::-1, :], x[..., ::-1, ::-1]]), numpy.tile(t, 4)),
         "mirror"),
        (lambda x, t: (numpy.concatenate([numpy.rot90(x, k, axes=(2, 3)) for k in range(4)]), numpy.repeat(t, 4)),
         "same order"),
        (lambda x, t: (numpy.concatenate([x, x, x, x]), numpy.tile(t, 4)), "appear twice"),
        (lambda x, t: (numpy.rot90(x, 1, axes=(0, 1)), t), "12 images"),
        (lambda x, t: numpy.concatenate([x] * 4), "two arrays"),
    ]
    for mistake, word in mistakes:
        assert check_rotations(mistake).passed is False
        assert word in _hint(capsys)
