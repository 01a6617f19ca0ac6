"""The course's model: a one-hidden-layer perceptron in Keras."""

from ._backend import keras
from ._checks import check_choice, check_int

__all__ = ["build_mlp"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "linear")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                "lecun_uniform", "lecun_normal")


def build_mlp(n_features=2, n_classes=3, *, hidden_units=32, activation="relu",
              kernel_initializer="glorot_uniform", seed=0):
    """Build ``Dense(hidden_units, activation) -> Dense(n_classes, softmax)``.

    bnomial's blog post "The wrong batch size is all it takes" uses 32 ReLU
    units with Keras's default ``glorot_uniform`` initializer; Jason
    Brownlee's batch-size tutorial uses 50 ReLU units with ``he_uniform``.
    The weights are drawn from ``seed`` alone, so the same seed gives the
    same initial model without touching global random state.

    Parameters
    ----------
    n_features : int, default 2
    n_classes : int, default 3
    hidden_units : int, default 32
    activation : str, default "relu"
        One of ``ACTIVATIONS``.
    kernel_initializer : str, default "glorot_uniform"
        One of ``INITIALIZERS``; biases start at zero as in Keras.
    seed : int, default 0

    Returns
    -------
    keras.Sequential
        A built, uncompiled model.

    Examples
    --------
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
    init_class = type(k.initializers.get(kernel_initializer))
    hidden_init = init_class(seed=seed)
    # The output layer keeps Keras's default initializer, as in both sources.
    output_init = k.initializers.GlorotUniform(seed=seed + 1_000_003)
    model = k.Sequential([
        k.Input(shape=(n_features,)),
        k.layers.Dense(hidden_units, activation=activation,
                       kernel_initializer=hidden_init, name="hidden"),
        k.layers.Dense(n_classes, activation="softmax",
                       kernel_initializer=output_init, name="output"),
    ], name=f"mlp_{hidden_units}")
    return model
