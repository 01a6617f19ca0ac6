"""Build Binder's environment with pip in a fresh venv and check the course runs in it.

Binder (repo2docker) reads binder/runtime.txt (the Python version), installs
binder/requirements.txt (the pinned set, written by `make pins`) and then runs
binder/postBuild (the course's package, without dependencies). No Docker
engine is available here, so this does the same steps with pip in a fresh
``.venv-binder`` and then checks:

1. ``pip check`` is clean and every pin is installed at exactly its version;
2. from an empty folder, ``import helpers`` works and trains for two epochs;
3. JupyterLab serves ``/lab/tree/notebooks`` and Voilà renders the explorer app
   at ``/voila/render/apps/explorer.ipynb`` (the two Binder links),
   from a real ``jupyter lab`` server of that venv on 127.0.0.1.

    python tools/binder_env.py            # fresh venv every time, as Binder builds
    python tools/binder_env.py --reuse    # keep an existing venv (quicker, for debugging)
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from packaging.requirements import Requirement

from _venv import ROOT, BuildError, create_venv, find_python, main_wrapper, run, venv_env

__all__ = ["runtime_python", "pins", "build", "check_pins", "smoke_train", "check_server", "main"]

VENV = ROOT / ".venv-binder"
LOG = ROOT / ".cache" / "binder-env.log"
BINDER = ROOT / "binder"
EXPLORER = "apps/explorer.ipynb"  # the README's Voilà link
# Voilà's own wording when a cell fails (tracebacks are hidden by default).
VOILA_ERROR = "There was an error when executing cell"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SMOKE = """
import math, helpers
data = helpers.load_blobs()
result = helpers.train(data, batch_size=32, epochs=2, learning_rate=0.05)
loss = result.history["loss"]
assert all(map(math.isfinite, loss)) and loss[1] < loss[0], loss
print(f"helpers from {helpers.__file__}; two epochs at batch 32, loss {loss[0]:.3f} -> {loss[1]:.3f}")
"""


def runtime_python():
    """The ``X.Y`` of binder/runtime.txt (``python-3.11`` -> ``"3.11"``)."""
    text = (BINDER / "runtime.txt").read_text().strip()
    if not text.startswith("python-"):
        raise BuildError(f"binder/runtime.txt must read python-X.Y, got {text!r}")
    return text.removeprefix("python-")


def pins():
    """The pinned requirements of binder/requirements.txt."""
    lines = (line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _python():
    return VENV / "bin" / "python"


def build(python, *, reuse=False):
    """Do what Binder does: install requirements.txt, then run postBuild, in ``.venv-binder``."""
    if reuse and _python().exists():
        return
    print(f"building {VENV.name} with {python} (log: {LOG.relative_to(ROOT)}) ...", flush=True)
    LOG.unlink(missing_ok=True)
    create_venv(VENV, python, log=LOG)
    run([_python(), "-m", "pip", "install", "--quiet", "-r", BINDER / "requirements.txt"],
        log=LOG, what="pip install -r binder/requirements.txt")
    run(["bash", BINDER / "postBuild"], log=LOG, env=venv_env(VENV), what="binder/postBuild")


def check_pins():
    """``pip check`` is clean and each pin is installed at exactly its version."""
    run([_python(), "-m", "pip", "check"], log=LOG, what="pip check")
    names = [Requirement(pin).name for pin in pins()]
    script = ("import importlib.metadata as m, json, sys; "
              "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))")
    found = json.loads(subprocess.run([_python(), "-c", script, *names], capture_output=True,
                                      text=True, check=True).stdout)
    wrong = [f"{pin} (found {found[Requirement(pin).name]})" for pin in pins()
             if not Requirement(pin).specifier.contains(found[Requirement(pin).name])]
    if wrong:
        raise BuildError(f"{VENV.name} does not hold the pins: {', '.join(wrong)}")
    return found


def smoke_train():
    """Import the course from an empty folder and train for two epochs; return what it printed."""
    with tempfile.TemporaryDirectory() as empty:
        out = subprocess.run([_python(), "-c", SMOKE], cwd=empty, capture_output=True, text=True)
    if out.returncode != 0:
        raise BuildError(f"importing/training in {VENV.name} failed:\n{out.stderr[-2000:]}")
    return out.stdout.strip()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def check_server(voila=EXPLORER, *, voila_timeout=300):
    """Start ``jupyter lab`` from the venv on 127.0.0.1; fetch the two Binder paths.

    Parameters
    ----------
    voila : str
        The notebook (relative to the repository) that Voilà renders, if it exists.

    Returns
    -------
    list of str
        One line per path checked.
    """
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    args = [VENV / "bin" / "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
            # Binder's user is not root; CI's is.
            *(["--allow-root"] if os.geteuid() == 0 else [])]
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(LOG, "a") as log:
        server = subprocess.Popen(list(map(str, args)), cwd=ROOT, env=venv_env(VENV), stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"{base}/api/status?token={token}", 5)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise BuildError(f"jupyter lab did not start; see {LOG}")
            time.sleep(1)
        lines = []
        status, page = _get(f"{base}/lab/tree/notebooks?token={token}", 60)
        if status != 200 or "JupyterLab" not in page:
            raise BuildError(f"/lab/tree/notebooks answered {status}")
        lines.append("JupyterLab: /lab/tree/notebooks -> 200")
        if (ROOT / voila).exists():
            start = time.monotonic()
            try:
                status, page = _get(f"{base}/voila/render/{voila}?token={token}", voila_timeout)
            except TimeoutError:
                raise BuildError(f"Voilà /voila/render/{voila}: no answer in {voila_timeout} s; "
                                 f"see {LOG}") from None
            widgets = page.count(WIDGET_VIEW)
            if status != 200 or VOILA_ERROR in page or (voila == EXPLORER and not widgets):
                raise BuildError(f"Voilà /voila/render/{voila} answered {status}, {widgets} "
                                 "widget views" + (f", '{VOILA_ERROR}'" if VOILA_ERROR in page else ""))
            lines.append(f"Voilà: /voila/render/{voila} -> 200, no cell error, {widgets} widget "
                         f"views ({time.monotonic() - start:.0f} s)")
        else:
            lines.append(f"Voilà: {voila} does not exist yet; not rendered")
        return lines
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="keep an existing .venv-binder")
    parser.add_argument("--build-only", action="store_true",
                        help="only build the venv (CI builds it while other tests run, then --reuse)")
    parser.add_argument("--voila", default=EXPLORER, metavar="NOTEBOOK",
                        help=f"notebook for Voilà to render (default: {EXPLORER})")
    args = parser.parse_args(argv)
    version = runtime_python()
    build(find_python(version, override=os.environ.get("BINDER_PYTHON")), reuse=args.reuse)
    if args.build_only:
        return 0
    found = check_pins()
    print(f"Binder stand-in (Python {version}): pip check clean; pins exact:",
          ", ".join(f"{k} {v}" for k, v in found.items()), flush=True)
    print(smoke_train(), flush=True)
    for line in check_server(args.voila):
        print(line, flush=True)
    print("binder: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main_wrapper(main))
