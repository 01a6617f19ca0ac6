"""Schedules: their values, their errors, and their equivalence to Keras."""

import numpy as np
import pytest

import helpers
from helpers._backend import keras
from helpers.schedules import BatchGrowth, StepDecay, scale_learning_rate


def test_step_decay_values():
    decay = StepDecay(0.1, factor=0.5, boundaries=[2, 5])
    assert [decay(e) for e in range(7)] == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    assert isinstance(decay(0), float)
    assert decay(3, 123.0) == 0.05          # Keras passes the current rate; it is ignored
    assert decay.name == "lr 0.1, x0.5 at epochs 2, 5"


def test_batch_growth_values_and_matching_decay():
    growth = BatchGrowth(4, factor=3, boundaries=[1, 3])
    assert [growth(e) for e in range(5)] == [4, 12, 12, 36, 36]
    assert all(isinstance(growth(e), int) for e in range(5))
    decay = StepDecay(0.3, factor=0.2, boundaries=[10, 20])
    matched = BatchGrowth.matching(decay, 8)
    assert (matched.initial, matched.factor, matched.boundaries) == (8, 5, (10, 20))
    # Same noise scale lr / B at every epoch: lr x 1/5 <-> batch x 5.
    for epoch in (0, 10, 25):
        assert decay(epoch) / 8 == pytest.approx(decay(0) / matched(epoch))


@pytest.mark.parametrize("build, message", [
    (lambda: StepDecay(0.1, factor=1.5, boundaries=[2]), r"factor must be .*got 1\.5"),
    (lambda: StepDecay(-1, factor=0.5, boundaries=[2]), r"initial must be .*got -1"),
    (lambda: StepDecay(0.1, factor=0.5, boundaries=[5, 2]), r"boundaries must be strictly .*\[5, 2\]"),
    (lambda: StepDecay(0.1, factor=0.5, boundaries=3), r"boundaries must be a sequence.*got 3"),
    (lambda: BatchGrowth(0, factor=2, boundaries=[2]), r"initial must be an int .*got 0"),
    (lambda: BatchGrowth(4, factor=2.5, boundaries=[2]), r"factor must be an int .*got 2\.5"),
    (lambda: BatchGrowth.matching(StepDecay(0.1, factor=0.3, boundaries=[2]), 4),
     r"decay\.factor must be 1/k .*got 0\.3"),
    (lambda: StepDecay(0.1, factor=0.5, boundaries=[2])(-1), r"epoch must be .*got -1"),
    (lambda: scale_learning_rate(0.1, 32, 64, rule="cube"), r"rule must be one of .*'cube'"),
])
def test_bad_arguments_name_the_parameter_and_value(build, message):
    with pytest.raises((TypeError, ValueError), match=message):
        build()


def test_scaling_rules():
    assert scale_learning_rate(0.01, 32, 128) == pytest.approx(0.04)
    assert scale_learning_rate(0.01, 32, 128, rule="sqrt") == pytest.approx(0.02)
    assert scale_learning_rate(0.01, 32, 8) == pytest.approx(0.0025)
    assert scale_learning_rate(0.01, 32, 32, rule="sqrt") == 0.01


def keras_model(data, seed):
    model = helpers.build_mlp(data.n_features, data.n_classes, seed=seed)
    model.compile(optimizer=keras().optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    return model


def fit(model, data, **kwargs):
    return model.fit(data.x_train, data.y_train, shuffle=False, verbose=0,
                     validation_data=(data.x_val, data.y_val),
                     validation_batch_size=data.n_val, **kwargs).history


def assert_same_run(history, model, result):
    for key in helpers.training.HISTORY_KEYS:
        np.testing.assert_array_equal(history[key], result.history[key])
    for a, b in zip(model.get_weights(), result.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_step_decay_in_train_is_keras_learning_rate_scheduler(small_blobs):
    # With XLA off helpers.train is Keras's own computation, so the same
    # schedule object must give bit-for-bit the same run as the Keras callback.
    decay = StepDecay(0.05, factor=0.2, boundaries=[2, 4])
    model = keras_model(small_blobs, seed=5)
    history = fit(model, small_blobs, batch_size=10, epochs=6,
                  callbacks=[keras().callbacks.LearningRateScheduler(decay)])
    result = helpers.train(small_blobs, batch_size=10, epochs=6, learning_rate=decay, seed=5,
                           shuffle=False, jit_compile=False)
    assert_same_run(history, model, result)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(decay(5))


def test_batch_growth_in_train_is_one_model_fit_per_stage(small_blobs):
    growth = BatchGrowth(5, factor=3, boundaries=[2, 4])
    model = keras_model(small_blobs, seed=6)
    history = {key: [] for key in helpers.training.HISTORY_KEYS}
    for first, stop in ((0, 2), (2, 4), (4, 6)):
        stage = fit(model, small_blobs, batch_size=growth(first), epochs=stop, initial_epoch=first)
        for key in history:
            history[key] += stage[key]
    result = helpers.train(small_blobs, batch_size=growth, epochs=6, learning_rate=0.01, seed=6,
                           shuffle=False, jit_compile=False)
    assert_same_run(history, model, result)
    np.testing.assert_array_equal(result.epoch_updates, [12, 12, 4, 4, 2, 2])
