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
    rating. The line below the buttons counts the ratings given so far. :meth:`rated` returns what you
    rated, ready for :func:`course.training.train_ranknet`; :meth:`save` writes it as a rated folder
    (``images.npy`` + ``ratings.txt``) that ``python -m course train ranknet --source FOLDER`` reads.
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
        self.picture = widgets.Image(format="png")
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
        counts = "  ".join(f"{value}: {n}" for value, n in self.counts().items())
        self.status.value = f"{where} · {len(self.ratings)} rated · {counts}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
