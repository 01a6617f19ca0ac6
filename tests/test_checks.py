"""Bad input: every public function names the parameter and echoes the bad value."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402

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
    # An unknown keyword is Python's own TypeError: it names the keyword (the value is not echoed).
    ("train", dict(lr=0.1), TypeError, r"unexpected keyword argument 'lr'"),
    ("plot_curves", dict(colour="red"), TypeError, r"unexpected keyword argument 'colour'"),
    ("train", dict(activation="swish"), ValueError, r"activation must be one of .* got 'swish'"),
    ("train", dict(hidden_units=0), ValueError, r"hidden_units .* got 0"),
    ("train", dict(model="mlp"), TypeError, r"model must be a keras.Model or None, got str"),
    ("load_blobs", dict(n_samples=0), ValueError, r"n_samples .* got 0"),
    ("load_blobs", dict(train_size=1000), ValueError, r"train_size must be an int in \[1, 999\], got 1000"),
    ("load_blobs", dict(cluster_std=0), ValueError, r"cluster_std .* got 0\.0"),
    ("load_blobs", dict(centers=1), ValueError, r"centers .* got 1"),
    ("load_digits", dict(train_size=0), ValueError, r"train_size .* got 0"),
    ("build_mlp", dict(kernel_initializer="zeros"), ValueError, r"kernel_initializer .* got 'zeros'"),
    ("build_mlp", dict(n_classes=1), ValueError, r"n_classes .* got 1"),
    ("plot_curves", dict(train="no"), TypeError, r"train must be True or False, got 'no'"),
    ("plot_curves", dict(test=1), TypeError, r"test must be True or False, got 1"),
    ("plot_curves", dict(test=False, train=False), ValueError, r"train and test must not both be False"),
    ("plot_curves", dict(x="time"), ValueError, r"x must be one of .* got 'time'"),
    ("plot_curves", dict(ax="left"), TypeError, r"ax must be a matplotlib Axes or None, got 'left'"),
    ("plot_learning_curves", dict(title=3), TypeError, r"title must be a str or None, got 3"),
    ("plot_side_by_side", dict(x="epochs"), ValueError, r"x must be one of .* got 'epochs'"),
    ("plot_side_by_side", dict(title=["a"]), TypeError, r"title must be a str or None, got \['a'\]"),
    ("plot_batch_loss", dict(epochs=0), ValueError, r"epochs must be an int in \[1, inf\], got 0"),
    ("plot_batch_loss", dict(epochs=-2), ValueError, r"epochs .* got -2"),
    ("plot_batch_loss", dict(epochs=1.5), TypeError, r"epochs .* got 1\.5 of type float"),
    ("plot_batch_loss", dict(labels=["a", "b"]), ValueError, r"labels must have one entry per result \(1\), got 2"),
    ("plot_spread", dict(test="val"), TypeError, r"test must be True or False, got 'val'"),
    ("plot_spread", dict(band="iqr"), ValueError, r"band must be one of .* got 'iqr'"),
    ("plot_spread", dict(groups=[]), TypeError, r"groups must be a non-empty dict .* got \[\]"),
    ("plot_panels", dict(ncols=0), ValueError, r"ncols must be an int in \[1, inf\], got 0"),
    ("plot_panels", dict(metric="acc"), ValueError, r"metric must be one of .* got 'acc'"),
    ("plot_dataset", dict(data=np.zeros((4, 2))), TypeError, r"data must be a helpers Dataset .* got ndarray"),
    ("plot_heatmap", dict(rows="lr"), ValueError, r"rows must be one of .* got 'lr'"),
    ("plot_heatmap", dict(log="yes"), TypeError, r"log must be True or False, got 'yes'"),
    ("plot_heatmap", dict(fmt=3), TypeError, r"fmt must be a str or None, got 3"),
    ("plot_steps_to_target", dict(batch_sizes=[0, 10]), ValueError, r"batch_sizes must all be > 0, got \[0, 10\]"),
    ("plot_steps_to_target", dict(steps=[100, -1]), ValueError, r"steps must all be > 0, got \[100, -1\]"),
    ("plot_steps_to_target", dict(b_crit=-5.0), ValueError, r"b_crit .* got -5\.0"),
]


@pytest.fixture(scope="module")
def run(small_blobs):
    return helpers.train(small_blobs, batch_size=20, epochs=2, learning_rate=0.01)


def _valid_arguments(name, small_blobs, run):
    """Arguments that make ``name`` succeed; each case spoils one of them."""
    return {
        "train": dict(data=small_blobs, batch_size=10, epochs=1, learning_rate=0.01),
        "plot_curves": dict(results=run), "plot_learning_curves": dict(results=run),
        "plot_side_by_side": dict(results=run), "plot_batch_loss": dict(results=run),
        "plot_spread": dict(groups={"a": [run]}), "plot_panels": dict(groups={"a": [run]}),
        "plot_dataset": dict(data=small_blobs),
        "plot_heatmap": dict(result=helpers.SweepResult(runs=[run], cached=[False], seconds=0.0)),
        "plot_steps_to_target": dict(batch_sizes=[1, 10], steps=[100, 20]),
    }.get(name, {})


@pytest.mark.parametrize("name, kwargs, error, pattern", CASES,
                         ids=[f"{c[0]}-{next(iter(c[1]))}={next(iter(c[1].values()))!r}" for c in CASES])
def test_bad_argument_is_named(small_blobs, run, name, kwargs, error, pattern):
    call = {**_valid_arguments(name, small_blobs, run), **kwargs}
    with pytest.raises(error, match=pattern):
        getattr(helpers, name)(**call)
    plt.close("all")


@pytest.mark.parametrize("name", sorted({c[0] for c in CASES}))
def test_the_valid_arguments_of_the_table_pass(small_blobs, run, name):
    # Otherwise a case could pass on an error of the unspoilt arguments.
    getattr(helpers, name)(**_valid_arguments(name, small_blobs, run))
    plt.close("all")


def test_data_must_be_a_dataset():
    with pytest.raises(TypeError, match="data must be a helpers Dataset .* got ndarray"):
        helpers.train(np.zeros((4, 2)), batch_size=1, epochs=1, learning_rate=0.01)


def test_empty_dataset_is_refused():
    with pytest.raises(ValueError, match="x_train must hold at least one sample"):
        helpers.Dataset(np.zeros((0, 2)), np.zeros(0), np.zeros((3, 2)), np.zeros(3),
                        name="empty", n_classes=3)
