"""Which lesson uses each public helper: the table of docs/maintainers.md.

    python tools/where_used.py            # print the table
    python tools/where_used.py --check    # exit 1 if docs/maintainers.md's table is not current

A name counts as used by a notebook when a code cell says ``helpers.NAME``.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "maintainers.md"
START, END = "<!-- where-used:start -->", "<!-- where-used:end -->"


def _modules():
    """Public name -> the module that defines it, from helpers/__init__.py's imports."""
    text = (ROOT / "helpers" / "__init__.py").read_text(encoding="utf-8")
    owners = {}
    for module, names in re.findall(r"from \.(\w+) import \(?([^)]*?)\)?\n(?=\S|$)", text, re.S):
        for name in re.findall(r"\w+", names):
            owners[name] = module
    return owners


def table():
    sys.path.insert(0, str(ROOT))
    import helpers

    owners = _modules()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "apps").glob("*.ipynb"))
    code = {}
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code[path.stem.split("_")[0]] = "\n".join("".join(c["source"]) for c in cells
                                                  if c["cell_type"] == "code")
    lines = ["| public name | module | used by |", "| --- | --- | --- |"]
    for name in sorted(helpers.__all__, key=str.lower):
        users = [stem for stem, text in code.items() if re.search(rf"\bhelpers\.{name}\b", text)]
        lines.append(f"| `{name}` | `{owners.get(name, '?')}` | {', '.join(users) or '(no lesson)'} |")
    return "\n".join(lines)


def main(argv):
    text = table()
    if "--check" in argv:
        doc = DOC.read_text(encoding="utf-8")
        current = doc.split(START)[1].split(END)[0].strip() if START in doc else ""
        if current != text:
            print(f"{DOC.relative_to(ROOT)}: the where-used table is not current; "
                  f"run python tools/where_used.py --write")
            return 1
        return 0
    if "--write" in argv:
        doc = DOC.read_text(encoding="utf-8")
        head, rest = doc.split(START)
        DOC.write_text(f"{head}{START}\n{text}\n{END}{rest.split(END)[1]}", encoding="utf-8")
        return 0
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
