"""Figures of sweeps and gradients: grids, learning-rate searches, the gradient's error, steps to a target."""

import numpy as np

from ._checks import check_bool, check_choice, check_float, check_numbers, check_str
from .gradients import GradientError
from .plots import LOG, new_axes, plain_log_ticks, plain_number
from .style import batch_color
from .sweep import SweepResult

__all__ = ["plot_heatmap", "plot_gradient_error", "plot_steps_to_target", "plot_rate_search"]


HEATMAP_LABELS = {"val_accuracy": "validation accuracy", "val_loss": "validation loss",
                  "accuracy": "train accuracy", "loss": "train loss",
                  "seconds": "seconds per run (training and validation passes)", "updates": "parameter updates"}
AXIS_NAMES = {"batch_size": "batch size", "learning_rate": "learning rate", "seed": "seed", "epochs": "epochs"}


def _cell_format(fmt):
    """A function of a number from ``fmt`` (``"{:.2f}"``, ``"%.2f"`` or ``".2f"``); refuses a
    format that fails on a number or writes the same text for every number."""
    styles = [fmt.format] if "{" in fmt else [lambda v: fmt % v, lambda v: format(v, fmt)]
    problem = None
    for write in styles:
        try:
            samples = {write(v) for v in (0.125, 0.5, 123.0)}
        except (TypeError, ValueError, KeyError, IndexError) as error:
            problem = problem or f" ({error})"
            continue
        if len(samples) > 1:
            return write
        problem = f", which writes {samples.pop()!r} for every number"
    raise ValueError(f"fmt must format one number, like '{{:.2f}}', '%.2f' or '.2f', got {fmt!r}{problem}")


def plot_heatmap(result, value="val_accuracy", *, rows="batch_size", cols="learning_rate",
                 agg="mean", best=None, log=False, fmt=None, vmin=None, vmax=None, ax=None):
    """A grid of a sweep: one cell per (row, column), coloured and labelled by ``value``.

    ``value`` (``"val_accuracy"``, ``"val_loss"``, ``"accuracy"``, ``"loss"``, ``"seconds"`` or ``"updates"``) is
    aggregated over seeds by ``agg`` ("mean", "median", "min", "max"); ``rows`` and ``cols`` name the configuration on
    each axis. ``best`` ("max" or "min") outlines each row's best cell; ``log`` makes the colours logarithmic; ``fmt``
    formats the labels (``"{:.2f}"``, ``"%.2f"`` or ``".2f"``); ``vmin`` and ``vmax`` fix the colours' range. Darker is
    better in every heatmap. Cells where every seed diverged are grey and say "diverged"; a ``*`` marks cells where some
    did, whose value is the ``agg`` of the others.

    Examples
    --------
    >>> ax = plot_heatmap(grid, "val_accuracy", best="max")     # doctest: +SKIP
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.patches import Rectangle
    if not isinstance(result, SweepResult):
        raise TypeError(f"result must be a SweepResult (from helpers.sweep), got {type(result).__name__}")
    if best is not None:
        check_choice("best", best, ("max", "min"))
    check_choice("value", value, tuple(HEATMAP_LABELS))
    check_choice("rows", rows, tuple(AXIS_NAMES))
    check_choice("cols", cols, tuple(AXIS_NAMES))
    check_bool("log", log)
    check_str("fmt", fmt, optional=True)
    fmt = _cell_format(fmt or ("{:.3g}" if log else "{:.3f}"))   # a bad format fails before anything is drawn
    # Cells show the seeds that did not diverge (a diverged run's last loss can be astronomical);
    # the outlined best cell is judged on every seed.
    table, row_values, col_values = result.grid(value, rows=rows, cols=cols, agg=agg)
    shown, _, _ = result.grid(value, rows=rows, cols=cols, agg=agg, skip_diverged=True)
    diverged, _, _ = result.grid("diverged", rows=rows, cols=cols, agg="mean")
    vmin = None if vmin is None else check_float("vmin", vmin)
    vmax = None if vmax is None else check_float("vmax", vmax)
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ValueError(f"vmin must be below vmax, got vmin={vmin!r}, vmax={vmax!r}")
    _, ax = new_axes(ax)
    norm = LogNorm(vmin, vmax) if log else Normalize(vmin, vmax)
    # Darker is better everywhere: viridis is dark at its low end, so accuracy takes it reversed.
    cmap = colormaps["viridis_r" if value.endswith("accuracy") else "viridis"].with_extremes(bad="0.85")
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto")
    finite = shown[np.isfinite(shown)]
    below = vmin is not None and finite.size and finite.min() < vmin
    above = vmax is not None and finite.size and finite.max() > vmax
    extend = ("neither", "min", "max", "both")[bool(below) + 2 * bool(above)]
    better = "better" if value in ("val_accuracy", "val_loss", "accuracy", "loss") else "fewer"
    ax.figure.colorbar(image, ax=ax, label=f"{HEATMAP_LABELS[value]} (darker = {better})", extend=extend)
    for i in range(len(row_values)):
        for j in range(len(col_values)):
            if diverged[i, j] >= 1:
                text, color = "diverged", "0.3"
            else:
                text = (fmt(shown[i, j]) if np.isfinite(shown[i, j]) else "") + ("*" if diverged[i, j] > 0 else "")
                r, g, b, _ = cmap(norm(shown[i, j])) if np.isfinite(shown[i, j]) else (1, 1, 1, 1)
                color = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
        if best is not None and np.isfinite(table[i]).any():
            j = int(np.nanargmax(table[i]) if best == "max" else np.nanargmin(table[i]))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
    ax.set_xticks(range(len(col_values)), [f"{v:g}" for v in col_values])
    ax.set_yticks(range(len(row_values)), [f"{v:g}" for v in row_values])
    ax.set(xlabel=AXIS_NAMES[cols], ylabel=AXIS_NAMES[rows])
    title = f"{HEATMAP_LABELS[value]} ({agg} over seeds)"
    if best is not None:
        title += f"; red: {'highest' if best == 'max' else 'lowest'} in each row"
    ax.set_title(title, fontsize=10)
    return ax


def plot_gradient_error(error, *, ax=None):
    """Mini-batch gradient error against batch size, log-log, from :func:`helpers.minibatch_gradient_error`.

    Dots: the measured error; solid: the expected error with distinct examples in a batch;
    dashed: the plain ``1/sqrt(B)`` law; dotted: the size of the full gradient.
    """
    if not isinstance(error, GradientError):
        raise TypeError(f"error must be a GradientError (from minibatch_gradient_error), "
                        f"got {type(error).__name__}")
    _, ax = new_axes(ax)
    b = error.batch_sizes
    n = error.n_examples
    inside = b < n    # the full batch has no error, which a log axis cannot show
    fine = np.geomspace(b.min(), b.max(), 200)
    scale = error.expected_with_replacement[0] * np.sqrt(b[0])
    ax.plot(fine, scale / np.sqrt(fine), "C0--", lw=1.2, label=r"$\propto 1/\sqrt{B}$")
    ax.plot(fine[fine < n], (scale / np.sqrt(fine) * np.sqrt(1 - fine / n))[fine < n], "C0-",
            lw=1.5, label=r"expected, distinct examples: $\times\sqrt{1 - B/n}$")
    ax.plot(b[inside], error.measured[inside], "o", color="C3", label=f"measured ({error.draws} batches each)")
    ax.axhline(error.gradient_norm, color="k", ls=":", lw=1.2, label="size of the full gradient |G|")
    ax.set(xscale="log", yscale="log")
    plain_log_ticks(ax)
    ax.set(xlabel="batch size B" + LOG, ylabel=r"error of the batch gradient $|g_B - G|$" + LOG)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def plot_steps_to_target(batch_sizes, steps, *, s_min=None, b_crit=None, b_simple=None, spread=None, ax=None):
    """Updates needed to reach a target against batch size, log-log.

    A NaN in ``steps`` (never reached) is noted, not drawn. ``s_min`` and ``b_crit`` draw the fit
    ``steps = s_min * (1 + b_crit / B)``, ``b_simple`` marks the gradient noise scale, and
    ``spread`` (low, high) gives each point's error bar, e.g. the seeds' range.
    """
    b = check_numbers("batch_sizes", batch_sizes)
    s = check_numbers("steps", steps)
    if b.shape != s.shape or not len(b):
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
    reached = np.isfinite(s)
    if not reached.any():
        raise ValueError(f"steps must hold at least one finite count (NaN: never reached), got {list(steps)!r}")
    if spread is not None:
        bars = np.asarray(spread, dtype=float)
        if bars.shape != (2, len(s)) or np.any(bars[0][reached] > s[reached]) or np.any(bars[1][reached] < s[reached]):
            raise ValueError(f"spread must be (low, high) sequences around steps, each as long as "
                             f"steps, got {spread!r}")
    _, ax = new_axes(ax)
    fine = np.geomspace(b.min(), b.max(), 200)
    # Perfect scaling from the smallest batch size that reached the target.
    first = int(np.argmax(reached))
    ax.plot(fine, s[first] * b[first] / fine, color="0.6", ls="--", lw=1.2,
            label="perfect scaling: twice the batch, half the updates")
    if spread is None:
        ax.plot(b[reached], s[reached], "o", color="C3", label="measured (best learning rate of each batch size)")
    else:
        ax.errorbar(b[reached], s[reached], yerr=[s[reached] - bars[0][reached], bars[1][reached] - s[reached]],
                    fmt="o", color="C3", capsize=3,
                    label="measured: mean over seeds, bars from the lowest to the highest")
        ax.set_ylim(0.7 * bars[0][reached].min(), 1.4 * bars[1][reached].max())
    for size in b[~reached]:
        ax.annotate("never\nreached", (size, 0.03), xycoords=("data", "axes fraction"),
                    ha="center", fontsize=7, color="0.4")
    if s_min is not None and b_crit is not None:
        ax.plot(fine, s_min * (1 + b_crit / fine), "C0-", lw=1.5, label=r"fit $S_{min}(1 + B_{crit}/B)$")
        ax.axvline(b_crit, color="C0", ls=":", lw=1.2,
                   label=rf"critical batch size $B_{{crit}}$ = {b_crit:.0f} (from the fit)")
    if b_simple is not None:
        ax.axvline(b_simple, color="C2", ls="-.", lw=1.2,
                   label=rf"gradient noise scale $B_{{simple}}$ = {b_simple:.0f}")
    ax.set(xscale="log", yscale="log")
    plain_log_ticks(ax)
    ax.set(xlabel="batch size B" + LOG, ylabel="updates to reach the target" + LOG)
    ax.grid(alpha=0.3, which="both")
    # Below the axes: the data run corner to corner, so no corner inside is free.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.2), frameon=False)
    return ax


def plot_rate_search(search, batch_size=None, *, ax=None):
    """A learning-rate search at one batch size (default the search's only one).

    Each rate shows the mean final validation loss of its seeds, ± one standard deviation;
    diverged seeds are left out and counted in a note. The shaded band and the star are
    :meth:`SweepResult.own_rates`'s band of good rates and own rate.
    """
    if not isinstance(search, SweepResult):
        raise TypeError(f"search must be a SweepResult (from helpers.sweep), got {search!r}")
    sizes = search.values("batch_size")
    if batch_size is None:
        if len(sizes) != 1:
            raise ValueError(f"batch_size must be given for a search over several batch sizes, {sizes}")
        batch_size = sizes[0]
    if batch_size not in sizes:
        raise ValueError(f"batch_size must be one of the search's batch sizes {sizes}, got {batch_size!r}")
    own = search.own_rates()[batch_size]
    rates = search.values("learning_rate")
    runs = [search.select(batch_size=batch_size, learning_rate=lr) for lr in rates]
    kept = [[r.final("val_loss") for r in group if not r.diverged] for group in runs]
    means = np.array([np.mean(k) if k else np.nan for k in kept])
    stds = np.array([np.std(k) if k else np.nan for k in kept])
    seeds, notes = [len(group) for group in runs], [len(group) - len(k) for group, k in zip(runs, kept)]
    _, ax = new_axes(ax, figsize=(9, 3.6))
    color = batch_color(batch_size)
    if own is not None:
        # The band spans its rates and half a grid step to each side, so a band of one rate shows too.
        steps = np.diff(np.log10(rates)).min() / 2 if len(rates) > 1 else 0.25
        ax.axvspan(min(own.band) / 10 ** steps, max(own.band) * 10 ** steps, color=color, alpha=0.12, lw=0,
                   label=f"band of good rates: {plain_number(min(own.band))}–{plain_number(max(own.band))}"
                   if len(own.band) > 1 else f"band of good rates: {plain_number(own.rate)} alone")
    shown = np.isfinite(means)
    ax.errorbar(np.array(rates)[shown], means[shown], yerr=stds[shown], color=color, marker="o", ms=4,
                capsize=3, lw=1.2, label="mean of the seeds ± one standard deviation")
    if own is not None:
        ax.plot([own.rate], [own.loss], "*", color=color, ms=13, mec="black", mew=0.6, zorder=3,
                label=f"own learning rate: {plain_number(own.rate)}")
    top = np.nanmax(means + np.nan_to_num(stds)) if shown.any() else 1.0
    low = np.nanmin(means - np.nan_to_num(stds)) if shown.any() else 0.0
    pad = 0.08 * (top - low or 1.0)
    ax.set_ylim(max(0.0, low - pad), top + 3 * pad)   # room for the notes of diverged seeds
    for lr, mean, std, n, of in zip(rates, means, stds, notes, seeds):
        if n:
            y = mean + std if np.isfinite(mean) else top + 2 * pad
            ax.annotate(f"{n} of {of} diverged",
                        (lr, y), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                        fontsize=8, color="#B00020")
            if not np.isfinite(mean):
                ax.plot([lr], [y], "x", color="#B00020", ms=7)
    ax.set_xscale("log")
    ax.set_xlim(rates[0] / 2, rates[-1] * 2)
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    ax.xaxis.set_major_locator(FixedLocator(rates))     # one tick per rate of the grid, no others
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set(xlabel="learning rate" + LOG, ylabel="final validation loss")
    ax.set_title(f"batch size {batch_size}: {seeds[0]} seeds per rate, {search.runs[0].config['epochs']} epochs",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # off the data
    return ax
