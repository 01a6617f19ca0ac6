"""What one update costs at each batch size, on the learner's machine: Keras's ``model.fit`` (a Python-driven loop, a
fixed cost per step) against :func:`helpers.train` (an epoch compiled into one program)."""

import time
from dataclasses import dataclass

import numpy as np

from . import compile_cache
from ._backend import keras
from ._checks import check_int, check_sequence
from .data import MAX_FEATURE_BYTES, Dataset
from .models import build_mlp
from .pipeline import MAX_SEED, check_dataset
from .training import train

__all__ = ["StepCosts", "measure_step_costs"]


@dataclass(eq=False)
class StepCosts:
    """``seconds_per_update``: ``"model.fit"`` and ``"helpers.train"`` -> one value per batch size."""
    batch_sizes: list
    seconds_per_update: dict

    def examples_per_second(self, name):
        """Training examples processed per second by ``name`` at each batch size."""
        return np.asarray(self.batch_sizes) / self.seconds_per_update[name]

    def __str__(self):
        names = list(self.seconds_per_update)
        return "\n".join(["batch size  " + "  ".join(f"{n + ' µs/update':>22s}" for n in names)] + [
            f"{b:10d}  " + "  ".join(f"{1e6 * self.seconds_per_update[n][i]:22.1f}" for n in names)
            for i, b in enumerate(self.batch_sizes)])


#: Epochs of :func:`helpers.train` per batch size in :func:`measure_step_costs`; the first compiles.
TRAIN_EPOCHS = 4


def seconds_per_step(ends):
    """The median time between step ends after the first (it traces); the median ignores a busy machine's pauses."""
    return float(np.median(np.diff(np.asarray(ends, dtype=float))[1:]))


def _step_timer():
    """A Keras callback that keeps the time from each batch's end to the next one's."""
    k = keras()

    class StepTimer(k.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())
    return StepTimer()


def _tiled(data, n):
    """The training set repeated up to ``n`` rows, so that a large batch makes many updates."""
    reps = -(-n // data.n_train)
    return Dataset(x_train=np.tile(data.x_train, (reps, 1))[:n],
                   y_train=np.tile(data.y_train, reps)[:n], x_test=data.x_test, y_test=data.y_test,
                   x_val=data.x_val, y_val=data.y_val, name=f"{data.name} x{reps}", n_classes=data.n_classes,
                   config=dict(data.config, tiled_to=n))


def measure_step_costs(data, batch_sizes, *, min_updates=64, fit_updates=40, seed=0):
    """The :class:`StepCosts` of the course's MLP at each batch size, tracing and compiling excluded.

    ``model.fit``: the median time between update ends in one epoch of ``fit_updates`` updates (the
    training set repeated as needed). ``helpers.train``: the fastest of the epochs after the first
    (each of at least ``min_updates`` updates), divided by its updates; validation not counted.

    >>> from helpers import load_blobs
    >>> costs = measure_step_costs(load_blobs(), [1, 800], min_updates=4, fit_updates=4)
    >>> sorted(costs.seconds_per_update), costs.batch_sizes
    (['helpers.train', 'model.fit'], [1, 800])
    """
    data = check_dataset(data)
    batch_sizes = [check_int(f"batch_sizes[{i}]", b, low=1, high=data.n_train)
                   for i, b in enumerate(check_sequence("batch_sizes", batch_sizes, "ints"))]
    if not batch_sizes:
        raise ValueError("batch_sizes must hold at least one batch size, got an empty sequence")
    min_updates = check_int("min_updates", min_updates, low=1, high=10_000)
    fit_updates = check_int("fit_updates", fit_updates, low=3, high=10_000)
    seed = check_int("seed", seed, low=0, high=MAX_SEED)
    rows = max(fit_updates, min_updates) * max(batch_sizes)
    if rows * data.n_features * 4 > MAX_FEATURE_BYTES:
        raise ValueError(f"min_updates={min_updates} and fit_updates={fit_updates} at batch size "
                         f"{max(batch_sizes)} need a training set of {rows:,} rows "
                         f"({rows * data.n_features * 4 / 2**30:.1f} GB), more than fits in memory "
                         f"here; fewer updates or smaller batch sizes")
    k = keras()
    model = build_mlp(data.n_features, data.n_classes, seed=seed)
    model.compile(optimizer=k.optimizers.SGD(learning_rate=0.001, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit, compiled = [], []
    for b in batch_sizes:
        steps = _tiled(data, fit_updates * b)
        timer = _step_timer()
        compile_cache.before_compile()
        with compile_cache.stable_names("step costs, model.fit", b, steps.x_train.shape):
            model.fit(steps.x_train, steps.y_train, batch_size=b, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
        compile_cache.after_compile()
        fit.append(seconds_per_step(timer.ends))
        tiled = _tiled(data, max(data.n_train, min_updates * b))
        run = train(tiled, batch_size=b, epochs=TRAIN_EPOCHS, learning_rate=0.001, seed=seed)
        compiled.append(min(np.asarray(run.epoch_seconds[1:]) / np.asarray(run.epoch_updates[1:])))
    return StepCosts(batch_sizes=batch_sizes,
                     seconds_per_update={"model.fit": np.array(fit), "helpers.train": np.array(compiled)})
