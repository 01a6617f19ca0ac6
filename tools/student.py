"""Write a student copy of the notebooks, with the exercise solutions removed.

Solutions are marked the nbgrader way: the lines between ``### BEGIN SOLUTION``
and ``### END SOLUTION`` (in code or Markdown cells), or a whole cell tagged
``solution``. In the copy, solution code becomes ``# YOUR CODE HERE`` +
``raise NotImplementedError()`` (the cell is tagged ``raises-exception`` so the
rest of the notebook still runs under nbval/nbclient), solution prose becomes
``YOUR ANSWER HERE``, and those cells lose their outputs. Everything else is
copied as it is, outputs included.

Handed out from a repository of its own, the copy's launch badges and Colab
install cell must open that repository, not the course's (whose notebooks
hold the solutions): ``--repository`` rewrites them with tools/badges.py.

    python tools/student.py                 # notebooks/*.ipynb -> student/
    python tools/student.py --out DIR nb1.ipynb nb2.ipynb
    python tools/student.py --repository https://github.com/you/course-students [--branch main]
"""

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

# The tools are scripts, not a package; badges.py sits beside this one.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import badges  # noqa: E402

__all__ = ["BEGIN", "END", "CODE_PLACEHOLDER", "TEXT_PLACEHOLDER", "rename_solutions_heading",
           "strip_solutions", "write_student_copy"]

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SOLUTION_TAG = "solution"
CODE_PLACEHOLDER = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_PLACEHOLDER = "YOUR ANSWER HERE"
# The instructors' notebooks say "## Solutions"; the student copy holds answer cells there.
_SOLUTIONS_HEADING = re.compile(r"^##\s+Solutions\s*$", re.MULTILINE)


def rename_solutions_heading(source):
    """The instructors' "## Solutions" heading, as the student copy words it."""
    return _SOLUTIONS_HEADING.sub("## Your solutions", source)


def _indented(placeholder, indent):
    return "\n".join(indent + line for line in placeholder.splitlines())


def _strip_cell_source(source, placeholder, where):
    """Replace each BEGIN/END SOLUTION block of ``source``; return (new source, blocks)."""
    out, blocks, inside = [], 0, False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside another solution")
            inside, blocks = True, blocks + 1
            out.append(_indented(placeholder, line[:len(line) - len(line.lstrip())]))
        elif marker == END:
            if not inside:
                raise ValueError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out) + ("\n" if source.endswith("\n") else ""), blocks


def strip_solutions(nb, name="notebook"):
    """Return a copy of ``nb`` with every solution replaced by a placeholder.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook (nbformat v4).
    name : str
        Used in error messages.

    Returns
    -------
    student : nbformat.NotebookNode
        The copy. Cells whose solution was removed lose their outputs; code
        ones are tagged ``raises-exception``.
    removed : int
        How many solutions were replaced.

    Raises
    ------
    ValueError
        If a cell's markers are unbalanced or nested.

    Example
    -------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "x = 1\\n### BEGIN SOLUTION\\ny = x + 1\\n### END SOLUTION")])
    >>> student, removed = strip_solutions(nb)
    >>> print(student.cells[0].source)
    x = 1
    # YOUR CODE HERE
    raise NotImplementedError()
    """
    student = copy.deepcopy(nb)
    removed = 0
    for index, cell in enumerate(student.cells):
        if cell.cell_type == "markdown":
            cell.source = rename_solutions_heading(cell.source)
        if cell.cell_type not in ("code", "markdown"):
            continue
        placeholder = CODE_PLACEHOLDER if cell.cell_type == "code" else TEXT_PLACEHOLDER
        tags = cell.metadata.get("tags", [])
        if SOLUTION_TAG in tags and BEGIN not in cell.source:
            source, blocks = placeholder, 1
        else:
            source, blocks = _strip_cell_source(cell.source, placeholder, f"{name}, cell {index}")
        if not blocks:
            continue
        cell.source = source
        removed += blocks
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata["tags"] = [t for t in tags if t != SOLUTION_TAG] + ["raises-exception"]
    return student, removed


def write_student_copy(paths, out, *, repository=None, branch=badges.BRANCH):
    """Write the student copy of each notebook in ``paths`` into folder ``out``.

    Parameters
    ----------
    paths : list of path-like
    out : path-like
    repository : str, optional
        The GitHub address the copy is handed out from: its badges and Colab
        install cell are rewritten for it. By default they are left as they
        are, pointing at the course repository.
    branch : str, default "main"
        The branch of ``repository`` that the Colab badges open.

    Returns
    -------
    list of (Path, int)
        Each written file and how many solutions it lost.

    Raises
    ------
    ValueError
        If a notebook's solution markers are unbalanced, or, with
        ``repository``, if it is not a GitHub address or a notebook has no
        badge markers or setup cell.
    """
    if repository is not None:
        repository = "https://github.com/" + badges.github_slug(repository)
        badges.check_branch(branch)
    elif branch != badges.BRANCH:
        raise ValueError(f"branch is used only with a repository (the copy's links are left as "
                         f"they are without one), got branch={branch!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        student, removed = strip_solutions(nbformat.read(path, as_version=4), path.name)
        if repository is not None:
            badges.update_notebook(student, repository, path.name, branch=branch)
        target = out / path.name
        nbformat.write(student, target)
        written.append((target, removed))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to copy (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "student",
                        help="folder to write into (default: student/)")
    parser.add_argument("--repository", metavar="URL",
                        help="the GitHub repository the copy is handed out from: its badges and "
                             "Colab install cells open URL instead of the course repository")
    parser.add_argument("--branch", default=badges.BRANCH, metavar="NAME",
                        help=f"with --repository, the branch Colab links open (default {badges.BRANCH})")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("student: no notebooks found", file=sys.stderr)
        return 2
    try:
        written = write_student_copy(paths, args.out, repository=args.repository, branch=args.branch)
    except ValueError as error:
        print(f"student: {error}", file=sys.stderr)
        return 2
    for target, removed in written:
        print(f"{target}: {removed} solution(s) removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
