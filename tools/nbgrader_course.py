"""The course as an nbgrader course: one assignment per lesson, built from the notebooks.

The notebooks (notebooks/*.ipynb) hold the lessons and their solutions, marked
``### BEGIN SOLUTION`` / ``### END SOLUTION``. This script writes nbgrader's
course folder, ``course/`` (git-ignored), and runs nbgrader in it:

* ``source``: ``course/source/lessonNN/<notebook>.ipynb`` for each lesson. Every
  solution cell becomes a graded cell: code ones autograded answers, Markdown ones
  manually graded written answers. After each code answer that
  ``tools/grading/<notebook>.toml`` names, a locked test cell (visible tests and
  ``### BEGIN HIDDEN TESTS`` hidden ones) is added. An exercise named there that
  the notebook no longer has is an error naming it.
* ``release``: ``source``, then ``nbgrader generate_assignment``: the student
  version in ``course/release/lessonNN/``. Apart from its test cells and nbgrader's
  cell metadata it is the copy ``make student`` writes (tools/student.py), outputs
  included: a test checks that they agree.
* ``collect``: ``nbgrader zip_collect``: the submissions downloaded from a
  learning platform, put in ``course/downloaded/lessonNN/archive/`` as
  ``<student>__<notebook>.ipynb`` (or zip files of them), go to ``course/submitted/``.
  On a JupyterHub with nbgrader's exchange, ``nbgrader collect`` does this instead.
* ``autograde``: ``nbgrader autograde``: runs each submission on a fresh kernel
  and scores its tests (``course/autograded/``, ``course/gradebook.db``).
* ``feedback``: ``nbgrader generate_feedback``: one HTML page per submission
  (``course/feedback/``).
* ``scores``: prints each submission's score.

    python tools/nbgrader_course.py release               # every lesson
    python tools/nbgrader_course.py release 01 02         # lessons 01 and 02
    python tools/nbgrader_course.py collect 01
    python tools/nbgrader_course.py autograde 01
    python tools/nbgrader_course.py feedback 01
    python tools/nbgrader_course.py scores 01
    python tools/nbgrader_course.py --course DIR ...      # another course folder
"""

import argparse
import copy
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat

# The tools are scripts, not a package; student.py sits beside this one.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import student  # noqa: E402

__all__ = ["ROOT", "COURSE", "GRADING", "GradingError", "lesson_notebooks", "assignment_id",
           "assignments_pattern", "load_grading", "source_notebook", "write_config", "write_source",
           "nbgrader", "scores"]

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
GRADING = ROOT / "tools" / "grading"
NOTEBOOKS = ROOT / "notebooks"
COURSE_ID = "batch-size-course"
SCHEMA_VERSION = 3
WRITTEN_POINTS = 2
# How zip_collect reads a downloaded file's name: <student>__<notebook>.ipynb.
SUBMISSION_NAME = r".*/(?P<student_id>[A-Za-z0-9.-]+)__(?P<file_id>[^/]+\.ipynb)$"
CONFIG = f'''\
# Written by tools/nbgrader_course.py; rewritten by each `make release`.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {COURSE_ID!r}
# The release keeps the lesson's outputs (its figures), as `make student` does; the
# solutions' outputs are already gone from source/. Autograding runs every cell again.
c.ClearOutput.enabled = False
# A lesson's cells train networks: allow them minutes, not nbgrader's 30 seconds.
c.Execute.timeout = 900
c.FileNameCollectorPlugin.named_regexp = {SUBMISSION_NAME!r}
'''


class GradingError(ValueError):
    """A grading file does not fit its notebook (or is malformed)."""


def lesson_notebooks(lessons=()):
    """The lesson notebooks, all or those numbered ``lessons`` (e.g. ``["01", "6"]``)."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not lessons:
        return paths
    chosen = []
    for lesson in lessons:
        number = str(lesson).removeprefix("lesson").zfill(2)
        found = [p for p in paths if p.name.startswith(number + "_")]
        if not found:
            raise GradingError(f"lesson must be one of {', '.join(p.name[:2] for p in paths)}, got {lesson!r}")
        chosen += found
    return chosen


def assignment_id(path):
    """nbgrader's name of a lesson's assignment: ``lesson01`` for notebooks/01_....ipynb."""
    return "lesson" + Path(path).name[:2]


def assignments_pattern(paths):
    """nbgrader's name pattern for the assignments of ``paths``: ``lesson01`` or ``lesson0[126]``."""
    names = sorted({assignment_id(p) for p in paths})
    if len(names) == 1:
        return names[0]
    if len({n[:-1] for n in names}) != 1:
        raise GradingError(f"lessons must share their first digit (one nbgrader run), got {', '.join(names)}")
    return names[0][:-1] + "[" + "".join(n[-1] for n in names) + "]"


def load_grading(path, grading_dir=GRADING):
    """The grading file of notebook ``path`` as a dict (``{}`` when it has none)."""
    toml = Path(grading_dir) / (Path(path).stem + ".toml")
    if not toml.exists():
        return {}
    try:
        grading = tomllib.loads(toml.read_text())
    except tomllib.TOMLDecodeError as error:
        raise GradingError(f"{toml}: {error}") from None
    for entry in grading.get("answer", []):
        missing = {"id", "exercise", "find", "points", "tests"} - set(entry)
        if missing:
            raise GradingError(f"{toml}: answer {entry.get('id', '?')!r} lacks {', '.join(sorted(missing))}")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", entry["id"]):
            raise GradingError(f"{toml}: an answer's id must be letters, digits, - and _, got {entry['id']!r}")
    grading["_file"] = str(toml.relative_to(ROOT) if toml.is_relative_to(ROOT) else toml)
    return grading


def _is_solution(cell):
    return (cell.cell_type in ("code", "markdown")
            and (student.BEGIN in cell.source or student.SOLUTION_TAG in cell.metadata.get("tags", [])))


def _nbgrader(grade_id, *, solution, grade, points=None, locked=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _tests_source(entry):
    source = entry["tests"].strip("\n")
    hidden = entry.get("hidden", "").strip("\n")
    if hidden:
        source += "\n### BEGIN HIDDEN TESTS\n" + hidden + "\n### END HIDDEN TESTS"
    return source


def _find_answers(nb, grading, name):
    """Map each code solution cell's index to the grading entry that finds it; errors if one does not."""
    where = grading.get("_file", "the grading file")
    exercises = "\n".join(c.source for c in nb.cells
                          if c.cell_type == "markdown" and c.source.lstrip().startswith("## Exercises"))
    found = {}
    for entry in grading.get("answer", []):
        if entry["exercise"] not in exercises:
            raise GradingError(
                f"{where}: answer {entry['id']!r} tests the exercise {entry['exercise']!r}, which {name}'s "
                f"'## Exercises' cell no longer has; update its tests (or remove the entry) with the exercise")
        cells = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and _is_solution(c) and entry["find"] in c.source]
        if len(cells) != 1:
            what = "no solution cell" if not cells else f"{len(cells)} solution cells (cells {cells})"
            raise GradingError(
                f"{where}: answer {entry['id']!r} looks for the solution cell containing {entry['find']!r}, "
                f"but {name} has {what} with it; update 'find' (and the tests) to the changed solution")
        if cells[0] in found:
            raise GradingError(f"{where}: answers {found[cells[0]]['id']!r} and {entry['id']!r} find the same cell")
        found[cells[0]] = entry
    return found


def source_notebook(nb, grading, name="notebook"):
    """Return nbgrader's source version of lesson ``nb``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The lesson, solutions included (it is not changed).
    grading : dict
        Its grading file, from :func:`load_grading` (``{}``: written answers only).
    name : str
        Used in error messages.

    Returns
    -------
    nbformat.NotebookNode
        The lesson with nbgrader metadata on every solution cell (whose outputs are
        cleared), a test cell after each graded code answer, and the Solutions
        heading renamed as in the student copy.

    Raises
    ------
    GradingError
        If an exercise or solution the grading file names is not in ``nb``.
    """
    answers = _find_answers(nb, grading, name)
    points = grading.get("written", {}).get("points", WRITTEN_POINTS)
    source = copy.deepcopy(nb)
    cells, written, plain = [], 0, 0
    for index, cell in enumerate(source.cells):
        if cell.cell_type == "markdown":
            cell.source = student.rename_solutions_heading(cell.source)
        cells.append(cell)
        if not _is_solution(cell):
            continue
        if cell.cell_type == "markdown":
            written += 1
            cell.metadata["nbgrader"] = _nbgrader(f"written-{written}", solution=True, grade=True, points=points)
            continue
        cell.outputs, cell.execution_count = [], None
        tags = [t for t in cell.metadata.get("tags", []) if t != student.SOLUTION_TAG]
        cell.metadata["tags"] = tags + ["raises-exception"]
        entry = answers.get(index)
        if entry is None:
            plain += 1
            cell.metadata["nbgrader"] = _nbgrader(f"answer-{plain}", solution=True, grade=False)
            continue
        cell.metadata["nbgrader"] = _nbgrader(entry["id"], solution=True, grade=False)
        test = nbformat.v4.new_code_cell(_tests_source(entry), metadata={"tags": ["raises-exception"]})
        if "id" in cell:
            test["id"] = f"{entry['id']}-tests"
        else:
            test.pop("id", None)
        test.metadata["nbgrader"] = _nbgrader(f"{entry['id']}-tests", solution=False, grade=True,
                                              points=entry["points"], locked=True)
        cells.append(test)
    source.cells = cells
    return source


def write_config(course=COURSE):
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG)


def write_source(paths, course=COURSE, grading_dir=GRADING):
    """Write ``course/source/lessonNN/<notebook>`` for each lesson of ``paths``; return the written paths."""
    write_config(course)
    written = []
    for path in map(Path, paths):
        nb = source_notebook(nbformat.read(path, as_version=4), load_grading(path, grading_dir), path.name)
        folder = Path(course) / "source" / assignment_id(path)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / path.name)
        written.append(folder / path.name)
    return written


def nbgrader(*args, course=COURSE, check=True):
    """Run ``nbgrader ARGS`` in the course folder (with this Python's nbgrader)."""
    command = [sys.executable, "-m", "nbgrader", *map(str, args)]
    print("$", "nbgrader", *map(str, args), flush=True)
    # nbgrader runs alembic (its database migrations) by name: this Python's scripts come first.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(command, cwd=course, check=check, env=env)


def scores(assignment, course=COURSE):
    """``{student: (score, max_score, needs_manual_grade)}`` for an autograded assignment."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{Path(course).resolve() / 'gradebook.db'}") as gradebook:
        return {s.student.id: (s.score, s.max_score, s.needs_manual_grade)
                for s in gradebook.assignment_submissions(assignment)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["source", "release", "collect", "autograde", "feedback", "scores"])
    parser.add_argument("lessons", nargs="*", help="lesson numbers, e.g. 01 06 (default: every lesson)")
    parser.add_argument("--course", type=Path, default=COURSE, help="the course folder (default: course/)")
    args = parser.parse_args(argv)
    try:
        paths = lesson_notebooks(args.lessons)
        if args.command in ("source", "release"):
            for target in write_source(paths, args.course):
                print(f"{target}")
        # One nbgrader run serves several lessons (its start-up takes seconds): a pattern of their names.
        step = {"release": "generate_assignment", "autograde": "autograde", "feedback": "generate_feedback"}
        if args.command in step:
            nbgrader(step[args.command], assignments_pattern(paths), "--force", course=args.course)
        for path in paths:
            assignment = assignment_id(path)
            if args.command == "collect":
                nbgrader("zip_collect", assignment, "--force", course=args.course)
            elif args.command == "scores":
                for name, (score, maximum, manual) in sorted(scores(assignment, args.course).items()):
                    print(f"{assignment} {name}: {score:g} of {maximum:g}"
                          + (" (written answers still to grade by hand)" if manual else ""))
    except GradingError as error:
        print(f"nbgrader_course: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"nbgrader_course: {' '.join(error.cmd[2:])} failed (exit {error.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
