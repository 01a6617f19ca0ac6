"""A real JupyterHub on this machine, for trying the course as a class: `make hub`.

JupyterHub (PyPI, the instructor extra) with configurable-http-proxy (npm, installed into
.cache/hub-proxy on first use), any name logging in without a password, each user's server a
process of this machine with its home folder under .cache/hub/users/, and the course's
.venv as every user's environment (hub/jupyterhub_config.py). It listens on 127.0.0.1 only.

    python tools/hub.py start [--port 8000] [--local-repo]   # `make hub`; Ctrl-C stops it all
    python tools/hub.py link --hub https://hub.example.edu [--repository URL] [--branch main]
                                                             # `make hub-link HUB=...`
    python tools/hub.py memory                               # each user's memory, hub running

Users open the course with its nbgitpuller link, which the start command prints. That link
clones the repository from GitHub; a machine without internet (or an unpublished change)
can use --local-repo: a Git repository of this checkout's last commit, in .cache/hub/.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import badges  # noqa: E402

__all__ = ["ROOT", "STATE", "PROXY_VERSION", "HubError", "install_proxy", "local_repository",
           "start", "wait_until_up", "stop", "user_memory"]

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".cache" / "hub"
PROXY_DIR = ROOT / ".cache" / "hub-proxy"
PROXY_VERSION = "5.3.0"
CONFIG = ROOT / "hub" / "jupyterhub_config.py"


class HubError(RuntimeError):
    """The hub or its proxy could not be installed, started or stopped."""


def install_proxy(folder=PROXY_DIR):
    """Install configurable-http-proxy from npm into ``folder`` (once); return its command."""
    command = Path(folder) / "node_modules" / ".bin" / "configurable-http-proxy"
    package = Path(folder) / "node_modules" / "configurable-http-proxy" / "package.json"
    if command.exists() and package.exists() and json.loads(package.read_text())["version"] == PROXY_VERSION:
        return command
    npm = shutil.which("npm")
    if npm is None:
        raise HubError("npm is missing: JupyterHub's proxy, configurable-http-proxy, comes from npm "
                       "(install Node.js 18 or newer, e.g. `apt-get install nodejs npm`)")
    Path(folder).mkdir(parents=True, exist_ok=True)
    run = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(folder),
                          f"configurable-http-proxy@{PROXY_VERSION}"], capture_output=True, text=True)
    if run.returncode != 0 or not command.exists():
        raise HubError(f"npm install configurable-http-proxy@{PROXY_VERSION} failed:\n{run.stdout}{run.stderr}")
    return command


def local_repository(folder, branch="main"):
    """A bare Git repository at ``folder`` holding this checkout's last commit as ``branch``; return its file:// URL.

    What nbgitpuller clones in place of GitHub when the hub cannot reach it (tests, offline).
    Uncommitted changes are not in it.
    """
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    for args in (["init", "--quiet", "--bare", str(folder)],
                 ["-C", str(folder), "fetch", "--quiet", "--depth", "1", f"file://{ROOT}", "HEAD"],
                 ["-C", str(folder), "update-ref", f"refs/heads/{branch}", "FETCH_HEAD"],
                 ["-C", str(folder), "symbolic-ref", "HEAD", f"refs/heads/{branch}"]):
        run = subprocess.run(["git", *args], capture_output=True, text=True)
        if run.returncode != 0:
            raise HubError(f"git {' '.join(args)} failed: {run.stderr.strip()}")
    return f"file://{folder}"


def start(state=STATE, port=8000, *, api_port=8081, proxy_api_port=8001, proxy=None):
    """Start the hub in the background; return its process (log: ``state``/hub.log)."""
    state = Path(state)
    (state / "users").mkdir(parents=True, exist_ok=True)
    proxy = proxy or install_proxy()
    venv_bin = Path(sys.executable).parent
    jupyterhub = venv_bin / "jupyterhub"
    if not jupyterhub.exists():
        raise HubError(f"no {jupyterhub}: JupyterHub is in the instructor extra (pip install -e '.[instructor]')")
    env = dict(os.environ, COURSE_HUB_STATE=str(state), COURSE_HUB_PORT=str(port),
               COURSE_HUB_API_PORT=str(api_port), COURSE_HUB_PROXY_API_PORT=str(proxy_api_port),
               COURSE_HUB_PROXY=str(proxy), COURSE_HUB_VENV_BIN=str(venv_bin))
    env["PATH"] = f"{venv_bin}{os.pathsep}{Path(proxy).parent}{os.pathsep}{env.get('PATH', '')}"
    log = open(state / "hub.log", "a")
    try:
        return subprocess.Popen([str(jupyterhub), "-f", str(CONFIG)], cwd=state, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def wait_until_up(process, port, state=STATE, timeout=180):
    """Wait until the hub answers on ``port``; raise HubError with its log if it exits or is too slow."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise HubError(f"JupyterHub exited ({process.returncode}):\n{_tail(state)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/api", timeout=3) as response:
                return json.loads(response.read())["version"]
        except OSError:
            if time.monotonic() > deadline:
                raise HubError(f"JupyterHub did not answer in {timeout} s:\n{_tail(state)}") from None
            time.sleep(0.5)


def _tail(state, lines=40):
    log = Path(state) / "hub.log"
    return "".join(log.read_text().splitlines(keepends=True)[-lines:]) if log.exists() else "(no log)"


def stop(process, timeout=60):
    """Stop the hub (it stops the users' servers and the proxy); return the processes that outlived it.

    The hub's process tree is read before stopping; any process of it still alive afterwards is
    killed, by its process id, and returned (an empty list when the hub cleaned up after itself).
    """
    try:
        tree = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        tree = []
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    _, alive = psutil.wait_procs(tree, timeout=15)
    for leftover in alive:
        try:
            leftover.kill()
        except psutil.NoSuchProcess:
            pass
    return alive


def user_memory(hub_pid):
    """``{user: (rss, uss)}`` in bytes: each user's server and its kernels, summed.

    RSS counts the shared libraries in every process; USS only the memory the process alone
    holds, what one more learner adds to the server.
    """
    usage = {}
    for server in psutil.Process(hub_pid).children(recursive=True):
        try:
            user = server.environ().get("JUPYTERHUB_USER")
            if not user or "singleuser" not in " ".join(server.cmdline()):
                continue
            rss = uss = 0
            for proc in [server, *server.children(recursive=True)]:
                info = proc.memory_full_info()
                rss, uss = rss + info.rss, uss + info.uss
        except psutil.Error:
            continue
        usage[user] = (rss, uss)
    return usage


def _serve(args):
    if not 0 < args.port < 65536:
        raise HubError(f"port must be a port number like 8000, got {args.port}")
    repository, branch = badges.repository_url(), badges.repository_branch()
    if args.local_repo:
        repository = local_repository(STATE / "batch-size-course", branch)
    process = start(STATE, args.port)
    # `kill PID` stops it as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        version = wait_until_up(process, args.port)
        hub = f"http://127.0.0.1:{args.port}"
        print(f"JupyterHub {version} at {hub}/ (any name, no password; log: {STATE / 'hub.log'})")
        print("The course's nbgitpuller link (each user gets the course in their home folder):")
        print(f"  {badges.nbgitpuller_url(hub, repository, branch=branch)}")
        print("Ctrl-C stops the hub, the users' servers and the proxy.", flush=True)
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        leftovers = stop(process)
        print("Stopped." + (f" Killed {len(leftovers)} leftover process(es)." if leftovers else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "link", "memory"])
    parser.add_argument("--port", type=int, default=8000, help="start: the hub's port (default 8000)")
    parser.add_argument("--local-repo", action="store_true",
                        help="start: the link clones this checkout's last commit, not GitHub's")
    parser.add_argument("--hub", help="link: the JupyterHub's address")
    parser.add_argument("--repository", help="link: the Git repository (default: pyproject's Repository)")
    parser.add_argument("--branch", help="link: the branch (default: pyproject's colab-branch)")
    args = parser.parse_args(argv)
    try:
        if args.command == "link":
            if not args.hub:
                raise ValueError("link needs --hub, the JupyterHub's address, e.g. --hub https://hub.example.edu")
            print(badges.nbgitpuller_url(args.hub, args.repository or badges.repository_url(),
                                         branch=args.branch or badges.repository_branch()))
        elif args.command == "memory":
            pid = int((STATE / "jupyterhub.pid").read_text())
            for user, (rss, uss) in sorted(user_memory(pid).items()):
                print(f"{user}: {rss / 2**20:.0f} MB resident ({uss / 2**20:.0f} MB its own)")
        else:
            _serve(args)
    except (ValueError, HubError) as error:
        print(f"hub: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"hub: {error.filename} is missing: is the hub running (make hub)?", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
