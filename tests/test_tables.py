"""TrainResult.jitter."""

import dataclasses

import numpy as np
import pytest

import helpers


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
