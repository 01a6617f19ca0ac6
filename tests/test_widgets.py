"""helpers.widgets: the explorer trains for real, serves the latest change, shows its errors."""

import logging
import sys
import threading

import numpy as np
import pytest

import helpers
from helpers import widgets
from helpers._display import WIDGET_VIEW_MIMETYPE
from helpers.training import _TRAINING_LOCK
from helpers.widgets import Explorer, batch_size_options, draw_explorer, explore


@pytest.fixture
def explorer(small_blobs):
    """A small explorer (60 train points, 5 epochs) that does not compile ahead."""
    return explore(small_blobs, batch_size=4, epochs=5, warm_up=False)


def change(explorer, name, value):
    explorer.controls[name].value = value
    assert explorer.wait(120), "the explorer did not finish in time"


def test_batch_size_options_are_powers_of_two_then_the_full_set():
    assert batch_size_options(800) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 800]
    assert batch_size_options(60) == [1, 2, 4, 8, 16, 32, 60]
    assert batch_size_options(1) == [1]
    with pytest.raises(ValueError, match="n_train must be an int in .* got 0"):
        batch_size_options(0)


def test_first_run_is_real_training_and_has_a_text_fallback(explorer, small_blobs):
    run = explorer.current
    again = helpers.train(small_blobs, batch_size=4, epochs=5, learning_rate=0.01, seed=0)
    assert run.results[0].history == again.history
    assert run.updates_per_epoch == 15 and explorer.trainings == 1
    bundle = explorer._repr_mimebundle_()
    assert bundle[WIDGET_VIEW_MIMETYPE]["model_id"] == explorer.widget.model_id
    text = bundle["text/plain"]
    assert "batch size 4 → 15 updates per epoch" in text and "helpers.train" in text
    assert explorer._image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_control_change_retrains_in_the_background_for_the_new_value(explorer, small_blobs):
    before = explorer._image.value
    change(explorer, "batch_size", 60)
    run = explorer.current
    assert run.settings["batch_size"] == 60 and run.updates_per_epoch == 1
    # Trained in the explorer's thread, yet the same run as in this one.
    again = helpers.train(small_blobs, batch_size=60, epochs=5, learning_rate=0.01, seed=0)
    assert run.results[0].history == again.history
    assert "batch size 60 → 1 updates per epoch" in explorer._readout.value
    assert explorer._image.value != before
    assert len(explorer.latencies) == 1 and explorer.trainings == 2
    assert explorer._error.value == ""


def test_a_burst_of_changes_trains_the_last_value_not_a_backlog(explorer, monkeypatch):
    calls = []

    def counting_train(*args, **kwargs):
        calls.append(kwargs["batch_size"])
        return helpers.train(*args, **kwargs)

    monkeypatch.setattr(widgets, "train", counting_train)
    values = [1, 2, 8, 16, 32, 60, 1, 2, 16, 32]
    with _TRAINING_LOCK:  # hold training up while the changes arrive
        for value in values:
            explorer.controls["batch_size"].value = value
    assert explorer.wait(120)
    assert explorer.current.settings["batch_size"] == 32
    assert len(calls) <= 2 and calls[-1] == 32


def test_more_seeds_give_one_result_per_seed(explorer):
    change(explorer, "seeds", 3)
    assert [r.config["seed"] for r in explorer.current.results] == [0, 1, 2]
    assert "3 seeds" in explorer.current.headline()


def test_a_diverging_learning_rate_says_so_instead_of_failing(explorer):
    change(explorer, "learning_rate", 10.0)
    assert explorer.current.diverged_at is not None
    assert f"diverged at epoch {explorer.current.diverged_at}" in explorer._readout.value
    assert explorer._error.value == ""


def test_an_exception_in_a_callback_is_shown_to_the_learner(explorer, monkeypatch):
    def broken_train(*args, **kwargs):
        raise RuntimeError("the trainer broke")

    monkeypatch.setattr(widgets, "train", broken_train)
    change(explorer, "epochs", 6)
    assert "RuntimeError: the trainer broke" in explorer._error.value
    assert "error" in explorer._status.value
    monkeypatch.undo()
    change(explorer, "epochs", 7)  # the explorer keeps working, and clears the message
    assert explorer._error.value == "" and explorer.current.settings["epochs"] == 7


def test_an_error_after_training_is_shown_and_the_next_change_still_trains(explorer, monkeypatch):
    def broken_warm_up():
        raise RuntimeError("warm-up broke")

    explorer._warm_up = True  # queueing the warm-up runs after the redraw, in the thread
    monkeypatch.setattr(explorer, "_queue_warm_up", broken_warm_up)
    change(explorer, "epochs", 6)
    assert "RuntimeError: warm-up broke" in explorer._error.value
    assert "error" in explorer._status.value and explorer._worker.is_alive()
    monkeypatch.undo()
    explorer._warm_up = False
    change(explorer, "batch_size", 2)
    assert explorer.current.settings["batch_size"] == 2 and explorer.trainings == 3
    assert explorer._error.value == "" and "redrawn" in explorer._status.value


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_worker_is_replaced_on_the_next_change(explorer, monkeypatch):
    def dying(*_job):
        raise SystemExit  # not an Exception: gets past the per-request catch and ends the thread

    monkeypatch.setattr(explorer, "_serve_request", dying)
    change(explorer, "epochs", 6)
    explorer._worker.join(10)
    dead = explorer._worker
    assert not dead.is_alive() and explorer.trainings == 1
    monkeypatch.undo()
    change(explorer, "epochs", 7)
    assert explorer._worker is not dead and explorer.current.settings["epochs"] == 7
    assert explorer.trainings == 2


def test_pinned_runs_share_the_axes_and_can_be_cleared(explorer):
    explorer.pin()
    assert explorer.wait(60) and explorer.trainings == 1  # pinning only redraws
    change(explorer, "batch_size", 1)
    assert len(explorer.pinned) == 1 and "pin 1" in explorer._readout.value
    fig = draw_explorer([explorer.current] + explorer.pinned)
    loss_ax = fig.axes[0]
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert any(label.startswith("now: batch 1,") for label in labels)
    assert any(label.startswith("pin 1: batch 4,") for label in labels)
    explorer.clear_pins()
    assert explorer.wait(60) and explorer.pinned == [] and "pin 1" not in explorer._readout.value


def test_the_x_axis_redraws_without_training(explorer):
    before = explorer._image.value
    change(explorer, "x", "update")
    assert explorer.trainings == 1 and explorer._image.value != before
    assert draw_explorer([explorer.current], x="update").axes[0].get_xlabel() == "parameter updates"


def test_another_dataset_brings_its_own_batch_sizes(explorer):
    change(explorer, "dataset", "blobs 500/500 (source B)")
    options = [value for _, value in explorer.controls["batch_size"].options]
    assert options[-1] == 500 and explorer.current.data.n_train == 500
    assert explorer.current.settings["batch_size"] == 4
    assert not explorer.controls["cluster_std"].disabled
    change(explorer, "cluster_std", 3.0)
    assert explorer.current.data.config["cluster_std"] == 3.0


def test_data_without_two_features_shows_predictions_instead_of_a_boundary():
    digits = helpers.load_digits(train_size=200)
    explorer = explore(digits, batch_size=200, epochs=3, warm_up=False)
    assert explorer.controls["cluster_std"].disabled
    title = draw_explorer([explorer.current]).axes[2].get_title()
    assert "64-D data: no 2-D boundary" in title


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(batch_size=0), ValueError, r"batch_size must be an int in \[1, 800\], got 0"),
    (dict(batch_size=32.0), TypeError, "batch_size must be an int"),
    (dict(learning_rate=100.0), ValueError, "learning_rate must be a finite number in .* got 100"),
    (dict(momentum=1.0), ValueError, "momentum must be .* got 1.0"),
    (dict(seeds=0), ValueError, "seeds must be an int"),
    (dict(epochs=0), ValueError, "epochs must be an int"),
    (dict(x="minutes"), ValueError, "x must be one of .* got 'minutes'"),
    (dict(data="mnist"), ValueError, "data must be one of .* got 'mnist'"),
    (dict(data=[1, 2]), TypeError, "data must be None, a dataset name or a helpers Dataset"),
    (dict(warm_up="yes"), TypeError, "warm_up must be True or False, got 'yes'"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        explore(**kwargs)


def test_without_ipywidgets_the_error_says_what_to_install(monkeypatch, small_blobs):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match="pip install 'ipywidgets>=7.7'"):
        explore(small_blobs, epochs=2, warm_up=False)


def test_warm_up_compiles_what_one_move_would_compile_quietly(caplog):
    tiny = helpers.load_blobs(n_samples=20, train_size=8)
    caplog.set_level(logging.WARNING, logger="tensorflow")
    explorer = explore(tiny, batch_size=8, epochs=2, momentum=0.5)
    assert explorer.wait(300, warm_up=True)
    keys = {explorer._warm_key(tiny, 0.5, b) for b in batch_size_options(8)}
    keys |= {explorer._warm_key(tiny, m, 8) for m in widgets.MOMENTA}  # one key: momentum never compiles
    for name in widgets.DATASETS:  # other shapes, at the batch size the change lands on (full)
        other = explorer._load(name, 2.0)
        keys.add(explorer._warm_key(other, 0.5, other.n_train))
    assert keys <= explorer._warmed
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]
    # Compiled ahead: no compile time in these runs.
    change(explorer, "batch_size", 1)
    assert explorer.current.compile_seconds == 0.0
    change(explorer, "batch_size", 8)
    change(explorer, "momentum", 0.99)
    assert explorer.current.compile_seconds == 0.0
    change(explorer, "momentum", 0.5)
    change(explorer, "dataset", "blobs 500/500 (source B)")
    assert explorer.current.settings["batch_size"] == 500
    assert explorer.current.compile_seconds == 0.0
    explorer.close()


def test_training_waits_for_the_explorer_thread(small_blobs):
    """helpers.train called while the explorer's thread trains gets its own, correct run."""
    explorer = explore(small_blobs, batch_size=2, epochs=5, warm_up=False)
    expected = helpers.train(small_blobs, batch_size=8, epochs=5, learning_rate=0.01, seed=3)
    results = []
    explorer.controls["batch_size"].value = 1
    worker = threading.Thread(target=lambda: results.append(
        helpers.train(small_blobs, batch_size=8, epochs=5, learning_rate=0.01, seed=3)))
    worker.start()
    worker.join(120)
    assert explorer.wait(120)
    assert np.array_equal(results[0].batch_loss, expected.batch_loss)
    assert explorer.current.settings["batch_size"] == 1


def test_explorer_is_exported():
    assert helpers.explore is explore and helpers.Explorer is Explorer


# --- claims of notebooks/07_explorer.ipynb (the explorer trains seed 0 when seeds=1) ----------

def slider_stop(exponent):
    """A stop of the explorer's learning-rate slider: 10 ** (min + k * step)."""
    steps = round((exponent - widgets.LR_EXPONENTS[0]) / 0.1)
    return 10.0 ** (widgets.LR_EXPONENTS[0] + steps * 0.1)


def test_lesson_07_solution_1_batch_1_needs_a_tenth_of_the_learning_rate(blobs):
    mini = helpers.train(blobs, batch_size=32, epochs=100, learning_rate=0.01, seed=0)
    tenth = helpers.train(blobs, batch_size=1, epochs=100, learning_rate=slider_stop(-3), seed=0)
    assert abs(slider_stop(-3) - 0.001) < 1e-12
    assert abs(tenth.final("val_accuracy") - mini.final("val_accuracy")) <= 0.05
    assert helpers.train(blobs, batch_size=1, epochs=100, learning_rate=0.1, seed=0).diverged_at == 1


def test_lesson_07_solution_2_batch_256_keeps_pace_near_0_08(blobs):
    stop = slider_stop(-1.1)
    assert f"{stop:.2g}" == "0.079"
    mini = helpers.train(blobs, batch_size=32, epochs=100, learning_rate=0.01, seed=0)
    runs = {lr: helpers.train(blobs, batch_size=256, epochs=100, learning_rate=lr, seed=0)
            for lr in (0.01, stop)}

    def gap(result):
        return np.mean(np.abs(np.array(result.history["loss"]) - mini.history["loss"]))

    assert runs[0.01].history["loss"][19] > mini.history["loss"][19]  # falls behind
    assert gap(runs[stop]) < gap(runs[0.01]) / 2  # follows the pinned curve closely


def test_lesson_07_solution_3_more_noise_lowers_the_test_accuracy():
    finals = [helpers.train(helpers.load_blobs(cluster_std=std), batch_size=32, epochs=100,
                            learning_rate=0.01, seed=0).final("val_accuracy") for std in (2.0, 4.0)]
    assert finals[1] < finals[0] - 0.1


def test_close_stops_the_background_thread(small_blobs):
    explorer = explore(small_blobs, batch_size=4, epochs=3)  # warms up in the background
    explorer.controls["batch_size"].value = 8
    explorer.close()
    assert not explorer._worker.is_alive()
    trainings = explorer.trainings
    explorer.controls["batch_size"].value = 16
    assert explorer.wait(5) and explorer.trainings == trainings
    assert "closed" in explorer._status.value


def test_only_the_newest_explorer_compiles_ahead(small_blobs):
    old = explore(small_blobs, batch_size=4, epochs=2, momentum=0.8)
    new = explore(small_blobs, batch_size=4, epochs=2, momentum=0.95)  # as a re-run cell makes
    assert old._warm_queue == [] and new._warm_queue
    for explorer in (old, new):
        explorer.close()
