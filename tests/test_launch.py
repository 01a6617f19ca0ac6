"""Launching: `make lab`; badges and Colab install cells follow pyproject's Repository; pins agree."""

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import types
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
FORK = "https://github.com/alice/teaching-fork"
# What Colab's default runtime ships (checked against tools/colab-requirements.txt below).
COLAB_PYTHON, COLAB_TENSORFLOW, COLAB_KERAS, COLAB_NUMPY = "3.13", "2.20", "3.13", "2.1"
# The virtual environment running these tests: `make lab VENV=...` would start its JupyterLab.
VENV = Path(sys.executable).parents[1]


# `make lab`: the command it runs, as root and not, with the documented overrides.

def _make_n_lab(*variables, env=None, target="lab"):
    """`make -n lab ...` as a user types it, even when these tests run under `make test`
    (a parent make's MAKEFLAGS/MAKELEVEL would add "Entering directory" lines)."""
    env = dict(os.environ if env is None else env)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    return subprocess.run(["make", "--no-print-directory", "-n", target, f"VENV={VENV}", *variables],
                          cwd=ROOT, env=env, capture_output=True, text=True)


def _lab_command(*variables, uid=None, tmp_path=None):
    """The JupyterLab command `make lab` would run (`make -n`: nothing runs, nothing installs)."""
    env = dict(os.environ)
    if uid is not None:  # `id -u` answers `uid`: a stand-in `id` first on PATH
        fake = tmp_path / "bin"
        fake.mkdir(exist_ok=True)
        (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
        (fake / "id").chmod(0o755)
        env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    out = _make_n_lab(*variables, env=env)
    assert out.returncode == 0, out.stderr
    return shlex.split(out.stdout.splitlines()[-1])


def test_make_lab_adds_allow_root_for_root_only(tmp_path):
    as_root = _lab_command(uid=0, tmp_path=tmp_path)
    as_user = _lab_command(uid=1000, tmp_path=tmp_path)
    assert as_root[:3] == [str(VENV / "bin" / "jupyter"), "lab", "notebooks/"]
    assert "--allow-root" in as_root and "--allow-root" not in as_user
    assert [a for a in as_root if a != "--allow-root"] == as_user


def test_make_lab_defaults_and_overrides(tmp_path):
    default = _lab_command(uid=1000, tmp_path=tmp_path)
    assert default[3:] == ["--port=8888", "--ip=localhost"]
    command = _lab_command("PORT=8890", "IP=0.0.0.0", "NO_BROWSER=1",
                           "LAB_ARGS=--ServerApp.token=abc --notebook-dir=.", uid=1000,
                           tmp_path=tmp_path)
    assert command[3:] == ["--port=8890", "--ip=0.0.0.0", "--no-browser",
                           "--ServerApp.token=abc", "--notebook-dir=."]
    assert "--no-browser" not in _lab_command("NO_BROWSER=0", uid=1000, tmp_path=tmp_path)


@pytest.mark.parametrize("port", ["88a", "", "88 88", "-1", "0", "65536", "99999", "0080",
                                  "123456789012345678901234567890"])
def test_make_lab_rejects_a_bad_port_with_the_value_before_installing(port):
    out = _make_n_lab(f"PORT={port}")
    assert out.returncode != 0 and out.stdout == ""
    assert f"PORT must be a port number in 1-65535 like 8888, got '{port}'" in out.stderr


@pytest.mark.parametrize("jobs", ["x", "", "0", "01", "100", "2 3", "2; rm -rf notebooks", "'2'"])
@pytest.mark.parametrize("target", ["test", "test-isa"])
def test_make_test_rejects_a_bad_jobs_with_the_value_before_installing(jobs, target):
    out = _make_n_lab(f"JOBS={jobs}", target=target)
    assert out.returncode != 0 and out.stdout == ""
    assert f"JOBS must be a number of processes from 1 to 99, like 2, got '{jobs}'" in out.stderr


@pytest.mark.parametrize("jobs, xdist", [("2", " -n 2 --dist loadfile"), ("16", " -n 16 --dist loadfile"),
                                         ("1", "")])
def test_make_test_runs_the_files_in_jobs_processes(jobs, xdist):
    out = _make_n_lab(f"JOBS={jobs}", target="test")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].rstrip() == f"{VENV}/bin/python -m pytest{xdist}"


@pytest.mark.parametrize("port", ["1", "80", "8888", "65535"])
def test_make_lab_takes_every_port_in_range(port, tmp_path):
    assert f"--port={port}" in _lab_command(f"PORT={port}", uid=1000, tmp_path=tmp_path)


@pytest.mark.parametrize("value, no_browser", [
    ("1", True), ("yes", True), ("true", True), ("True", True), ("on", True),
    ("0", False), ("no", False), ("false", False), ("FALSE", False), ("off", False), ("", False)])
def test_no_browser_means_what_it_says(value, no_browser, tmp_path):
    command = _lab_command(f"NO_BROWSER={value}", uid=1000, tmp_path=tmp_path)
    assert ("--no-browser" in command) is no_browser


def test_a_bad_no_browser_is_refused_with_the_value():
    out = _make_n_lab("NO_BROWSER=sometimes")
    assert out.returncode != 0 and out.stdout == ""
    assert "NO_BROWSER must be 1 (do not open a browser) or 0, got 'sometimes'" in out.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_lab(command, tmp_path):
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_make_lab_starts_a_server_that_serves_the_notebooks(tmp_path):
    # The very command `make lab` runs for this user (as root in Docker and CI: --allow-root).
    port, token = _free_port(), "launch-test"
    command = _lab_command(f"PORT={port}", "IP=127.0.0.1", "NO_BROWSER=1",
                           f"LAB_ARGS=--IdentityProvider.token={token} --ServerApp.port_retries=0")
    if os.geteuid() == 0:  # without the flag, JupyterLab refuses to start as root
        refused = _start_lab([a for a in command if a != "--allow-root"], tmp_path)
        assert refused.wait(timeout=120) != 0 and "--allow-root" in refused.stderr.read()
    server = _start_lab(command, tmp_path)
    url = f"http://127.0.0.1:{port}/api/contents?token={token}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"JupyterLab exited:\n{server.stderr.read()[-2000:]}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    listing = json.load(response)
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
                time.sleep(0.5)
        assert {path.name for path in NOTEBOOKS} <= {item["name"] for item in listing["content"]}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as page:
            assert page.status == 200 and "JupyterLab" in page.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def badges(load_tool):
    return load_tool("badges")


def test_badges_setup_cells_and_readme_table_are_current(badges):
    stale = badges.sync(ROOT, write=False)
    assert stale == [], f"run `make badges`: {[str(p.relative_to(ROOT)) for p in stale]}"


def test_readme_launch_table_has_binder_voila_and_one_colab_badge_per_notebook(badges):
    readme = (ROOT / "README.md").read_text()
    url = badges.repository_url()
    assert f"]({badges.binder_url(url)})" in readme
    if (ROOT / "notebooks" / badges.EXPLORER).exists():
        assert f"]({badges.voila_url(url)})" in readme
    for path in NOTEBOOKS:
        assert f"]({badges.colab_url(url, path.name)})" in readme, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_opens_with_its_colab_badge_and_a_setup_cell(badges, path):
    nb = nbformat.read(path, as_version=4)
    url = badges.repository_url()
    assert badges.colab_url(url, path.name) in nb.cells[0].source
    setup = [c for c in nb.cells if badges.SETUP_TAG in c.metadata.get("tags", [])]
    assert [c.source for c in setup] == [badges.setup_source(url)]
    # The setup cell comes before any other code, so Colab installs before the imports.
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is setup[0]


def test_notebook_badges_use_no_markdown_image(badges):
    # Voilà 0.5 (in Binder's pins) hangs on any Markdown image when served by jupyter-server 2.
    line = badges.notebook_badges("https://github.com/o/r", "07_explorer.ipynb")
    assert "![" not in line and line.count("<img src=") == 2


def test_urls_have_the_forms_colab_and_binder_expect(badges):
    url = "https://github.com/o/r"
    assert badges.colab_url(url, "01_a.ipynb") == \
        "https://colab.research.google.com/github/o/r/blob/main/notebooks/01_a.ipynb"
    assert badges.binder_url(url) == "https://mybinder.org/v2/gh/o/r/HEAD?urlpath=lab/tree/notebooks"
    assert badges.voila_url(url) == \
        "https://mybinder.org/v2/gh/o/r/HEAD?urlpath=voila/render/apps/explorer.ipynb"
    assert (ROOT / badges.APP).exists()


@pytest.mark.parametrize("url", ["github.com/o/r", "https://gitlab.com/o/r", "https://github.com/o",
                                 None])
def test_a_non_github_address_is_rejected_with_the_value(badges, url):
    with pytest.raises(ValueError, match="repository must be a GitHub address.*got"):
        badges.github_slug(url)


def _run_setup_cell(source, monkeypatch, on_colab):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append((args, kw)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "colab-setup", "exec"), {})
    return calls


def test_setup_cell_installs_the_package_on_colab_only(badges, monkeypatch):
    source = badges.setup_source(badges.repository_url())
    assert _run_setup_cell(source, monkeypatch, on_colab=False) == []
    (args, kwargs), = _run_setup_cell(source, monkeypatch, on_colab=True)
    assert args[:4] == [sys.executable, "-m", "pip", "install"] and kwargs == {"check": True}
    requirement = Requirement(args[-1])
    assert requirement.name == PROJECT["name"]
    assert requirement.url == "git+" + PROJECT["urls"]["Repository"]


def test_installing_the_package_leaves_colabs_tensorflow_alone():
    # pip only replaces a package that a requirement asks for; TensorFlow and Keras are
    # not among ours, and the rest are open ranges, never pins, that Colab's versions satisfy.
    requirements = [Requirement(r) for r in PROJECT["dependencies"]]
    assert not {r.name.lower() for r in requirements} & {"tensorflow", "tensorflow-cpu", "keras"}
    for requirement in requirements:
        operators = {spec.operator for spec in requirement.specifier}
        assert not operators & {"==", "~=", "==="}, requirement
    # Where TensorFlow or Keras is asked for (the `tensorflow` extra), no bound may exclude Colab's.
    colab = {"tensorflow": f"{COLAB_TENSORFLOW}.0", "tensorflow-cpu": f"{COLAB_TENSORFLOW}.0",
             "keras": f"{COLAB_KERAS}.0"}
    extras = [Requirement(r) for name, reqs in PROJECT["optional-dependencies"].items()
              if name not in ("lab", "test") for r in reqs]
    for requirement in requirements + extras:
        if requirement.name.lower() in colab:
            assert requirement.specifier.contains(colab[requirement.name.lower()]), requirement


def _fake_course(root, url):
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(ROOT / "README.md", root / "README.md")
    (root / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, root / "notebooks" / path.name)
    setup = new_code_cell("pip install old", metadata={"tags": ["colab-setup"]})
    nb = new_notebook(cells=[new_markdown_cell("# 99 · Extra\n\n<!-- badges:start --><!-- badges:end -->"),
                             new_markdown_cell("## Setup"), setup, new_code_cell("x = 1")])
    nbformat.write(nb, root / "notebooks" / "99_extra.ipynb")


def test_a_fork_regenerates_everything_with_one_command(badges, tmp_path):
    _fake_course(tmp_path, FORK)
    assert badges.main(["--repository", FORK, "--root", str(tmp_path)]) == 0
    assert badges.repository_url(tmp_path) == FORK
    old = badges.github_slug(badges.repository_url())
    for path in sorted((tmp_path / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = nb.cells[0].source + "".join(c.source for c in nb.cells if c.cell_type == "code")
        assert old not in text and badges.colab_url(FORK, path.name) in text, path.name
        assert f"git+{FORK}\"" in text, path.name
        assert nb.cells[3].source == "x = 1" or path.name != "99_extra.ipynb"
    readme = (tmp_path / "README.md").read_text()
    assert old not in readme and badges.binder_url(FORK) in readme
    assert badges.colab_url(FORK, "99_extra.ipynb") in readme and "| 99 · Extra |" in readme
    assert badges.main(["--check", "--root", str(tmp_path)]) == 0


def test_rewriting_touches_only_the_badges_and_setup_cells(badges, tmp_path):
    _fake_course(tmp_path, FORK)
    before = {p.name: nbformat.read(p, as_version=4) for p in (tmp_path / "notebooks").glob("*.ipynb")}
    assert badges.main(["--repository", FORK, "--root", str(tmp_path)]) == 0
    for name, old in before.items():
        new = nbformat.read(tmp_path / "notebooks" / name, as_version=4)
        assert len(new.cells) == len(old.cells)
        assert new.cells[0].source != old.cells[0].source, f"{name}: badges were not rewritten"
        for index, (a, b) in enumerate(zip(old.cells, new.cells)):
            if index == 0 or badges.SETUP_TAG in a.metadata.get("tags", []):
                assert (a.metadata, a.get("outputs"), a.get("execution_count")) == \
                       (b.metadata, b.get("outputs"), b.get("execution_count"))
            else:
                assert a == b, (name, index)


def test_branch_option_moves_the_colab_links_only(badges, tmp_path, capsys):
    _fake_course(tmp_path, FORK)
    assert badges.main(["--repository", FORK, "--branch", "spring-term", "--root", str(tmp_path)]) == 0
    url = badges.colab_url(FORK, "99_extra.ipynb", branch="spring-term")
    assert "/blob/spring-term/notebooks/99_extra.ipynb" in url
    nb = nbformat.read(tmp_path / "notebooks" / "99_extra.ipynb", as_version=4)
    assert url in nb.cells[0].source and badges.binder_url(FORK, "99_extra.ipynb") in nb.cells[0].source
    assert url in (tmp_path / "README.md").read_text()
    # The branch is kept in pyproject.toml beside the address, so the fork's own check (and
    # `make test`, which runs it) expects it without being told again.
    assert badges.repository_branch(tmp_path) == "spring-term"
    assert badges.main(["--check", "--root", str(tmp_path)]) == 0
    badges.set_branch("main", tmp_path)
    assert badges.main(["--check", "--root", str(tmp_path)]) == 1
    with pytest.raises(SystemExit):  # --check writes nothing, --branch writes pyproject.toml
        badges.main(["--check", "--branch", "main", "--root", str(tmp_path)])


@pytest.mark.parametrize("branch", ["", "my branch", "main?x", "a#b", "..", ".", "a/../b", "a..b",
                                    ".hidden", "a/.b", "dev.lock", "dev/", "/dev", "a//b", "dev.",
                                    "a@{1}", "@"])
def test_a_bad_branch_is_rejected_with_the_value(badges, tmp_path, capsys, branch):
    _fake_course(tmp_path, FORK)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert badges.main(["--branch", branch, "--root", str(tmp_path)]) == 2
    assert f"branch must be a Git branch name like 'main', got {branch!r}" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("branch", ["main", "spring-term", "release/2.1", "v1.0", "feature_x"])
def test_good_branch_names_pass(badges, branch):
    assert badges.check_branch(branch) == branch
    with pytest.raises(ValueError, match="got '-dev'"):   # argparse takes it for an option first
        badges.check_branch("-dev")


def test_check_reports_stale_files_and_writes_nothing(badges, tmp_path, capsys):
    _fake_course(tmp_path, FORK)
    before = (tmp_path / "notebooks" / "99_extra.ipynb").read_text()
    assert badges.main(["--check", "--root", str(tmp_path)]) == 1
    assert "notebooks/99_extra.ipynb" in capsys.readouterr().out
    assert (tmp_path / "notebooks" / "99_extra.ipynb").read_text() == before


def test_a_notebook_without_markers_is_an_error_naming_it(badges, tmp_path, capsys):
    _fake_course(tmp_path, FORK)
    path = tmp_path / "notebooks" / "99_extra.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "# 99 · Extra"
    nbformat.write(nb, path)
    assert badges.main(["--root", str(tmp_path)]) == 2
    assert "99_extra.ipynb's first cell must contain the markers" in capsys.readouterr().err


# Pins: pyproject's `lab` extra is the one list; conda and Binder files are derived from it.

def _lines(path):
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_lab_pins_are_exact():
    lab = PROJECT["optional-dependencies"]["lab"]
    assert all(str(Requirement(p).specifier).startswith("==") for p in lab), lab
    assert "voila" in {Requirement(p).name for p in lab}


def test_pins_agree_between_pyproject_environment_and_binder(load_tool):
    lab = PROJECT["optional-dependencies"]["lab"]
    assert load_tool("sync_pins").main(["--check"]) == 0
    assert _lines(ROOT / "binder" / "requirements.txt") == lab
    conda = _lines(ROOT / "environment.yml")
    pip_part = [line[2:] for line in conda[conda.index("- pip:") + 1:]]
    assert pip_part == [*lab, "-e ."]
    python = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"- python={python}" in conda
    assert Requirement(f"x{PROJECT['requires-python']}").specifier.contains(f"{python}.0")


def test_binder_postbuild_installs_the_package_without_touching_the_pins():
    lines = _lines(ROOT / "binder" / "postBuild")
    installs = [line for line in lines if "pip install" in line]
    assert len(installs) == 1 and "--no-deps" in installs[0] and installs[0].endswith(" .")


def test_colab_stand_in_pins_colabs_versions(load_tool, monkeypatch):
    lines = _lines(ROOT / "tools" / "colab-requirements.txt")
    pins = {Requirement(line).name: Requirement(line).specifier for line in lines}
    assert all(str(spec).startswith("==") for spec in pins.values()), lines
    for name, colab in [("tensorflow-cpu", f"=={COLAB_TENSORFLOW}.*"), ("keras", f"=={COLAB_KERAS}.*"),
                        ("ipywidgets", "==7.7.1"), ("numpy", f"=={COLAB_NUMPY}.*")]:
        assert Requirement(f"x{colab}").specifier.contains(str(pins[name])[2:]), (name, pins[name])
    # Colab's versions must satisfy the package's own requirements, or Colab's pip would replace them.
    for requirement in map(Requirement, PROJECT["dependencies"]):
        if requirement.name in pins:
            pinned = str(pins[requirement.name]).removeprefix("==")
            assert requirement.specifier.contains(pinned), (requirement, pinned)
    # The stand-in runs Colab's Python, which the package must accept too.
    monkeypatch.syspath_prepend(str(ROOT / "tools"))  # colab_env imports tools/_venv.py
    assert load_tool("colab_env").COLAB_PYTHON == COLAB_PYTHON
    assert Requirement(f"x{PROJECT['requires-python']}").specifier.contains(f"{COLAB_PYTHON}.0")
