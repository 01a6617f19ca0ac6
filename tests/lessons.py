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
    """The first source's data; other ``random_state`` values are the other draws of lesson 03."""
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
SEARCH_RATES = {1: (3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
                32: (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
                800: (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)}


@cache
def search_a(batch_size):
    """The notebooks' search over learning rates at one batch size, five seeds each."""
    return helpers.sweep(data_a(), batch_sizes=[batch_size], learning_rates=list(SEARCH_RATES[batch_size]),
                         seeds=list(SEEDS), epochs=100, cache_dir=None, progress=False)


def tuned_lr(batch_size):
    """The learning rate with the lowest mean final test loss in :func:`search_a`."""
    return search_a(batch_size).best("val_loss", mode="min")[batch_size]


@cache
def trace_a(batch_size, learning_rate=0.01, epochs=2):
    return helpers.loss_after_each_update(data_a(), batch_size=batch_size, learning_rate=learning_rate,
                                          epochs=epochs)


def finals(runs, key="val_accuracy"):
    return [r.final(key) for r in runs]


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
