"""Claims of notebooks/08_gradient_noise_and_critical_batch_size.ipynb, on the same experiments run afresh.

Every experiment is the notebook's call with the same data, model and seeds
(without the notebook's run cache, so it really trains).
"""

import math

import numpy as np
import pytest

import helpers
import lessons

SEEDS = [0, 1, 2]
TARGET = 0.42
RACE = [4, 8, 16, 32, 64, 128, 256, 800]
PATH_EPOCHS = (5, 10, 15, 20, 30, 40, 60, 80)
sweep = dict(cache_dir=None, progress=False)


@pytest.fixture(scope="module")
def data():
    return lessons.data_a()


# 1-3. The gradient itself

@pytest.fixture(scope="module")
def gradient_model(data):
    return helpers.train(data, batch_size=32, epochs=5, learning_rate=0.01, seed=0).model


@pytest.fixture(scope="module")
def grads(data, gradient_model):
    return helpers.per_example_gradients(gradient_model, data.x_train, data.y_train)


@pytest.fixture(scope="module")
def error(data, grads):
    batches = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, data.n_train]
    return helpers.minibatch_gradient_error(grads, batches, draws=400, seed=0)


def test_batch_gradient_is_the_mean_of_its_rows(data, gradient_model, grads):
    batch = helpers.batch_gradient(gradient_model, data.x_train[:32], data.y_train[:32])
    assert np.abs(batch - grads[:32].mean(axis=0)).max() < 1e-6


def test_measured_error_sits_on_the_prediction(error):
    # Each measurement is a mean over 400 random batches, so it scatters
    # around the prediction by its standard error (estimated from the same
    # draws: 2-4 % here). Per-example gradients are heavy-tailed, which makes
    # that estimate itself uncertain, hence 4 standard errors, not 2.
    inside = error.batch_sizes < error.batch_sizes.max()
    deviation = np.abs(error.measured - error.expected)[inside]
    assert np.all(deviation < 4 * error.standard_error[inside]), (deviation, error.standard_error)
    assert np.all(error.standard_error[inside] < 0.1 * error.measured[inside])
    assert error.measured[-1] < 1e-6 * error.gradient_norm          # the full batch is exact


def test_error_falls_like_one_over_root_b(error):
    small = error.batch_sizes <= 32
    slope = np.polyfit(np.log(error.batch_sizes[small]), np.log(error.measured[small]), 1)[0]
    assert -0.6 < slope < -0.4
    one, thirty_two = error.measured[0], error.measured[list(error.batch_sizes).index(32)]
    assert 5 < one / thirty_two < 7                                 # about sqrt(32) = 5.7


@pytest.fixture(scope="module")
def noise_path(data):
    path = {}
    for epochs in PATH_EPOCHS:
        run = helpers.train(data, batch_size=data.n_train, epochs=epochs, learning_rate=0.1, seed=0)
        noise = helpers.gradient_noise(helpers.per_example_gradients(run.model, data.x_train, data.y_train))
        path[epochs] = (run, noise.b_simple)
    return path


def test_noise_scale_grows_by_orders_of_magnitude_as_the_loss_falls(noise_path):
    losses = [run.final("val_loss") for run, _ in noise_path.values()]
    scales = [b for _, b in noise_path.values()]
    assert losses == sorted(losses, reverse=True)
    assert scales[-1] > 1000 * scales[0]
    ranks = np.argsort(np.argsort(scales))
    rho = 1 - 6 * np.sum((ranks - np.arange(len(ranks))) ** 2) / (len(ranks) * (len(ranks) ** 2 - 1))
    assert rho > 0.9                                                # "with some wobble"


@pytest.fixture(scope="module")
def race(data, noise_path):
    budget = {b: math.ceil(1200 / helpers.updates_per_epoch(data.n_train, b)) for b in RACE}
    result = helpers.sweep(data, batch_sizes=RACE, learning_rates=[0.003, 0.01, 0.03, 0.1, 0.3],
                           seeds=SEEDS, epochs=budget, **sweep)
    sizes, steps, _ = result.steps_to_target(TARGET)
    s_min, b_crit = helpers.fit_steps_to_batch(sizes, steps)
    full_path, _ = noise_path[80]
    at_target = helpers.steps_to_target(full_path, TARGET, x="epoch")
    run = helpers.train(data, batch_size=data.n_train, epochs=at_target, learning_rate=0.1, seed=0)
    b_simple = helpers.gradient_noise(
        helpers.per_example_gradients(run.model, data.x_train, data.y_train)).b_simple
    return dict(zip(sizes, steps)), b_crit, b_simple


def test_small_batches_save_many_updates_large_ones_little(race, data):
    steps, b_crit, _ = race
    assert not any(np.isnan(list(steps.values())))
    # Counted at epoch ends: a printed count is the end of the epoch in which
    # the run crossed the target, so the crossing lies up to one epoch's updates earlier.
    earliest = {b: s - helpers.updates_per_epoch(data.n_train, b) for b, s in steps.items()}
    assert steps[4] / steps[16] > 3                                 # as printed, about fourfold
    assert earliest[4] / steps[16] > 2                              # at least twofold, whatever the epochs hid
    assert earliest[800] > 0.75 * steps[128]                        # a 6x larger batch saves little
    assert 0.8 < earliest[800] / steps[256] and steps[800] / earliest[256] < 1.3   # about as many
    assert 30 < b_crit < 300                                        # "a hundred or so"


def test_critical_batch_and_noise_scale_within_a_factor_of_ten(race):
    _, b_crit, b_simple = race
    assert 0.1 < b_simple / b_crit < 10


def test_below_the_critical_batch_the_work_stays_the_same_above_it_grows(race):
    steps, b_crit, _ = race
    examples = {b: s * b for b, s in steps.items()}
    # "Up to batch 32 the work stays the same, about 2,100 to 2,400 examples (at most three epochs)"
    small = [examples[b] for b in (4, 8, 16, 32)]
    assert 2000 < min(small) and max(small) < 2500 and max(small) <= 3 * 800
    # "From batch 64 on it grows"
    large = [examples[b] for b in (64, 128, 256, 800)]
    assert min(large) > max(small) and large == sorted(large)
    # "batch 800 processes about ten times as many examples as batch 32, to make 28 updates instead of 67"
    assert 8 < examples[800] / examples[32] < 12
    assert round(steps[800]) == 28 and round(steps[32]) == 67


def test_bigger_batches_save_updates_at_tuned_rates(race):
    steps, _, _ = race
    counts = [steps[b] for b in RACE]
    assert counts[0] > 10 * counts[-1]
