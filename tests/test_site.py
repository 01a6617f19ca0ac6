"""The course website (`make site`, tools/site.py), built for real and read in headless Chromium.

The site is built once into a temporary folder (Sphinx, myst-nb, the book theme; the notebooks'
saved outputs, nothing executed) and served on 127.0.0.1. Then every page loads with no console
error, every figure is drawn, every internal link and anchor resolves, search finds "learning
rate", and each lesson's launch buttons (Binder, Colab, JupyterHub) and download link open that
lesson. The machine has no internet: requests to other hosts (the notebooks' badge images,
MathJax) are answered with an empty file and listed, so they can neither fail nor pass unseen.
"""

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port, browser, page, playwright_api  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HUB = "http://127.0.0.1:8000"
#: The only other hosts a page may ask for: the notebooks' badge images and MathJax's CDN.
EXTERNAL_HOSTS = {"colab.research.google.com", "mybinder.org", "cdn.jsdelivr.net"}
EMPTY = {"js": ("application/javascript", ""), "css": ("text/css", ""),
         "svg": ("image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')}


@pytest.fixture(scope="module")
def site_tool(load_tool):
    pytest.importorskip("myst_nb", reason="the site's tools are in the instructor extra: "
                                          "pip install -e '.[instructor]'")
    return load_tool("site")


@pytest.fixture(scope="module")
def site(site_tool, request):
    """Build the site with `make site`, as the Pages workflow does, and serve it; yields (base URL, folder)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "COURSE_HUB_URL")}
    run = subprocess.run(["make", "site", f"VENV={sys.prefix}", f"HUB={HUB}"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    output = site_tool.OUTPUT
    built = re.search(r"Built the site in (\d+) s", run.stdout)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and built:
        reporter.write_line(f"\ntest_site: `make site` built the site in {built[1]} s")
    handler = functools.partial(_QuietHandler, directory=str(output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", output
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _pages(output):
    return sorted(p.relative_to(output).as_posix() for p in output.rglob("*.html")
                  if not p.relative_to(output).as_posix().startswith(("_static/", "_sources/")))


def _offline(page):
    """Answer requests to other hosts with an empty file; return the set of hosts asked for."""
    asked = set()

    def answer(route):
        url = urllib.parse.urlsplit(route.request.url)
        if url.hostname in ("127.0.0.1", None):
            return route.continue_()
        asked.add(url.hostname)
        kind = "svg" if route.request.resource_type == "image" else \
            "css" if route.request.resource_type == "stylesheet" else "js"
        content_type, body = EMPTY[kind]
        route.fulfill(status=200, content_type=content_type, body=body)
    page.route("**/*", answer)
    return asked


def test_every_page_loads_with_no_console_error_and_every_figure_drawn(site, page):
    base, output = site
    asked = _offline(page)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    pages = _pages(output)
    assert {"index.html", "search.html", "docs/instructors.html"} <= set(pages)
    assert {f"notebooks/{p.stem}.html" for p in LESSONS} <= set(pages)
    for name in pages:
        errors.clear()
        response = page.goto(f"{base}/{name}", wait_until="load")
        assert response.status == 200, name
        page.wait_for_load_state("networkidle")
        assert errors == [], (name, errors)
        # nbgrader's solution markers are not headings on the site.
        marker = re.compile(r"(BEGIN|END) SOLUTION")
        assert page.locator(":is(h1, h2, h3, h4, nav a)", has_text=marker).count() == 0, name
        # No widget output was left to a widget manager the page does not have.
        assert page.locator("script[type='application/vnd.jupyter.widget-view+json']").count() == 0, name
        images = page.eval_on_selector_all(
            "main img", "imgs => imgs.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
        local = [(src, drawn) for src, drawn in images if not src.startswith("http")]
        assert all(drawn for _, drawn in local), (name, [src for src, drawn in local if not drawn])
        if name.startswith("notebooks/"):
            nb = nbformat.read(ROOT / "notebooks" / name.replace(".html", ".ipynb").split("/")[-1], as_version=4)
            figures = sum("image/png" in output.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                          for output in cell.outputs)
            shown = page.locator(".cell_output img").count()
            assert shown >= figures, f"{name}: {shown} figures shown of the notebook's {figures}"
    assert asked <= EXTERNAL_HOSTS, f"pages asked for other hosts: {sorted(asked - EXTERNAL_HOSTS)}"


def _anchors(html):
    return set(re.findall(r'\sid="([^"]+)"', html))


def test_every_internal_link_and_anchor_resolves(site):
    base, output = site
    checked = 0
    for name in _pages(output):
        html = (output / name).read_text()
        for href in re.findall(r'<a\s[^>]*href="([^"]+)"', html):
            if re.match(r"[a-z]+:", href) or href.startswith("//"):
                continue
            target, _, anchor = urllib.parse.urljoin(f"/{name}", href).partition("#")
            with urllib.request.urlopen(base + target) as response:
                assert response.status == 200, (name, href)
                body = response.read().decode("utf-8", "replace")
            if anchor and target.endswith(".html"):
                assert urllib.parse.unquote(anchor) in _anchors(body), (name, href)
            checked += 1
    assert checked > 100


def test_search_finds_learning_rate(site, page):
    base, _ = site
    _offline(page)
    page.goto(f"{base}/search.html?q=learning+rate")
    page.wait_for_selector("#search-results li", timeout=60_000)
    found = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.getAttribute('href'))")
    assert any("notebooks/04_learning_rate_and_batch_size" in href for href in found), found


def test_lessons_are_in_order_and_each_launch_button_opens_its_notebook(site, page, load_tool):
    base, output = site
    badges = load_tool("badges")
    repository, branch = badges.repository_url(), badges.repository_branch()
    slug = badges.github_slug(repository)
    _offline(page)
    page.goto(f"{base}/index.html")
    order = page.eval_on_selector_all(".bd-content .toctree-wrapper a.reference.internal",
                                      "links => links.map(a => a.getAttribute('href'))")
    assert [h for h in order if h.startswith("notebooks/")] == [f"notebooks/{p.stem}.html" for p in LESSONS]
    link = page.get_attribute("a.nbgitpuller-link", "href")
    assert link == badges.nbgitpuller_url(HUB, repository, branch=branch)
    for path in LESSONS:
        page.goto(f"{base}/notebooks/{path.stem}.html")
        hrefs = page.eval_on_selector_all(".dropdown-launch-buttons a, .dropdown-download-buttons a",
                                          "links => links.map(a => a.getAttribute('href'))")
        expected = {
            f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/notebooks/{path.name}",
            badges.colab_url(repository, path.name, branch=branch),
            badges.nbgitpuller_url(HUB, repository, path.name, branch=branch),
            f"../_sources/notebooks/{path.name}",
        }
        assert expected <= set(hrefs), (path.name, sorted(set(hrefs) ^ expected))
        with urllib.request.urlopen(f"{base}/_sources/notebooks/{path.name}") as response:
            downloaded = nbformat.reads(response.read().decode(), as_version=4)
        assert len(downloaded.cells) == len(nbformat.read(path, as_version=4).cells), path.name


def test_the_pages_workflow_builds_with_make_site():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == ["make site"]
    assert any(s.get("with", {}).get("path") == "build/site" for s in steps)
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML reads the key `on` as True


def test_a_bad_hub_address_is_an_error_naming_it(site_tool, capsys):
    assert site_tool.main(["build", "--hub", "hub.example.edu"]) == 2
    assert "got 'hub.example.edu'" in capsys.readouterr().err
