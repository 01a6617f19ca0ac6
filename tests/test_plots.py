"""helpers.plots: drawing only, shared axes, divergence marked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402


@pytest.fixture(scope="module")
def runs(small_blobs):
    return [helpers.train(small_blobs, batch_size=b, epochs=4, learning_rate=0.01, seed=s)
            for b, s in ((1, 0), (60, 0), (1, 1))]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_curves_draw_train_and_test_per_run(runs):
    ax = helpers.plot_curves(runs[:2], metric="accuracy")
    assert len(ax.lines) == 4
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), runs[0].history["val_accuracy"])
    assert ax.get_ylabel() == "accuracy"


@pytest.mark.parametrize("x, expected", [("epoch", [1, 2, 3, 4]), ("update", [60, 120, 180, 240])])
def test_x_axis_counts_epochs_or_updates(runs, x, expected):
    ax = helpers.plot_curves(runs[0], x=x)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), expected)


def test_x_axis_in_seconds_is_cumulative(runs):
    ax = helpers.plot_curves(runs[0], x="second")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.cumsum(runs[0].epoch_seconds))


def test_side_by_side_shares_y_per_row(runs):
    fig = helpers.plot_side_by_side(runs[:2], labels=["SGD", "batch GD"])
    axes = np.array(fig.axes).reshape(2, 2)
    assert axes[0, 0].get_ylim() == axes[0, 1].get_ylim()
    assert axes[1, 0].get_ylim() == axes[1, 1].get_ylim()
    assert axes[0, 0].get_title() == "SGD"


def test_spread_draws_mean_of_seeds(runs):
    ax = helpers.plot_spread({"batch 1": [runs[0], runs[2]]}, metric="loss")
    mean = (np.array(runs[0].history["val_loss"]) + runs[2].history["val_loss"]) / 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mean)
    assert "mean of 2" in ax.get_legend().get_texts()[0].get_text()


def test_panels_share_both_axes(runs):
    fig = helpers.plot_panels({"batch 1": [runs[0], runs[2]], "batch 60": [runs[1]]}, ncols=2)
    a, b = fig.axes[:2]
    assert a.get_ylim() == b.get_ylim() and a.get_xlim() == b.get_xlim()


def test_batch_loss_has_one_point_per_update(runs):
    ax = helpers.plot_batch_loss(runs[:2])
    assert len(ax.lines[0].get_xdata()) == 240 and len(ax.lines[1].get_xdata()) == 4
    assert ax.lines[0].get_xdata()[-1] == pytest.approx(4.0)


def test_divergence_is_marked(small_blobs):
    bad = helpers.train(small_blobs, batch_size=10, epochs=20, learning_rate=10.0)
    ax = helpers.plot_curves(bad)
    assert any("diverged at epoch" in t.get_text() for t in ax.texts)


def test_no_global_style_change(runs):
    before = dict(matplotlib.rcParams)
    helpers.plot_learning_curves(runs)
    assert dict(matplotlib.rcParams) == before


@pytest.mark.parametrize("call, pattern", [
    (lambda r: helpers.plot_curves(r, metric="acc"), "metric must be one of"),
    (lambda r: helpers.plot_curves(r, x="time"), "x must be one of .* got 'time'"),
    (lambda r: helpers.plot_curves(r, labels=["one"]), "labels must have one entry per result"),
    (lambda r: helpers.plot_curves([]), "results must be a TrainResult"),
])
def test_bad_plot_arguments(runs, call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call(runs)
