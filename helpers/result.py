"""What a training run produced (:class:`TrainResult`), and the rule that says when it diverged."""

import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_int, check_sequence
from .data import Dataset

__all__ = ["HISTORY_KEYS", "TrainResult", "diverged", "first_divergence", "as_results", "run_labels", "ExplorerRun"]

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
#: Epochs over which :meth:`TrainResult.jitter` smooths a curve into its trend.
JITTER_WINDOW = 9


@dataclass(eq=False)
class TrainResult:
    """What one training run produced.

    - ``history``: Keras's ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, one float per epoch run;
      ``batch_loss`` (one per update): the loss of each update's own batch, before that update.
    - ``epoch_updates``, ``epoch_seconds`` (one per epoch): updates and wall time of each epoch (compilation
      excluded; the validation pass included only for :func:`helpers.train_replicas`).
    - ``seconds``: sum of ``epoch_seconds``; ``compile_seconds``: compiling before the run (0 when reused).
    - ``config``: the arguments of the run; a schedule is recorded by its ``name``.
    - ``diverged_at``: the 1-based epoch whose loss was not finite or above ``100 * ln(n_classes)``, or None.
    - ``model``: the trained model (None for results loaded from a cache); ``eval_seconds``:
      :func:`helpers.train`'s validation passes, timed apart (else None).
    - ``test_loss``, ``test_accuracy``: the test split's scores after the last epoch, if asked (``test=True``);
      ``val_loss_by_update``: from ``train_replicas(..., eval_every=k)``, the validation loss after each update,
      NaN where it was not computed (else None).
    """

    history: dict
    batch_loss: np.ndarray
    epoch_updates: np.ndarray
    epoch_seconds: np.ndarray
    seconds: float
    compile_seconds: float
    config: dict
    diverged_at: int | None = None
    model: object = field(default=None, repr=False)
    eval_seconds: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    val_loss_by_update: np.ndarray | None = None

    @property
    def epochs_run(self):
        return len(self.history["loss"])

    @property
    def updates_per_epoch(self):
        """Updates per epoch: an int, or an array when the batch size changed."""
        values = np.unique(self.epoch_updates)
        return int(values[0]) if len(values) == 1 else self.epoch_updates.copy()

    @property
    def updates(self):
        """Cumulative updates at the end of each epoch, shape (epochs_run,)."""
        return np.cumsum(self.epoch_updates)

    @property
    def diverged(self):
        return self.diverged_at is not None

    @property
    def label(self):
        c = self.config
        return f"{_label_part('batch', c['batch_size'])}, {_label_part('lr', c['learning_rate'])}"

    def jitter(self, key="val_loss", *, window=JITTER_WINDOW):
        """How far ``history[key]`` strays from its own trend, once training has settled.

        The trend is the curve smoothed over ``window`` epochs (Savitzky-Golay, quadratic); the
        jitter is the mean absolute distance from it over the second half of the run: near 0 for
        a smooth descent however steep, large for a curve that jumps from epoch to epoch.
        """
        from scipy.signal import savgol_filter

        if key not in self.history:
            raise KeyError(f"key must be one of {sorted(self.history)}, got {key!r}")
        window = check_int("window", window, low=3)
        values = np.asarray(self.history[key], dtype=float)
        size = min(window, len(values) - (len(values) % 2 == 0))   # odd, at most the length
        if size < 3:
            return 0.0
        trend = savgol_filter(values, size, polyorder=2, mode="interp")
        return float(np.mean(np.abs(values - trend)[len(values) // 2:]))

    def final(self, key):
        """The last recorded value of ``history[key]``."""
        if key not in self.history:
            raise KeyError(f"key must be one of {sorted(self.history)}, got {key!r}")
        return self.history[key][-1]

    def __repr__(self):
        h = self.history
        state = (f"diverged at epoch {self.diverged_at}" if self.diverged
                 else f"accuracy {h['accuracy'][-1]:.3f}, val_accuracy {h['val_accuracy'][-1]:.3f}")
        return (f"TrainResult({self.label}: {self.epochs_run} epochs, {self.updates[-1]} updates, "
                f"{self.seconds:.2f} s, {state})")

    def to_dict(self):
        """A JSON-safe dict of everything but the model."""
        return dict(history={k: [float(v) for v in vals] for k, vals in self.history.items()},
                    batch_loss=self.batch_loss.astype(float).tolist(),
                    epoch_updates=self.epoch_updates.astype(int).tolist(),
                    epoch_seconds=self.epoch_seconds.astype(float).tolist(), seconds=float(self.seconds),
                    compile_seconds=float(self.compile_seconds), config=self.config, diverged_at=self.diverged_at,
                    eval_seconds=self.eval_seconds, test_loss=self.test_loss, test_accuracy=self.test_accuracy,
                    **({} if self.val_loss_by_update is None else dict(val_loss_by_update=[
                        None if np.isnan(v) else float(v) for v in self.val_loss_by_update])))

    @classmethod
    def from_dict(cls, d):
        """Rebuild a result written by :meth:`to_dict`; ValueError, KeyError or TypeError if ``d`` is not one."""
        history = {k: [float(v) for v in d["history"][k]] for k in HISTORY_KEYS}
        result = cls(history=history, batch_loss=np.asarray(d["batch_loss"], dtype=float),
                     epoch_updates=np.asarray(d["epoch_updates"], dtype=int),
                     epoch_seconds=np.asarray(d["epoch_seconds"], dtype=float), seconds=float(d["seconds"]),
                     compile_seconds=float(d["compile_seconds"]), config=dict(d["config"]),
                     diverged_at=d["diverged_at"], **{k: None if d.get(k) is None else float(d[k])
                                                      for k in ("eval_seconds", "test_loss", "test_accuracy")})
        if d.get("val_loss_by_update") is not None:
            result.val_loss_by_update = np.array([np.nan if v is None else v for v in d["val_loss_by_update"]],
                                                 dtype=float)
            if result.val_loss_by_update.shape != result.batch_loss.shape:
                raise ValueError(f"the result's parts disagree: {len(result.val_loss_by_update)} "
                                 f"validation losses by update, {len(result.batch_loss)} updates")
        epochs = result.epochs_run
        shapes = (result.batch_loss.ndim, result.epoch_updates.shape, result.epoch_seconds.shape)
        if epochs == 0 or any(len(v) != epochs for v in history.values()) \
                or shapes != (1, (epochs,), (epochs,)) or np.any(result.epoch_updates < 1) \
                or len(result.batch_loss) != int(result.epoch_updates.sum()):
            raise ValueError(f"the result's parts disagree: {epochs} epochs of history, "
                             f"epoch_updates of shape {result.epoch_updates.shape}, "
                             f"{len(result.batch_loss)} per-update losses")
        if result.diverged_at not in (None, epochs):
            raise ValueError(f"diverged_at must be None or the last epoch ({epochs}), "
                             f"got {result.diverged_at!r}")
        return result


def _label_part(quantity, value):
    if isinstance(value, float):
        return f"{quantity} {value:g}"
    text = str(value)
    # A schedule's name already starts with what it sets: "lr 0.05, x0.2 at epochs 10, 20".
    return text if text.startswith(f"{quantity} ") else f"{quantity} {text}"


def diverged(loss, val_loss, n_classes):
    """True where a loss is not finite or above 100x the loss of guessing, ``ln(n_classes)`` (elementwise)."""
    limit = 100 * math.log(n_classes)
    loss, val_loss = np.asarray(loss, dtype=float), np.asarray(val_loss, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(loss) & np.isfinite(val_loss) & (loss <= limit) & (val_loss <= limit))


def first_divergence(loss, val_loss, n_classes):
    """Per run (columns of ``[epochs, runs]`` arrays), the 1-based first diverged epoch or None."""
    return [int(np.argmax(column)) + 1 if column.any() else None for column in diverged(loss, val_loss, n_classes).T]


def as_results(results):
    """``results`` as a non-empty list of TrainResult (one may be given alone); refuses anything else."""
    if isinstance(results, TrainResult):
        return [results]
    iterable = hasattr(results, "__iter__") and not isinstance(results, (str, bytes, dict))
    listed = list(results) if iterable else []
    if not listed or not all(isinstance(r, TrainResult) for r in listed):
        raise TypeError(f"results must be a TrainResult or a non-empty list of them, got {results!r}")
    return listed


def run_labels(items, labels, what="result", default=None):
    """One str label per item: ``labels`` checked, else ``default`` (else each item's ``label``)."""
    if labels is None:
        return [r.label for r in items] if default is None else default
    labels = check_sequence("labels", labels, f"str, one per {what}")
    if len(labels) != len(items):
        raise ValueError(f"labels must have one entry per {what} ({len(items)}), got {len(labels)}")
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise TypeError(f"labels[{i}] must be a str, got {label!r}")
    return labels


@dataclass(eq=False)
class ExplorerRun:
    """One setting of the explorer's controls (``settings``), trained once per seed (``results``) in ``seconds``
    (wall time of all the runs, compilation included)."""

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
        outcome = (f"diverged at epoch {self.diverged_at}" if self.diverged_at else
                   f"final accuracy: train {self.final('accuracy'):.3f}, validation {self.final('val_accuracy'):.3f}")
        return (f"batch size {s['batch_size']} → {self.updates_per_epoch} updates per epoch, "
                f"{total:,} updates in {epochs}{seeds} · training {self.train_seconds:.2f} s per seed "
                f"(+{self.compile_seconds:.2f} s compiling) · {outcome}")
