"""tools/nbgrader_course.py: the lessons as nbgrader assignments, graded by real nbgrader.

End to end, for lessons 01, 02 and 06 (the quickest three to run): generate the source
assignments from the notebooks, release them with ``nbgrader generate_assignment``, hand in
a right and a wrong submission per lesson as files downloaded from a learning platform
(``nbgrader zip_collect``), ``nbgrader autograde`` them (every cell runs again, training
included) and ``nbgrader generate_feedback``. The right one gets every autograded point, the
wrong one some but not all; both still await the hand grading of their written answers.

NBGRADER_LESSONS="03 04 05 08" runs the same for other lessons (their grading files are
checked the same way; a few minutes per lesson).
"""

import ast
import builtins
import os
import re

import nbformat
import pytest

#: How nbgrader's feedback page states a notebook's total score.
FEEDBACK_SCORE = "Score: {:.1f} / {:.1f})</h4>"
LESSONS = os.environ.get("NBGRADER_LESSONS", "01 02 06").split()
#: Per lesson, a wrong answer: in the solution cell containing the first text, the second
#: text replaced by the third (a learner's plausible slip that the tests must catch).
WRONG = {
    "01": ("small_lr = ", "learning_rate=0.001", "learning_rate=0.01"),
    "02": ("too_big = ", "learning_rate=1.0", "learning_rate=0.1"),
    "06": ("small = helpers.train(", "batch_size=1,", "batch_size=32,"),
}


@pytest.fixture(scope="module")
def course_tool(load_tool):
    pytest.importorskip("nbgrader", reason="nbgrader is in the instructor extra: pip install -e '.[instructor]'")
    return load_tool("nbgrader_course")


def _lesson(cells, exercises="## Exercises\n1. **Add one.** Add one to x.\n2. Why?\n"):
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A lesson"), nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell(exercises), nbformat.v4.new_markdown_cell("## Solutions"), *cells])


def _grading(**answer):
    entry = dict(id="add-one", exercise="**Add one.**", find="y = x + 1", points=3,
                 tests='assert y == 2, "y is x plus one"', hidden="assert isinstance(y, int)")
    entry.update(answer)
    return {"answer": [entry], "written": {"points": 1}, "_file": "tools/grading/lesson.toml"}


SOLVED = "### BEGIN SOLUTION\ny = x + 1\n### END SOLUTION"
WHY = "### BEGIN SOLUTION\nBecause.\n### END SOLUTION"


def test_solutions_become_graded_cells_and_tests_follow_their_answer(course_tool):
    nb = _lesson([nbformat.v4.new_code_cell(SOLVED), nbformat.v4.new_markdown_cell(WHY),
                  nbformat.v4.new_code_cell("### BEGIN SOLUTION\nprint(y)\n### END SOLUTION")])
    source = course_tool.source_notebook(nb, _grading())
    answer, tests, written, plain = source.cells[4:]
    assert source.cells[3].source == "## Your solutions"
    assert answer.metadata.nbgrader == dict(grade=False, grade_id="add-one", locked=False, schema_version=3,
                                            solution=True, task=False)
    assert answer.metadata.tags == ["raises-exception"]
    assert tests.source == ('assert y == 2, "y is x plus one"\n### BEGIN HIDDEN TESTS\n'
                            'assert isinstance(y, int)\n### END HIDDEN TESTS')
    assert tests.metadata.nbgrader == dict(grade=True, grade_id="add-one-tests", locked=True, points=3,
                                           schema_version=3, solution=False, task=False)
    assert written.metadata.nbgrader["grade"] and written.metadata.nbgrader["solution"]
    assert written.metadata.nbgrader["points"] == 1
    assert plain.metadata.nbgrader["grade_id"] == "answer-1" and not plain.metadata.nbgrader["grade"]
    assert nb.cells[3].source == "## Solutions" and "nbgrader" not in nb.cells[4].metadata
    nbformat.validate(source)


def test_an_exercise_the_notebook_lost_is_an_error_naming_it(course_tool):
    nb = _lesson([nbformat.v4.new_code_cell(SOLVED)], exercises="## Exercises\n1. **Add two.**\n")
    message = r"lesson.toml: answer 'add-one'.*'\*\*Add one.\*\*'.*lesson.ipynb"
    with pytest.raises(course_tool.GradingError, match=message):
        course_tool.source_notebook(nb, _grading(), "lesson.ipynb")


@pytest.mark.parametrize("cells, problem", [
    ([nbformat.v4.new_code_cell("### BEGIN SOLUTION\ny = 1 + x\n### END SOLUTION")], "has no solution cell"),
    ([nbformat.v4.new_code_cell(SOLVED), nbformat.v4.new_code_cell(SOLVED)], "has 2 solution cells"),
    ([nbformat.v4.new_code_cell("y = x + 1")], "has no solution cell"),
])
def test_a_solution_the_tests_cannot_find_is_an_error_naming_it(course_tool, cells, problem):
    with pytest.raises(course_tool.GradingError, match=rf"answer 'add-one'.*'y = x \+ 1'.*{problem}"):
        course_tool.source_notebook(_lesson(cells), _grading(), "lesson.ipynb")


def test_every_grading_file_fits_its_notebook(course_tool, tmp_path):
    paths = course_tool.lesson_notebooks()
    written = course_tool.write_source(paths, tmp_path)
    assert [p.name for p in written] == [p.name for p in paths]
    for path in paths:
        grading = course_tool.load_grading(path)
        source = nbformat.read(tmp_path / "source" / course_tool.assignment_id(path) / path.name, as_version=4)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids)), path.name
        assert {f"{a['id']}-tests" for a in grading.get("answer", [])} <= set(ids), path.name
    assert sum(len(course_tool.load_grading(p).get("answer", [])) for p in paths) >= 10


def _defined(code):
    """Names a piece of code binds: assignments, loop and with targets, imports, defs."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def test_every_test_uses_only_names_its_lesson_defines(course_tool):
    """A cheap check of every grading file, the lessons not autograded in CI included: a test
    that names a variable the lesson never defines (a typo, a renamed solution) fails here."""
    for path in course_tool.lesson_notebooks():
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        lesson = _defined(re.sub(r"^\s*[%!].*$", "", code, flags=re.MULTILINE)) | set(dir(builtins))
        for entry in course_tool.load_grading(path).get("answer", []):
            test = entry["tests"] + "\n" + entry.get("hidden", "")
            used = {n.id for n in ast.walk(ast.parse(test)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            unknown = used - lesson - _defined(test)
            assert not unknown, f"{path.name}, answer {entry['id']!r}: the tests use {sorted(unknown)}, never defined"


def test_one_nbgrader_run_serves_several_lessons(course_tool):
    pattern = course_tool.assignments_pattern(course_tool.lesson_notebooks(["06", "01", "2"]))
    assert pattern == "lesson0[126]"
    assert course_tool.assignments_pattern(course_tool.lesson_notebooks(["01"])) == "lesson01"


def test_bad_lesson_is_an_error_naming_it(course_tool, capsys):
    assert course_tool.main(["source", "42", "--course", "/nonexistent"]) == 2
    assert re.search(r"lesson must be one of 01, .*, got '42'", capsys.readouterr().err)


# --- End to end, with nbgrader itself ------------------------------------------------------

def _answer(source_cell):
    """What a learner who knows the solution types: the solution, without its markers."""
    lines = [line for line in source_cell.source.splitlines()
             if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(lines)


def _submission(release, source, wrong=None):
    """The released notebook with every answer filled in from the source.

    ``wrong`` (an entry of WRONG) spoils one answer; "unanswered" leaves the first tested
    answer as released instead (for lessons without an entry in WRONG).
    """
    solutions = {c.metadata.nbgrader["grade_id"]: c for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    tested = [c.metadata.nbgrader["grade_id"].removesuffix("-tests") for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-tests")]
    nb = nbformat.from_dict(release)
    spoiled = False
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in solutions:
            continue
        if wrong == "unanswered" and grade_id == tested[0]:
            spoiled = True
            continue
        cell.source = _answer(solutions[grade_id])
        if isinstance(wrong, tuple) and wrong[0] in cell.source:
            assert wrong[1] in cell.source, f"the wrong answer's {wrong[1]!r} is not in {cell.source!r}"
            cell.source, spoiled = cell.source.replace(wrong[1], wrong[2]), True
    if wrong and not spoiled:
        pytest.fail(f"no answer contains {wrong[0]!r}: update WRONG in tests/test_nbgrader.py")
    return nb


@pytest.fixture(scope="module")
def graded(course_tool, tmp_path_factory):
    """A course folder whose lessons were released, handed in, collected, autograded and fed back."""
    course = tmp_path_factory.mktemp("course")
    paths = course_tool.lesson_notebooks(LESSONS)
    course_tool.write_source(paths, course)
    pattern = course_tool.assignments_pattern(paths)
    course_tool.nbgrader("generate_assignment", pattern, "--force", course=course)
    for path in paths:
        assignment = course_tool.assignment_id(path)
        release = nbformat.read(course / "release" / assignment / path.name, as_version=4)
        source = nbformat.read(course / "source" / assignment / path.name, as_version=4)
        archive = course / "downloaded" / assignment / "archive"
        archive.mkdir(parents=True)
        nbformat.write(_submission(release, source), archive / f"alice__{path.name}")
        nbformat.write(_submission(release, source, WRONG.get(path.name[:2], "unanswered")),
                       archive / f"bob__{path.name}")
        course_tool.nbgrader("zip_collect", assignment, "--force", course=course)
    course_tool.nbgrader("autograde", pattern, "--force", course=course)
    course_tool.nbgrader("generate_feedback", pattern, "--force", course=course)
    return course, paths


def _test_points(course, assignment, name, student):
    """(points scored, points possible) over the notebook's autograder test cells."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(name, assignment, student)
        tests = [g for g in notebook.grades if g.name.endswith("-tests")]
        return sum(g.score for g in tests), sum(g.max_score for g in tests), notebook.needs_manual_grade


@pytest.mark.parametrize("lesson", LESSONS)
def test_nbgrader_gives_the_right_submission_full_marks_and_the_wrong_one_partial(course_tool, graded, lesson):
    course, paths = graded
    path, = [p for p in paths if p.name.startswith(lesson + "_")]
    assignment = course_tool.assignment_id(path)
    for student in ("alice", "bob"):
        assert (course / "submitted" / student / assignment / path.name).exists(), "zip_collect collected it"
    right, possible, manual = _test_points(course, assignment, path.stem, "alice")
    assert possible == sum(a["points"] for a in course_tool.load_grading(path)["answer"]) > 0
    assert right == possible, f"{path.name}: the right submission scored {right} of {possible}"
    assert manual, "the written answers await hand grading"
    wrong, _, _ = _test_points(course, assignment, path.stem, "bob")
    assert 0 < wrong < possible, f"{path.name}: the wrong submission scored {wrong} of {possible}"
    scores = course_tool.scores(assignment, course)
    assert scores["alice"][0] == right and scores["bob"][0] == wrong
    for student in ("alice", "bob"):
        page = (course / "feedback" / student / assignment / (path.stem + ".html")).read_text()
        score, maximum, _ = scores[student]
        assert FEEDBACK_SCORE.format(score, maximum) in page, (student, path.name)
    bob = (course / "feedback" / "bob" / assignment / (path.stem + ".html")).read_text()
    assert "AssertionError" in bob or "NotImplementedError" in bob, "the feedback shows the failed test"


def test_release_agrees_with_the_student_copy(course_tool, graded, load_tool, tmp_path):
    """nbgrader's release is `make student`'s copy plus the test cells, cell for cell, outputs included."""
    course, paths = graded
    student = load_tool("student")
    for (copy_path, _), path in zip(student.write_student_copy(paths, tmp_path), paths):
        copy = nbformat.read(copy_path, as_version=4)
        release = nbformat.read(course / "release" / course_tool.assignment_id(path) / path.name, as_version=4)
        tests = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-tests")]
        assert tests and all("BEGIN HIDDEN TESTS" not in c.source for c in tests), path.name
        kept = [c for c in release.cells if c not in tests]
        assert len(kept) == len(copy.cells), path.name
        for index, (ours, theirs) in enumerate(zip(kept, copy.cells)):
            assert ours.cell_type == theirs.cell_type and ours.source == theirs.source, (path.name, index)
            assert ours.get("outputs") == theirs.get("outputs"), (path.name, index)
            assert ours.metadata.get("tags") == theirs.metadata.get("tags"), (path.name, index)
