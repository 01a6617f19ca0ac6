"""Training followed update by update: the whole training set's loss after every step (lesson 01)."""

from dataclasses import dataclass, field

import numpy as np

from ._backend import keras, tf
from ._checks import check_float, check_int
from .models import build_mlp
from .pipeline import MAX_SEED, check_architecture, check_dataset, check_learning_rate

__all__ = ["UpdateTrace", "loss_after_each_update"]


@dataclass(eq=False)
class UpdateTrace:
    """``train_loss``: the whole training set's mean loss before training, then after each update; ``batch_loss``: each
    update's own batch's loss before it; ``config``: the arguments; ``model``: the model after the last update."""
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
    """Train as :func:`helpers.train` does (same model, weights, shuffles and updates) for at most
    5 ``epochs``, and return an :class:`UpdateTrace` of the whole training set's loss after each update.

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
                       batch_size=batch_size, updates_per_epoch=steps, config=config, model=model)
