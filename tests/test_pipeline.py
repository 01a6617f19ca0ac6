"""helpers.pipeline, .result, .engines: one pipeline behind train and train_replicas, and its program caches."""

import numpy as np
import pytest

import helpers
from helpers import engines, result
from helpers._backend import keras
from helpers.replicas import train_replicas
from helpers.schedules import BatchGrowth, StepDecay
from helpers.training import is_compiled, program_key


@pytest.fixture
def tiny():
    """Shapes no other test compiles, so compile times are this test's own."""
    return helpers.load_blobs(n_samples=40, train_size=23, random_state=5)


def test_a_schedule_is_recorded_with_one_label_by_both_engines(small_blobs):
    decay = StepDecay(0.05, factor=0.2, boundaries=[1])
    growth = BatchGrowth(10, factor=2, boundaries=[1])
    single = helpers.train(small_blobs, batch_size=growth, epochs=2, learning_rate=decay)
    (replica,) = train_replicas(small_blobs, batch_size=growth, epochs=2, learning_rates=[decay],
                                seeds=[0])
    for key in ("batch_size", "learning_rate"):
        assert single.config[key] == replica.config[key]
    assert single.config["learning_rate"] == decay.name and single.config["batch_size"] == growth.name
    assert single.label == replica.label == "batch 10, x2 at epochs 1, lr 0.05, x0.2 at epochs 1"
    plain = helpers.train(small_blobs, batch_size=lambda e: 10, epochs=1, learning_rate=lambda e: 0.01)
    assert plain.config["learning_rate"] == plain.config["batch_size"] == "schedule"


@pytest.mark.parametrize("engine", ["train", "train_replicas"])
def test_each_schedule_is_called_once_per_epoch(small_blobs, engine):
    calls = {"lr": [], "batch": []}

    def rate(epoch):
        calls["lr"].append(epoch)
        return 0.01

    def size(epoch):
        calls["batch"].append(epoch)
        return 10

    if engine == "train":
        helpers.train(small_blobs, batch_size=size, epochs=3, learning_rate=rate)
    else:
        train_replicas(small_blobs, batch_size=size, epochs=3, learning_rates=[rate], seeds=[0])
    assert calls == {"lr": [0, 1, 2], "batch": [0, 1, 2]}


def test_a_momentum_sweep_of_train_replicas_compiles_once(tiny):
    kwargs = dict(batch_size=5, epochs=2, learning_rates=[0.01, 0.03], seeds=[0, 1])
    first = train_replicas(tiny, momentum=0.9, **kwargs)
    others = [train_replicas(tiny, momentum=m, **kwargs) for m in (0.0, 0.5)]
    assert first[0].compile_seconds > 0
    assert all(r.compile_seconds == 0 for runs in others for r in runs)
    losses = {str(runs[0].history["loss"]) for runs in [first] + others}
    assert len(losses) == 3       # each momentum took effect
    again = train_replicas(tiny, momentum=0.9, **kwargs)
    assert [r.history for r in again] == [r.history for r in first]


def test_momentum_0_replicas_match_train(small_blobs):
    # Both engines read the momentum from a variable, so at 0 they run the same update.
    (replica,) = train_replicas(small_blobs, batch_size=10, epochs=3, learning_rates=[0.05],
                                seeds=[4], momentum=0.0)
    single = helpers.train(small_blobs, batch_size=10, epochs=3, learning_rate=0.05, seed=4,
                           momentum=0.0)
    np.testing.assert_allclose(replica.history["loss"], single.history["loss"], atol=1e-6)


def test_program_key_is_the_key_the_engine_files_its_program_under(tiny):
    before = set(engines.PROGRAMS.keys())
    assert not is_compiled(tiny, batch_size=4)
    helpers.train(tiny, batch_size=4, epochs=1, learning_rate=0.01)
    evaluation = helpers.training.evaluation_key(tiny)
    assert set(engines.PROGRAMS.keys()) - before <= {program_key(tiny, batch_size=4), evaluation}
    assert {program_key(tiny, batch_size=4), evaluation} <= set(engines.PROGRAMS.keys())
    assert is_compiled(tiny, batch_size=4) and not is_compiled(tiny, batch_size=5)
    assert not is_compiled(tiny, batch_size=4, jit_compile=False)


def test_a_given_model_of_the_course_architecture_reuses_the_compiled_engine(tiny):
    reference = helpers.train(tiny, batch_size=6, epochs=3, learning_rate=0.05, seed=2)
    count = len(engines.ENGINES)
    model = helpers.build_mlp(seed=2)
    given = helpers.train(tiny, model=model, batch_size=6, epochs=3, learning_rate=0.05, seed=2)
    assert given.compile_seconds == 0 and len(engines.ENGINES) == count
    assert given.model is model and given.history == reference.history
    for a, b in zip(model.get_weights(), reference.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Trained in place: a second call goes on from where the first stopped.
    more = helpers.train(tiny, model=model, batch_size=6, epochs=1, learning_rate=0.05, seed=2)
    assert more.compile_seconds == 0 and more.history["loss"][0] < reference.history["loss"][0]


def test_a_given_model_of_another_architecture_compiles_once(tiny):
    k = keras()
    model = k.Sequential([k.Input(shape=(2,)), k.layers.Dense(4, activation="tanh"),
                          k.layers.Dense(4, activation="relu"), k.layers.Dense(3, activation="softmax")])
    first = helpers.train(tiny, model=model, batch_size=6, epochs=2, learning_rate=0.05)
    second = helpers.train(tiny, model=model, batch_size=6, epochs=2, learning_rate=0.05)
    assert first.compile_seconds > 0 and second.compile_seconds == 0
    # It went on training from where the first run stopped: restarted from the same weights,
    # with the same seed's shuffles, its first epoch would repeat the first run's bit for bit.
    assert second.history["loss"][0] != first.history["loss"][0]
    # Compiled again by its owner, it gets a new engine rather than a stale one.
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    third = helpers.train(tiny, model=model, batch_size=6, epochs=1, learning_rate=0.05)
    assert third.compile_seconds > 0 and np.isfinite(third.history["loss"][0])


def test_a_course_model_with_other_settings_is_not_taken_for_the_course_one(tiny):
    k = keras()
    model = k.Sequential([k.Input(shape=(2,)), k.layers.Dense(32, activation="relu", use_bias=False),
                          k.layers.Dense(3, activation="softmax")])
    assert not helpers.training._is_course_mlp(model, tiny, helpers.training._architecture(model))
    assert helpers.training._is_course_mlp(helpers.build_mlp(hidden_units=5, activation="tanh"), tiny,
                                           dict(hidden_units=5, activation="tanh",
                                                kernel_initializer="glorot_uniform"))


def test_program_cache_drops_the_least_recently_used():
    cache = engines.ProgramCache(maxsize=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1        # a is now the most recently used
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"] and cache.get("b") is None
    cache.maxsize = 1
    assert cache.keys() == ["c"] and len(cache) == 1
    with pytest.raises(ValueError, match=r"maxsize must be an int in \[1, inf\], got 0"):
        cache.maxsize = 0


def test_an_evicted_program_is_compiled_again_with_the_same_numbers(tiny, monkeypatch):
    monkeypatch.setattr(engines.PROGRAMS, "maxsize", engines.PROGRAMS.maxsize)   # restored after
    kwargs = dict(epochs=2, learning_rate=0.05, seed=1)
    first = helpers.train(tiny, batch_size=7, **kwargs)
    engines.PROGRAMS.maxsize = 1
    helpers.train(tiny, batch_size=8, **kwargs)           # pushes batch 7's program out
    assert not is_compiled(tiny, batch_size=7) and len(engines.PROGRAMS) == 1
    again = helpers.train(tiny, batch_size=7, **kwargs)
    assert again.compile_seconds > 0 and again.history == first.history


def test_the_divergence_rule():
    limit = 100 * np.log(3)
    loss = np.array([[1.0, 1.0, np.nan], [1.0, limit + 1, 1.0]])
    val = np.array([[1.0, 1.0, 1.0], [np.inf, 1.0, 1.0]])
    np.testing.assert_array_equal(result.diverged(loss, val, 3), [[False, False, True],
                                                                    [True, True, False]])
    assert result.first_divergence(loss, val, 3) == [2, 2, 1]
    assert result.first_divergence(np.ones((4, 2)), np.ones((4, 2)), 3) == [None, None]


def test_results_keep_apart_what_the_engines_share(small_blobs):
    # The engine's model is shared; each result gets a model of its own.
    a = helpers.train(small_blobs, batch_size=20, epochs=1, learning_rate=0.01, seed=0)
    b = helpers.train(small_blobs, batch_size=20, epochs=1, learning_rate=0.01, seed=1)
    assert a.model is not b.model
    assert any(np.any(x != y) for x, y in zip(a.model.get_weights(), b.model.get_weights()))


def test_a_result_that_does_not_add_up_is_refused(small_blobs):
    stored = helpers.train(small_blobs, batch_size=20, epochs=2, learning_rate=0.01).to_dict()
    for spoil in (dict(batch_loss=stored["batch_loss"][:-1]), dict(epoch_updates=[3]),
                  dict(diverged_at=1), dict(history={**stored["history"], "loss": [0.5]})):
        with pytest.raises(ValueError, match=r"disagree|diverged_at"):
            helpers.TrainResult.from_dict({**stored, **spoil})


def test_a_schedules_own_error_keeps_its_type_and_traceback(small_blobs):
    def broken_schedule(epoch):
        if epoch == 1:
            return {}["no such stage"]
        return 0.01

    with pytest.raises(KeyError) as caught:
        helpers.train(small_blobs, batch_size=20, epochs=3, learning_rate=broken_schedule)
    frames = [entry.name for entry in caught.traceback]
    assert "broken_schedule" in frames
    assert any("learning_rate(1)" in note for note in getattr(caught.value, "__notes__", []))

    def bad_value(epoch):
        raise ValueError("my own check failed")

    with pytest.raises(ValueError, match="my own check failed") as caught:
        helpers.train(small_blobs, batch_size=bad_value, epochs=2, learning_rate=0.01)
    assert "bad_value" in [entry.name for entry in caught.traceback]


def test_the_data_is_checked_once_at_the_trainers_doors(tiny, monkeypatch):
    def again(data):
        raise AssertionError("the data checked again past the door")

    monkeypatch.setattr(helpers.pipeline, "check_dataset", again)
    assert helpers.train(tiny, batch_size=6, epochs=1, learning_rate=0.05).epochs_run == 1
    assert train_replicas(tiny, batch_size=6, epochs=1, learning_rates=[0.05], seeds=[0])[0].epochs_run == 1
