"""Plots of training results.

Every function takes results (from :func:`helpers.train`), draws, and returns
the matplotlib Axes or Figure; none trains and none changes global styles.
Runs that are compared share their axes, so equal heights mean equal values.
"""

import numpy as np

from ._checks import check_bool, check_choice, check_float, check_int, check_str
from .data import Dataset
from .training import TrainResult

__all__ = ["plot_dataset", "plot_curves", "plot_learning_curves", "plot_side_by_side", "plot_spread",
           "plot_panels", "plot_batch_loss", "x_values", "METRIC_LABELS",
           "plot_heatmap", "plot_gradient_error", "plot_steps_to_target"]

X_AXES = ("epoch", "update", "second")
METRIC_LABELS = {"loss": "loss (cross-entropy)", "accuracy": "accuracy"}
X_LABELS = {"epoch": "epoch", "update": "parameter updates", "second": "wall-clock seconds"}


def _results(results):
    if isinstance(results, TrainResult):
        return [results]
    results = list(results)
    if not results or not all(isinstance(r, TrainResult) for r in results):
        raise TypeError(f"results must be a TrainResult or a non-empty list of them, "
                        f"got {results!r}")
    return results


def _labels(results, labels):
    if labels is None:
        return [r.label for r in results]
    labels = list(labels)
    if len(labels) != len(results):
        raise ValueError(f"labels must have one entry per result ({len(results)}), "
                         f"got {len(labels)}")
    return labels


def _new_axes(ax, ncols=1, nrows=1, **kwargs):
    from matplotlib.axes import Axes

    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None, got {ax!r}")
        return ax.figure, ax
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, constrained_layout=True, **kwargs)


def x_values(result, x="epoch"):
    """Positions of the epoch ends of ``result`` on the chosen x-axis.

    ``"epoch"`` counts epochs (1, 2, ...), ``"update"`` counts parameter updates
    and ``"second"`` counts wall-clock seconds of training.
    """
    check_choice("x", x, X_AXES)
    if x == "epoch":
        return np.arange(1, result.epochs_run + 1)
    if x == "update":
        return result.updates
    return np.cumsum(result.epoch_seconds)


def plot_dataset(data, *, ax=None):
    """Scatter a 2-D dataset: training points filled, test points hollow.

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a helpers Dataset (from load_blobs or load_digits), "
                        f"got {type(data).__name__}")
    if data.n_features != 2:
        raise ValueError(f"data must have 2 features to be drawn, got {data.n_features}")
    _, ax = _new_axes(ax)
    for k in range(data.n_classes):
        color = f"C{k % 10}"
        train = data.x_train[data.y_train == k]
        test = data.x_test[data.y_test == k]
        ax.scatter(train[:, 0], train[:, 1], s=10, color=color, alpha=0.6, label=f"class {k} (train)")
        ax.scatter(test[:, 0], test[:, 1], s=14, facecolors="none", edgecolors=color,
                   label=f"class {k} (test)")
    ax.set_title(data.name)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=7, ncols=2)
    return ax


def _metric_key(metric):
    return check_choice("metric", metric, tuple(METRIC_LABELS))


def _loss_ceiling(results):
    """Top of a loss axis shared with a diverged run, or None when none diverged.

    A diverged run's last loss can be 1e30; left to autoscale, the axis would
    flatten every other curve onto zero.
    """
    finite = [v for r in results if not r.diverged for v in r.history["loss"] + r.history["val_loss"]]
    return 1.1 * max(finite) if finite and any(r.diverged for r in results) else None


def plot_curves(results, *, metric="loss", x="epoch", labels=None, test=True, train=True, ax=None):
    """Draw train (solid) and test (dashed) curves of one metric for several runs.

    Parameters
    ----------
    results : TrainResult or list of TrainResult
    metric : {"loss", "accuracy"}
    x : {"epoch", "update", "second"}
        What the x-axis counts.
    labels : list of str, optional
        Legend entries; default ``result.label``.
    test : bool, default True
        Draw the test curve (``val_*``, dashed).
    train : bool, default True
        Draw the training curve (solid).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    TypeError, ValueError
        On a bad argument, or if ``train`` and ``test`` are both False.

    Examples
    --------
    >>> from helpers import load_blobs, train
    >>> result = train(load_blobs(), batch_size=32, epochs=5, learning_rate=0.01)
    >>> ax = plot_curves(result, metric="accuracy", x="update")
    >>> ax.get_xlabel(), [line.get_label() for line in ax.lines]
    ('parameter updates', ['batch 32, lr 0.01 train', 'batch 32, lr 0.01 test'])
    """
    results = _results(results)
    labels = _labels(results, labels)
    _metric_key(metric)
    check_choice("x", x, X_AXES)
    check_bool("test", test)
    check_bool("train", train)
    if not (train or test):
        raise ValueError("train and test must not both be False: the plot would be empty")
    _, ax = _new_axes(ax)
    for i, (result, label) in enumerate(zip(results, labels)):
        color = f"C{i % 10}"
        xs = x_values(result, x)
        if train:
            ax.plot(xs, result.history[metric], color=color, lw=1.3, label=f"{label} train")
        if test:
            ax.plot(xs, result.history["val_" + metric], color=color, lw=1.3, ls="--",
                    label=f"{label} test")
        if result.diverged:
            ax.axvline(xs[-1], color=color, lw=1, ls=":")
            ax.annotate(f"diverged at epoch {result.diverged_at}", (xs[-1], 0.5),
                        xycoords=("data", "axes fraction"), rotation=90, color=color,
                        ha="right", va="center", fontsize=8)
    if metric == "loss" and (top := _loss_ceiling(results)) is not None:
        ax.set_ylim(0, top)
    if x in ("update", "second") and len(results) > 1:
        spans = [x_values(r, x)[-1] / x_values(r, x)[0] for r in results]
        if max(spans) > 50:
            ax.set_xscale("log")
    ax.set_xlabel(X_LABELS[x])
    ax.set_ylabel(METRIC_LABELS[metric])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_learning_curves(results, *, x="epoch", labels=None, title=None):
    """Loss and accuracy side by side for one or more runs, overlaid.

    Returns
    -------
    matplotlib Figure
        With two Axes: loss (left) and accuracy (right).
    """
    results = _results(results)
    check_str("title", title, optional=True)
    fig, (ax_loss, ax_acc) = _new_axes(None, ncols=2, figsize=(11, 4))
    plot_curves(results, metric="loss", x=x, labels=labels, ax=ax_loss)
    plot_curves(results, metric="accuracy", x=x, labels=labels, ax=ax_acc)
    if title:
        fig.suptitle(title)
    return fig


def plot_side_by_side(results, *, x="epoch", labels=None, title=None):
    """One column per run, loss on top and accuracy below, on shared axes.

    Each row shares its y-axis and the x-axes are shared too, so the columns
    compare at a glance (the source tutorial's readers were misled by panels
    that each had their own scale).

    Returns
    -------
    matplotlib Figure
        A diverged run's column is titled with the epoch it diverged at, and
        the loss row is clamped to the runs that did not diverge.
    """
    results = _results(results)
    labels = _labels(results, labels)
    check_choice("x", x, X_AXES)
    check_str("title", title, optional=True)
    n = len(results)
    fig, axes = _new_axes(None, ncols=n, nrows=2, figsize=(3.7 * n, 6), sharex=True,
                          sharey="row", squeeze=False)
    for col, (result, label) in enumerate(zip(results, labels)):
        for row, metric in enumerate(("loss", "accuracy")):
            ax = axes[row, col]
            xs = x_values(result, x)
            ax.plot(xs, result.history[metric], color=f"C{col}", lw=1.2, label="train")
            ax.plot(xs, result.history["val_" + metric], color="k", lw=1.0, ls="--",
                    label="test", alpha=0.8)
            if result.diverged:
                ax.axvline(xs[-1], color="r", ls=":", lw=1)
            ax.grid(alpha=0.3)
            if row == 0 and result.diverged:
                ax.set_title(f"{label}\ndiverged at epoch {result.diverged_at}", color="r")
            elif row == 0:
                ax.set_title(label)
            if col == 0:
                ax.set_ylabel(METRIC_LABELS[metric])
            if row == 1:
                ax.set_xlabel(X_LABELS[x])
    if (top := _loss_ceiling(results)) is not None:
        axes[0, 0].set_ylim(0, top)     # the row shares its y-axis
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _groups(groups):
    if not isinstance(groups, dict) or not groups:
        raise TypeError(f"groups must be a non-empty dict of label -> list of results, got {groups!r}")
    return {label: _results(runs) for label, runs in groups.items()}


def _seed_curves(label, runs, key):
    """The runs that did not diverge, one row per seed, and how many did diverge.

    A diverged run stops early and its last values are meaningless, so it
    is counted and left out of the mean and band; the other seeds keep all
    their epochs.

    Returns
    -------
    values : ndarray of shape (n_kept, epochs), or None if every seed diverged
    diverged : int
    """
    kept = [r for r in runs if not r.diverged]
    lengths = [r.epochs_run for r in kept]
    if len(set(lengths)) > 1:
        raise ValueError(f"groups[{label!r}] must hold runs of the same number of epochs, "
                         f"got {lengths}")
    return (np.array([r.history[key] for r in kept]) if kept else None), len(runs) - len(kept)


def _diverged_text(diverged, n):
    if diverged == n:
        return f"all {n} seeds diverged" if n > 1 else "its 1 seed diverged"
    return f"{diverged} of {n} seeds diverged" if diverged else ""


def plot_spread(groups, *, metric="accuracy", test=True, band="range", ax=None):
    """Mean curve and band over repeated runs (seeds) of each configuration.

    Parameters
    ----------
    groups : dict of str -> list of TrainResult
        Label -> the runs of one configuration with different seeds.
    metric : {"loss", "accuracy"}
    test : bool, default True
        Plot the test curve (``val_*``) if True, else the training curve.
    band : {"range", "std"}
        Shade between the lowest and highest run, or mean +- one standard deviation.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Seeds that diverged are left out of the mean and band; the legend
        entry says "k of n seeds diverged".

    Raises
    ------
    TypeError, ValueError
        On a bad argument, or if the runs of one group that did not diverge
        ran different numbers of epochs (they cannot be averaged epoch by epoch).
    """
    _metric_key(metric)
    check_bool("test", test)
    check_choice("band", band, ("range", "std"))
    groups = _groups(groups)
    key = ("val_" if test else "") + metric
    _, ax = _new_axes(ax)
    for i, (label, runs) in enumerate(groups.items()):
        values, diverged = _seed_curves(label, runs, key)
        color = f"C{i % 10}"
        note = _diverged_text(diverged, len(runs))
        if values is None:
            ax.plot([], [], color=color, lw=1.5, label=f"{label} ({note})")
            continue
        xs = np.arange(1, values.shape[1] + 1)
        mean = values.mean(axis=0)
        if band == "range":
            low, high = values.min(axis=0), values.max(axis=0)
        else:
            std = values.std(axis=0)
            low, high = mean - std, mean + std
        mean_of = f"mean of {len(values)}" + (f"; {note}" if note else "")
        ax.plot(xs, mean, color=color, lw=1.5, label=f"{label} ({mean_of})")
        ax.fill_between(xs, low, high, color=color, alpha=0.2, lw=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel(("test " if test else "train ") + METRIC_LABELS[metric])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_panels(groups, *, metric="accuracy", ncols=4, title=None):
    """One panel per configuration, train and test mean with a min-max band over seeds.

    All panels share both axes: the point of a grid is to compare them.

    Parameters
    ----------
    groups : dict of str -> list of TrainResult
        Panel title -> the runs (seeds) of that configuration.
    metric : {"loss", "accuracy"}
    ncols : int, default 4
    title : str, optional

    Returns
    -------
    matplotlib Figure
        A panel with diverged seeds says "k of n seeds diverged" in red under
        its title; its curves are the mean and range of the other seeds.

    Raises
    ------
    TypeError, ValueError
        On a bad argument, or if the runs of one panel that did not diverge
        ran different numbers of epochs.
    """
    _metric_key(metric)
    ncols = check_int("ncols", ncols, low=1)
    check_str("title", title, optional=True)
    groups = _groups(groups)
    n = len(groups)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = _new_axes(None, ncols=ncols, nrows=nrows, figsize=(3.2 * ncols, 2.6 * nrows),
                          sharex=True, sharey=True, squeeze=False)
    for ax, (panel, runs) in zip(axes.flat, groups.items()):
        for key, color, style in ((metric, "C0", "-"), ("val_" + metric, "C1", "--")):
            values, diverged = _seed_curves(panel, runs, key)
            if values is None:
                continue
            xs = np.arange(1, values.shape[1] + 1)
            ax.plot(xs, values.mean(axis=0), color=color, ls=style, lw=1.2,
                    label="train" if key == metric else "test")
            ax.fill_between(xs, values.min(axis=0), values.max(axis=0), color=color,
                            alpha=0.2, lw=0)
        note = _diverged_text(diverged, len(runs))
        if note:
            ax.set_title(f"{panel}\n{note}", fontsize=10, color="r")
        else:
            ax.set_title(panel, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel(METRIC_LABELS[metric])
    # The first panel whose seeds all diverged has no curves to name.
    next((ax for ax in axes.flat if ax.lines), axes.flat[0]).legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_batch_loss(results, *, labels=None, epochs=None, ax=None):
    """The loss of every update's own batch, on an x-axis of epochs.

    The per-epoch average hides how much a batch-1 update jumps around; this
    plot shows it.

    Parameters
    ----------
    results : TrainResult or list of TrainResult
    labels : list of str, optional
    epochs : int, optional
        Show only the first ``epochs`` epochs (at least 1); default all.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    results = _results(results)
    labels = _labels(results, labels)
    if epochs is not None:
        epochs = check_int("epochs", epochs, low=1)
    _, ax = _new_axes(ax)
    for i, (result, label) in enumerate(zip(results, labels)):
        # Each update sits at the fraction of the epoch it ends.
        ends = np.concatenate([[0], result.updates])
        positions = np.concatenate([
            epoch + np.arange(1, count + 1) / count
            for epoch, count in enumerate(np.diff(ends))])
        keep = positions <= epochs if epochs is not None else slice(None)
        ax.plot(positions[keep], result.batch_loss[keep], color=f"C{i % 10}", lw=0.6,
                alpha=0.8, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss of each update's batch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


HEATMAP_LABELS = {"val_accuracy": "test accuracy", "val_loss": "test loss",
                  "accuracy": "train accuracy", "loss": "train loss",
                  "seconds": "training seconds per run", "updates": "parameter updates"}
AXIS_NAMES = {"batch_size": "batch size", "learning_rate": "learning rate", "seed": "seed",
              "epochs": "epochs"}


def _cell_text(value, fmt):
    return "" if not np.isfinite(value) else fmt.format(value)


def plot_heatmap(result, value="val_accuracy", *, rows="batch_size", cols="learning_rate",
                 agg="mean", best=None, log=False, fmt=None, ax=None):
    """A grid of a sweep: one cell per (row, column), coloured and labelled by ``value``.

    Parameters
    ----------
    result : SweepResult
        From :func:`helpers.sweep`.
    value : str
        What each cell shows (aggregated over seeds): ``"val_accuracy"``,
        ``"val_loss"``, ``"accuracy"``, ``"loss"``, ``"seconds"``, ``"updates"``.
    rows, cols : str
        Configuration columns on the y- and x-axis.
    agg : {"mean", "median", "min", "max"}
    best : {"max", "min"} or None
        Outline, in each row, the cell with the highest (lowest) value.
    log : bool, default False
        Logarithmic colours, for values spanning orders of magnitude (seconds, updates).
    fmt : str, optional
        Format of the cell labels; default 3 decimals, or 3 significant digits with ``log``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Cells where every seed diverged are grey and say "diverged"; a ``*``
        marks cells where some seeds diverged, whose value is the ``agg`` of
        the others.

    Examples
    --------
    >>> ax = plot_heatmap(grid, "val_accuracy", best="max")     # doctest: +SKIP
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    from .sweep import SweepResult

    if not isinstance(result, SweepResult):
        raise TypeError(f"result must be a SweepResult (from helpers.sweep), got {type(result).__name__}")
    if best is not None:
        check_choice("best", best, ("max", "min"))
    check_choice("value", value, tuple(HEATMAP_LABELS))
    check_choice("rows", rows, tuple(AXIS_NAMES))
    check_choice("cols", cols, tuple(AXIS_NAMES))
    check_bool("log", log)
    check_str("fmt", fmt, optional=True)
    # Cells show the seeds that did not diverge (a diverged run's last loss can
    # be astronomical); the best cell is judged on every seed, as SweepResult.best does.
    table, row_values, col_values = result.grid(value, rows=rows, cols=cols, agg=agg)
    shown, _, _ = result.grid(value, rows=rows, cols=cols, agg=agg, skip_diverged=True)
    diverged, _, _ = result.grid("diverged", rows=rows, cols=cols, agg="mean")
    fmt = fmt or ("{:.3g}" if log else "{:.3f}")
    _, ax = _new_axes(ax)
    norm = LogNorm() if log else None
    cmap = colormaps["viridis"].with_extremes(bad="0.85")
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto")
    ax.figure.colorbar(image, ax=ax, label=HEATMAP_LABELS[value])
    finite = shown[np.isfinite(shown)]
    middle = np.sqrt(finite.min() * finite.max()) if log and finite.size else \
        (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(len(row_values)):
        for j in range(len(col_values)):
            if diverged[i, j] >= 1:
                text, color = "diverged", "0.3"
            else:
                text = _cell_text(shown[i, j], fmt) + ("*" if diverged[i, j] > 0 else "")
                color = "white" if shown[i, j] < middle else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
        if best is not None and np.isfinite(table[i]).any():
            j = int(np.nanargmax(table[i]) if best == "max" else np.nanargmin(table[i]))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
    ax.set_xticks(range(len(col_values)), [f"{v:g}" for v in col_values])
    ax.set_yticks(range(len(row_values)), [f"{v:g}" for v in row_values])
    ax.set_xlabel(AXIS_NAMES[cols])
    ax.set_ylabel(AXIS_NAMES[rows])
    title = f"{HEATMAP_LABELS[value]} ({agg} over seeds)"
    if best is not None:
        title += f"; red: {'highest' if best == 'max' else 'lowest'} in each row"
    ax.set_title(title, fontsize=10)
    return ax


def plot_gradient_error(error, *, ax=None):
    """Mini-batch gradient error against batch size, measured and expected, log-log.

    Parameters
    ----------
    error : GradientError
        From :func:`helpers.minibatch_gradient_error`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Dots: measured root-mean-square error. Solid: the expected error when
        a batch holds distinct examples. Dashed: the plain ``1/sqrt(B)`` law.
        Dotted: the size of the gradient itself; the ``1/sqrt(B)`` line
        crosses it at ``B_simple``.
    """
    from .gradients import GradientError

    if not isinstance(error, GradientError):
        raise TypeError(f"error must be a GradientError (from minibatch_gradient_error), "
                        f"got {type(error).__name__}")
    _, ax = _new_axes(ax)
    b = error.batch_sizes
    inside = b < b.max()    # the full batch has no error, which a log axis cannot show
    fine = np.geomspace(b.min(), b.max(), 200)
    n = b.max()
    scale = error.expected_with_replacement[0] * np.sqrt(b[0])
    ax.plot(fine, scale / np.sqrt(fine), "C0--", lw=1.2, label=r"$\propto 1/\sqrt{B}$")
    ax.plot(fine[fine < n], (scale / np.sqrt(fine) * np.sqrt(1 - fine / n))[fine < n], "C0-",
            lw=1.5, label=r"expected, distinct examples: $\times\sqrt{1 - B/n}$")
    ax.plot(b[inside], error.measured[inside], "o", color="C3",
            label=f"measured ({error.draws} batches each)")
    ax.axhline(error.gradient_norm, color="k", ls=":", lw=1.2, label="size of the full gradient |G|")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_ylabel(r"error of the batch gradient $|g_B - G|$")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def plot_steps_to_target(batch_sizes, steps, *, s_min=None, b_crit=None, b_simple=None, ax=None):
    """Updates needed to reach a target against batch size, log-log.

    Parameters
    ----------
    batch_sizes, steps : sequences of numbers
        Measured points, e.g. from :meth:`SweepResult.steps_to_target`.
    s_min, b_crit : float, optional
        A fit ``steps = s_min * (1 + b_crit / B)`` to draw, with ``b_crit`` marked.
    b_simple : float, optional
        The measured gradient noise scale, marked for comparison.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    b = np.asarray(batch_sizes, dtype=float)
    s = np.asarray(steps, dtype=float)
    if b.shape != s.shape or b.ndim != 1 or not len(b):
        raise ValueError(f"batch_sizes and steps must be 1-D of the same length, "
                         f"got shapes {b.shape} and {s.shape}")
    # Both axes are logarithmic.
    if not np.all(b > 0):
        raise ValueError(f"batch_sizes must all be > 0, got {list(batch_sizes)!r}")
    if np.any(s <= 0):      # NaN (never reached) is left out of the plot, as matplotlib does
        raise ValueError(f"steps must all be > 0, got {list(steps)!r}")
    for name, value in (("s_min", s_min), ("b_crit", b_crit), ("b_simple", b_simple)):
        if value is not None:
            check_float(name, value, low=0.0, low_open=True)
    _, ax = _new_axes(ax)
    fine = np.geomspace(b.min(), b.max(), 200)
    ax.plot(fine, s[0] * b[0] / fine, color="0.6", ls="--", lw=1.2,
            label="perfect scaling: twice the batch, half the updates")
    ax.plot(b, s, "o", color="C3", label="measured (best learning rate of each batch size)")
    if s_min is not None and b_crit is not None:
        ax.plot(fine, s_min * (1 + b_crit / fine), "C0-", lw=1.5,
                label=rf"fit $S_{{min}}(1 + B_{{crit}}/B)$, $B_{{crit}}$ = {b_crit:.0f}")
        ax.axvline(b_crit, color="C0", ls=":", lw=1.2)
    if b_simple is not None:
        ax.axvline(b_simple, color="C2", ls="-.", lw=1.2, label=f"$B_{{simple}}$ = {b_simple:.0f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("updates to reach the target")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax
