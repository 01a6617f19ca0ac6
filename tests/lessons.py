"""The experiments of lessons 01-03, run exactly as the notebooks run them.

The claim tests (tests/test_lesson_0*.py) assert what the notebooks' prose says
about these runs. Results are cached for the session: several lessons share runs.
"""

import ast
import json
from functools import cache
from pathlib import Path

import numpy as np

import helpers

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SEEDS = (0, 1, 2, 3, 4)
MODEL_B = dict(hidden_units=50, kernel_initializer="he_uniform")


@cache
def data_a(random_state=2):
    """The data of bnomial's blog post (drawn with ``random_state=2``, as in lessons 01-04 and 08);
    other ``random_state`` values are the other draws of lesson 03."""
    return helpers.load_blobs(n_samples=1000, train_size=800, cluster_std=2.0, random_state=random_state)


@cache
def data_b():
    return helpers.load_blobs(n_samples=1000, train_size=500, cluster_std=2.0, random_state=2)


def run_a(batch_size, seed=0, learning_rate=0.01, momentum=0.9, epochs=100, random_state=2):
    # One cache key per run however it is spelled: run_a(32) is run_a(32, random_state=2).
    return _run_a(batch_size, seed, learning_rate, momentum, epochs, random_state)


@cache
def _run_a(batch_size, seed, learning_rate, momentum, epochs, random_state):
    return helpers.train(data_a(random_state), batch_size=batch_size, epochs=epochs,
                         learning_rate=learning_rate, momentum=momentum, seed=seed)


@cache
def run_b(batch_size, learning_rate, seed=0, epochs=200):
    return helpers.train(data_b(), batch_size=batch_size, epochs=epochs, learning_rate=learning_rate,
                         seed=seed, **MODEL_B)


#: The learning-rate searches of lessons 01-03 (five seeds, 100 epochs, source A's data).
SEARCH_RATES = {1: (3e-5, 1e-4, 3e-4, 1e-3, 3e-3),      # and 0.01, trained with helpers.train
                32: (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
                800: (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)}


@cache
def search_a(batch_size):
    """The notebooks' search over learning rates at one batch size, five seeds each."""
    return helpers.sweep(data_a(), batch_sizes=[batch_size], learning_rates=list(SEARCH_RATES[batch_size]),
                         seeds=list(SEEDS), epochs=100, cache_dir=None, progress=False)


def tuned_lr(batch_size):
    """The learning rate with the lowest mean final validation loss in :func:`search_a`.

    Lesson 01 compares batch size 1's search with its runs at 0.01 (trained with
    helpers.train, not swept); those end far worse, so the best of the search is the best.
    """
    best = own_rate(batch_size).rate
    if batch_size == 1:
        source = np.mean(finals([run_a(1, seed=s) for s in SEEDS], "val_loss"))
        searched = np.mean(finals(search_a(1).select(learning_rate=best), "val_loss"))
        assert searched < source
    return best


def own_rate(batch_size):
    """The batch size's own learning rate in :func:`search_a`, as lesson 01 defines it (an ``OwnRate``:
    lowest mean final validation loss over the five seeds after 100 epochs, its band, bracketed)."""
    return search_a(batch_size).own_rates()[batch_size]


@cache
def scored_once_a(batch_size, learning_rate):
    """The five seeds at one chosen setting, scored once on the test split (lessons 01-02)."""
    return helpers.train_replicas(data_a(), batch_size=batch_size, epochs=100, learning_rates=[learning_rate] * 5,
                                  seeds=list(SEEDS), test=True)


@cache
def trace_a(batch_size, learning_rate=0.01, epochs=2):
    return helpers.loss_after_each_update(data_a(), batch_size=batch_size, learning_rate=learning_rate,
                                          epochs=epochs)


def finals(runs, key="val_accuracy"):
    return [r.final(key) for r in runs]


def notebook_functions(notebook, *names, **namespace):
    """Several functions of ``notebooks/<notebook>.ipynb`` defined in one namespace.

    For functions that call each other or read the notebook's globals (given
    as keyword arguments, e.g. ``x=..., y=...``).
    """
    namespace = {"np": np, **namespace}
    cells = json.loads((NOTEBOOKS / f"{notebook}.ipynb").read_text())["cells"]
    found = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.parse("".join(cell["source"])).body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                exec(compile(ast.Module([node], type_ignores=[]), f"{notebook}.ipynb", "exec"), namespace)
                found.add(node.name)
    missing = set(names) - found
    if missing:
        raise LookupError(f"no code cell of {notebook}.ipynb defines {sorted(missing)}")
    return namespace


@cache
def notebook_function(notebook, name):
    """The function ``name`` as a code cell of ``notebooks/<notebook>.ipynb`` defines it.

    A lesson that defines a tiny function in view is tested with that very
    code, not with a copy that could drift from it. Its globals are ``np``.
    """
    cells = json.loads((NOTEBOOKS / f"{notebook}.ipynb").read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or f"def {name}(" not in source:
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                namespace = {"np": np}
                exec(compile(ast.Module([node], type_ignores=[]), f"{notebook}.ipynb", "exec"), namespace)
                return namespace[name]
    raise LookupError(f"no code cell of {notebook}.ipynb defines {name}()")
