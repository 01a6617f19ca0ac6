"""Lessons 01-05 stay short: the word budgets of issue 17 (tools/word_count.py counts)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import word_count  # noqa: E402


def test_lessons_01_to_05_keep_their_word_budgets():
    counts = [word_count.count(path) for path in sorted((ROOT / "notebooks").glob("0[1-5]_*.ipynb"))]
    assert len(counts) == 5
    main_path, whole = (sum(c[i] for c in counts) for i in (0, 1))
    assert main_path <= word_count.MAIN_PATH_BUDGET, main_path
    assert whole <= word_count.WHOLE_BUDGET, whole


def test_the_main_path_is_the_numbered_sections_and_what_you_saw(tmp_path):
    import json

    cells = [("# Title", 2), ("## 1. First", 3), ("## 2. Second (extra)", 4), ("## What you saw", 4),
             ("## Exercises", 2)]
    notebook = {"cells": [{"cell_type": "markdown", "source": f"{heading}\n" + "word " * n}
                          for heading, n in cells] + [{"cell_type": "code", "source": "x = 1"}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook))
    # headings count as words: title 2+2, section 1 3+3, What you saw 4+4; the extra (4+4) and the
    # exercises (2+2) count only in the whole
    assert word_count.count(path) == (18, 18 + 8 + 4)
