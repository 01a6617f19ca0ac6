"""Write every launch badge and Colab install cell from the repository's address.

The public address lives in one place, pyproject.toml's ``[project.urls]
Repository``, and the branch that Colab opens beside it, in
``[tool.batch-size-course] colab-branch``. This script derives from them:

* the badges between ``<!-- badges:start -->`` and ``<!-- badges:end -->`` in
  each notebook's first cell (Open in Colab, Launch on Binder);
* each notebook's ``colab-setup``-tagged cell, which pip-installs the course's
  package from that address when the notebook runs on Colab;
* the README launch table between ``<!-- launch:start -->`` and
  ``<!-- launch:end -->``.

    python tools/badges.py                 # rewrite whatever is out of date
    python tools/badges.py --check         # only report; exit 1 if anything is stale
    python tools/badges.py --repository https://github.com/you/your-fork
                                           # point pyproject.toml at a fork, then rewrite
    python tools/badges.py --branch dev    # set colab-branch to dev, then rewrite

Only the cells named above change; every other cell, output and execution
count is left as it was, and files already up to date are not rewritten.
"""

import argparse
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlencode

import nbformat

__all__ = ["repository_url", "repository_branch", "github_slug", "check_branch", "colab_url",
           "binder_url", "nbgitpuller_url",
           "voila_url", "notebook_badges", "setup_source", "update_notebook", "launch_table",
           "update_readme", "set_repository", "set_branch", "sync"]

ROOT = Path(__file__).resolve().parents[1]
# The default of the branch Colab links open (pyproject's colab-branch);
# Binder opens the repository's default branch (HEAD).
BRANCH = "main"
NOTEBOOK_DIR = "notebooks"
# The lesson whose explorer is also a standalone app, and that app (the README's Voilà link).
EXPLORER = "07_explorer.ipynb"
APP = "apps/explorer.ipynb"
SETUP_TAG = "colab-setup"
BADGES = ("<!-- badges:start -->", "<!-- badges:end -->")
LAUNCH = ("<!-- launch:start -->", "<!-- launch:end -->")
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
# The README's nbgitpuller link names no real hub: a class puts its own in (`make hub-link HUB=...`).
PLACEHOLDER_HUB = "https://YOUR-HUB.example.edu"
_GITHUB = re.compile(r"https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")
_REPOSITORY_LINE = re.compile(r'^(Repository\s*=\s*)"[^"\n]*"', re.MULTILINE)
_BRANCH_LINE = re.compile(r'^(colab-branch\s*=\s*)"[^"\n]*"', re.MULTILINE)
# Characters a branch name can have that need no escaping in a URL path.
_BRANCH = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")


def github_slug(url):
    """Return ``"owner/name"`` of a GitHub repository address.

    Parameters
    ----------
    url : str
        ``https://github.com/OWNER/NAME``, optionally ending in ``.git`` or ``/``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``url`` is not a GitHub repository address (Colab and Binder open
        notebooks from GitHub by that form).

    Example
    -------
    >>> github_slug("https://github.com/OWNER/NAME.git")
    'OWNER/NAME'
    """
    match = _GITHUB.fullmatch(url) if isinstance(url, str) else None
    if match is None:
        raise ValueError("repository must be a GitHub address like "
                         f"https://github.com/OWNER/NAME, got {url!r}")
    return f"{match[1]}/{match[2]}"


def repository_url(root=ROOT):
    """Return pyproject.toml's ``[project.urls] Repository``, normalised.

    Raises
    ------
    ValueError
        If the entry is missing or is not a GitHub repository address.
    """
    project = tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"]
    url = project.get("urls", {}).get("Repository")
    if url is None:
        raise ValueError("pyproject.toml has no [project.urls] Repository entry")
    return "https://github.com/" + github_slug(url)


def repository_branch(root=ROOT):
    """Return pyproject.toml's ``[tool.batch-size-course] colab-branch`` (default "main")."""
    tool = tomllib.loads((Path(root) / "pyproject.toml").read_text()).get("tool", {})
    return check_branch(tool.get("batch-size-course", {}).get("colab-branch", BRANCH))


def _follows_git_rules(branch):
    """Git's own rules for a branch name (``git check-ref-format --branch``) on top of ``_BRANCH``.

    No part may start with ``.`` or end with ``.lock``, no ``..``, and the name
    may not start with ``-``, end with ``.``, or be ``@``.
    """
    parts = branch.split("/")
    return not (branch.startswith("-") or branch.endswith(".") or branch == "@" or ".." in branch
                or any(p.startswith(".") or p.endswith(".lock") for p in parts))


def check_branch(branch):
    """Return ``branch`` if it is a Git branch name that can stand in a Colab address.

    Raises
    ------
    ValueError
        If it is empty, holds characters such as spaces, ``?`` or ``#``, or
        breaks Git's rules (``..``, a part starting with ``.``, ``.lock`` at
        the end of a part, ...): checked before any file is rewritten.
    """
    if not isinstance(branch, str) or _BRANCH.fullmatch(branch) is None \
            or not _follows_git_rules(branch):
        raise ValueError(f"branch must be a Git branch name like {BRANCH!r}, got {branch!r}")
    return branch


def colab_url(url, notebook, *, branch=BRANCH):
    """Address that opens ``notebooks/<notebook>`` of the repository's ``branch`` in Colab."""
    return (f"https://colab.research.google.com/github/{github_slug(url)}"
            f"/blob/{check_branch(branch)}/{NOTEBOOK_DIR}/{notebook}")


def binder_url(url, notebook=None):
    """Address that opens JupyterLab on Binder, on the notebooks folder or one notebook."""
    path = f"{NOTEBOOK_DIR}/{notebook}" if notebook else NOTEBOOK_DIR
    return f"https://mybinder.org/v2/gh/{github_slug(url)}/HEAD?urlpath=lab/tree/{path}"


def nbgitpuller_url(hub, repository, notebook=None, *, branch=BRANCH):
    """Address that has a JupyterHub pull ``repository`` with nbgitpuller, then open it.

    The first click clones the repository's ``branch`` into the user's home on ``hub``
    (a folder named after the repository), later clicks update it and keep the user's
    changes; JupyterLab then opens the notebooks folder, or ``notebooks/<notebook>``.
    ``repository`` may be any Git address the hub can reach (a test uses a file:// one).

    Raises
    ------
    ValueError
        If ``hub`` is not an http(s) address or ``branch`` is not a branch name.
    """
    if not isinstance(hub, str) or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", hub):
        raise ValueError(f"hub must be a JupyterHub address like https://hub.example.edu, got {hub!r}")
    folder = repository.rstrip("/").rsplit("/", 1)[-1]  # where nbgitpuller clones it (".git" kept)
    path = f"{NOTEBOOK_DIR}/{notebook}" if notebook else NOTEBOOK_DIR
    query = urlencode({"repo": repository, "urlpath": f"lab/tree/{folder}/{path}",
                       "branch": check_branch(branch)}, safe="/")
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def voila_url(url, notebook=APP):
    """Address that runs one notebook (a path in the repository) on Binder as a Voilà app."""
    return f"https://mybinder.org/v2/gh/{github_slug(url)}/HEAD?urlpath=voila/render/{notebook}"


def notebook_badges(url, notebook, *, branch=BRANCH):
    """The line of badges at the top of ``notebook``.

    HTML ``<img>`` rather than Markdown ``![...]()``: Voilà 0.5 tries to inline
    every Markdown image through jupyter-server's contents manager, which is
    asynchronous in jupyter-server 2, and the page never finishes rendering.
    """
    return (f'<a href="{colab_url(url, notebook, branch=branch)}"><img src="{COLAB_BADGE}" '
            'alt="Open In Colab"/></a> '
            f'<a href="{binder_url(url, notebook)}"><img src="{BINDER_BADGE}" '
            'alt="Launch on Binder"/></a>')


def setup_source(url):
    """Source of the ``colab-setup`` cell: install the package on Colab only.

    ``pip install`` of the package alone (its requirements are loose ranges
    that Colab already satisfies) leaves Colab's own TensorFlow in place.
    """
    return ("# On Colab, install the course's helpers package (Colab's own TensorFlow is kept).\n"
            "import sys\n"
            'if "google.colab" in sys.modules:\n'
            "    import subprocess\n"
            '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
            f'                    "batch-size-course @ git+{url}"], check=True)')


def _fill(text, markers, body, where):
    """Replace what lies between ``markers`` in ``text`` by ``body`` on its own lines."""
    start, end = markers
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"{where} must contain the markers {start}{end} exactly once")
    # Markers on lines of their own: a line that starts with an HTML comment is an
    # HTML block in CommonMark, and Markdown on that line would not be rendered.
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


def update_notebook(nb, url, notebook, *, branch=BRANCH):
    """Rewrite the badges and the ``colab-setup`` cell of ``nb`` in place.

    Parameters
    ----------
    nb : nbformat.NotebookNode
    url : str
        The repository address.
    notebook : str
        The notebook's file name, e.g. ``"01_stochastic_gradient_descent.ipynb"``.
    branch : str, default "main"
        The branch the Colab badge opens.

    Returns
    -------
    bool
        Whether anything changed.

    Raises
    ------
    ValueError
        If the first cell has no badge markers or there is not exactly one
        ``colab-setup`` code cell.
    """
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        raise ValueError(f"{notebook}: the first cell must be a Markdown title cell")
    setup = [c for c in nb.cells if SETUP_TAG in c.get("metadata", {}).get("tags", [])]
    if len(setup) != 1 or setup[0].cell_type != "code":
        raise ValueError(f"{notebook}: needs exactly one code cell tagged {SETUP_TAG!r}, "
                         f"found {len(setup)}")
    title = nb.cells[0]
    new_title = _fill(title.source, BADGES, notebook_badges(url, notebook, branch=branch),
                      f"{notebook}'s first cell")
    new_setup = setup_source(url)
    changed = title.source != new_title or setup[0].source != new_setup
    title.source, setup[0].source = new_title, new_setup
    return changed


def _title(nb, notebook):
    first = nb.cells[0].source.lstrip() if nb.cells else ""
    if not first.startswith("# "):
        raise ValueError(f"{notebook}: the first cell must start with a '# NN · Title' heading")
    return first.splitlines()[0][2:].strip()


def launch_table(url, notebooks, *, branch=BRANCH):
    """The README's launch table.

    Parameters
    ----------
    url : str
        The repository address.
    notebooks : list of (str, str)
        ``(file name, title)`` of each notebook, in course order.
    branch : str, default "main"
        The branch the Colab badges open.

    Returns
    -------
    str
        A Markdown table: Binder (JupyterLab), a class's JupyterHub (the
        nbgitpuller link, for :data:`PLACEHOLDER_HUB`), Binder (Voilà explorer,
        when that notebook exists), then one Colab badge per notebook.
    """
    rows = ["| What | Launch |", "| --- | --- |",
            f"| The whole course in JupyterLab | [![Launch on Binder]({BINDER_BADGE})]"
            f"({binder_url(url)}) |",
            f"| The whole course on your class's JupyterHub (put its address in place of "
            f"`{PLACEHOLDER_HUB}`, or `make hub-link HUB=...`) | [nbgitpuller link]"
            f"({nbgitpuller_url(PLACEHOLDER_HUB, url, branch=branch)}) |"]
    names = [name for name, _ in notebooks]
    if EXPLORER in names:
        rows.append(f"| The explorer as a standalone app (Voilà) | [![Voilà app on Binder]"
                    f"({BINDER_BADGE})]({voila_url(url)}) |")
    rows += [f"| {title} | [![Open In Colab]({COLAB_BADGE})]({colab_url(url, name, branch=branch)}) |"
             for name, title in notebooks]
    return "\n".join(rows)


def update_readme(text, url, notebooks, *, branch=BRANCH):
    """Return README ``text`` with its launch table rewritten."""
    return _fill(text, LAUNCH, launch_table(url, notebooks, branch=branch), "README.md")


def set_repository(url, root=ROOT):
    """Point pyproject.toml's ``Repository`` entry at ``url`` (e.g. a fork).

    Raises
    ------
    ValueError
        If ``url`` is not a GitHub repository address or pyproject.toml has
        no ``Repository = "..."`` line.
    """
    url = "https://github.com/" + github_slug(url)
    path = Path(root) / "pyproject.toml"
    text = path.read_text()
    new, count = _REPOSITORY_LINE.subn(lambda m: f'{m[1]}"{url}"', text)
    if count != 1:
        raise ValueError(f"{path} must have exactly one 'Repository = \"...\"' line")
    path.write_text(new)


def set_branch(branch, root=ROOT):
    """Set pyproject.toml's ``colab-branch`` to ``branch``, so later checks expect it.

    Raises
    ------
    ValueError
        If ``branch`` is not a branch name or pyproject.toml has no
        ``colab-branch = "..."`` line.
    """
    branch = check_branch(branch)
    path = Path(root) / "pyproject.toml"
    text = path.read_text()
    new, count = _BRANCH_LINE.subn(lambda m: f'{m[1]}"{branch}"', text)
    if count != 1:
        raise ValueError(f"{path} must have exactly one 'colab-branch = \"...\"' line")
    path.write_text(new)


def sync(root=ROOT, *, write=True):
    """Bring every badge, setup cell and the README table up to date.

    Parameters
    ----------
    root : path-like
        The repository's root folder.
    write : bool
        If False, write nothing and only report.

    Returns
    -------
    list of Path
        The files that were (or, with ``write=False``, would be) changed.
    """
    root = Path(root)
    url, branch = repository_url(root), repository_branch(root)
    stale, titles = [], []
    for path in sorted((root / NOTEBOOK_DIR).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        titles.append((path.name, _title(nb, path.name)))
        if update_notebook(nb, url, path.name, branch=branch):
            stale.append(path)
            if write:
                nbformat.write(nb, path)
    readme = root / "README.md"
    text = readme.read_text()
    new = update_readme(text, url, titles, branch=branch)
    if new != text:
        stale.append(readme)
        if write:
            readme.write_text(new)
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="only report; write nothing")
    group.add_argument("--repository", metavar="URL",
                       help="set pyproject.toml's Repository to URL first (for a fork)")
    parser.add_argument("--branch", metavar="NAME",
                        help="set pyproject.toml's colab-branch, the branch Colab links open, first")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check and args.branch is not None:
        parser.error("--branch writes pyproject.toml; --check writes nothing: use one of them")
    try:
        if args.branch is not None:
            check_branch(args.branch)
        if args.repository:
            set_repository(args.repository, args.root)
        if args.branch is not None:
            set_branch(args.branch, args.root)
        stale = sync(args.root, write=not args.check)
    except ValueError as error:
        print(f"badges: {error}", file=sys.stderr)
        return 2
    names = ", ".join(str(p.relative_to(args.root)) for p in stale)
    if args.check:
        if stale:
            print(f"out of date (run `make badges`): {names}")
            return 1
        return 0
    print(f"updated: {names}" if stale else "badges: everything was up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
