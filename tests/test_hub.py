"""`make hub` (tools/hub.py, hub/jupyterhub_config.py): a class of three on a real JupyterHub.

JupyterHub starts on 127.0.0.1 with configurable-http-proxy from npm. Three students log in in
headless Chromium, each in a browser context of their own, and open the course's nbgitpuller
link; it clones the course into their home folder and opens lesson 01, which they run top to
bottom. Each then adds a cell that asks a quiz question and clicks the right answer. Meanwhile
the memory of each student's server and kernel is sampled; the peak is printed (the figure
the instructor guide's Zero to JupyterHub settings use). Stopping the hub must leave no process
of it running.

The hub cannot reach GitHub here, so the link points at a local Git repository holding this
checkout's last commit (tools/hub.py's --local-repo); the README's link points at GitHub.
"""

import json
import re
import shutil
import threading
import time

import psutil
import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port, _unavailable, playwright_api  # noqa: F401

from helpers.quiz import make_question

STUDENTS = ["ada", "ben", "chloe"]
LESSON = "01_stochastic_gradient_descent.ipynb"
QUESTION = "per-epoch-faster"
RUN_TIMEOUT_MS = 900_000  # three lessons training at once on two shared cores
LAB_SETTINGS = {
    # Render every cell, so that every cell's prompt can be read (JupyterLab 4 skips unseen ones).
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


@pytest.fixture(scope="module")
def hub_tool(load_tool):
    pytest.importorskip("jupyterhub", reason="JupyterHub is in the instructor extra: pip install -e '.[instructor]'")
    if shutil.which("npm") is None:
        _unavailable("npm is missing: the hub's proxy comes from npm (`apt-get install nodejs npm`; .ci/run does)")
    return load_tool("hub")


class _Sampler(threading.Thread):
    """Samples each user's memory every second; keeps the peak per user."""

    def __init__(self, hub_tool, pid):
        super().__init__(daemon=True)
        self.hub_tool, self.pid, self.peak, self.done = hub_tool, pid, {}, threading.Event()

    def run(self):
        while not self.done.wait(1.0):
            try:
                usage = self.hub_tool.user_memory(self.pid)
            except psutil.Error:
                continue
            for user, (rss, uss) in usage.items():
                old = self.peak.get(user, (0, 0))
                self.peak[user] = (max(old[0], rss), max(old[1], uss))


@pytest.fixture(scope="module")
def hub(hub_tool, tmp_path_factory):
    """A running hub over a temporary state folder; yields (base URL, link, process). Stops it after."""
    state = tmp_path_factory.mktemp("hub")
    repository = hub_tool.local_repository(state / "batch-size-course", "main")
    for student in STUDENTS:  # the students' JupyterLab settings, in their home folders
        for plugin, settings in LAB_SETTINGS.items():
            path = state / "users" / student / ".jupyter" / "lab" / "user-settings" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
    port = _free_port()
    process = hub_tool.start(state, port, api_port=_free_port(), proxy_api_port=_free_port())
    base = f"http://127.0.0.1:{port}"
    link = hub_tool.badges.nbgitpuller_url(base, repository, LESSON, branch="main")
    try:
        hub_tool.wait_until_up(process, port, state)
        yield base, link, process, state
    finally:
        leftovers = hub_tool.stop(process)
        assert process.poll() is not None
        assert leftovers == [], f"the hub left processes running (now killed): {leftovers}"


def _student(browser, base, link, student, sampler):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    try:
        page.goto(link)  # not logged in: the hub's login page, then back to the link
        page.fill("input[name=username]", student)
        page.click("input[type=submit], button[type=submit]")
        # The hub starts the student's server, nbgitpuller clones the course, JupyterLab opens the lesson.
        page.wait_for_url(re.compile(rf"/user/{student}/lab/tree/batch-size-course/notebooks/{LESSON}"))
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
        page.get_by_text(re.compile(r"\| Idle$")).wait_for()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.click("li[data-command='runmenu:run-all']")
        # Done when every code cell has its execution count and the kernel is idle again.
        page.wait_for_function("""() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""", polling=2000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count()
        assert errors == 0, f"{student}: lesson 01 raised {errors} error(s)"
        # The student adds a cell that asks a quiz question, runs it, and clicks the answer.
        page.locator(".jp-Notebook .jp-Cell").last.click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")
        page.keyboard.press("Enter")
        page.keyboard.insert_text(f'helpers.Quiz(seed=0).ask("{QUESTION}")')
        page.keyboard.press("Shift+Enter")
        question = make_question(QUESTION, seed=0)
        card = page.locator(f".quiz-card.quiz-q-{QUESTION}").first
        card.get_by_role("button", name=question.answer, exact=True).click()
        page.wait_for_function(
            f"() => [...document.querySelectorAll('.quiz-q-{QUESTION} .quiz-feedback')]"
            ".some(e => e.textContent.includes('Correct.'))")
        return None
    except Exception as error:  # reported by the test, with the page's state
        page.screenshot(path=str(sampler.shots / f"hub-{student}.png"), full_page=True)
        return f"{student}: {error}"
    finally:
        context.close()


def test_three_students_run_lesson_01_and_answer_a_quiz_question(hub, hub_tool, playwright_api, request,
                                                                 tmp_path):
    base, link, process, state = hub
    sampler = _Sampler(hub_tool, process.pid)
    sampler.shots = tmp_path
    sampler.start()
    results = {}
    start = time.monotonic()

    def run(student):
        # Playwright's sync API is per thread: each student drives a browser of their own.
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                results[student] = _student(browser, base, link, student, sampler)
            finally:
                browser.close()

    threads = [threading.Thread(target=run, args=(student,), daemon=True) for student in STUDENTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sampler.done.set()
    sampler.join(timeout=10)
    seconds = time.monotonic() - start
    failures = [message for message in results.values() if message]
    assert not failures, "\n".join(failures) + f"\n(screenshots in {tmp_path})"
    assert set(results) == set(STUDENTS)
    assert set(sampler.peak) == set(STUDENTS), f"memory sampled for {sorted(sampler.peak)}"
    lines = [f"{user}: peak {rss / 2**20:.0f} MB resident, {uss / 2**20:.0f} MB its own"
             for user, (rss, uss) in sorted(sampler.peak.items())]
    worst = max(rss for rss, _ in sampler.peak.values())
    lines.append(f"largest: {worst / 2**20:.0f} MB per user; 50 users at that: {50 * worst / 2**30:.1f} GB "
                 f"(three students ran lesson 01 at once in {seconds:.0f} s)")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for line in ["", "test_hub: memory of each student's server and kernel", *lines]:
        if reporter is not None:
            reporter.write_line(line)
        print(line)
    for student in STUDENTS:  # nbgitpuller cloned the course into each home folder
        assert (state / "users" / student / "batch-size-course" / "notebooks" / LESSON).exists(), student


def test_link_command_prints_the_nbgitpuller_link_for_a_hub(hub_tool, capsys):
    assert hub_tool.main(["link", "--hub", "https://hub.example.edu"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == hub_tool.badges.nbgitpuller_url("https://hub.example.edu", hub_tool.badges.repository_url(),
                                                  branch=hub_tool.badges.repository_branch())
    assert hub_tool.main(["link", "--hub", "hub.example.edu"]) == 2
    assert "got 'hub.example.edu'" in capsys.readouterr().err
