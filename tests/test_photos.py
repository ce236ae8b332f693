"""The shipped-photo loader that lessons 3, 4 and 10 share."""
import numpy
import pytest

from course.data.photos import PHOTOS, load_photo


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_every_photo_loads_offline_as_uint8_rgb(name):
    photo = load_photo(name)
    assert photo.dtype == numpy.uint8 and photo.ndim == 3 and photo.shape[2] == 3
    assert min(photo.shape[:2]) >= 100 and photo.std() > 5  # a real picture, not a blank


def test_as_shipped_keeps_grey_and_alpha():
    assert load_photo("camera", rgb=False).ndim == 2
    assert load_photo("present", rgb=False).shape[2] == 4
    horse = load_photo("horse", rgb=False)  # shipped as booleans
    assert horse.dtype == numpy.uint8 and set(numpy.unique(horse)) == {0, 255}


def test_transparent_pixels_become_white_and_grey_becomes_three_equal_channels():
    shipped = load_photo("present", rgb=False)
    rgb = load_photo("present")
    clear = shipped[..., 3] == 0
    assert clear.any() and (rgb[clear] == 255).all()
    camera = load_photo("camera")
    assert (camera[..., 0] == camera[..., 1]).all() and (camera[..., 1] == camera[..., 2]).all()


def test_max_side_shrinks_the_longer_side_only_when_larger():
    coffee = load_photo("coffee", 120)  # 400 x 600 shipped
    assert coffee.shape == (80, 120, 3)
    assert load_photo("coffee", 5000).shape == (400, 600, 3)
    assert load_photo("motorcycle").ndim == 3  # the left view of the stereo pair, not the triple


def test_bad_names_and_sizes_say_what_to_do():
    with pytest.raises(ValueError, match="no photo named 'eagle'; the photos are astronaut"):
        load_photo("eagle")
    with pytest.raises(ValueError, match="max_side must be a positive"):
        load_photo("coffee", 0)
