"""How good is a mini-batch gradient? Per-example gradients and their statistics.

The loss of a batch is the mean of its examples' losses, so the gradient of a
batch is the mean of its examples' gradients. With every example's gradient
``g_i`` at hand (:func:`per_example_gradients`), the statistics of every
possible mini-batch follow without training:

- the full-batch gradient ``G`` (the mean of all ``g_i``) and the per-example
  covariance ``Sigma``;
- the error of a mini-batch of ``B`` examples drawn without replacement from
  the ``n``: ``E|g_B - G|^2 = tr(Sigma) / B * (1 - B / n)``. Its square root
  shrinks like ``1 / sqrt(B)`` while ``B`` is small next to ``n``; the factor
  ``1 - B / n`` (the finite-population correction) takes it to 0 at ``B = n``;
- the simple noise scale ``B_simple = tr(Sigma) / |G|^2`` (McCandlish et al.
  2018, "An empirical model of large-batch training"): the batch size at which
  the noise of a mini-batch gradient is as large as the gradient itself.
  Below it, a bigger batch buys a proportionally better step; far above it,
  a bigger batch buys little.
"""

import weakref
from dataclasses import dataclass

import numpy as np

from ._backend import keras, tf
from ._checks import check_int, check_numbers, check_sequence
from .data import check_features, check_labels
from .engines import quiet_retracing
from .pipeline import check_model

__all__ = ["per_example_gradients", "batch_gradient", "GradientNoise", "gradient_noise",
           "GradientError", "minibatch_gradient_error", "fit_steps_to_batch"]


def _inputs(model, x, y):
    """``x`` and ``y`` checked as the data of ``model`` (features it takes, labels of its classes)."""
    if not isinstance(model, keras().Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    x = check_features("x", x)
    y = check_labels("y", y, check_model(model, x[:1]))
    if len(y) != len(x):
        raise ValueError(f"x must be (n, n_features) and y (n,) with n >= 1, "
                         f"got shapes {x.shape} and {y.shape}")
    return x, y


# One pair of traced functions per model, so repeated calls do not retrace.
_FUNCTIONS = weakref.WeakKeyDictionary()


def _functions(model):
    """Traced (per-example jacobian, batch gradient) functions of ``model``'s Keras loss."""
    if model not in _FUNCTIONS:
        t = tf()
        loss_fn = keras().losses.sparse_categorical_crossentropy
        variables = model.trainable_variables

        # Inside a tf.function Keras sees the softmax and works from its
        # logits, exactly as in training (eagerly it would clip probabilities).
        @t.function
        def jacobian(x, y):
            with t.GradientTape() as tape:
                losses = loss_fn(y, model(x, training=False))
            return tape.jacobian(losses, variables)

        @t.function
        def gradient(x, y):
            with t.GradientTape() as tape:
                loss = t.reduce_mean(loss_fn(y, model(x, training=False)))
            return tape.gradient(loss, variables)

        _FUNCTIONS[model] = (jacobian, gradient)
    return _FUNCTIONS[model]


def per_example_gradients(model, x, y, *, chunk=500):
    """The gradient of every example's Keras loss with respect to all trainable weights.

    Parameters
    ----------
    model : keras.Model
        A model mapping ``x`` to class probabilities (e.g. ``result.model``).
    x : array of shape (n, n_features)
    y : array of shape (n,)
        Integer labels.
    chunk : int, default 500
        Examples per pass, to bound memory.

    Returns
    -------
    ndarray of shape (n, n_weights), float64
        Row ``i`` is the gradient of example ``i``'s loss, the weights
        flattened in ``model.trainable_variables`` order.

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a Keras model or the shapes disagree.

    Examples
    --------
    >>> grads = per_example_gradients(result.model, data.x_train, data.y_train)  # doctest: +SKIP
    >>> grads.shape                                                             # doctest: +SKIP
    (800, 195)
    """
    x, y = _inputs(model, x, y)
    chunk = check_int("chunk", chunk, low=1)
    t = tf()
    jacobian, _ = _functions(model)
    parts = []
    for start in range(0, len(x), chunk):
        xc, yc = x[start:start + chunk], y[start:start + chunk]
        with quiet_retracing():
            jac = jacobian(t.constant(xc), t.constant(yc))
        parts.append(np.concatenate([j.numpy().reshape(len(xc), -1) for j in jac], axis=1))
    return _finite_gradients(model, np.concatenate(parts).astype(np.float64))


def _finite_gradients(model, grads):
    """``grads``, refused if any is NaN or infinite (a model whose weights diverged)."""
    if not np.isfinite(grads).all():
        raise ValueError(f"model's gradients are not finite ({np.count_nonzero(~np.isfinite(grads))} "
                         f"NaN or infinite values), got {model.name!r}: are its weights NaN or "
                         f"infinite, e.g. after a run that diverged?")
    return grads


def batch_gradient(model, x, y):
    """The gradient of the Keras mean loss of the batch ``(x, y)``, flattened.

    What one SGD update of this batch uses; equal to the mean of the rows of
    :func:`per_example_gradients` for the same examples.

    Returns
    -------
    ndarray of shape (n_weights,), float64
    """
    x, y = _inputs(model, x, y)
    t = tf()
    _, gradient = _functions(model)
    with quiet_retracing():
        grads = gradient(t.constant(x), t.constant(y))
    return _finite_gradients(model, np.concatenate([g.numpy().ravel() for g in grads]).astype(np.float64))


def _check_grads(grads):
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim != 2 or grads.shape[0] < 2:
        raise ValueError(f"grads must be an (n, n_weights) array with n >= 2 (from "
                         f"per_example_gradients), got shape {grads.shape}")
    bad = ~np.isfinite(grads)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(f"grads must be finite, got {bad.sum()} value(s) that are not, the first "
                         f"{grads[row, column]} at row {row}, column {column}")
    return grads


@dataclass(frozen=True)
class GradientNoise:
    """Statistics of the per-example gradients at one point of training.

    Attributes
    ----------
    gradient_norm_sq : float
        ``|G|^2``, the squared norm of the full-batch gradient.
    trace_covariance : float
        ``tr(Sigma)``, the summed variance of a single example's gradient
        (unbiased, divided by ``n - 1``).
    b_simple : float
        ``tr(Sigma) / |G|^2``.
    n : int
        Number of examples.
    """

    gradient_norm_sq: float
    trace_covariance: float
    b_simple: float
    n: int


def gradient_noise(grads):
    """The full-batch gradient's size, the per-example noise and ``B_simple``.

    Parameters
    ----------
    grads : array of shape (n, n_weights)
        From :func:`per_example_gradients`.

    Returns
    -------
    GradientNoise

    Examples
    --------
    >>> gradient_noise(np.array([[1.0, 0.0], [3.0, 0.0]])).b_simple
    0.5
    """
    grads = _check_grads(grads)
    mean = grads.mean(axis=0)
    norm_sq = float(mean @ mean)
    trace = float(((grads - mean) ** 2).sum() / (len(grads) - 1))
    b_simple = trace / norm_sq if norm_sq > 0 else float("inf")
    return GradientNoise(gradient_norm_sq=norm_sq, trace_covariance=trace, b_simple=b_simple,
                         n=len(grads))


@dataclass(frozen=True)
class GradientError:
    """How far mini-batch gradients are from the full-batch gradient, per batch size.

    Attributes
    ----------
    batch_sizes : ndarray of int
    measured : ndarray
        Root-mean-square of ``|g_B - G|`` over the drawn batches.
    standard_error : ndarray
        Standard error of ``measured`` from the spread of the draws.
    expected : ndarray
        ``sqrt(tr(Sigma) / B * (1 - B / n))``, sampling without replacement.
    expected_with_replacement : ndarray
        ``sqrt(tr(Sigma) / B)``: the plain ``1 / sqrt(B)`` law.
    gradient_norm : float
        ``|G|``, to read the errors against.
    draws : int
        Batches drawn per batch size.
    n_examples : int
        Examples the gradients came from (a batch of all of them has no error).
    """

    batch_sizes: np.ndarray
    measured: np.ndarray
    standard_error: np.ndarray
    expected: np.ndarray
    expected_with_replacement: np.ndarray
    gradient_norm: float
    draws: int
    n_examples: int


def minibatch_gradient_error(grads, batch_sizes, *, draws=200, seed=0):
    """Measure the error of mini-batch gradients against the full-batch gradient.

    For each batch size ``B``, draws ``draws`` batches of ``B`` distinct
    examples (as one shuffled epoch would), averages their per-example
    gradients into the batch gradient ``g_B`` and measures ``|g_B - G|``.

    Parameters
    ----------
    grads : array of shape (n, n_weights)
        From :func:`per_example_gradients`.
    batch_sizes : sequence of int
        Each in ``[1, n]``.
    draws : int, default 200
    seed : int, default 0

    Returns
    -------
    GradientError

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> err = minibatch_gradient_error(rng.normal(size=(100, 3)), [1, 4, 100])
    >>> bool(err.measured[-1] < 1e-12)     # the full batch is the full-batch gradient
    True
    """
    grads = _check_grads(grads)
    n = len(grads)
    sizes = np.array([check_int(f"batch_sizes[{i}]", b, low=1, high=n)
                      for i, b in enumerate(check_sequence("batch_sizes", batch_sizes, "ints"))])
    if not len(sizes):
        raise ValueError("batch_sizes must hold at least one batch size, got an empty sequence")
    draws = check_int("draws", draws, low=1)
    seed = check_int("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    mean = grads.mean(axis=0)
    noise = gradient_noise(grads)
    measured, standard_error = [], []
    for b in sizes:
        squared = np.array([
            np.sum((grads[rng.choice(n, size=b, replace=False)].mean(axis=0) - mean) ** 2)
            for _ in range(draws)])
        rms = np.sqrt(squared.mean())
        measured.append(rms)
        # d sqrt(m) = dm / (2 sqrt(m)); 0 when every draw is exact (the full batch).
        spread = squared.std(ddof=1) / np.sqrt(draws) if draws > 1 else np.nan
        standard_error.append(spread / (2 * rms) if rms > 0 else 0.0)
    expected_wr = np.sqrt(noise.trace_covariance / sizes)
    return GradientError(batch_sizes=sizes, measured=np.array(measured),
                         standard_error=np.array(standard_error),
                         expected=expected_wr * np.sqrt(1 - sizes / n),
                         expected_with_replacement=expected_wr,
                         gradient_norm=float(np.sqrt(noise.gradient_norm_sq)), draws=draws,
                         n_examples=n)


def fit_steps_to_batch(batch_sizes, steps):
    """Fit ``steps = S_min * (1 + B_crit / B)`` (McCandlish et al. 2018) by least squares.

    ``S_min`` is the fewest updates any batch size can need; ``B_crit`` is
    the batch size where the updates are twice that: below it, doubling the
    batch nearly halves the updates, above it doubling saves little.

    Parameters
    ----------
    batch_sizes, steps : sequences of numbers, same length >= 2
        A NaN in ``steps`` (what :meth:`helpers.SweepResult.steps_to_target`
        gives a batch size that never reached the target) leaves that batch
        size out of the fit; at least two must remain. Batch sizes must not
        repeat, and the steps must fall as the batch size grows (counts
        that rise, which would fit a negative ``B_crit``, are refused).

    Returns
    -------
    s_min, b_crit : float

    Examples
    --------
    >>> [round(v, 6) for v in fit_steps_to_batch([1, 10, 100], [1010, 110, 20])]
    [10.0, 100.0]
    """
    b = check_numbers("batch_sizes", batch_sizes)
    s = check_numbers("steps", steps)
    if b.shape != s.shape or len(b) < 2:
        raise ValueError(f"batch_sizes and steps must be 1-D of the same length >= 2, "
                         f"got shapes {b.shape} and {s.shape}")
    if not np.all(np.isfinite(b) & (b > 0)):
        raise ValueError(f"batch_sizes must all be finite and > 0, got {b.tolist()!r}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(s) & ~(np.isfinite(s) & (s > 0))
    if bad.any():
        raise ValueError(f"steps must all be finite and > 0 (NaN for a batch size that never "
                         f"reached the target), got {s.tolist()!r}")
    reached = ~np.isnan(s)
    if reached.sum() < 2:
        raise ValueError(f"steps must hold at least 2 counts that are not NaN (batch sizes that "
                         f"reached the target) to fit, got {s.tolist()!r}")
    if len(np.unique(b)) != len(b):
        raise ValueError(f"batch_sizes must not repeat a batch size, got {b.tolist()!r}; "
                         f"average the steps of repeated runs first")
    b, s = b[reached], s[reached]
    # steps is linear in 1/B: steps = S_min + (S_min * B_crit) / B. Relative
    # errors are weighed equally, or the smallest batches' large counts would rule.
    design = np.stack([np.ones_like(b), 1.0 / b], axis=1) / s[:, None]
    (s_min, slope), *_ = np.linalg.lstsq(design, np.ones_like(s), rcond=None)
    if slope < 0:
        raise ValueError(f"steps must fall as the batch size grows (or level off), as "
                         f"steps = S_min * (1 + B_crit / B) assumes, got steps {s.tolist()!r} at "
                         f"batch sizes {b.tolist()!r}, which rise and fit S_min = {s_min:.3g}, "
                         f"B_crit = {slope / s_min:.2f}")
    return float(s_min), float(slope / s_min)
