"""The batch-size explorer: move a control, and real Keras training redraws the curves.

:func:`explore` shows sliders for the batch size, learning rate, momentum,
epochs, number of seeds, the data's noise and the dataset. Each change
re-trains with :func:`helpers.train` and redraws train/test loss and accuracy,
the trained model's decision boundary, and the run's updates per epoch and
wall time. Runs can be pinned and compared on the same axes.

ipywidgets is imported only when a widget is built (as tqdm's notebook module
does), so the rest of :mod:`helpers` works without it. Where no widget front
end exists (nbval, a static render), the explorer displays a text summary of
its run instead.

Training and drawing run in one background thread that always serves the
latest request: a burst of slider moves trains once, for the last value,
instead of queueing a training per move. While no cell is running and the
controls rest, the thread compiles ahead of time what one move of a control
would otherwise compile (a new batch size or dataset costs an XLA compile of
about a second; the learning rate, momentum, epochs and seeds never compile):
the slider's other batch sizes, and the current batch size on the other
datasets. An error while
serving a change shows in the widget, and the thread goes on serving.
"""

import atexit
import html
import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_choice, check_float, check_int
from ._display import figure_png, require_ipywidgets, show_error, widget_bundle
from .data import Dataset, load_blobs, load_digits
from .plots import (METRIC_LABELS, X_AXES, early_divergence, loss_limits, mark_divergence,
                    plot_decision_regions, plot_spread, x_values)
from .style import TEST_STYLE, TRAIN_STYLE, run_colors
from .training import TrainResult, program_key, train

__all__ = ["Explorer", "ExplorerRun", "explore", "batch_size_options", "draw_explorer"]

# The datasets of the dropdown: name -> (loader taking the cluster spread, whether it uses it).
DATASETS = {
    "blobs 800/200 (source A)": (lambda std: load_blobs(cluster_std=std), True),
    "blobs 500/500 (source B)": (lambda std: load_blobs(train_size=500, cluster_std=std), True),
    "digits 1000/797 (64 pixels)": (lambda std: load_digits(), False),
}
MOMENTA = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
LR_EXPONENTS = (-5, 1)  # the learning-rate slider spans 1e-5 ... 10
MAX_EPOCHS = 1000
MAX_SEEDS = 10
MAX_PINS = 6
X_CHOICES = (("epochs", "epoch"), ("updates", "update"), ("seconds", "second"))


def batch_size_options(n_train):
    """The batch sizes of the explorer's slider: powers of two below ``n_train``, then ``n_train``.

    >>> batch_size_options(800)
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 800]
    """
    n_train = check_int("n_train", n_train, low=1)
    sizes = [2 ** k for k in range(n_train.bit_length()) if 2 ** k < n_train]
    return sizes + [n_train]


@dataclass(eq=False)
class ExplorerRun:
    """One setting of the explorer's controls, trained once per seed.

    Attributes
    ----------
    settings : dict
        ``dataset, cluster_std, batch_size, learning_rate, momentum, epochs, seeds``.
    data : Dataset
    results : list of TrainResult
        One per seed, seeds ``0 .. seeds - 1``.
    seconds : float
        Wall time of all of the runs, compilation included.
    """

    settings: dict
    data: Dataset
    results: list = field(repr=False)
    seconds: float

    @property
    def updates_per_epoch(self):
        return self.results[0].updates_per_epoch

    @property
    def diverged_at(self):
        """The earliest epoch at which a seed diverged, or None."""
        epochs = [r.diverged_at for r in self.results if r.diverged]
        return min(epochs) if epochs else None

    @property
    def train_seconds(self):
        """Mean training time of one seed, compilation excluded."""
        return float(np.mean([r.seconds for r in self.results]))

    @property
    def compile_seconds(self):
        return float(sum(r.compile_seconds for r in self.results))

    @property
    def label(self):
        s = self.settings
        return f"batch {s['batch_size']}, lr {s['learning_rate']:.3g}, momentum {s['momentum']:g}"

    def final(self, key):
        """Mean over seeds of the last value of ``history[key]``."""
        return float(np.mean([r.final(key) for r in self.results]))

    def headline(self):
        """One line: batch size, updates, wall time and the outcome."""
        s = self.settings
        first = self.results[0]  # seed 0 counts the updates; seeds differ only if they diverge
        total, ran = int(first.updates[-1]), first.epochs_run
        seeds = f", {s['seeds']} seeds" if s["seeds"] > 1 else ""
        epochs = f"{s['epochs']} epochs" if ran == s["epochs"] else f"{ran} of {s['epochs']} epochs"
        if self.diverged_at:
            outcome = f"diverged at epoch {self.diverged_at}"
        else:
            outcome = (f"final accuracy: train {self.final('accuracy'):.3f}, "
                       f"test {self.final('val_accuracy'):.3f}")
        return (f"batch size {s['batch_size']} → {self.updates_per_epoch} updates per epoch, "
                f"{total:,} updates in {epochs}{seeds} · training "
                f"{self.train_seconds:.2f} s per seed (+{self.compile_seconds:.2f} s compiling) · "
                f"{outcome}")


def _draw_metric(ax, runs, metric, x):
    """Mean train (solid) and test (dashed) curves of each run, a min-max band over seeds."""
    mixed = len({run.settings["dataset"] for run in runs}) > 1
    groups = {}
    for i, run in enumerate(runs):
        name = "now" if i == 0 else f"pin {i}"
        label = run.label + (f", {run.settings['dataset'].split(' (')[0]}" if mixed else "")
        # A diverged seed stops early: the band is the seeds' common epochs, as before.
        length = min(r.epochs_run for r in run.results)
        groups[f"{name}: {label}"] = [_first_epochs(r, length) for r in run.results]
    colors = run_colors([run.settings["batch_size"] for run in runs])
    plot_spread(groups, metric=metric, train=True, test=True, x=x, colors=colors, ax=ax)
    every = [r for run in runs for r in run.results]
    for run, line_color in zip(runs, colors):
        if run.diverged_at:
            result = min((r for r in run.results if r.diverged), key=lambda r: r.diverged_at)
            mark_divergence(ax, x_values(result, x)[-1], run.diverged_at, line_color,
                            early=early_divergence(result, x))
    if metric == "loss":
        limits = loss_limits(every)
        ax.set_ylim(*(limits or (0, None)))
    else:
        ax.set_ylim(0, 1.02)
    if any(run.diverged_at for run in runs) and x == "epoch":
        ax.set_xlim(0, max(run.settings["epochs"] for run in runs) + 1)
    ax.set_ylabel(METRIC_LABELS[metric])
    ax.get_legend().remove()


def _first_epochs(result, length):
    """``result`` cut to its first ``length`` epochs, treated as a run that did not diverge."""
    if result.epochs_run == length and not result.diverged:
        return result
    ends = int(result.updates[length - 1])
    return TrainResult(history={k: v[:length] for k, v in result.history.items()},
                       batch_loss=result.batch_loss[:ends], epoch_updates=result.epoch_updates[:length],
                       epoch_seconds=result.epoch_seconds[:length],
                       seconds=float(np.sum(result.epoch_seconds[:length])),
                       compile_seconds=result.compile_seconds, config=result.config, diverged_at=None,
                       model=result.model)


def _draw_model_view(ax, run):
    """Decision regions of seed 0's model over 2-D data; a confusion matrix otherwise."""
    data, model = run.data, run.results[0].model
    if run.results[0].diverged:
        ax.text(0.5, 0.5, "diverged:\nno model to show", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    if data.n_features == 2:
        plot_decision_regions(model, data, ax=ax, title="decision regions (seed 0; test points hollow)")
        return
    predicted = np.asarray(model(data.x_test, training=False)).argmax(axis=1)
    counts = np.zeros((data.n_classes, data.n_classes), dtype=int)
    np.add.at(counts, (data.y_test, predicted), 1)
    ax.imshow(counts, cmap="Blues")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"test predictions, seed 0 ({data.n_features}-D data: no 2-D boundary)",
                 fontsize=9)


def _legend(ax, runs):
    """One entry per run in its colour, then what the two line styles mean."""
    from matplotlib.lines import Line2D

    colors = run_colors([run.settings["batch_size"] for run in runs])
    handles = [Line2D([], [], color=color, lw=2) for color in colors]
    names = [("now" if i == 0 else f"pin {i}") + f": {run.label}" for i, run in enumerate(runs)]
    handles += [Line2D([], [], color="0.3", ls=TRAIN_STYLE), Line2D([], [], color="0.3", ls=TEST_STYLE)]
    names += ["train", "test"]
    ax.legend(handles, names, fontsize=8, loc="lower right")


def draw_explorer(runs, *, x="epoch"):
    """Draw the explorer's figure: loss, accuracy and the current model's view.

    Parameters
    ----------
    runs : list of ExplorerRun
        The current run first, then the pinned ones; all share the curve axes.
    x : {"epoch", "update", "second"}

    Returns
    -------
    matplotlib Figure
        Made without pyplot, so that drawing is safe in the explorer's thread
        and nothing is shown by the notebook's inline backend behind our back.
    """
    from matplotlib.figure import Figure

    check_choice("x", x, X_AXES)
    fig = Figure(figsize=(13, 3.9))
    # Fixed margins instead of a layout engine: it saves a tenth of a second per redraw.
    fig.subplots_adjust(left=0.05, right=0.985, bottom=0.13, top=0.93, wspace=0.22)
    ax_loss, ax_acc, ax_model = fig.subplots(1, 3, width_ratios=[1, 1, 0.85])
    _draw_metric(ax_loss, runs, "loss", x)
    _draw_metric(ax_acc, runs, "accuracy", x)
    _legend(ax_acc, runs)
    _draw_model_view(ax_model, runs[0])
    return fig


class _CellActivity:
    """Whether a notebook cell is running, from IPython's pre/post_run_cell events.

    The explorer compiles ahead only while the kernel is idle, so that it never
    slows down the learner's own cells (nor a notebook run under nbval).
    """

    def __init__(self):
        self.running = False
        self.last_end = time.monotonic()
        self._shell = None

    def attach(self):
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is None or shell is self._shell:
            return
        shell.events.register("pre_run_cell", self._started)
        shell.events.register("post_run_cell", self._ended)
        self._shell = shell
        self.running = True  # the explorer is being made inside a cell

    def _started(self, *_info):
        self.running = True

    def _ended(self, *_result):
        self.running = False
        self.last_end = time.monotonic()

    def idle_for(self):
        """Seconds since the last cell ended (0 while one runs; large outside IPython)."""
        if self._shell is None:
            return float("inf")
        return 0.0 if self.running else time.monotonic() - self.last_end


_CELLS = _CellActivity()
IDLE_SECONDS = 1.0  # how long the kernel must be idle before compiling ahead
RESTING_SECONDS = 2.0  # ... and the controls untouched: a learner moving them is served first


_EXPLORERS = weakref.WeakSet()


def _close_all():
    for explorer in list(_EXPLORERS):
        explorer.close()


def _only_warming(explorer):
    """Let only the explorer in use compile ahead (training is one at a time anyway).

    A re-run cell leaves its old explorer alive; its warm-up must not hold up
    the new one.
    """
    for other in list(_EXPLORERS):
        if other is not explorer:
            with other._wakeup:
                other._warm_queue = []


def _register(explorer):
    if not _EXPLORERS:
        atexit.unregister(_close_all)  # registered once, however many explorers come and go
        atexit.register(_close_all)
    _EXPLORERS.add(explorer)


class _Superseded(Exception):
    """A newer request arrived while training; the stale run is dropped."""


class Explorer:
    """An interactive batch-size explorer; see :func:`explore`.

    Attributes
    ----------
    controls : dict of str -> ipywidgets.Widget
        ``dataset, batch_size, learning_rate, momentum, epochs, seeds,
        cluster_std, x``; setting a control's ``value`` in code works as
        moving it does.
    widget : ipywidgets.VBox
        The whole explorer.
    current : ExplorerRun
        The run shown now.
    pinned : list of ExplorerRun
    latencies : list of float
        Seconds from each served change to its redrawn figure.
    trainings : int
        How many settings were trained and shown (the first run included).
    """

    def __init__(self, data=None, *, batch_size=32, learning_rate=0.01, momentum=0.9,
                 epochs=100, seeds=1, x="epoch", warm_up=True):
        self._datasets = dict(DATASETS)
        if data is None:
            name, std = next(iter(self._datasets)), 2.0
        elif isinstance(data, str):
            name, std = check_choice("data", data, tuple(self._datasets)), 2.0
        elif isinstance(data, Dataset):
            name, std = self._add_dataset(data)
        else:
            raise TypeError(f"data must be None, a dataset name or a helpers Dataset, "
                            f"got {type(data).__name__}")
        n_train = self._load(name, std).n_train
        batch_size = check_int("batch_size", batch_size, low=1, high=n_train)
        learning_rate = check_float("learning_rate", learning_rate, low=10.0 ** LR_EXPONENTS[0],
                                    high=10.0 ** LR_EXPONENTS[1])
        momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
        epochs = check_int("epochs", epochs, low=1, high=MAX_EPOCHS)
        seeds = check_int("seeds", seeds, low=1, high=MAX_SEEDS)
        check_choice("x", x, X_AXES)
        if not isinstance(warm_up, bool):
            raise TypeError(f"warm_up must be True or False, got {warm_up!r}")

        self.pinned, self.latencies, self.trainings = [], [], 0
        self._warm_up = warm_up
        self._warmed, self._warm_queue = set(), []
        self._pending, self._busy, self._warming = None, False, False
        self._wakeup = threading.Condition()
        self._worker = None
        self._closed = False
        self._last_change = -float("inf")
        _register(self)
        self._syncing = False
        self._build_widgets(name, std, batch_size, learning_rate, momentum, epochs, seeds, x)
        # The first run trains here, in the caller's thread, so that a notebook run
        # without a widget front end (nbval) still shows real results.
        self.current = self._train(self.settings())
        self._redraw()
        self._status.value = "Move a control: the curves are re-trained and redrawn."
        if warm_up:
            _CELLS.attach()
            self._queue_warm_up()

    # --- building -------------------------------------------------------

    def _add_dataset(self, data):
        config = data.config
        if config.get("dataset") == "blobs":
            args = {k: v for k, v in config.items() if k not in ("dataset", "cluster_std")}
            self._datasets = {data.name: (lambda std: load_blobs(cluster_std=std, **args), True),
                              **self._datasets}
            return data.name, float(config["cluster_std"])
        self._datasets = {data.name: (lambda std: data, False), **self._datasets}
        return data.name, 2.0

    def _load(self, name, std):
        loader, _ = self._datasets[name]
        return loader(std)

    def _build_widgets(self, name, std, batch_size, learning_rate, momentum, epochs, seeds, x):
        w = require_ipywidgets()
        style = {"description_width": "110px"}
        wide = w.Layout(width="420px")
        n_train = self._load(name, std).n_train
        momenta = sorted(set(MOMENTA) | {momentum})
        c = self.controls = {
            "dataset": w.Dropdown(options=list(self._datasets), value=name, description="dataset",
                                  style=style, layout=wide),
            "batch_size": w.SelectionSlider(options=self._batch_options(n_train, batch_size),
                                            value=batch_size, description="batch size",
                                            continuous_update=False, style=style, layout=wide),
            "learning_rate": w.FloatLogSlider(value=learning_rate, base=10, min=LR_EXPONENTS[0],
                                              max=LR_EXPONENTS[1], step=0.1,
                                              readout_format=".2g", description="learning rate",
                                              continuous_update=False, style=style, layout=wide),
            "momentum": w.SelectionSlider(options=[(f"{m:g}", m) for m in momenta], value=momentum,
                                          description="momentum", continuous_update=False,
                                          style=style, layout=wide),
            "epochs": w.IntSlider(value=epochs, min=1, max=max(300, epochs), description="epochs",
                                  continuous_update=False, style=style, layout=wide),
            "seeds": w.IntSlider(value=seeds, min=1, max=5 if seeds <= 5 else MAX_SEEDS,
                                 description="seeds", continuous_update=False, style=style,
                                 layout=wide),
            "cluster_std": w.FloatSlider(value=std, min=min(0.5, std), max=max(5.0, std), step=0.25,
                                         description="noise (spread)", continuous_update=False,
                                         disabled=not self._datasets[name][1], style=style,
                                         layout=wide),
            "x": w.ToggleButtons(options=list(X_CHOICES), value=x, description="x-axis",
                                 style={"description_width": "110px", "button_width": "80px"}),
        }
        for key, control in c.items():
            control.add_class(f"explorer-{key.replace('_', '-')}")
            control.observe(self._on_change, names="value")
        self._pin_button = w.Button(description="Pin this run", tooltip="keep it on the axes")
        self._clear_button = w.Button(description="Clear pins")
        self._pin_button.on_click(self._on_pin)
        self._clear_button.on_click(self._on_clear)
        self._status = w.HTML()
        self._readout = w.HTML()
        self._error = w.HTML()
        self._image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self._status.add_class("explorer-status")
        self._readout.add_class("explorer-readout")
        self._error.add_class("explorer-error")
        self._image.add_class("explorer-figure")
        left = w.VBox([c["dataset"], c["cluster_std"], c["batch_size"], c["learning_rate"]])
        right = w.VBox([c["momentum"], c["epochs"], c["seeds"], c["x"]])
        buttons = w.HBox([self._pin_button, self._clear_button, self._status])
        self.widget = w.VBox([w.HBox([left, right]), buttons, self._error, self._image,
                              self._readout])
        self.widget.add_class("explorer")

    @staticmethod
    def _batch_options(n_train, extra=None):
        sizes = sorted(set(batch_size_options(n_train)) | ({extra} if extra else set()))
        return [(f"{b} (full)" if b == n_train else str(b), b) for b in sizes]

    def settings(self):
        """The training settings the controls show now."""
        c = self.controls
        return dict(dataset=c["dataset"].value, cluster_std=float(c["cluster_std"].value),
                    batch_size=int(c["batch_size"].value),
                    learning_rate=float(c["learning_rate"].value),
                    momentum=float(c["momentum"].value), epochs=int(c["epochs"].value),
                    seeds=int(c["seeds"].value))

    # --- training and drawing --------------------------------------------

    def _train(self, settings, *, stale=lambda: False):
        data = self._load(settings["dataset"], settings["cluster_std"])
        start = time.perf_counter()
        results = []
        for seed in range(settings["seeds"]):
            if stale():
                raise _Superseded()
            results.append(train(data, batch_size=settings["batch_size"], epochs=settings["epochs"],
                                 learning_rate=settings["learning_rate"],
                                 momentum=settings["momentum"], seed=seed))
        self._warmed.add(self._warm_key(data, settings["momentum"], settings["batch_size"]))
        if stale():  # a newer change came in while training: do not draw this one
            raise _Superseded()
        self.trainings += 1
        return ExplorerRun(settings, data, results, time.perf_counter() - start)

    def _redraw(self):
        fig = draw_explorer([self.current] + self.pinned, x=self.controls["x"].value)
        self._image.value = figure_png(fig)
        self._readout.value = self._readout_html()

    def _readout_html(self):
        rows = []
        for i, run in enumerate([self.current] + self.pinned):
            s = run.settings
            outcome = (f"diverged at epoch {run.diverged_at}" if run.diverged_at else
                       f"{run.final('accuracy'):.3f} / {run.final('val_accuracy'):.3f}")
            cells = ["now" if i == 0 else f"pin {i}", s["dataset"], f"{s['cluster_std']:g}"
                     if self._datasets[s["dataset"]][1] else "–", s["batch_size"],
                     f"{s['learning_rate']:.3g}", f"{s['momentum']:g}", s["epochs"], s["seeds"],
                     run.updates_per_epoch, f"{run.train_seconds:.2f}",
                     f"{run.compile_seconds:.2f}", outcome]
            rows.append("<tr>" + "".join(f"<td style='padding:0 6px'>{html.escape(str(v))}</td>"
                                         for v in cells) + "</tr>")
        names = ("run", "dataset", "noise", "batch size", "lr", "momentum", "epochs", "seeds",
                 "updates / epoch", "train s / seed", "compile s", "final acc train / test")
        head = "<tr>" + "".join(f"<th style='padding:0 6px'>{n}</th>" for n in names) + "</tr>"
        return (f"<b>{html.escape(self.current.headline())}</b>"
                f"<table style='font-size:90%'>{head}{''.join(rows)}</table>")

    # --- the background thread -------------------------------------------

    def _request(self, retrain):
        """Ask the worker for a redraw; a newer request replaces an unserved one."""
        if self._closed:
            self._status.value = "closed: make a new explorer to go on"
            return
        _only_warming(self)
        with self._wakeup:
            self._last_change = time.monotonic()
            retrain = retrain or (self._pending is not None and self._pending[0])
            self._pending = (retrain, time.perf_counter())
            self._wakeup.notify_all()
        self._start_worker()
        self._status.value = "training…" if retrain else "redrawing…"

    def _quiet(self):
        """True when no cell runs and the controls have rested: time to compile ahead."""
        return (_CELLS.idle_for() >= IDLE_SECONDS
                and time.monotonic() - self._last_change >= RESTING_SECONDS)

    def _start_worker(self):
        with self._wakeup:
            # A worker that died (it should not: _serve catches every request's error)
            # is replaced, so that the explorer never stays stuck at "training…".
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._serve, name="batch-size-explorer",
                                                daemon=True)
                self._worker.start()

    def _serve(self):
        while True:
            with self._wakeup:
                while not self._closed and self._pending is None and not (
                        self._warm_queue and self._quiet()):
                    # While warming waits for an idle kernel, look again now and then.
                    self._wakeup.wait(0.25 if self._warm_queue else None)
                if self._closed:
                    return
                job, self._pending = self._pending, None
                warm = None if job else self._warm_queue.pop(0)
                self._busy, self._warming = job is not None, job is None
            try:
                if job:
                    self._serve_request(*job)
                else:
                    self._warm(*warm)
            except Exception as error:  # one failed request must not end the thread
                self._report(error)
            finally:
                with self._wakeup:
                    self._busy = self._warming = False
                    self._wakeup.notify_all()

    def _newer_request_waits(self):
        with self._wakeup:
            return self._pending is not None and self._pending[0]

    def _serve_request(self, retrain, requested_at):
        try:
            if retrain:
                self.current = self._train(self.settings(), stale=self._newer_request_waits)
            self._redraw()
            latency = time.perf_counter() - requested_at
            self.latencies.append(latency)
            self._error.value = ""
            self._status.value = f"redrawn {latency:.2f} s after the change"
            if retrain and self._warm_up:
                self._queue_warm_up()
        except _Superseded:
            return
        except Exception as error:  # shown to the learner: a callback has no cell to raise into
            self._report(error)

    def _report(self, error):
        self._status.value = "error (see below)"
        show_error(self._error, error)

    @staticmethod
    def _warm_key(data, momentum, batch_size):
        # Runs with one key share a compiled program, whatever their momentum.
        return program_key(data, batch_size=batch_size)

    def _queue_warm_up(self):
        """Queue for compiling ahead what one move of a control would otherwise compile.

        A new batch size or dataset (new shapes) compiles anew
        (:func:`helpers.training.program_key`). First come the lessons' batch
        sizes 1, the full set and 32 (where learners jump) and the slider's
        next stops, then the current batch size on the other datasets, then
        the slider's other batch sizes, nearest first.
        """
        s = self.settings()
        data = self._load(s["dataset"], s["cluster_std"])
        momentum, size = s["momentum"], s["batch_size"]
        sizes = [value for _, value in self.controls["batch_size"].options]
        here = sizes.index(size)
        nearest = sorted(range(len(sizes)), key=lambda i: (abs(i - here), i))
        ahead = [(data, momentum, b) for b in (1, data.n_train, 32) if b in sizes]
        ahead += [(data, momentum, sizes[i]) for i in nearest if abs(i - here) == 1]
        for name in self._datasets:
            other = self._load(name, s["cluster_std"])
            ahead.append((other, momentum, self._carry_batch_size(size, data.n_train,
                                                                  other.n_train)))
        ahead += [(data, momentum, sizes[i]) for i in nearest]
        queue, keys = [], set(self._warmed)
        for job in ahead:
            if self._warm_key(*job) not in keys:
                keys.add(self._warm_key(*job))
                queue.append(job)
        _only_warming(self)
        with self._wakeup:
            self._warm_queue = queue
            self._wakeup.notify_all()
        if queue:
            self._start_worker()

    def _warm(self, data, momentum, batch_size):
        key = self._warm_key(data, momentum, batch_size)
        if key in self._warmed:
            return
        try:
            # One real epoch compiles the epoch program for this batch size.
            train(data, batch_size=batch_size, epochs=1, learning_rate=0.01, momentum=momentum)
        except Exception as error:  # warming is an optimisation; say so, and keep serving
            show_error(self._error, error)
        self._warmed.add(key)

    def close(self, timeout=15.0):
        """Stop the explorer's background thread; no more trainings or compiles.

        A compile in progress cannot be interrupted: this waits up to
        ``timeout`` seconds for it. Python calls this for every explorer at exit,
        so that the interpreter never stops inside TensorFlow.
        """
        with self._wakeup:
            self._closed = True
            self._pending, self._warm_queue = None, []
            self._wakeup.notify_all()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def wait(self, timeout=120.0, *, warm_up=False):
        """Block until every change so far is served (and, if asked, warming is done).

        Returns
        -------
        bool
            False if ``timeout`` seconds passed first.
        """
        deadline = time.monotonic() + timeout
        with self._wakeup:
            while (self._pending is not None or self._busy
                   or (warm_up and (self._warm_queue or self._warming))):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wakeup.wait(min(remaining, 0.05))
        return True

    # --- controls --------------------------------------------------------

    def _on_change(self, change):
        try:
            owner = change["owner"]
            if self._syncing:
                return
            if owner is self.controls["dataset"]:
                self._sync_dataset()
            self._request(retrain=owner is not self.controls["x"])
        except Exception as error:  # a callback has no cell to raise into
            show_error(self._error, error)

    @staticmethod
    def _carry_batch_size(batch_size, old_n_train, new_n_train):
        """The batch size a change of data lands on: full stays full, others the nearest stop."""
        if batch_size == old_n_train:
            return new_n_train
        return min(batch_size_options(new_n_train), key=lambda b: abs(b - batch_size))

    def _sync_dataset(self):
        """New data: new batch-size options (full stays full) and the noise slider's state."""
        c = self.controls
        name = c["dataset"].value
        n_train = self._load(name, c["cluster_std"].value).n_train
        old_n_train = c["batch_size"].options[-1][1]
        value = self._carry_batch_size(c["batch_size"].value, old_n_train, n_train)
        self._syncing = True
        try:
            c["batch_size"].options = self._batch_options(n_train)
            c["batch_size"].value = value
            c["cluster_std"].disabled = not self._datasets[name][1]
        finally:
            self._syncing = False

    def _on_pin(self, _button):
        try:
            if len(self.pinned) >= MAX_PINS:
                self.pinned.pop()
            self.pinned.insert(0, self.current)
            self._request(retrain=False)
        except Exception as error:
            show_error(self._error, error)

    def _on_clear(self, _button):
        try:
            self.pinned.clear()
            self._request(retrain=False)
        except Exception as error:
            show_error(self._error, error)

    def pin(self):
        """Keep the current run on the axes (as the "Pin this run" button does)."""
        self._on_pin(None)

    def clear_pins(self):
        """Remove every pinned run (as the "Clear pins" button does)."""
        self._on_clear(None)

    # --- display ---------------------------------------------------------

    def summary(self):
        """A text account of the current run: what a front end without widgets shows."""
        s = self.current.settings
        return "\n".join([
            "Batch-size explorer: interactive in Jupyter with ipywidgets. Without a widget "
            "front end (a static page, nbval) this text stands in for it.",
            f"Current run: {s['dataset']}"
            + (f" (noise {s['cluster_std']:g})" if self._datasets[s["dataset"]][1] else "")
            + f", learning rate {s['learning_rate']:.3g}, momentum {s['momentum']:g}",
            self.current.headline(),
            "To explore without widgets, call helpers.train(data, batch_size=..., epochs=..., "
            "learning_rate=...) and plot with helpers.plot_learning_curves(...).",
        ])

    def __repr__(self):
        return self.summary()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return widget_bundle(self.widget, self.summary())


def explore(data=None, *, batch_size=32, learning_rate=0.01, momentum=0.9, epochs=100, seeds=1,
            x="epoch", warm_up=True):
    """Open the batch-size explorer: controls whose every change re-trains and redraws.

    The explorer trains its first run right away (real training, so a notebook
    run without widgets still shows honest numbers), then re-trains with
    :func:`helpers.train` whenever a control changes: 100 epochs at any batch
    size take a fraction of a second, plus about a second to compile a batch
    size or dataset seen for the first time. While no cell runs and
    the controls rest, the explorer compiles these in the background, so that
    moving a control seldom waits for the compiler.

    Parameters
    ----------
    data : None, str or Dataset, optional
        A dataset of the dropdown (default: the first source's blobs,
        800 train / 200 test) or your own :class:`helpers.Dataset`, which is
        added to the dropdown. The noise slider re-makes blobs with another
        ``cluster_std``; it is disabled for other data.
    batch_size : int, default 32
        Starting batch size, in ``[1, n_train]``.
    learning_rate : float, default 0.01
        Starting learning rate, in ``[1e-5, 10]``.
    momentum : float, default 0.9
        Starting SGD momentum, in ``[0, 1)``.
    epochs : int, default 100
        In ``[1, 1000]``.
    seeds : int, default 1
        Runs per setting (seeds ``0 .. seeds - 1``), in ``[1, 10]``; with more
        than one, curves show the mean and a min-max band.
    x : {"epoch", "update", "second"}, default "epoch"
        What the curves' x-axis counts.
    warm_up : bool, default True
        While no cell is running and the controls have rested for 2 s, compile
        in the background what one move of a control would compile: 1, the
        full set, 32 and the slider's next stops first, then the current batch
        size on the other datasets, then the other batch sizes, nearest first. After each change, the same for the new
        setting.

    Returns
    -------
    Explorer
        Displays as the widget in Jupyter (text elsewhere).

    Raises
    ------
    TypeError, ValueError
        If an argument is of the wrong type or out of range.
    ImportError
        If ipywidgets is not installed.

    Examples
    --------
    >>> helpers.explore(batch_size=1, learning_rate=0.001)   # doctest: +SKIP
    """
    return Explorer(data, batch_size=batch_size, learning_rate=learning_rate, momentum=momentum,
                    epochs=epochs, seeds=seeds, x=x, warm_up=warm_up)
