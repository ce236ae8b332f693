"""Lesson 4's detection: IoU, windows, suppression, the detectors, matching, and their clear errors."""
import sys

import numpy
import pytest

from course.data import DataError
from course.data.faces import (
    TEST_PHOTOS, TRAINING_PHOTOS, VALIDATION_PHOTOS, Scene, feathered_mask, load_offline_faces, make_scenes,
    paste_square, scene_photos,
)
from course.detection import (
    SEED_SCALES, AnimeFaceDetector, CascadeDetector, CNNDetector, DetectionScore, Detections, SceneCounts, ScoredScenes,
    SkimageCascadeDetector, best_window_iou, choose_setting, count_windows, crop_windows, detection_table,
    difference_interval, evaluate_detector, match_detections, mine_windows, non_max_suppression, recall_at,
    sliding_windows,
)
from course.metrics import bootstrap_interval, box_iou


# --- box_iou ----------------------------------------------------------------------------------------

def test_box_iou_of_known_pairs():
    assert box_iou((0, 0, 10, 10), (5, 5, 15, 15)) == pytest.approx(25 / 175)
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (2, 2, 6, 6)) == pytest.approx(16 / 100)
    assert box_iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0  # touching
    assert box_iou((0, 0, 10, 10), (50, 50, 60, 60)) == 0.0  # apart: not negative, not positive
    assert box_iou((0, 0, 5, 5), (0, 0, 0, 0)) == 0.0  # an empty box


def test_box_iou_is_vectorised_and_symmetric():
    rng = numpy.random.RandomState(0)
    corners = rng.uniform(0, 50, size=(7, 2))
    a = numpy.concatenate([corners, corners + rng.uniform(1, 30, size=(7, 2))], axis=1)
    b = a[:4] + 3
    matrix = box_iou(a, b)
    assert matrix.shape == (7, 4)
    for i in range(7):
        for j in range(4):
            assert matrix[i, j] == pytest.approx(box_iou(a[i], b[j]))
    numpy.testing.assert_allclose(box_iou(b, a), matrix.T)
    assert box_iou(a[0], b).shape == (4,) and box_iou(a, b[0]).shape == (7,)
    assert ((0 <= matrix) & (matrix <= 1)).all()


def test_box_iou_refuses_width_height_boxes():
    with pytest.raises(ValueError, match="not \\(x, y, width, height\\)"):
        box_iou((10, 10, 5, 5), (0, 0, 10, 10))
    with pytest.raises(ValueError, match="shape"):
        box_iou((0, 0, 10), (0, 0, 10, 10))


# --- windows ----------------------------------------------------------------------------------------

def test_sliding_windows_fit_inside_and_step_by_stride():
    boxes = sliding_windows(100, 60, 48, 16)
    assert len(boxes) == ((100 - 48) // 16 + 1) * ((60 - 48) // 16 + 1) == 4
    assert (boxes[:, 2] <= 100).all() and (boxes[:, 3] <= 60).all() and (boxes[:, :2] >= 0).all()
    numpy.testing.assert_array_equal(boxes[:, 2] - boxes[:, 0], 48)
    assert sorted(set(boxes[:, 0].tolist())) == [0, 16, 32, 48]


def test_count_windows_of_the_seed_scales():
    assert count_windows(320, 240) == 18 * 13 + 11 * 8 + 4 * 3 == 334
    assert count_windows(40, 40) == 0  # smaller than every window
    with pytest.raises(ValueError, match="positive"):
        sliding_windows(100, 100, 48, 0)


def test_best_window_iou_says_how_well_a_grid_frames_a_box():
    boxes = numpy.array([[0, 0, 48, 48], [8, 8, 56, 56], [0, 0, 40, 40]], numpy.float32)
    best = best_window_iou(boxes, 100, 60, [(48, 16)])
    assert best[0] == 1.0  # a window exactly there
    assert best[1] == pytest.approx(box_iou((0, 0, 48, 48), (8, 8, 56, 56)))  # between grid points
    assert best[2] == pytest.approx(40 * 40 / 48 ** 2)  # smaller than every window
    assert (best_window_iou(boxes, 40, 40, [(48, 16)]) == 0).all()  # no window fits


def test_crop_windows_resizes_each_window():
    image = numpy.zeros((60, 80), numpy.float32)
    image[:30, :40] = 1.0
    windows = crop_windows(image, numpy.array([[0, 0, 40, 30], [40, 30, 80, 60]], numpy.float32), 8)
    assert windows.shape == (2, 1, 8, 8) and windows.dtype == numpy.float32
    assert windows[0].min() == 1.0 and windows[1].max() == 0.0


# --- non-max suppression ----------------------------------------------------------------------------

def test_nms_keeps_the_most_confident_of_each_cluster():
    boxes = numpy.array([[0, 0, 10, 10], [1, 1, 11, 11], [30, 30, 40, 40], [2, 0, 12, 10]], float)
    kept = non_max_suppression(boxes, numpy.array([0.6, 0.9, 0.8, 0.7]), 0.3)
    assert kept.tolist() == [1, 2]


def test_nms_a_suppressed_box_suppresses_nothing():
    boxes = numpy.array([[0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]], float)
    assert box_iou(boxes[0], boxes[1]) > 0.3 and box_iou(boxes[1], boxes[2]) > 0.3 and box_iou(boxes[0], boxes[2]) < 0.3
    assert non_max_suppression(boxes, numpy.array([0.9, 0.8, 0.7]), 0.3).tolist() == [0, 2]


def test_nms_suppresses_at_exactly_the_threshold_and_handles_nothing():
    boxes = numpy.array([[0, 0, 10, 10], [0, 0, 10, 3]], float)
    assert box_iou(boxes[0], boxes[1]) == 0.3
    assert non_max_suppression(boxes, numpy.array([0.9, 0.5]), 0.3).tolist() == [0]
    assert non_max_suppression(numpy.empty((0, 4)), numpy.empty(0)).tolist() == []
    with pytest.raises(ValueError, match="match one to one"):
        non_max_suppression(boxes, numpy.array([0.9]))


# --- scenes -----------------------------------------------------------------------------------------

def test_paste_square_upright_and_tilted_with_hard_edges():
    image = numpy.zeros((50, 50), numpy.float32)
    face = numpy.ones((10, 10), numpy.float32)
    paste_square(image, face, (10, 10, 30, 30), feather=0)
    assert image[11:29, 11:29].min() == pytest.approx(1.0) and image[:9].max() == 0 and image[31:].max() == 0
    tilted = numpy.zeros((50, 50), numpy.float32)
    paste_square(tilted, face, (10, 10, 30, 30), angle=45, feather=0)
    assert tilted[20, 20] == pytest.approx(1.0)  # the centre is covered
    assert tilted[10, 10] == 0  # the corner of the box shows the background
    assert tilted[20, 7] > 0.5  # the turned square reaches beyond the box's side
    with pytest.raises(ValueError, match="square"):
        paste_square(image, face, (0, 0, 10, 20))
    with pytest.raises(ValueError, match="square grey image"):
        paste_square(image, numpy.ones((10, 12), numpy.float32), (0, 0, 10, 10))


def test_feathered_edges_blend_into_the_photo():
    mask = feathered_mask(20, 0.25)
    assert mask.shape == (20, 20) and mask[5:15, 5:15].min() == 1.0  # the inside is pasted as it is
    assert 0 < mask[0, 10] < mask[2, 10] < mask[4, 10] < 1  # the border ramps up from the edge
    numpy.testing.assert_array_equal(mask, mask.T)
    numpy.testing.assert_array_equal(feathered_mask(8, 0), numpy.ones((8, 8), numpy.float32))
    with pytest.raises(ValueError, match="between 0 and 0.5"):
        feathered_mask(8, 0.7)
    image = numpy.zeros((40, 40), numpy.float32)
    paste_square(image, numpy.ones((20, 20), numpy.float32), (10, 10, 30, 30))  # the default feather
    assert image[20, 20] == pytest.approx(1.0) and 0 < image[20, 10] < 0.5 < image[20, 14]
    row = image[20, 8:21]
    assert (numpy.diff(row) >= -1e-6).all()  # no step at the edge: it rises smoothly


def test_make_scenes_places_faces_and_nonfaces_without_overlap():
    rng = numpy.random.RandomState(0)
    faces, nonfaces = rng.rand(5, 24, 24).astype(numpy.float32), rng.rand(4, 24, 24).astype(numpy.float32)
    scenes = make_scenes(faces, 3, width=200, height=150, faces_per_scene=3, sizes=(30, 50), tilt=(30, 60))
    assert len(scenes) == 3
    for scene in scenes:
        assert scene.image.shape == (150, 200) and scene.image.dtype == numpy.float32
        assert scene.boxes.shape == (3, 4) and scene.tilted.tolist() == [False, True, True]
        assert (30 <= numpy.abs(scene.angles[1:])).all() and (numpy.abs(scene.angles[1:]) <= 60).all()
        assert numpy.allclose(box_iou(scene.boxes, scene.boxes) - numpy.eye(3), 0)
        assert scene.nonface_boxes.shape == (0, 4)  # no non-faces given, none pasted
    mixed = make_scenes(faces, 4, nonfaces=nonfaces, width=240, height=180, faces_per_scene=2, sizes=(30, 50))
    for scene in mixed:
        assert scene.boxes.shape == (2, 4) and scene.nonface_boxes.shape == (2, 4)  # as many non-faces as faces
        assert scene.tilted.tolist() == [False, True]
        assert (numpy.abs(scene.nonface_angles) > 1).tolist() == [False, True]
        every = numpy.concatenate([scene.boxes, scene.nonface_boxes])
        assert numpy.allclose(box_iou(every, every) - numpy.eye(4), 0)
        sides = every[:, 2] - every[:, 0]
        assert ((30 <= sides) & (sides <= 50)).all()
    assert {tuple(s.nonface_boxes[0]) for s in mixed} != {tuple(mixed[0].nonface_boxes[0])}  # placed at random
    assert make_scenes(faces, 1, nonfaces=nonfaces, nonfaces_per_scene=3, width=240, height=180,
                       sizes=(30, 40))[0].nonface_boxes.shape == (3, 4)
    with pytest.raises(ValueError, match="do not fit"):
        make_scenes(faces, 1, width=60, height=40, sizes=(30, 50))
    with pytest.raises(ValueError, match="could not place"):
        make_scenes(faces, 1, nonfaces=nonfaces, width=100, height=100, faces_per_scene=4, sizes=(40, 50))
    with pytest.raises(ValueError, match="nonfaces must be square"):
        make_scenes(faces, 1, nonfaces=nonfaces[:, :, :10])


def test_scenes_of_each_split_use_that_splits_crops_and_photos():
    data = load_offline_faces(24, nonface_crops=30)
    scenes = {split: data.scenes(split, 2) for split in ("train", "validation", "test")}
    for split, made in scenes.items():
        assert len(made) == 2 and all(s.boxes.shape == (4, 4) and s.nonface_boxes.shape == (4, 4) for s in made)
    assert not numpy.array_equal(scenes["validation"][0].image, scenes["test"][0].image)
    again = data.scenes("test", 2)
    numpy.testing.assert_array_equal(again[1].image, scenes["test"][1].image)  # the split's own seed: the same scenes
    numpy.testing.assert_array_equal(again[1].boxes, scenes["test"][1].boxes)
    with pytest.raises(ValueError, match="no split named 'holdout'"):
        data.scenes("holdout", 1)
    photos = {split: scene_photos(split) for split in ("train", "validation", "test")}
    assert [len(photos[split]) for split in photos] == [len(TRAINING_PHOTOS), len(VALIDATION_PHOTOS), len(TEST_PHOTOS)]
    assert min(min(p.shape) for p in photos["validation"]) >= 240  # each covers a 320x240 scene once zoomed


# --- matching and scores ----------------------------------------------------------------------------

def test_match_detections_counts_a_face_once():
    truth = numpy.array([[0, 0, 10, 10], [50, 50, 60, 60]], numpy.float32)
    detections = Detections(numpy.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]], numpy.float32),
                            numpy.array([0.9, 0.95, 0.8], numpy.float32))
    found, right = match_detections(detections, truth)
    assert found.tolist() == [True, False]
    assert right.tolist() == [False, True, False]  # the more confident of the two takes the face


class _Fixed:
    """A fake detector that returns given boxes per call, to test the evaluation."""

    def __init__(self, outputs):
        self.outputs = iter(outputs)

    def __call__(self, image):
        boxes = numpy.array(next(self.outputs), numpy.float32).reshape(-1, 4)
        return Detections(boxes, numpy.ones(len(boxes), numpy.float32))


def _two_scenes():
    image = numpy.zeros((100, 100), numpy.float32)
    return [Scene(image, numpy.array([[0, 0, 20, 20], [50, 50, 70, 70]], numpy.float32), numpy.array([0.0, 45.0]),
                  numpy.array([[80, 0, 100, 20]], numpy.float32), numpy.array([0.0], numpy.float32)),
            Scene(image, numpy.array([[10, 10, 30, 30]], numpy.float32), numpy.array([-40.0]))]


def test_evaluate_detector_precision_and_recall_by_kind():
    scenes = _two_scenes()
    detector = _Fixed([[[0, 0, 20, 20], [80, 0, 100, 20], [40, 80, 60, 100]], [[10, 10, 30, 30]]])
    score, results = evaluate_detector(detector, scenes)
    assert (score.true_positives, score.false_positives, score.missed) == (2, 2, 1)
    assert score.precision == pytest.approx(2 / 4) and score.recall == pytest.approx(2 / 3)
    assert score.recall_upright == 1.0 and score.recall_tilted == 0.5
    counts = score.counts  # per scene, for the intervals
    assert counts.true_positives.tolist() == [1, 1] and counts.false_positives.tolist() == [2, 0]
    assert counts.on_nonfaces.tolist() == [1, 0]  # one false alarm framed the pasted non-face
    assert (counts.upright.tolist(), counts.tilted.tolist(), counts.tilted_found.tolist()) == ([1, 0], [1, 1], [0, 1])
    assert len(results) == 2 and score.seconds_per_image >= 0
    assert "precision" in score.row()
    nothing, _ = evaluate_detector(_Fixed([[], []]), scenes)
    assert numpy.isnan(nothing.precision) and nothing.recall == 0
    with pytest.raises(ValueError, match="no scenes"):
        evaluate_detector(detector, [])
    with pytest.raises(ValueError, match="no figure named 'accuracy'"):
        score.figure("accuracy")


def test_intervals_resample_scenes():
    scenes = _two_scenes() * 10  # 20 scenes, so the bootstrap has something to resample
    outputs = [[[0, 0, 20, 20], [80, 0, 100, 20]], [[10, 10, 30, 30]]] * 10
    score, _ = evaluate_detector(_Fixed(outputs), scenes)
    precision = score.interval("precision")
    assert precision.value == pytest.approx(score.precision) and precision.low <= precision.value <= precision.high
    counts = score.counts
    expected = bootstrap_interval(lambda tp, n: tp.sum() / n.sum(),
                                  (counts.true_positives, counts.true_positives + counts.false_positives))
    assert (precision.low, precision.high) == pytest.approx((expected.low, expected.high))
    assert precision.low < precision.high  # scenes differ, so the interval has a width
    tilted = score.interval("recall_tilted")
    assert tilted.value == pytest.approx(0.5) and tilted.low < 0.5 < tilted.high
    same = difference_interval(score, score, "precision")
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)  # paired: a detector never differs from itself
    better, _ = evaluate_detector(_Fixed([[[0, 0, 20, 20]], [[10, 10, 30, 30]]] * 10), scenes)
    gap = difference_interval(better, score, "precision")
    assert gap.value == pytest.approx(1 - score.precision) and gap.low > 0
    with pytest.raises(ValueError, match="same scenes"):
        difference_interval(score, evaluate_detector(_Fixed([[], []]), _two_scenes())[0], "precision")
    table = detection_table({"fixed": score, "better": better})
    assert "fixed" in table and "better" in table and str(precision) in table and "[95% interval]" in table


# --- the CNN detector -------------------------------------------------------------------------------

class _Bright:
    """A stand-in classifier: P(face) is the window's mean brightness."""

    insize = 8

    def face_probability(self, x, **kwargs):
        return x.reshape(len(x), -1).mean(axis=1).astype(numpy.float64)


def test_cnn_detector_finds_the_bright_square_in_original_pixels():
    image = numpy.zeros((240, 640), numpy.float32)  # wider than 512: shrunk by 0.8 first
    image[60:120, 80:140] = 1.0  # 48 x 48 at (64, 48) once shrunk: exactly one window of the grid
    detections = CNNDetector(_Bright(), threshold=0.9)(image)
    assert len(detections) == 1
    numpy.testing.assert_allclose(detections.boxes[0], (80, 60, 140, 120), atol=1e-4)
    boxes, probabilities = CNNDetector(_Bright()).score_windows(image)
    assert len(boxes) == count_windows(512, 192) and probabilities.shape == (len(boxes),)


def test_cnn_detector_min_neighbors_drops_lone_windows():
    boxes = numpy.array([[0, 0, 48, 48], [8, 0, 56, 48], [200, 0, 248, 48]], numpy.float32)
    probabilities = numpy.array([0.95, 0.9, 0.99])  # a face lit up by two windows; a lone false alarm
    seed_rule = CNNDetector(_Bright()).select(boxes, probabilities)
    assert sorted(seed_rule.boxes[:, 0].tolist()) == [0, 200]
    neighbours = CNNDetector(_Bright(), min_neighbors=2).select(boxes, probabilities)
    assert neighbours.boxes[:, 0].tolist() == [0] and neighbours.scores.tolist() == [0.95]
    asked = CNNDetector(_Bright()).select(boxes, probabilities, min_neighbors=2)  # a setting for one call
    numpy.testing.assert_array_equal(asked.boxes, neighbours.boxes)
    assert len(CNNDetector(_Bright()).select(boxes, probabilities, threshold=0.96)) == 1
    with pytest.raises(ValueError, match="min_neighbors"):
        CNNDetector(_Bright(), min_neighbors=0)


def test_cnn_detector_refuses_an_image_smaller_than_the_window():
    with pytest.raises(ValueError, match="smaller than the smallest window"):
        CNNDetector(_Bright())(numpy.zeros((30, 200), numpy.float32))
    with pytest.raises(ValueError, match="one image"):
        CNNDetector(_Bright())(numpy.zeros((2, 100, 100, 3), numpy.float32))
    with pytest.raises(ValueError, match="probability"):
        CNNDetector(_Bright(), threshold=2)


def test_mine_windows_labels_framed_faces_and_false_alarms():
    image = numpy.zeros((120, 160), numpy.float32)
    image[0:48, 0:48] = 1.0  # a "face" that the fake model and the scene both know
    image[64:112, 96:144] = 1.0  # bright, but not a face: a false alarm
    scene = Scene(image, numpy.array([[0, 0, 48, 48]], numpy.float32), numpy.array([0.0]))
    windows, labels = mine_windows(CNNDetector(_Bright(), scales=[(48, 16)], threshold=0.9), [scene],
                                   positive_iou=0.6, negative_iou=0.4)
    assert windows.shape[1:] == (1, 8, 8) and len(windows) == len(labels)
    assert labels.sum() == 1 and windows[labels == 1].min() == 1.0  # the one window framing the face
    assert (labels == 0).sum() == 1  # the one bright window elsewhere


# --- classical detectors ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def upright_scene():
    faces = load_offline_faces(32, nonface_crops=10).faces("test")
    return make_scenes(faces, 1, faces_per_scene=2, tilt=(0, 0), sizes=(64, 80), seed=1)[0]


@pytest.mark.parametrize("detector", [CascadeDetector, SkimageCascadeDetector])
def test_cascades_find_upright_pasted_faces(detector, upright_scene):
    found, _ = match_detections(detector()(upright_scene.image), upright_scene.boxes)
    assert found.all()


@pytest.mark.parametrize("detector", [CascadeDetector, SkimageCascadeDetector])
def test_cascades_search_only_the_sizes_asked(detector, upright_scene):
    found = detector(min_size=60, max_size=90)(upright_scene.image)
    sides = found.boxes[:, 2] - found.boxes[:, 0]
    assert len(found) and ((60 <= sides) & (sides <= 90)).all()
    small = detector(min_size=20, max_size=30)(upright_scene.image).boxes  # the faces are 64-80 px: too large
    assert ((small[:, 2] - small[:, 0]) <= 30).all()


def test_cascade_paths_that_do_not_exist_or_do_not_load(tmp_path):
    for detector in (CascadeDetector, SkimageCascadeDetector):
        with pytest.raises(FileNotFoundError, match="lbpcascade_animeface"):
            detector(tmp_path / "lbpcascade_animeface.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<opencv_storage><cascade>not a cascade</cascade></opencv_storage>")
    for detector in (CascadeDetector, SkimageCascadeDetector):
        with pytest.raises(DataError, match="broken.xml"):
            detector(broken)


def test_animeface_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "animeface", None)  # import animeface now raises ImportError
    with pytest.raises(ImportError, match="pip install animeface"):
        AnimeFaceDetector()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # animeface calls a Pillow method Pillow 14 removes
def test_animeface_when_installed_returns_detections():
    pytest.importorskip("animeface")
    detections = AnimeFaceDetector()(numpy.zeros((64, 64, 3), numpy.uint8))
    assert isinstance(detections, Detections) and len(detections) == 0


def test_detectors_take_colour_and_uint8_images(upright_scene):
    colour = (numpy.repeat(upright_scene.image[..., None], 3, axis=2) * 255).astype(numpy.uint8)
    grey = CascadeDetector()(upright_scene.image)
    from_colour = CascadeDetector()(colour)
    assert len(from_colour) == len(grey) and (box_iou(from_colour.boxes, grey.boxes).max(axis=1) > 0.9).all()
    assert SEED_SCALES == ((48, 16), (72, 24), (144, 48))


def test_scored_scenes_sweep_matches_separate_runs():
    image = numpy.zeros((120, 160), numpy.float32)
    image[0:48, 0:48] = 1.0
    image[64:112, 96:144] = 0.7
    scene = Scene(image, numpy.array([[0, 0, 48, 48]], numpy.float32), numpy.array([0.0]))
    detector = CNNDetector(_Bright(), scales=[(48, 16)])
    scored = ScoredScenes(detector, [scene], progress=False)
    curve = scored.sweep([0.5, 0.9], min_neighbors=(1, 2))
    assert list(curve) == [(1, 0.5), (1, 0.9), (2, 0.5), (2, 0.9)]
    for (neighbours, threshold), score in curve.items():
        alone, found = evaluate_detector(CNNDetector(_Bright(), scales=[(48, 16)], threshold=threshold,
                                                     min_neighbors=neighbours), [scene])
        assert (score.true_positives, score.false_positives, score.missed) == \
            (alone.true_positives, alone.false_positives, alone.missed)
        numpy.testing.assert_array_equal(scored.evaluate(threshold, neighbours)[1][0].boxes, found[0].boxes)
    assert curve[(1, 0.5)].false_positives == 1 and curve[(1, 0.9)].false_positives == 0 and curve[(1, 0.9)].recall == 1
    assert scored.seconds_per_image > 0 and scored.evaluate()[0].seconds_per_image == scored.seconds_per_image
    with pytest.raises(ValueError, match="no scenes"):
        ScoredScenes(detector, [], progress=False)


def _score(tp, fp, found, faces=10):
    """A score with one scene per entry: tp right and fp wrong detections, found of its faces (all upright)."""
    n = len(tp)
    zeros = numpy.zeros(n, numpy.int64)
    return DetectionScore(SceneCounts(numpy.array(tp), numpy.array(fp), zeros, numpy.full(n, faces), numpy.array(found),
                                      zeros, zeros))


def test_choose_setting_finds_the_most_faces_at_the_precision_asked():
    sweep = {
        (1, 0.5): _score([8], [8], [8]),  # precision 0.5: not enough
        (1, 0.9): _score([6], [1], [6]),  # 0.857: enough, recall 0.6
        (2, 0.5): _score([7], [1], [7]),  # 0.875: enough, recall 0.7 -> chosen
        (2, 0.9): _score([3], [0], [3]),  # 1.0, but recall 0.3
        (3, 0.99): _score([0], [0], [0]),  # nothing found: precision NaN never counts
    }
    assert choose_setting(sweep, 0.85) == (2, 0.5)
    assert choose_setting(sweep, 0.9) == (2, 0.9)
    assert recall_at(sweep, 0.85) == pytest.approx(0.7) and recall_at(sweep, 0.9) == pytest.approx(0.3)
    assert recall_at(sweep, 0.4) == pytest.approx(0.8) and recall_at({(1, 0.5): sweep[(1, 0.5)]}, 0.9) == 0
    tie = {(1, 0.8): _score([5], [1], [5]), (2, 0.8): _score([5], [1], [5]), (2, 0.9): _score([5], [0], [5])}
    assert choose_setting(tie, 0.5) == (2, 0.9)  # equal recall: the more precise, then the stricter
    with pytest.raises(ValueError, match="no setting reaches a precision of 100.0% \\(the best reaches 87.5%\\)"):
        choose_setting({k: v for k, v in sweep.items() if k != (2, 0.9)}, 1.0)


def test_detection_pictures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course.viz import plot_precision_recall, show_detections, show_iou

    image = numpy.zeros((50, 60), numpy.float32)
    found = Detections(numpy.array([[1, 2, 21, 22]], numpy.float32), numpy.ones(1))
    figure = show_detections([image, image], [numpy.array([[0, 0, 20, 20]])] * 2, {"CNN": [found, found]}, columns=2)
    assert len(figure.axes[0].patches) == 2 and len(figure.axes[1].patches) == 2
    plt.close(figure)
    figure = show_detections([image], [numpy.array([[0, 0, 20, 20]])], nonfaces=[numpy.array([[30, 0, 50, 20]])])
    assert len(figure.axes[0].patches) == 2 and "pasted non-face" in [t.get_text() for t in figure.legends[0].texts]
    plt.close(figure)
    score = _score([1, 2, 1], [1, 0, 1], [1, 1, 0], faces=2)
    figure = plot_precision_recall({0.5: score, 0.9: score}, {"Haar": score, "LBP": score},
                                   recall=("recall_upright", "recall"))
    assert len(figure.axes) == 2 and len(figure.axes[0].containers) == 2  # one error bar per detector
    plt.close(figure)
    figure = plot_precision_recall({0.5: score}, {"Haar": score}, recall="recall_upright", intervals=False)
    assert len(figure.axes) == 1 and not figure.axes[0].containers
    plt.close(figure)
    figure = show_iou([((0, 0, 10, 10), (5, 0, 15, 10)), ((0, 0, 10, 10), (20, 0, 30, 10))])
    assert [ax.get_title() for ax in figure.axes] == ["IoU 0.33: no match", "IoU 0.00: no match"]
    assert len(figure.axes[0].patches) == 3 and len(figure.axes[1].patches) == 2  # no intersection to shade
    plt.close(figure)
