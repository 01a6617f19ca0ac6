"""The committed notebooks: executed top to bottom, clean outputs, house frame."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOISE = re.compile(r"(^[IWEF]\d{4} |oneDNN|cuda|WARNING:tensorflow|AutoGraph|absl::InitializeLog|"
                   r"This TensorFlow binary)", re.MULTILINE | re.IGNORECASE)


def load(path):
    return json.loads(path.read_text())


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom_without_errors(path):
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: run `make notebooks`"
    for cell in cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{path.name}: stored error {output.get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_carry_no_tensorflow_log_noise(path):
    for cell in load(path)["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output["output_type"] == "stream" else ""
            if isinstance(text, list):
                text = "".join(text)
            assert not NOISE.search(text), f"{path.name}: log noise in output: {text[:200]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_house_frame(path):
    cells = load(path)["cells"]
    sources = ["".join(c["source"]) for c in cells]
    number = path.name[:2]
    assert sources[0].startswith(f"# {number} · "), "title first"
    assert any(s.strip() == "## Setup" for s in sources)
    assert any(s.startswith("## What you saw") for s in sources)
    setup = [c for c in cells if "colab-setup" in c.get("metadata", {}).get("tags", [])]
    assert len(setup) == 1 and '"google.colab" in sys.modules' in "".join(setup[0]["source"])
    code = "\n".join(s for c, s in zip(cells, sources) if c["cell_type"] == "code")
    assert "import *" not in code
    assert not re.search(r";\s*$", code, re.MULTILINE), "no trailing-; tricks to hide output"


def _progress_state(done, total):
    """A saved widget state holding one tqdm bar, as nbclient stores it."""
    def model(name, **state):
        return {"model_name": name, "state": state}
    return {"state": {
        "box": model("HBoxModel", children=["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]),
        "left": model("HTMLModel", value=f"sweep:\u2007{100 * done // total}%"),
        "bar": model("FloatProgressModel", value=float(done), max=float(total)),
        "right": model("HTMLModel", value=f"\u2007{done}/{total}\u2007[00:16&lt;00:00]"),
    }}


def test_stored_progress_bars_get_the_text_of_their_final_state(load_tool):
    tool = load_tool("execute_notebooks")
    nb = {"metadata": {"widgets": {tool.WIDGET_STATE: _progress_state(37, 37)}},
          "cells": [{"outputs": [{"data": {tool.WIDGET_VIEW: {"model_id": "box"},
                                           "text/plain": "sweep:   0%|          | 0/37"}}]}]}
    nb = type("Nb", (), {"metadata": nb["metadata"], "cells": nb["cells"]})
    tool.settle_progress_bars(nb)
    assert nb.cells[0]["outputs"][0]["data"]["text/plain"] == "sweep: 100%|██████████| 37/37 [00:16<00:00]"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_progress_bars_read_as_finished(path):
    """A static view (GitHub) shows a widget's text: a finished sweep must not read 0%."""
    for cell in load(path)["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            match = re.search(r"\| *(\d+)/(\d+) ", text)
            if match:
                assert match[1] == match[2], f"{path.name}: stored bar reads {text!r}; run `make notebooks`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_come_last_under_a_folded_heading(path):
    """Run All shows no solution under its exercise: they sit after every exercise, folded."""
    cells = load(path)["cells"]
    sources = ["".join(c["source"]) for c in cells]
    if not any("### BEGIN SOLUTION" in s for s in sources):
        return
    heading = sources.index("## Solutions")
    assert cells[heading]["metadata"].get("jp-MarkdownHeadingCollapsed") is True, "run `make notebooks`"
    assert all(not s.startswith("## ") for s in sources[heading + 1:]), "solutions are the last section"
    first = min(i for i, s in enumerate(sources) if "### BEGIN SOLUTION" in s)
    assert first > heading and any(s.startswith("## Exercises") for s in sources[:heading])
    assert "solutions" in sources[0] and "folded" in sources[0], "the first cell says where the solutions are"
