"""The code passes ruff, with the configuration in pyproject.toml ([tool.ruff])."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    # ruff is in the test extra (pyproject.toml), so `make test` installs it.
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert "No module named ruff" not in run.stderr, "ruff is missing: pip install -e '.[test]'"
    assert run.returncode == 0, run.stdout + run.stderr
