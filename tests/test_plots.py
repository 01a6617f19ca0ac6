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


@pytest.fixture(scope="module")
def diverged(small_blobs):
    """A run whose loss explodes in its first epoch (it stops there)."""
    run = helpers.train(small_blobs, batch_size=10, epochs=4, learning_rate=10.0)
    assert run.diverged_at == 1 and run.history["loss"][0] > 1e3
    return run


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


def test_side_by_side_titles_a_diverged_run_once_and_clamps_the_loss_row(runs, diverged):
    fig = helpers.plot_side_by_side([runs[0], diverged], labels=["fine", "lr 10"])
    axes = np.array(fig.axes).reshape(2, 2)
    assert axes[0, 0].get_title() == "fine"
    assert axes[0, 1].get_title() == "lr 10\ndiverged at epoch 1"
    assert axes[1, 1].get_title() == ""
    # The row is scaled to the run that did not diverge, not to a loss of 1e7.
    finite = runs[0].history["loss"] + runs[0].history["val_loss"]
    assert axes[0, 1].get_ylim() == pytest.approx((0, 1.1 * max(finite)))
    assert axes[0, 0].get_ylim() == axes[0, 1].get_ylim()


def test_side_by_side_without_divergence_keeps_matplotlibs_limits(runs):
    fig = helpers.plot_side_by_side(runs[:2])
    top = max(max(r.history["loss"] + r.history["val_loss"]) for r in runs[:2])
    assert fig.axes[0].get_ylim()[1] != pytest.approx(1.1 * top)


def test_spread_leaves_diverged_seeds_out_and_says_so(runs, diverged):
    ax = helpers.plot_spread({"batch 1": [runs[0], diverged, runs[2]]}, metric="loss")
    mean = (np.array(runs[0].history["val_loss"]) + runs[2].history["val_loss"]) / 2
    # All four epochs of the two good seeds, not cut to the diverged run's one epoch.
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mean)
    assert ax.get_legend().get_texts()[0].get_text() == \
        "batch 1 (mean of 2; 1 of 3 seeds diverged)"


def test_spread_of_seeds_that_all_diverged_draws_only_a_legend_entry(runs, diverged):
    ax = helpers.plot_spread({"lr 10": [diverged, diverged], "lr 0.01": [runs[0]]})
    assert len(ax.lines[0].get_xdata()) == 0 and len(ax.lines[1].get_xdata()) == 4
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["lr 10 (all 2 seeds diverged)", "lr 0.01 (mean of 1)"]


def test_seeds_of_different_lengths_are_refused_not_truncated(small_blobs, runs):
    short = helpers.train(small_blobs, batch_size=1, epochs=2, learning_rate=0.01, seed=3)
    for plot in (helpers.plot_spread, helpers.plot_panels):
        with pytest.raises(ValueError, match=r"groups\['batch 1'\] must hold runs of the same "
                                             r"number of epochs, got \[4, 2\]"):
            plot({"batch 1": [runs[0], short]})


def test_panels_mark_diverged_seeds_and_average_the_others(runs, diverged):
    fig = helpers.plot_panels({"all": [diverged], "some": [runs[0], diverged, runs[2]]}, ncols=2)
    everything, some = fig.axes[:2]
    assert everything.get_title() == "all\nits 1 seed diverged" and not everything.lines
    assert some.get_title() == "some\n1 of 3 seeds diverged"
    mean = (np.array(runs[0].history["accuracy"]) + runs[2].history["accuracy"]) / 2
    np.testing.assert_allclose(some.lines[0].get_ydata(), mean)
    assert some.get_legend() is not None     # the first panel has nothing to name


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


def test_batch_loss_shows_the_first_epochs_only(runs):
    ax = helpers.plot_batch_loss(runs[0], epochs=1)
    assert len(ax.lines[0].get_xdata()) == 60 and ax.lines[0].get_xdata()[-1] == pytest.approx(1.0)


def test_curves_can_draw_the_test_curve_alone(runs):
    ax = helpers.plot_curves(runs[:2], train=False)
    assert [line.get_label() for line in ax.lines] == ["batch 1, lr 0.01 test", "batch 60, lr 0.01 test"]


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
