"""Lesson 9's web app (``python -m course serve bokete``): its handlers, and the page in headless Chromium.

A tiny caption model is trained once for the module (the command line, tiny sizes, offline digits);
the app is then used the way a learner uses it: the page loads with the data's statistics, Generate
shows a scene with the model's caption and its reference, an uploaded picture of real digits is
captioned, and an oversized or non-image upload gets a message while the server keeps serving.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy
import pytest

from course.data.captions import make_scenes
from course.data.mnist import load_mnist
from course.errors import DataError
from course.images import write_image
from course.tasks import bokete
from course.webapp import MAX_UPLOAD_BYTES, BoketeApp, render_page
from tests.conftest import size_arguments
from tests.test_browser import SECONDS, _free_port, browser  # noqa: F401 (browser is a fixture)

SMALL = dataclasses.replace(bokete.QUICK, cnn_digits=500, train_scenes=300, test_scenes=20, embed=16, hidden=32,
                            epochs=15, answers=2, answer_epochs=1)  # enough for captions of a few words


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bokete") / "run"
    done = subprocess.run([sys.executable, "-m", "course", "train", "bokete", "--out", str(out), "--source", "offline",
                           *size_arguments(SMALL)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def app(model_folder) -> BoketeApp:
    return BoketeApp(model_folder, source="offline", device="@numpy")


@pytest.fixture(scope="module")
def real_scene_png(tmp_path_factory) -> Path:
    """A picture of three real held-out digits side by side, as a learner might upload."""
    digits = load_mnist("offline", verbose=False).test
    path = tmp_path_factory.mktemp("upload") / "three_digits.png"
    write_image(path, make_scenes(*digits, 1, seed=5).images[0, 0])
    return path


def test_the_app_remakes_the_scenes_the_model_was_trained_on(app):
    assert len(app.scenes["train"]) == SMALL.train_scenes and len(app.scenes["dev"]) == SMALL.test_scenes
    digits = load_mnist("offline", verbose=False)
    assert app.scenes["dev"].captions == make_scenes(*digits.test, SMALL.test_scenes, seed=1).captions
    statistics = app.statistics()
    assert statistics["training scenes"] == SMALL.train_scenes
    assert statistics["vocabulary"] == len(app.vocabulary)
    assert "held_out/bleu4" in statistics["figures"]
    page = render_page(statistics)
    assert "generate-train" in page and "<script>" in page and "held_out/bleu4" in page


def test_generate_gives_a_scene_its_caption_and_its_reference(app):
    for split in ("train", "dev"):
        shown = app.generate(split)
        assert shown.png.startswith(b"\x89PNG")
        assert shown.reference in app.scenes[split].captions
        assert shown.caption and all(word in app.vocabulary.ids for word in shown.caption.split())
    with pytest.raises(DataError, match="no split 'test'"):
        app.generate("test")


def test_uploads_are_captioned_and_bad_ones_refused(app, real_scene_png):
    shown = app.caption_upload(real_scene_png.read_bytes())
    assert shown.caption and shown.reference is None
    with pytest.raises(DataError, match="cannot be read as an image"):
        app.caption_upload(b"this is not a picture at all")
    with pytest.raises(DataError, match="more than the"):
        app.caption_upload(b"\0" * (MAX_UPLOAD_BYTES + 1))


def test_a_folder_without_a_trained_model_is_refused(tmp_path):
    with pytest.raises(DataError, match="train first"):
        BoketeApp(tmp_path)


@pytest.mark.parametrize("arguments, says", [(["--port", "0"], "is not a port"),
                                             (["--port", "8009"], "not a folder")])
def test_bad_serve_arguments_get_one_clear_line(tmp_path, arguments, says):
    done = subprocess.run([sys.executable, "-m", "course", "serve", "bokete", "--model", str(tmp_path / "none"),
                           *arguments], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.fixture(scope="module")
def server(model_folder):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "course", "serve", "bokete", "--model", str(model_folder),
                                "--port", str(port), "--source", "offline", "--device", "@numpy"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    os.killpg(process.pid, signal.SIGKILL)
                    pytest.fail(f"the app did not start:\n{process.stdout.read()[-3000:]}", pytrace=False)
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_the_page_in_a_browser(server, browser, real_scene_png, tmp_path):  # noqa: F811 (the browser fixture)
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    expect(page.locator("#statistics")).to_contain_text("training scenes")
    expect(page.locator("#figures")).to_contain_text("held_out/bleu4")

    def shown() -> tuple[str, str, str]:
        return (page.locator("#picture").get_attribute("src") or "", page.locator("#caption").inner_text(),
                page.locator("#reference").inner_text())

    page.click("#generate-train")
    expect(page.locator("#picture")).to_be_visible()
    expect(page.locator("#caption")).not_to_be_empty()
    image, caption, reference = shown()
    assert image.startswith("data:image/png;base64,") and caption and reference.startswith(("a ", "an "))

    page.click("#generate-dev")  # another scene: at least the picture or the reference changes, within a few tries
    for _ in range(5):
        page.wait_for_timeout(300)
        if shown() != (image, caption, reference):
            break
        page.click("#generate-dev")
    assert shown() != (image, caption, reference)

    page.set_input_files("#file", str(real_scene_png))
    page.click("#upload button")
    expect(page.locator("#reference")).to_have_text("(your picture: none)")
    expect(page.locator("#caption")).not_to_be_empty()

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a picture")
    page.set_input_files("#file", str(not_an_image))
    page.click("#upload button")
    expect(page.locator("#message")).to_contain_text("cannot be read as an image")

    too_large = tmp_path / "huge.png"
    too_large.write_bytes(numpy.random.RandomState(0).bytes(MAX_UPLOAD_BYTES + 1000))
    page.set_input_files("#file", str(too_large))
    page.click("#upload button")
    expect(page.locator("#message")).to_contain_text("more than the")

    page.click("#generate-train")  # the server is still serving
    expect(page.locator("#message")).to_be_empty()
    expect(page.locator("#reference")).not_to_have_text("(your picture: none)")
    page.close()
