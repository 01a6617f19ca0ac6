"""Small pieces shared by the scripts that build throwaway virtual environments.

tools/colab_env.py (Colab's versions) and tools/binder_env.py (Binder's pins)
both need a given Python, a fresh venv and quiet pip runs whose log is shown
only when something fails.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "BuildError", "find_python", "create_venv", "run", "venv_env", "main_wrapper"]

ROOT = Path(__file__).resolve().parents[1]


class BuildError(RuntimeError):
    """A step of building or checking an environment failed."""


def _version_of(python):
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_python(version, *, override=None):
    """Return the path of a Python interpreter of ``version`` (e.g. ``"3.12"``).

    Looks at ``override`` (a path, e.g. from an environment variable), then
    ``pythonX.Y`` on PATH, then pyenv's installed versions, then /usr/bin and
    /usr/local/bin.

    Raises
    ------
    BuildError
        If no interpreter of that version is found.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [override, shutil.which(f"python{version}"),
                  *sorted(map(str, pyenv.glob(f"versions/{version}.*/bin/python{version}")),
                          reverse=True),
                  f"/usr/local/bin/python{version}", f"/usr/bin/python{version}"]
    for candidate in filter(None, candidates):
        if _version_of(candidate) == version:
            return candidate
    raise BuildError(f"no Python {version} found (looked on PATH, in {pyenv}/versions, /usr/bin, "
                     f"/usr/local/bin); install one or name it with the override variable")


def venv_env(venv):
    """The process environment with ``venv`` activated (its bin/ first on PATH).

    PYTHONHOME and PYTHONPATH are dropped: a caller's PYTHONPATH pointing at the
    working tree would shadow the package installed in ``venv``.
    """
    env = dict(os.environ, VIRTUAL_ENV=str(venv))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONHOME", None)
    env.pop("PYTHONPATH", None)
    return env


def run(args, *, log, cwd=ROOT, env=None, what=None):
    """Run ``args``, appending its output to ``log``; raise BuildError with the tail if it fails."""
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(map(str, args))}\n")
        out.flush()
        code = subprocess.run(list(map(str, args)), cwd=cwd, env=env, stdout=out,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = "".join(Path(log).read_text().splitlines(keepends=True)[-30:])
        raise BuildError(f"{what or args[0]} failed (exit {code}); end of {log}:\n{tail}")


def create_venv(venv, python, *, log):
    """Create a fresh venv at ``venv`` with ``python`` (removing any old one)."""
    shutil.rmtree(venv, ignore_errors=True)
    run([python, "-m", "venv", venv], log=log, what="python -m venv")
    run([Path(venv) / "bin" / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        log=log, what="pip upgrade")


def main_wrapper(main):
    """Run ``main()``; print a BuildError's message instead of a traceback and exit 1."""
    try:
        return main()
    except BuildError as error:
        print(f"{Path(sys.argv[0]).name}: {error}", file=sys.stderr)
        return 1
