"""How good is a mini-batch gradient? Per-example gradients and their statistics (lesson 08).

A batch's gradient is the mean of its examples' gradients ``g_i``, so from all of them follow the full-batch
gradient ``G``, their covariance ``Sigma``, a batch of ``B`` of the ``n``'s error ``E|g_B - G|^2 = tr(Sigma) / B
* (1 - B / n)`` (drawn without replacement), and the simple noise scale ``B_simple = tr(Sigma) / |G|^2``
(McCandlish et al. 2018): the batch size at which a mini-batch gradient's noise is as large as the gradient.
"""

import weakref
from dataclasses import dataclass

import numpy as np

from ._backend import keras, tf
from ._checks import check_int, check_numbers, check_sequence
from .data import check_features, check_labels
from .engines import quiet_retracing
from .pipeline import check_model

__all__ = ["per_example_gradients", "batch_gradient", "GradientNoise", "gradient_noise", "GradientError",
           "minibatch_gradient_error", "fit_steps_to_batch"]


def _inputs(model, x, y):
    if not isinstance(model, keras().Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    x = check_features("x", x)
    y = check_labels("y", y, check_model(model, x[:1]))
    if len(y) != len(x):
        raise ValueError(f"x must be (n, n_features) and y (n,) with n >= 1, got shapes {x.shape} and {y.shape}")
    return x, y


# One pair of traced functions per model, so repeated calls do not retrace.
_FUNCTIONS = weakref.WeakKeyDictionary()


def _functions(model):
    if model not in _FUNCTIONS:
        t = tf()
        loss_fn = keras().losses.sparse_categorical_crossentropy
        variables = model.trainable_variables

        # Inside a tf.function Keras sees the softmax and works from its logits, exactly as in training
        # (eagerly it would clip probabilities).
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
    """(n, n_weights) float64: row ``i`` is the gradient of example ``i``'s Keras loss with respect to ``model``'s
    trainable weights, flattened in their order; ``chunk`` examples per pass.

    >>> grads = per_example_gradients(result.model, data.x_train, data.y_train)  # doctest: +SKIP
    >>> grads.shape                                                             # doctest: +SKIP
    (800, 195)
    """
    x, y = _inputs(model, x, y)
    chunk = check_int("chunk", chunk, low=1)
    t = tf()
    parts = []
    for start in range(0, len(x), chunk):
        xc, yc = x[start:start + chunk], y[start:start + chunk]
        with quiet_retracing():
            jac = _functions(model)[0](t.constant(xc), t.constant(yc))
        parts.append(np.concatenate([j.numpy().reshape(len(xc), -1) for j in jac], axis=1))
    return _finite_gradients(model, np.concatenate(parts).astype(np.float64))


def _finite_gradients(model, grads):
    if not np.isfinite(grads).all():
        raise ValueError(f"model's gradients are not finite ({np.count_nonzero(~np.isfinite(grads))} "
                         f"NaN or infinite values), got {model.name!r}: are its weights NaN or "
                         f"infinite, e.g. after a run that diverged?")
    return grads


def batch_gradient(model, x, y):
    """The gradient of the batch ``(x, y)``'s Keras mean loss, flattened (what one SGD update uses)."""
    x, y = _inputs(model, x, y)
    with quiet_retracing():
        grads = _functions(model)[1](tf().constant(x), tf().constant(y))
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
    """``|G|^2``, ``tr(Sigma)`` (unbiased) and ``B_simple`` of ``n`` examples' gradients."""

    gradient_norm_sq: float
    trace_covariance: float
    b_simple: float
    n: int


def gradient_noise(grads):
    """The :class:`GradientNoise` of ``grads`` (from :func:`per_example_gradients`).

    >>> gradient_noise(np.array([[1.0, 0.0], [3.0, 0.0]])).b_simple
    0.5
    """
    grads = _check_grads(grads)
    mean = grads.mean(axis=0)
    norm_sq = float(mean @ mean)
    trace = float(((grads - mean) ** 2).sum() / (len(grads) - 1))
    return GradientNoise(gradient_norm_sq=norm_sq, trace_covariance=trace,
                         b_simple=trace / norm_sq if norm_sq > 0 else float("inf"), n=len(grads))


@dataclass(frozen=True)
class GradientError:
    """Per batch size: ``measured`` (RMS of ``|g_B - G|`` over ``draws`` batches) and its ``standard_error``,
    ``expected`` (``sqrt(tr(Sigma) / B * (1 - B / n))``) and ``expected_with_replacement`` (``sqrt(tr(Sigma) / B)``);
    ``gradient_norm`` is ``|G|``."""

    batch_sizes: np.ndarray
    measured: np.ndarray
    standard_error: np.ndarray
    expected: np.ndarray
    expected_with_replacement: np.ndarray
    gradient_norm: float
    draws: int
    n_examples: int


def minibatch_gradient_error(grads, batch_sizes, *, draws=200, seed=0):
    """The :class:`GradientError` of mini-batches: for each batch size ``B`` in ``[1, n]``, ``draws`` batches of
    ``B`` distinct examples, each's ``|g_B - G|``.

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
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    mean = grads.mean(axis=0)
    noise = gradient_noise(grads)
    measured, standard_error = [], []
    for b in sizes:
        squared = np.array([np.sum((grads[rng.choice(n, size=b, replace=False)].mean(axis=0) - mean) ** 2)
                            for _ in range(draws)])
        rms = np.sqrt(squared.mean())
        measured.append(rms)
        # d sqrt(m) = dm / (2 sqrt(m)); 0 when every draw is exact (the full batch).
        spread = squared.std(ddof=1) / np.sqrt(draws) if draws > 1 else np.nan
        standard_error.append(spread / (2 * rms) if rms > 0 else 0.0)
    expected_wr = np.sqrt(noise.trace_covariance / sizes)
    return GradientError(batch_sizes=sizes, measured=np.array(measured), standard_error=np.array(standard_error),
                         expected=expected_wr * np.sqrt(1 - sizes / n), expected_with_replacement=expected_wr,
                         gradient_norm=float(np.sqrt(noise.gradient_norm_sq)), draws=draws, n_examples=n)


def fit_steps_to_batch(batch_sizes, steps):
    """``(S_min, B_crit)`` of ``steps = S_min * (1 + B_crit / B)`` (McCandlish et al. 2018), least squares.

    ``S_min``: the fewest updates any batch size needs; at ``B_crit`` the updates are twice that. A NaN step
    (never reached the target) leaves its batch size out; at least two must remain, batch sizes must not repeat,
    and steps must fall as the batch size grows.

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
    # steps = S_min + (S_min * B_crit) / B is linear in 1/B. Relative errors are weighed equally,
    # or the smallest batches' large counts would rule.
    design = np.stack([np.ones_like(b), 1.0 / b], axis=1) / s[:, None]
    (s_min, slope), *_ = np.linalg.lstsq(design, np.ones_like(s), rcond=None)
    if slope < 0:
        raise ValueError(f"steps must fall as the batch size grows (or level off), as "
                         f"steps = S_min * (1 + B_crit / B) assumes, got steps {s.tolist()!r} at "
                         f"batch sizes {b.tolist()!r}, which rise and fit S_min = {s_min:.3g}, "
                         f"B_crit = {slope / s_min:.2f}")
    return float(s_min), float(slope / s_min)
