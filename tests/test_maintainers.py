"""docs/maintainers.md stays true: its table of which lesson uses each public helper."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_where_used_table_is_current():
    done = subprocess.run([sys.executable, "tools/where_used.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_module_has_a_line():
    text = (ROOT / "docs" / "maintainers.md").read_text(encoding="utf-8")
    for module in sorted((ROOT / "helpers").glob("*.py")):
        if module.name != "__init__.py":
            assert f"`{module.name}`" in text, module.name
