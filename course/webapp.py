"""Lesson 9's web app, as the seed built one: the data's statistics and a Generate button, on 127.0.0.1.

``python -m course serve bokete --model DIR [--port N]`` serves one page (Tornado, which Jupyter
already installs) for the models that ``python -m course train bokete --out DIR`` wrote:

- the statistics of the data the model was trained on (scenes, vocabulary, caption lengths, the most
  common captions and words) and the figures of ``DIR/report.json``;
- a **Generate** button that picks a training or development (held-out) scene at random and shows
  it with the model's caption and the reference caption;
- an upload form that captions the learner's own picture of a row of up to three digits.

The server listens on the loopback interface only. The page sends only a split name or the bytes
of an upload, never a file name, so the server reads no file the page names. An upload must be an
image that OpenCV decodes, of at most :data:`MAX_UPLOAD_BYTES`; anything else gets a message in the
page and the server keeps serving.
"""
from __future__ import annotations

import base64
import collections
import html
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy
import tornado.ioloop
import tornado.web

from course.data.captions import Scenes, make_scenes, tokenize
from course.data.mnist import load_mnist
from course.device import get_device
from course.errors import DataError
from course.images import decode_rgb, encode_png
from course.models.captioning import cell_features
from course.tasks import bokete

HOST = "127.0.0.1"
"""The only interface the app listens on."""
MAX_UPLOAD_BYTES = 2 * 2**20
"""The largest upload the app reads (2 MiB); a larger one is refused with a message."""
SPLITS = ("train", "dev")
"""What Generate picks from: a training scene, or a development (held-out) one."""


@dataclass
class Caption:
    """One captioned scene for the page: the picture (PNG bytes), the model's caption and, for a scene, the reference."""

    png: bytes
    caption: str
    reference: str | None = None

    def as_json(self) -> dict:
        """What the page receives: the picture as a data URL, the two captions."""
        return {"image": "data:image/png;base64," + base64.b64encode(self.png).decode("ascii"),
                "caption": self.caption, "reference": self.reference}


class BoketeApp:
    """The trained models of a ``train bokete`` folder, the scenes they were trained and tested on, and their numbers.

    The scenes are made again exactly as :func:`course.tasks.bokete.prepare` made them, from the
    sizes in ``DIR/report.json`` and the digits of ``source``.
    """

    def __init__(self, model_folder: str | os.PathLike, *, source: str = "auto", device=None, seed: int = 0):
        folder = Path(model_folder)
        self.cnn, self.model, self.vocabulary = bokete.load_captioning(folder)
        report_path = folder / "report.json"
        if not report_path.is_file():
            raise DataError(f"{folder} has no report.json: train first (python -m course train bokete --out {folder})")
        self.report = json.loads(report_path.read_text(encoding="utf-8"))
        sizes = bokete.Sizes(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.report["sizes"].items()})
        digits = load_mnist(source, verbose=False)
        self.scenes: dict[str, Scenes] = {"train": make_scenes(*digits.train, sizes.train_scenes, seed=0),
                                          "dev": make_scenes(*digits.test, sizes.test_scenes, seed=1)}
        self.device = get_device(device)
        self.model.to_device(self.device)
        self.random = random.Random(seed)

    def statistics(self) -> dict:
        """Counts of the training data and the report's figures, for the page."""
        captions = self.scenes["train"].captions
        lengths = collections.Counter(len(tokenize(c)) for c in captions)
        words = collections.Counter(w for c in captions for w in tokenize(c))
        figures = {k: v for k, v in self.report.items() if isinstance(v, (int, float))}
        return {"training scenes": len(captions), "development scenes": len(self.scenes["dev"]),
                "vocabulary": len(self.vocabulary), "different captions": len(set(captions)),
                "caption lengths (words: scenes)": dict(sorted(lengths.items())),
                "most common captions": collections.Counter(captions).most_common(5),
                "most common words": words.most_common(8), "figures": figures}

    def caption_canvases(self, canvases: numpy.ndarray) -> list[str]:
        """The model's (beam search) caption of each canvas (N, 1, 28, 84)."""
        features = cell_features(self.cnn, canvases, device=self.device)
        return [" ".join(tokens) for tokens in bokete.caption(self.model, self.vocabulary, features)]

    def generate(self, split: str) -> Caption:
        """A random scene of ``split`` ("train" or "dev") with the model's caption and its reference."""
        if split not in SPLITS:
            raise DataError(f"no split {split!r}: choose one of {', '.join(SPLITS)}")
        scenes = self.scenes[split]
        i = self.random.randrange(len(scenes))
        canvas = scenes.images[i:i + 1]
        return Caption(encode_png(canvas[0, 0]), self.caption_canvases(canvas)[0], scenes.captions[i])

    def caption_upload(self, data: bytes) -> Caption:
        """Caption an uploaded picture: refused (DataError) if too large or not an image."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise DataError(f"the upload has {len(data):,} bytes, more than the {MAX_UPLOAD_BYTES:,} this page "
                            "takes: send a smaller picture (a row of up to three digits)")
        image = decode_rgb(data, "the uploaded file", fix="Upload a PNG or JPEG picture.")
        canvas = bokete.as_scene(image)[None]
        return Caption(encode_png(canvas[0, 0]), self.caption_canvases(canvas)[0])


class _Page(tornado.web.RequestHandler):
    def initialize(self, app: BoketeApp) -> None:
        self.app = app

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(render_page(self.app.statistics()))


class _Generate(tornado.web.RequestHandler):
    def initialize(self, app: BoketeApp) -> None:
        self.app = app

    def get(self) -> None:
        try:
            self.write(self.app.generate(self.get_argument("split", "train")).as_json())
        except DataError as error:
            self.set_status(400)
            self.write({"error": str(error)})


class _Upload(tornado.web.RequestHandler):
    def initialize(self, app: BoketeApp) -> None:
        self.app = app

    def post(self) -> None:
        files = self.request.files.get("image", [])
        try:
            if not files:
                raise DataError("no picture came with the request: choose a file first")
            self.write(self.app.caption_upload(files[0]["body"]).as_json())
        except DataError as error:
            self.set_status(400)
            self.write({"error": str(error)})


def make_application(app: BoketeApp) -> tornado.web.Application:
    """The Tornado application: ``/`` the page, ``/generate?split=train|dev`` and ``POST /caption`` (field ``image``)."""
    handlers = [(path, handler, {"app": app}) for path, handler in
                (("/", _Page), ("/generate", _Generate), ("/caption", _Upload))]
    # Tornado refuses bodies above max_body_size outright; leave room for the multipart wrapping so that a
    # slightly-too-large picture still reaches caption_upload and gets the page's own message.
    return tornado.web.Application(handlers, max_body_size=4 * MAX_UPLOAD_BYTES)


def serve(model_folder: str | os.PathLike, *, port: int = 8009, source: str = "auto", device=None) -> None:
    """Serve the app for ``model_folder`` on http://127.0.0.1:PORT until interrupted (Ctrl-C)."""
    app = BoketeApp(model_folder, source=source, device=device)
    make_application(app).listen(port, address=HOST, max_buffer_size=8 * MAX_UPLOAD_BYTES)
    print(f"bokete: http://{HOST}:{port}/  (Ctrl-C stops it)", flush=True)
    try:
        tornado.ioloop.IOLoop.current().start()
    except KeyboardInterrupt:
        pass


def render_page(statistics: dict) -> str:
    """The page: the statistics as tables, the Generate buttons, the upload form, and the script that drives them."""
    def shown(value) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        if isinstance(value, list):  # most_common's (item, count) pairs
            return ", ".join(f"{item} ({count})" for item, count in value)
        return str(value)

    def rows(pairs) -> str:
        return "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(shown(v))}</td></tr>" for k, v in pairs)

    simple = [(k, v) for k, v in statistics.items() if k != "figures"]
    figures = [(k, f"{v:.4f}" if isinstance(v, float) else v) for k, v in statistics["figures"].items()]
    return _PAGE.replace("{statistics}", rows(simple)).replace("{figures}", rows(figures))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bokete: captions from a CNN + LSTM</title>
<style>
body { font-family: sans-serif; margin: 2em; max-width: 60em; }
table { border-collapse: collapse; margin-bottom: 1em; } th, td { text-align: left; padding: 2px 10px; }
th { font-weight: normal; color: #555; } #picture { image-rendering: pixelated; width: 336px; height: 112px; }
#result { margin: 1em 0; min-height: 180px; } .error { color: #b00; }
</style></head><body>
<h1>bokete</h1>
<p>Lesson 9's caption model: lesson 2's CNN reads each cell of a scene, an LSTM writes the caption.</p>
<h2>The data</h2><table id="statistics">{statistics}</table>
<h2>The model's figures</h2><table id="figures">{figures}</table>
<h2>Generate</h2>
<button id="generate-train">Generate (training scene)</button>
<button id="generate-dev">Generate (development scene)</button>
<form id="upload"><input type="file" id="file" name="image" accept="image/*">
<button type="submit">Caption my picture</button></form>
<div id="result"><img id="picture" alt="" hidden>
<p>model: <b id="caption"></b></p><p>reference: <span id="reference"></span></p><p id="message" class="error"></p></div>
<script>
function show(response) {
  response.json().then(function (answer) {
    var message = document.getElementById("message");
    if (answer.error) { message.textContent = answer.error; return; }
    message.textContent = "";
    var picture = document.getElementById("picture");
    picture.src = answer.image; picture.hidden = false;
    document.getElementById("caption").textContent = answer.caption;
    document.getElementById("reference").textContent = answer.reference === null ? "(your picture: none)" : answer.reference;
  });
}
["train", "dev"].forEach(function (split) {
  document.getElementById("generate-" + split).onclick = function () { fetch("generate?split=" + split).then(show); };
});
document.getElementById("upload").onsubmit = function (event) {
  event.preventDefault();
  var file = document.getElementById("file").files[0];
  if (!file) { document.getElementById("message").textContent = "choose a file first"; return; }
  var form = new FormData(); form.append("image", file);
  fetch("caption", {method: "POST", body: form}).then(show).catch(function () {
    document.getElementById("message").textContent = "the server refused the upload (too large?)";
  });
};
</script></body></html>
"""
