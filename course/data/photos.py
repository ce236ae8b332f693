"""Real photographs that installed packages ship, so lessons have real images without a download.

scikit-image ships its sample images inside the package (``skimage/data/``) and matplotlib ships a
few in ``mpl-data/sample_data/``. :func:`load_photo` reads any of :data:`PHOTOS` by name.
"""
from __future__ import annotations

from pathlib import Path

import numpy

from course.images import as_uint8, shrink, to_rgb

# name -> where it lives: "skimage:<function>" or "matplotlib:<file in sample_data>".
# skimage's stereo_motorcycle is a (left, right, disparity) triple: "motorcycle" is the left view
# (the right one shows the same scene, so it is left out: a split by photo could not separate the twins).
PHOTOS: dict[str, str] = {
    **{name: f"skimage:{name}" for name in (
        "astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass",
        "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "moon", "page", "retina",
        "rocket", "text",
    )},
    "motorcycle": "skimage:stereo_motorcycle",
    "grace_hopper": "matplotlib:grace_hopper.jpg",
    "present": "matplotlib:Minduka_Present_Blue_Pack.png",
}


def load_photo(name: str, max_side: int | None = None, *, rgb: bool = True) -> numpy.ndarray:
    """The photo ``name`` (one of :data:`PHOTOS`) as a uint8 array.

    ``rgb=True`` gives ``(H, W, 3)`` RGB: grey photos as three equal channels, transparent pixels
    white. ``rgb=False`` gives the photo as shipped: ``(H, W)`` grey, ``(H, W, 3)`` or ``(H, W, 4)``.
    ``max_side`` shrinks it so that its longer side is at most that many pixels (``cv2.INTER_AREA``,
    which averages pixels and does not alias); ``None`` keeps the original size.
    """
    if name not in PHOTOS:
        raise ValueError(f"no photo named {name!r}; the photos are {', '.join(PHOTOS)}")
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, not {max_side}")
    package, item = PHOTOS[name].split(":", 1)
    if package == "skimage":
        import skimage.data

        image = getattr(skimage.data, item)()
        if name == "motorcycle":
            image = image[0]
    else:
        import matplotlib
        import matplotlib.image

        image = matplotlib.image.imread(Path(matplotlib.get_data_path()) / "sample_data" / item)
    image = as_uint8(image)  # skimage's horse is boolean; matplotlib reads PNG as floats in [0, 1]
    if rgb:
        image = to_rgb(image)
    if max_side is not None:
        image = shrink(image, max_side)
    return numpy.ascontiguousarray(image)
