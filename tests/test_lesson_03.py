"""Claims of notebooks/03_mini_batch_gradient_descent.ipynb."""

import keras
import numpy as np
import pytest

import helpers
from lessons import (SEEDS, data_a, finals, notebook_function, notebook_functions, run_a, run_b, search_a,
                     tuned_lr)

NOTEBOOK = "03_mini_batch_gradient_descent"
# The blog post's reported figures (one run each, on an unknown draw): batch size -> (train acc, test acc).
SOURCE = {1: (0.87, 0.85), 800: (0.93, 0.94), 32: (0.96, 0.94)}
DRAWS = range(5)


# --- 1. the loop, written out ------------------------------------------------------

def _two_clouds():
    data = data_a()
    pair = np.isin(data.y_train, [1, 2])
    x = data.x_train[pair].astype(float)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x, (data.y_train[pair] == 2).astype(float)


@pytest.fixture(scope="module")
def loop():
    x, y = _two_clouds()
    return notebook_functions(NOTEBOOK, "predict", "gradient", "loss", "sgd", x=x, y=y)


@pytest.mark.parametrize("batch_size", [1, 32, 537])
def test_the_numpy_loop_makes_the_steps_of_keras_sgd(loop, batch_size):
    x, y = loop["x"], loop["y"]
    start, rate, epochs, seed = np.array([2.0, 2.5]), 0.5, 2, 3
    path = loop["sgd"](start, x, y, batch_size=batch_size, learning_rate=rate, epochs=epochs, seed=seed)
    assert len(path) == 1 + epochs * helpers.updates_per_epoch(len(x), batch_size)

    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid", use_bias=False)])
    model.layers[0].kernel.assign(start[:, None])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=rate, momentum=0.0), loss="binary_crossentropy")
    rng = np.random.default_rng(seed)                        # the loop's shuffles, fed to Keras in order
    for _ in range(epochs):
        order = rng.permutation(len(x))
        model.fit(x[order], y[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.layers[0].kernel.numpy()[:, 0], path[-1], rtol=1e-4, atol=1e-5)


# --- 2. paths ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def paths(loop):
    x, y, sgd = loop["x"], loop["y"], loop["sgd"]
    start = np.array([2.0, 2.5])
    runs = [(1, 1.0, 1), (32, 1.0, 12), (len(x), 1.0, 200), (1, 1.0 / 32, 12)]
    lowest = sgd(start, x, y, batch_size=len(x), learning_rate=1.0, epochs=2000)[-1]
    return [sgd(start, x, y, batch_size=b, learning_rate=lr, epochs=e) for b, lr, e in runs], lowest


def test_paths_full_batch_straight_mini_batch_close_batch_1_wanders_unless_its_steps_are_short(loop, paths):
    (one, mini, full, short), lowest = paths
    distance = {name: np.linalg.norm(p - lowest, axis=1) for name, p in
                (("one", one), ("mini", mini), ("full", full), ("short", short))}
    # "the full batch walks straight down the slope": its loss falls at every step
    assert np.all(np.diff(loop["loss"](full)) < 0)
    # "the batch of 32 follows nearly the same path with a little wobble"
    gaps = np.min(np.linalg.norm(mini[:, None] - full[None], axis=-1), axis=1)
    assert gaps.max() < 0.3
    # "batch size 1 ... reaches the valley just as fast": within 1 of the lowest point in as few updates
    reach = {name: int(np.argmax(d < 1.0)) for name, d in distance.items()}
    assert reach["one"] <= reach["full"]
    # "but cannot stay there ... wanders in a wide cloud around the lowest point"
    assert distance["one"][len(one) // 2:].mean() > 5 * distance["mini"][-1]
    # "with a 32 times smaller learning rate ... as calm as the batch of 32, ending as close"
    assert distance["short"][-1] < 1.5 * distance["mini"][-1]
    assert distance["short"][-537:].mean() < 2 * distance["mini"][-17:].mean()


def test_exercise_2_more_epochs_at_long_steps_keep_batch_1_in_its_cloud(loop, paths):
    _, lowest = paths
    x, y = loop["x"], loop["y"]
    longer = loop["sgd"](np.array([2.0, 2.5]), x, y, batch_size=1, learning_rate=1.0, epochs=10)
    distance = np.linalg.norm(longer - lowest, axis=1)
    n = len(x)
    first, last = distance[n // 2:n].mean(), distance[-n:].mean()
    assert 0.5 < last / first < 2


# --- 3. each batch size at its own learning rate ---------------------------------------

def _mean(runs, key="val_accuracy"):
    return np.mean(finals(runs, key))


def _fixed(b):
    return [run_a(1, seed=s) for s in SEEDS] if b == 1 else search_a(b).select(learning_rate=0.01)


def _tuned(b):
    return search_a(b).select(learning_rate=tuned_lr(b))


def test_the_best_learning_rate_grows_about_30_times_per_30_times_the_batch():
    assert tuned_lr(32) == 3e-3
    assert 20 < tuned_lr(32) / tuned_lr(1) < 50 and 20 < tuned_lr(800) / tuned_lr(32) < 50


def test_at_the_sources_rate_the_sources_ranking():
    acc = {b: _mean(_fixed(b)) for b in (1, 32, 800)}
    jitter = {b: np.mean([r.jitter() for r in _fixed(b)]) for b in (1, 32, 800)}
    assert acc[32] > acc[800] > acc[1]
    assert acc[32] - acc[800] < 0.03                       # "the full batch a little behind"
    assert acc[1] < acc[800] - 0.2                         # "batch size 1 far behind"
    assert jitter[1] > 3 * max(jitter[32], jitter[800])    # "and noisiest"


def test_each_at_its_own_rate_the_three_end_alike():
    acc = [_mean(_tuned(b)) for b in (1, 32, 800)]
    loss = [_mean(_tuned(b), "val_loss") for b in (1, 32, 800)]
    jitter = [np.mean([r.jitter() for r in _tuned(b)]) for b in (1, 32, 800)]
    assert np.ptp(acc) <= 0.015 and np.ptp(loss) < 0.005
    assert jitter[0] < 1.5 * max(jitter[1:])               # "about as calm as the others'"


# --- 4. three clocks -------------------------------------------------------------

def test_the_race_per_epoch_alike_per_update_the_large_batch_far_ahead():
    race = {b: run_a(b, learning_rate=tuned_lr(b)) for b in (1, 32, 800)}
    epochs = {b: helpers.steps_to_target(r, 0.40, x="epoch") for b, r in race.items()}
    updates = {b: helpers.steps_to_target(r, 0.40) for b, r in race.items()}
    assert all(20 <= e <= 40 for e in epochs.values())                  # "after about 30 epochs"
    assert updates[800] < 100                                           # "a few dozen"
    assert 200 <= updates[32] < 2000                                    # "several hundred"
    assert updates[1] > 20_000                                          # "over twenty thousand"


# --- 5-7. extras -------------------------------------------------------------------

def test_share_of_batches_with_every_class():
    share = notebook_function(NOTEBOOK, "share_of_batches_with_every_class")
    rng = np.random.default_rng(0)  # one generator through the loop, as in the notebook
    shares = {b: share(data_a().y_train, b, 3, rng) for b in (1, 2, 4, 8, 16, 32)}
    assert shares[4] < 0.5 and shares[32] > 0.95
    # Exercise 3: "about two thirds of the batches of 32 contain all ten digits, and all of 64"
    digits = helpers.load_digits()
    rng = np.random.default_rng(0)
    digit_shares = {b: share(digits.y_train, b, digits.n_classes, rng) for b in (32, 64)}
    assert 0.55 < digit_shares[32] < 0.8 and digit_shares[64] == 1.0


def test_every_accuracy_is_below_the_sources_batch_1_by_far_the_most():
    gaps = {b: (SOURCE[b][0] - run_a(b).final("accuracy"), SOURCE[b][1] - run_a(b).final("val_accuracy"))
            for b in SOURCE}
    assert min(min(g) for g in gaps.values()) > 0.05
    train_gap, test_gap = gaps.pop(1)
    assert train_gap > 1.5 * max(g[0] for g in gaps.values())
    assert test_gap > 2 * max(g[1] for g in gaps.values())


def _draw_test_accuracy(batch_size):
    return np.array([run_a(batch_size, random_state=r).final("val_accuracy") for r in DRAWS])


def test_the_data_draw_moves_the_result_more_than_batch_size_or_seed():
    nearest_mean_accuracy = notebook_function(NOTEBOOK, "nearest_mean_accuracy")
    yardstick = np.array([nearest_mean_accuracy(data_a(r)) for r in DRAWS])
    full, mini = (_draw_test_accuracy(b) for b in (800, 32))
    # "on every draw the batch of 32 ends within a few hundredths of the yardstick"
    assert np.all(np.abs(mini - yardstick) < 0.05)
    # "moves by more than 0.2: far more than the batch size (32 against 800) or the seed moved it"
    span = np.ptp(mini)
    assert span > 0.2
    assert span > 3 * np.max(np.abs(mini - full))
    assert span > 3 * np.ptp(finals(_fixed(32)))
    # "on our draw even the yardstick stays well below the source's 0.94"
    assert yardstick[2] < SOURCE[32][1] - 0.05
    # "random_state 3 gives test accuracies close to the source's"
    assert abs(mini[3] - SOURCE[32][1]) < 0.03 and abs(full[3] - SOURCE[800][1]) < 0.03


def test_tutorials_three_of_four_runs_above_0_8_and_its_fix_was_the_learning_rate():
    good = [run_b(500, 0.01), run_b(1, 0.001), run_b(32, 0.01)]
    assert min(finals(good)) > 0.8
    assert run_b(1, 0.01).final("val_accuracy") < 0.7


def test_exercise_1_batch_8_and_128_end_near_32_above_the_full_batch_at_0_01():
    acc = {b: run_a(b).final("val_accuracy") for b in (8, 32, 128, 800)}
    assert abs(acc[8] - acc[32]) <= 0.015 and abs(acc[128] - acc[32]) <= 0.015
    assert min(acc[8], acc[128]) > acc[800]


def test_updates_per_epoch_helper():
    assert helpers.updates_per_epoch(500, 32) == 16 and helpers.updates_per_epoch(800, 800) == 1
