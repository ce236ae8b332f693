"""Every widget of the course as a learner meets it: in JupyterLab, in headless Chromium.

JupyterLab serves a temporary copy of each lesson's widget cells (on 127.0.0.1, with a token, so
autosave never writes outputs into the repository); Debian's Chromium, driven by Playwright, opens
the notebook in a laptop-sized window, runs it with "Run All" and then does what a learner does:
clicks the rating buttons, moves a slider with the keyboard, picks a digit. The checks are on what
the page shows: the picture changes, the widget's text follows, and the picture and its controls
are in view together, without scrolling between them. A screenshot of every widget, before and after, goes
to a folder the test prints (``-s`` shows it; a failure names it too).

A whole lesson trains its networks before it reaches its widget, minutes of CPU that the widget
does not need. So each lesson is cut down to the code cells its widget needs: the lesson's own cells,
verbatim and in the lesson's order, each with the markdown just above it, picked by a piece of their
text (a lesson that loses such a cell fails here, naming the text). Where a widget needs trained
networks (lesson 06's generator and Vectorizer), it gets untrained ones (the lesson's own cell that
builds G, a ``StandIn`` cell for V): the panel, its data and its controls are the lesson's, only the
generated image is a grey blob.
Adding a widget is one entry in ``WIDGETS``.

Playwright cannot download a browser on these machines; ``make test`` installs Debian's
``chromium`` (``make browser``) and the test fails, saying what to install, when it is missing.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1400, "height": 1000}  # a laptop's browser window
SECONDS = 1000  # Playwright counts milliseconds
KERNEL_IDLE = re.compile(r"\(ipykernel\) \| Idle")  # the status bar once the kernel has started and is free
LAB_SETTINGS = {  # what a fresh JupyterLab would otherwise do in the way of the test
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},  # every cell in the DOM
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


@dataclass(frozen=True)
class StandIn:
    """Code run in place of lesson cells too slow for this test (training a network: the widget then
    shows an untrained network's output, on the lesson's real data)."""

    code: str


@dataclass(frozen=True)
class Widget:
    """One widget of one lesson, and what a learner does with it.

    ``cells`` picks the lesson's code cells to run, each by a piece of its text, in the lesson's
    order, with any :class:`StandIn` among them; the last one shows the widget. ``root`` is a CSS
    selector for the widget's outermost element in the output area, ``picture`` and ``controls``
    selectors inside it. The picture and every control must be in view together, and the picture
    must look different after ``use``, which does what the learner does (given the widget's root as
    a Playwright ``Locator``) and checks what the widget says back.
    """

    lesson: str
    cells: tuple[str | StandIn, ...]
    root: str
    picture: str
    controls: str
    use: Callable[..., None]


def rate_two_and_undo(root) -> None:
    """Rate the first digit 4 and the second 2, then undo the second: the status line counts along."""
    from playwright.sync_api import expect

    status = root.locator(".widget-html")
    expect(status).to_contain_text("image 1 of 100 · 0 rated")
    root.get_by_role("button", name="4", exact=True).click()
    expect(status).to_contain_text("image 2 of 100 · 1 rated")
    root.get_by_role("button", name="2", exact=True).click()
    expect(status).to_contain_text("image 3 of 100 · 2 rated · 1: 0, 2: 1, 3: 0, 4: 1, 5: 0")
    root.get_by_role("button", name="undo").click()
    expect(status).to_contain_text("image 2 of 100 · 1 rated · 1: 0, 2: 0, 3: 0, 4: 1, 5: 0")


def slide_one_step_right(root) -> None:
    """The right arrow key on the slider's handle: k goes from 6 to 7, as the readout says."""
    from playwright.sync_api import expect

    readout = root.locator(".widget-readout")
    expect(readout).to_have_text("6")
    handle = root.locator(".noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    expect(readout).to_have_text("7")


def morph_to_the_end_and_pick_another_b(root) -> None:
    """The End key on the t slider (0.50 -> 1.00), then the sixth digit as B: the status line follows both."""
    from playwright.sync_api import expect

    readout, status = root.locator(".widget-readout"), root.locator(".widget-html")
    expect(readout).to_have_text("0.50")
    handle = root.locator(".noUi-handle")
    handle.focus()
    handle.press("End")
    expect(readout).to_have_text("1.00")
    expect(status).to_contain_text("t = 1.00")
    picker_b = root.locator("select").nth(1)
    name = picker_b.locator("option").nth(5).inner_text()
    picker_b.select_option(index=5)
    expect(status).to_contain_text(f"→ {name}: t = 1.00")


MORPH_LESSON = "06_dcgan_morph.ipynb"
WIDGETS = [
    Widget("05_ranknet.ipynb", ("import course", "data = rank_digits(", "RatingPanel("),
           root=".widget-vbox:has(> img.widget-image)", picture="img.widget-image",
           controls=".widget-button, .widget-html", use=rate_two_and_undo),
    Widget("10_classic.ipynb", ("import course", "photos = {", 'cat = photos["chelsea"]', "colour_reduction_slider("),
           root=".widget-interact", picture=".jp-OutputArea-output img",
           controls=".widget-slider", use=slide_one_step_right),
    pytest.param(
        Widget(MORPH_LESSON, ("import course", "data = load_gan_digits(",
                              "generator, discriminator = dcgan.build_gan(",  # the untrained G
                              StandIn("vectorizer = dcgan.build_vectorizer(sizes)  # untrained: V trains for a while"),
                              "shown = ", "MorphPanel("),
               root=".widget-vbox:has(> img.widget-image)", picture="img.widget-image",
               controls=".widget-dropdown, .widget-checkbox, .widget-slider, .widget-html",
               use=morph_to_the_end_and_pick_another_b),
        marks=pytest.mark.skipif(not (REPO / "notebooks" / MORPH_LESSON).exists(),
                                 reason=f"notebooks/{MORPH_LESSON} is not in this tree yet (lesson 06 lands "
                                        "on its own); its entry is ready for it"),
        id="06"),
]


# --- the server and the browser -------------------------------------------------------------------

def _sync_playwright():
    """Playwright's entry point, after making sure that it and Chromium are there; fail saying how if not."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `make test` installs it from requirements.txt "
                    f"(or run {sys.executable} -m pip install -r requirements.txt)", pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make browser` installs Debian's (as root: apt-get install -y "
                    "chromium); or set CHROMIUM=/path/to/chromium. Playwright's own browser download "
                    "cannot be reached here", pytrace=False)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_settings(directory: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = directory / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it listens, its token, and the folder it serves."""

    url: str
    token: str
    root: Path

    def open(self, page, notebook: str) -> None:
        """Open ``notebook`` (under ``root/notebooks``) alone, in a workspace of its own."""
        workspace = notebook.removesuffix(".ipynb")
        page.goto(f"{self.url}/lab/workspaces/{workspace}/tree/notebooks/{notebook}?token={self.token}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 with a token, serving an empty temporary folder, every Jupyter path in it."""
    _sync_playwright()  # fail at once, with the fix, when a piece is missing
    root = tmp_path_factory.mktemp("lab")
    (root / "notebooks").mkdir()  # the lessons' `../runs` then lands in the temporary folder too
    _write_settings(root / "settings")
    env = dict(os.environ, COURSE_PROFILE="quick", COURSE_DEVICE="@numpy", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"), JUPYTER_CONFIG_DIR=str(root / "config"),
               JUPYTER_DATA_DIR=str(root / "data"), JUPYTER_RUNTIME_DIR=str(root / "runtime"),
               IPYTHONDIR=str(root / "ipython"))
    port, token = _free_port(), secrets.token_hex(16)
    log_path = root / "jupyterlab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             "--LabApp.expose_app_in_browser=True", "--allow-root", f"--ServerApp.root_dir={root}"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}", pytrace=False)
                time.sleep(0.5)
        yield Lab(url, token, root)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's), driven by Playwright, patient enough for a busy 2-core machine."""
    sync_playwright = _sync_playwright()
    from playwright.sync_api import expect

    expect.set_options(timeout=30 * SECONDS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """The folder for the widgets' screenshots, printed so that a person can look at them."""
    folder = tmp_path_factory.mktemp("widget-screenshots")
    print(f"\nscreenshots of the widgets: {folder}")
    return folder


# --- the lesson, cut down to its widget ------------------------------------------------------------

def widget_notebook(lesson: Path, picks: tuple[str | StandIn, ...]) -> dict:
    """``lesson`` with only the code cells that contain ``picks`` (one each, in order) and the markdown above each.

    A :class:`StandIn` among the picks becomes a code cell of its own at its place.
    """
    notebook = json.loads(lesson.read_text())
    cells, kept, start = notebook["cells"], [], 0
    for number, pick in enumerate(picks):
        if isinstance(pick, StandIn):
            kept.append({"cell_type": "code", "id": f"browser-test-stand-in-{number}", "metadata": {},
                         "execution_count": None, "outputs": [], "source": pick.code.splitlines(keepends=True)})
            continue
        found = next((i for i in range(start, len(cells))
                      if cells[i]["cell_type"] == "code" and pick in "".join(cells[i]["source"])), None)
        assert found is not None, f"{lesson.name} has no code cell with {pick!r} from cell {start} on: update WIDGETS"
        if found > start and cells[found - 1]["cell_type"] == "markdown":
            kept.append(cells[found - 1])
        kept.append(cells[found])
        start = found + 1
    return dict(notebook, cells=kept)


def test_widget_notebook_keeps_the_picked_cells_in_order(tmp_path):
    lesson = tmp_path / "lesson.ipynb"
    cells = [{"cell_type": kind, "source": [text]} for kind, text in
             [("markdown", "intro"), ("code", "import a"), ("code", "x = 1"), ("markdown", "show it"),
              ("code", "show(x)"), ("code", "import b")]]
    lesson.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    kept = widget_notebook(lesson, ("import", "show("))["cells"]
    assert ["".join(c["source"]) for c in kept] == ["intro", "import a", "show it", "show(x)"]
    kept = widget_notebook(lesson, ("import", StandIn("x = 2\ny = 3"), "show("))["cells"]
    assert ["".join(c["source"]) for c in kept] == ["intro", "import a", "x = 2\ny = 3", "show it", "show(x)"]
    with pytest.raises(AssertionError, match="no code cell with .import a. from cell 3 on"):
        widget_notebook(lesson, ("x = 1", "import a"))


# --- what the page shows -------------------------------------------------------------------------

def _run_all(page, notebook: str) -> None:
    """Wait for the kernel, run every cell as "Run All" does, and fail on any cell that raised."""
    from playwright.sync_api import expect

    status = page.locator("#jp-main-statusbar")
    expect(status).to_contain_text(KERNEL_IDLE, timeout=120 * SECONDS)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(  # every cell has run, or one has raised (and Run All stopped there)
        """() => {
            const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...notebook.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const failed = [...notebook.querySelectorAll('.jp-OutputArea-output')].some(
                output => output.textContent.includes('Traceback'));
            return failed || (prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)));
        }""", timeout=240 * SECONDS, polling=500)
    expect(status).to_contain_text(KERNEL_IDLE, timeout=60 * SECONDS)
    outputs = page.locator(".jp-OutputArea-output").all_inner_texts()  # outputs only: lesson 06's prose names the error
    failed = [text for text in outputs if "Traceback" in text]
    assert not failed, f"{notebook} raised in the browser:\n" + "\n".join(failed)
    broken = [text for text in outputs if "Error displaying widget" in text]
    assert not broken, f"{notebook}: a widget failed to display: {broken}"


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return box


def _scroll_to_top(root) -> None:
    """Scroll the notebook so that the widget's top is at the top of the view, as a learner would."""
    root.evaluate("element => element.scrollIntoView({block: 'start'})")
    root.page.wait_for_timeout(300)


def _assert_in_view_together(widget: Widget, root, screenshot: Path) -> None:
    """The widget's picture and every one of its controls lie inside the notebook's visible area."""
    scroller = root.locator("xpath=ancestor::*[contains(@class, 'jp-WindowedPanel-outer')]").first
    view = _box(scroller)
    top, bottom = max(view["y"], 0), min(view["y"] + view["height"], VIEWPORT["height"])
    left, right = max(view["x"], 0), min(view["x"] + view["width"], VIEWPORT["width"])
    picture = _box(root.locator(widget.picture).first)
    controls = root.locator(widget.controls).all()
    assert controls, f"{widget.lesson}: no {widget.controls} in the widget"
    parts = {"the picture": picture} | {f"control {i + 1} ({control.inner_text()[:20]!r})": _box(control)
                                        for i, control in enumerate(controls)}
    for name, box in parts.items():
        inside = (top - 1 <= box["y"] and box["y"] + box["height"] <= bottom + 1
                  and left - 1 <= box["x"] and box["x"] + box["width"] <= right + 1)
        assert inside, (
            f"{widget.lesson}: with the widget scrolled to the top of a {VIEWPORT['width']}x{VIEWPORT['height']} "
            f"window, {name} at x {box['x']:.0f}-{box['x'] + box['width']:.0f}, y {box['y']:.0f}-"
            f"{box['y'] + box['height']:.0f} is outside the view (x {left:.0f}-{right:.0f}, y {top:.0f}-{bottom:.0f}); "
            f"the picture is {picture['width']:.0f}x{picture['height']:.0f} px. See {screenshot}")


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda widget: widget.lesson.split("_")[0])
def test_a_learner_uses_the_widget_in_jupyterlab(widget: Widget, lab: Lab, browser, screenshots: Path):
    from playwright.sync_api import expect

    notebook = widget_notebook(REPO / "notebooks" / widget.lesson, widget.cells)
    (lab.root / "notebooks" / widget.lesson).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    name = widget.lesson.removesuffix(".ipynb")
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(60 * SECONDS)
    try:
        lab.open(page, widget.lesson)
        _run_all(page, widget.lesson)
        selector = f".jp-OutputArea-output {widget.root}"
        root = page.locator(selector)
        assert root.count() == 1, f"{widget.lesson}: {root.count()} widgets match {widget.root}, not one"
        _scroll_to_top(root)
        page.screenshot(path=screenshots / f"{name}-before.png")
        _assert_in_view_together(widget, root, screenshots / f"{name}-before.png")

        picture = root.locator(widget.picture).first
        shown, source = picture.screenshot(), picture.get_attribute("src")
        widget.use(root)
        page.wait_for_function(  # the redrawn picture has arrived (a label changes before it does)
            "([root, picture, source]) => { const img = document.querySelector(root)?.querySelector(picture);"
            " return img && img.complete && img.src !== source; }",
            arg=[selector, widget.picture, source], timeout=60 * SECONDS)
        expect(page.locator("#jp-main-statusbar")).to_contain_text(KERNEL_IDLE, timeout=60 * SECONDS)
        page.screenshot(path=screenshots / f"{name}-after.png")
        assert picture.screenshot() != shown, f"{widget.lesson}: the picture looks the same after {widget.use.__name__}"
    finally:
        page.close()
