"""Claims of notebooks/03_mini_batch_gradient_descent.ipynb."""

import numpy as np

import helpers
from lessons import SEEDS, data_a, finals, notebook_function, run_a, run_b

NOTEBOOK = "03_mini_batch_gradient_descent"
# The first source's figures (one run each, on an unknown draw): batch size -> (train acc, test acc).
SOURCE = {1: (0.87, 0.85), 800: (0.93, 0.94), 32: (0.96, 0.94)}
DRAWS = range(5)


def test_updates_per_epoch_including_a_partial_last_batch():
    assert run_a(32).updates_per_epoch == 25
    assert run_b(32, 0.01).updates_per_epoch == 16


def test_mini_batch_ends_best_and_is_nearly_as_smooth_as_the_full_batch():
    sgd, full, mini = run_a(1), run_a(800), run_a(32)
    assert mini.final("val_accuracy") > max(full.final("val_accuracy"), sgd.final("val_accuracy"))
    assert mini.jitter() < 1.5 * full.jitter()
    assert sgd.jitter() > 3 * max(mini.jitter(), full.jitter())


def test_every_accuracy_is_below_the_sources_batch_1_by_far_the_most():
    gaps = {b: (SOURCE[b][0] - run_a(b).final("accuracy"), SOURCE[b][1] - run_a(b).final("val_accuracy"))
            for b in SOURCE}
    assert min(min(g) for g in gaps.values()) > 0.05
    train_gap, test_gap = gaps.pop(1)
    assert train_gap > 1.5 * max(g[0] for g in gaps.values())
    assert test_gap > 2 * max(g[1] for g in gaps.values())
    # "batch 1 ends lowest, and the mini-batch ends at least as high as the full batch on the test set"
    assert SOURCE[1][1] < SOURCE[800][1] <= SOURCE[32][1]
    assert run_a(1).final("val_accuracy") < run_a(800).final("val_accuracy") <= run_a(32).final("val_accuracy")


def _draw_test_accuracy(batch_size):
    return np.array([run_a(batch_size, random_state=r).final("val_accuracy") for r in DRAWS])


def test_the_data_draw_moves_the_result_more_than_batch_size_or_seed():
    nearest_mean_accuracy = notebook_function(NOTEBOOK, "nearest_mean_accuracy")
    yardstick = np.array([nearest_mean_accuracy(data_a(r)) for r in DRAWS])
    sgd, full, mini = (_draw_test_accuracy(b) for b in (1, 800, 32))
    # "on every draw the batch-32 run ends within a few hundredths of the yardstick"
    assert np.all(np.abs(mini - yardstick) < 0.05)
    # "moves by more than 0.2: far more than the batch size (32 against 800, on any draw) or the seed"
    span = np.ptp(mini)
    assert span > 0.2
    assert span > 3 * np.max(np.abs(mini - full))
    assert span > 3 * np.ptp(finals([run_a(32, seed=s) for s in SEEDS]))
    # "on our draw even the yardstick stays well below the source's 0.94"
    assert yardstick[2] < SOURCE[32][1] - 0.05
    # "random_state 3 gives batch 32 and batch 800 test accuracies close to the source's"
    assert abs(mini[3] - SOURCE[32][1]) < 0.03 and abs(full[3] - SOURCE[800][1]) < 0.03
    # "batch 1 comes nowhere near the source's 0.85 on any of the five draws"
    assert sgd.max() < SOURCE[1][1] - 0.1


def test_over_seeds_mini_batch_best_batch_1_worst_and_widest():
    groups = {b: finals([run_a(b, seed=s) for s in SEEDS]) for b in (1, 800, 32)}
    means = {b: np.mean(v) for b, v in groups.items()}
    spans = {b: max(v) - min(v) for b, v in groups.items()}
    assert means[32] > means[800] > means[1]
    assert spans[1] > 3 * max(spans[32], spans[800])


def test_learning_per_epoch_per_update_per_second():
    sgd, full, mini = run_a(1), run_a(800), run_a(32)
    assert (sgd.updates[-1], mini.updates[-1], full.updates[-1]) == (80_000, 2_500, 100)
    first = [r.history["val_loss"][0] for r in (sgd, mini, full)]
    assert first == sorted(first)  # after one epoch: batch 1 lowest, full batch highest
    # after 100 updates (epoch 100 of batch GD, epoch 4 of batch 32): about the same test loss
    assert abs(full.history["val_loss"][99] - mini.history["val_loss"][3]) < 0.05
    # Per second, batch 1 is the slowest. Wall clocks are noisy on a shared machine, so compare
    # each batch size's fastest epoch over five seeds (500 epochs): the one least disturbed.
    fastest = {b: min(run_a(b, seed=s).epoch_seconds.min() for s in SEEDS) for b in (1, 32, 800)}
    assert fastest[1] > 1.5 * max(fastest[32], fastest[800])


def test_share_of_batches_with_every_class():
    share = notebook_function(NOTEBOOK, "share_of_batches_with_every_class")
    rng = np.random.default_rng(0)  # one generator through the loop, as in the notebook
    shares = {b: share(data_a().y_train, b, 3, rng) for b in (1, 2, 4, 8, 16, 32)}
    assert shares[4] < 0.5 and shares[32] > 0.95
    # Exercise 3: "the more classes, the larger a batch must be to see them all"
    digits = helpers.load_digits()
    rng = np.random.default_rng(0)
    digit_shares = {b: share(digits.y_train, b, digits.n_classes, rng) for b in (32, 64)}
    assert digit_shares[32] < shares[32] - 0.2 and digit_shares[64] > 0.95


def test_second_source_three_of_four_runs_above_0_78():
    good = [run_b(500, 0.01), run_b(1, 0.001), run_b(32, 0.01)]
    assert min(finals(good)) > 0.78
    assert run_b(1, 0.01).final("val_accuracy") < 0.7


def test_updates_per_epoch_helper():
    assert helpers.updates_per_epoch(500, 32) == 16 and helpers.updates_per_epoch(800, 800) == 1
