"""Words of prose in the lessons: the main path and the whole, per lesson and in all.

The main path of a lesson is what a learner reads to get its point: the title cell, the
numbered sections (``## 1. ...``) not marked "extra", and "What you saw"; the whole is
every markdown cell (exercises, solutions, extras and further reading too). Code and outputs are not counted.

    python tools/word_count.py notebooks/0[1-5]*.ipynb
"""

import json
import re
import sys
from pathlib import Path

NUMBERED = re.compile(r"^##\s+\d+\.")
#: Issue 17's budgets for lessons 01-05 together.
MAIN_PATH_BUDGET, WHOLE_BUDGET = 6_500, 8_500


def count(path):
    """(main-path words, all words) of one notebook's markdown cells."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    main = whole = 0
    in_main = True   # the title cell and what follows it, up to the first level-2 heading
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        heading = next((line for line in text.splitlines() if line.startswith("## ")), None)
        if heading is not None:
            in_main = (bool(NUMBERED.match(heading)) or heading.startswith("## What you saw")) \
                and "extra" not in heading.lower()
        words = len(text.split())
        whole += words
        main += words if in_main else 0
    return main, whole


def main(paths):
    total_main = total_whole = 0
    for path in paths:
        m, w = count(path)
        total_main += m
        total_whole += w
        print(f"{Path(path).name:60s} main path {m:5,d}  whole {w:5,d}")
    print(f"{'all':60s} main path {total_main:5,d}  whole {total_whole:5,d}")


if __name__ == "__main__":
    main(sys.argv[1:])
