"""helpers.tables and TrainResult.jitter."""

import numpy as np
import pytest

import helpers


def test_table_rows_carry_the_run_figures(small_blobs):
    runs = [helpers.train(small_blobs, batch_size=b, epochs=3, learning_rate=0.01) for b in (1, 60)]
    table = helpers.results_table(runs, labels=["SGD", "batch GD"])
    assert [r["updates / epoch"] for r in table.rows] == [60, 1]
    assert [r["updates"] for r in table.rows] == [180, 3]
    assert table.rows[0]["test acc"] == runs[0].final("val_accuracy")
    text = str(table)
    assert text.splitlines()[0].startswith("run") and "batch GD" in text
    assert "<table>" in table._repr_html_()


def test_jitter_is_mean_absolute_epoch_change(small_blobs):
    run = helpers.train(small_blobs, batch_size=10, epochs=4, learning_rate=0.01)
    expected = np.mean(np.abs(np.diff(run.history["val_loss"])))
    assert run.jitter() == pytest.approx(expected)
    with pytest.raises(KeyError, match="key must be one of"):
        run.jitter("val_acc")
