"""The experiments of lessons 01-03, run exactly as the notebooks run them.

The claim tests (tests/test_lesson_0*.py) assert what the notebooks' prose says
about these runs. Results are cached for the session: several lessons share runs.
"""

from functools import cache

import helpers

SEEDS = (0, 1, 2, 3, 4)
MODEL_B = dict(hidden_units=50, kernel_initializer="he_uniform")


@cache
def data_a():
    return helpers.load_blobs(n_samples=1000, train_size=800, cluster_std=2.0, random_state=2)


@cache
def data_b():
    return helpers.load_blobs(n_samples=1000, train_size=500, cluster_std=2.0, random_state=2)


@cache
def run_a(batch_size, seed=0, learning_rate=0.01, momentum=0.9, epochs=100):
    return helpers.train(data_a(), batch_size=batch_size, epochs=epochs, learning_rate=learning_rate,
                         momentum=momentum, seed=seed)


@cache
def run_b(batch_size, learning_rate, seed=0, epochs=200):
    return helpers.train(data_b(), batch_size=batch_size, epochs=epochs, learning_rate=learning_rate,
                         seed=seed, **MODEL_B)


def finals(runs, key="val_accuracy"):
    return [r.final(key) for r in runs]
