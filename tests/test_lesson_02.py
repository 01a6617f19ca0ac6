"""Claims of notebooks/02_batch_gradient_descent.ipynb."""

import pytest

from lessons import SEEDS, finals, run_a, run_b


def test_one_update_per_epoch():
    full = run_a(800)
    assert full.updates_per_epoch == 1 and full.updates[-1] == 100


def test_batch_gd_is_smoother_than_batch_1():
    assert run_a(800).jitter() < 0.25 * run_a(1).jitter()


def test_training_loss_is_still_falling_after_100_epochs():
    loss = run_a(800).history["loss"]
    assert loss[99] < loss[89]


def test_larger_learning_rate_helps_batch_gd_for_every_seed():
    slow = finals([run_a(800, seed=s) for s in SEEDS], "loss")
    fast = finals([run_a(800, seed=s, learning_rate=0.1) for s in SEEDS], "loss")
    assert max(fast) < min(slow)


def test_batch_gd_bands_are_thin():
    for lr in (0.01, 0.1):
        values = finals([run_a(800, seed=s, learning_rate=lr) for s in SEEDS])
        assert max(values) - min(values) < 0.05


def test_second_source_gain_comes_in_the_first_100_epochs():
    acc = run_b(500, 0.01).history["val_accuracy"]
    assert acc[99] - acc[0] > 5 * (acc[199] - acc[99])


def test_exercise_2_learning_rate_1_diverges():
    run = run_a(800, learning_rate=1.0)
    assert run.diverged and run.diverged_at < 100


@pytest.mark.parametrize("batch, megabytes", [(800, 0.1024), (1_000_000, 128.0)])
def test_memory_arithmetic(batch, megabytes):
    assert batch * 32 * 4 / 1e6 == pytest.approx(megabytes)
