"""Batch size in practice (lesson 09): the memory of a training step, and ghost batch normalisation.

:func:`step_memory` reads TensorFlow's own allocator, which on a CPU keeps statistics only when
``TF_CPU_ALLOCATOR_USE_BFC=true`` was set before TensorFlow's import (``tracemalloc`` does not see its buffers).
:class:`GhostBatchNormalization` normalises "ghost" batches of a fixed size inside each batch (Hoffer et al.
2017); Keras 3's layer lost its ``virtual_batch_size``.
"""

from dataclasses import dataclass

import numpy as np

from ._backend import keras, tf
from ._checks import check_int, check_sequence
from .pipeline import check_dataset

__all__ = ["StepMemory", "step_memory", "GhostBatchNormalization"]  # noqa: F822 (see __getattr__)

MB = 2**20


@dataclass(eq=False)
class StepMemory:
    """``megabytes`` (MB of 2**20 bytes): the peak TensorFlow allocated during one step at each batch
    size, above ``kept_megabytes`` (what it held before: weights, optimizer state, other tensors)."""

    name: str
    batch_sizes: np.ndarray
    megabytes: np.ndarray
    kept_megabytes: float
    parameters: int

    def fit(self):
        """``(fixed_mb, kb_per_example)``: the least-squares line ``megabytes = fixed + per_example * batch``."""
        slope, intercept = np.polyfit(self.batch_sizes, self.megabytes, 1)
        return float(intercept), float(slope * 1024)

    def largest_batch(self, megabytes):
        """The largest batch whose step fits in ``megabytes`` (on top of the weights), on the fitted line."""
        fixed, per_example = self.fit()
        return int((megabytes - fixed) * 1024 / per_example)


def _memory_info(device):
    try:
        return tf().config.experimental.get_memory_info(device)
    except ValueError as error:
        raise RuntimeError(f"TensorFlow keeps no memory statistics for {device} ({error}). On a CPU, run "
                           f"os.environ['TF_CPU_ALLOCATOR_USE_BFC'] = 'true' before TensorFlow is imported "
                           f"(restart the kernel, then run it before `import helpers`).") from None


def step_memory(model, data, batch_sizes, *, repeats=3, seed=0):
    """The :class:`StepMemory` of one SGD step of ``model`` (which it trains: pass one made for this) at each
    batch size, on rows of ``data``'s training split drawn with replacement (``seed``).

    Compiled without XLA, so a new batch size compiles nothing that would count. The largest peak of ``repeats``
    steps is kept: the order of a step's parallel operations, and so its peak, varies. RuntimeError if
    TensorFlow keeps no memory statistics here (see the module's docstring).
    """
    data = check_dataset(data)
    if not isinstance(model, keras().Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    sizes = sorted(check_int("batch_sizes", b, low=1, high=2**22)
                   for b in check_sequence("batch_sizes", batch_sizes, "batch sizes"))
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    device = "GPU:0" if tf().config.list_logical_devices("GPU") else "CPU:0"  # the allocator read
    _memory_info(device)
    model.compile(optimizer=keras().optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy",
                  jit_compile=False)

    def batch(size):
        rows = rng.integers(0, data.n_train, size)
        return data.x_train[rows], data.y_train[rows]

    for size in (1, 2, 3):           # builds the optimizer and traces the step for any batch size
        model.train_on_batch(*batch(size))
    added, kept = [], None
    repeats = check_int("repeats", repeats, low=1)
    for size in sizes:
        peaks = []
        for _ in range(repeats):
            x, y = batch(size)
            tf().config.experimental.reset_memory_stats(device)
            before = _memory_info(device)["current"]
            model.train_on_batch(x, y)
            peaks.append((_memory_info(device)["peak"] - before) / MB)
            kept = before / MB if kept is None else kept
        added.append(max(peaks))
    return StepMemory(name=model.name, batch_sizes=np.asarray(sizes), megabytes=np.asarray(added),
                      kept_megabytes=kept, parameters=int(model.count_params()))


def _ghost_batch_norm_class():
    k = keras()

    class GhostBatchNormalization(k.layers.BatchNormalization):
        """``BatchNormalization`` (2-D inputs) that, in training, normalises each run of
        ``virtual_batch_size`` (>= 2) consecutive rows by its own statistics; the moving statistics
        follow their mean. At inference, or for a batch no larger, it is ``BatchNormalization``.
        ``**kwargs`` go to ``keras.layers.BatchNormalization``.
        """

        def __init__(self, virtual_batch_size, **kwargs):
            if kwargs.get("axis", -1) not in (-1, 1):
                raise ValueError(f"GhostBatchNormalization normalises the last axis of 2-D inputs, "
                                 f"got axis={kwargs['axis']!r}")
            super().__init__(**kwargs)
            self.virtual_batch_size = check_int("virtual_batch_size", virtual_batch_size, low=2)

        def build(self, input_shape):
            if len(input_shape) != 2:
                raise ValueError(f"GhostBatchNormalization takes 2-D inputs (rows, features), got shape "
                                 f"{tuple(input_shape)}")
            super().build(input_shape)

        def get_config(self):
            return {**super().get_config(), "virtual_batch_size": self.virtual_batch_size}

        def call(self, inputs, training=None, mask=None):
            n = inputs.shape[0]
            if not training or (n is not None and n <= self.virtual_batch_size):
                return super().call(inputs, training=training, mask=mask)
            t = tf()
            x = t.cast(inputs, "float32")
            rows = t.shape(x)[0]
            ghost = t.range(rows) // self.virtual_batch_size
            ghosts = (rows + self.virtual_batch_size - 1) // self.virtual_batch_size
            counts = t.math.unsorted_segment_sum(t.ones([rows]), ghost, ghosts)[:, None]
            means = t.math.unsorted_segment_sum(x, ghost, ghosts) / counts
            centred = x - t.gather(means, ghost)
            variances = t.math.unsorted_segment_sum(centred ** 2, ghost, ghosts) / counts
            y = centred * t.math.rsqrt(t.gather(variances, ghost) + self.epsilon)
            if self.scale:
                y = y * t.cast(self.gamma, "float32")
            if self.center:
                y = y + t.cast(self.beta, "float32")
            weight = counts / t.cast(rows, "float32")
            m = self.momentum
            for moving, batch in ((self.moving_mean, means), (self.moving_variance, variances)):
                moving.assign(moving * m + t.cast(t.reduce_sum(batch * weight, axis=0), moving.dtype) * (1 - m))
            return t.cast(y, inputs.dtype)

    return GhostBatchNormalization


def __getattr__(name):
    # The layer subclasses a Keras class, so it is made on first use (Keras imports lazily).
    if name == "GhostBatchNormalization":
        globals()[name] = _ghost_batch_norm_class()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
