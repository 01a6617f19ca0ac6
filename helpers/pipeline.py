"""The door of every training run: :func:`plan_runs` checks a call's arguments into a :class:`RunPlan`.

Both engines (:func:`helpers.train`, :func:`helpers.train_replicas`) take the plan as it is,
and it builds each run's :class:`helpers.result.TrainResult` with one ``config`` for both.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._backend import keras
from ._checks import check_bool, check_choice, check_float, check_int
from .data import Dataset
from .models import ACTIVATIONS, INITIALIZERS
from .result import HISTORY_KEYS, TrainResult

__all__ = ["RunPlan", "plan_runs", "check_dataset", "check_model", "check_learning_rate", "check_architecture",
           "schedule_label", "MAX_UPDATES", "MAX_EPOCHS", "MAX_SEED", "MODEL_DEFAULTS"]

MAX_EPOCHS = 100_000
#: Most per-update losses one call may record: 160 MB of float64, what a laptop can spare.
MAX_UPDATES = 20_000_000
MAX_SEED = 2**31 - 1
MODEL_DEFAULTS = dict(hidden_units=32, activation="relu", kernel_initializer="glorot_uniform")


def schedule_label(value):
    """How a config records a value: itself, or a schedule's ``name`` (else ``"schedule"``)."""
    return getattr(value, "name", "schedule") if callable(value) else value


def check_dataset(data):
    """Return ``data`` if it is a :class:`helpers.Dataset` with a validation split."""
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a helpers Dataset (from load_blobs or load_digits), "
                        f"got {type(data).__name__}")
    if not data.has_validation:
        raise ValueError(f"data must have a validation split (x_val, y_val) to evaluate after "
                         f"every epoch, got {data!r}; data.with_validation(size) holds out "
                         f"`size` training rows for it")
    return data


def check_model(model, rows):
    """The number of outputs per row of ``model`` on ``rows``; refuses a model that fails on them."""
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
                kernel_initializer=check_choice("kernel_initializer", kernel_initializer, INITIALIZERS))


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

    ``batch_sizes`` holds every epoch's batch size, ``learning_rates`` (runs x epochs) every
    run's rate; ``labels`` says how the config records the batch size and each run's rate.
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

    @classmethod
    def of_constants(cls, data, *, batch_size, epochs, learning_rates, seeds, momentum, shuffle, architecture):
        """The plan of runs whose arguments are constants already checked (as :func:`helpers.sweep` does)."""
        return cls(data=data, epochs=epochs, batch_sizes=(batch_size,) * epochs,
                   learning_rates=np.repeat(np.array(learning_rates, dtype=float)[:, None], epochs, axis=1),
                   seeds=tuple(seeds), momentum=momentum, shuffle=shuffle, architecture=dict(architecture),
                   labels=dict(batch_size=batch_size, learning_rates=tuple(learning_rates)))

    def config(self, k, **extra):
        """Run ``k``'s config; ``extra`` (e.g. ``jit_compile``, ``trainer``) comes last."""
        return dict(dataset=self.data.config, batch_size=self.labels["batch_size"], epochs=self.epochs,
                    learning_rate=self.labels["learning_rates"][k], momentum=self.momentum, seed=self.seeds[k],
                    **self.architecture, shuffle=self.shuffle, **extra)

    def result(self, k, *, history, batch_loss, epoch_updates, epoch_seconds, compile_seconds,
               diverged_at, model=None, eval_seconds=None, test=(None, None), **extra):
        """Run ``k``'s :class:`TrainResult`; ``test`` is its (loss, accuracy), ``extra`` goes into its config."""
        epoch_seconds = np.asarray(epoch_seconds, dtype=float)
        test_loss, test_accuracy = (None if v is None else float(v) for v in test)
        return TrainResult(history={key: [float(v) for v in history[key]] for key in HISTORY_KEYS},
                           batch_loss=np.asarray(batch_loss, dtype=float),
                           epoch_updates=np.asarray(epoch_updates, dtype=int), epoch_seconds=epoch_seconds,
                           seconds=float(epoch_seconds.sum()), compile_seconds=float(compile_seconds),
                           config=self.config(k, **extra), diverged_at=diverged_at, model=model,
                           eval_seconds=None if eval_seconds is None else float(eval_seconds),
                           test_loss=test_loss, test_accuracy=test_accuracy)


def plan_runs(data, *, batch_size, epochs, learning_rates, seeds, momentum, shuffle, architecture, rate_names=None,
              seed_names=None):
    """Check one call's arguments and expand its schedules into a :class:`RunPlan`.

    ``data`` and ``architecture`` are already checked; ``learning_rates`` and ``seeds`` hold one entry per
    run, named in messages by ``rate_names`` and ``seed_names`` (default ``learning_rates[k]``, ``seeds[k]``).
    """
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
    sizes = _per_epoch("batch_size", batch_size, epochs, lambda name, v: check_int(name, v, low=1, high=n_train))
    rates = np.array([_per_epoch(name, lr, epochs, check_learning_rate)
                      for name, lr in zip(rate_names, learning_rates)], dtype=float)
    updates = sum(-(-n_train // b) for b in sizes) * len(seeds)
    if updates > MAX_UPDATES:
        raise ValueError(f"epochs={epochs} at batch_size={schedule_label(batch_size)} for "
                         f"{len(seeds)} run(s) make {updates:,} updates, and their per-update "
                         f"losses ({updates * 8 / 2**20:,.0f} MB) would not fit in memory; "
                         f"at most {MAX_UPDATES:,} updates per call: fewer epochs or a larger batch")
    return RunPlan(data=data, epochs=epochs, batch_sizes=tuple(sizes), learning_rates=rates, seeds=seeds,
                   momentum=momentum, shuffle=shuffle, architecture=dict(architecture),
                   labels=dict(batch_size=schedule_label(batch_size),
                               learning_rates=tuple(schedule_label(lr) for lr in learning_rates)))
