"""Gradient statistics: per-example gradients, the noise scale, the 1/sqrt(B) law."""

import matplotlib
import numpy as np
import pytest

import helpers
from helpers.gradients import (batch_gradient, fit_steps_to_batch, gradient_noise,
                               minibatch_gradient_error, per_example_gradients)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def trained(small_blobs):
    return helpers.train(small_blobs, batch_size=10, epochs=3, learning_rate=0.05, seed=1).model


def test_per_example_gradients_average_to_the_keras_batch_gradient(small_blobs, trained):
    x, y = small_blobs.x_train, small_blobs.y_train
    grads = per_example_gradients(trained, x, y, chunk=25)   # chunks of 25, 25, 10
    n_weights = sum(int(np.prod(v.shape)) for v in trained.trainable_variables)
    assert grads.shape == (60, n_weights) and grads.dtype == np.float64
    # The loss of a batch is the mean of its examples' losses, so its gradient
    # is the mean of theirs; float32 sums agree to ~1e-7 of the gradient's size.
    for rows in (slice(0, 60), slice(5, 37), slice(11, 12)):
        expected = batch_gradient(trained, x[rows], y[rows])
        np.testing.assert_allclose(grads[rows].mean(axis=0), expected,
                                   atol=1e-6 * np.abs(expected).max())


def test_gradient_of_an_sgd_update(small_blobs):
    # One plain SGD step (no momentum) moves the weights by -lr x the batch gradient.
    model = helpers.build_mlp(seed=4)
    before = np.concatenate([w.ravel() for w in model.get_weights()])
    gradient = batch_gradient(model, small_blobs.x_train, small_blobs.y_train)
    helpers.train(small_blobs, model=model, batch_size=60, epochs=1, learning_rate=0.1,
                  momentum=0.0, shuffle=False)
    after = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(after - before, -0.1 * gradient, atol=1e-6)


def test_gradient_noise_by_hand():
    grads = np.array([[1.0, 2.0], [3.0, 2.0], [2.0, 5.0]])
    noise = gradient_noise(grads)
    mean = np.array([2.0, 3.0])
    trace = ((grads - mean) ** 2).sum() / 2
    assert noise.gradient_norm_sq == pytest.approx(13.0)
    assert noise.trace_covariance == pytest.approx(trace)
    assert noise.b_simple == pytest.approx(trace / 13.0) and noise.n == 3


def test_minibatch_error_follows_the_sampling_law():
    rng = np.random.default_rng(1)
    grads = rng.normal(loc=0.3, size=(400, 5))
    error = minibatch_gradient_error(grads, [1, 4, 16, 100, 399, 400], draws=2000, seed=2)
    noise = gradient_noise(grads)
    assert error.measured[-1] < 1e-12 and error.expected[-1] == 0.0  # the full batch is G
    np.testing.assert_allclose(error.expected_with_replacement,
                               np.sqrt(noise.trace_covariance / error.batch_sizes))
    # 2000 draws: the mean squared error has a relative standard error of
    # about sqrt(2/5/2000) = 1.4 % for these Gaussian gradients (5 weights),
    # 0.7 % on the root; the reported standard error must agree.
    np.testing.assert_allclose(error.standard_error[:-2] / error.measured[:-2], 0.007, rtol=0.3)
    assert np.all(np.abs(error.measured - error.expected)[:-1] < 4 * error.standard_error[:-1])
    assert error.gradient_norm == pytest.approx(np.sqrt(noise.gradient_norm_sq))
    # Without the finite-population factor, B = 399 of 400 would be ~20x off.
    assert error.expected_with_replacement[-2] > 15 * error.measured[-2]


def test_same_seed_same_draws():
    grads = np.random.default_rng(0).normal(size=(50, 3))
    a = minibatch_gradient_error(grads, [2, 8], draws=20, seed=5)
    b = minibatch_gradient_error(grads, [2, 8], draws=20, seed=5)
    c = minibatch_gradient_error(grads, [2, 8], draws=20, seed=6)
    np.testing.assert_array_equal(a.measured, b.measured)
    assert not np.array_equal(a.measured, c.measured)


def test_fit_steps_to_batch_recovers_the_model():
    b = np.array([2, 4, 8, 16, 64, 256])
    s_min, b_crit = fit_steps_to_batch(b, 30 * (1 + 40 / b))
    assert s_min == pytest.approx(30) and b_crit == pytest.approx(40)
    noisy = 30 * (1 + 40 / b) * np.array([1.05, 0.95, 1.03, 0.97, 1.04, 0.96])
    s_min, b_crit = fit_steps_to_batch(b, noisy)
    assert 25 < s_min < 35 and 30 < b_crit < 50


def test_fit_steps_to_batch_leaves_out_batch_sizes_that_never_reached_the_target(small_blobs, capfd):
    # SweepResult.steps_to_target gives NaN for them; the fit uses the others, quietly.
    result = helpers.sweep(small_blobs, batch_sizes=[5, 10, 20, 60], learning_rates=[0.3], epochs=3,
                           cache_dir=None, progress=False)
    # A target both smallest batches reach and 3 full-batch updates do not.
    target = max(min(r.history["val_loss"]) for r in result.runs[:2])
    assert min(result.select(batch_size=60)[0].history["val_loss"]) > target
    sizes, steps, _ = result.steps_to_target(target)
    assert np.isnan(steps).any() and np.isfinite(steps).sum() >= 2
    s_min, b_crit = fit_steps_to_batch(sizes, steps)
    reached = np.isfinite(steps)
    assert (s_min, b_crit) == fit_steps_to_batch(np.asarray(sizes)[reached], steps[reached])
    assert capfd.readouterr().err == ""
    b = np.array([1, 10, 100, 1000])
    assert fit_steps_to_batch(b, [1010, 110, 20, np.nan]) == pytest.approx((10, 100))


@pytest.mark.parametrize("call, message", [
    (lambda: gradient_noise(np.ones((1, 3))), r"grads must be an \(n, n_weights\) array with n >= 2"),
    (lambda: minibatch_gradient_error(np.ones((5, 2)), [6]), r"batch_sizes\[0\] must be an int in \[1, 5\], got 6"),
    (lambda: minibatch_gradient_error(np.ones((5, 2)), [2], draws=0), r"draws must be .*got 0"),
    (lambda: fit_steps_to_batch([1, 2], [3]), r"same length >= 2"),
    (lambda: per_example_gradients("model", np.ones((2, 2)), [0, 1]), r"model must be a keras.Model, got str"),
])
def test_bad_arguments(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_bad_shapes(trained):
    with pytest.raises(ValueError, match=r"x must be \(n, n_features\) and y \(n,\).*\(3, 2\) and \(2,\)"):
        per_example_gradients(trained, np.ones((3, 2)), [0, 1])


def test_plots(small_blobs, trained):
    grads = per_example_gradients(trained, small_blobs.x_train, small_blobs.y_train)
    error = minibatch_gradient_error(grads, [1, 4, 16, 60], draws=10)
    ax = helpers.plot_gradient_error(error)
    assert ax.get_xscale() == "log" and len(ax.lines) == 4
    ax = helpers.plot_steps_to_target([4, 16, 64], [400, 120, 60], s_min=40, b_crit=30, b_simple=50)
    assert ax.get_yscale() == "log" and len(ax.lines) == 5
    with pytest.raises(TypeError, match="error must be a GradientError"):
        helpers.plot_gradient_error(grads)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_gradients_that_are_not_finite_are_refused(bad):
    grads = np.ones((4, 3))
    grads[2, 1] = bad
    for call in (lambda: gradient_noise(grads), lambda: minibatch_gradient_error(grads, [2])):
        with pytest.raises(ValueError, match=r"grads must be finite, got 1 value.* at row 2, column 1"):
            call()


def test_per_example_gradients_of_a_model_with_nan_weights_are_refused(small_blobs):
    model = helpers.build_mlp(small_blobs.n_features, small_blobs.n_classes)
    weights = model.get_weights()
    weights[0][0, 0] = np.nan
    model.set_weights(weights)
    x, y = small_blobs.x_train, small_blobs.y_train
    for call in (lambda: per_example_gradients(model, x, y), lambda: batch_gradient(model, x, y)):
        with pytest.raises(ValueError, match=r"model's gradients are not finite"):
            call()


@pytest.mark.parametrize("sizes, steps, message", [
    ([1, 10], [10, 100], r"steps must fall as the batch size grows.*B_crit = -0.91"),
    ([1, 10, 100], [100, 1000, 10000], r"steps must fall as the batch size grows"),
    ([4, 4, 8], [100, 90, 60], r"batch_sizes must not repeat a batch size, got \[4.0, 4.0, 8.0\]"),
    ([4, 8, 8], [100, 60, np.nan], r"batch_sizes must not repeat a batch size"),
])
def test_fit_steps_to_batch_refuses_what_the_model_cannot_fit(sizes, steps, message):
    with pytest.raises(ValueError, match=message):
        fit_steps_to_batch(sizes, steps)


def test_fit_steps_to_batch_keeps_a_flat_tail():
    # Past B_crit the counts level off and wobble: that is the model, not an error.
    b = np.array([2, 8, 32, 128, 512])
    s_min, b_crit = fit_steps_to_batch(b, [620, 170, 60, 31, 33])
    assert s_min > 0 and b_crit > 0
