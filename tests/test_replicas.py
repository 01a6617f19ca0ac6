"""train_replicas: K models in one program must each be the run helpers.train makes."""

import numpy as np
import pytest

import helpers
from helpers.replicas import build_replica_mlp, train_replicas
from helpers.schedules import BatchGrowth, StepDecay

# Tolerance of the comparison with helpers.train. Both run Keras's loss and
# SGD under XLA, but in different programs, so XLA may order float sums
# differently: single roundings of ~6e-8 that SGD carries forward. At batch
# 32 and above, over 5 epochs, the histories agree to ~1e-7 (measured on
# TF 2.20 and 2.21); 1e-5 leaves room for other CPUs while catching any real
# difference (a wrong batch, shuffle, learning rate or weight moves the loss
# by >1e-3 at once). Batch 1 is chaotic: one update per example lets a
# rounding difference grow, measured from ~1e-7 after 100 updates to ~1e-3 in
# single batch losses after 400 and ~1e-4 in the epoch averages after 800.
# So at batch 1 we compare one epoch at 1e-3 and the first 100 updates at 1e-5;
# an accuracy moves in steps of one example (1/800), and a borderline
# prediction may flip, so accuracies get 3 examples' worth on top. Losses of
# diverging runs are large (~20), hence also a relative 1e-5.
TOL = 1e-5
TOL_BATCH_1 = 1e-3


def assert_same_as_train(data, result, **kwargs):
    reference = helpers.train(data, **kwargs)
    assert result.epochs_run == reference.epochs_run
    batch_1 = kwargs["batch_size"] == 1   # a schedule never reaches 1 here
    tol = TOL_BATCH_1 if batch_1 else TOL
    for key in helpers.training.HISTORY_KEYS:
        n = data.n_test if key.startswith("val_") else data.n_train
        atol = tol + 3 / n if key.endswith("accuracy") and batch_1 else tol
        np.testing.assert_allclose(result.history[key], reference.history[key], atol=atol, rtol=1e-5)
    np.testing.assert_allclose(result.batch_loss[:100], reference.batch_loss[:100], atol=TOL,
                               rtol=1e-5)
    np.testing.assert_array_equal(result.epoch_updates, reference.epoch_updates)
    if not batch_1:
        # helpers.train recovers each batch's loss from Keras's float32 running
        # mean times the samples seen: the i-th value of an epoch is off by up
        # to ~i x 6e-8 x the loss. (At batch 1 chaos dominates; see above.)
        difference = np.abs(result.batch_loss - reference.batch_loss)
        assert difference.max() < 1e-3 and difference.mean() < 1e-4
    assert result.diverged_at == reference.diverged_at


@pytest.mark.parametrize("batch_size, epochs", [(1, 1), (32, 5), (800, 5)])
def test_each_replica_is_the_helpers_train_run(blobs, batch_size, epochs):
    # Learning rates where batch 1 trains (at 0.03 it is wildly chaotic: 1e-7 becomes 0.04).
    rates, seeds = [0.01, 0.003, 0.01], [0, 0, 7]
    runs = train_replicas(blobs, batch_size=batch_size, epochs=epochs, learning_rates=rates,
                          seeds=seeds)
    for run, lr, seed in zip(runs, rates, seeds):
        assert_same_as_train(blobs, run, batch_size=batch_size, epochs=epochs, learning_rate=lr,
                             seed=seed)


def test_partial_last_batch_and_the_second_source_model():
    data = helpers.load_blobs(train_size=500)
    model = dict(hidden_units=50, kernel_initializer="he_uniform")
    runs = train_replicas(data, batch_size=450, epochs=4, learning_rates=[0.01, 0.1],
                          seeds=[1, 2], **model)
    assert runs[0].updates_per_epoch == 2
    for run, lr, seed in zip(runs, [0.01, 0.1], [1, 2]):
        assert_same_as_train(data, run, batch_size=450, epochs=4, learning_rate=lr, seed=seed,
                             **model)


def test_schedules_match_helpers_train(blobs):
    decay = StepDecay(0.05, factor=0.2, boundaries=[1, 2])
    growth = BatchGrowth.matching(decay, 16)
    runs = train_replicas(blobs, batch_size=growth, epochs=4, learning_rates=[decay, 0.05],
                          seeds=[2, 3])
    assert_same_as_train(blobs, runs[0], batch_size=growth, epochs=4, learning_rate=decay, seed=2)
    assert_same_as_train(blobs, runs[1], batch_size=growth, epochs=4, learning_rate=0.05, seed=3)
    assert runs[0].config["learning_rate"] == decay.name
    assert runs[1].config["batch_size"] == growth.name


def test_a_diverging_replica_stops_alone(blobs):
    runs = train_replicas(blobs, batch_size=32, epochs=30, learning_rates=[10.0, 0.01],
                          seeds=[0, 0])
    reference = helpers.train(blobs, batch_size=32, epochs=30, learning_rate=10.0, seed=0)
    assert runs[0].diverged_at == reference.diverged_at is not None
    assert runs[0].epochs_run == runs[0].diverged_at
    assert runs[1].diverged_at is None and runs[1].epochs_run == 30
    assert runs[1].final("val_accuracy") > 0.8


def test_padding_and_chunking_do_not_change_runs(small_blobs):
    # 3 replicas padded to 8, and 70 epochs run as chunks of 50 + 20.
    few = train_replicas(small_blobs, batch_size=7, epochs=70, learning_rates=[0.01] * 3,
                         seeds=[0, 1, 2])
    many = train_replicas(small_blobs, batch_size=7, epochs=70, learning_rates=[0.01] * 9,
                          seeds=list(range(9)), pad_to=3)
    assert len(few) == 3 and len(many) == 9
    for a, b in zip(few, many):
        for key in helpers.training.HISTORY_KEYS:
            np.testing.assert_allclose(a.history[key], b.history[key], atol=TOL, rtol=0)
    assert few[0].history != few[1].history


def test_result_bookkeeping(small_blobs):
    (run,) = train_replicas(small_blobs, batch_size=8, epochs=3, learning_rates=[0.01], seeds=[0])
    assert run.updates_per_epoch == 8 and list(run.updates) == [8, 16, 24]
    assert run.batch_loss.shape == (24,) and run.model is None
    assert run.config["trainer"] == "replicas" and run.config["seed"] == 0
    assert run.seconds == pytest.approx(run.epoch_seconds.sum()) and run.seconds > 0
    again = helpers.TrainResult.from_dict(run.to_dict())
    assert again.history == run.history


def test_seconds_are_shared_by_the_real_runs_only(small_blobs, monkeypatch):
    # Every chunk's program "takes" exactly 1 s, so the split is checked without a clock.
    real = helpers.replicas._ReplicaEngine.run

    def one_second(self, *args):
        logs, losses, _, compiled = real(self, *args)
        return logs, losses, 1.0, compiled

    monkeypatch.setattr(helpers.replicas._ReplicaEngine, "run", one_second)
    # 3 real runs padded to 8; 70 epochs are two chunks (50 + 20): 2 s in all.
    runs = train_replicas(small_blobs, batch_size=7, epochs=70, learning_rates=[0.01] * 3,
                          seeds=[0, 1, 2])
    assert [r.seconds for r in runs] == pytest.approx([2 / 3] * 3)
    assert sum(r.seconds for r in runs) == pytest.approx(2.0)
    np.testing.assert_allclose(runs[0].epoch_seconds[:50], 1 / 50 / 3)
    np.testing.assert_allclose(runs[0].epoch_seconds[50:], 1 / 20 / 3)


def test_replica_model_keeps_replicas_apart():
    model = build_replica_mlp(2, 3, replicas=4, hidden_units=5)
    assert model.output_shape == (None, 4, 3)
    x = np.random.default_rng(0).normal(size=(6, 4, 2)).astype("float32")
    before = model(x).numpy()
    x[:, 2] += 1.0
    after = model(x).numpy()
    np.testing.assert_array_equal(before[:, [0, 1, 3]], after[:, [0, 1, 3]])
    assert not np.allclose(before[:, 2], after[:, 2])


@pytest.mark.parametrize("kwargs, message", [
    (dict(learning_rates=[0.01, 0.1], seeds=[0]), r"equal length, got 2 and 1"),
    (dict(learning_rates=[], seeds=[]), r"non-empty"),
    (dict(learning_rates=[0.01], seeds=[-1]), r"seeds\[0\] must be an int .*got -1"),
    (dict(learning_rates=[0.0], seeds=[0]), r"learning_rates\[0\] must be .*got 0\.0"),
    (dict(learning_rates=[0.01], seeds=[0], batch_size=61), r"batch_size must be an int in \[1, 60\], got 61"),
    (dict(learning_rates=[0.01], seeds=[0], pad_to=0), r"pad_to must be .*got 0"),
])
def test_bad_arguments(small_blobs, kwargs, message):
    kwargs = dict(dict(batch_size=10, epochs=1), **kwargs)
    with pytest.raises((TypeError, ValueError), match=message):
        train_replicas(small_blobs, **kwargs)


def test_eval_every_reads_the_validation_loss_between_epoch_ends(small_blobs):
    # shuffle=False: the first 3 updates at batch 8 see rows 0-23, so the validation loss
    # after update 3 is the epoch-end validation loss of a run on those 24 rows alone.
    (run,) = train_replicas(small_blobs, batch_size=8, epochs=3, learning_rates=[0.1], seeds=[0],
                            shuffle=False, eval_every=3)
    trace = run.val_loss_by_update
    assert trace.shape == run.batch_loss.shape == (24,)
    evaluated = np.flatnonzero(np.isfinite(trace)) + 1
    assert list(evaluated) == [3, 6, 8, 9, 12, 15, 16, 18, 21, 24]    # every 3rd and epoch ends
    np.testing.assert_array_equal(trace[run.updates - 1], run.history["val_loss"])
    first = helpers.Dataset(small_blobs.x_train[:24], small_blobs.y_train[:24], small_blobs.x_test,
                            small_blobs.y_test, name="first 24", n_classes=small_blobs.n_classes,
                            x_val=small_blobs.x_val, y_val=small_blobs.y_val)
    (short,) = train_replicas(first, batch_size=8, epochs=1, learning_rates=[0.1], seeds=[0],
                              shuffle=False)
    np.testing.assert_allclose(trace[2], short.history["val_loss"][0], rtol=1e-5)
    assert trace[2] != pytest.approx(trace[5])                       # the weights moved between
    # steps_to_target reads it: exact to 3 updates, not to one epoch (8).
    target = float(trace[5]) + 1e-6
    assert helpers.steps_to_target(run, target) == 1 + int(np.argmax(trace <= target)) < 8
    assert helpers.steps_to_target(run, target, x="epoch") >= 1             # epochs: the history
    again = helpers.TrainResult.from_dict(run.to_dict())
    np.testing.assert_array_equal(again.val_loss_by_update, trace)
    (plain,) = train_replicas(small_blobs, batch_size=8, epochs=3, learning_rates=[0.1], seeds=[0],
                              shuffle=False)
    assert plain.val_loss_by_update is None
    np.testing.assert_allclose(plain.history["val_loss"], run.history["val_loss"], rtol=1e-6)
