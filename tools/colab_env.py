"""Run lessons under Google Colab's versions of TensorFlow, Keras, ipywidgets and NumPy.

Colab cannot be reached from here, so this builds its stand-in: a venv
(``.venv-colab``) with Colab's Python and the versions listed in
tools/colab-requirements.txt, plus the test runner pinned in pyproject's
``test`` extra. Then it installs the course's package the way a notebook's
Setup cell does on Colab (a plain ``pip install "batch-size-course @ ..."``,
from this working tree instead of GitHub), fails if that install replaced any
of Colab's packages, and runs the lessons under nbval with that venv's kernel.

    python tools/colab_env.py                        # lessons 01, 06 and 07
    python tools/colab_env.py notebooks/07_explorer.ipynb
    python tools/colab_env.py --rebuild              # start from a fresh venv

The venv is rebuilt only when the pins change. Set COLAB_PYTHON to choose the
interpreter (default: a Python 3.13, Colab's). The pins mirror Colab's default
runtime; docs/testing.md says which one and how to refresh them.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from _venv import ROOT, BuildError, create_venv, find_python, main_wrapper, run, venv_env

__all__ = ["COLAB_PYTHON", "LESSONS", "colab_pins", "runner_pins", "build", "install_course",
           "check_versions", "main"]

# Colab's Python: its default runtime runs 3.13 since late August 2026 (the 2026.07 one ran 3.12).
COLAB_PYTHON = "3.13"
# 01: training; 06 and 07: the quiz's and the explorer's widgets under ipywidgets 7.
LESSONS = ("01", "06", "07")
VENV = ROOT / ".venv-colab"
LOG = ROOT / ".cache" / "colab-env.log"
REQUIREMENTS = ROOT / "tools" / "colab-requirements.txt"
RUNNER = ("pytest", "pytest-timeout", "nbval")
PACKAGE = "batch-size-course"


def colab_pins():
    """Colab's versions, as ``name==version`` lines of tools/colab-requirements.txt."""
    lines = (line.strip() for line in REQUIREMENTS.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def runner_pins():
    """The test runner's pins, taken from pyproject's ``test`` extra (the one list of them)."""
    test = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["test"]
    return [pin for pin in test if Requirement(pin).name in RUNNER]


def _python(venv=VENV):
    return venv / "bin" / "python"


def build(python, *, rebuild=False):
    """Create ``.venv-colab`` with Colab's pins unless an up-to-date one exists."""
    pins = colab_pins() + runner_pins()
    digest = hashlib.sha256("\n".join([python, *pins]).encode()).hexdigest()[:12]
    stamp = VENV / f".colab-{digest}"
    if stamp.exists() and not rebuild:
        return
    print(f"building {VENV.name} with {python} (log: {LOG.relative_to(ROOT)}) ...", flush=True)
    LOG.unlink(missing_ok=True)
    create_venv(VENV, python, log=LOG)
    run([_python(), "-m", "pip", "install", "--quiet", *pins], log=LOG, what="pip install (pins)")
    stamp.touch()


def _freeze():
    out = subprocess.run([_python(), "-m", "pip", "freeze", "--all"], capture_output=True,
                         text=True, check=True).stdout
    return {line for line in out.splitlines()
            if not line.lower().replace("_", "-").startswith(PACKAGE)}


def install_course():
    """Install the package as Colab's Setup cell does; fail if Colab's packages changed."""
    run([_python(), "-m", "pip", "uninstall", "--quiet", "--yes", PACKAGE], log=LOG,
        what="pip uninstall")
    before = _freeze()
    run([_python(), "-m", "pip", "install", "--quiet", f"{PACKAGE} @ {ROOT.as_uri()}"], log=LOG,
        what=f"pip install {PACKAGE}")
    after = _freeze()
    if before != after:
        raise BuildError("installing the package changed Colab's packages: removed "
                         f"{sorted(before - after)}, added {sorted(after - before)}")


def check_versions():
    """Confirm Colab's versions are the ones installed and ``helpers`` comes from site-packages.

    Returns
    -------
    dict
        Package name -> installed version, plus ``helpers`` -> its file.
    """
    names = [Requirement(pin).name for pin in colab_pins()]
    script = ("import importlib.metadata as m, json, sys, helpers; "
              "print(json.dumps({**{n: m.version(n) for n in sys.argv[1:]}, "
              "'helpers': helpers.__file__}))")
    # From an empty folder, so the working tree's helpers/ cannot shadow the installed one.
    with tempfile.TemporaryDirectory() as empty:
        out = subprocess.run([_python(), "-c", script, *names], cwd=empty, env=venv_env(VENV),
                             capture_output=True, text=True)
    if out.returncode != 0:
        raise BuildError(f"importing the course in {VENV.name} failed:\n{out.stderr[-2000:]}")
    found = json.loads(out.stdout)
    wrong = [f"{pin} (found {found[Requirement(pin).name]})" for pin in colab_pins()
             if not Requirement(pin).specifier.contains(found[Requirement(pin).name])]
    if wrong:
        raise BuildError(f"{VENV.name} does not have Colab's versions: {', '.join(wrong)}")
    if not found["helpers"].startswith(str(VENV)):
        raise BuildError(f"helpers was imported from {found['helpers']}, not from {VENV.name}")
    return found


def _lessons(paths):
    if paths:
        return paths
    found = []
    for lesson in LESSONS:
        matches = sorted((ROOT / "notebooks").glob(f"{lesson}_*.ipynb"))
        if not matches:
            raise BuildError(f"lesson {lesson} not found (notebooks/{lesson}_*.ipynb)")
        found += matches
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help=f"notebooks to run (default: lessons {', '.join(LESSONS)})")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the venv from scratch")
    parser.add_argument("--build-only", action="store_true",
                        help="only build the venv (CI builds it while other tests run)")
    args = parser.parse_args(argv)
    notebooks = _lessons(args.notebooks)
    build(find_python(COLAB_PYTHON, override=os.environ.get("COLAB_PYTHON")), rebuild=args.rebuild)
    if args.build_only:
        return 0
    install_course()
    found = check_versions()
    print("Colab stand-in:", ", ".join(f"{k} {v}" for k, v in found.items() if k != "helpers"),
          f"(Python {COLAB_PYTHON})", flush=True)
    # ipykernel 6.17's debugger warns about frozen modules on every kernel start; not ours.
    env = dict(venv_env(VENV), PYDEVD_DISABLE_FILE_VALIDATION="1")
    return subprocess.run([_python(), "-m", "pytest", *map(str, notebooks)], cwd=ROOT,
                          env=env).returncode


if __name__ == "__main__":
    sys.exit(main_wrapper(main))
