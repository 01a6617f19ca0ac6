"""tools/student.py: the student copy keeps the lesson, loses the solutions, and still runs."""

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STUDENTS = "https://github.com/alice/batch-size-students"


@pytest.fixture(scope="module")
def student(load_tool):
    return load_tool("student")


def _notebook():
    solved = new_code_cell("data = 1\n"
                           "for b in (1, 2):\n"
                           "    ### BEGIN SOLUTION\n"
                           "    print(b * data)\n"
                           "    ### END SOLUTION\n"
                           "print('done')", execution_count=5)
    solved.outputs = [new_output("stream", name="stdout", text="1\n2\ndone\n")]
    kept = new_code_cell("print('lesson')", execution_count=4)
    kept.outputs = [new_output("stream", name="stdout", text="lesson\n")]
    tagged = new_code_cell("answer = 42", metadata={"tags": ["solution"]})
    return new_notebook(cells=[
        new_markdown_cell("## Exercises\n1. Print each batch size.\n"), kept,
        new_markdown_cell("## Solutions"), solved,
        new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION\n"), tagged])


def test_code_solution_becomes_placeholder_at_its_indent(student):
    copy, removed = student.strip_solutions(_notebook())
    assert removed == 3
    assert copy.cells[3].source == ("data = 1\nfor b in (1, 2):\n"
                                    "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                                    "print('done')")
    assert copy.cells[3].outputs == [] and copy.cells[3].execution_count is None
    assert copy.cells[3].metadata["tags"] == ["raises-exception"]


def test_markdown_and_tagged_solutions_are_replaced(student):
    copy, _ = student.strip_solutions(_notebook())
    assert copy.cells[4].source == "Why?\nYOUR ANSWER HERE\n"
    assert copy.cells[5].source == student.CODE_PLACEHOLDER
    assert copy.cells[5].metadata["tags"] == ["raises-exception"]
    assert copy.cells[2].source == "## Your solutions"


def test_other_cells_and_the_original_are_untouched(student):
    original = _notebook()
    before = nbformat.writes(original)
    copy, _ = student.strip_solutions(original)
    assert nbformat.writes(original) == before
    assert copy.cells[1] == original.cells[1]
    assert copy.cells[0] == original.cells[0]


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unbalanced_markers_are_an_error_naming_the_cell(student, source, problem):
    nb = new_notebook(cells=[new_markdown_cell("# t"), new_code_cell(source)])
    with pytest.raises(ValueError, match=rf"lesson.ipynb, cell 1.*{problem}"):
        student.strip_solutions(nb, "lesson.ipynb")


def test_placeholder_cell_runs_to_not_implemented_and_the_rest_goes_on(student, tmp_path):
    nb = new_notebook(cells=[new_code_cell("x = 1"),
                             new_code_cell("### BEGIN SOLUTION\ny = x\n### END SOLUTION"),
                             new_code_cell("print(x + 1)")])
    copy, _ = student.strip_solutions(nb)
    NotebookClient(copy, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert copy.cells[1].outputs[0]["ename"] == "NotImplementedError"
    assert copy.cells[2].outputs[0]["text"] == "2\n"


def _exercises_index(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Exercises"):
            return index
    return len(nb.cells)


def test_make_student_writes_every_notebook_without_its_solutions(student, tmp_path):
    written = student.write_student_copy(NOTEBOOKS, tmp_path)
    assert [p.name for p, _ in written] == [p.name for p in NOTEBOOKS]
    for (path, removed), source in zip(written, NOTEBOOKS):
        original = nbformat.read(source, as_version=4)
        copy = nbformat.read(path, as_version=4)
        text = nbformat.writes(copy)
        assert student.BEGIN not in text and student.END not in text, path.name
        assert not any("solution" in c.metadata.get("tags", []) for c in copy.cells), path.name
        if any(c.cell_type == "markdown" and c.source.lstrip().startswith("## Solutions")
               for c in original.cells):
            assert removed > 0, f"{path.name} has a Solutions section but no marked solution"
        # Everything up to the exercises is the lesson itself, copied unchanged.
        cut = _exercises_index(original)
        assert copy.cells[:cut] == original.cells[:cut], path.name


def _setup_and_exercises(nb):
    """The cells of the Setup section and every cell from the Exercises heading on."""
    cut, keep, in_setup = _exercises_index(nb), [], False
    for cell in nb.cells[:cut]:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            in_setup = cell.source.splitlines()[0].strip() == "## Setup"
        if in_setup:
            keep.append(cell)
    return keep + nb.cells[cut:]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_runs_and_stops_only_at_the_placeholders(student, source, tmp_path):
    """Runs the copy on a fresh kernel in a folder of its own, as a student's (or Colab's) would;
    only the placeholders stop, and they stop with NotImplementedError.

    Up to the exercises the copy is the original, cell for cell (asserted above), and nbval runs
    the original top to bottom in the same `make test`; running that part again here would add
    minutes for nothing new. So by default the copy's Setup section and everything from the
    Exercises heading on are run; STUDENT_FULL_RUN=1 (`make test-student`) runs every copy whole.
    """
    (path, _), = student.write_student_copy([source], tmp_path)
    nb = nbformat.read(path, as_version=4)
    marker = student.CODE_PLACEHOLDER.splitlines()[0]
    expected = sum(c.cell_type == "code" and marker in c.source for c in nb.cells)
    if os.environ.get("STUDENT_FULL_RUN") != "1":
        nb.cells = _setup_and_exercises(nb)
    setup, = [c for c in nb.cells if "colab-setup" in c.metadata.get("tags", [])]
    setup.execution_count = None    # the copy keeps the original's count; only a run sets it again
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    placeholders = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o["ename"] for o in cell.outputs if o["output_type"] == "error"]
        if "raises-exception" in cell.metadata.get("tags", []) and marker in cell.source:
            assert errors == ["NotImplementedError"], (path.name, index, errors)
            placeholders += 1
        else:
            assert errors == [], (path.name, index, errors)
    assert setup.execution_count is not None, "the Setup section's install cell ran"
    assert placeholders == expected, "every placeholder ran"


def _setup_cell(nb):
    setup, = [c for c in nb.cells if "colab-setup" in c.metadata.get("tags", [])]
    return setup


def test_a_copy_for_its_own_repository_launches_from_that_repository(student, tmp_path):
    badges = student.badges
    course = badges.github_slug(badges.repository_url())
    written = student.write_student_copy(NOTEBOOKS, tmp_path, repository=STUDENTS, branch="term-1")
    for (path, _removed), source in zip(written, NOTEBOOKS):
        original = nbformat.read(source, as_version=4)
        copy = nbformat.read(path, as_version=4)
        title, setup = copy.cells[0], _setup_cell(copy)
        assert badges.colab_url(STUDENTS, path.name, branch="term-1") in title.source, path.name
        assert badges.binder_url(STUDENTS, path.name) in title.source, path.name
        assert setup.source == badges.setup_source(STUDENTS), path.name
        assert course not in title.source + setup.source, path.name
        # The rest of the lesson is still the original, outputs included.
        cut = _exercises_index(original)
        for index in range(1, cut):
            if copy.cells[index] is not setup:
                assert copy.cells[index] == original.cells[index], (path.name, index)
        assert setup.outputs == _setup_cell(original).outputs


def test_make_student_repo_writes_the_copy_for_that_repository(student, tmp_path, capsys):
    source = NOTEBOOKS[0]
    assert student.main(["--repository", STUDENTS + ".git", "--out", str(tmp_path), str(source)]) == 0
    copy = nbformat.read(tmp_path / source.name, as_version=4)
    assert student.badges.colab_url(STUDENTS, source.name) in copy.cells[0].source
    assert _setup_cell(copy).source == student.badges.setup_source(STUDENTS)
    assert f"{tmp_path / source.name}:" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--repository", "https://gitlab.com/a/b"], "repository must be a GitHub address.*got 'https://gitlab.com/a/b'"),
    (["--repository", STUDENTS, "--branch", "a b"], "branch must be a Git branch name.*got 'a b'"),
    (["--branch", "term-1"], "branch is used only with a repository.*got branch='term-1'"),
])
def test_bad_repository_or_branch_is_an_error_naming_it(student, tmp_path, capsys, argv, message):
    assert student.main([*argv, "--out", str(tmp_path), str(NOTEBOOKS[0])]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not list(tmp_path.iterdir())


def test_instructor_guide_covers_every_notebook():
    guide = (ROOT / "docs" / "instructors.md").read_text()
    for path in NOTEBOOKS:
        title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0][2:].strip()
        assert f"\n### {title}\n" in guide, f"no learning objectives for {path.name}"
        assert f"`notebooks/{path.name}`" in guide and f"| {title} |" in guide, path.name
