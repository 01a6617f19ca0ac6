"""helpers.trace: the whole training set's loss after each update, on helpers.train's path."""

import numpy as np
import pytest

import helpers
from helpers.trace import loss_after_each_update


@pytest.mark.parametrize("batch_size", [1, 32, 300])
def test_the_trace_follows_helpers_train_update_for_update(blobs, batch_size):
    trace = loss_after_each_update(blobs, batch_size=batch_size, learning_rate=0.01, epochs=2)
    run = helpers.train(blobs, batch_size=batch_size, epochs=2, learning_rate=0.01, jit_compile=False)
    # Same initial weights, shuffles and Keras SGD updates: the same weights, bit for bit.
    for mine, theirs in zip(trace.model.get_weights(), run.model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    # Each update's own batch loss, read directly here and from Keras's running mean there.
    np.testing.assert_allclose(trace.batch_loss, run.batch_loss, atol=2e-4)
    assert trace.updates_per_epoch == run.updates_per_epoch
    assert len(trace.train_loss) == 2 * run.updates_per_epoch + 1


def test_the_first_value_is_the_loss_before_training_and_the_last_matches_the_model(blobs):
    import keras

    trace = loss_after_each_update(blobs, batch_size=32, learning_rate=0.01)
    loss = keras.losses.SparseCategoricalCrossentropy()
    start = helpers.build_mlp(seed=0)
    assert trace.train_loss[0] == pytest.approx(float(loss(blobs.y_train, start(blobs.x_train))), rel=1e-6)
    assert trace.train_loss[-1] == pytest.approx(
        float(loss(blobs.y_train, trace.model(blobs.x_train))), rel=1e-6)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(batch_size=0), r"batch_size must be an int in \[1, 800\], got 0"),
    (dict(learning_rate=0.0), r"learning_rate must be a finite number in \(0, inf\], got 0\.0"),
    (dict(epochs=6), r"epochs must be an int in \[1, 5\], got 6"),
])
def test_bad_arguments_are_named(blobs, kwargs, pattern):
    args = dict(batch_size=32, learning_rate=0.01) | kwargs
    with pytest.raises(ValueError, match=pattern):
        loss_after_each_update(blobs, **args)


def test_data_must_be_a_dataset():
    with pytest.raises(TypeError, match="data must be a helpers Dataset"):
        loss_after_each_update([[0, 1]], batch_size=1, learning_rate=0.01)
