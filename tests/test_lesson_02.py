"""Claims of notebooks/02_batch_gradient_descent.ipynb."""

import numpy as np
import pytest

import helpers
from lessons import SEEDS, data_a, finals, run_a, run_b


def test_one_update_per_epoch():
    full = run_a(800)
    assert full.updates_per_epoch == 1 and full.updates[-1] == 100


def test_batch_gd_test_loss_jitters_far_less_than_batch_1():
    assert run_a(800).jitter() < 0.25 * run_a(1).jitter()


def test_momentum_makes_the_training_loss_rise_early_before_it_settles():
    loss = np.asarray(run_a(800).history["loss"][:20])
    # "early on it rises for a few epochs": the largest rise within the first 20 epochs
    rise = max(loss[j] - loss[:j].min() for j in range(1, len(loss)))
    assert rise > 0.2
    # "without momentum the training loss falls at every epoch, but ends far higher"
    plain = run_a(800, momentum=0.0)
    assert np.all(np.diff(plain.history["loss"]) < 0)
    assert plain.final("loss") > run_a(800).final("loss") + 0.1


def test_training_loss_is_still_falling_after_100_epochs():
    loss = run_a(800).history["loss"]
    assert loss[99] < loss[89]


def test_larger_learning_rate_helps_batch_gd_for_every_seed():
    slow = finals([run_a(800, seed=s) for s in SEEDS], "loss")
    fast = finals([run_a(800, seed=s, learning_rate=0.1) for s in SEEDS], "loss")
    assert max(fast) < min(slow)


def _accuracy_range_over_seeds(learning_rate):
    acc = np.array([run_a(800, seed=s, learning_rate=learning_rate).history["val_accuracy"] for s in SEEDS])
    return acc.max(axis=0) - acc.min(axis=0)


def test_batch_gd_bands_are_wide_early_and_narrow_by_epoch_100():
    spread = {lr: _accuracy_range_over_seeds(lr) for lr in (0.01, 0.1)}
    for lr in (0.01, 0.1):
        assert spread[lr][4] > 0.15  # "early on the bands are wide" (epoch 5)
        assert spread[lr][99] < 0.05  # "within a few hundredths" at epoch 100
        assert np.ptp(finals([run_a(800, seed=s, learning_rate=lr) for s in SEEDS], "loss")) < 0.05
    assert spread[0.1][19] < 0.5 * spread[0.01][19]  # "sooner at the larger learning rate" (epoch 20)


def test_second_source_gain_comes_in_the_first_100_epochs():
    acc = run_b(500, 0.01).history["val_accuracy"]
    assert acc[99] - acc[0] > 5 * (acc[199] - acc[99])


def test_exercise_2_learning_rate_1_diverges():
    run = run_a(800, learning_rate=1.0)
    assert run.diverged and run.diverged_at < 100


def test_memory_arithmetic_matches_the_hidden_activations_of_the_model():
    hidden = helpers.build_mlp(hidden_units=32, seed=0).layers[0]  # the notebook's model.layers[0]
    for batch in (1, 32, 800):
        activations = np.asarray(hidden(data_a().x_train[:batch]))
        assert activations.nbytes == batch * hidden.units * 4  # the notebook's formula, in bytes
    # "a million examples would need 128 MB per step for this one layer of 32 units"
    assert hidden.units == 32 and 1_000_000 * hidden.units * 4 / 1e6 == pytest.approx(128.0)
