"""Claims of notebooks/03_mini_batch_gradient_descent.ipynb."""

import numpy as np

import helpers
from lessons import SEEDS, data_a, finals, run_a, run_b


def test_updates_per_epoch_including_a_partial_last_batch():
    assert run_a(32).updates_per_epoch == 25
    assert run_b(32, 0.01).updates_per_epoch == 16


def test_mini_batch_ends_best_and_is_nearly_as_smooth_as_the_full_batch():
    sgd, full, mini = run_a(1), run_a(800), run_a(32)
    assert mini.final("val_accuracy") > max(full.final("val_accuracy"), sgd.final("val_accuracy"))
    assert mini.jitter() < 1.5 * full.jitter()
    assert sgd.jitter() > 3 * max(mini.jitter(), full.jitter())


def test_over_seeds_mini_batch_best_batch_1_worst_and_widest():
    groups = {b: finals([run_a(b, seed=s) for s in SEEDS]) for b in (1, 800, 32)}
    means = {b: np.mean(v) for b, v in groups.items()}
    spans = {b: max(v) - min(v) for b, v in groups.items()}
    assert means[32] > means[800] > means[1]
    assert spans[1] > 3 * max(spans[32], spans[800])


def test_learning_per_epoch_per_update_per_second():
    sgd, full, mini = run_a(1), run_a(800), run_a(32)
    first = [r.history["val_loss"][0] for r in (sgd, mini, full)]
    assert first == sorted(first)  # after one epoch: batch 1 lowest, full batch highest
    # after 100 updates (epoch 100 of batch GD, epoch 4 of batch 32): about the same test loss
    assert abs(full.history["val_loss"][99] - mini.history["val_loss"][3]) < 0.05
    # per second: batch 1 is the slowest; summed over seeds to steady the clock
    seconds = {b: sum(run_a(b, seed=s).seconds for s in SEEDS) for b in (1, 32, 800)}
    assert seconds[1] > max(seconds[32], seconds[800])


def test_share_of_batches_with_every_class():
    labels = data_a().y_train
    rng = np.random.default_rng(0)

    def share(b):
        order = rng.permutation(len(labels))
        return np.mean([len(np.unique(labels[order[i:i + b]])) == 3 for i in range(0, len(labels), b)])

    assert share(4) < 0.5 and share(32) > 0.95


def test_second_source_three_of_four_runs_above_0_78():
    good = [run_b(500, 0.01), run_b(1, 0.001), run_b(32, 0.01)]
    assert min(finals(good)) > 0.78
    assert run_b(1, 0.01).final("val_accuracy") < 0.7


def test_updates_per_epoch_helper():
    assert helpers.updates_per_epoch(500, 32) == 16 and helpers.updates_per_epoch(800, 800) == 1
