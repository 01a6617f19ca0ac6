"""helpers.practice: the memory of a training step (exact allocator counts) and ghost batch normalisation."""

import subprocess
import sys

import numpy as np
import pytest

import helpers
from helpers import practice
from helpers._backend import keras


@pytest.fixture(scope="module")
def layers():
    return keras().layers


def _ghost(virtual, **kwargs):
    return practice.GhostBatchNormalization(virtual, **kwargs)


def test_ghost_batch_norm_is_batch_norm_on_each_ghost_batch(layers):
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(20, 5)).astype("float32")
    ghost = _ghost(8, momentum=0.5)
    y = np.asarray(ghost(x, training=True))
    means, variances = [], []
    for rows in (slice(0, 8), slice(8, 16), slice(16, 20)):   # the last ghost batch is the rest, 4 rows
        part = x[rows]
        expected = np.asarray(layers.BatchNormalization(momentum=0.5)(part, training=True))
        assert np.allclose(y[rows], expected, atol=1e-5)
        means.append(part.mean(axis=0) * len(part))
        variances.append(part.var(axis=0) * len(part))
    # moving statistics follow the ghost batches' statistics (weighted by their rows)
    assert np.allclose(ghost.moving_mean, 0.5 * sum(means) / 20, atol=1e-5)
    assert np.allclose(ghost.moving_variance, 0.5 + 0.5 * sum(variances) / 20, atol=1e-5)


def test_ghost_batch_norm_of_one_ghost_and_at_inference_is_batch_norm(layers):
    x = np.random.default_rng(1).normal(size=(16, 3)).astype("float32")
    ghost, bn = _ghost(16), layers.BatchNormalization()
    assert np.allclose(ghost(x, training=True), bn(x, training=True), atol=1e-6)
    assert np.allclose(ghost.moving_mean, bn.moving_mean) and np.allclose(ghost.moving_variance, bn.moving_variance)
    assert np.allclose(ghost(x, training=False), bn(x, training=False), atol=1e-6)


def test_ghost_batch_norm_trains_with_helpers_train():
    data = helpers.load_digits()
    k = keras()
    model = k.Sequential([k.Input((data.n_features,)), k.layers.Dense(16), _ghost(8), k.layers.Activation("relu"),
                          k.layers.Dense(data.n_classes, activation="softmax")])
    run = helpers.train(data, batch_size=64, epochs=3, learning_rate=0.05, model=model)
    assert run.final("val_accuracy") > 0.5
    config = model.layers[1].get_config()
    assert config["virtual_batch_size"] == 8


@pytest.mark.parametrize("bad, error, match", [
    (1, ValueError, r"virtual_batch_size must be an int in \[2, inf\], got 1"),
    (8.0, TypeError, "virtual_batch_size must be an int")])
def test_ghost_batch_norm_refuses_a_bad_size(bad, error, match):
    with pytest.raises(error, match=match):
        _ghost(bad)


def test_ghost_batch_norm_takes_rows_of_features_only():
    with pytest.raises(ValueError, match=r"2-D inputs.*\(4, 3, 2\)"):
        _ghost(2)(np.zeros((4, 3, 2), "float32"))


def _child(bfc, body):
    """stdout of a fresh Python that starts TensorFlow with (or without) the BFC allocator, then runs body."""
    start = ("import os; os.environ['TF_CPU_ALLOCATOR_USE_BFC'] = 'true'\n" if bfc
             else "import os; os.environ.pop('TF_CPU_ALLOCATOR_USE_BFC', None)\n")
    code = start + "import helpers, json\nfrom helpers.practice import step_memory\n" + body
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300).stdout


def test_step_memory_needs_the_allocator_statistics():
    # A process that started TensorFlow without the BFC allocator gets a clear error.
    out = _child(False, "try:\n    step_memory(helpers.build_mlp(), helpers.load_blobs(), [8])\n"
                        "except RuntimeError as e:\n    print('ERROR', e)\n")
    assert "ERROR TensorFlow keeps no memory statistics" in out and "TF_CPU_ALLOCATOR_USE_BFC" in out


def test_step_memory_grows_in_proportion_to_the_batch():
    out = _child(True, "m = step_memory(helpers.build_mlp(), helpers.load_blobs(), [4096, 1024, 16384])\n"
                       "print(json.dumps([m.batch_sizes.tolist(), m.megabytes.tolist(), m.kept_megabytes, "
                       "m.parameters]))\n")
    sizes, megabytes, kept, parameters = __import__("json").loads(out.strip().splitlines()[-1])
    assert sizes == [1024, 4096, 16384] and parameters == 195
    per_example = np.diff(megabytes) / np.diff(sizes) * 2**20          # bytes per extra example
    # 32 hidden + 3 output activations, their gradients, the inputs: a few hundred bytes
    assert np.all((100 < per_example) & (per_example < 1000)), per_example
    assert 0 < kept < 1


def test_step_memory_refuses_bad_input():
    with pytest.raises(TypeError, match="model must be a keras.Model, got str"):
        practice.step_memory("mlp", helpers.load_blobs(), [8])
    with pytest.raises(ValueError, match=r"batch_sizes must be an int in \[1, 4194304\], got 0"):
        practice.step_memory(helpers.build_mlp(), helpers.load_blobs(), [0])
