"""Build the course website with Sphinx, myst-nb and the book theme, or serve the built site.

The pages are the committed notebooks as they are saved, outputs included (myst-nb's
execution is off: building runs no code). A Sphinx warning (a broken link, a missing
page) fails the build, the instructor guide and docs/testing.md. The
sources are staged in build/site-src (site/ for the configuration and the home page,
notebooks/, docs/), laid out as in the repository so that each page's launch buttons open
the same path in the repository; the site is written to build/site. Both are git-ignored.

    python tools/site.py build [--hub https://hub.example.edu]   # `make site`
    python tools/site.py serve [--port 8080]                      # `make site-serve`

The JupyterHub launch button and the home page's nbgitpuller link open ``--hub``
(default: COURSE_HUB_URL, else the hub `make hub` starts, http://127.0.0.1:8000).
"""

import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import badges  # noqa: E402

__all__ = ["ROOT", "SOURCE", "OUTPUT", "LOCAL_HUB", "hub_url", "stage", "build", "serve"]

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "build" / "site-src"
OUTPUT = ROOT / "build" / "site"
LOCAL_HUB = "http://127.0.0.1:8000"


def hub_url(hub=None):
    """The JupyterHub the site's launch buttons open (checked, without a trailing slash)."""
    hub = hub or os.environ.get("COURSE_HUB_URL") or LOCAL_HUB
    badges.nbgitpuller_url(hub, badges.repository_url())  # raises ValueError naming a bad address
    return hub.rstrip("/")


# A Markdown link's target: ](target) or ](target "title").
_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s#]+)(#[^)\s]*)?\)")


def _repository_links(text, where, staged, blob):
    """Point the links of ``text`` (at ``where`` in the repository) at GitHub when the site has no page for them."""
    def fix(match):
        target = (ROOT / where).parent / match[1]
        try:
            relative = target.resolve().relative_to(ROOT)
        except ValueError:
            return match[0]
        if relative.as_posix() in staged or not target.exists():
            return match[0]
        return f"]({blob}/{relative.as_posix()}{match[2] or ''})"
    return _LINK.sub(fix, text)


def _relink(path, where, staged, blob):
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = _repository_links(cell.source, where, staged, blob)
        nbformat.write(nb, path)
    else:
        path.write_text(_repository_links(path.read_text(), where, staged, blob))


def stage(hub, source=SOURCE):
    """Copy the site's sources into ``source``; return it."""
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(ROOT / "site", source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "notebooks").mkdir()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        shutil.copy2(path, source / "notebooks" / path.name)
    shutil.copytree(ROOT / "docs", source / "docs")
    # Links to repository files the site has no page for (README.md, apps/, tests/) open them on GitHub.
    staged = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}
    blob = f"{badges.repository_url()}/blob/{badges.repository_branch()}"
    for where in sorted(staged):
        if where.endswith((".md", ".ipynb")):
            _relink(source / where, where, staged, blob)
    link = badges.nbgitpuller_url(hub, badges.repository_url(), branch=badges.repository_branch())
    index = source / "index.md"
    index.write_text(index.read_text().replace("@NBGITPULLER@", link).replace("@HUB@", hub))
    return source


def build(hub=None, source=SOURCE, output=OUTPUT):
    """Stage the sources and run sphinx-build; return the seconds it took."""
    hub = hub_url(hub)
    start = time.perf_counter()
    stage(hub, source)
    shutil.rmtree(output, ignore_errors=True)
    env = dict(os.environ, COURSE_HUB_URL=hub, COURSE_ROOT=str(ROOT))
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-j", "auto",
                    str(source), str(output)], check=True, env=env)
    return time.perf_counter() - start


def serve(port, output=OUTPUT):
    """Serve the built site on 127.0.0.1:``port`` until interrupted."""
    if not (output / "index.html").exists():
        raise SystemExit(f"site: nothing built in {output}; run `make site` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(output))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"Serving the course website at http://127.0.0.1:{port}/ (Ctrl-C stops it)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "serve"])
    parser.add_argument("--hub", help=f"the JupyterHub address of the launch buttons (default {LOCAL_HUB})")
    parser.add_argument("--port", type=int, default=8080, help="serve: the port (default 8080)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
        return 0
    try:
        seconds = build(args.hub)
    except ValueError as error:
        print(f"site: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"site: sphinx-build failed (exit {error.returncode})", file=sys.stderr)
        return 1
    print(f"Built the site in {seconds:.0f} s: {OUTPUT / 'index.html'} (`make site-serve` serves it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
