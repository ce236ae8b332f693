"""Twenty synthetic photographic looks, one per Flickr Style class, for lesson 3's offline style set.

Each look takes an RGB float32 ``(H, W, 3)`` image in [0, 1], a strength in [0, 1] and a NumPy
Generator, and returns a new image of the same shape in [0, 1]. Sizes (blur radii, streak
lengths...) are fractions of the image size, so a look reads the same at 64 and at 256 pixels.
These are looks made by a few lines of arithmetic on real photos, not the styles of real Flickr
photographs: a network that tells them apart has learned the looks, nothing more.
"""
from __future__ import annotations

from typing import Callable

import numpy

# Caffe's order (examples/finetune_flickr_style/style_names.txt): label i is STYLE_NAMES[i].
STYLE_NAMES = (
    "Detailed", "Pastel", "Melancholy", "Noir", "HDR", "Vintage", "Long Exposure", "Horror", "Sunny",
    "Bright", "Hazy", "Bokeh", "Serene", "Texture", "Ethereal", "Macro", "Depth of Field",
    "Geometric Composition", "Minimal", "Romantic",
)
N_STYLES = len(STYLE_NAMES)

Look = Callable[[numpy.ndarray, float, numpy.random.Generator], numpy.ndarray]
_LUMA = numpy.array([0.299, 0.587, 0.114], dtype=numpy.float32)


def luminance(image: numpy.ndarray) -> numpy.ndarray:
    """Perceived brightness (H, W) of an RGB image (ITU-R 601 weights)."""
    return image @ _LUMA


def _saturate(image, amount):
    grey = luminance(image)[..., None]
    return grey + amount * (image - grey)


def _contrast(image, amount, pivot=0.5):
    return pivot + amount * (image - pivot)


def _blur(image, sigma):
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigmaX=max(float(sigma), 0.3)) if sigma > 0 else image


def _tint(image, colour, amount):
    return image * (1 - amount + amount * numpy.asarray(colour, numpy.float32))


def _screen(image, light, amount):
    return 1 - (1 - image) * (1 - amount * light)


def _radius(shape, centre=(0.5, 0.5)):
    """Distance of every pixel from ``centre`` (fractions of height, width); 1 at the farthest corner."""
    h, w = shape[:2]
    y = (numpy.arange(h, dtype=numpy.float32) + 0.5) / h - centre[0]
    x = (numpy.arange(w, dtype=numpy.float32) + 0.5) / w - centre[1]
    r = numpy.sqrt(y[:, None] ** 2 + x[None, :] ** 2)
    return r / r.max()


def _vignette(image, amount, towards=0.0):
    mask = (amount * _radius(image.shape) ** 2)[..., None]
    return image * (1 - mask) + towards * mask


def _grain(image, amount, rng):
    return image + rng.normal(0, amount, image.shape[:2]).astype(numpy.float32)[..., None]


def _size(image):
    return min(image.shape[:2])


def detailed(image, strength, rng):
    """Crisp and busy: strong unsharp masking brings out every fine edge."""
    blurred = _blur(image, 0.015 * _size(image) + 0.5)
    return _contrast(image + (1.0 + 2.5 * strength) * (image - blurred), 1 + 0.2 * strength)


def pastel(image, strength, rng):
    """Soft pale colours: less saturation and contrast, lifted towards white, a light tint."""
    tints = ((1.0, 0.86, 0.92), (0.86, 1.0, 0.94), (0.92, 0.88, 1.0), (1.0, 0.93, 0.84))
    out = _saturate(image, 1 - 0.55 * strength)
    out = _contrast(out, 1 - 0.35 * strength)
    out = out + (0.25 + 0.25 * strength) * (1 - out)
    return _tint(out, tints[rng.integers(len(tints))], 0.6 * strength)


def melancholy(image, strength, rng):
    """Sad and cold: nearly colourless, blue, dark and flat."""
    out = _saturate(image, 1 - 0.75 * strength)
    out = _tint(out, (0.78, 0.88, 1.1), strength)
    out = numpy.clip(out, 0, 1) ** (1 + 0.6 * strength)
    return _contrast(out, 1 - 0.3 * strength, pivot=0.3)


def noir(image, strength, rng):
    """Film noir: black and white, hard contrast, dark corners."""
    grey = luminance(image)
    out = _contrast(grey, 1.4 + 1.4 * strength, pivot=float(grey.mean()))
    out = numpy.repeat(out[..., None], 3, axis=2)
    return _vignette(numpy.clip(out, 0, 1), 0.6 * strength)


def hdr(image, strength, rng):
    """Tone-mapped HDR: flattened light, exaggerated local detail with halos, loud colour."""
    base = _blur(image, 0.08 * _size(image))
    out = 0.5 + (base - 0.5) * (1 - 0.5 * strength) + (image - base) * (1.5 + 2.5 * strength)
    return _saturate(out, 1.3 + 0.6 * strength)


def vintage(image, strength, rng):
    """An old print: sepia-yellow, faded blacks, soft contrast, dark corners, grain."""
    sepia = numpy.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], numpy.float32)
    toned = image @ sepia.T
    out = image + (0.5 + 0.5 * strength) * (toned - image)
    lift = 0.08 + 0.12 * strength
    out = lift + (1 - 1.6 * lift) * _contrast(out, 1 - 0.25 * strength)
    return _grain(_vignette(out, 0.45 * strength), 0.03 * strength, rng)


def long_exposure(image, strength, rng):
    """Motion streaks: everything smeared along one direction, as with a slow shutter."""
    import cv2

    length = max(3, round((0.08 + 0.17 * strength) * _size(image)))
    kernel = numpy.zeros((length, length), numpy.float32)
    kernel[length // 2, :] = 1 / length
    angle = float(rng.uniform(0, 180))
    rotation = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    kernel /= kernel.sum()
    streaked = cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return _contrast(streaked, 1.1, pivot=0.2) + 0.04 * strength


def horror(image, strength, rng):
    """Dark and sick: crushed shadows, a red or green cast, heavy vignette, noise."""
    casts = ((1.25, 0.65, 0.6), (0.75, 1.15, 0.7))
    out = numpy.clip(image, 0, 1) ** (1.6 + 1.2 * strength)
    out = _tint(_saturate(out, 0.6), casts[rng.integers(len(casts))], 0.5 + 0.5 * strength)
    out = _contrast(out, 1.3 + 0.4 * strength, pivot=0.25)
    return _grain(_vignette(out, 0.8 * strength), 0.04 * strength, rng)


def sunny(image, strength, rng):
    """Warm sunlight: golden tint, brighter, richer colour, a glow from a top corner."""
    out = _tint(image, (1.15, 1.03, 0.75), strength)
    out = numpy.clip(out, 0, 1) ** (1 / (1 + 0.35 * strength))
    out = _saturate(out, 1 + 0.5 * strength)
    corner = (0.0, float(rng.choice([0.0, 1.0])))
    glow = numpy.clip(1 - _radius(image.shape, corner) * 1.3, 0, 1)[..., None] * numpy.float32([1, 0.85, 0.5])
    return _screen(out, glow, 0.5 * strength)


def bright(image, strength, rng):
    """Over-exposed: everything lifted, highlights burnt to white."""
    out = image * (1.3 + 0.7 * strength)
    return numpy.clip(out, 0, 1) ** (1 - 0.35 * strength)


def hazy(image, strength, rng):
    """Fog: a pale veil, thicker towards the top, over softened, greyer colours."""
    fog = numpy.float32([0.82, 0.85, 0.9]) + rng.uniform(-0.05, 0.05, 3).astype(numpy.float32)
    rows = numpy.linspace(1.0, 0.55, image.shape[0], dtype=numpy.float32)[:, None, None]
    amount = (0.35 + 0.35 * strength) * rows
    out = _saturate(_blur(image, 0.01 * _size(image)), 0.8)
    return out * (1 - amount) + fog * amount


def bokeh(image, strength, rng):
    """Out-of-focus background with round discs of light."""
    import cv2

    size = _size(image)
    out = _blur(image, (0.03 + 0.05 * strength) * size)
    discs = numpy.zeros_like(image)
    for _ in range(int(rng.integers(6, 16))):
        centre = (int(rng.integers(0, image.shape[1])), int(rng.integers(0, image.shape[0])))
        radius = max(2, int(rng.uniform(0.04, 0.1) * size))
        colour = image[centre[1], centre[0]] * 0.5 + 0.5 * rng.uniform(0.6, 1.0, 3)
        cv2.circle(discs, centre, radius, colour.astype(float).tolist(), thickness=-1, lineType=cv2.LINE_AA)
    return _screen(out, _blur(discs, 0.01 * size), 0.35 + 0.35 * strength)


def serene(image, strength, rng):
    """Calm: soft focus, cool blue-green, gentle contrast, a little lighter."""
    out = _blur(image, 0.012 * _size(image) * strength)
    out = _tint(_saturate(out, 0.8), (0.88, 1.0, 1.08), strength)
    out = _contrast(out, 1 - 0.35 * strength)
    return out + 0.1 * strength * (1 - out)


def texture(image, strength, rng):
    """A tactile surface: a fine random relief (like canvas or stone) pressed into the picture."""
    shape = image.shape[:2]
    noise = rng.normal(0, 1, shape).astype(numpy.float32)
    relief = _blur(noise, 0.6) - _blur(noise, 0.03 * _size(image) + 1)
    relief /= relief.std() + 1e-6
    return image * (1 + (0.12 + 0.2 * strength) * relief)[..., None]


def ethereal(image, strength, rng):
    """Dreamlike: a bright glow blooms over a pale, slightly cool picture."""
    glow = _blur(image, 0.05 * _size(image))
    out = _screen(image, glow, 0.4 + 0.5 * strength)
    out = _saturate(out, 1 - 0.4 * strength)
    return _tint(out, (0.95, 0.98, 1.06), strength)


def macro(image, strength, rng):
    """Close-up: a small patch enlarged (soft, big details), the edges out of focus."""
    import cv2

    h, w = image.shape[:2]
    keep = 1 - 0.5 * strength
    ch, cw = max(2, int(h * keep)), max(2, int(w * keep))
    top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = cv2.resize(image[top:top + ch, left:left + cw], (w, h), interpolation=cv2.INTER_LINEAR)
    mask = numpy.clip(_radius(image.shape) * 1.4 - 0.3, 0, 1)[..., None]
    out = out * (1 - mask) + _blur(out, 0.04 * _size(image)) * mask
    return _saturate(out, 1.2)


def depth_of_field(image, strength, rng):
    """Shallow focus: one sharp horizontal band, blur growing above and below it."""
    h = image.shape[0]
    focus = rng.uniform(0.3, 0.7) * h
    rows = numpy.clip(numpy.abs(numpy.arange(h, dtype=numpy.float32) - focus) / (0.35 * h), 0, 1)[:, None, None]
    blurred = _blur(image, (0.03 + 0.04 * strength) * _size(image))
    return _saturate(image * (1 - rows) + blurred * rows, 1.1)


def geometric_composition(image, strength, rng):
    """Graphic shapes: flat posterised colour areas outlined by dark lines."""
    import cv2

    levels = 3 if strength > 0.7 else 4
    flat = _blur(image, 0.01 * _size(image))
    out = numpy.round(numpy.clip(flat, 0, 1) * (levels - 1)) / (levels - 1)
    grey = (numpy.clip(luminance(flat), 0, 1) * 255).astype(numpy.uint8)
    edges = cv2.Canny(grey, 40, 120).astype(numpy.float32)[..., None] / 255
    return out * (1 - (0.5 + 0.5 * strength) * edges)


def minimal(image, strength, rng):
    """Minimalism: almost empty, one soft colour field with a faint trace of the scene."""
    mean = image.reshape(-1, 3).mean(axis=0)
    out = _blur(image, 0.05 * _size(image))
    out = out + (0.6 + 0.3 * strength) * (mean - out)
    return out + 0.2 * strength * (1 - out)


def romantic(image, strength, rng):
    """Warm pink softness: a rosy tint, a gentle glow, corners fading to light."""
    out = _tint(image, (1.12, 0.9, 0.97), strength)
    out = _screen(out, _blur(out, 0.03 * _size(image)), 0.35 * strength)
    return _vignette(_saturate(out, 0.9), 0.35 * strength, towards=1.0)


LOOKS: dict[str, Look] = dict(zip(STYLE_NAMES, (
    detailed, pastel, melancholy, noir, hdr, vintage, long_exposure, horror, sunny, bright, hazy, bokeh,
    serene, texture, ethereal, macro, depth_of_field, geometric_composition, minimal, romantic,
)))


def apply_look(look: str | Look, image: numpy.ndarray, strength: float = 1.0,
               rng: numpy.random.Generator | None = None) -> numpy.ndarray:
    """Apply a look (a style name or a look function) to a uint8 or [0, 1] float RGB (H, W, 3) image.

    Returns an image of the same dtype (uint8 in, uint8 out), clipped to the valid range.
    """
    image = numpy.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    if isinstance(look, str):
        if look not in LOOKS:
            raise ValueError(f"no look named {look!r}; the looks are {', '.join(LOOKS)}")
        look = LOOKS[look]
    rng = rng if rng is not None else numpy.random.default_rng(0)
    as_float = image.astype(numpy.float32) / 255 if image.dtype == numpy.uint8 else image.astype(numpy.float32)
    out = numpy.clip(look(as_float, float(strength), rng), 0, 1)
    return (out * 255).round().astype(numpy.uint8) if image.dtype == numpy.uint8 else out.astype(numpy.float32)
