"""Bad input: every public function names the parameter and echoes the bad value."""

import math

import numpy as np
import pytest

import helpers

CASES = [
    # (function, kwargs, error type, pattern the message must contain)
    ("train", dict(batch_size=0), ValueError, r"batch_size must be an int in \[1, 60\], got 0"),
    ("train", dict(batch_size=-4), ValueError, r"batch_size .* got -4"),
    ("train", dict(batch_size=32.0), TypeError, r"batch_size .* got 32\.0 of type float"),
    ("train", dict(batch_size=61), ValueError, r"batch_size must be an int in \[1, 60\], got 61"),
    ("train", dict(batch_size=True), TypeError, r"batch_size .* got True"),
    ("train", dict(learning_rate=0.0), ValueError, r"learning_rate .* got 0\.0"),
    ("train", dict(learning_rate=-0.1), ValueError, r"learning_rate .* got -0\.1"),
    ("train", dict(learning_rate=math.nan), ValueError, r"learning_rate .* got nan"),
    ("train", dict(learning_rate="0.01"), TypeError, r"learning_rate .* got '0\.01'"),
    ("train", dict(epochs=0), ValueError, r"epochs must be an int in \[1, 100000\], got 0"),
    ("train", dict(momentum=1.0), ValueError, r"momentum .* \[0, 1\), got 1\.0"),
    ("train", dict(momentum=-0.5), ValueError, r"momentum .* got -0\.5"),
    ("train", dict(seed=-1), ValueError, r"seed .* got -1"),
    ("train", dict(shuffle="yes"), TypeError, r"shuffle must be True or False, got 'yes'"),
    ("train", dict(lr=0.1), TypeError, r"unexpected keyword argument 'lr'"),
    ("train", dict(activation="swish"), ValueError, r"activation must be one of .* got 'swish'"),
    ("train", dict(hidden_units=0), ValueError, r"hidden_units .* got 0"),
    ("load_blobs", dict(n_samples=0), ValueError, r"n_samples .* got 0"),
    ("load_blobs", dict(train_size=1000), ValueError, r"train_size must be an int in \[1, 999\], got 1000"),
    ("load_blobs", dict(cluster_std=0), ValueError, r"cluster_std .* got 0\.0"),
    ("load_blobs", dict(centers=1), ValueError, r"centers .* got 1"),
    ("load_digits", dict(train_size=0), ValueError, r"train_size .* got 0"),
    ("build_mlp", dict(kernel_initializer="zeros"), ValueError, r"kernel_initializer .* got 'zeros'"),
    ("build_mlp", dict(n_classes=1), ValueError, r"n_classes .* got 1"),
]


@pytest.mark.parametrize("name, kwargs, error, pattern", CASES,
                         ids=[f"{c[0]}-{next(iter(c[1]))}={next(iter(c[1].values()))!r}" for c in CASES])
def test_bad_argument_is_named(small_blobs, name, kwargs, error, pattern):
    if name == "train":
        call = dict(batch_size=10, epochs=1, learning_rate=0.01)
        call.update(kwargs)
        run = lambda: helpers.train(small_blobs, **call)  # noqa: E731
    else:
        run = lambda: getattr(helpers, name)(**kwargs)  # noqa: E731
    with pytest.raises(error, match=pattern):
        run()


def test_data_must_be_a_dataset():
    with pytest.raises(TypeError, match="data must be a helpers Dataset .* got ndarray"):
        helpers.train(np.zeros((4, 2)), batch_size=1, epochs=1, learning_rate=0.01)


def test_empty_dataset_is_refused():
    with pytest.raises(ValueError, match="x_train must hold at least one sample"):
        helpers.Dataset(np.zeros((0, 2)), np.zeros(0), np.zeros((3, 2)), np.zeros(3),
                        name="empty", n_classes=3)
