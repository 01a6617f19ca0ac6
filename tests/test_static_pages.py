"""Pages that read without a kernel: every committed notebook, exported to HTML as nbviewer does.

A static page (GitHub, nbviewer, ``jupyter nbconvert --to html``) cannot run a widget.
Renderers pick a widget's view whenever the notebook's saved widget state holds its model,
so the figures and text a widget output carries beside it never show; the committed
notebooks are saved with those static views only (``tools/execute_notebooks.py``).
Each notebook is exported with nbconvert, and its HTML must show every output's figure
and text: the explorer its figure and readout, each quiz question its options.
"""

import base64
import html
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from helpers._display import WIDGET_VIEW_MIMETYPE
from helpers.quiz import make_question

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((ROOT / "apps").glob("*.ipynb"))
EXPLORERS = ["notebooks/07_explorer.ipynb", "apps/explorer.ipynb"]
QUIZ = ROOT / "notebooks" / "06_quiz_reading_curves.ipynb"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: Words of the course's test tooling, which no learner-facing page names.
TOOLING = re.compile(r"\b(nbval|pytest|nbclient)\b", re.IGNORECASE)


def _export(nb):
    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


@pytest.fixture(scope="module")
def pages():
    """Path relative to the repository -> (notebook, its HTML export)."""
    exported = {}
    for path in PAGES:
        nb = nbformat.read(path, as_version=4)
        exported[str(path.relative_to(ROOT))] = (nb, _export(nb))
    return exported


def _outputs(nb):
    return [(index, output) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for output in cell.outputs]


def _visible(page):
    """The text a reader sees: no scripts (where a saved widget state would hide), no tags."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def _plain(value):
    return "".join(value) if isinstance(value, list) else value


def test_there_are_pages_and_an_app():
    names = [str(p.relative_to(ROOT)) for p in PAGES]
    assert len(names) >= 8 and "apps/explorer.ipynb" in names


@pytest.mark.parametrize("path", [str(p.relative_to(ROOT)) for p in PAGES])
def test_no_output_is_left_to_a_widget_view(pages, path):
    nb, page = pages[path]
    assert WIDGET_STATE not in nb.metadata.get("widgets", {}), \
        f"{path}: saved widget state; re-execute it with tools/execute_notebooks.py"
    for index, output in _outputs(nb):
        assert WIDGET_VIEW_MIMETYPE not in output.get("data", {}), f"{path}, cell {index}"
    assert WIDGET_VIEW_MIMETYPE not in page


@pytest.mark.parametrize("path", [str(p.relative_to(ROOT)) for p in PAGES])
def test_every_output_shows_its_figure_or_text(pages, path):
    nb, page = pages[path]
    for index, output in _outputs(nb):
        data = output.get("data", {})
        if output.output_type == "stream":
            shown = [line for line in _plain(output.text).splitlines() if line.strip()][:3]
            for line in shown:
                assert html.escape(line.strip(), quote=False) in page, (path, index, line)
        elif "image/png" in data:
            # In an <img> of its own, or inside the HTML view that carries it.
            assert _plain(data["image/png"]).strip()[:200] in page, (path, index)
        elif "text/html" in data or "text/markdown" in data:
            continue  # rendered as HTML; its words are checked where they matter, below
        elif "text/plain" in data:
            first = next(line for line in _plain(data["text/plain"]).splitlines() if line.strip())
            assert html.escape(first.strip(), quote=False) in page, (path, index, first)
        else:
            pytest.fail(f"{path}, cell {index}: an output with nothing static to show: {list(data)}")


@pytest.mark.parametrize("path", EXPLORERS)
def test_the_explorer_shows_a_figure_and_its_readout(pages, path):
    nb, page = pages[path]
    views = [output for _, output in _outputs(nb) if "image/png" in output.get("data", {})
             and "updates per epoch" in _plain(output["data"].get("text/plain", ""))]
    assert views, f"{path}: the explorer's output carries no picture"
    for view in views:
        data = view["data"]
        assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"data:image/png;base64,{_plain(data['image/png']).strip()}" in page
    text = _visible(page)
    for words in ("batch size 32 → 25 updates per epoch", "final acc train / validation",
                  "bnomial's blobs (800 train, 200 validation, 200 test)", "Run the notebook"):
        assert words in text, (path, words)


def test_each_still_picture_of_the_explorer_shows_its_own_setting(pages):
    """Each place shows the runs its text talks about: no two still pictures are the same."""
    pictures = [_plain(output["data"]["image/png"]).strip() for path in EXPLORERS
                for _, output in _outputs(pages[path][0]) if "image/png" in output.get("data", {})
                and "updates per epoch" in _plain(output["data"].get("text/plain", ""))]
    assert len(pictures) >= 2 and len(set(pictures)) == len(pictures)


def test_each_quiz_question_shows_its_options(pages):
    nb, page = pages[str(QUIZ.relative_to(ROOT))]
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    seed = int(re.search(r"helpers\.Quiz\(seed=(\d+)\)", source).group(1))
    asked = re.findall(r"quiz\.ask\(\"([\w-]+)\"\)", source)
    assert len(asked) >= 10
    text = _visible(page)
    for question_id in asked:
        question = make_question(question_id, seed=seed)
        first_words = " ".join(question.prompt.split()[:8])
        assert first_words in text, f"{question_id}: prompt missing from the page"
        for letter, option in question.options:
            assert " ".join(option.split()) in text, f"{question_id}: option {letter} missing"


@pytest.mark.parametrize("path", [str(p.relative_to(ROOT)) for p in PAGES])
def test_no_page_names_the_test_tooling(pages, path):
    _, page = pages[path]
    found = TOOLING.findall(_visible(page))
    assert not found, f"{path} names {sorted(set(found))}"


# --- how the committed notebooks get there ---------------------------------------------------

def _widget_notebook():
    """A notebook as nbclient saves it: one widget output with text beside it, its saved state."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("helpers.explore()", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        WIDGET_VIEW_MIMETYPE: {"version_major": 2, "version_minor": 0, "model_id": "m1"},
        "text/plain": "the static text of the widget"})]
    nb.cells.append(cell)
    nb.metadata["widgets"] = {WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": {
        "m1": {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
               "model_module_version": "2.0.0", "state": {"value": "live"}}}}}
    return nb


def test_saved_state_hides_the_static_text_and_keep_static_views_brings_it_back(load_tool):
    nb = _widget_notebook()
    assert "the static text of the widget" not in _export(nb)  # the renderer chose the view
    load_tool("execute_notebooks").keep_static_views(nb)
    assert "widgets" not in nb.metadata
    assert list(nb.cells[0].outputs[0]["data"]) == ["text/plain"]
    page = _export(nb)
    assert "the static text of the widget" in page and WIDGET_VIEW_MIMETYPE not in page
