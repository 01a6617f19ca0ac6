"""helpers.plots: drawing only, shared axes, divergence marked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402
from helpers.style import batch_color  # noqa: E402


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


def test_curves_can_draw_the_validation_curve_alone(runs):
    ax = helpers.plot_curves(runs[:2], train=False)
    assert [line.get_label() for line in ax.lines] == ["batch 1, lr 0.01 validation",
                                                        "batch 60, lr 0.01 validation"]


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


# --- one visual language ------------------------------------------------------

def test_each_run_is_drawn_in_its_batch_sizes_colour(runs):
    from matplotlib.colors import to_hex

    ax = helpers.plot_curves(runs[:2])
    assert [to_hex(line.get_color()).upper() for line in ax.lines] == \
        [batch_color(1)] * 2 + [batch_color(60)] * 2
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--", "-", "--"]


def test_side_by_side_draws_train_and_test_in_the_columns_colour(runs):
    from matplotlib.colors import to_hex

    fig = helpers.plot_side_by_side(runs[:2])
    for ax, size in zip(fig.axes[:2], (1, 60)):
        assert {to_hex(line.get_color()).upper() for line in ax.lines} == {batch_color(size)}


def test_spread_colours_each_group_by_its_batch_size_and_can_be_overridden(runs):
    from matplotlib.colors import to_hex

    ax = helpers.plot_spread({"b1": [runs[0], runs[2]], "b60": [runs[1]]})
    assert [to_hex(line.get_color()).upper() for line in ax.lines] == [batch_color(1), batch_color(60)]
    ax = helpers.plot_spread({"b1": [runs[0]], "b60": [runs[1]]}, colors=["k", "0.5"])
    assert [to_hex(line.get_color()) for line in ax.lines] == ["#000000", "#808080"]
    with pytest.raises(ValueError, match=r"colors must have one entry per run \(2\), got 1"):
        helpers.plot_spread({"b1": [runs[0]], "b60": [runs[1]]}, colors=["k"])
    with pytest.raises(ValueError, match=r"colors\[0\] must be a matplotlib colour, got 'nope'"):
        helpers.plot_curves(runs[0], colors=["nope"])


def test_spread_can_draw_train_and_validation_against_updates(runs):
    ax = helpers.plot_spread({"b1": [runs[0], runs[2]]}, train=True, x="update")
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), runs[0].updates)
    assert ax.get_ylabel() == "train (solid) and validation (dashed) accuracy"


def test_log_axes_say_so(runs):
    ax = helpers.plot_curves(runs[:2], x="update")
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "parameter updates (log scale)"


# --- loss axes next to diverged runs: one rule ---------------------------------

def test_loss_limits_rule(runs, diverged):
    assert helpers.plots.loss_limits(runs) is None
    finite = runs[0].history["loss"] + runs[0].history["val_loss"]
    assert helpers.plots.loss_limits([runs[0], diverged]) == pytest.approx((0, 1.1 * max(finite)))
    # Only a run that diverged in its first epoch: 2.5 times the loss of guessing, not 1e21.
    assert helpers.plots.loss_limits([diverged]) == pytest.approx((0, 2.5 * np.log(3)))


def test_a_run_that_diverged_at_epoch_1_is_visible_on_an_axis_of_all_its_epochs(diverged):
    ax = helpers.plot_curves(diverged)
    assert ax.get_xlim() == (0, 5)                      # 4 planned epochs, not 0.96 to 1.04
    assert all(line.get_marker() == "o" for line in ax.lines[:2])   # train and test: one point each
    assert ax.get_ylim() == pytest.approx((0, 2.5 * np.log(3)))
    assert any(t.get_text().startswith("← diverged at epoch 1") for t in ax.texts)


# --- the course's diagrams -----------------------------------------------------

def test_decision_regions_of_a_run(small_blobs, runs):
    ax = helpers.plot_decision_regions(runs[1], small_blobs)
    assert ax.get_title().startswith("batch 60, lr 0.01: validation accuracy")
    assert len(ax.collections) >= 1 + 2 * small_blobs.n_classes   # regions + train/validation points
    with pytest.raises(ValueError, match="must carry its trained model"):
        helpers.plot_decision_regions(helpers.TrainResult.from_dict(runs[1].to_dict()), small_blobs)
    with pytest.raises(ValueError, match="data must have 2 features to draw decision regions, got 64"):
        helpers.plot_decision_regions(runs[1], helpers.load_digits())


def test_epoch_split_shows_one_update_per_batch():
    ax = helpers.plot_epoch_split(500, [1, 32, 500])
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["500 batches of 1 → 500 updates",
                     "16 batches of … (15 of 32 and one of 20) → 16 updates",
                     "1 batch of 500 → 1 update"]
    assert [len(c.get_paths()) for c in ax.collections] == [500, 16, 1]
    with pytest.raises(ValueError, match=r"batch_sizes\[1\] must be an int in \[1, 500\], got 501"):
        helpers.plot_epoch_split(500, [1, 501])


def test_loss_paths_share_axes_and_levels():
    def loss(w):
        return np.sum(np.asarray(w) ** 2, axis=-1)

    paths = [np.array([[1.0, 1.0], [0.5, 0.4], [0.1, 0.0]]), np.array([[1.0, 1.0], [0.0, 0.0]])]
    fig = helpers.plot_loss_paths(loss, paths, batch_sizes=[1, 800], minimum=[0, 0])
    a, b = fig.axes
    assert a.get_xlim() == b.get_xlim() and a.get_title() == "batch 1: 2 updates"
    np.testing.assert_array_equal(a.lines[0].get_xydata(), paths[0])
    with pytest.raises(ValueError, match=r"paths must be a non-empty list of arrays of shape"):
        helpers.plot_loss_paths(loss, [np.zeros((3, 3))], batch_sizes=[1])


def test_step_costs_are_drawn_on_labelled_log_axes():
    from helpers.timing import StepCosts

    costs = StepCosts([1, 32, 800], {"model.fit": np.array([6e-4, 6e-4, 8e-4]),
                                     "helpers.train": np.array([2e-6, 2e-5, 1.2e-4])})
    step, rate = helpers.plot_step_costs(costs).axes
    assert step.get_yscale() == "log" and step.get_ylabel() == "microseconds per update (log scale)"
    np.testing.assert_allclose(step.lines[1].get_ydata(), [2, 20, 120])
    np.testing.assert_allclose(rate.lines[1].get_ydata(), [1 / 2e-6, 32 / 2e-5, 800 / 1.2e-4])
    assert rate.get_xlabel() == "batch size (log scale)"


def test_update_losses_start_at_epoch_0(blobs):
    from helpers.trace import loss_after_each_update

    trace = loss_after_each_update(blobs, batch_size=32, learning_rate=0.01)
    ax = helpers.plot_update_losses([trace])
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(26) / 25)
    assert ax.get_ylabel() == "loss on the whole training set"


# --- edges -----------------------------------------------------------------

def test_gradient_error_keeps_every_batch_size_when_the_largest_is_not_the_dataset():
    grads = np.random.default_rng(0).normal(size=(100, 3))
    error = helpers.minibatch_gradient_error(grads, [1, 4, 50], draws=20)
    ax = helpers.plot_gradient_error(error)
    measured = next(line for line in ax.lines if line.get_marker() == "o")
    np.testing.assert_array_equal(measured.get_xdata(), [1, 4, 50])
    expected = next(line for line in ax.lines if line.get_label().startswith("expected"))
    assert expected.get_ydata()[-1] > 0.5 * error.expected[-1]   # not bent to zero at 50


def test_steps_to_target_with_a_first_batch_size_that_never_reached_it():
    ax = helpers.plot_steps_to_target([1, 4, 16], [np.nan, 200, 60])
    perfect = ax.lines[0]
    assert perfect.get_ydata()[0] == pytest.approx(200 * 4 / 1)   # anchored at batch 4, not NaN
    assert any("never" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="steps must hold at least one finite count"):
        helpers.plot_steps_to_target([1, 4], [np.nan, np.nan])


def test_loss_limits_of_runs_that_all_diverged_show_their_climb(small_blobs):
    run = helpers.train(small_blobs, batch_size=60, epochs=100, learning_rate=1.5, momentum=0.9)
    assert run.diverged and run.diverged_at > 2
    before = run.history["loss"][:-1] + run.history["val_loss"][:-1]
    assert helpers.plots.loss_limits([run]) == pytest.approx((0, 1.1 * max(before)))


def test_plain_log_ticks_read_as_plain_numbers():
    fig, ax = plt.subplots()
    ax.loglog([4, 800], [2133, 22667])
    helpers.plain_log_ticks(ax)
    fig.canvas.draw()
    x_labels = {t.get_text() for t in ax.get_xticklabels() if t.get_text()}
    y_labels = [t.get_text() for t in ax.yaxis.get_ticklabels(minor=True) + ax.get_yticklabels()
                if t.get_text()]
    assert {"10", "100"} <= x_labels
    assert "10,000" in y_labels and "5,000" in y_labels        # inside one decade, 2 and 5 labelled
    assert not any("^" in label or "times" in label for label in [*x_labels, *y_labels])
    ax.set_ylim(1e-3, 1e3)                                      # six decades: powers of ten only
    fig.canvas.draw()
    assert not [t.get_text() for t in ax.yaxis.get_ticklabels(minor=True) if t.get_text()]
    assert "0.001" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)


def test_plot_panels_takes_a_shared_y_range(small_blobs):
    runs = {f"batch {b}": [helpers.train(small_blobs, batch_size=b, epochs=3, learning_rate=0.01)]
            for b in (4, 60)}
    fig = helpers.plot_panels(runs, metric="loss", ylim=(0.3, 0.7))
    assert all(ax.get_ylim() == (0.3, 0.7) for ax in fig.axes if ax.get_visible())
    plt.close(fig)
    for bad in ((0.7, 0.3), (0.3,), "0.3,0.7", (0.3, float("nan"))):
        with pytest.raises((TypeError, ValueError), match="ylim"):
            helpers.plot_panels(runs, metric="loss", ylim=bad)


@pytest.mark.parametrize("fmt", ["%.2f", "{:.2f}", ".2f"])
def test_heatmap_cells_take_either_format_style(runs, fmt):
    grid = helpers.SweepResult(runs=runs[:2], cached=[False, False], seconds=0.0)
    ax = helpers.plot_heatmap(grid, "val_accuracy", fmt=fmt)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(f"{r.final('val_accuracy'):.2f}" for r in runs[:2])


def test_steps_to_target_draws_the_seed_spread_and_names_every_line():
    ax = helpers.plot_steps_to_target([4, 16, 64], [400, 120, 60], s_min=40, b_crit=30, b_simple=50,
                                      spread=([350, 100, 55], [450, 150, 70]))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("B_{crit}$ = 30" in label for label in labels)        # the B_crit line is in the legend
    assert any("lowest to the highest" in label for label in labels)
    assert ax.containers and ax.get_ylim()[0] < 55 and ax.get_ylim()[1] > 450
    assert ax.get_legend().get_bbox_to_anchor().y0 < ax.get_window_extent().y0   # below the axes
    with pytest.raises(ValueError, match="spread must be"):
        helpers.plot_steps_to_target([4, 16], [400, 120], spread=([450, 100], [500, 150]))


def test_rate_search_shows_each_rate_its_band_and_its_diverged_seeds(small_blobs):
    search = helpers.sweep(small_blobs, batch_sizes=[60], learning_rates=[0.01, 0.1, 0.5, 50.0], seeds=[0, 1],
                           epochs=5, cache_dir=None, progress=False)
    own = search.own_rates()[60]
    ax = helpers.plot_rate_search(search)
    line = ax.lines[0]
    assert list(line.get_xdata()) == [0.01, 0.1, 0.5]            # every rate with a seed that trained
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.1", "0.5", "50"]
    band, = ax.patches                                          # the band, shaded around its rates
    low, high = band.get_x(), band.get_x() + band.get_width()
    assert low < min(own.band) and max(own.band) < high
    assert any(t.get_text() == "2 of 2 diverged" for t in ax.texts)
    labels = ax.get_legend_handles_labels()[1]
    assert f"own learning rate: {own.rate:g}" in labels
    assert ax.get_ylabel() == "final validation loss"
    with pytest.raises(TypeError, match="search must be a SweepResult"):
        helpers.plot_rate_search([search])
    with pytest.raises(ValueError, match="batch_size must be one of"):
        helpers.plot_rate_search(search, batch_size=7)


def test_heatmap_darker_is_better_and_a_fitted_range_tells_good_cells_apart(small_blobs):
    result = helpers.sweep(small_blobs, batch_sizes=[10], learning_rates=[0.001, 0.3], seeds=[0],
                           epochs=5, cache_dir=None, progress=False)
    for value, better in (("val_accuracy", np.nanargmax), ("val_loss", np.nanargmin)):
        ax = helpers.plot_heatmap(result, value)
        image = ax.images[0]
        table, _, _ = result.grid(value)
        assert np.ptp(table) > 0.05, table                           # two cells to tell apart
        shade = [sum(image.cmap(image.norm(v))[:3]) for v in table[0]]
        assert np.argmin(shade) == better(table[0]), value          # the better cell is the darker one
        assert "darker = better" in image.colorbar.ax.get_ylabel()
    acc, _, _ = result.grid("val_accuracy")
    low = float(acc.min() + 0.5 * np.ptp(acc))
    ax = helpers.plot_heatmap(result, "val_accuracy", vmin=low)
    assert ax.images[0].norm.vmin == low and ax.images[0].colorbar.extend == "min"
    with pytest.raises(ValueError, match=r"vmin must be below vmax, got vmin=0\.9, vmax=0\.5"):
        helpers.plot_heatmap(result, "val_accuracy", vmin=0.9, vmax=0.5)
