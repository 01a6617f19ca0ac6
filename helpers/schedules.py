"""Learning-rate and batch-size schedules, and the rules that scale one with the other.

A schedule is a callable of the 0-based epoch, passed as ``learning_rate=`` or ``batch_size=`` to
:func:`helpers.train` or :func:`helpers.train_replicas`; a learning-rate schedule also works in
``keras.callbacks.LearningRateScheduler``. Dividing the learning rate by ``k`` or multiplying the batch size
by ``k`` scales the gradient noise alike (Smith et al. 2018), so :class:`StepDecay` and
:meth:`BatchGrowth.matching` give matching curves, the second with far fewer updates.
"""

import math

from ._checks import check_choice, check_float, check_int

__all__ = ["StepDecay", "BatchGrowth", "scale_learning_rate"]


def _check_boundaries(boundaries):
    if isinstance(boundaries, (str, bytes)) or not hasattr(boundaries, "__iter__"):
        raise TypeError(f"boundaries must be a sequence of epochs, got {boundaries!r}")
    values = [check_int("boundaries[i]", b, low=1) for b in boundaries]
    if values != sorted(set(values)):
        raise ValueError(f"boundaries must be strictly increasing epochs, got {list(boundaries)!r}")
    return tuple(values)


class _Stages:
    """A value that is multiplied by ``factor`` at each boundary epoch."""

    quantity = ""  # what it sets, for its name (the label configs record)

    def _value(self, epoch):
        epoch = check_int("epoch", epoch, low=0)
        return self.initial * self.factor ** sum(epoch >= b for b in self.boundaries)

    @property
    def name(self):
        at = ", ".join(str(b) for b in self.boundaries)
        return f"{self.quantity} {self.initial:g}, x{self.factor:g} at epochs {at}"

    def __repr__(self):
        return f"{type(self).__name__}({self.initial!r}, factor={self.factor!r}, boundaries={list(self.boundaries)!r})"


class StepDecay(_Stages):
    """Learning rate ``initial * factor ** k`` after the ``k``-th of ``boundaries``.

    ``initial`` > 0; ``factor`` in (0, 1] (0.2 divides by 5); ``boundaries``: the 0-based epochs where a stage
    starts, strictly increasing. A bad argument raises TypeError or ValueError.

    >>> decay = StepDecay(0.1, factor=0.2, boundaries=[20, 40])
    >>> [round(decay(e), 6) for e in (0, 19, 20, 40)]
    [0.1, 0.1, 0.02, 0.004]
    """

    quantity = "lr"

    def __init__(self, initial, *, factor, boundaries):
        self.initial = check_float("initial", initial, low=0.0, low_open=True)
        self.factor = check_float("factor", factor, low=0.0, high=1.0, low_open=True)
        self.boundaries = _check_boundaries(boundaries)

    def __call__(self, epoch, learning_rate=None):
        """The learning rate of ``epoch``; ``learning_rate`` (Keras's current one) is ignored."""
        return float(self._value(epoch))


class BatchGrowth(_Stages):
    """Batch size ``initial * factor ** k`` after the ``k``-th of ``boundaries``.

    ``initial`` and ``factor`` are whole numbers >= 1; ``boundaries`` as in :class:`StepDecay`.

    >>> growth = BatchGrowth(8, factor=5, boundaries=[20, 40])
    >>> [growth(e) for e in (0, 20, 40)]
    [8, 40, 200]
    """

    quantity = "batch"

    def __init__(self, initial, *, factor, boundaries):
        self.initial = check_int("initial", initial, low=1)
        self.factor = check_int("factor", factor, low=1)
        self.boundaries = _check_boundaries(boundaries)

    @classmethod
    def matching(cls, decay, batch_size):
        """The batch growth that replaces ``decay`` (whose ``1 / factor`` is whole), from ``batch_size``.

        >>> BatchGrowth.matching(StepDecay(0.1, factor=0.2, boundaries=[20, 40]), 8)
        BatchGrowth(8, factor=5, boundaries=[20, 40])
        """
        if not isinstance(decay, StepDecay):
            raise TypeError(f"decay must be a StepDecay, got {decay!r}")
        growth = 1.0 / decay.factor
        if abs(growth - round(growth)) > 1e-9 * growth:
            raise ValueError(f"decay.factor must be 1/k for a whole k to match a batch growth, got {decay.factor!r}")
        return cls(batch_size, factor=int(round(growth)), boundaries=decay.boundaries)

    def __call__(self, epoch):
        """The batch size of ``epoch``."""
        return int(self._value(epoch))


def scale_learning_rate(learning_rate, batch_size, new_batch_size, *, rule="linear"):
    """The learning rate for ``new_batch_size``, scaled from one that suits ``batch_size``.

    ``rule="linear"`` (Goyal et al. 2017) multiplies it by ``k = new / old``, keeping the noise of an epoch's
    steps; ``"sqrt"`` by ``sqrt(k)``, keeping the variance of each update.

    >>> scale_learning_rate(0.01, 32, 128), scale_learning_rate(0.01, 32, 128, rule="sqrt")
    (0.04, 0.02)
    """
    learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    batch_size = check_int("batch_size", batch_size, low=1)
    new_batch_size = check_int("new_batch_size", new_batch_size, low=1)
    check_choice("rule", rule, ("linear", "sqrt"))
    k = new_batch_size / batch_size
    return learning_rate * (k if rule == "linear" else math.sqrt(k))

