"""Claims of notebooks/01_stochastic_gradient_descent.ipynb."""

import numpy as np

from lessons import SEEDS, finals, run_a, run_b


def test_batch_1_makes_800_updates_per_epoch():
    assert run_a(1).updates_per_epoch == 800
    assert run_a(1).updates[-1] == 80_000


def test_per_update_losses_swing_between_nearly_zero_and_several_units():
    first_three_epochs = run_a(1).batch_loss[:2400]
    assert first_three_epochs.min() < 0.05 and first_three_epochs.max() > 2.0


def test_batch_1_runs_end_far_apart_across_seeds():
    values = finals([run_a(1, seed=s) for s in SEEDS])
    assert max(values) - min(values) > 0.1


def test_smaller_learning_rate_fixes_batch_1_in_the_500_500_setup():
    big = [run_b(1, 0.01, seed=s) for s in SEEDS[:3]]
    small = [run_b(1, 0.001, seed=s) for s in SEEDS[:3]]
    # "every seed at 0.001 ends well above every seed at 0.01"
    assert min(finals(small)) > max(finals(big)) + 0.05
    # "and its test loss jitters far less"
    assert max(r.jitter() for r in small) < 0.5 * min(r.jitter() for r in big)


def test_exercise_1_smaller_learning_rate_on_the_800_200_data():
    big = [run_a(1, seed=s) for s in SEEDS]
    small = [run_a(1, seed=s, learning_rate=0.001) for s in SEEDS]
    assert min(finals(small)) > max(finals(big))
    # "every seed's jitter is under half that of the calmest seed at 0.01"
    assert max(r.jitter() for r in small) < 0.5 * min(r.jitter() for r in big)


def test_exercise_3_no_momentum_at_0_01_resembles_momentum_0_9_at_0_001():
    no_momentum = finals([run_a(1, seed=s, momentum=0.0) for s in SEEDS])
    small = finals([run_a(1, seed=s, learning_rate=0.001) for s in SEEDS])
    assert abs(np.mean(no_momentum) - np.mean(small)) < 0.03
    # "a jitter under half that of every seed at momentum 0.9 and learning rate 0.01"
    calm = max(run_a(1, seed=s, momentum=0.0).jitter() for s in SEEDS)
    assert calm < 0.5 * min(run_a(1, seed=s).jitter() for s in SEEDS)
