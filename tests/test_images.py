"""course.images: the one home of reading, converting, resizing and laying out images."""
import ast
from pathlib import Path

import cv2
import numpy
import pytest

from course import images
from course.files import DataError
from course.images import (
    as_batch, as_float, as_uint8, decode_rgb, over_white, read_grey, read_image, read_rgb, resize, shrink, to_chw,
    to_grey, to_hwc, to_rgb, to_rgba, write_image,
)

REPO = Path(__file__).resolve().parents[1]
RNG = numpy.random.RandomState(0)
GREY_U8 = RNG.randint(0, 256, (6, 9)).astype(numpy.uint8)
RGB_U8 = RNG.randint(0, 256, (6, 9, 3)).astype(numpy.uint8)
RGBA_U8 = RNG.randint(0, 256, (6, 9, 4)).astype(numpy.uint8)


# --- values -----------------------------------------------------------------------------------------

def test_uint8_float_round_trip_is_exact():
    values = numpy.arange(256, dtype=numpy.uint8).reshape(16, 16)
    floats = as_float(values)
    assert floats.dtype == numpy.float32 and floats.min() == 0 and floats.max() == 1
    numpy.testing.assert_array_equal(as_uint8(floats), values)
    assert as_uint8(values) is values  # uint8 is returned as it is


def test_as_float_scales_each_dtype_to_0_1():
    assert as_float(numpy.array([0, 65535], numpy.uint16)).tolist() == [0.0, 1.0]
    assert as_float(numpy.array([False, True])).tolist() == [0.0, 1.0]
    halves = as_float(numpy.array([0.5, 1.5]))  # floats are cast, not clipped
    assert halves.dtype == numpy.float32 and halves.tolist() == [0.5, 1.5]
    with pytest.raises(ValueError, match="numbers"):
        as_float(numpy.array(["a"]))


def test_as_uint8_clips_and_rounds_floats():
    assert as_uint8(numpy.array([-0.2, 0.0, 0.5, 1.0, 1.3], numpy.float32)).tolist() == [0, 0, 128, 255, 255]
    assert as_uint8(numpy.array([True, False])).tolist() == [255, 0]
    assert as_uint8(numpy.array([0, 65535], numpy.uint16)).tolist() == [0, 255]


# --- channels ---------------------------------------------------------------------------------------

def test_alpha_is_composited_over_white_in_uint8_and_float():
    rgba = numpy.array([[[200, 10, 0, 255], [200, 10, 0, 0], [0, 0, 0, 128]]], numpy.uint8)
    rgb = over_white(rgba)
    assert rgb.dtype == numpy.uint8 and rgb.shape == (1, 3, 3)
    assert rgb[0, 0].tolist() == [200, 10, 0]  # opaque: the colour
    assert rgb[0, 1].tolist() == [255, 255, 255]  # transparent: white
    assert rgb[0, 2].tolist() == [127, 127, 127]  # half-transparent black: half-way to white
    floats = over_white(as_float(rgba))
    assert floats.dtype == numpy.float32
    numpy.testing.assert_allclose(floats, rgb / 255, atol=1 / 255)
    with pytest.raises(ValueError, match="RGBA"):
        over_white(RGB_U8)


def test_to_grey_uses_opencvs_weights_and_white_for_transparency():
    pure = numpy.zeros((1, 3, 3), numpy.uint8)
    pure[0, 0, 0] = pure[0, 1, 1] = pure[0, 2, 2] = 255  # red, green, blue
    numpy.testing.assert_allclose(to_grey(pure)[0], [0.299, 0.587, 0.114], atol=1e-6)
    expected = cv2.cvtColor(RGB_U8.astype(numpy.float32) / 255, cv2.COLOR_RGB2GRAY)
    numpy.testing.assert_array_equal(to_grey(RGB_U8), expected)
    transparent = RGBA_U8.copy()
    transparent[..., 3] = 0
    numpy.testing.assert_allclose(to_grey(transparent), 1.0, atol=1e-6)


@pytest.mark.parametrize("image", [GREY_U8, RGB_U8, RGBA_U8, as_float(GREY_U8), as_float(RGB_U8),
                                   as_float(RGBA_U8).astype(numpy.float64), GREY_U8 > 128,
                                   RGB_U8.astype(numpy.uint16) * 257])
def test_to_grey_takes_grey_rgb_rgba_of_uint8_and_float(image):
    grey = to_grey(image)
    assert grey.shape == (6, 9) and grey.dtype == numpy.float32
    assert 0 <= grey.min() and grey.max() <= 1


def test_to_grey_of_uint8_and_its_float_agree_and_grey_stays_as_it_is():
    numpy.testing.assert_array_equal(to_grey(RGB_U8), to_grey(as_float(RGB_U8)))
    numpy.testing.assert_array_equal(to_grey(GREY_U8), as_float(GREY_U8))
    with pytest.raises(ValueError, match=r"\(H, W\), \(H, W, 3\) or \(H, W, 4\)"):
        to_grey(numpy.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="channels-first"):
        to_grey(numpy.zeros((3, 4, 5)))


def test_to_rgb_repeats_grey_composites_alpha_and_keeps_rgb():
    rgb = to_rgb(GREY_U8)
    assert rgb.shape == (6, 9, 3) and rgb.dtype == numpy.uint8
    assert (rgb == GREY_U8[..., None]).all()
    numpy.testing.assert_array_equal(to_rgb(RGBA_U8), over_white(RGBA_U8))
    assert to_rgb(RGB_U8) is RGB_U8
    floats = to_rgb(as_float(RGBA_U8))
    assert floats.dtype == numpy.float32 and floats.shape == (6, 9, 3)
    booleans = to_rgb(GREY_U8 > 128)
    assert booleans.dtype == numpy.float32 and set(numpy.unique(booleans)) == {0.0, 1.0}


def test_to_rgba_adds_or_replaces_opacity():
    opaque = to_rgba(RGB_U8)
    assert opaque.shape == (6, 9, 4) and (opaque[..., 3] == 255).all()
    numpy.testing.assert_array_equal(opaque[..., :3], RGB_U8)
    assert (to_rgba(as_float(GREY_U8))[..., 3] == 1).all()
    mask = numpy.zeros((6, 9), numpy.uint8)
    replaced = to_rgba(RGBA_U8, mask)
    numpy.testing.assert_array_equal(replaced[..., :3], RGBA_U8[..., :3])
    assert (replaced[..., 3] == 0).all()
    assert to_rgba(RGBA_U8) is RGBA_U8
    with pytest.raises(ValueError, match="alpha must have the image's shape"):
        to_rgba(RGB_U8, numpy.zeros((2, 2), numpy.uint8))


# --- sizes ------------------------------------------------------------------------------------------

def _checkerboard(n):
    return (numpy.indices((n, n)).sum(axis=0) % 2).astype(numpy.float32)


def test_resize_averages_pixels_when_shrinking():
    board = _checkerboard(9)
    small = resize(board, 3)
    numpy.testing.assert_array_equal(small, cv2.resize(board, (3, 3), interpolation=cv2.INTER_AREA))
    assert (numpy.isclose(small, 4 / 9) | numpy.isclose(small, 5 / 9)).all()  # each 3x3 block's mean
    linear = cv2.resize(board, (3, 3), interpolation=cv2.INTER_LINEAR)
    assert set(linear.ravel()) <= {0.0, 1.0}  # bilinear would alias: it samples single pixels


def test_resize_is_bilinear_when_enlarging_and_size_is_width_height():
    image = as_float(GREY_U8)
    big = resize(image, (18, 12))
    assert big.shape == (12, 18) and big.dtype == numpy.float32
    numpy.testing.assert_array_equal(big, numpy.clip(cv2.resize(image, (18, 12), interpolation=cv2.INTER_LINEAR), 0, 1))
    forced = resize(RGB_U8, 20, interpolation=cv2.INTER_AREA)
    assert forced.dtype == numpy.uint8 and forced.shape == (20, 20, 3)
    numpy.testing.assert_array_equal(forced, cv2.resize(RGB_U8, (20, 20), interpolation=cv2.INTER_AREA))


def test_resize_keeps_floats_inside_0_1():
    ones = numpy.ones((37, 53), numpy.float32)
    assert resize(ones, 11).max() <= 1.0 and resize(ones, (97, 71)).max() <= 1.0


def test_shrink_keeps_the_aspect_and_never_enlarges():
    image = numpy.zeros((400, 600, 3), numpy.uint8)
    assert shrink(image, 120).shape == (80, 120, 3)
    assert shrink(image, 100, side="shorter").shape == (100, 150, 3)
    assert shrink(image, 600) is image and shrink(image, 5000) is image
    assert shrink(numpy.zeros((1, 500), numpy.uint8), 10).shape == (1, 10)  # at least one pixel
    with pytest.raises(ValueError, match="positive"):
        shrink(image, 0)


# --- layouts ----------------------------------------------------------------------------------------

def test_hwc_chw_round_trips():
    chw = to_chw(RGB_U8)
    assert chw.shape == (3, 6, 9) and chw.flags["C_CONTIGUOUS"]
    numpy.testing.assert_array_equal(chw[1], RGB_U8[..., 1])
    numpy.testing.assert_array_equal(to_hwc(chw), RGB_U8)
    assert to_chw(GREY_U8).shape == (1, 6, 9)
    numpy.testing.assert_array_equal(to_hwc(to_chw(GREY_U8)), GREY_U8)
    with pytest.raises(ValueError):
        to_chw(numpy.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError):
        to_hwc(GREY_U8)


def test_as_batch_gives_float32_nchw():
    batch = as_batch(numpy.stack([GREY_U8, GREY_U8]))
    assert batch.shape == (2, 1, 6, 9) and batch.dtype == numpy.float32
    numpy.testing.assert_array_equal(batch[0, 0], as_float(GREY_U8))
    floats = numpy.full((2, 3, 4, 4), 0.25)
    numpy.testing.assert_array_equal(as_batch(floats), floats.astype(numpy.float32))
    with pytest.raises(ValueError, match="numbers"):
        as_batch(numpy.zeros((2, 4, 4), bool))
    with pytest.raises(ValueError, match=r"\(N, H, W\) or \(N, C, H, W\)"):
        as_batch(numpy.zeros((4, 4)))


# --- files ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("image", [GREY_U8, RGB_U8, RGBA_U8], ids=["grey", "rgb", "rgba"])
def test_write_then_read_is_lossless_in_png(tmp_path, image):
    path = write_image(tmp_path / "sub" / "a.png", image)
    assert path == tmp_path / "sub" / "a.png"
    numpy.testing.assert_array_equal(read_image(path), image)
    assert [p.name for p in path.parent.iterdir()] == ["a.png"]  # no temporary file left behind


def test_files_are_rgb_not_bgr(tmp_path):
    red = numpy.zeros((2, 2, 3), numpy.uint8)
    red[..., 0] = 255
    write_image(tmp_path / "red.png", red)
    assert (cv2.imread(str(tmp_path / "red.png"))[..., 2] == 255).all()  # OpenCV's own BGR order on disk
    assert (read_rgb(tmp_path / "red.png")[..., 0] == 255).all()


def test_read_rgb_and_read_grey_of_each_kind_of_file(tmp_path):
    write_image(tmp_path / "grey.png", GREY_U8)
    rgb = read_rgb(tmp_path / "grey.png")
    assert rgb.shape == (6, 9, 3) and (rgb == GREY_U8[..., None]).all()
    clear = RGBA_U8.copy()
    clear[..., 3] = 0
    write_image(tmp_path / "clear.png", clear)
    numpy.testing.assert_array_equal(read_rgb(tmp_path / "clear.png"), clear[..., :3])  # IMREAD_COLOR drops alpha
    numpy.testing.assert_allclose(read_grey(tmp_path / "clear.png"), 1.0, atol=1e-6)  # grey: over white
    assert cv2.imwrite(str(tmp_path / "deep.png"), numpy.full((3, 3), 65535, numpy.uint16))
    assert read_image(tmp_path / "deep.png").dtype == numpy.uint16
    numpy.testing.assert_array_equal(read_grey(tmp_path / "deep.png"), 1.0)
    write_image(tmp_path / "float.png", as_float(GREY_U8))
    numpy.testing.assert_array_equal(read_image(tmp_path / "float.png"), GREY_U8)


def test_a_missing_file_is_a_clear_data_error(tmp_path):
    for read in (read_image, read_rgb, read_grey):
        with pytest.raises(DataError, match=r"nope\.png does not exist\. Check the path"):
            read(tmp_path / "nope.png")
    with pytest.raises(DataError, match=r"nope\.png does not exist\. Download it again\."):
        read_rgb(tmp_path / "nope.png", fix="Download it again.")


def test_a_text_file_named_png_is_a_clear_data_error(tmp_path):
    (tmp_path / "notes.png").write_text("these are my faces")
    for read in (read_image, read_rgb, read_grey):
        with pytest.raises(DataError, match=r"notes\.png cannot be read as an image: notes\.png is not an image"):
            read(tmp_path / "notes.png")
    with pytest.raises(DataError, match="convert the file to PNG or JPEG"):
        read_image(tmp_path / "notes.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="empty.jpg cannot be read as an image"):
        read_rgb(tmp_path / "empty.jpg")


def test_a_folder_is_a_clear_data_error(tmp_path):
    (tmp_path / "photos.png").mkdir()
    with pytest.raises(DataError, match=r"photos\.png is a folder, not an image file"):
        read_grey(tmp_path / "photos.png")


def test_decode_rgb_reads_bytes_and_names_what_is_not_an_image():
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(RGB_U8, cv2.COLOR_RGB2BGR))
    numpy.testing.assert_array_equal(decode_rgb(encoded.tobytes()), RGB_U8)
    with pytest.raises(DataError, match="http://x/y.jpg cannot be read as an image"):
        decode_rgb(b"<html>gone</html>", "http://x/y.jpg")
    with pytest.raises(DataError, match="0 bytes"):
        decode_rgb(b"", "the reply")


def test_write_image_refuses_an_unknown_format_and_an_empty_image(tmp_path):
    with pytest.raises(DataError, match=r"suffix '\.xyz'.*\.png"):
        write_image(tmp_path / "a.xyz", RGB_U8)
    with pytest.raises(ValueError, match="no pixels"):
        write_image(tmp_path / "a.png", numpy.zeros((0, 4), numpy.uint8))
    assert not list(tmp_path.iterdir())


# --- layering: one home for each job ----------------------------------------------------------------

def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_course_images_depends_only_on_numpy_opencv_skimage_and_course_files():
    import sys

    allowed_course = {"course.files", "course.compat"}
    for name in _imports(REPO / "course" / "images.py"):
        top = name.split(".")[0]
        if top == "course":
            assert name in allowed_course, f"course.images imports {name}"
        else:
            assert top in sys.stdlib_module_names or top in {"numpy", "cv2", "skimage"}, \
                f"course.images imports {name}"


def test_detection_takes_generic_image_functions_from_course_images():
    tree = ast.parse((REPO / "course" / "detection.py").read_text())
    from_faces = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                  and node.module == "course.data.faces" for alias in node.names}
    assert from_faces <= {"Scene"}, f"course.detection takes {from_faces - {'Scene'}} from lesson 4's data module"


def test_no_module_keeps_its_own_copy_of_the_conversions():
    copies = {"to_grey", "resize", "read_image", "to_chw", "as_float_images", "_as_uint8", "_to_rgb",
              "_as_grey_image"}
    for path in [*(REPO / "course" / "data").glob("*.py"), REPO / "course" / "detection.py",
                 REPO / "course" / "imaging.py", REPO / "course" / "widgets.py"]:
        defined = {node.name for node in ast.walk(ast.parse(path.read_text()))
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        assert not defined & copies, f"{path.name} defines {defined & copies}: use course.images"
    assert set(images.__all__) <= set(dir(images))
