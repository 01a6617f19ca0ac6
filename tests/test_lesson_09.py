"""Claims of notebooks/09_batch_size_in_practice.ipynb, on the same experiments run afresh.

The notebook's own functions (fit_sgd, build_net, train_net, range_test, smooth,
suggest) are read from its code cells and run here, with more seeds where a claim
must hold beyond one trajectory. The memory of a step is measured in a child
process: TensorFlow counts its CPU memory only when started with
TF_CPU_ALLOCATOR_USE_BFC=true, and this test process started it without.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import helpers
import lessons
from helpers._backend import keras
from helpers.practice import GhostBatchNormalization

NOTEBOOK = "09_batch_size_in_practice"
SEEDS = [0, 1, 2]
BATCHES = [2, 8, 32, 128, 512]


@pytest.fixture(scope="module")
def blobs():
    return lessons.data_a()


@pytest.fixture(scope="module")
def digits():
    return helpers.load_digits()


# 1. Memory

MEMORY = """
import os, json
os.environ["TF_CPU_ALLOCATOR_USE_BFC"] = "true"
import helpers, keras
from helpers.practice import step_memory
blobs = helpers.load_blobs(n_samples=1000, train_size=800, cluster_std=2.0, random_state=2)
digits = helpers.load_digits()
def wide():
    return keras.Sequential([keras.Input((digits.n_features,)),
                             *[keras.layers.Dense(512, activation="relu") for _ in range(3)],
                             keras.layers.Dense(digits.n_classes, activation="softmax")])
out = {}
for name, m in {"course": step_memory(helpers.build_mlp(), blobs, [256, 1024, 4096, 16384]),
                "wide": step_memory(wide(), digits, [256, 1024, 2048, 4096])}.items():
    out[name] = dict(megabytes=m.megabytes.tolist(), fit=m.fit(), kept=m.kept_megabytes, parameters=m.parameters,
                     largest=m.largest_batch(1024))
big = step_memory(wide(), digits, [8192])
out["wide 8192"] = big.megabytes[0]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def memory():
    done = subprocess.run([sys.executable, "-c", MEMORY], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_step_memory_grows_in_proportion_to_the_batch(memory):
    # "Both lines rise in proportion to the batch: four times the batch, four times the memory."
    for name, sizes in (("course", [256, 1024, 4096, 16384]), ("wide", [256, 1024, 2048, 4096])):
        mb = np.asarray(memory[name]["megabytes"])
        ratios = (mb[1:] / mb[:-1]) / (np.asarray(sizes[1:]) / np.asarray(sizes[:-1]))
        assert np.all((0.6 < ratios[1:]) & (ratios[1:] < 1.4)), (name, mb)     # past the smallest batch


def test_the_wide_mlp_needs_tens_of_times_more_per_example(memory):
    course, wide = memory["course"]["fit"][1], memory["wide"]["fit"][1]
    assert 1 < memory["wide"]["fit"][0] < 10                             # "a fixed part of a few MB"
    print(memory)
    assert 0.15 < course < 0.6, course                                       # KB per example
    assert 4 < wide < 20, wide
    assert 15 < wide / course < 80
    assert memory["course"]["parameters"] == 195 and memory["wide"]["parameters"] > 500_000
    assert memory["course"]["largest"] > 10 * memory["wide"]["largest"] > 0


def test_exercise_1_the_line_predicts_batch_8192(memory):
    fixed, per_example = memory["wide"]["fit"]
    predicted = fixed + per_example * 8192 / 1024
    # "the line and the measurement agree to within a factor of two": the peak at batch 8192 jumps in
    # steps of one 16 MB activation buffer (8192 x 512 float32); 12 quiet runs gave 0.92-1.23 and a
    # CI run on a busy machine 1.65 (115 MB measured, 70 predicted).
    assert 0.5 < memory["wide 8192"] / predicted < 2, (memory["wide 8192"], predicted)


# 2. Gradient accumulation

def _fit_sgd(seed):
    """The notebook's fit_sgd, its model drawn from ``seed``."""
    class Helpers:
        @staticmethod
        def build_mlp(seed=0, **kwargs):
            return helpers.build_mlp(seed=seed_, **kwargs)
    seed_ = seed
    blobs = lessons.data_a()
    namespace = lessons.notebook_functions(NOTEBOOK, "fit_sgd", "largest_difference", helpers=Helpers,
                                           keras=keras(), blobs=blobs, time=__import__("time"))
    return namespace["fit_sgd"], namespace["largest_difference"]


@pytest.mark.parametrize("seed", SEEDS)
def test_accumulating_four_batches_of_8_is_one_batch_of_32(seed):
    fit_sgd, largest_difference = _fit_sgd(seed)
    big, _ = fit_sgd(32)
    accumulated, _ = fit_sgd(8, accumulate=4)
    small, _ = fit_sgd(8)
    assert largest_difference(accumulated, big) < 1e-5                 # float rounding
    assert largest_difference(small, big) > 0.1                         # "somewhere else entirely"
    assert int(accumulated.optimizer.iterations) == int(big.optimizer.iterations) == 125
    assert int(small.optimizer.iterations) == 500


# 3. Batch normalisation

@pytest.fixture(scope="module")
def notebook_nets(digits):
    k = keras()
    namespace = lessons.notebook_functions(NOTEBOOK, "build_net", "train_net", helpers=helpers, keras=k,
                                           digits=digits, GhostBatchNormalization=GhostBatchNormalization)
    namespace["nets"] = {norm: namespace["build_net"](norm, 0) for norm in (None, "batch norm", "ghost batch norm")}
    return namespace


def test_batch_statistics_are_noisy_at_small_batches(notebook_nets, digits):
    units = digits.x_train @ notebook_nets["build_net"]("batch norm", 0).layers[0].get_weights()[0]
    rng = np.random.default_rng(0)
    errors, ones = {}, {}
    for b in BATCHES:
        batches = [units[rng.choice(len(units), b, replace=False)] for _ in range(200)]
        errors[b] = np.mean([np.abs(x.mean(axis=0) - units.mean(axis=0)) / units.std(axis=0) for x in batches])
        normalised = np.concatenate([(x - x.mean(axis=0)) / x.std(axis=0) for x in batches])
        ones[b] = np.mean(np.isclose(np.abs(normalised), 1, atol=1e-3))
    assert ones[2] > 0.999 and ones[8] < 0.05                            # printed as 100 %: float rounding
    values = [errors[b] for b in BATCHES]
    assert values == sorted(values, reverse=True)
    assert 3 < errors[2] / errors[32] < 5                                # about sqrt(16) = 4


@pytest.fixture(scope="module")
def bn_runs(notebook_nets):
    train_net = notebook_nets["train_net"]
    runs = {(norm, b): [train_net(norm, b, seed) for seed in SEEDS]
            for norm in (None, "batch norm") for b in BATCHES}
    for b in (128, 512):
        runs["ghost batch norm", b] = [train_net("ghost batch norm", b, seed) for seed in SEEDS]
    for (norm, b), rs in runs.items():   # shown with pytest -rA: the numbers behind the prose
        print(f"{norm} {b}: val {np.round(_finals(rs), 3)} train {np.round(_finals(rs, 'accuracy'), 3)}")
    return runs


def _finals(runs, key="val_accuracy"):
    return np.array([r.final(key) for r in runs])


def test_batch_norm_breaks_at_batch_2(bn_runs):
    bn, plain = _finals(bn_runs["batch norm", 2]), _finals(bn_runs[None, 2])
    assert bn.max() < plain.min() - 0.15                                 # "far below", every seed
    train_2 = _finals(bn_runs["batch norm", 2], "accuracy")
    train_32 = _finals(bn_runs["batch norm", 32], "accuracy")
    assert train_2.max() < 0.6 and train_32.min() > 0.95                 # "far below ... at larger batches"


def test_from_batch_8_the_two_nets_are_close_until_512(bn_runs):
    for b in (8, 32, 128):                                               # "within a few points of each other"
        assert abs(_finals(bn_runs["batch norm", b]).mean() - _finals(bn_runs[None, b]).mean()) < 0.04, b
    # "At batch 512 both fall behind in 10 epochs, the net without normalisation more."
    for norm in (None, "batch norm"):
        assert _finals(bn_runs[norm, 512]).mean() < _finals(bn_runs[norm, 32]).mean() - 0.02, norm
    assert _finals(bn_runs[None, 512]).mean() < _finals(bn_runs["batch norm", 512]).mean() - 0.015


def test_ghost_batches_change_nothing_measurable_here(bn_runs):
    for b in (128, 512):                                                 # "within a point of each other"
        assert abs(_finals(bn_runs["ghost batch norm", b]).mean() - _finals(bn_runs["batch norm", b]).mean()) < 0.01
    # "its training accuracy is lower too": under-training, not a generalisation gap
    assert _finals(bn_runs["batch norm", 512], "accuracy").mean() \
        < _finals(bn_runs["batch norm", 32], "accuracy").mean() - 0.01


def test_exercise_2_ghost_batches_of_2_bring_back_batch_2s_problem(notebook_nets, digits, bn_runs):
    k = keras()
    namespace = lessons.notebook_functions(NOTEBOOK, "build_ghost_net", keras=k, digits=digits,
                                           GhostBatchNormalization=GhostBatchNormalization)
    net = namespace["build_ghost_net"](0)
    runs = []
    for seed in SEEDS:
        net.set_weights(namespace["build_ghost_net"](seed).get_weights())
        runs.append(helpers.train(digits, batch_size=512, epochs=10, learning_rate=0.03 * np.sqrt(512 / 32),
                                  model=net, seed=seed))
    ghost_2 = _finals(runs)
    print("ghost 2 at 512:", ghost_2)
    assert ghost_2.max() < _finals(bn_runs["batch norm", 512]).min() - 0.05     # "far below ..., every seed"
    assert ghost_2.mean() > _finals(bn_runs["batch norm", 2]).mean() + 0.03     # "and above batch norm at batch 2"


# 4. The range test

@pytest.fixture(scope="module")
def range_functions():
    return lessons.notebook_functions(NOTEBOOK, "range_test", "smooth", "suggest", helpers=helpers, keras=keras())


@pytest.fixture(scope="module")
def grid(blobs):
    result = helpers.sweep(blobs, batch_sizes=[128], learning_rates=[0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
                           seeds=[0, 1, 2, 3, 4], epochs=100, cache_dir=None, progress=False)
    return result.own_rates()[128]


def test_the_grid_is_bracketed(grid):
    assert grid.bracketed


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_range_test_lands_near_the_grids_rate(range_functions, grid, blobs, seed):
    suggested = range_functions["suggest"](*range_functions["range_test"](blobs, 128, seed=seed))
    print(f"seed {seed}: suggested {suggested:.4g}; grid {grid}")
    assert grid.rate / 3 < suggested < grid.rate * 4, (suggested, grid)
    assert min(grid.band) / 2 < suggested < max(grid.band) * 2, (suggested, grid.band)
    assert suggested >= grid.rate                                        # "none below it" (it leans high)


def test_exercise_3_the_range_test_cannot_separate_32_from_128(range_functions, blobs):
    suggest, range_test = range_functions["suggest"], range_functions["range_test"]
    at = {b: [suggest(*range_test(blobs, b, seed=seed)) for seed in SEEDS] for b in (32, 128)}
    print(at)
    for b, values in at.items():
        assert max(values) / min(values) > 1.3, (b, values)              # moves from seed to seed
    assert max(at[32]) >= min(at[128]) and max(at[128]) >= min(at[32])  # the ranges overlap
