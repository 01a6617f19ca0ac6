"""The course's model: a one-hidden-layer perceptron in Keras."""

import functools

from ._backend import keras
from ._checks import check_choice, check_int

__all__ = ["build_mlp", "initial_weights", "ACTIVATIONS", "INITIALIZERS"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "linear")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal")


def build_mlp(n_features=2, n_classes=3, *, hidden_units=32, activation="relu", kernel_initializer="glorot_uniform",
              seed=0):
    """A built, uncompiled ``Dense(hidden_units, activation) -> Dense(n_classes, softmax)``.

    bnomial's post uses 32 ReLU units with Keras's default ``glorot_uniform``; Brownlee's tutorial
    50 with ``he_uniform``. ``activation`` is one of ``ACTIVATIONS``, ``kernel_initializer`` one of
    ``INITIALIZERS`` (biases start at zero). The weights come from ``seed`` alone.

    >>> model = build_mlp(hidden_units=50, kernel_initializer="he_uniform")
    >>> model.count_params()
    303
    """
    n_features = check_int("n_features", n_features, low=1)
    n_classes = check_int("n_classes", n_classes, low=2)
    hidden_units = check_int("hidden_units", hidden_units, low=1, high=4096)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("kernel_initializer", kernel_initializer, INITIALIZERS)
    seed = check_int("seed", seed, low=0, high=2**31 - 1)
    k = keras()
    hidden_init = type(k.initializers.get(kernel_initializer))(seed=seed)
    # The output layer keeps Keras's default initializer, as in both sources.
    output_init = k.initializers.GlorotUniform(seed=seed + 1_000_003)
    dense = k.layers.Dense
    return k.Sequential([k.Input(shape=(n_features,)),
                         dense(hidden_units, activation=activation, kernel_initializer=hidden_init, name="hidden"),
                         dense(n_classes, activation="softmax", kernel_initializer=output_init, name="output")],
                        name=f"mlp_{hidden_units}")


@functools.lru_cache(maxsize=1024, typed=True)
def _initial_weights(n_features, n_classes, hidden_units, activation, kernel_initializer, seed):
    weights = build_mlp(n_features, n_classes, hidden_units=hidden_units, activation=activation,
                        kernel_initializer=kernel_initializer, seed=seed).get_weights()
    for array in weights:
        array.setflags(write=False)
    return tuple(weights)


def initial_weights(n_features=2, n_classes=3, *, hidden_units=32, activation="relu",
                    kernel_initializer="glorot_uniform", seed=0):
    """Fresh copies of :func:`build_mlp`'s initial weights for these arguments, drawn once and kept (a sweep
    needs the same seeds' weights for every batch size).

    >>> import numpy as np
    >>> same = [np.array_equal(a, b) for a, b in zip(initial_weights(seed=3),
    ...                                                build_mlp(seed=3).get_weights())]
    >>> same
    [True, True, True, True]
    """
    weights = _initial_weights(n_features, n_classes, hidden_units, activation, kernel_initializer, seed)
    return [array.copy() for array in weights]
