"""Fast, Keras-faithful training.

``train`` runs the same computation as ``model.fit``: Keras's own
``model.train_step`` (forward pass, Keras loss, Keras SGD update, Keras
metrics; only the momentum is read from a variable, so that a new momentum
needs no new compile) once per batch, then ``model.test_step`` on the test split at the
end of every epoch. What changes is the plumbing: all steps of an epoch run
inside one ``tf.function`` (XLA-compiled by default), looping with
``tf.range`` instead of a Python loop, so a batch-1 epoch of 800 updates
costs milliseconds instead of a second. Compiled programs are kept and reused
across runs of the same architecture, so a sweep compiles once per batch size.
"""

import functools
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from . import compile_cache
from ._backend import keras, tf
from ._checks import check_bool, check_float, check_int
from .data import Dataset
from .models import build_mlp

__all__ = ["TrainResult", "train", "updates_per_epoch", "program_key", "HISTORY_KEYS"]

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


def updates_per_epoch(n_train, batch_size):
    """Number of parameter updates in one epoch: ``ceil(n_train / batch_size)``.

    >>> updates_per_epoch(800, 32), updates_per_epoch(500, 32), updates_per_epoch(800, 1)
    (25, 16, 800)
    """
    n_train = check_int("n_train", n_train, low=1)
    batch_size = check_int("batch_size", batch_size, low=1, high=n_train)
    return math.ceil(n_train / batch_size)


@dataclass(eq=False)
class TrainResult:
    """What one training run produced.

    Attributes
    ----------
    history : dict of str -> list of float
        Keras's keys and meaning: ``loss`` and ``accuracy`` averaged over the
        epoch's batches, ``val_loss`` and ``val_accuracy`` on the test split
        at the end of each epoch. One value per epoch run.
    batch_loss : ndarray of shape (total_updates,)
        The loss of each update's own batch, before that update.
    epoch_updates : ndarray of shape (epochs_run,)
        Parameter updates made in each epoch.
    epoch_seconds : ndarray of shape (epochs_run,)
        Wall time of each epoch (compilation excluded).
    seconds : float
        Wall time of the training run, compilation excluded.
    compile_seconds : float
        Time spent tracing and compiling before the run (0 when reused).
    config : dict
        The arguments that produced the run.
    diverged_at : int or None
        The 1-based epoch whose loss stopped being finite or exceeded 100x
        the loss of guessing (``100 * ln(n_classes)``); training stopped there.
    model : keras.Model or None
        The trained model (None for results loaded from a cache).
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
        lr = c["learning_rate"]
        lr_text = f"{lr:g}" if isinstance(lr, float) else str(lr)  # "schedule" for callables
        return f"batch {c['batch_size']}, lr {lr_text}"

    def jitter(self, key="val_loss"):
        """Mean absolute change of ``history[key]`` from one epoch to the next.

        A smooth curve has a small jitter, a noisy one a large jitter; it is
        how the course puts a number on "this curve is noisier".
        """
        if key not in self.history:
            raise KeyError(f"key must be one of {sorted(self.history)}, got {key!r}")
        values = np.asarray(self.history[key], dtype=float)
        return float(np.mean(np.abs(np.diff(values)))) if len(values) > 1 else 0.0

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
                    config=self.config, diverged_at=self.diverged_at)

    @classmethod
    def from_dict(cls, d):
        """Rebuild a result written by :meth:`to_dict` (without its model)."""
        return cls(history={k: list(v) for k, v in d["history"].items()},
                   batch_loss=np.asarray(d["batch_loss"], dtype=float),
                   epoch_updates=np.asarray(d["epoch_updates"], dtype=int),
                   epoch_seconds=np.asarray(d["epoch_seconds"], dtype=float),
                   seconds=float(d["seconds"]), compile_seconds=float(d["compile_seconds"]),
                   config=dict(d["config"]), diverged_at=d["diverged_at"])


@functools.cache
def _momentum_sgd():
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
    """
    k = keras()
    ops = k.ops

    class MomentumSGD(k.optimizers.SGD):
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


class _Engine:
    """A compiled Keras model + SGD optimizer whose epoch programs are reused.

    One engine serves every run of one architecture, at any momentum: a new
    run loads its own initial weights, momentum and a fresh optimizer state
    into the same variables, so the XLA programs compiled for earlier runs
    still apply.
    """

    def __init__(self, model, jit_compile):
        self.model = model
        # The constructor's momentum only makes Keras build the momentum slots.
        self.model.compile(optimizer=_momentum_sgd()(learning_rate=0.01, momentum=0.9),
                           loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        self.model.optimizer.build(self.model.trainable_variables)
        self._optimizer_start = [v.numpy() for v in self.model.optimizer.variables]
        self._tf = tf()
        self._jit_compile = jit_compile
        self._epoch = self._tf.function(self._run_epoch, jit_compile=jit_compile,
                                    reduce_retracing=False)
        self._compiled = set()

    def _run_epoch(self, x, y, x_test, y_test, batch_size):
        t = self._tf
        model = self.model
        n = x.shape[0]
        full = n // batch_size
        rest = n - full * batch_size
        model.reset_metrics()
        running = t.TensorArray(t.float32, size=full + (rest > 0))
        xs = t.reshape(x[:full * batch_size], (full, batch_size, x.shape[1]))
        ys = t.reshape(y[:full * batch_size], (full, batch_size))
        logs = None
        for i in t.range(full):
            logs = model.train_step((xs[i], ys[i]))
            running = running.write(i, logs["loss"])
        if rest:
            logs = model.train_step((x[full * batch_size:], y[full * batch_size:]))
            running = running.write(full, logs["loss"])
        train_logs = {"loss": logs["loss"], "accuracy": logs["accuracy"]}
        model.reset_metrics()
        val_logs = model.test_step((x_test, y_test))
        return (train_logs, {"val_loss": val_logs["loss"], "val_accuracy": val_logs["accuracy"]},
                running.stack())

    def _state(self):
        return [v.numpy() for v in self.model.variables + self.model.optimizer.variables]

    def _restore(self, state):
        for v, value in zip(self.model.variables + self.model.optimizer.variables, state):
            v.assign(value)

    def start(self, weights, learning_rate, momentum):
        self.model.set_weights(weights)
        for v, value in zip(self.model.optimizer.variables, self._optimizer_start):
            v.assign(value)
        self.model.optimizer.learning_rate.assign(learning_rate)
        self.model.optimizer.momentum_value.assign(momentum)

    def compile_for(self, tensors, batch_size):
        """Trace and compile the epoch program for these shapes; return seconds spent."""
        key = tuple(tuple(t.shape) for t in tensors) + (batch_size,)
        if key in self._compiled:
            return 0.0
        # Keras's metrics, built now as model.fit builds them, not inside the first trace:
        # every epoch program is then traced alike, and found in the compile cache.
        self.model._symbolic_build(data_batch=tensors[:2])
        state = self._state()
        start = time.perf_counter()
        tf_logger = logging.getLogger("tensorflow")
        tf_logger.addFilter(_expected_retracing)
        try:
            with compile_cache.stable_names("train", self.model.name, self._jit_compile, key):
                self._epoch(*tensors, batch_size)
        finally:
            tf_logger.removeFilter(_expected_retracing)
        compile_cache.seal()
        seconds = time.perf_counter() - start
        self._restore(state)
        self._compiled.add(key)
        return seconds

    def epoch(self, tensors, batch_size):
        train_logs, val_logs, running = self._epoch(*tensors, batch_size)
        logs = {k: float(v) for k, v in {**train_logs, **val_logs}.items()}
        return logs, running.numpy()


_ENGINES = {}
# Engines share variables between runs, so two trainings must not overlap (the
# explorer widget trains in a background thread while a notebook cell may train).
_TRAINING_LOCK = threading.RLock()


def _expected_retracing(record):
    """Drop TensorFlow's warning about retracing: each new batch size is meant to compile."""
    return "triggered tf.function retracing" not in record.getMessage()


def _one_at_a_time(function):
    @functools.wraps(function)
    def locked(*args, **kwargs):
        with _TRAINING_LOCK:
            return function(*args, **kwargs)

    return locked


def program_key(data, *, batch_size, hidden_units=32, activation="relu", jit_compile=True):
    """What decides whether a run can reuse a compiled epoch program.

    Runs with equal keys share one program; a new key compiles (about a
    second with XLA). The learning rate, momentum, seed and epochs never
    compile anew.
    """
    return (data.n_train, data.n_test, data.n_features, data.n_classes, hidden_units, activation,
            jit_compile, batch_size)


def _engine_for(data, hidden_units, activation, jit_compile):
    key = (data.n_features, data.n_classes, hidden_units, activation, jit_compile)
    if key not in _ENGINES:
        model = build_mlp(data.n_features, data.n_classes, hidden_units=hidden_units,
                          activation=activation)
        _ENGINES[key] = _Engine(model, jit_compile)
    return _ENGINES[key]


_MODEL_DEFAULTS = dict(hidden_units=32, activation="relu", kernel_initializer="glorot_uniform")


def _architecture(model):
    """``hidden_units``, ``activation`` and ``kernel_initializer`` of a given model.

    Read from the model itself, so the result's config describes the network
    that was trained; ``"custom"`` when it is not one hidden Dense layer and a
    Dense output, the shape :func:`helpers.build_mlp` builds.
    """
    layers = model.layers
    dense = keras().layers.Dense
    if len(layers) != 2 or not all(isinstance(layer, dense) for layer in layers):
        return dict.fromkeys(_MODEL_DEFAULTS, "custom")
    hidden = layers[0]
    # Keras's initializer classes are the CamelCase of their string names: HeUniform -> he_uniform.
    initializer = re.sub(r"(?<!^)(?=[A-Z])", "_", type(hidden.kernel_initializer).__name__).lower()
    return dict(hidden_units=int(hidden.units), activation=keras().activations.serialize(hidden.activation),
                kernel_initializer=initializer)


def _schedule_value(name, schedule, epoch, check):
    if callable(schedule):
        value = schedule(epoch)
        try:
            return check(value)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name}({epoch}) returned a bad value: {error}") from None
    return schedule


def _batch_losses(running, batch_size, n_train):
    """Each batch's own mean loss, from Keras's running (sample-weighted) mean."""
    sizes = np.full(len(running), batch_size, dtype=np.float64)
    sizes[-1] = n_train - batch_size * (len(running) - 1)
    totals = np.asarray(running, dtype=np.float64) * np.cumsum(sizes)
    return np.diff(totals, prepend=0.0) / sizes


def _diverged(logs, n_classes):
    """True once the loss is not finite or above 100x the loss of guessing.

    Guessing uniformly costs ``ln(n_classes)`` (1.1 for three classes); a
    run 100 times worse than that has left any region where it can learn.
    """
    limit = 100 * math.log(n_classes)
    return not all(math.isfinite(logs[k]) and logs[k] <= limit for k in ("loss", "val_loss"))


@_one_at_a_time
def train(data, *, batch_size, epochs, learning_rate, momentum=0.9, seed=0, model=None,
          hidden_units=_MODEL_DEFAULTS["hidden_units"], activation=_MODEL_DEFAULTS["activation"],
          kernel_initializer=_MODEL_DEFAULTS["kernel_initializer"], shuffle=True, jit_compile=True, progress=False):
    """Train an MLP with SGD + momentum, exactly as ``model.fit`` would, but fast.

    The loss is sparse categorical cross-entropy and the metric accuracy,
    as in the source experiments; the test split is the validation data.

    Parameters
    ----------
    data : Dataset
        From :func:`helpers.load_blobs` or :func:`helpers.load_digits`.
    batch_size : int or callable
        Samples per update, in ``[1, data.n_train]``; ``data.n_train`` is batch
        gradient descent, 1 is stochastic gradient descent. A callable
        ``batch_size(epoch)`` (``epoch`` counted from 0) sets it per epoch.
    epochs : int
        Passes over the training set, at least 1.
    learning_rate : float or callable
        SGD step size, > 0. A callable ``learning_rate(epoch)`` sets it per
        epoch, like Keras's ``LearningRateScheduler``.
    momentum : float, default 0.9
        SGD momentum in ``[0, 1)``.
    seed : int, default 0
        Seeds the initial weights and the shuffling; same seed, same run.
    model : keras.Model, optional
        A model to train from its current weights (it is compiled with SGD
        here, and ``seed`` then only seeds the shuffling). By default
        :func:`helpers.build_mlp` builds one from ``hidden_units``,
        ``activation``, ``kernel_initializer`` and ``seed``.
    hidden_units, activation, kernel_initializer
        Passed to :func:`helpers.build_mlp` when ``model`` is None; with a
        ``model`` they must keep their defaults (the model's own layers are
        trained), and the result's config records the model's.
    shuffle : bool, default True
        Shuffle the training set before every epoch, as ``model.fit`` does.
    jit_compile : bool, default True
        Compile each epoch with XLA. XLA reorders floating-point sums, so
        results agree with ``model.fit`` to about 1e-5 over a few epochs;
        ``False`` reproduces ``model.fit(jit_compile=False)`` bit for bit.
    progress : bool, default False
        Show a tqdm progress bar over epochs.

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError, ValueError
        If an argument is of the wrong type or out of range, or if
        ``hidden_units``, ``activation`` or ``kernel_initializer`` is set
        together with ``model``; the message names the argument and the bad value.

    Examples
    --------
    >>> from helpers import load_blobs, train
    >>> result = train(load_blobs(), batch_size=32, epochs=5, learning_rate=0.01)
    >>> result.updates_per_epoch, len(result.history["val_loss"])
    (25, 5)
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a helpers Dataset (from load_blobs or load_digits), "
                        f"got {type(data).__name__}")
    n_train = data.n_train

    def check_batch(value):
        return check_int("batch_size", value, low=1, high=n_train)

    def check_lr(value):
        return check_float("learning_rate", value, low=0.0, low_open=True)

    if not callable(batch_size):
        batch_size = check_batch(batch_size)
    if not callable(learning_rate):
        learning_rate = check_lr(learning_rate)
    epochs = check_int("epochs", epochs, low=1, high=100_000)
    momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
    seed = check_int("seed", seed, low=0, high=2**31 - 1)
    check_bool("shuffle", shuffle)
    check_bool("jit_compile", jit_compile)
    check_bool("progress", progress)

    init_model = build_mlp(data.n_features, data.n_classes, hidden_units=hidden_units,
                           activation=activation, kernel_initializer=kernel_initializer,
                           seed=seed) if model is None else model
    if model is None:
        engine = _engine_for(data, hidden_units, activation, jit_compile)
        architecture = dict(hidden_units=hidden_units, activation=activation,
                            kernel_initializer=kernel_initializer)
    else:
        if not isinstance(model, keras().Model):
            raise TypeError(f"model must be a keras.Model or None, got {type(model).__name__}")
        given = dict(hidden_units=hidden_units, activation=activation,
                     kernel_initializer=kernel_initializer)
        for name, value in given.items():
            if value != _MODEL_DEFAULTS[name]:
                raise ValueError(f"{name} has no effect with model= (the model's own layers are "
                                 f"trained), got {name}={value!r}; build the model with it instead")
        architecture = _architecture(model)
        engine = _Engine(model, jit_compile)

    first_lr = _schedule_value("learning_rate", learning_rate, 0, check_lr)
    engine.start(init_model.get_weights(), first_lr, momentum)

    t = tf()
    rng = np.random.default_rng(seed)
    test = (t.constant(data.x_test), t.constant(data.y_test))
    history = {k: [] for k in HISTORY_KEYS}
    batch_loss, epoch_updates, epoch_seconds = [], [], []
    compile_seconds, diverged_at = 0.0, None
    epoch_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="epochs", leave=False)
    for epoch in epoch_iter:
        size = _schedule_value("batch_size", batch_size, epoch, check_batch)
        lr = _schedule_value("learning_rate", learning_rate, epoch, check_lr)
        engine.model.optimizer.learning_rate.assign(lr)
        order = rng.permutation(n_train) if shuffle else np.arange(n_train)
        tensors = (t.constant(data.x_train[order]), t.constant(data.y_train[order])) + test
        compile_seconds += engine.compile_for(tensors, size)
        start = time.perf_counter()
        logs, running = engine.epoch(tensors, size)
        epoch_seconds.append(time.perf_counter() - start)
        for key in HISTORY_KEYS:
            history[key].append(logs[key])
        batch_loss.append(_batch_losses(running, size, n_train))
        epoch_updates.append(len(running))
        if _diverged(logs, data.n_classes):
            diverged_at = epoch + 1
            break

    final_weights = engine.model.get_weights()
    if model is None:
        init_model.set_weights(final_weights)
    config = dict(dataset=data.config, batch_size=batch_size if not callable(batch_size) else "schedule",
                  epochs=epochs, learning_rate=learning_rate if not callable(learning_rate) else "schedule",
                  momentum=momentum, seed=seed, **architecture, shuffle=shuffle, jit_compile=jit_compile)
    return TrainResult(history=history, batch_loss=np.concatenate(batch_loss),
                       epoch_updates=np.asarray(epoch_updates), epoch_seconds=np.asarray(epoch_seconds),
                       seconds=float(np.sum(epoch_seconds)), compile_seconds=compile_seconds,
                       config=config, diverged_at=diverged_at, model=init_model)
