"""Every docstring example of helpers (and of the tools) runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Found, not listed: a new module's examples are run without anyone adding it here.
MODULES = sorted(f"helpers.{m.name}" for m in pkgutil.iter_modules(helpers.__path__))
TOOLS = ["badges", "student"]

# The examples that are shown but not run, and why. A "+SKIP" anywhere else fails
# test_only_the_listed_examples_are_skipped, and so does an entry here that no longer skips.
SKIPPED = {
    "helpers.gradients.per_example_gradients": "uses a trained `result` and `data` it does not make",
    "helpers.sweep_plots.plot_heatmap": "needs a sweep, about 30 s on two cores",
    "helpers.quiz.answer_key": "prints the whole answer key",
    "helpers.quiz.export_quiz": "writes a file into the working folder",
    "helpers.sweep.steps_to_target": "uses a trained `result` it does not make",
    "helpers.widgets.explore": "opens an interactive widget",
}


@pytest.fixture(scope="module")
def tools(load_tool):
    return {name: load_tool(name) for name in TOOLS}


def _module(name, tools):
    return tools[name] if name in tools else importlib.import_module(name)


def _skipped(module, prefix):
    """Names (``prefix.qualname``) of the docstrings in ``module`` with a skipped example."""
    return {prefix + test.name.removeprefix(module.__name__)
            for test in doctest.DocTestFinder().find(module)
            if any(example.options.get(doctest.SKIP) for example in test.examples)}


@pytest.mark.parametrize("name", MODULES + TOOLS)
def test_docstring_examples_run(name, tools):
    module = _module(name, tools)
    try:
        failed, attempted = doctest.testmod(module, optionflags=FLAGS)
    finally:
        plt.close("all")
    # testmod prints each failing example, its expected and its actual output.
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed (see the captured stdout)"


@pytest.mark.parametrize("name", MODULES + TOOLS)
def test_only_the_listed_examples_are_skipped(name, tools):
    module = _module(name, tools)
    prefix = name if name in MODULES else f"tools.{name}"
    listed = {key for key in SKIPPED if key.startswith(prefix + ".")}
    assert _skipped(module, prefix) == listed
