"""Small ipywidgets panels for the notebooks: rate images yourself, then train on your own ratings.

Every button calls a plain method (``rate``, ``skip``, ``undo``), so a panel works, and is tested,
without a browser; in a notebook, end a cell with the panel to show it.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy

from course.data.ranking import save_rated
from course.images import as_batch, to_hwc


def _png(image: numpy.ndarray, scale: int) -> bytes:
    """One (C, H, W) image in [0, 1] as PNG bytes, enlarged ``scale`` times with square pixels."""
    import matplotlib.image

    picture = numpy.clip(to_hwc(image), 0, 1).repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, picture, cmap="gray", vmin=0, vmax=1, format="png")
    return buffer.getvalue()


class RatingPanel:
    """Show ``images`` one at a time; buttons 1..``levels`` rate the image and move on.

    ``next`` moves on without rating, ``undo`` goes back to the previous image and forgets its
    rating. The line below the buttons counts the ratings given so far. The picture is shown at
    ``scale`` screen pixels per image pixel, a fixed size, so that it never stretches to the width of
    the notebook and pushes the buttons out of view. :meth:`rated` returns what you rated, ready for
    :func:`course.training.train_ranknet`; :meth:`save` writes it as a rated folder (``images.npy`` +
    ``ratings.txt``) that ``python -m course train ranknet --source FOLDER`` reads.
    """

    def __init__(self, images: numpy.ndarray, *, levels: int = 5, scale: int = 6):
        import ipywidgets as widgets

        if isinstance(levels, bool) or not isinstance(levels, int) or not 2 <= levels <= 10:
            raise ValueError(f"levels must be a whole number from 2 to 10, not {levels!r}")
        self.images = as_batch(images)
        if not len(self.images):
            raise ValueError("there are no images to rate")
        self.levels, self.scale = levels, scale
        self.ratings: dict[int, int] = {}  # image index -> rating
        self.position = 0  # the index of the image on show; len(images) once all were seen
        self._visited: list[int] = []  # images left behind, by rating or by "next", for undo
        height, width = self.images.shape[2:]
        self.picture = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{width * scale}px", height=f"{height * scale}px", flex="none"))
        self.rate_buttons = [widgets.Button(description=str(value), layout=widgets.Layout(width="3em"))
                             for value in range(1, levels + 1)]
        for value, button in enumerate(self.rate_buttons, start=1):
            button.on_click(lambda _, value=value: self.rate(value))
        self.next_button = widgets.Button(description="next", tooltip="move on without rating")
        self.next_button.on_click(lambda _: self.skip())
        self.undo_button = widgets.Button(description="undo", tooltip="back to the previous image")
        self.undo_button.on_click(lambda _: self.undo())
        self.status = widgets.HTML()
        self.widget = widgets.VBox([
            self.picture,
            widgets.HBox([*self.rate_buttons, self.next_button, self.undo_button]),
            self.status,
        ])
        self._refresh()

    @property
    def done(self) -> bool:
        """True once every image has been rated or passed over."""
        return self.position >= len(self.images)

    def rate(self, value: int) -> None:
        """Give the image on show the rating ``value`` (1..levels, higher = better) and show the next one."""
        if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or not 1 <= value <= self.levels:
            raise ValueError(f"a rating is a whole number from 1 to {self.levels}, not {value!r}")
        if self.done:
            raise ValueError("every image has been seen: undo to change a rating, or save what you rated")
        self.ratings[self.position] = int(value)
        self._advance()

    def skip(self) -> None:
        """Show the next image without rating this one."""
        if not self.done:
            self._advance()

    def undo(self) -> None:
        """Go back to the previous image and forget its rating, if it had one."""
        if self._visited:
            self.position = self._visited.pop()
            self.ratings.pop(self.position, None)
            self._refresh()

    def rated(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The rated images (in their original order) and their ratings as float32."""
        index = numpy.array(sorted(self.ratings), dtype=numpy.int64)
        ratings = numpy.array([self.ratings[i] for i in index], dtype=numpy.float32)
        return self.images[index], ratings

    def counts(self) -> dict[int, int]:
        """How many images got each rating, 1..levels."""
        values = list(self.ratings.values())
        return {value: values.count(value) for value in range(1, self.levels + 1)}

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the rated images and their ratings to ``directory`` (see :func:`course.data.ranking.save_rated`)."""
        return save_rated(directory, *self.rated())

    def _advance(self) -> None:
        self._visited.append(self.position)
        self.position += 1
        self._refresh()

    def _refresh(self) -> None:
        if self.done:
            self.picture.value = _png(numpy.ones_like(self.images[0]), self.scale)
            where = f"all {len(self.images)} images seen"
        else:
            self.picture.value = _png(self.images[self.position], self.scale)
            where = f"image {self.position + 1} of {len(self.images)}"
        for button in self.rate_buttons:
            button.disabled = self.done
        self.next_button.disabled = self.done
        self.undo_button.disabled = not self._visited
        counts = ", ".join(f"{value}: {n}" for value, n in self.counts().items())  # HTML collapses double spaces
        self.status.value = f"{where} · {len(self.ratings)} rated · {counts}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


class MorphPanel:
    """Morph one image into another live: two pickers choose images A and B, a slider moves t from 0 to 1.

    ``images`` (N, C, H, W) in [-1, 1] are the images to choose from, ``names`` what the pickers call
    them (default ``image 0``, ``image 1``...). The Vectorizer finds each image's z once; the picture
    then shows A, the generator's image for the point at ``t`` on the way from z_A to z_B (linear, or
    along a great circle with the ``spherical`` box), and B. Every control calls a plain method
    (:meth:`pick_a`, :meth:`pick_b`, :meth:`set_t`, :meth:`set_spherical`), so the panel also works,
    and is tested, without a browser. The picture keeps a fixed size: ``scale`` screen pixels per
    image pixel (default: about 128 pixels an image).
    """

    def __init__(self, generator, vectorizer, images: numpy.ndarray, names=None, *, a: int = 0, b: int = 1,
                 scale: int | None = None, device=None):
        import ipywidgets as widgets

        from course.models import predict

        self.images = numpy.asarray(images, numpy.float32)
        if self.images.ndim != 4 or len(self.images) < 2:
            raise ValueError(f"give at least two images (N, C, H, W) to morph between, not shape {self.images.shape}")
        self.names = [f"image {i}" for i in range(len(self.images))] if names is None else [str(n) for n in names]
        if len(self.names) != len(self.images):
            raise ValueError(f"{len(self.names)} names for {len(self.images)} images: give one name per image")
        self.generator, self.device = generator, device
        self.z = predict(vectorizer, self.images, device=device)
        self.a, self.b, self.t, self.spherical = self._index(a), self._index(b), 0.5, False
        self.scale = scale or max(1, round(128 / self.images.shape[-1]))
        options = list(zip(self.names, range(len(self.names))))
        self.picker_a = widgets.Dropdown(options=options, value=self.a, description="A")
        self.picker_b = widgets.Dropdown(options=options, value=self.b, description="B")
        self.slider = widgets.FloatSlider(value=self.t, min=0, max=1, step=0.05, description="t",
                                          continuous_update=True, readout_format=".2f")
        self.spherical_box = widgets.Checkbox(value=False, description="spherical")
        self._syncing = False  # True while _refresh moves the controls to match a method called from code
        for control, method in ((self.picker_a, self.pick_a), (self.picker_b, self.pick_b), (self.slider, self.set_t),
                                (self.spherical_box, self.set_spherical)):
            control.observe(lambda change, method=method: None if self._syncing else method(change["new"]),
                            names="value")
        height, width = self.render().shape[:2]
        self.picture = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{width * self.scale}px", height=f"{height * self.scale}px", flex="none"))
        self.status = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.picker_a, self.picker_b, self.spherical_box]), self.slider,
                                    self.picture, self.status])
        self._refresh()

    def _index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, (int, numpy.integer)) or not 0 <= index < len(self.images):
            raise ValueError(f"pick an image by its index, 0 to {len(self.images) - 1}, not {index!r}")
        return int(index)

    def pick_a(self, index: int) -> None:
        """Start the morph from image ``index``."""
        self.a = self._index(index)
        self._refresh()

    def pick_b(self, index: int) -> None:
        """End the morph at image ``index``."""
        self.b = self._index(index)
        self._refresh()

    def set_t(self, t: float) -> None:
        """Show the point ``t`` of the way from A (0) to B (1)."""
        if isinstance(t, bool) or not isinstance(t, (int, float, numpy.floating, numpy.integer)) or not 0 <= t <= 1:
            raise ValueError(f"t is a fraction from 0 (image A) to 1 (image B), not {t!r}")
        self.t = float(t)
        self._refresh()

    def set_spherical(self, spherical: bool) -> None:
        """Interpolate along a great circle (True) or a straight line (False)."""
        self.spherical = bool(spherical)
        self._refresh()

    def z_at(self, t: float | None = None) -> numpy.ndarray:
        """The point (z_size,) at ``t`` (default: the slider's) on the way from A's z to B's."""
        from course.models.dcgan import lerp, slerp

        t = self.t if t is None else t
        return (slerp if self.spherical else lerp)(self.z[self.a], self.z[self.b], t)[0]

    def morphed(self, t: float | None = None) -> numpy.ndarray:
        """The generator's image (C, H, W) in [-1, 1] at ``t`` (default: the slider's)."""
        from course.models import predict

        return predict(self.generator, self.z_at(t)[None], device=self.device)[0]

    def render(self) -> numpy.ndarray:
        """The picture on show, HWC in [0, 1] (grey for one channel): A, the morph at t, B, side by side."""
        from course.images import tile

        shown = numpy.stack([self.images[self.a], self.morphed(), self.images[self.b]])
        return tile(numpy.clip((shown + 1) / 2, 0, 1), columns=3, gap=2)

    def _refresh(self) -> None:
        from course.images import to_chw

        self._syncing = True
        try:  # a method called from code: move its control too
            for control, value in ((self.picker_a, self.a), (self.picker_b, self.b), (self.slider, self.t),
                                   (self.spherical_box, self.spherical)):
                control.value = value
        finally:
            self._syncing = False
        self.picture.value = _png(to_chw(self.render()), self.scale)
        way = "along a great circle" if self.spherical else "on a straight line"
        self.status.value = (f"{self.names[self.a]} → {self.names[self.b]}: t = {self.t:.2f} of the way {way} "
                             f"from A's z to B's")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


class HintPanel:
    """Colour line art with hints you place (lesson 8): pick a position and a colour, add the hint, see the result.

    ``colorize(lines, hints)`` is the model: line art (H, W) and hint channels (4, H, W) in, colours
    (3, H, W) in [0, 1] out (e.g. ``functools.partial(course.tasks.colorize.colorize, model)``).
    Two sliders choose the hint's column and row, a colour picker its colour; "add hint" places it
    (a square of side ``2 radius + 1``), "undo" removes the last one, "clear" all. The picture shows
    the line art with the hints on it and the model's colours beside it. Every control calls a
    plain method (:meth:`add`, :meth:`undo`, :meth:`clear`), so the panel also works, and is tested,
    without a browser; :meth:`save_hints` writes the hints as the RGBA PNG that
    ``python -m course colorize --hints`` reads.
    """

    def __init__(self, colorize, lines: numpy.ndarray, *, radius: int = 1, scale: int | None = None):
        import ipywidgets as widgets

        self.colorize, self.radius = colorize, radius
        self.lines = numpy.asarray(lines, numpy.float32)
        if self.lines.ndim != 2:
            raise ValueError(f"give one line-art image (H, W), not shape {self.lines.shape}")
        height, width = self.lines.shape
        self.hints: list[tuple[int, int, tuple[float, float, float], int]] = []
        self.scale = scale or max(1, round(192 / max(height, width)))
        self.column = widgets.IntSlider(value=width // 2, min=0, max=width - 1, description="column")
        self.row = widgets.IntSlider(value=height // 2, min=0, max=height - 1, description="row")
        self.colour = widgets.ColorPicker(value="#d04040", description="colour")
        buttons = [widgets.Button(description=name) for name in ("add hint", "undo", "clear")]
        for button, method in zip(buttons, (lambda: self.add(self.row.value, self.column.value, self.colour.value),
                                            self.undo, self.clear)):
            button.on_click(lambda _, method=method: method())
        picture = self.render()
        self.picture = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{picture.shape[1] * self.scale}px", height=f"{picture.shape[0] * self.scale}px", flex="none"))
        self.status = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.column, self.row]), widgets.HBox([self.colour, *buttons]),
                                    self.picture, self.status])
        self._refresh()

    @staticmethod
    def _rgb(colour) -> tuple[float, float, float]:
        """A colour as three floats in [0, 1], from ``"#rrggbb"`` or three numbers in [0, 1]."""
        if isinstance(colour, str):
            text = colour.lstrip("#")
            if len(text) != 6:
                raise ValueError(f"give a colour as '#rrggbb' or three numbers in [0, 1], not {colour!r}")
            return tuple(int(text[i:i + 2], 16) / 255 for i in (0, 2, 4))
        values = tuple(float(v) for v in colour)
        if len(values) != 3 or not all(0 <= v <= 1 for v in values):
            raise ValueError(f"give a colour as '#rrggbb' or three numbers in [0, 1], not {colour!r}")
        return values

    def add(self, row: int, column: int, colour) -> None:
        """Place a hint of ``colour`` ('#rrggbb' or (r, g, b) in [0, 1]) centred at (``row``, ``column``)."""
        height, width = self.lines.shape
        if not (0 <= row < height and 0 <= column < width):
            raise ValueError(f"a hint at row {row}, column {column} lies outside the {width}x{height} line art")
        self.hints.append((int(row), int(column), self._rgb(colour), self.radius))
        self._refresh()

    def undo(self) -> None:
        """Remove the last hint (nothing happens when there is none)."""
        if self.hints:
            self.hints.pop()
        self._refresh()

    def clear(self) -> None:
        """Remove every hint."""
        self.hints.clear()
        self._refresh()

    def hint_channels(self) -> numpy.ndarray:
        """The hints as the model reads them: (4, H, W), RGB and a mask."""
        from course.data.colorization import hint_channels

        return hint_channels(self.lines.shape, self.hints)

    def coloured(self) -> numpy.ndarray:
        """The model's colours (3, H, W) for the line art and the hints placed so far."""
        return numpy.clip(self.colorize(self.lines, self.hint_channels()), 0, 1)

    def render(self) -> numpy.ndarray:
        """The picture on show, HWC in [0, 1]: the line art with the hints painted on it, and the model's colours."""
        from course.images import tile

        hints = self.hint_channels()
        shown = numpy.repeat(self.lines[None], 3, axis=0)
        shown = numpy.where(hints[3:] > 0, hints[:3], shown)
        return tile(numpy.stack([shown, self.coloured()]), columns=2, gap=2)

    def save_hints(self, path: str | os.PathLike) -> Path:
        """Write the hints as an RGBA PNG of the line art's size, transparent except at the hints."""
        from course.images import write_image

        hints = self.hint_channels()
        return write_image(path, numpy.dstack([hints[:3].transpose(1, 2, 0), hints[3]]))

    def _refresh(self) -> None:
        from course.images import to_chw

        self.picture.value = _png(to_chw(self.render()), self.scale)
        self.status.value = f"{len(self.hints)} hint{'' if len(self.hints) == 1 else 's'} placed"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
