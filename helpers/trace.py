"""Follow training update by update: the whole training set's loss after every step.

:func:`helpers.train` records the loss at the end of each epoch (and the loss
of each update's own batch). Within an epoch, what a learner wants to see is
how the model as a whole moves with each update: :func:`loss_after_each_update`
trains the same model on the same shuffled batches, with Keras's own
``train_step`` and SGD, and after every update evaluates the loss on the whole
training set. It runs a few epochs only: evaluating 800 examples after each
of 800 updates is the point here, not speed.
"""

from dataclasses import dataclass, field

import numpy as np

from ._backend import keras, tf
from ._checks import check_float, check_int
from .models import build_mlp
from .pipeline import MAX_SEED, check_architecture, check_dataset, check_learning_rate

__all__ = ["UpdateTrace", "loss_after_each_update"]


@dataclass(eq=False)
class UpdateTrace:
    """The loss of the whole training set before the first update and after each one.

    Attributes
    ----------
    train_loss : ndarray of shape (updates + 1,)
        Mean cross-entropy over the whole training set: before training, then
        after each update.
    batch_loss : ndarray of shape (updates,)
        The loss of each update's own batch, before that update.
    batch_size, updates_per_epoch : int
    config : dict
        The arguments that produced the trace.
    model : keras.Model
        The model after the last update.
    """

    train_loss: np.ndarray
    batch_loss: np.ndarray
    batch_size: int
    updates_per_epoch: int
    config: dict
    model: object = field(default=None, repr=False)

    @property
    def label(self):
        return f"batch {self.batch_size}, lr {self.config['learning_rate']:g}"


def loss_after_each_update(data, *, batch_size, learning_rate, epochs=1, momentum=0.9, seed=0,
                           hidden_units=32, kernel_initializer="glorot_uniform"):
    """Train like :func:`helpers.train` and record the whole training set's loss after every update.

    The model, its initial weights, the shuffles and the SGD updates are
    those of ``helpers.train(data, batch_size=..., learning_rate=...,
    seed=...)`` (tests/test_trace.py checks the batch losses and weights
    against it), so the trace is a close-up of the first epochs of that run.

    Parameters
    ----------
    data : Dataset
    batch_size : int
        In ``[1, data.n_train]``.
    learning_rate : float
        > 0.
    epochs : int, default 1
        At most 5: every update evaluates the whole training set.
    momentum : float, default 0.9
    seed : int, default 0
    hidden_units : int, default 32
    kernel_initializer : str, default "glorot_uniform"

    Returns
    -------
    UpdateTrace

    Examples
    --------
    >>> from helpers import load_blobs
    >>> trace = loss_after_each_update(load_blobs(), batch_size=32, learning_rate=0.01)
    >>> trace.train_loss.shape, trace.updates_per_epoch
    ((26,), 25)
    """
    data = check_dataset(data)
    n = data.n_train
    batch_size = check_int("batch_size", batch_size, low=1, high=n)
    learning_rate = check_learning_rate("learning_rate", learning_rate)
    epochs = check_int("epochs", epochs, low=1, high=5)
    momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
    seed = check_int("seed", seed, low=0, high=MAX_SEED)
    architecture = check_architecture(hidden_units, "relu", kernel_initializer)

    k, t = keras(), tf()
    model = build_mlp(data.n_features, data.n_classes, **architecture, seed=seed)
    model.compile(optimizer=k.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)  # no variable may be made inside tf.function
    x_all, y_all = t.constant(data.x_train), t.constant(data.y_train)
    loss_of = k.losses.SparseCategoricalCrossentropy()
    full, rest = divmod(n, batch_size)
    steps = full + (rest > 0)

    def whole_loss():
        return loss_of(y_all, model(x_all, training=False))

    @t.function(jit_compile=False)
    def epoch(x, y):
        after = t.TensorArray(t.float32, size=steps)
        before = t.TensorArray(t.float32, size=steps)
        for i in t.range(steps):
            start = i * batch_size
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            before = before.write(i, loss_of(yb, model(xb, training=False)))
            model.train_step((xb, yb))
            after = after.write(i, whole_loss())
        return after.stack(), before.stack()

    rng = np.random.default_rng(seed)
    train_loss = [float(whole_loss())]
    batch_loss = []
    for _ in range(epochs):
        order = rng.permutation(n)
        after, before = epoch(t.constant(data.x_train[order]), t.constant(data.y_train[order]))
        train_loss.extend(after.numpy().astype(float))
        batch_loss.extend(before.numpy().astype(float))
    config = dict(dataset=data.config, batch_size=batch_size, learning_rate=learning_rate,
                  epochs=epochs, momentum=momentum, seed=seed, hidden_units=hidden_units,
                  kernel_initializer=kernel_initializer)
    return UpdateTrace(train_loss=np.asarray(train_loss), batch_loss=np.asarray(batch_loss),
                       batch_size=batch_size, updates_per_epoch=steps, config=config,
                       model=model)
