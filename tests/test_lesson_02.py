"""Claims of notebooks/02_batch_gradient_descent.ipynb."""

import numpy as np
import pytest

import helpers
from lessons import MODEL_B, SEARCH_RATES, SEEDS, data_a, data_b, finals, own_rate, run_a, search_a, scored_once_a


def test_one_update_per_epoch():
    full = run_a(800)
    assert full.updates_per_epoch == 1 and full.updates[-1] == 100


def test_batch_gd_validation_loss_does_not_jitter():
    # "the validation loss does not jitter": far below batch 1's at any seed
    assert run_a(800).jitter() < 0.01 * min(run_a(1, seed=s).jitter() for s in SEEDS)


def test_the_training_loss_of_an_epoch_is_scored_before_its_one_update():
    import keras

    # "the training curve runs one update behind the validation curve": epoch 2's training loss is the
    # loss of the whole training set after one update, and the validation loss is scored after the update
    one = run_a(800, epochs=1)
    after_one = keras.losses.sparse_categorical_crossentropy(data_a().y_train, one.model(data_a().x_train)).numpy()
    assert run_a(800).history["loss"][1] == pytest.approx(after_one.mean(), rel=1e-4)
    assert run_a(800).history["loss"][0] > run_a(800).history["loss"][1]


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


def test_the_search_is_bracketed_its_band_is_0_1_alone_and_at_1_0_a_seed_diverges():
    own = own_rate(800)
    assert own.rate == 0.1 and own.bracketed
    # "Its band is 0.1 alone, though 0.3 scores nearly as well (0.404 against 0.396)": the seeds agree
    # closely, so the band (one standard deviation of the best rate's seeds) is narrow
    assert own.band == [0.1]
    at_03 = np.mean(finals(search_a(800).select(learning_rate=0.3), "val_loss"))
    assert own.loss < at_03 < own.loss + 0.015
    assert own.spread < at_03 - own.loss and own.spread < 0.5 * own_rate(1).spread
    assert any(r.diverged for r in search_a(800).select(learning_rate=1.0))
    assert not any(r.diverged for lr in SEARCH_RATES[800] if lr <= 0.3 for r in search_a(800).select(learning_rate=lr))


def test_the_rate_search_figure_leaves_the_diverged_seed_out_of_the_mean_and_notes_it():
    import matplotlib.pyplot as plt

    runs = search_a(800).select(learning_rate=1.0)
    kept = [r.final("val_loss") for r in runs if not r.diverged]
    assert len(kept) == len(runs) - 1                           # "At 1.0 a seed diverges"
    ax = helpers.plot_rate_search(search_a(800))
    x, y = ax.lines[0].get_data()
    assert y[list(x).index(1.0)] == pytest.approx(np.mean(kept))
    assert any(t.get_text() == "1 of 5 diverged" for t in ax.texts)
    plt.close(ax.figure)


def _mean(runs, key):
    return np.mean(finals(runs, key))


def _own_runs(b):
    return search_a(b).select(learning_rate=own_rate(b).rate)


def test_each_at_its_own_rate_batch_1_and_the_full_batch_end_alike():
    source_1 = [run_a(1, seed=s) for s in SEEDS]
    full_001 = search_a(800).select(learning_rate=0.01)
    # "at one learning rate ... batch size 1 noisy and poor, the full batch smooth but slow"
    assert _mean(source_1, "val_accuracy") < 0.7
    assert _mean(full_001, "val_loss") > _mean(_own_runs(800), "val_loss") + 0.05
    # "each at its own learning rate, they end alike on the validation split"
    assert abs(_mean(_own_runs(1), "val_loss") - _mean(_own_runs(800), "val_loss")) < 0.01
    assert abs(_mean(_own_runs(1), "val_accuracy") - _mean(_own_runs(800), "val_accuracy")) <= 0.0151


def test_the_test_split_once_the_same_score_after_100_and_80000_updates():
    tested = {b: scored_once_a(b, own_rate(b).rate) for b in (1, 800)}
    acc = {b: np.mean([r.test_accuracy for r in runs]) for b, runs in tested.items()}
    loss = {b: np.mean([r.test_loss for r in runs]) for b, runs in tested.items()}
    # "the mean accuracies differ by less than one test point (0.005)"; the losses by less than 0.01
    assert abs(acc[1] - acc[800]) < 0.005 and abs(loss[1] - loss[800]) < 0.01
    assert tested[800][0].updates[-1] == 100 and tested[1][0].updates[-1] == 80_000


def test_full_batch_seeds_at_the_own_rate_start_far_apart_and_meet():
    acc = np.array([r.history["val_accuracy"] for r in _own_runs(800)])
    spread = acc.max(axis=0) - acc.min(axis=0)
    assert spread[4] > 0.15                     # epoch 5
    assert spread[99] <= 0.0201                 # "within a few validation points" at epoch 100


def test_the_larger_the_batch_the_larger_its_learning_rate():
    # "ten times the source's 0.01, where batch size 1's was a hundred times smaller"
    assert own_rate(800).rate == pytest.approx(10 * 0.01) and own_rate(1).rate == pytest.approx(0.01 / 100)


def test_tutorials_batch_gd_gains_in_the_first_100_epochs_and_lands_near_its_figures():
    run = helpers.train(data_b(), batch_size=500, epochs=200, learning_rate=0.01, seed=0, test=True, **MODEL_B)
    acc = run.history["val_accuracy"]
    assert acc[99] - acc[0] > 5 * (acc[199] - acc[99])
    # "the final accuracies land within a few hundredths of its figures" (train 0.816, test 0.830)
    assert abs(run.final("accuracy") - 0.816) < 0.03 and abs(run.test_accuracy - 0.830) < 0.03


def test_exercise_2_learning_rate_1_diverges_after_a_climb():
    run = run_a(800, learning_rate=1.0)
    assert run.diverged and 3 < run.diverged_at < 100
    loss = run.history["loss"]
    # "the training loss climbs to about ten times its start; it falls back, creeps up again"
    peak = int(np.argmax(loss[:-1]))
    assert 5 < loss[peak] / loss[0] < 20
    assert min(loss[peak:-1]) < loss[0] < loss[-2]
    # "training stops at the epoch where the validation loss passed a hundred times the loss of guessing"
    assert run.history["val_loss"][-1] > 100 * np.log(3)


def test_exercise_3_no_gain_after_epoch_100_at_the_own_rate():
    acc = run_a(800, learning_rate=own_rate(800).rate, epochs=300).history["val_accuracy"]
    # "differ by at most one validation point"
    assert np.ptp([acc[99], acc[199], acc[299]]) <= 0.0051


def test_memory_arithmetic_matches_the_hidden_activations_of_the_model():
    hidden = helpers.build_mlp(hidden_units=32, seed=0).layers[0]  # the notebook's model.layers[0]
    for batch in (1, 32, 800):
        activations = np.asarray(hidden(data_a().x_train[:batch]))
        assert activations.nbytes == batch * hidden.units * 4  # the notebook's formula, in bytes
    # "a million examples would need 128 MB per step for this one layer of 32 units"
    assert hidden.units == 32 and 1_000_000 * hidden.units * 4 / 1e6 == pytest.approx(128.0)
