"""Real-browser tests: JupyterLab (and Voilà) in headless Chromium, driven by Playwright.

A JupyterLab server runs on 127.0.0.1 over a temporary copy of notebooks 06 and 07 and
of the explorer app (outputs cleared, so only live widgets can satisfy the checks and
the committed notebooks stay untouched). The tests run the notebooks as a learner does,
move the explorer's batch-size slider, answer quiz questions by clicking, and check that
the app fits a laptop screen (its screenshots stay in .cache/browser/ to be looked at).

They need Debian's Chromium at /usr/bin/chromium (``.ci/run`` installs it). Without it
they skip, except in CI (``CI=true``), where a missing browser is a failure.
"""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest

from helpers.quiz import make_question

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EXPLORER = "07_explorer.ipynb"
QUIZ = "06_quiz_reading_curves.ipynb"
APP = "apps/explorer.ipynb"
#: Laptop screens the app must fit: the browser's viewport on 1366 x 768 and 1280 x 800
#: displays, once its tabs and address bar (about 90 pixels) are drawn.
SCREENS = [(1366, 768 - 90), (1280, 800 - 90)]
SCREENSHOTS = ROOT / ".cache" / "browser"
TIMEOUT_MS = 180_000  # TensorFlow's import and the quiz's training happen inside this
LAB_SETTINGS = {
    # Render every cell: JupyterLab 4 otherwise skips laying out cells scrolled out of view.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}


def _unavailable(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` "
                     "(.ci/run does)")
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("the playwright package is missing: `make venv` installs the test extra")
    return sync_api


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_without_outputs(path, folder):
    """Copy ``path`` (under the repository) to the same place under ``folder``, outputs cleared."""
    nb = nbformat.read(ROOT / path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    (folder / path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / path)


def _stop(process):
    """Stop the server and the kernels it started, each by its process id."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for child in children:
        try:
            child.terminate()
            child.wait(timeout=10)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            child.kill()


@pytest.fixture(scope="module")
def lab(playwright_api, tmp_path_factory):
    """A JupyterLab server over a copy of the notebooks: yields its base URL and token."""
    folder = tmp_path_factory.mktemp("lab")
    for path in (f"notebooks/{EXPLORER}", f"notebooks/{QUIZ}", APP):
        _copy_without_outputs(path, folder)
    port, token = _free_port(), secrets.token_hex(16)
    state = folder / ".lab-state"  # no workspace or settings of the machine's user leak in
    for plugin, settings in LAB_SETTINGS.items():
        path = state / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    log = (folder / "lab.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--allow-root",
         f"--LabApp.workspaces_dir={state / 'workspaces'}",
         f"--LabApp.user_settings_dir={state / 'settings'}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited:\n{(folder / 'lab.log').read_text()[-3000:]}")
            try:
                request = urllib.request.Request(f"{base}/api/status",
                                                 headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(request, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(folder / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="module")
def browser(playwright_api):
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh page; on failure its screenshot goes to .cache/browser/ (for CI logs)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    failures = request.session.testsfailed
    yield page
    if request.session.testsfailed > failures:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{request.node.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failed page: {shot}")
    context.close()


def _open_and_run_all(page, lab, name):
    base, token = lab
    page.goto(f"{base}/lab/tree/notebooks/{name}?token={token}&reset")  # reset: only this notebook open
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    # Run All does nothing until the kernel is up; the status bar says when it is.
    page.get_by_text(re.compile(r"\| Idle$")).wait_for()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.click("li[data-command='runmenu:run-all']")


def _wait_for_text(page, selector, text):
    page.wait_for_function(
        "([selector, text]) => [...document.querySelectorAll(selector)]"
        ".some(e => e.textContent.includes(text))", arg=[selector, text])


# The picture's bytes, hashed: ipywidgets 8 gives every update a new blob: URL, even for the
# same picture, so comparing src values would pass without a redraw.
FIGURE_DIGEST = """async (img) => {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let hash = 2166136261;  // FNV-1a, 32 bits
    for (const byte of bytes) { hash = Math.imul(hash ^ byte, 16777619) >>> 0; }
    return `${bytes.length}:${hash}`;
}"""


def _figure(page, scope=".explorer"):
    """A digest of the explorer's figure as the browser holds it (length and hash of its PNG)."""
    return page.locator(f"{scope} .explorer-figure").first.evaluate(FIGURE_DIGEST)


def _move_the_batch_size_slider(page, scope):
    """Drag the batch-size handle to the left end (batch 1), then one step right (batch 2)."""
    slider = page.locator(f"{scope} .explorer-batch-size")
    handle = slider.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    track = slider.locator(".noUi-target").bounding_box()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] - 20, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    _wait_for_text(page, f"{scope} .explorer-readout", "batch size 1 → 800 updates per epoch")
    first = _figure(page, scope)
    handle.focus()
    page.keyboard.press("ArrowRight")
    _wait_for_text(page, f"{scope} .explorer-readout", "batch size 2 → 400 updates per epoch")
    return first


def _check_explorer(page, scope):
    _wait_for_text(page, f"{scope} .explorer-readout", "batch size 32 → 25 updates per epoch")
    before = _figure(page, scope)
    assert not before.startswith("0:")
    after_drag = _move_the_batch_size_slider(page, scope)
    after_key = _figure(page, scope)
    assert len({before, after_drag, after_key}) == 3, "the curves were not redrawn"
    assert page.locator(f"{scope} .explorer-error").inner_text().strip() == ""


def test_explorer_in_jupyterlab_follows_the_batch_size_slider(page, lab):
    _open_and_run_all(page, lab, EXPLORER)
    # Lesson 07 shows several explorers (each "thing to try" has its own): drive the first,
    # the one its section 1 opens at batch size 32.
    page.wait_for_selector(".jp-OutputArea .explorer .explorer-batch-size")
    page.evaluate("document.querySelector('.jp-OutputArea .explorer').dataset.testScope = 'first'")
    _check_explorer(page, "[data-test-scope='first']")


def _open_app(page, lab):
    base, token = lab
    page.goto(f"{base}/voila/render/{APP}?token={token}")
    _wait_for_text(page, "body .explorer-readout", "batch size 32 → 25 updates per epoch")


def _box(page, selector):
    return page.locator(selector).first.bounding_box()


def _check_fits(page, width, height):
    """The app shows only the explorer, and its parts lie inside a width x height viewport."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function("document.querySelector('.explorer-figure').naturalWidth > 0")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"voila-app-{width}x{height}.png"))
    text = page.locator("body").inner_text()
    assert "Batch-size explorer" in text and "Pin this run" in text
    for absent in ("Setup", "Exercises", "Solution", "Open In Colab", "import helpers"):
        assert absent not in text, f"the app shows {absent!r}"
    assert page.locator("img[alt='Open In Colab'], img[alt='Launch on Binder']").count() == 0
    # Controls, figure and readout table: all inside the screen, nothing to scroll to.
    parts = {name: _box(page, selector) for name, selector in [
        ("controls", ".explorer .explorer-seeds"), ("batch size", ".explorer-batch-size"),
        ("figure", ".explorer-figure"), ("readout", ".explorer-readout table")]}
    for name, box in parts.items():
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (width, height, name, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, (width, height, name, box)
    # The figure is drawn at (nearly) its own size, so its 9-point legend stays legible.
    assert parts["figure"]["width"] >= 0.9 * min(1200, width - 40), (width, height, parts["figure"])


def test_the_voila_app_fits_a_laptop_screen_and_follows_its_slider(page, lab):
    # One Voila page (one kernel) for every screen: the layout is the browser's, redone on resize.
    _open_app(page, lab)
    for width, height in SCREENS:
        _check_fits(page, width, height)
    _check_explorer(page, "body")


def _quiz_seed():
    source = (ROOT / "notebooks" / QUIZ).read_text()
    return int(re.search(r"helpers\.Quiz\(seed=(\d+)\)", source).group(1))


def test_quiz_in_jupyterlab_marks_answers_and_keeps_score(page, lab):
    seed = _quiz_seed()
    wrong_q, right_q = make_question("flat-curve", seed=seed), make_question("per-epoch-faster",
                                                                            seed=seed)
    first_try, second_try = [letter for letter, _ in wrong_q.options if letter != wrong_q.answer][:2]
    _open_and_run_all(page, lab, QUIZ)

    first = page.locator(".quiz-card.quiz-q-flat-curve").first  # the asked card, not practice's
    first.get_by_role("button", name=first_try, exact=True).click()
    _wait_for_text(page, ".quiz-card.quiz-q-flat-curve .quiz-feedback", "Not quite")
    _wait_for_text(page, ".quiz-card.quiz-q-flat-curve", f"{first_try} ✗")  # the front end may draw it later
    feedback = first.locator(".quiz-feedback").inner_text()
    assert wrong_q.option_text(wrong_q.answer) not in feedback  # a first try does not tell
    assert wrong_q.note(first_try) in feedback and f"{first_try} ✗" in first.inner_text()
    _wait_for_text(page, ".quiz-score", "Score: 0 of 1")
    first.get_by_role("button", name=second_try, exact=True).click()  # the second try does
    _wait_for_text(page, ".quiz-card.quiz-q-flat-curve .quiz-feedback", "the answer is")
    _wait_for_text(page, ".quiz-card.quiz-q-flat-curve", f"{wrong_q.answer} ✓")
    assert f"the answer is {wrong_q.answer_text()}" in first.locator(".quiz-feedback").inner_text()
    assert f"{wrong_q.answer} ✓" in first.inner_text()

    second = page.locator(".quiz-card.quiz-q-per-epoch-faster").first
    second.get_by_role("button", name=right_q.answer, exact=True).click()
    _wait_for_text(page, ".quiz-card.quiz-q-per-epoch-faster .quiz-feedback", "Correct.")
    assert right_q.explanation in second.locator(".quiz-feedback").inner_text()
    _wait_for_text(page, ".quiz-score", "Score: 1 of 2")
    assert page.locator(".quiz-score").count() == 1  # one score line for the whole quiz
