"""Claims of notebooks/02_batch_gradient_descent.ipynb."""

import numpy as np
import pytest

import helpers
from lessons import SEARCH_RATES, SEEDS, data_a, finals, run_a, run_b, search_a, tuned_lr


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


def test_the_search_finds_a_rate_ten_times_the_sources_and_far_above_it_seeds_diverge():
    search = search_a(800)
    assert tuned_lr(800) == 0.1
    assert any(r.diverged for r in search.select(learning_rate=1.0))
    assert not any(r.diverged for lr in SEARCH_RATES[800] if lr <= 0.3 for r in search.select(learning_rate=lr))


def _mean(runs, key):
    return np.mean(finals(runs, key))


def test_each_at_its_own_rate_batch_1_and_the_full_batch_end_alike():
    batch_1 = {0.01: [run_a(1, seed=s) for s in SEEDS], "tuned": search_a(1).select(learning_rate=tuned_lr(1))}
    full = {lr: search_a(800).select(learning_rate=lr) for lr in (0.01, tuned_lr(800))}
    # "at one learning rate ... batch size 1 noisy and poor, the full batch smooth but slow"
    assert _mean(batch_1[0.01], "val_accuracy") < 0.7
    assert _mean(full[0.01], "val_loss") > _mean(full[tuned_lr(800)], "val_loss") + 0.05
    # "each at its own learning rate, they end at the same test loss and the same accuracy,
    # within a few test points" (a test point is 0.005)
    assert abs(_mean(batch_1["tuned"], "val_loss") - _mean(full[tuned_lr(800)], "val_loss")) < 0.01
    assert abs(_mean(batch_1["tuned"], "val_accuracy") - _mean(full[tuned_lr(800)], "val_accuracy")) <= 0.015
    # "the full batch got there in 100 updates, batch size 1 in 80,000"
    assert full[tuned_lr(800)][0].updates[-1] == 100 and batch_1["tuned"][0].updates[-1] == 80_000


def test_full_batch_seeds_at_the_tuned_rate_start_far_apart_and_meet():
    acc = np.array([r.history["val_accuracy"] for r in search_a(800).select(learning_rate=tuned_lr(800))])
    spread = acc.max(axis=0) - acc.min(axis=0)
    assert spread[4] > 0.15                     # epoch 5
    assert spread[99] <= 0.015                  # "within a few test points" at epoch 100


def test_the_larger_the_batch_the_larger_its_learning_rate():
    assert tuned_lr(1) < 0.01 < tuned_lr(800)


def test_tutorials_batch_gd_gains_in_the_first_100_epochs_and_lands_near_its_figures():
    run = run_b(500, 0.01)
    acc = run.history["val_accuracy"]
    assert acc[99] - acc[0] > 5 * (acc[199] - acc[99])
    # "the final accuracies land within a few hundredths of its figures" (train 0.816, test 0.830)
    assert abs(run.final("accuracy") - 0.816) < 0.03 and abs(run.final("val_accuracy") - 0.830) < 0.03


def test_exercise_2_learning_rate_1_diverges_after_a_climb():
    run = run_a(800, learning_rate=1.0)
    assert run.diverged and 3 < run.diverged_at < 100
    assert max(run.history["loss"][:-1]) > 2 * run.history["loss"][0]    # "the loss climbing"


def test_exercise_3_no_gain_after_epoch_100_at_the_tuned_rate():
    acc = run_a(800, learning_rate=tuned_lr(800), epochs=300).history["val_accuracy"]
    assert abs(acc[199] - acc[99]) <= 0.005 and abs(acc[299] - acc[99]) <= 0.005


def test_memory_arithmetic_matches_the_hidden_activations_of_the_model():
    hidden = helpers.build_mlp(hidden_units=32, seed=0).layers[0]  # the notebook's model.layers[0]
    for batch in (1, 32, 800):
        activations = np.asarray(hidden(data_a().x_train[:batch]))
        assert activations.nbytes == batch * hidden.units * 4  # the notebook's formula, in bytes
    # "a million examples would need 128 MB per step for this one layer of 32 units"
    assert hidden.units == 32 and 1_000_000 * hidden.units * 4 / 1e6 == pytest.approx(128.0)
