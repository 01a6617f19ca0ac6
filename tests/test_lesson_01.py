"""Claims of notebooks/01_stochastic_gradient_descent.ipynb."""

import keras
import numpy as np
import pytest

import helpers

from lessons import SEEDS, data_a, finals, own_rate, run_a, search_a, scored_once_a, trace_a

SOURCE_BATCH_1_TEST_ACCURACY = 0.85


def test_batch_1_makes_800_updates_per_epoch():
    assert run_a(1).updates_per_epoch == 800
    assert run_a(1).updates[-1] == 80_000


def _jitter(runs):
    return np.mean([r.jitter() for r in runs])


def _own_runs():
    return search_a(1).select(learning_rate=own_rate(1).rate)


def test_the_training_numbers_are_means_over_the_epochs_updates_and_momentum_defaults_to_0_9():
    import inspect

    run = run_a(1)
    # "the training numbers are averages over the epoch's updates, each batch scored just before its update"
    for epoch in (0, 99):
        losses = run.batch_loss[epoch * 800:(epoch + 1) * 800]
        assert run.history["loss"][epoch] == pytest.approx(losses.mean(), rel=1e-4)
    # at the full batch the one batch is scored before the one update: epoch 1 is the untrained model
    untrained = helpers.build_mlp(hidden_units=32, seed=0)
    first = keras.losses.sparse_categorical_crossentropy(data_a().y_train, untrained(data_a().x_train)).numpy()
    assert run_a(800).history["loss"][0] == pytest.approx(first.mean(), rel=1e-4)
    # "Its momentum is 0.9 unless told otherwise"
    assert inspect.signature(helpers.train).parameters["momentum"].default == 0.9
    # the jitter's trend: "the curve smoothed over nine epochs"
    assert helpers.result.JITTER_WINDOW == 9


def test_at_the_sources_settings_the_curves_jump_and_both_accuracies_end_low():
    source = [run_a(1, seed=s) for s in SEEDS]
    # "the curves jump": far above the jitter of the smooth runs at the own rate
    assert min(r.jitter() for r in source) > 5 * max(r.jitter() for r in _own_runs())
    # "both accuracies end low, the training accuracy too: even while it trains on them, the model gets many
    # of its training points wrong"
    assert max(finals(source, "accuracy")) < 0.65 and max(finals(source)) < 0.7
    assert max(finals(source, "accuracy")) < min(finals(_own_runs(), "accuracy")) - 0.15


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


def test_the_search_is_bracketed_and_finds_a_rate_100_times_smaller_inside_a_flat_band():
    own = own_rate(1)
    assert own.rate == 1e-4 and own.bracketed
    # "Near the best the loss is flat": the band holds more than the best rate, and a tenth of the
    # source's rate (exercise 1) is in it
    assert len(own.band) >= 2 and 1e-3 in own.band
    # the band rule as the lesson states it: every rate whose mean is at most the best mean plus the
    # standard deviation of the best rate's five seeds
    search = search_a(1)
    means = {lr: np.mean(finals(search.select(learning_rate=lr), "val_loss")) for lr in search.values("learning_rate")}
    limit = means[own.rate] + np.std(finals(search.select(learning_rate=own.rate), "val_loss"))
    assert own.band == [lr for lr in sorted(means) if means[lr] <= limit]
    # the band is not the whole grid: the search can tell good from bad
    assert 3e-5 not in own.band and 3e-3 not in own.band  # the quiz: 0.003 is "just above" the band


def test_at_its_own_rate_batch_1_trains_well_every_seed_above_every_seed_at_0_01():
    tuned = _own_runs()
    source = [run_a(1, seed=s) for s in SEEDS]
    assert min(finals(tuned)) > max(finals(source))
    assert np.ptp(finals(tuned)) < 0.05                                   # close together
    # "the validation loss jitters more than ten times less"
    assert _jitter(tuned) < 0.1 * _jitter(source)


def test_the_test_split_once_close_to_the_sources_0_85():
    tested = scored_once_a(1, own_rate(1).rate)
    accuracy = np.mean([r.test_accuracy for r in tested])
    assert abs(accuracy - SOURCE_BATCH_1_TEST_ACCURACY) < 0.03
    # the same five runs as the search's (the test split scored them only at the end)
    assert np.allclose(finals(tested), finals(_own_runs()), atol=0.0051)


def test_decision_regions_cut_through_the_clouds_at_0_01_and_not_at_the_tuned_rate():
    data = data_a()

    def per_class(run):
        predicted = np.asarray(run.model(data.x_train)).argmax(axis=1)
        return [np.mean(predicted[data.y_train == k] == k) for k in range(data.n_classes)]

    # "most training points of the two overlapping clouds end up on the wrong side"
    assert sorted(per_class(run_a(1)))[:2] < [0.5, 0.5]
    assert min(per_class(run_a(1, learning_rate=own_rate(1).rate))) > 0.7


def test_exercise_1_lr_0_001_is_closer_to_the_own_rate():
    source = [run_a(1, seed=s) for s in SEEDS]
    small = [run_a(1, seed=s, learning_rate=0.001) for s in SEEDS]
    assert min(finals(small)) > max(finals(source))
    # "its jitter is about a seventh of that at 0.01, though about twice that at the own rate"
    assert 0.1 < _jitter(small) / _jitter(source) < 0.2
    assert 1.5 < _jitter(small) / _jitter(_own_runs()) < 3
    assert 1e-3 in own_rate(1).band                                       # "0.001 lies inside the band"


def test_exercise_3_no_momentum_at_0_01_resembles_momentum_0_9_at_0_001():
    no_momentum = [run_a(1, seed=s, momentum=0.0) for s in SEEDS]
    small = [run_a(1, seed=s, learning_rate=0.001) for s in SEEDS]
    assert abs(np.mean(finals(no_momentum)) - np.mean(finals(small))) < 0.03
    # "a validation-loss jitter under a third of every seed's at momentum 0.9 and learning rate 0.01"
    assert max(r.jitter() for r in no_momentum) < min(run_a(1, seed=s).jitter() for s in SEEDS) / 3
