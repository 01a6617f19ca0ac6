"""Execute notebooks in place, each on a fresh kernel, as a learner would run them.

    python tools/execute_notebooks.py [--empty-cache] notebooks/*.ipynb

The outputs are saved into the files, so the repository shows real plots;
widget outputs are saved as their static views (:func:`keep_static_views`),
so that every page reads without a kernel.
``--empty-cache`` first deletes the sweep cache next to the notebooks, so the
stored outputs show a learner's first run (every sweep trained, none read back)
rather than whatever an earlier execution left in ``.cache/sweeps``.
"""

import argparse
import html
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _progress_text(state, model_id):
    """The final text of a tqdm notebook bar (HBox of HTML, FloatProgress, HTML), or None."""
    box = state.get(model_id, {})
    if box.get("model_name") != "HBoxModel":
        return None
    parts = [state.get(child.replace("IPY_MODEL_", ""), {}) for child in box["state"].get("children", [])]
    if [p.get("model_name") for p in parts] != ["HTMLModel", "FloatProgressModel", "HTMLModel"]:
        return None
    left, bar, right = (p["state"] for p in parts)
    filled = round(10 * bar["value"] / bar["max"]) if bar.get("max") else 0
    text = f"{left['value']}|{'█' * filled}{' ' * (10 - filled)}|{right['value']}"
    return html.unescape(text).replace("\u2007", " ")


def settle_progress_bars(nb):
    """Give each stored progress bar the text of its final state.

    A widget's plain-text fallback is captured when the widget is first shown,
    so a static view (GitHub, nbviewer) of a finished bar would read "0%".
    The final state is in the notebook's saved widget state; copy it over.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            text = view and _progress_text(state, view["model_id"])
            if text:
                output["data"]["text/plain"] = text


#: JupyterLab's (and Notebook 7's) saved state of a collapsed heading.
COLLAPSED = "jp-MarkdownHeadingCollapsed"


def fold_solutions(nb):
    """Fold the ``## Solutions`` heading, so that Run All shows no solution until it is opened.

    Solutions come last in every lesson; a learner who runs the notebook sees
    one folded heading after the exercises. Renderers that do not fold
    headings (GitHub, Colab) show them, as they always did.
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip() == "## Solutions":
            cell.metadata[COLLAPSED] = True


def keep_static_views(nb):
    """Save each widget output as its static views, and drop the saved widget state.

    A saved widget can only be redrawn from the saved state, without its
    kernel: a page that does (nbviewer, an HTML export) shows a dead copy,
    and one that does not (GitHub) shows an empty output. Renderers pick the
    widget view whenever the state holds its model, so the text, HTML and
    pictures a widget output carries beside it (:func:`helpers._display.widget_bundle`)
    never show. Without the view and the state they do, everywhere; running
    the cell brings the live widget back. Call after :func:`settle_progress_bars`,
    which reads the state.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nb.metadata.pop("widgets", None)


def execute(path, timeout=600):
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    settle_progress_bars(nb)
    keep_static_views(nb)
    fold_solutions(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--empty-cache", action="store_true",
                        help="delete .cache/sweeps next to the notebooks before executing them")
    parser.add_argument("paths", nargs="+", metavar="NOTEBOOK.ipynb")
    args = parser.parse_args(argv)
    if args.empty_cache:
        for folder in {Path(p).resolve().parent / ".cache" / "sweeps" for p in args.paths}:
            shutil.rmtree(folder, ignore_errors=True)
    for path in args.paths:
        print(f"{path}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
