"""Bad input: every public function names the parameter and echoes the bad value.

The table covers each entry point that takes data (Dataset itself, train,
train_replicas, sweep, the gradients, the trace, the step timing) with the
bad inputs named in issue 11: labels that are not integers in
[0, n_classes), non-finite features, 1-D or ragged arrays, train and test
with different feature counts, one-hot labels, a model that does not fit
the data, sizes that cannot fit in memory, scalars for sequences and a
learning rate that rounds to 0 in float32.
"""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402
from helpers.gradients import fit_steps_to_batch, minibatch_gradient_error  # noqa: E402
from helpers.trace import loss_after_each_update  # noqa: E402


class FromData:
    """A bad value made from the valid dataset (the table is built before the fixture)."""

    def __init__(self, make):
        self.make = make

    def __repr__(self):
        return "FromData"


ROWS = FromData(lambda d: d.x_train)   # the valid features, to spoil one value of
FUNCTIONS = {"Dataset": helpers.Dataset, "plot_loss_paths": helpers.plot_loss_paths,
             "train_replicas": helpers.train_replicas,
             "per_example_gradients": helpers.per_example_gradients,
             "loss_after_each_update": loss_after_each_update,
             "measure_step_costs": helpers.measure_step_costs,
             "fit_steps_to_batch": fit_steps_to_batch,
             "minibatch_gradient_error": minibatch_gradient_error}


def _spoilt(x, row, column, value):
    x = x.astype(np.float64)
    x[row, column] = value
    return x


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
    ("plot_curves", dict(validation=1), TypeError, r"validation must be True or False, got 1"),
    ("plot_curves", dict(validation=False, train=False), ValueError,
     r"train and validation must not both be False"),
    ("plot_curves", dict(x="time"), ValueError, r"x must be one of .* got 'time'"),
    ("plot_curves", dict(ax="left"), TypeError, r"ax must be a matplotlib Axes or None, got 'left'"),
    ("plot_learning_curves", dict(title=3), TypeError, r"title must be a str or None, got 3"),
    ("plot_side_by_side", dict(x="epochs"), ValueError, r"x must be one of .* got 'epochs'"),
    ("plot_side_by_side", dict(title=["a"]), TypeError, r"title must be a str or None, got \['a'\]"),
    ("plot_spread", dict(validation="val"), TypeError, r"validation must be True or False, got 'val'"),
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
    # Datasets: what a trainer would otherwise report as "diverged at epoch 1".
    ("Dataset", dict(y_train=FromData(lambda d: np.where(d.y_train == 2, 3, d.y_train))), ValueError,
     r"y_train must hold integer labels in \[0, 3\) \(n_classes=3\), got 3 at index \d+"),
    ("Dataset", dict(y_test=FromData(lambda d: d.y_test - 1)), ValueError,
     r"y_test must hold integer labels in \[0, 3\) .* got -1 at index \d+"),
    ("Dataset", dict(y_train=FromData(lambda d: d.y_train + 0.5)), ValueError,
     r"y_train must hold integer labels .* got \d\.5 at index 0, not an integer"),
    ("Dataset", dict(y_train=FromData(lambda d: np.where(np.arange(60) == 7, np.nan, d.y_train))),
     ValueError, r"y_train must hold integer labels .* got nan at index 7, not an integer"),
    ("Dataset", dict(y_train=FromData(lambda d: np.eye(3)[d.y_train])), ValueError,
     r"y_train must hold integer labels, got one-hot rows of shape \(60, 3\); pass y_train\.argmax\(axis=1\)"),
    ("Dataset", dict(y_train=FromData(lambda d: d.y_train.astype(str))), TypeError,
     r"y_train must hold integer labels, got dtype <U"),
    ("Dataset", dict(y_train=FromData(lambda d: d.y_train[:, None])), ValueError,
     r"y_train must be a 1-D array of integer labels, got shape \(60, 1\)"),
    ("Dataset", dict(x_train=FromData(lambda d: _spoilt(d.x_train, 3, 1, np.nan))), ValueError,
     r"x_train must hold finite float32 numbers, got nan at row 3, column 1 \(1 such values\)"),
    ("Dataset", dict(x_test=FromData(lambda d: _spoilt(d.x_test, 0, 0, -np.inf))), ValueError,
     r"x_test must hold finite float32 numbers, got -inf at row 0, column 0"),
    ("Dataset", dict(x_train=FromData(lambda d: _spoilt(d.x_train, 2, 0, 1e39))), ValueError,
     r"x_train must hold finite float32 numbers, got 1e\+39 at row 2, column 0"),
    ("Dataset", dict(x_train=FromData(lambda d: d.x_train[:, 0])), ValueError,
     r"x_train must be a 2-D array \(n_samples, n_features\), got shape \(60,\); one feature per "
     r"sample is x\.reshape\(-1, 1\)"),
    ("Dataset", dict(x_train=FromData(lambda d: [[0.0, 1.0]] * 59 + [[0.0]])), ValueError,
     r"x_train must be a rectangular array, got a ragged sequence"),
    ("Dataset", dict(x_test=FromData(lambda d: np.hstack([d.x_test, d.x_test[:, :1]]))), ValueError,
     r"x_train and x_test must have the same number of features, got 2 and 3"),
    ("Dataset", dict(x_train=FromData(lambda d: d.x_train.astype(str))), TypeError,
     r"x_train must hold numbers, got dtype <U"),
    ("Dataset", dict(x_train=FromData(lambda d: np.broadcast_to(np.float32(0), (2**28 + 1, 1)))),
     ValueError, r"x_train of shape \(268435457, 1\) would take 1\.0 GB as float32, more than fits"),
    ("Dataset", dict(x_train=FromData(lambda d: d.x_train[:59])), ValueError,
     r"x_train and y_train must have the same length, got 59 and 60"),
    ("Dataset", dict(n_classes=1), ValueError, r"n_classes must be an int in \[2, 1000\], got 1"),
    ("Dataset", dict(n_classes=3.0), TypeError, r"n_classes must be an int .* got 3\.0"),
    ("Dataset", dict(config={"std": object()}), TypeError, r"config must be JSON-safe"),
    ("load_blobs", dict(n_samples=10**12), ValueError,
     r"n_samples must be an int in \[2, 10000000\], got 1000000000000"),
    # train: a learning rate float32 cannot hold, a model that does not fit the data.
    ("train", dict(learning_rate=1e-50), ValueError,
     r"learning_rate must be .* float32 .* got 1e-50, which rounds to 0\.0 in float32"),
    ("train", dict(learning_rate=1e39), ValueError, r"learning_rate .* got 1e\+39, which rounds to inf"),
    ("train", dict(learning_rate=lambda e: 1e-50), ValueError,
     r"learning_rate\(0\) returned a bad value: .* rounds to 0\.0 in float32"),
    ("train", dict(model=FromData(lambda d: helpers.build_mlp(n_features=3))), ValueError,
     r"model must take inputs of 2 features, got 'mlp_32', which fails on one row"),
    ("train", dict(model=FromData(lambda d: helpers.build_mlp(n_classes=5))), ValueError,
     r"model must output one probability per class \(3, data\.n_classes\), got 'mlp_32' with 5 outputs"),
    ("train", dict(data=np.zeros((4, 2))), TypeError, r"data must be a helpers Dataset .* got ndarray"),
    # train_replicas: scalars for sequences, float32, memory.
    ("train_replicas", dict(learning_rates=0.1), TypeError,
     r"learning_rates must be a sequence of learning rates or schedules \(one per run\), got 0\.1"),
    ("train_replicas", dict(seeds=0), TypeError, r"seeds must be a sequence of ints \(one per run\), got 0"),
    ("train_replicas", dict(learning_rates=[0.01, 1e-50], seeds=[0, 1]), ValueError,
     r"learning_rates\[1\] must be .* got 1e-50, which rounds to 0\.0 in float32"),
    ("train_replicas", dict(seeds=[0.5]), TypeError, r"seeds\[0\] must be an int .* got 0\.5"),
    ("train_replicas", dict(batch_size=1, epochs=100_000, learning_rates=[0.01] * 8, seeds=list(range(8))),
     ValueError, r"make 48,000,000 updates, and their per-update losses \(366 MB\) would not fit in memory"),
    ("train_replicas", dict(activation="swish"), ValueError, r"activation must be one of .* got 'swish'"),
    ("train_replicas", dict(data=np.zeros((4, 2))), TypeError, r"data must be a helpers Dataset"),
    # sweep
    ("sweep", dict(learning_rates=0.1), TypeError, r"learning_rates must be a sequence of learning rates .*got 0\.1"),
    ("sweep", dict(batch_sizes=32), TypeError, r"batch_sizes must be a sequence of ints, got 32"),
    ("sweep", dict(seeds=0), TypeError, r"seeds must be a sequence of ints, got 0"),
    ("sweep", dict(learning_rates=[1e-50]), ValueError, r"learning_rates .* got 1e-50, which rounds to 0\.0"),
    ("sweep", dict(learning_rates={10: 0.1}), TypeError, r"learning_rates\[10\] must be a sequence .*got 0\.1"),
    ("sweep", dict(hidden_units=0), ValueError, r"hidden_units must be an int in \[1, 4096\], got 0"),
    ("sweep", dict(batch_sizes=[1], epochs=100_000, seeds=[0, 1, 2, 3]), ValueError,
     r"the grid makes 24,000,000 updates in all, .* would not fit in memory"),
    ("sweep", dict(data=[[0, 1]]), TypeError, r"data must be a helpers Dataset .* got list"),
    # gradients, trace, step timing
    ("per_example_gradients", dict(x=FromData(lambda d: _spoilt(d.x_train, 0, 1, np.nan))), ValueError,
     r"x must hold finite float32 numbers, got nan at row 0, column 1"),
    ("per_example_gradients", dict(y=FromData(lambda d: d.y_train + 1)), ValueError,
     r"y must hold integer labels in \[0, 3\) \(n_classes=3\), got 3"),
    ("per_example_gradients", dict(x=FromData(lambda d: np.hstack([d.x_train, d.x_train]))), ValueError,
     r"model must take inputs of 4 features, got 'mlp_32', which fails"),
    ("per_example_gradients", dict(y=FromData(lambda d: np.eye(3)[d.y_train])), ValueError,
     r"y must hold integer labels, got one-hot rows of shape \(60, 3\)"),
    ("per_example_gradients", dict(model="mlp"), TypeError, r"model must be a keras\.Model, got str"),
    ("loss_after_each_update", dict(learning_rate=1e-50), ValueError, r"learning_rate .* rounds to 0\.0"),
    ("loss_after_each_update", dict(kernel_initializer="zeros"), ValueError,
     r"kernel_initializer must be one of .* got 'zeros'"),
    ("loss_after_each_update", dict(data=np.zeros((4, 2))), TypeError, r"data must be a helpers Dataset"),
    ("measure_step_costs", dict(batch_sizes=32), TypeError, r"batch_sizes must be a sequence of ints, got 32"),
    ("measure_step_costs", dict(data=np.zeros((4, 2))), TypeError, r"data must be a helpers Dataset"),
    ("minibatch_gradient_error", dict(batch_sizes=4), TypeError, r"batch_sizes must be a sequence of ints, got 4"),
    ("fit_steps_to_batch", dict(steps=[100, np.nan, np.nan]), ValueError,
     r"steps must hold at least 2 counts that are not NaN .* got \[100\.0, nan, nan\]"),
    ("fit_steps_to_batch", dict(steps=[100, -1, 3]), ValueError,
     r"steps must all be finite and > 0 .* got \[100\.0, -1\.0, 3\.0\]"),
    ("fit_steps_to_batch", dict(batch_sizes=[0, 2, 4]), ValueError,
     r"batch_sizes must all be finite and > 0, got \[0\.0, 2\.0, 4\.0\]"),
    ("fit_steps_to_batch", dict(batch_sizes="abc"), TypeError, r"batch_sizes must be a sequence of numbers, got 'abc'"),
    ("fit_steps_to_batch", dict(steps=["1010", "110", "x"]), TypeError,
     r"steps must be a sequence of numbers, got \['1010', '110', 'x'\]"),
    # plots (issue 19): a str for a sequence, non-str labels, formats, empty inputs.
    ("plot_curves", dict(labels="ab"), TypeError, r"labels must be a sequence of str, one per result, got 'ab'"),
    ("plot_curves", dict(labels=[1]), TypeError, r"labels\[0\] must be a str, got 1"),
    ("plot_curves", dict(results="abc"), TypeError, r"results must be a TrainResult or a non-empty list .* got 'abc'"),
    ("plot_curves", dict(results={"a": 1}), TypeError, r"results must be a TrainResult .* got \{'a': 1\}"),
    ("plot_side_by_side", dict(labels="a"), TypeError, r"labels must be a sequence of str, one per result, got 'a'"),
    ("plot_loss_paths", dict(labels="ab"), TypeError, r"labels must be a sequence of str, one per path, got 'ab'"),
    ("plot_loss_paths", dict(batch_sizes=4), TypeError, r"batch_sizes must be a sequence of ints, got 4"),
    ("plot_loss_paths", dict(paths="ab"), TypeError, r"paths must be a sequence of arrays, got 'ab'"),
    ("plot_epoch_split", dict(batch_sizes="32"), TypeError, r"batch_sizes must be a sequence of ints, got '32'"),
    ("plot_epoch_split", dict(batch_sizes=[]), ValueError, r"batch_sizes must hold at least one batch size"),
    ("plot_heatmap", dict(fmt="abc"), ValueError, r"fmt must format one number, like .* got 'abc' \("),
    ("plot_heatmap", dict(fmt="{!s:.0}"), ValueError, r"fmt must format one number, like .* got '\{!s:.0\}', "
                                                      r"which writes '' for every number"),
    ("plot_heatmap", dict(fmt="{:.2q}"), ValueError, r"fmt must format one number, .* got '\{:.2q\}' \(Unknown"),
    ("plot_heatmap", dict(fmt="{x}"), ValueError, r"fmt must format one number, .* got '\{x\}'"),
    ("plot_steps_to_target", dict(batch_sizes="ab"), TypeError, r"batch_sizes must be a sequence of numbers, got 'ab'"),
    ("plot_steps_to_target", dict(steps=100), TypeError, r"steps must be a sequence of numbers, got 100"),
]


@pytest.fixture(scope="module")
def run(small_blobs):
    return helpers.train(small_blobs, batch_size=20, epochs=2, learning_rate=0.01)


def _valid_arguments(name, small_blobs, run):
    """Arguments that make ``name`` succeed; each case spoils one of them."""
    data = small_blobs
    return {
        "train": dict(data=data, batch_size=10, epochs=1, learning_rate=0.01),
        "train_replicas": dict(data=data, batch_size=10, epochs=1, learning_rates=[0.01], seeds=[0]),
        "sweep": dict(data=data, batch_sizes=[10], learning_rates=[0.1], epochs=1, cache_dir=None,
                      progress=False),
        "Dataset": dict(x_train=data.x_train, y_train=data.y_train, x_test=data.x_test,
                        y_test=data.y_test, name="d", n_classes=3),
        "per_example_gradients": dict(model=run.model, x=data.x_train, y=data.y_train),
        "loss_after_each_update": dict(data=data, batch_size=30, learning_rate=0.01),
        "measure_step_costs": dict(data=data, batch_sizes=[60], min_updates=2, fit_updates=3),
        "minibatch_gradient_error": dict(grads=np.ones((5, 2)), batch_sizes=[2], draws=2),
        "fit_steps_to_batch": dict(batch_sizes=[1, 10, 100], steps=[1010, 110, 20]),
        "plot_curves": dict(results=run), "plot_learning_curves": dict(results=run),
        "plot_side_by_side": dict(results=run),
        "plot_spread": dict(groups={"a": [run]}), "plot_panels": dict(groups={"a": [run]}),
        "plot_dataset": dict(data=data),
        "plot_heatmap": dict(result=helpers.SweepResult(runs=[run], cached=[False], seconds=0.0)),
        "plot_steps_to_target": dict(batch_sizes=[1, 10], steps=[100, 20]),
        "plot_loss_paths": dict(loss=lambda w: (w ** 2).sum(axis=-1), paths=[[[1, 1], [0.5, 0.5]]],
                                batch_sizes=[1]),
        "plot_epoch_split": dict(n_train=10, batch_sizes=[1, 10]),
    }.get(name, {})


def _function(name):
    return FUNCTIONS.get(name) or getattr(helpers, name)


def _case_id(case):
    name, kwargs = case[0], case[1]
    key, value = next(iter(kwargs.items()))
    text = repr(value) if isinstance(value, (int, float, str, list)) and len(repr(value)) < 30 \
        else type(value).__name__
    return f"{name}-{key}={text}"


@pytest.mark.parametrize("name, kwargs, error, pattern", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_argument_is_named(small_blobs, run, name, kwargs, error, pattern):
    bad = {k: v.make(small_blobs) if isinstance(v, FromData) else v for k, v in kwargs.items()}
    call = {**_valid_arguments(name, small_blobs, run), **bad}
    with pytest.raises(error, match=pattern):
        _function(name)(**call)
    plt.close("all")


@pytest.mark.parametrize("name", sorted({c[0] for c in CASES}))
def test_the_valid_arguments_of_the_table_pass(small_blobs, run, name):
    # Otherwise a case could pass on an error of the unspoilt arguments.
    _function(name)(**_valid_arguments(name, small_blobs, run))
    plt.close("all")


def test_bad_data_is_refused_before_any_training(small_blobs, monkeypatch):
    # Labels out of range never reach a trainer, so "diverged" means divergence.
    import dataclasses

    bad_labels = np.where(small_blobs.y_train == 2, 5, small_blobs.y_train)
    with pytest.raises(ValueError, match=r"y_train must hold integer labels in \[0, 3\)"):
        dataclasses.replace(small_blobs, y_train=bad_labels)
    five = dataclasses.replace(small_blobs, y_train=bad_labels, n_classes=6)   # fine with 6 classes
    assert five.n_classes == 6 and five.y_train.dtype == np.int32


def test_a_dataset_of_lists_is_stored_as_float32_and_int32():
    data = helpers.Dataset([[0, 1], [1, 0]], [0, 1], [[1, 1]], [1.0], name="lists", n_classes=2)
    assert data.x_train.dtype == np.float32 and data.y_test.dtype == np.int32
    assert data.x_train.flags.c_contiguous and data.n_features == 2


def test_data_must_be_a_dataset():
    with pytest.raises(TypeError, match="data must be a helpers Dataset .* got ndarray"):
        helpers.train(np.zeros((4, 2)), batch_size=1, epochs=1, learning_rate=0.01)


def test_empty_dataset_is_refused():
    with pytest.raises(ValueError, match="x_train must hold at least one sample"):
        helpers.Dataset(np.zeros((0, 2)), np.zeros(0), np.zeros((3, 2)), np.zeros(3),
                        name="empty", n_classes=3)
