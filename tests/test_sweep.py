"""helpers.sweep: the grid, its tidy rows, and its cache (resume, corruption, keys)."""

import dataclasses
import gzip
import json
import os

import matplotlib
import numpy as np
import pytest

import helpers
import helpers.replicas
from helpers.sweep import (ROW_KEYS, TRAINER_VERSION, SweepResult, data_digest, run_key,
                          steps_to_target)

matplotlib.use("Agg")

GRID = dict(batch_sizes=[10, 60], learning_rates=[0.01, 0.1], seeds=[0, 1], epochs=3,
            progress=False)


@pytest.fixture
def counting(monkeypatch):
    """Count the runs trained (rather than read from the cache)."""
    calls = []
    real = helpers.replicas.run_plan

    def train(*args, **kwargs):
        calls.append(len(args[0].seeds))
        return real(*args, **kwargs)

    monkeypatch.setattr(helpers.replicas, "run_plan", train)
    return calls


def test_grid_order_and_tidy_rows(small_blobs, tmp_path):
    result = helpers.sweep(small_blobs, cache_dir=tmp_path, **GRID)
    assert isinstance(result, SweepResult) and len(result) == 8
    configs = [(r["batch_size"], r["learning_rate"], r["seed"]) for r in result.rows]
    assert configs == [(b, lr, s) for b in (10, 60) for lr in (0.01, 0.1) for s in (0, 1)]
    row = result.rows[0]
    assert tuple(row) == ROW_KEYS
    assert row["updates"] == 3 * 6 and result.rows[-1]["updates"] == 3
    assert row["val_accuracy"] == result.runs[0].final("val_accuracy")
    assert result.values("learning_rate") == [0.01, 0.1]
    assert len(result.select(batch_size=60)) == 4
    assert list(result.groups("batch_size")) == ["batch 10", "batch 60"]
    assert "8 trained, 0 from cache" in repr(result)


def test_each_run_is_the_helpers_train_run(small_blobs):
    result = helpers.sweep(small_blobs, batch_sizes=[10], learning_rates=[0.1], seeds=[3],
                           epochs=4, cache_dir=None, progress=False)
    reference = helpers.train(small_blobs, batch_size=10, epochs=4, learning_rate=0.1, seed=3)
    np.testing.assert_allclose(result.runs[0].history["val_loss"], reference.history["val_loss"],
                               atol=1e-5)


def test_grid_and_own_rates(small_blobs):
    result = helpers.sweep(small_blobs, cache_dir=None, **GRID)
    table, rows, cols = result.grid("val_loss")
    assert rows == [10, 60] and cols == [0.01, 0.1] and table.shape == (2, 2)
    expected = np.mean([r.final("val_loss") for r in result.select(batch_size=60, learning_rate=0.1)])
    assert table[1, 1] == pytest.approx(expected)
    for b, own in result.own_rates().items():
        assert table[rows.index(b), cols.index(own.rate)] == np.nanmin(table[rows.index(b)])
    updates, _, _ = result.grid("updates")
    np.testing.assert_array_equal(updates, [[18, 18], [3, 3]])
    ax = helpers.plot_heatmap(result, "val_accuracy", best="max")
    assert len(ax.patches) == 2 and len(ax.texts) == 4
    ax = helpers.plot_heatmap(result, "updates", log=True)
    assert ax.texts[0].get_text() == "18"


def test_second_call_reads_everything_from_the_cache(small_blobs, tmp_path, counting):
    first = helpers.sweep(small_blobs, cache_dir=tmp_path, **GRID)
    assert sum(counting) == 8 and len(list(tmp_path.glob("*.json.gz"))) == 8
    counting.clear()
    second = helpers.sweep(small_blobs, cache_dir=tmp_path, **GRID)
    assert counting == [] and all(second.cached)
    for a, b in zip(first.runs, second.runs):
        assert a.history == b.history and a.config == b.config
        np.testing.assert_array_equal(a.batch_loss, b.batch_loss)
    assert not list(tmp_path.glob("*.tmp")), "atomic writes leave no temporary files"


def test_cache_files_are_json_keyed_by_the_full_configuration(small_blobs, tmp_path, counting):
    helpers.sweep(small_blobs, batch_sizes=[10], learning_rates=[0.1], seeds=[0], epochs=2,
                  cache_dir=tmp_path, progress=False)
    (path,) = tmp_path.glob("*.json.gz")
    stored = json.loads(gzip.decompress(path.read_bytes()))
    assert stored["key"]["dataset"] == small_blobs.config
    assert stored["key"]["trainer"] == TRAINER_VERSION
    # Anything that changes the run changes the key: a new file, a new run.
    for change in (dict(epochs=3), dict(momentum=0.5), dict(hidden_units=8), dict(seeds=[1])):
        kwargs = dict(dict(batch_sizes=[10], learning_rates=[0.1], seeds=[0], epochs=2), **change)
        counting.clear()
        helpers.sweep(small_blobs, cache_dir=tmp_path, progress=False, **kwargs)
        assert counting == [1], change
    other = helpers.load_blobs(n_samples=100, train_size=60, random_state=3)
    counting.clear()
    helpers.sweep(other, batch_sizes=[10], learning_rates=[0.1], seeds=[0], epochs=2,
                  cache_dir=tmp_path, progress=False)
    assert counting == [1]


def test_a_change_in_the_data_alone_changes_the_key(small_blobs, tmp_path, counting):
    kwargs = dict(batch_sizes=[10], learning_rates=[0.1], seeds=[0], epochs=2, cache_dir=tmp_path,
                  progress=False)
    helpers.sweep(small_blobs, **kwargs)
    # Same config, one value moved: as if data loading had changed under the cache.
    x_train = small_blobs.x_train.copy()
    x_train[0, 0] += 1e-3
    changed = dataclasses.replace(small_blobs, x_train=x_train)
    assert changed.config == small_blobs.config
    assert data_digest(changed) != data_digest(small_blobs)
    counting.clear()
    result = helpers.sweep(changed, **kwargs)
    assert counting == [1] and result.cached == [False]
    counting.clear()
    again = helpers.sweep(dataclasses.replace(small_blobs), **kwargs)   # equal arrays, cached
    assert counting == [] and again.cached == [True]


class _RecordingBar:
    """Stands in for tqdm: remembers its total, its updates and whether it was closed."""

    made = []

    def __init__(self, total, **kwargs):
        self.total, self.kwargs, self.updates, self.closed = total, kwargs, [], False
        _RecordingBar.made.append(self)

    def update(self, n):
        self.updates.append(n)

    def set_postfix_str(self, text):
        self.postfix = text

    def close(self):
        self.closed = True


def test_progress_bar_counts_the_runs_trained(small_blobs, tmp_path, monkeypatch):
    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", _RecordingBar)
    _RecordingBar.made = []
    grid = dict(GRID, progress=True)
    helpers.sweep(small_blobs, cache_dir=tmp_path, replicas=3, **grid)
    (bar,) = _RecordingBar.made
    # 8 runs: each batch size's 4 runs in groups of 3 and 1.
    assert bar.total == 8 and bar.updates == [3, 1, 3, 1] and bar.closed
    assert bar.kwargs["unit"] == "run" and bar.postfix == "batch 60"
    _RecordingBar.made = []
    helpers.sweep(small_blobs, cache_dir=tmp_path, replicas=3, **grid)
    assert _RecordingBar.made == [], "nothing to train, no bar"
    more = dict(grid, seeds=[0, 1, 2])
    helpers.sweep(small_blobs, cache_dir=tmp_path, replicas=3, **more)
    (bar,) = _RecordingBar.made
    assert bar.total == 4 and sum(bar.updates) == 4      # only the runs not in the cache


def _interrupt_the_second_group(monkeypatch):
    """Make the second call of train_replicas a Ctrl-C."""
    real = helpers.replicas.run_plan
    calls = []

    def interrupted_on_second_group(*args, **kwargs):
        calls.append(args[0].batch_sizes[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(helpers.replicas, "run_plan", interrupted_on_second_group)


def _resume_trains_the_second_group_only(data, folder, monkeypatch):
    real, resumed = helpers.replicas.run_plan, []

    def counting(*args, **kwargs):
        resumed.append(args[0].batch_sizes[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(helpers.replicas, "run_plan", counting)
    result = helpers.sweep(data, cache_dir=folder, replicas=4, **GRID)
    assert resumed == [60], "only the unfinished group is trained"
    assert result.cached == [True] * 4 + [False] * 4


def test_interrupted_sweep_keeps_finished_runs_and_resumes(small_blobs, tmp_path, monkeypatch):
    real = helpers.replicas.run_plan
    _interrupt_the_second_group(monkeypatch)
    with pytest.warns(RuntimeWarning, match=r"interrupted: 4 of 8 runs finished, cached in"):
        with pytest.raises(KeyboardInterrupt):
            helpers.sweep(small_blobs, cache_dir=tmp_path, replicas=4, **GRID)
    assert len(list(tmp_path.glob("*.json.gz"))) == 4
    monkeypatch.setattr(helpers.replicas, "run_plan", real)
    _resume_trains_the_second_group_only(small_blobs, tmp_path, monkeypatch)


def test_corrupt_or_foreign_cache_file_is_trained_again_with_a_warning(small_blobs, tmp_path,
                                                                         counting):
    kwargs = dict(batch_sizes=[10], learning_rates=[0.1], seeds=[0, 1], epochs=2,
                  cache_dir=tmp_path, progress=False)
    first = helpers.sweep(small_blobs, **kwargs)
    paths = sorted(tmp_path.glob("*.json.gz"))
    paths[0].write_bytes(gzip.compress(b'{"format": 1, "key": {"trunc'))    # cut short
    stored = json.loads(gzip.decompress(paths[1].read_bytes()))
    stored["key"]["seed"] = 99              # a file whose content is another run's
    paths[1].write_bytes(gzip.compress(json.dumps(stored).encode()))
    counting.clear()
    with pytest.warns(RuntimeWarning, match="unreadable") as caught:
        again = helpers.sweep(small_blobs, **kwargs)
    assert len(caught) == 2 and counting == [2]
    assert again.cached == [False, False]
    for a, b in zip(first.runs, again.runs):
        np.testing.assert_allclose(a.history["loss"], b.history["loss"], atol=1e-6)
    counting.clear()
    helpers.sweep(small_blobs, **kwargs)    # the rewritten files are good again
    assert counting == []
    paths[1].write_bytes(b"not gzip at all")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        helpers.sweep(small_blobs, **kwargs)
    assert counting == [1]


def test_no_cache_writes_nothing(small_blobs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    helpers.sweep(small_blobs, batch_sizes=[60], learning_rates=[0.1], epochs=1, cache_dir=None,
                  progress=False)
    assert list(tmp_path.iterdir()) == []


def test_default_cache_is_relative_to_the_working_directory(small_blobs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    helpers.sweep(small_blobs, batch_sizes=[60], learning_rates=[0.1], epochs=1, progress=False)
    assert len(list((tmp_path / ".cache" / "sweeps").glob("*.json.gz"))) == 1


def test_per_batch_size_learning_rates_and_epochs(small_blobs):
    result = helpers.sweep(small_blobs, batch_sizes=[10, 60], learning_rates={10: [0.01], 60: [0.06, 0.1]},
                           epochs={10: 2, 60: 12}, cache_dir=None, progress=False)
    assert [(r["batch_size"], r["learning_rate"], r["epochs"]) for r in result.rows] == \
        [(10, 0.01, 2), (60, 0.06, 12), (60, 0.1, 12)]
    assert all(r["updates"] == 12 for r in result.rows)


def test_steps_to_target(small_blobs):
    result = helpers.sweep(small_blobs, batch_sizes=[10, 60], learning_rates=[0.03, 0.3],
                           seeds=[0, 1], epochs=20, cache_dir=None, progress=False)
    run = result.runs[0]
    target = run.history["val_loss"][4]
    steps = steps_to_target(run, target)
    first = int(np.argmax(np.array(run.history["val_loss"]) <= target))
    assert steps == run.updates[first] and first <= 4
    assert steps_to_target(run, -1.0) is None
    assert steps_to_target(run, 0.0, key="val_accuracy") == run.updates[0]
    assert steps_to_target(run, target, x="epoch") == first + 1
    with pytest.raises(ValueError, match=r"x must be one of 'update', 'epoch', got 'second'"):
        steps_to_target(run, target, x="second")
    sizes, counts, rates = result.steps_to_target(target)
    assert sizes == [10, 60] and len(counts) == 2 and rates[0] in (0.03, 0.3)
    sizes, counts, rates = result.steps_to_target(-1.0)
    assert np.isnan(counts).all() and rates == [None, None]


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_sizes=[0]), r"batch_sizes must be an int in \[1, 60\], got 0"),
    (dict(batch_sizes=[10, 10]), r"batch_sizes must not repeat a value, got \[10, 10\]"),
    (dict(batch_sizes=[]), r"batch_sizes must hold at least one value"),
    (dict(learning_rates=[-0.1]), r"learning_rates must be .*got -0\.1"),
    (dict(learning_rates={60: [0.1]}), r"learning_rates must have an entry for every batch size, missing \[10\]"),
    (dict(epochs={10: 2}), r"epochs must have an entry for every batch size, missing \[60\]"),
    (dict(epochs=0), r"epochs must be an int .*got 0"),
    (dict(seeds=[1.5]), r"seeds must be an int .*got 1\.5"),
    (dict(replicas=0), r"replicas must be an int .*got 0"),
    (dict(cache_dir=3), r"cache_dir must be a path or None, got 3"),
])
def test_bad_arguments(small_blobs, kwargs, message):
    kwargs = dict(dict(batch_sizes=[10, 60], learning_rates=[0.1], epochs=1, progress=False),
                  **kwargs)
    with pytest.raises((TypeError, ValueError), match=message):
        helpers.sweep(small_blobs, **kwargs)


def test_run_key_is_json_and_complete(small_blobs):
    key = run_key(small_blobs, batch_size=10, learning_rate=0.1, seed=0, epochs=2, momentum=0.9,
                  hidden_units=32, activation="relu", kernel_initializer="glorot_uniform",
                  shuffle=True)
    assert json.loads(json.dumps(key)) == key
    assert key["data_hash"] == data_digest(small_blobs)
    assert {"trainer", "keras", "dataset", "data_hash", "batch_size", "learning_rate", "seed", "epochs",
            "momentum", "hidden_units", "activation", "kernel_initializer", "shuffle"} <= set(key)


def test_diverged_runs_in_grids_and_heatmaps(small_blobs):
    result = helpers.sweep(small_blobs, batch_sizes=[10], learning_rates=[0.1, 50.0], seeds=[0, 1],
                           epochs=5, cache_dir=None, progress=False)
    diverged, _, _ = result.grid("diverged")
    np.testing.assert_array_equal(diverged, [[0.0, 1.0]])
    shown, _, _ = result.grid("val_loss", skip_diverged=True)
    assert np.isfinite(shown[0, 0]) and np.isnan(shown[0, 1])
    assert result.own_rates()[10].rate == 0.1
    ax = helpers.plot_heatmap(result, "val_loss", best="min")
    assert [t.get_text() for t in ax.texts][1] == "diverged"
    assert ax.patches[0].get_x() == -0.5      # the outlined cell is the first column


ONE_RUN = dict(batch_sizes=[10], learning_rates=[0.1], seeds=[0], epochs=2, progress=False)


def _only_file(folder):
    (path,) = folder.glob("*.json.gz")
    return path


@pytest.mark.timeout(120)   # a named pipe opened for reading would wait for a writer forever
@pytest.mark.parametrize("damage, reason", [
    (lambda p: p.write_bytes(p.read_bytes()[:10] + bytes(200) + p.read_bytes()[210:]),
     r"\(zlib\.error: Error -3 while "),
    (lambda p: p.write_bytes(p.read_bytes()[:-30]), r"EOFError: its compressed data ends early"),
    (lambda p: p.write_bytes(gzip.compress(b" " * 2_000_000)), r"unpacks to more than [\d,]+ bytes"),
    (lambda p: p.write_bytes(b"\x1f\x8b" + bytes(3_000_000)), r"holds 3,000,002 bytes, more than"),
    (lambda p: p.write_bytes(gzip.compress(b"[" * 30_000 + b"]" * 30_000)), r"RecursionError"),
    (lambda p: (p.unlink(), os.mkfifo(p)), r"it is a named pipe, not a file"),
], ids=["zlib-error", "truncated", "oversized-unpacked", "oversized-file", "deeply-nested", "fifo"])
def test_a_damaged_entry_is_named_trained_again_and_rewritten(small_blobs, tmp_path, counting,
                                                             damage, reason):
    first = helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    path = _only_file(tmp_path)
    damage(path)
    counting.clear()
    with pytest.warns(RuntimeWarning, match=reason) as caught:
        again = helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    assert str(path) in str(caught[0].message) and caught[0].filename == __file__
    assert counting == [1] and again.cached == [False]
    assert again.runs[0].history["loss"] == pytest.approx(first.runs[0].history["loss"], abs=1e-6)
    counting.clear()
    assert helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN).cached == [True]
    assert counting == []


def test_a_folder_at_an_entrys_path_is_named_and_the_run_kept(small_blobs, tmp_path, counting):
    helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    path = _only_file(tmp_path)
    path.unlink()
    (path / "inside").mkdir(parents=True)      # a folder that cannot be replaced by a file
    with pytest.warns(RuntimeWarning) as caught:
        result = helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    messages = [str(w.message) for w in caught]
    assert any("it is a folder, not a file" in m and str(path) in m for m in messages)
    assert any("could not be written" in m and str(path) in m for m in messages)
    assert all(w.filename == __file__ for w in caught)
    assert result.cached == [False] and result.runs[0].epochs_run == 2


def test_an_entry_whose_result_was_edited_fails_its_checksum(small_blobs, tmp_path, counting):
    helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    path = _only_file(tmp_path)
    stored = json.loads(gzip.decompress(path.read_bytes()))
    stored["result"]["history"]["val_accuracy"][-1] = 1.0     # a better result than was trained
    path.write_bytes(gzip.compress(json.dumps(stored).encode()))
    counting.clear()
    with pytest.warns(RuntimeWarning, match="its checksum does not match its contents"):
        again = helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    assert counting == [1] and again.runs[0].history["val_accuracy"][-1] != 1.0


def test_the_key_holds_the_number_of_classes(small_blobs, tmp_path, counting):
    helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    five = dataclasses.replace(small_blobs, n_classes=5)     # same arrays and config
    counting.clear()
    result = helpers.sweep(five, cache_dir=tmp_path, **ONE_RUN)
    assert counting == [1] and result.cached == [False]


def test_a_dataset_whose_config_holds_nan_hits_the_cache(small_blobs, tmp_path, counting):
    data = dataclasses.replace(small_blobs, config=dict(small_blobs.config, noise=float("nan")))
    helpers.sweep(data, cache_dir=tmp_path, **ONE_RUN)
    counting.clear()
    assert helpers.sweep(data, cache_dir=tmp_path, **ONE_RUN).cached == [True] and counting == []


@pytest.mark.parametrize("where, message", [
    (lambda tmp: tmp / "file", r"cache_dir must be a folder, got '.*file', which is not a folder"),
    (lambda tmp: tmp / "file" / "below", r"cache_dir must be a folder this process can write, got "
                                         r"'.*file/below' \(.*Not a directory"),
])
def test_a_bad_cache_dir_fails_before_anything_is_trained(small_blobs, tmp_path, counting, where,
                                                          message):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError, match=message):
        helpers.sweep(small_blobs, cache_dir=where(tmp_path), **ONE_RUN)
    assert counting == []


def test_own_rate_of_a_row_where_every_run_diverged(small_blobs):
    result = helpers.sweep(small_blobs, batch_sizes=[10, 60], learning_rates={10: [50.0, 100.0],
                                                                              60: [0.1, 100.0]},
                           seeds=[0, 1], epochs=3, cache_dir=None, progress=False)
    assert all(r.diverged for r in result.select(batch_size=10))
    own = result.own_rates()
    assert own[10] is None and own[60].rate == 0.1


def test_warnings_point_at_the_callers_line(small_blobs, tmp_path, monkeypatch):
    # The interruption warning too (list comprehensions have frames on 3.11, not on 3.12+).
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(helpers.replicas, "run_plan", interrupted)
    with pytest.warns(RuntimeWarning, match="interrupted") as caught:
        with pytest.raises(KeyboardInterrupt):
            helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    assert caught[0].filename == __file__


# --- the course's one definition of a batch size's own learning rate -----------

def test_own_rates_pick_the_lowest_mean_validation_loss_with_its_band(small_blobs):
    grid = helpers.sweep(small_blobs, batch_sizes=[10, 60], learning_rates=[0.003, 0.03, 0.3, 3.0],
                         seeds=[0, 1, 2], epochs=8, cache_dir=None, progress=False)
    own = grid.own_rates()
    for b in (10, 60):
        means, _, rates = grid.grid("val_loss", agg="mean")
        row = means[grid.values("batch_size").index(b)]
        finite = np.where(np.isfinite(row), row, np.inf)
        assert own[b].rate == rates[int(np.argmin(finite))]
        assert own[b].loss == pytest.approx(np.min(finite))
        losses = [r.history["val_loss"][-1] for r in grid.select(batch_size=b, learning_rate=own[b].rate)]
        assert own[b].spread == pytest.approx(np.std(losses))
        # The band: every rate whose mean is within one seed spread of the best, the best included.
        assert own[b].band == [r for r, m in zip(rates, row) if m <= own[b].loss + own[b].spread]
        assert own[b].rate in own[b].band
        index = rates.index(own[b].rate)
        assert own[b].bracketed == (0 < index < len(rates) - 1 and np.isfinite(row[[index - 1, index + 1]]).all())
    # A grid cut at its best rate is not bracketed: the search must be widened.
    edge = helpers.sweep(small_blobs, batch_sizes=[10], learning_rates=[0.003, own[10].rate], seeds=[0, 1, 2],
                         epochs=8, cache_dir=None, progress=False).own_rates()[10]
    assert not edge.bracketed


def test_own_rates_of_a_batch_size_whose_every_run_diverged_is_none(small_blobs):
    grid = helpers.sweep(small_blobs, batch_sizes=[10], learning_rates=[500.0], seeds=[0], epochs=3,
                         cache_dir=None, progress=False)
    assert grid.own_rates() == {10: None}


def test_ctrl_c_while_a_group_is_written_keeps_every_finished_run(small_blobs, tmp_path,
                                                                  monkeypatch):
    # The interrupt lands while the second file of the first group is being renamed into place.
    real_replace, renames = os.replace, []

    def interrupted_replace(source, target):
        renames.append(target)
        if len(renames) == 2:
            raise KeyboardInterrupt
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.warns(RuntimeWarning, match=r"interrupted: 4 of 8 runs finished, cached in"):
        with pytest.raises(KeyboardInterrupt):
            helpers.sweep(small_blobs, cache_dir=tmp_path, replicas=4, **GRID)
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(list(tmp_path.glob("*.json.gz"))) == 4
    assert list(tmp_path.glob("*.tmp")) == []

    _resume_trains_the_second_group_only(small_blobs, tmp_path, monkeypatch)


def test_the_count_of_an_interrupted_sweep_without_a_cache(small_blobs, monkeypatch):
    _interrupt_the_second_group(monkeypatch)
    with pytest.warns(RuntimeWarning, match=r"interrupted: 4 of 8 runs finished, not cached"):
        with pytest.raises(KeyboardInterrupt):
            helpers.sweep(small_blobs, cache_dir=None, replicas=4, **GRID)


def test_leftover_temporary_files_are_cleaned(small_blobs, tmp_path):
    old, fresh = tmp_path / "tmpk2j3.tmp", tmp_path / "tmpnew.tmp"   # a killed run's, a live one's
    probe = tmp_path / "tmpq9.probe"
    for path in (old, fresh, probe):
        path.write_bytes(b"half a file")
    for path in (old, probe):
        os.utime(path, (1e9, 1e9))
    helpers.sweep(small_blobs, cache_dir=tmp_path, **ONE_RUN)
    assert not old.exists() and not probe.exists()
    assert fresh.exists()
    assert len(list(tmp_path.glob("*.json.gz"))) == 1


def test_an_empty_cache_dir_is_refused(small_blobs, tmp_path, monkeypatch, counting):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"cache_dir must name a folder \(or be None to cache "
                                         r"nothing\), got ''; '.' is the working directory"):
        helpers.sweep(small_blobs, cache_dir="", **ONE_RUN)
    assert counting == [] and list(tmp_path.iterdir()) == []


def test_a_cache_dir_in_the_home_folder(small_blobs, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    result = helpers.sweep(small_blobs, cache_dir="~/sweeps", **ONE_RUN)
    assert result.cache_dir == tmp_path / "home" / "sweeps"
    assert len(list((tmp_path / "home" / "sweeps").glob("*.json.gz"))) == 1
    assert not (tmp_path / "~").exists()


def test_the_grid_is_checked_once_at_sweeps_door(small_blobs, monkeypatch):
    def again(*args, **kwargs):
        raise AssertionError("checked again past sweep's door")

    for name in ("check_dataset", "check_architecture", "plan_runs"):
        monkeypatch.setattr(helpers.replicas, name, again)
    result = helpers.sweep(small_blobs, cache_dir=None, **ONE_RUN)
    assert len(result) == 1 and result.runs[0].config["trainer"] == "replicas"
