"""The shape of helpers/: its import graph, read with ast (imports inside functions count too)."""

import ast
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
MODULES = {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(HELPERS.glob("*.py"))}
# Modules that compute: none of them may import one that draws.
COMPUTING = {"data", "models", "pipeline", "result", "training", "replicas", "sweep", "gradients",
             "trace", "timing", "schedules", "practice"}
DRAWING = {"plots", "sweep_plots", "style", "widgets", "_display", "quiz_view"}


def imports(tree):
    """(module, names) for each ``from .module import names`` anywhere in tree (``from . import m`` too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.append((node.module, [alias.name for alias in node.names]))
            else:
                found.extend((alias.name, []) for alias in node.names)
    return found


def graph(modules):
    return {name: {target for target, _ in imports(tree) if target in modules}
            for name, tree in modules.items() if name != "__init__"}


def cycle(edges):
    """One import cycle as a list of modules, or None."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(edges.get(node, ())):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(node)
        return None

    for start in sorted(edges):
        found = visit(start)
        if found:
            return found
    return None


def test_the_two_lists_name_real_modules():
    assert COMPUTING & DRAWING == set()
    assert (COMPUTING | DRAWING) - set(MODULES) == set()


def test_no_import_cycle():
    assert cycle(graph(MODULES)) is None


def test_the_cycle_finder_finds_a_lazy_cycle():
    lazy = {"a": ast.parse("from .b import f"), "b": ast.parse("def g():\n    from .a import h")}
    assert cycle(graph(lazy)) in (["a", "b", "a"], ["b", "a", "b"])


def test_no_module_imports_another_modules_private_names():
    private = [(name, target, imported) for name, tree in MODULES.items()
               for target, names in imports(tree) for imported in names if imported.startswith("_")]
    assert private == []


@pytest.mark.parametrize("name", sorted(COMPUTING))
def test_computing_never_imports_drawing(name):
    assert {target for target, _ in imports(MODULES[name])} & DRAWING == set()


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"__init__"}))
def test_every_module_says_what_it_exports(name):
    exported = [node for node in MODULES[name].body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)]
    assert exported, f"helpers/{name}.py defines no __all__"


def test_what_a_module_takes_from_another_is_in_its_all():
    """Each module's __all__ lists what other modules take from it."""
    exported = {}
    for name, tree in MODULES.items():
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                    for t in node.targets):
                exported[name] = set(ast.literal_eval(node.value))
    missing = [(name, target, imported) for name, tree in MODULES.items()
               for target, names in imports(tree) if target in exported
               for imported in names if imported not in exported[target]]
    assert missing == []


def test_no_class_is_over_200_lines():
    sizes = {f"{name}.{node.name}": node.end_lineno - node.lineno + 1 for name, tree in MODULES.items()
             for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    assert max(sizes.values()) <= 200, {k: v for k, v in sizes.items() if v > 200}


def test_the_package_does_not_grow_back():
    # A ceiling a little above today's size (issue 19 asks for 6,000 lines: see docs/maintainers.md).
    lines = sum(len(path.read_text(encoding="utf-8").splitlines()) for path in HELPERS.glob("*.py"))
    assert lines <= 6_500, f"helpers/ has {lines} lines"
