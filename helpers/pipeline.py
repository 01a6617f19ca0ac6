"""One pipeline for every training run, whichever engine computes it.

:func:`helpers.train` (one model, Keras's own ``train_step``, bit for bit
``model.fit``) and :func:`helpers.train_replicas` (many models in one XLA
program) are two engines behind the same steps, all of them here:

1. **The door**: :func:`plan_runs` checks the data and every argument and
   expands each schedule into one value per epoch, calling it once per
   epoch; the result is a :class:`RunPlan`.
2. **The engine** runs epochs and hands back Keras's per-epoch logs. Its
   compiled programs live in :data:`PROGRAMS` and its models in
   :data:`ENGINES`, both bounded caches (least recently used out first);
   :func:`timed_compile` times the compile with TensorFlow's retracing
   warning silenced.
3. **The rule**: :func:`diverged` says when a run has diverged.
4. **The result**: :meth:`RunPlan.result` builds the :class:`TrainResult`,
   with one ``config`` for both engines (a schedule is recorded by its name).
"""

import collections
import contextlib
import functools
import logging
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from . import compile_cache
from ._backend import keras
from ._checks import check_bool, check_choice, check_float, check_int
from .data import Dataset
from .models import ACTIVATIONS, INITIALIZERS

__all__ = ["HISTORY_KEYS", "TrainResult", "RunPlan", "plan_runs", "check_dataset", "check_model",
           "check_learning_rate", "check_architecture", "diverged", "first_divergence",
           "ProgramCache", "PROGRAMS", "ENGINES", "timed_compile", "quiet_retracing",
           "one_at_a_time", "MAX_UPDATES", "MAX_EPOCHS"]

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
#: Epochs over which :meth:`TrainResult.jitter` smooths a curve into its trend.
JITTER_WINDOW = 9
MAX_EPOCHS = 100_000
#: Most per-update losses one call may record (all runs together): 20 million
#: float64 numbers are 160 MB, about what a laptop's notebook can spare.
MAX_UPDATES = 20_000_000
MAX_SEED = 2**31 - 1
MODEL_DEFAULTS = dict(hidden_units=32, activation="relu", kernel_initializer="glorot_uniform")


@dataclass(eq=False)
class TrainResult:
    """What one training run produced.

    Attributes
    ----------
    history : dict of str -> list of float
        Keras's keys and meaning: ``loss`` and ``accuracy`` averaged over the
        epoch's batches, ``val_loss`` and ``val_accuracy`` on the validation
        split at the end of each epoch. One value per epoch run.
    batch_loss : ndarray of shape (total_updates,)
        The loss of each update's own batch, before that update.
    epoch_updates : ndarray of shape (epochs_run,)
        Parameter updates made in each epoch.
    epoch_seconds : ndarray of shape (epochs_run,)
        Wall time of each epoch's training (compilation excluded; for
        :func:`helpers.train` the validation pass is not included, for
        :func:`helpers.train_replicas` it is, see ``eval_seconds``).
    seconds : float
        Sum of ``epoch_seconds``.
    compile_seconds : float
        Time spent tracing and compiling before the run (0 when reused).
    config : dict
        The arguments that produced the run; a schedule is recorded by its
        ``name`` (``"schedule"`` for a callable without one).
    diverged_at : int or None
        The 1-based epoch whose loss stopped being finite or exceeded 100x
        the loss of guessing (``100 * ln(n_classes)``); training stopped there.
    model : keras.Model or None
        The trained model (None for results loaded from a cache).
    eval_seconds : float or None
        Wall time of the validation passes after the epochs, measured apart
        from training by :func:`helpers.train`; None where it is part of
        ``seconds`` (:func:`helpers.train_replicas` evaluates inside its
        compiled program).
    test_loss, test_accuracy : float or None
        The test split's loss and accuracy after the last epoch, computed
        only when the run was asked for them (``test=True``): the course
        scores chosen settings on the test split once.
    val_loss_by_update : ndarray of shape (total_updates,) or None
        The validation loss after each update, NaN after those where it was
        not computed; only from ``train_replicas(..., eval_every=k)`` (every
        k-th update and every epoch end), None otherwise.
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

        The trend is the curve smoothed over ``window`` epochs (a local
        quadratic fit, Savitzky-Golay); the jitter is the mean absolute
        distance of the curve from it over the second half of the run. A
        smooth curve follows its trend, so a smooth descent, however steep,
        has a jitter near 0; a curve that jumps up and down from epoch to
        epoch has a large one. It is how the course puts a number on "this
        curve is noisier".
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
        half = len(values) // 2
        return float(np.mean(np.abs(values - trend)[half:]))

    def final(self, key):
        """The last recorded value of ``history[key]``."""
        if key not in self.history:
            raise KeyError(f"key must be one of {sorted(self.history)}, got {key!r}")
        return self.history[key][-1]

    def __repr__(self):
        h = self.history
        state = (f"diverged at epoch {self.diverged_at}" if self.diverged
                 else f"accuracy {h['accuracy'][-1]:.3f}, val_accuracy {h['val_accuracy'][-1]:.3f}")
        return (f"TrainResult({self.label}: {self.epochs_run} epochs, "
                f"{self.updates[-1]} updates, {self.seconds:.2f} s, {state})")

    def to_dict(self):
        """A JSON-safe dict of everything but the model."""
        return dict(history={k: [float(v) for v in vals] for k, vals in self.history.items()},
                    batch_loss=self.batch_loss.astype(float).tolist(),
                    epoch_updates=self.epoch_updates.astype(int).tolist(),
                    epoch_seconds=self.epoch_seconds.astype(float).tolist(),
                    seconds=float(self.seconds), compile_seconds=float(self.compile_seconds),
                    config=self.config, diverged_at=self.diverged_at,
                    eval_seconds=self.eval_seconds, test_loss=self.test_loss,
                    test_accuracy=self.test_accuracy,
                    **({} if self.val_loss_by_update is None else dict(val_loss_by_update=[
                        None if np.isnan(v) else float(v) for v in self.val_loss_by_update])))

    @classmethod
    def from_dict(cls, d):
        """Rebuild a result written by :meth:`to_dict` (without its model).

        Raises
        ------
        ValueError, KeyError, TypeError
            If ``d`` is not such a dict or its parts disagree (a history
            longer than its epochs, per-update losses that do not add up to
            the updates, an epoch of divergence that is not the last).
        """
        history = {k: [float(v) for v in d["history"][k]] for k in HISTORY_KEYS}
        result = cls(history=history,
                     batch_loss=np.asarray(d["batch_loss"], dtype=float),
                     epoch_updates=np.asarray(d["epoch_updates"], dtype=int),
                     epoch_seconds=np.asarray(d["epoch_seconds"], dtype=float),
                     seconds=float(d["seconds"]), compile_seconds=float(d["compile_seconds"]),
                     config=dict(d["config"]), diverged_at=d["diverged_at"],
                     **{k: None if d.get(k) is None else float(d[k])
                        for k in ("eval_seconds", "test_loss", "test_accuracy")})
        if d.get("val_loss_by_update") is not None:
            result.val_loss_by_update = np.array(
                [np.nan if v is None else v for v in d["val_loss_by_update"]], dtype=float)
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


def schedule_label(value):
    """How a config records a value: itself, or a schedule's ``name`` (else ``"schedule"``)."""
    return getattr(value, "name", "schedule") if callable(value) else value


# --- the door ----------------------------------------------------------------------------


def check_dataset(data):
    """Return ``data`` if it is a :class:`helpers.Dataset` with a validation split.

    Training evaluates the validation split after every epoch, so a dataset
    without one is refused here (its arrays were checked by the Dataset itself).
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a helpers Dataset (from load_blobs or load_digits), "
                        f"got {type(data).__name__}")
    if not data.has_validation:
        raise ValueError(f"data must have a validation split (x_val, y_val) to evaluate after "
                         f"every epoch, got {data!r}; data.with_validation(size) holds out "
                         f"`size` training rows for it")
    return data


def check_model(model, rows):
    """The number of outputs per row of ``model`` on ``rows``; refuses a model that fails on them.

    Calling the model once on a row of the data is what tells, for any Keras
    model, whether it takes the data's features (an unbuilt model is built).
    """
    if not isinstance(model, keras().Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    try:
        shape = tuple(model(rows, training=False).shape)
    except Exception as error:  # Keras raises many kinds for a mismatch
        raise ValueError(f"model must take inputs of {rows.shape[1]} features, got "
                         f"{model.name!r}, which fails on one row of them: {error}") from None
    if len(shape) != 2:
        raise ValueError(f"model must output one row of class probabilities per input row, got "
                         f"{model.name!r} with outputs of shape {('batch',) + shape[1:]}")
    return shape[1]


def check_learning_rate(name, value):
    """A learning rate: a finite number > 0 that float32, the trainer's precision, can hold."""
    value = check_float(name, value, low=0.0, low_open=True)
    with np.errstate(over="ignore"):
        stored = float(np.float32(value))
    if stored == 0.0 or not math.isfinite(stored):
        raise ValueError(f"{name} must be a finite number in (0, inf] that float32 (the trainer's "
                         f"precision) can hold, got {value!r}, which rounds to {stored!r} in float32")
    return value


def check_architecture(hidden_units, activation, kernel_initializer):
    """The course MLP's architecture arguments, checked, as a dict."""
    return dict(hidden_units=check_int("hidden_units", hidden_units, low=1, high=4096),
                activation=check_choice("activation", activation, ACTIVATIONS),
                kernel_initializer=check_choice("kernel_initializer", kernel_initializer,
                                                INITIALIZERS))


def _per_epoch(name, value, epochs, check):
    """``value`` at every epoch: a constant checked once, a schedule called once per epoch."""
    if not callable(value):
        return [check(name, value)] * epochs
    values = []
    for epoch in range(epochs):
        try:
            given = value(epoch)
        except Exception as error:   # the schedule's own: passed on whole, with where it came from
            error.add_note(f"raised by the schedule {name}({epoch}), called by helpers for epoch {epoch}")
            raise
        try:
            values.append(check(name, given))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name}({epoch}) returned a bad value: {error}") from None
    return values


@dataclass(frozen=True, eq=False)
class RunPlan:
    """Runs of one call, checked and expanded: what an engine needs and nothing to check.

    Attributes
    ----------
    data : Dataset
    epochs : int
    batch_sizes : tuple of int
        The batch size of every epoch.
    learning_rates : ndarray of shape (runs, epochs)
        Each run's learning rate at every epoch.
    seeds : tuple of int
        One per run.
    momentum : float
    shuffle : bool
    architecture : dict
        ``hidden_units``, ``activation``, ``kernel_initializer``.
    labels : dict
        ``batch_size`` -> how the config records it; ``learning_rates`` ->
        one such record per run.
    """

    data: Dataset
    epochs: int
    batch_sizes: tuple
    learning_rates: np.ndarray
    seeds: tuple
    momentum: float
    shuffle: bool
    architecture: dict
    labels: dict

    @property
    def runs(self):
        return len(self.seeds)

    def config(self, k, **extra):
        """Run ``k``'s config; ``extra`` (e.g. ``jit_compile``, ``trainer``) comes last."""
        return dict(dataset=self.data.config, batch_size=self.labels["batch_size"],
                    epochs=self.epochs, learning_rate=self.labels["learning_rates"][k],
                    momentum=self.momentum, seed=self.seeds[k], **self.architecture,
                    shuffle=self.shuffle, **extra)

    def result(self, k, *, history, batch_loss, epoch_updates, epoch_seconds, compile_seconds,
               diverged_at, model=None, eval_seconds=None, test=(None, None), **extra):
        """Run ``k``'s :class:`TrainResult`; ``extra`` goes into its config.

        ``test`` is the run's (test loss, test accuracy), if it was asked for.
        """
        epoch_seconds = np.asarray(epoch_seconds, dtype=float)
        return TrainResult(history={key: [float(v) for v in history[key]] for key in HISTORY_KEYS},
                           batch_loss=np.asarray(batch_loss, dtype=float),
                           epoch_updates=np.asarray(epoch_updates, dtype=int),
                           epoch_seconds=epoch_seconds, seconds=float(epoch_seconds.sum()),
                           compile_seconds=float(compile_seconds), config=self.config(k, **extra),
                           diverged_at=diverged_at, model=model,
                           eval_seconds=None if eval_seconds is None else float(eval_seconds),
                           test_loss=None if test[0] is None else float(test[0]),
                           test_accuracy=None if test[1] is None else float(test[1]))


def plan_runs(data, *, batch_size, epochs, learning_rates, seeds, momentum, shuffle, architecture,
              rate_names=None, seed_names=None):
    """Check one call's arguments and expand its schedules into a :class:`RunPlan`.

    Parameters
    ----------
    data : Dataset
    batch_size : int or callable
        Shared by every run; a callable is a schedule of the 0-based epoch.
    epochs : int
    learning_rates, seeds : lists, one entry per run
        A learning rate may be a schedule.
    momentum : float
    shuffle : bool
    architecture : dict
        Already checked (:func:`check_architecture`, or read from a model).
    rate_names, seed_names : list of str, optional
        The arguments' names in messages; default ``learning_rates[k]`` and
        ``seeds[k]`` (:func:`helpers.train` says ``learning_rate`` and ``seed``).
    """
    data = check_dataset(data)
    n_train = data.n_train
    epochs = check_int("epochs", epochs, low=1, high=MAX_EPOCHS)
    if not learning_rates or len(learning_rates) != len(seeds):
        raise ValueError(f"learning_rates and seeds must be non-empty and of equal length, "
                         f"got {len(learning_rates)} and {len(seeds)}")
    rate_names = rate_names or [f"learning_rates[{k}]" for k in range(len(learning_rates))]
    seed_names = seed_names or [f"seeds[{k}]" for k in range(len(seeds))]
    seeds = tuple(check_int(name, s, low=0, high=MAX_SEED) for name, s in zip(seed_names, seeds))
    momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
    check_bool("shuffle", shuffle)
    sizes = _per_epoch("batch_size", batch_size, epochs,
                       lambda name, v: check_int(name, v, low=1, high=n_train))
    rates = np.array([_per_epoch(name, lr, epochs, check_learning_rate)
                      for name, lr in zip(rate_names, learning_rates)], dtype=float)
    updates = sum(-(-n_train // b) for b in sizes) * len(seeds)
    if updates > MAX_UPDATES:
        raise ValueError(f"epochs={epochs} at batch_size={schedule_label(batch_size)} for "
                         f"{len(seeds)} run(s) make {updates:,} updates, and their per-update "
                         f"losses ({updates * 8 / 2**20:,.0f} MB) would not fit in memory; "
                         f"at most {MAX_UPDATES:,} updates per call: fewer epochs or a larger batch")
    labels = dict(batch_size=schedule_label(batch_size),
                  learning_rates=tuple(schedule_label(lr) for lr in learning_rates))
    return RunPlan(data=data, epochs=epochs, batch_sizes=tuple(sizes), learning_rates=rates,
                   seeds=seeds, momentum=momentum, shuffle=shuffle, architecture=dict(architecture),
                   labels=labels)


# --- the rule ----------------------------------------------------------------------------


def diverged(loss, val_loss, n_classes):
    """True where a loss is not finite or above 100x the loss of guessing (elementwise).

    Guessing uniformly costs ``ln(n_classes)`` (1.1 for three classes); a
    run 100 times worse than that has left any region where it can learn.
    Since the data were checked at the door, a loss that is not finite can
    only come from the training itself.
    """
    limit = 100 * math.log(n_classes)
    loss, val_loss = np.asarray(loss, dtype=float), np.asarray(val_loss, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(loss) & np.isfinite(val_loss) & (loss <= limit) & (val_loss <= limit))


def first_divergence(loss, val_loss, n_classes):
    """Per run (columns of ``[epochs, runs]`` arrays), the 1-based first diverged epoch or None."""
    bad = diverged(loss, val_loss, n_classes)
    return [int(np.argmax(column)) + 1 if column.any() else None for column in bad.T]


# --- the engines' machinery ---------------------------------------------------------------


class ProgramCache:
    """Values by key, at most ``maxsize`` of them: the least recently used goes first.

    Compiled programs and engines are kept here, so that a sweep compiles
    once per batch size, while a long session does not keep every program
    it ever compiled.
    """

    def __init__(self, maxsize):
        self._items = collections.OrderedDict()
        self.maxsize = maxsize

    @property
    def maxsize(self):
        return self._maxsize

    @maxsize.setter
    def maxsize(self, value):
        self._maxsize = check_int("maxsize", value, low=1)
        self._evict()

    def get(self, key):
        """The value of ``key`` (now the most recently used), or None."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key, value):
        self._items[key] = value
        self._items.move_to_end(key)
        self._evict()
        return value

    def _evict(self):
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def discard(self, predicate):
        """Drop every entry whose key satisfies ``predicate``."""
        for key in [k for k in self._items if predicate(k)]:
            del self._items[key]

    def __contains__(self, key):
        return key in self._items

    def __len__(self):
        return len(self._items)

    def keys(self):
        """The keys, least recently used first."""
        return list(self._items)



#: Compiled epoch or chunk programs of both engines, by program key. 64 hold
#: every batch size of the explorer's slider on its datasets, and any lesson.
#: Dropping a program frees its Python side only: TensorFlow's runtime keeps
#: the XLA executable it compiled (about 12 MB) for the life of the process
#: (benchmarks/bench_memory.py --programs), so the bound is generous and what
#: saves memory is compiling fewer programs (momentum and a given model of the
#: course's architecture share them).
PROGRAMS = ProgramCache(maxsize=64)
#: The engines (a compiled model and its optimizer), by engine key.
ENGINES = ProgramCache(maxsize=16)


def engine_for(key, make):
    """The engine of ``key``, made by ``make()`` if not cached.

    Program keys start with their engine's key (``(engine_key, ...)``), so
    the programs of an engine that leaves the cache leave with it.
    """
    engine = ENGINES.get(key)
    if engine is None:
        before = set(ENGINES.keys())
        engine = ENGINES.put(key, make())
        gone = before - set(ENGINES.keys())
        PROGRAMS.discard(lambda program: program[0] in gone)
    return engine


def expected_retracing(record):
    """Drop TensorFlow's warning about retracing: each new batch size is meant to compile."""
    return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing():
    logger = logging.getLogger("tensorflow")
    logger.addFilter(expected_retracing)
    try:
        yield
    finally:
        logger.removeFilter(expected_retracing)


def timed_compile(call):
    """Run ``call()`` (a first call that traces and compiles), return its seconds.

    The persistent compile cache is checked first and sealed after
    (:func:`helpers.compile_cache.before_compile`): TensorFlow would fail on a
    damaged stored program, or block on a pipe in its place.
    """
    compile_cache.before_compile()
    start = time.perf_counter()
    with quiet_retracing():
        call()
    seconds = time.perf_counter() - start
    compile_cache.after_compile()
    return seconds


# Engines share variables between runs, so two trainings must not overlap (the
# explorer widget trains in a background thread while a notebook cell may train).
TRAINING_LOCK = threading.RLock()


def one_at_a_time(function):
    @functools.wraps(function)
    def locked(*args, **kwargs):
        with TRAINING_LOCK:
            return function(*args, **kwargs)

    return locked


@functools.cache
def momentum_sgd():
    """Keras's SGD with its momentum in a variable, so one program serves every momentum.

    Keras's SGD bakes ``momentum`` into the compiled program as a constant, so
    each new momentum would compile anew (about a second: the explorer's
    momentum slider would wait for the compiler). This subclass runs Keras's
    own update, ``m = momentum * m - lr * g; w += m``, reading ``momentum``
    from a variable. Without XLA its weights and histories are bit for bit
    those of Keras's SGD at every momentum, 0 included, where Keras runs
    ``w -= lr * g`` instead (tests/test_training.py). With XLA they agree as
    closely as XLA agrees with ``model.fit`` anyway; at momentum 0 XLA may
    round ``w + (0 * m - lr * g)`` and ``w - lr * g`` apart by about 1e-7.
    Both engines use it.
    """
    k = keras()
    ops = k.ops

    class MomentumSGD(k.optimizers.SGD):
        def __init__(self, learning_rate=0.01):
            # The constructor's momentum only makes Keras build the momentum slots.
            super().__init__(learning_rate=learning_rate, momentum=0.9)

        def build(self, variables):
            if self.built:
                return
            super().build(variables)
            self.momentum_value = self.add_variable(shape=(), initializer="zeros",
                                                    dtype="float32", name="momentum_value")

        def update_step(self, gradient, variable, learning_rate):
            learning_rate = ops.cast(learning_rate, variable.dtype)
            gradient = ops.cast(gradient, variable.dtype)
            m = self.momentums[self._get_variable_index(variable)]
            momentum = ops.cast(self.momentum_value, variable.dtype)
            self.assign(m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)))
            self.assign_add(variable, m)

    return MomentumSGD
