"""The batch-size explorer: move a control, and real Keras training redraws the curves.

:func:`explore` shows controls for the batch size, learning rate, momentum, epochs, seeds, noise and
dataset; each change re-trains with :func:`helpers.train` and redraws (:func:`helpers.plots.plot_explorer`).
ipywidgets is imported only when a widget is built; without a widget front end the output carries a
picture of the figure and its readout. Training runs in one background thread
(:class:`helpers._worker.Worker`) that serves the newest request and, while no cell runs and the
controls rest, compiles ahead what one move would compile.
"""

import base64
import html
import re
import threading
import time
import weakref
from dataclasses import dataclass

import numpy as np

from ._checks import check_choice, check_float, check_int
from ._display import figure_png, require_ipywidgets, show_error, widget_bundle
from ._worker import Worker, weakly
from .data import Dataset, load_blobs, load_digits
from .plots import EXPLORER_DPI, X_AXES, plot_explorer
from .result import ExplorerRun
from .style import run_colors
from .training import evaluation_key, program_key, train

__all__ = ["Explorer", "ExplorerRun", "explore", "batch_size_options", "program_bound"]

# The dropdown: name -> (loader taking the cluster spread, whether it uses it). The blobs of bnomial's post
# "The wrong batch size is all it takes" and of Brownlee's batch-size tutorial (lesson 07 cites both), with
# the course's 200 validation points; tests/test_widgets.py checks the names' splits against the data.
DATASETS = {
    "bnomial's blobs (800 train, 200 validation, 200 test)": (lambda std: load_blobs(cluster_std=std), True),
    "Brownlee's blobs (500 train, 200 validation, 500 test)": (
        lambda std: load_blobs(train_size=500, cluster_std=std), True),
    "digits (1000 train, 400 validation, 397 test)": (lambda std: load_digits(), False),
}

# The controls' ranges, in one place: the sliders are built from these, and explore() checks
# its arguments (and pins) against the same, so that every value it accepts is on a slider.
LR_EXPONENTS = (-5, 1)  # the learning-rate slider spans 10 ** -5 ... 10 ** 1, on a log scale
LR_STEP = 0.1  # ... in steps of a tenth of a power of ten
EPOCHS = (1, 300)
SEEDS = (1, 10)
NOISE = (0.5, 5.0)  # the blobs' cluster_std (a dataset's own spread outside it widens the slider)
NOISE_STEP = 0.25
MOMENTA = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)  # the slider's stops, plus the starting momentum
MAX_PINS = 6
X_CHOICES = (("epochs", "epoch"), ("updates", "update"), ("seconds", "second"))


def batch_size_options(n_train):
    """The batch sizes of the explorer's slider: powers of two below ``n_train``, then ``n_train``.

    So a session compiles a bounded number of XLA programs (about 12 MB each): :func:`program_bound`.

    >>> batch_size_options(800)
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 800]
    """
    n_train = check_int("n_train", n_train, low=1)
    return [2 ** k for k in range(n_train.bit_length()) if 2 ** k < n_train] + [n_train]


def program_keys(datasets):
    """The keys of every XLA program an explorer session on ``datasets`` may compile: one epoch
    program per slider stop and training size, one validation pass per validation size."""
    return {key for data in datasets for key in (
        evaluation_key(data), *(program_key(data, batch_size=b) for b in batch_size_options(data.n_train)))}


def program_bound(data=None):
    """How many XLA programs one explorer session compiles at most (each kept till the kernel stops).

    Every dataset of the dropdown (and your ``data``, if given) at every stop of the batch-size slider,
    with any other settings. The lessons' runs at those batch sizes share them.
    """
    datasets = [load(2.0) for load, _ in DATASETS.values()] + ([] if data is None else [data])
    return len(program_keys(datasets))


class _CellActivity:
    """Whether a notebook cell runs: the explorer compiles ahead only while the kernel is idle."""

    def __init__(self):
        self.running, self.last_end, self._shell = False, time.monotonic(), None

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
        self._shell, self.running = shell, True  # the explorer is being made inside a cell

    def _started(self, *_info):
        self.running = True

    def _ended(self, *_result):
        self.running, self.last_end = False, time.monotonic()

    def idle_for(self):
        """Seconds since the last cell ended (0 while one runs; large outside IPython)."""
        if self._shell is None:
            return float("inf")
        return 0.0 if self.running else time.monotonic() - self.last_end


_CELLS = _CellActivity()
IDLE_SECONDS = 1.0  # how long the kernel must be idle before compiling ahead
RESTING_SECONDS = 2.0  # ... and the controls untouched: a learner moving them is served first
CLOSED = "closed: make a new explorer to go on"
#: Said under the explorer's picture where its widgets cannot run.
STATIC_NOTE = ("This is a still picture of the explorer. Run the notebook (in Jupyter, Colab "
               "or Binder) to move its controls; without widgets, train with helpers.train(...) "
               "and plot with helpers.plot_learning_curves(...).")


class _Superseded(Exception):
    """A newer request arrived while training; the stale run is dropped."""


@dataclass(frozen=True)
class _Change:
    """A request to the explorer's worker: redraw, retraining first if ``retrain``."""

    retrain: bool
    at: float  # time.perf_counter() of the change

    def merged(self, newer):
        """This unserved change replaced by ``newer``: it retrains if either does."""
        return _Change(self.retrain or newer.retrain, newer.at)


def _text(html_value):
    """The text of a little HTML (the explorer's status and error lines)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_value))


def _menu_with(datasets, data):
    """(the dropdown with ``data`` first, its entry, its noise); the noise slider re-makes only blobs
    that their config re-makes point for point, other data is used as given."""
    entry = data.name if data.name not in datasets else f"{data.name} (your data)"
    args = {k: v for k, v in data.config.items() if k != "dataset"}
    try:
        again = load_blobs(**args) if data.config.get("dataset") == "blobs" else None
    except (TypeError, ValueError):
        again = None
    splits = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    if again is not None and all(np.array_equal(getattr(data, a), getattr(again, a)) for a in splits):
        given = float(args.pop("cluster_std"))
        loader = (lambda std: data if std == given else load_blobs(cluster_std=std, **args), True)
    else:
        given, loader = 2.0, (lambda std: data, False)
    return {entry: loader, **datasets}, entry, given


def _readout_html(runs, datasets):
    """The readout (HTML): the current run's headline, and a table of the shown runs."""
    rows = []
    for i, (run, color) in enumerate(zip(runs, run_colors([run.settings["batch_size"] for run in runs]))):
        s = run.settings
        outcome = (f"diverged at epoch {run.diverged_at}" if run.diverged_at else
                   f"{run.final('accuracy'):.3f} / {run.final('val_accuracy'):.3f}")
        cells = [s["dataset"], f"{s['cluster_std']:g}" if datasets[s["dataset"]][1] else "–", s["batch_size"],
                 f"{s['learning_rate']:.3g}", f"{s['momentum']:g}", s["epochs"], s["seeds"],
                 run.updates_per_epoch, f"{run.train_seconds:.2f}", f"{run.compile_seconds:.2f}", outcome]
        name = (f"<td style='padding:0 6px;white-space:nowrap'><span style='color:{color}'>"
                f"&#9644;</span> {'now' if i == 0 else f'pin {i}'}</td>")
        rows.append("<tr>" + name + "".join(f"<td style='padding:0 6px'>{html.escape(str(v))}</td>"
                                            for v in cells) + "</tr>")
    names = ("run", "dataset", "noise", "batch size", "lr", "momentum", "epochs", "seeds",
             "updates / epoch", "train s / seed", "compile s", "final acc train / validation")
    head = "<tr>" + "".join(f"<th style='padding:0 6px'>{n}</th>" for n in names) + "</tr>"
    return (f"<b>{html.escape(runs[0].headline())}</b>"
            f"<table style='font-size:90%'>{head}{''.join(rows)}</table>")


def _carry_batch_size(batch_size, old_n_train, new_n_train):
    """The batch size a change of data lands on: full stays full, others the nearest stop."""
    if batch_size == old_n_train:
        return new_n_train
    return min(batch_size_options(new_n_train), key=lambda b: abs(b - batch_size))


def _warm_up_order(data, size, others, warmed):
    """The (data, batch size) runs to compile ahead, once each, none of ``warmed``, likeliest first."""
    sizes = batch_size_options(data.n_train)
    here = sizes.index(size)
    nearest = sorted(range(len(sizes)), key=lambda i: (abs(i - here), i))
    ahead = [(data, b) for b in (1, data.n_train, 32) if b in sizes]
    ahead += [(data, sizes[i]) for i in nearest if abs(i - here) == 1]
    ahead += [(other, _carry_batch_size(size, data.n_train, other.n_train)) for other in others]
    first = {}
    for run in ahead + [(data, sizes[i]) for i in nearest]:
        first.setdefault(program_key(run[0], batch_size=run[1]), run)
    return [run for key, run in first.items() if key not in warmed]


def _make_controls(w, datasets, name, std, x, *, batch_size, learning_rate, momentum, epochs, seeds):
    """The explorer's controls (ipywidgets ``w``), their ranges from the block of constants."""
    style = {"description_width": "100px"}
    slider = dict(continuous_update=False, style=style, layout=w.Layout(width="380px"))
    momenta = sorted(set(MOMENTA) | {momentum})
    return {
        "dataset": w.Dropdown(options=list(datasets), value=name, description="dataset", style=style,
                              layout=slider["layout"]),
        "cluster_std": w.FloatSlider(value=std, min=min(NOISE[0], std), max=max(NOISE[1], std), step=NOISE_STEP,
                                     description="noise (spread)", disabled=not datasets[name][1], **slider),
        "batch_size": w.SelectionSlider(options=_batch_options(datasets[name][0](std).n_train), value=batch_size,
                                        description="batch size", **slider),
        "learning_rate": w.FloatLogSlider(value=learning_rate, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1],
                                          step=LR_STEP, readout_format=".2g", description="learning rate",
                                          **slider),
        "momentum": w.SelectionSlider(options=[(f"{m:g}", m) for m in momenta], value=momentum,
                                      description="momentum", **slider),
        "epochs": w.IntSlider(value=epochs, min=EPOCHS[0], max=EPOCHS[1], description="epochs", **slider),
        "seeds": w.IntSlider(value=seeds, min=SEEDS[0], max=SEEDS[1], description="seeds", **slider),
        "x": w.ToggleButtons(options=list(X_CHOICES), value=x, description="x-axis",
                             style={"description_width": "100px", "button_width": "76px"},
                             # flex: ipywidgets 8 stacks its description above the buttons
                             layout=w.Layout(width="380px", display="flex")),
    }


class _Widgets:
    """The explorer's widgets; the callbacks are held weakly by the caller, so they refer to no explorer."""

    def __init__(self, w, datasets, name, std, x, start, *, on_change, on_pin, on_clear):
        c = self.controls = _make_controls(w, datasets, name, std, x, **start)
        for key, control in c.items():
            control.add_class(f"explorer-{key.replace('_', '-')}")
            control.observe(on_change, names="value")
        self.syncing = False  # True while sync_dataset sets the controls: no change to serve
        pin = w.Button(description="Pin this run", tooltip="keep it on the axes", layout=w.Layout(width="110px"))
        clear = w.Button(description="Clear pins", layout=w.Layout(width="110px"))
        pin.on_click(on_pin)
        clear.on_click(on_clear)
        self.status, self.readout, self.error = w.HTML(), w.HTML(), w.HTML()
        # At its own size (not stretched by the box), smaller only on a narrow screen.
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%", align_self="flex-start"))
        for widget, name_ in ((self.status, "status"), (self.readout, "readout"), (self.error, "error"),
                              (self.image, "figure")):
            widget.add_class(f"explorer-{name_}")
        self.error.layout.display = "none"  # it takes no room until there is an error
        self.error.observe(lambda change: setattr(change["owner"].layout, "display", "" if change["new"] else "none"),
                           names="value")
        # Three columns of controls (they wrap on a narrow screen), the figure, the readout:
        # a laptop screen holds it all.
        columns = [w.VBox([c["dataset"], c["cluster_std"], c["batch_size"]]),
                   w.VBox([c["learning_rate"], c["momentum"], c["epochs"]]),
                   w.VBox([c["seeds"], c["x"], w.HBox([pin, clear, self.status])])]
        controls = w.HBox(columns, layout=w.Layout(flex_flow="row wrap"))
        self.box = w.VBox([controls, self.error, self.image, self.readout])
        self.box.add_class("explorer")
        self.all = [self.box, controls, *columns, columns[2].children[-1], pin, clear,
                    *c.values(), self.status, self.readout, self.error, self.image]

    def sync_dataset(self, n_train, noisy):
        """New data: new batch-size options (full stays full) and the noise slider's state."""
        c = self.controls
        value = _carry_batch_size(c["batch_size"].value, c["batch_size"].options[-1][1], n_train)
        self.syncing = True
        try:
            c["batch_size"].options = _batch_options(n_train)
            c["batch_size"].value = value
            c["cluster_std"].disabled = not noisy
        finally:
            self.syncing = False

    def draw(self, runs, x, datasets):
        """Show ``runs`` (the current one first): their figure against ``x``, and the readout."""
        self.image.value = figure_png(plot_explorer(runs, x=x), dpi=EXPLORER_DPI)
        self.readout.value = _readout_html(runs, datasets)

    def report(self, error):
        """Show ``error`` to the learner: a callback has no cell to raise into."""
        self.status.value = "error (see below)"
        show_error(self.error, error)


class _Session:
    """The explorer's worker, runs, pins and warm-up; it refers to no :class:`Explorer`, so collecting
    the explorer collects it, which closes the worker (holding it weakly) and ends the thread."""

    def __init__(self, widgets, datasets, warm_up):
        self.widgets, self.datasets, self._warm_up = widgets, datasets, warm_up
        # Shared with the worker's thread, and guarded by this lock.
        self._lock = threading.RLock()
        self._current, self._pinned, self._latencies, self._trainings, self._warmed = None, [], [], 0, set()
        self.worker = Worker(
            self._serve, warm=self._warm, quiet=lambda: _CELLS.idle_for() >= IDLE_SECONDS, report=self._report,
            merge=_Change.merged, rest=RESTING_SECONDS, name="batch-size-explorer")

    def read(self, name):
        """``"current"``, ``"pinned"``, ``"latencies"`` or ``"trainings"``, from any thread (lists copied)."""
        with self._lock:
            value = getattr(self, f"_{name}")
            return list(value) if isinstance(value, list) else value

    def load(self, name, std):
        """The dataset ``name`` of the dropdown, at noise ``std`` where it takes one."""
        return self.datasets[name][0](std)

    def start(self, pins):
        """Train and show the first run and ``pins`` in the caller's thread (real results without a
        widget front end), then queue the warm-up."""
        here = _settings(self.widgets.controls)
        self._pinned = [self._train({**here, **pin}) for pin in pins]
        self._current = self._train(here)
        self._draw()
        self.widgets.status.value = "ready"
        if self._warm_up:
            _CELLS.attach()
            self._queue_warm_up()

    def _train(self, settings, *, stale=lambda: False):
        data = self.load(settings["dataset"], settings["cluster_std"])
        start, results = time.perf_counter(), []
        for seed in range(settings["seeds"]):
            if stale():
                raise _Superseded()
            results.append(train(data, batch_size=settings["batch_size"], epochs=settings["epochs"],
                                 learning_rate=settings["learning_rate"], momentum=settings["momentum"], seed=seed))
        with self._lock:
            self._warmed.add(program_key(data, batch_size=settings["batch_size"]))
        if stale():  # a newer change came in while training: do not draw this one
            raise _Superseded()
        with self._lock:
            self._trainings += 1
        return ExplorerRun(settings, data, results, time.perf_counter() - start)

    def _draw(self):
        with self._lock:
            runs = [self._current] + self._pinned
        self.widgets.draw(runs, self.widgets.controls["x"].value, self.datasets)

    def _newer_change_waits(self):
        return getattr(self.worker.waiting(), "retrain", False)

    def _serve(self, change):
        try:
            if change.retrain:
                run = self._train(_settings(self.widgets.controls), stale=self._newer_change_waits)
                with self._lock:
                    self._current = run
            self._draw()
            latency = time.perf_counter() - change.at
            with self._lock:
                self._latencies.append(latency)
            self.widgets.error.value = ""
            self.widgets.status.value = f"redrawn in {latency:.2f} s"
            if change.retrain and self._warm_up:
                self._queue_warm_up()
        except _Superseded:
            return
        except Exception as error:  # shown to the learner: a callback has no cell to raise into
            self._report(error)

    def _report(self, error):
        self.widgets.report(error)

    def _queue_warm_up(self):
        """Queue what one move of a control would compile (a new batch size or dataset: new shapes)."""
        s = _settings(self.widgets.controls)
        others = [self.load(name, s["cluster_std"]) for name in self.datasets]
        with self._lock:
            warmed = set(self._warmed)
        self.worker.warm_up(_warm_up_order(self.load(s["dataset"], s["cluster_std"]), s["batch_size"], others, warmed))

    def _warm(self, job):
        data, batch_size = job
        key = program_key(data, batch_size=batch_size)
        with self._lock:
            if key in self._warmed:
                return
        try:  # one real epoch compiles the epoch program for this batch size
            train(data, batch_size=batch_size, epochs=1, learning_rate=0.01)
        except Exception as error:  # warming is an optimisation; say so, and keep serving
            show_error(self.widgets.error, error)
        with self._lock:
            self._warmed.add(key)

    def request(self, retrain):
        """Ask the worker for a redraw; a newer request replaces an unserved one."""
        if self.worker.closed:
            self.widgets.status.value = CLOSED
            return
        self.worker.submit(_Change(retrain, time.perf_counter()))
        self.widgets.status.value = "training…" if retrain else "redrawing…"

    def pin(self):
        """Pin the current run (at most :data:`MAX_PINS`: the oldest goes), and redraw."""
        with self._lock:
            if len(self._pinned) >= MAX_PINS:
                self._pinned.pop()
            self._pinned.insert(0, self._current)
        self.request(retrain=False)

    def clear_pins(self):
        """Unpin every run, and redraw."""
        with self._lock:
            self._pinned.clear()
        self.request(retrain=False)

    def close(self, timeout):
        """Stop the worker (waiting up to ``timeout`` s for a compile), and say so."""
        self.worker.close(timeout)
        self.widgets.status.value = CLOSED


def _shown(name, doc):
    """A property of :class:`Explorer`: its session's ``name``, read under the lock."""
    return property(lambda self: self._session.read(name), doc=doc)


def _close_widgets(widgets):
    for widget in widgets:
        widget.close()


class Explorer:
    """An interactive batch-size explorer; see :func:`explore`.

    - ``controls``: dict of str -> ipywidgets.Widget, ``dataset, batch_size, learning_rate, momentum,
      epochs, seeds, cluster_std, x``; setting a control's ``value`` in code works as moving it does.
    - ``widget``: the whole explorer (an ipywidgets.VBox).

    An explorer that nothing refers to any more (no variable, no cell output) is closed when Python
    collects it: its thread stops and its widgets close.
    """

    def __init__(self, data=None, *, batch_size=32, learning_rate=0.01, momentum=0.9,
                 epochs=100, seeds=1, x="epoch", warm_up=True, pins=()):
        start = dict(batch_size=batch_size, learning_rate=learning_rate, momentum=momentum, epochs=epochs, seeds=seeds)
        self._datasets, name, std, start, pins = _starting_point(data, start, x, warm_up, pins)
        self._widgets = _Widgets(require_ipywidgets(), self._datasets, name, std, x, start,
                                 on_change=weakly(self._on_change), on_pin=weakly(self._on_pin),
                                 on_clear=weakly(self._on_clear))
        self.controls, self.widget = self._widgets.controls, self._widgets.box
        self._session = _Session(self._widgets, self._datasets, warm_up)
        # Closes the widgets once the session is gone too: a change being served still draws on them.
        weakref.finalize(self._session, _close_widgets, list(self._widgets.all)).atexit = False
        self._session.start(pins)

    current = _shown("current", "The run shown now (an :class:`ExplorerRun`).")
    pinned = _shown("pinned", "The pinned runs, newest first (a copy: pin with :meth:`pin`).")
    latencies = _shown("latencies", "Seconds from each served change to its redrawn figure (a copy).")
    trainings = _shown("trainings", "How many settings were trained and shown (the first run included).")

    png = property(lambda self: self._widgets.image.value, doc="The figure shown now, as PNG bytes.")
    readout = property(lambda self: self._widgets.readout.value,
                       doc="The readout under the figure (HTML): the headline and a table of the runs.")
    status = property(lambda self: _text(self._widgets.status.value),
                      doc="The status line: what the explorer is doing, or how long the last redraw took.")
    error = property(lambda self: _text(self._widgets.error.value),
                     doc='The text of the error shown to the learner ("" when there is none).')
    closed = property(lambda self: self._session.worker.closed, doc="Whether :meth:`close` was called.")

    def settings(self):
        """The training settings the controls show now."""
        return _settings(self.controls)

    def close(self, timeout=15.0):
        """Stop the background thread, waiting up to ``timeout`` s for a compile (it cannot be interrupted).

        Python calls this for every explorer at exit, so that the interpreter never stops inside TensorFlow.
        The widget stays on the page and says that it is closed.
        """
        self._session.close(timeout)

    def wait(self, timeout=120.0, *, warm_up=False):
        """Block until every change so far is served (and, if asked, warming is done); False on timeout."""
        return self._session.worker.wait(timeout, warm_up=warm_up)

    def _on_change(self, change):
        try:
            owner = change["owner"]
            if self._widgets.syncing:
                return
            if owner is self.controls["dataset"]:  # new data: new batch sizes, perhaps no noise
                data = self._session.load(owner.value, self.controls["cluster_std"].value)
                self._widgets.sync_dataset(data.n_train, noisy=self._datasets[owner.value][1])
            self._session.request(retrain=owner is not self.controls["x"])
        except Exception as error:  # a callback has no cell to raise into
            show_error(self._widgets.error, error)

    def _button(self, action):
        """What a button does: ``action``, or the word that the explorer is closed."""
        try:
            if self.closed:
                self._widgets.status.value = CLOSED
                return
            action()
        except Exception as error:  # a callback has no cell to raise into
            show_error(self._widgets.error, error)

    def _on_pin(self, _button):
        self._button(self.pin)

    def _on_clear(self, _button):
        self._button(self.clear_pins)

    def _refuse_if_closed(self, what):
        if self.closed:
            raise RuntimeError(f"cannot {what}: this explorer is closed; make a new one with helpers.explore(...)")

    def pin(self):
        """Keep the current run on the axes (as the "Pin this run" button does); at most six stay
        pinned, a seventh drops the oldest. Raises RuntimeError if the explorer is closed."""
        self._refuse_if_closed("pin")
        self._session.pin()

    def clear_pins(self):
        """Remove every pinned run (as the "Clear pins" button does); RuntimeError if the explorer is closed."""
        self._refuse_if_closed("clear the pins")
        self._session.clear_pins()

    def summary(self):
        """A text account of the current run: what a page without widgets shows under the picture."""
        s = self.current.settings
        noise = f", noise {s['cluster_std']:g}" if self._datasets[s["dataset"]][1] else ""
        return (f"Batch-size explorer. Current run: {s['dataset']}{noise}, learning rate {s['learning_rate']:.3g}, "
                f"momentum {s['momentum']:g}\n{self.current.headline()}\n{STATIC_NOTE}")

    def static_html(self):
        """The explorer as a page without widgets shows it: its figure, readout and a note."""
        picture = base64.b64encode(self.png).decode("ascii")
        return (f"<div class='explorer-static'><img alt='the explorer: loss, accuracy and the "
                f"model of the current run' style='max-width:100%' src='data:image/png;base64,{picture}'/>"
                f"<div>{self.readout}</div><p><i>{html.escape(STATIC_NOTE)}</i></p></div>")

    __repr__ = summary

    def _repr_mimebundle_(self, include=None, exclude=None):
        return widget_bundle(self.widget, self.summary(), html=self.static_html(), png=self.png)


def _batch_options(n_train):
    """The batch-size slider's (label, value) stops."""
    return [(f"{b} (full)" if b == n_train else str(b), b) for b in batch_size_options(n_train)]


def _checked_settings(s, n_train, where=""):
    """The training settings ``s``, each checked against the controls' ranges (``where`` prefixes names)."""
    name = (lambda key: f"{where}[{key!r}]") if where else (lambda key: key)
    batch_size = check_int(name("batch_size"), s["batch_size"], low=1, high=n_train)
    if batch_size not in batch_size_options(n_train):
        raise ValueError(f"{name('batch_size')} must be one of the slider's batch sizes "
                         f"{batch_size_options(n_train)}, got {batch_size}")
    return dict(
        batch_size=batch_size, learning_rate=check_float(name("learning_rate"), s["learning_rate"],
                                  low=10.0 ** LR_EXPONENTS[0], high=10.0 ** LR_EXPONENTS[1]),
        momentum=check_float(name("momentum"), s["momentum"], low=0.0, high=1.0, high_open=True),
        epochs=check_int(name("epochs"), s["epochs"], low=EPOCHS[0], high=EPOCHS[1]),
        seeds=check_int(name("seeds"), s["seeds"], low=SEEDS[0], high=SEEDS[1]))


def _pin_settings(start, i, pin, n_train):
    """One entry of ``pins``: the starting settings with the keys it changes, checked."""
    where = f"pins[{i}]"
    if not isinstance(pin, dict):
        raise TypeError(f"{where} must be a dict of settings, got {type(pin).__name__}")
    if unknown := sorted(set(pin) - set(start)):
        raise ValueError(f"{where} may set only {', '.join(start)}; got {unknown[0]!r}")
    return _checked_settings({**start, **pin}, n_train, where)


def _starting_point(data, start, x, warm_up, pins):
    """The explorer's arguments, checked: (its dropdown's datasets, name, noise, settings, pins)."""
    datasets, std = dict(DATASETS), 2.0
    if data is None:
        name = next(iter(datasets))
    elif isinstance(data, str):
        name = check_choice("data", data, tuple(datasets))
    elif isinstance(data, Dataset):
        datasets, name, std = _menu_with(datasets, data)
    else:
        raise TypeError(f"data must be None, a dataset name or a helpers Dataset, got {type(data).__name__}")
    n_train = datasets[name][0](std).n_train
    start = _checked_settings(start, n_train)
    check_choice("x", x, X_AXES)
    if not isinstance(warm_up, bool):
        raise TypeError(f"warm_up must be True or False, got {warm_up!r}")
    if isinstance(pins, dict) or not isinstance(pins, (list, tuple)):
        raise TypeError(f"pins must be a list of dicts of settings, got {pins!r}")
    if len(pins) > MAX_PINS:
        raise ValueError(f"pins must hold at most {MAX_PINS} runs, got {len(pins)}")
    return datasets, name, std, start, [_pin_settings(start, i, pin, n_train) for i, pin in enumerate(pins)]


def _settings(c):
    """The training settings the explorer's controls ``c`` show now."""
    return dict(dataset=c["dataset"].value, cluster_std=float(c["cluster_std"].value),
                batch_size=int(c["batch_size"].value), learning_rate=float(c["learning_rate"].value),
                momentum=float(c["momentum"].value), epochs=int(c["epochs"].value), seeds=int(c["seeds"].value))


def explore(data=None, *, batch_size=32, learning_rate=0.01, momentum=0.9, epochs=100, seeds=1,
            x="epoch", warm_up=True, pins=()):
    """Open the batch-size explorer: every change of a control re-trains and redraws.

    It trains its first run right away, so a page without widgets still shows real numbers.

    - ``data``: a dataset of the dropdown (default: bnomial's blobs) or your own
      :class:`helpers.Dataset`, trained as given and listed first. The noise slider re-makes blobs.
    - ``batch_size``: a stop of the slider (:func:`batch_size_options`: powers of two below
      ``n_train``, and ``n_train``), so a session compiles a bounded number of programs.
    - ``learning_rate`` in ``[1e-5, 10]``, ``momentum`` in ``[0, 1)``, ``epochs`` in ``[1, 300]``,
      ``seeds`` in ``[1, 10]`` (more than one: the mean and a min-max band); ``x``: ``"epoch"``,
      ``"update"`` or ``"second"``.
    - ``warm_up``: compile ahead in the background while idle.
    - ``pins``: up to six runs pinned from the start, each a dict changing some starting settings.

    Keep the returned :class:`Explorer` (a cell's last expression or a variable) while you use it.

    >>> helpers.explore(batch_size=1, learning_rate=0.001)   # doctest: +SKIP
    >>> helpers.explore(batch_size=256, pins=[dict(batch_size=32)])   # doctest: +SKIP
    """
    return Explorer(data, batch_size=batch_size, learning_rate=learning_rate, momentum=momentum,
                    epochs=epochs, seeds=seeds, x=x, warm_up=warm_up, pins=pins)
