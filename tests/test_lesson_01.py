"""Claims of notebooks/01_stochastic_gradient_descent.ipynb."""

import keras
import numpy as np

from lessons import SEEDS, data_a, finals, run_a, search_a, trace_a, tuned_lr

SOURCE_BATCH_1_TEST_ACCURACY = 0.85


def test_batch_1_makes_800_updates_per_epoch():
    assert run_a(1).updates_per_epoch == 800
    assert run_a(1).updates[-1] == 80_000


def test_at_the_sources_settings_the_curves_jump_and_end_low():
    run = run_a(1)
    assert run.jitter() > 0.1
    assert run.final("val_accuracy") < 0.6


def test_within_an_epoch_batch_1_falls_fast_then_half_its_updates_make_things_worse():
    one, mini = trace_a(1), trace_a(32)
    # "brings the loss down within a few dozen updates, before the batch of 32 has made its first two steps"
    first_low = int(np.argmax(one.train_loss < 1.0))
    assert one.train_loss[first_low] < 1.0 and first_low <= 50
    assert first_low / one.updates_per_epoch < 2 / mini.updates_per_epoch
    assert mini.train_loss[2] > 1.5
    # "about half of its updates make the model worse on the training set as a whole, some by a lot"
    changes = np.diff(one.train_loss)
    assert 0.4 < np.mean(changes > 0) < 0.6
    assert changes.max() > 0.5
    # "the batch of 32 moves ... along a smooth curve": the distance its curve travels up and
    # down in an epoch is a small part of batch 1's
    def travel_per_epoch(trace):
        return np.abs(np.diff(trace.train_loss)).sum() / trace.config["epochs"]

    assert travel_per_epoch(mini) < 0.2 * travel_per_epoch(one)


def test_a_good_model_has_mostly_easy_examples_and_a_few_hard_ones():
    good = run_a(32)
    losses = keras.losses.sparse_categorical_crossentropy(data_a().y_train, good.model(data_a().x_train)).numpy()
    assert np.median(losses) < 0.25 and np.mean(losses < 0.1) > 0.3       # most close to 0
    assert 0.05 < np.mean(losses > 1) < 0.2 and losses.max() > 3          # a few stay above 1


def test_five_seeds_at_0_01_end_far_apart_and_far_below_the_source():
    values = finals([run_a(1, seed=s) for s in SEEDS])
    assert max(values) - min(values) > 0.1
    assert max(values) < SOURCE_BATCH_1_TEST_ACCURACY - 0.1


def test_the_search_finds_a_rate_100_times_smaller_with_a_tenth_of_the_jitter():
    search = search_a(1)
    assert tuned_lr(1) == 1e-4
    tuned = np.mean([r.jitter() for r in search.select(learning_rate=1e-4)])
    source = np.mean([run_a(1, seed=s).jitter() for s in SEEDS])
    assert 0.05 < tuned / source < 0.2
    # "3e-5 and 1e-4 differ by two test points" in accuracy: the loss decides
    accuracy = {lr: np.mean(finals(search.select(learning_rate=lr))) for lr in (3e-5, 1e-4)}
    assert abs(accuracy[3e-5] - accuracy[1e-4]) <= 0.0101


def test_at_its_own_rate_batch_1_trains_well_every_seed_above_every_seed_at_0_01():
    tuned = search_a(1).select(learning_rate=tuned_lr(1))
    source = [run_a(1, seed=s) for s in SEEDS]
    assert min(finals(tuned)) > max(finals(source))
    assert np.ptp(finals(tuned)) < 0.05                                   # close together
    assert max(r.jitter() for r in tuned) < 0.5 * min(r.jitter() for r in source)
    # "the batch of 32 at the source's learning rate ended at 0.835, about where batch size 1 ends now"
    assert abs(np.mean(finals(tuned)) - run_a(32).final("val_accuracy")) < 0.02


def test_decision_regions_cut_through_the_clouds_at_0_01_and_not_at_the_tuned_rate():
    data = data_a()

    def per_class(run):
        predicted = np.asarray(run.model(data.x_train)).argmax(axis=1)
        return [np.mean(predicted[data.y_train == k] == k) for k in range(data.n_classes)]

    # "most training points of the two overlapping clouds end up on the wrong side"
    assert sorted(per_class(run_a(1)))[:2] < [0.5, 0.5]
    assert min(per_class(run_a(1, learning_rate=tuned_lr(1)))) > 0.7


def test_exercise_1_lr_0_001_is_closer_to_the_tuned_rate():
    source = [run_a(1, seed=s) for s in SEEDS]
    small = [run_a(1, seed=s, learning_rate=0.001) for s in SEEDS]
    tuned = search_a(1).select(learning_rate=tuned_lr(1))
    assert min(finals(small)) > max(finals(source))

    def jitter(runs):
        return np.mean([r.jitter() for r in runs])

    # "its jitter is about a quarter of that at 0.01, though still about twice the tuned rate's"
    assert 0.15 < jitter(small) / jitter(source) < 0.35
    assert 1.5 < jitter(small) / jitter(tuned) < 3


def test_exercise_3_no_momentum_at_0_01_resembles_momentum_0_9_at_0_001():
    no_momentum = finals([run_a(1, seed=s, momentum=0.0) for s in SEEDS])
    small = finals([run_a(1, seed=s, learning_rate=0.001) for s in SEEDS])
    assert abs(np.mean(no_momentum) - np.mean(small)) < 0.03
    # "a jitter under half that of every seed at momentum 0.9 and learning rate 0.01"
    calm = max(run_a(1, seed=s, momentum=0.0).jitter() for s in SEEDS)
    assert calm < 0.5 * min(run_a(1, seed=s).jitter() for s in SEEDS)
