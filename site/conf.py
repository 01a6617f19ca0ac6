"""Sphinx configuration of the course website (`make site`; tools/site.py stages the pages).

The pages are the committed, executed notebooks, rendered as they are saved: nothing is run.
"""

import os
import sys
from pathlib import Path

# tools/site.py copies this folder, notebooks/ and docs/ into build/site-src and builds there;
# the launch buttons' addresses come from pyproject.toml, as every badge's does (tools/badges.py).
REPOSITORY_ROOT = Path(os.environ.get("COURSE_ROOT", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPOSITORY_ROOT / "tools"))
import badges  # noqa: E402

project = "How the batch size shapes neural-network training"
author = "the course's authors"
copyright = "the course's authors, MIT License"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "**/.cache"]

# The notebooks are saved executed (tools/execute_notebooks.py); the site shows those outputs.
nb_execution_mode = "off"
# A widget output carries a widget view and static views beside it (its figure, its text).
# The site has no kernel and keeps no widget state, so it shows the static view, never a blank.
nb_mime_priority_overrides = [("*", "application/vnd.jupyter.widget-view+json", None)]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# The JupyterHub the launch button opens: a class's hub (COURSE_HUB_URL), by default the one
# `make hub` starts on this machine.
HUB_URL = os.environ.get("COURSE_HUB_URL") or "http://127.0.0.1:8000"

html_theme = "sphinx_book_theme"
html_title = "The batch size, hands on"
html_theme_options = {
    "repository_url": badges.repository_url(REPOSITORY_ROOT),
    "repository_branch": badges.repository_branch(REPOSITORY_ROOT),
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "jupyterhub_url": HUB_URL,
        "notebook_interface": "jupyterlab",
    },
    "show_toc_level": 2,
}
# The theme's colour mode on a first visit (unset, the page logs a console error and picks "auto").
html_context = {"default_mode": "auto"}


def _unwrap_solution_markers(app, doctree):
    """The solution markers (### BEGIN SOLUTION / ### END SOLUTION) are nbgrader's, not headings.

    In Markdown they are level-3 headings; on the site they would title sections and fill the
    page's table of contents. Their sections are dissolved: the answer stays, the marker goes.
    """
    from docutils import nodes

    markers = {"BEGIN SOLUTION", "END SOLUTION"}
    for section in list(doctree.findall(nodes.section)):
        title = section.next_node(nodes.title)
        if title is not None and title.astext().strip() in markers and title.parent is section:
            parent, at = section.parent, section.parent.index(section)
            parent.remove(section)
            for offset, child in enumerate(section.children[1:]):
                parent.insert(at + offset, child)


def setup(app):
    # Before Sphinx collects the page's titles and sections (priority 500).
    app.connect("doctree-read", _unwrap_solution_markers, priority=400)
