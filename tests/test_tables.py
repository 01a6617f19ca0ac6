"""helpers.tables and TrainResult.jitter."""

import dataclasses

import numpy as np
import pytest

import helpers


def test_table_rows_carry_the_run_figures(small_blobs):
    runs = [helpers.train(small_blobs, batch_size=b, epochs=3, learning_rate=0.01) for b in (1, 60)]
    table = helpers.results_table(runs, labels=["SGD", "batch GD"])
    assert [r["updates / epoch"] for r in table.rows] == [60, 1]
    assert [r["updates"] for r in table.rows] == [180, 3]
    assert table.rows[0]["val acc"] == runs[0].final("val_accuracy")
    assert table.rows[0]["training seconds"] == runs[0].seconds
    text = str(table)
    assert text.splitlines()[0].startswith("run") and "batch GD" in text
    assert "test acc" not in text            # no run was scored on the test split
    assert "<table>" in table._repr_html_()
    scored = helpers.train(small_blobs, batch_size=60, epochs=3, learning_rate=0.01, test=True)
    table = helpers.results_table([scored])
    assert table.rows[0]["test acc"] == scored.test_accuracy and "test acc" in str(table)


def _with_history(run, values):
    return dataclasses.replace(run, history=dict(run.history, val_loss=list(values)))


def test_jitter_is_the_distance_from_the_trend_once_settled(small_blobs):
    run = helpers.train(small_blobs, batch_size=10, epochs=4, learning_rate=0.01)
    # A smooth fall, however steep at first, is (almost) no noise; its old measure,
    # the mean change per epoch, was 0.04 here.
    smooth = 0.45 + 1.95 * np.exp(-np.arange(50) / 4)
    assert _with_history(run, smooth).jitter() < 1e-3
    # A zigzag around a flat trend: every point 0.1 off it.
    assert _with_history(run, [0.5, 0.7] * 25).jitter() == pytest.approx(0.1, abs=0.02)
    # Only the second half counts: noise in the first half only is settled noise no more.
    early = np.concatenate([[0.5, 0.7] * 12 + [0.6], np.full(25, 0.6)])
    assert _with_history(run, early).jitter() < 0.02
    # A wider window smooths away more: a slow wave is trend to a short window, noise to a long one.
    wave = 0.6 + 0.1 * np.sin(np.arange(50) / 2)
    assert _with_history(run, wave).jitter(window=5) < _with_history(run, wave).jitter(window=15)
    assert _with_history(run, [0.7, 0.3]).jitter() == 0.0
    with pytest.raises(KeyError, match="key must be one of"):
        run.jitter("val_acc")
