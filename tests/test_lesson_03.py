"""Claims of notebooks/03_mini_batch_gradient_descent.ipynb."""

import ast
import json
from functools import cache

import keras
import numpy as np
import pytest

import helpers
from lessons import NOTEBOOKS, SEEDS, data_a, finals, notebook_function, notebook_functions

NOTEBOOK = "03_mini_batch_gradient_descent"


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


def test_the_two_overlapping_clouds_hold_537_training_points():
    x, _ = _two_clouds()
    assert len(x) == 537


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

def _notebook_constant(name):
    """The literal a code cell of the notebook assigns to ``name`` (tested with the notebook's own grid)."""
    cells = json.loads((NOTEBOOKS / f"{NOTEBOOK}.ipynb").read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.parse("".join(cell["source"])).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
                return ast.literal_eval(node.value)
    raise LookupError(f"no code cell of {NOTEBOOK}.ipynb assigns {name}")


@cache
def _search():
    """Section 3's search: batch sizes 1, 32 and 800 over the notebook's grids, five seeds, 100 epochs."""
    return helpers.sweep(data_a(), batch_sizes=[1, 32, 800], learning_rates=_notebook_constant("rates"),
                         seeds=list(SEEDS), epochs=100, cache_dir=None, progress=False)


@cache
def _own():
    return _search().own_rates()


def _fixed(b):
    return _search().select(batch_size=b, learning_rate=0.01)


def _tuned(b):
    return _search().select(batch_size=b, learning_rate=_own()[b].rate)


@cache
def _chosen(b):
    """The chosen settings, trained with helpers.train and scored on the test split once."""
    return [helpers.train(data_a(), batch_size=b, epochs=100, learning_rate=_own()[b].rate, seed=s, test=True)
            for s in SEEDS]


def _mean(runs, key="val_accuracy"):
    return np.mean(finals(runs, key))


def _jitter(runs):
    return np.mean([r.jitter() for r in runs])


def test_every_search_is_bracketed_and_the_own_rate_grows_with_the_batch_bands_apart():
    own = _own()
    assert all(own[b].bracketed for b in (1, 32, 800)), own
    # "The own rate grows with the batch size, and the bands do not overlap"
    assert own[1].rate < own[32].rate < own[800].rate
    assert max(own[1].band) < min(own[32].band) and max(own[32].band) < min(own[800].band)
    # "A band is one seed standard deviation wide: widest for the noisy batch size 1, one rate for the full batch"
    width = {b: max(own[b].band) / min(own[b].band) for b in (1, 32, 800)}
    assert width[1] > width[32] > width[800] == 1 and own[800].band == [own[800].rate]
    assert own[1].spread > 3 * own[800].spread
    # "From batch 1 to 32 the own rate grows 100 times, from 32 to 800 ten times"
    assert own[32].rate / own[1].rate == pytest.approx(100) and own[800].rate / own[32].rate == pytest.approx(10)
    # "At 1.0 a full-batch seed diverges; its last loss, averaged in here, sends the line off the top" (ylim 0.75)
    assert sum(r.diverged for r in _search().select(batch_size=800, learning_rate=1.0)) == 1
    mean, sizes, lrs = _search().grid("val_loss")
    assert mean[sizes.index(800)][lrs.index(1.0)] > 0.75
    # 0.01 is in the batch of 32's band, outside the others' (the source's rate suits the batch of 32)
    assert 0.01 in own[32].band and 0.01 not in own[1].band + own[800].band


def test_the_sweep_rounds_differently_which_batch_1_amplifies_at_0_01_not_at_its_own_rate():
    # "Batch size 1's numbers at 0.01 differ from lesson 01's": the same seeds with helpers.train
    from lessons import run_a

    at_001 = [run_a(1, seed=s) for s in SEEDS]
    apart = np.abs(np.subtract(finals(_fixed(1), "val_loss"), finals(at_001, "val_loss")))
    assert np.sum(apart > 0.01) >= 3, apart                      # most seeds end elsewhere
    at_own = [run_a(1, seed=s, learning_rate=_own()[1].rate) for s in SEEDS]
    np.testing.assert_allclose(finals(_tuned(1), "val_loss"), finals(at_own, "val_loss"), atol=0.005)


def test_at_the_sources_rate_the_sources_ranking():
    acc = {b: _mean(_fixed(b)) for b in (1, 32, 800)}
    jitter = {b: _jitter(_fixed(b)) for b in (1, 32, 800)}
    assert acc[32] > acc[800] + 0.02 and acc[800] > acc[1]   # "32 ends best, the full batch behind"
    assert acc[1] < acc[800] - 0.15                           # "batch size 1 far behind"
    assert jitter[1] > 5 * max(jitter[32], jitter[800])       # "and by far the noisiest"


def test_each_at_its_own_rate_the_three_end_alike_batch_1_as_calm_as_32():
    acc = [_mean(_tuned(b)) for b in (1, 32, 800)]
    loss = [_mean(_tuned(b), "val_loss") for b in (1, 32, 800)]
    jitter = {b: _jitter(_tuned(b)) for b in (1, 32, 800)}
    assert np.ptp(acc) <= 0.015 and np.ptp(loss) < 0.01
    assert np.ptp(loss) < max(_own()[b].spread for b in (1, 32, 800))   # within the seed spread
    assert 0.5 * jitter[32] < jitter[1] < 1.5 * jitter[32]             # "about as calm as the batch of 32's"
    assert jitter[800] < 0.25 * min(jitter[1], jitter[32])            # the full batch's is the smoothest


def test_the_chosen_settings_score_alike_on_the_test_split():
    acc = [np.mean([r.test_accuracy for r in _chosen(b)]) for b in (1, 32, 800)]
    loss = [np.mean([r.test_loss for r in _chosen(b)]) for b in (1, 32, 800)]
    assert np.ptp(acc) <= 0.02 and np.ptp(loss) <= 0.02


# --- 4. three clocks -------------------------------------------------------------

TARGET = 0.45


def test_the_race_per_epoch_32_first_per_update_the_large_batch_far_ahead():
    assert _notebook_constant("TARGET") == TARGET
    epochs = {b: [helpers.steps_to_target(r, TARGET, x="epoch") for r in _chosen(b)] for b in (1, 32, 800)}
    updates = {b: [helpers.steps_to_target(r, TARGET) for r in _chosen(b)] for b in (1, 32, 800)}
    # "the batch of 32 reaches the dotted line first, after about 10 epochs; 1 and the full batch need 20 to 30"
    assert max(epochs[32]) <= 12 and max(epochs[32]) < min(epochs[1] + epochs[800])
    assert all(17 <= np.median(epochs[b]) <= 33 for b in (1, 800)), epochs
    # "a few dozen for the full batch, a couple of hundred for the batch of 32, over ten thousand for 1"
    assert all(20 <= u <= 60 for u in updates[800]), updates
    assert all(150 <= u <= 350 for u in updates[32]), updates
    assert min(updates[1]) > 10_000


def test_the_step_costs_are_timed_over_64_updates_or_more():
    import inspect

    # "timed over 64 updates or more, so the per-epoch cost is spread thin"
    assert inspect.signature(helpers.measure_step_costs).parameters["min_updates"].default == 64


# --- 5. extra: the classes ------------------------------------------------------------

def test_share_of_batches_with_every_class():
    share = notebook_function(NOTEBOOK, "share_of_batches_with_every_class")
    rng = np.random.default_rng(0)  # one generator through the loop, as in the notebook
    shares = {b: share(data_a().y_train, b, 3, rng) for b in (1, 2, 4, 8, 16, 32)}
    # "batches of 16 or more always see every class, batches of 4 less than half the time"
    assert shares[4] < 0.5 and shares[16] == shares[32] == 1.0
    # Exercise 3: "about two thirds of the batches of 32 contain all ten digits, and all of 64"
    digits = helpers.load_digits()
    rng = np.random.default_rng(0)
    digit_shares = {b: share(digits.y_train, b, digits.n_classes, rng) for b in (32, 64)}
    assert 0.55 < digit_shares[32] < 0.8 and digit_shares[64] == 1.0


def test_exercise_1_batch_8_and_128_end_near_32_above_the_full_batch_at_0_01():
    more = helpers.sweep(data_a(), batch_sizes=[8, 128], learning_rates=[0.01], seeds=list(SEEDS), epochs=100,
                         cache_dir=None, progress=False)
    acc = {b: _mean(more.select(batch_size=b)) for b in (8, 128)}
    acc |= {b: _mean(_fixed(b)) for b in (1, 32, 800)}
    assert abs(acc[8] - acc[32]) <= 0.015 and abs(acc[128] - acc[32]) <= 0.015   # "within about 0.01"
    assert min(acc[8], acc[128]) > acc[800] + 0.02 > acc[1]                     # "well above"


def test_updates_per_epoch_helper():
    assert helpers.updates_per_epoch(500, 32) == 16 and helpers.updates_per_epoch(800, 800) == 1
