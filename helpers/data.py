"""Datasets of the course: small, made on the spot, no download.

Labels are integers (``0 .. n_classes - 1``), the form Keras's
``sparse_categorical_crossentropy`` expects.
"""

import json
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_float, check_int

__all__ = ["Dataset", "load_blobs", "load_digits"]


#: Most classes a dataset may have (the course's go up to 10).
MAX_CLASSES = 1000
#: Most points :func:`load_blobs` makes (its arrays then take a few hundred MB).
MAX_SAMPLES = 10_000_000
#: Most bytes of features a dataset may hold (float32): far above the course's
#: datasets, well below a laptop's memory.
MAX_FEATURE_BYTES = 2**30


def _array(name, values):
    try:
        return np.asarray(values)
    except ValueError as error:  # a ragged nesting: rows of different lengths
        raise ValueError(f"{name} must be a rectangular array, got a ragged sequence ({error})") \
            from None


def check_features(name, values):
    """``values`` as a C-contiguous float32 (n_samples, n_features) array, checked."""
    x = _array(name, values)
    if x.ndim != 2:
        hint = "; one feature per sample is x.reshape(-1, 1)" if x.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape "
                         f"{x.shape}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got an empty array")
    if x.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one feature, got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    if x.size * 4 > MAX_FEATURE_BYTES:
        raise ValueError(f"{name} of shape {x.shape} would take {x.size * 4 / 2**30:.1f} GB as "
                         f"float32, more than fits in memory here (at most "
                         f"{MAX_FEATURE_BYTES / 2**30:.0f} GB)")
    with np.errstate(over="ignore"):   # a value too large for float32 becomes inf: refused below
        x32 = np.ascontiguousarray(x, dtype=np.float32)
    bad = ~np.isfinite(x32)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must hold finite float32 numbers, got {x[row, column].item()!r} at "
                         f"row {row}, column {column} ({int(bad.sum())} such values)")
    return x32


def check_labels(name, values, n_classes):
    """``values`` as a C-contiguous int32 (n_samples,) array of labels in [0, n_classes)."""
    y = _array(name, values)
    if y.ndim == 2 and y.shape[1] == n_classes and y.dtype.kind in "biuf" and len(y) \
            and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
        raise ValueError(f"{name} must hold integer labels, got one-hot rows of shape {y.shape}; "
                         f"pass {name}.argmax(axis=1)")
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer labels, got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold integer labels, got dtype {y.dtype}")
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(y) & (y == np.round(y)) if y.dtype.kind == "f" else np.ones(len(y), bool)
        inside = whole & (y >= 0) & (y < n_classes)
    if not inside.all():
        index = int(np.argmin(inside))
        note = "" if whole[index] else ", not an integer"
        raise ValueError(f"{name} must hold integer labels in [0, {n_classes}) (n_classes="
                         f"{n_classes}), got {y[index].item()!r} at index {index}{note}")
    return np.ascontiguousarray(y, dtype=np.int32)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of a classification problem.

    Attributes
    ----------
    x_train : ndarray of shape (n_train, n_features), float32
    y_train : ndarray of shape (n_train,), int32
    x_test : ndarray of shape (n_test, n_features), float32
    y_test : ndarray of shape (n_test,), int32
    name : str
        A short description used in plot titles and cache keys.
    n_classes : int
    config : dict
        The arguments that produced the data (JSON-safe).

    Raises
    ------
    TypeError, ValueError
        If an array is not 2-D (features) or 1-D (labels), ragged, empty,
        not finite, one-hot, or of mismatched lengths or feature counts, or a
        label is not an integer in ``[0, n_classes)``; the message names the
        array and echoes the bad value. Arrays are stored as float32 and int32.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    n_classes: int
    config: dict = field(default_factory=dict)

    def __post_init__(self):
        # Checked here, at the door: bad labels or non-finite features would
        # otherwise reach the trainer and come back as "diverged at epoch 1".
        n_classes = check_int("n_classes", self.n_classes, low=2, high=MAX_CLASSES)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {self.name!r}")
        if not isinstance(self.config, dict):
            raise TypeError(f"config must be a dict, got {self.config!r}")
        try:
            json.dumps(self.config, sort_keys=True)
        except (TypeError, ValueError) as error:
            raise TypeError(f"config must be JSON-safe (it is part of cache keys), got "
                            f"{self.config!r}: {error}") from None
        x_train = check_features("x_train", self.x_train)
        x_test = check_features("x_test", self.x_test)
        if x_train.shape[1] != x_test.shape[1]:
            raise ValueError(f"x_train and x_test must have the same number of features, got "
                             f"{x_train.shape[1]} and {x_test.shape[1]}")
        y_train = check_labels("y_train", self.y_train, n_classes)
        y_test = check_labels("y_test", self.y_test, n_classes)
        if len(x_train) != len(y_train):
            raise ValueError(f"x_train and y_train must have the same length, got "
                             f"{len(x_train)} and {len(y_train)}")
        if len(x_test) != len(y_test):
            raise ValueError(f"x_test and y_test must have the same length, got "
                             f"{len(x_test)} and {len(y_test)}")
        for name, value in (("x_train", x_train), ("y_train", y_train), ("x_test", x_test),
                            ("y_test", y_test), ("n_classes", n_classes)):
            object.__setattr__(self, name, value)

    @property
    def n_train(self):
        return len(self.x_train)

    @property
    def n_test(self):
        return len(self.x_test)

    @property
    def n_features(self):
        return self.x_train.shape[1]

    def __repr__(self):
        return (f"Dataset({self.name!r}: {self.n_train} train / {self.n_test} test, "
                f"{self.n_features} features, {self.n_classes} classes)")


def _split(x, y, train_size, name, n_classes, config):
    return Dataset(
        x_train=np.ascontiguousarray(x[:train_size], dtype=np.float32),
        y_train=np.ascontiguousarray(y[:train_size], dtype=np.int32),
        x_test=np.ascontiguousarray(x[train_size:], dtype=np.float32),
        y_test=np.ascontiguousarray(y[train_size:], dtype=np.int32),
        name=name, n_classes=n_classes, config=config)


def load_blobs(*, n_samples=1000, train_size=800, centers=3, cluster_std=2.0,
               random_state=2):
    """Gaussian blobs in 2-D, split into the first ``train_size`` rows and the rest.

    Both source experiments use ``make_blobs(n_samples=1000, centers=3,
    n_features=2, cluster_std=2)``: the first splits 800/200, the second
    500/500 with ``random_state=2``.

    Parameters
    ----------
    n_samples : int, default 1000
        Number of points in total, at least 2.
    train_size : int, default 800
        Number of leading rows used for training; the rest is the test split.
    centers : int, default 3
        Number of blobs, hence classes.
    cluster_std : float, default 2.0
        Spread of each blob; larger means more overlap and lower accuracy.
    random_state : int, default 2
        Seed of the data; the same seed gives the same points.

    Returns
    -------
    Dataset
        ``x_*`` of shape (n, 2) float32 and ``y_*`` of shape (n,) int32.

    Raises
    ------
    ValueError, TypeError
        If an argument is out of range or of the wrong type.

    Examples
    --------
    >>> data = load_blobs(train_size=500)
    >>> data.x_train.shape, data.x_test.shape
    ((500, 2), (500, 2))
    """
    from sklearn.datasets import make_blobs

    n_samples = check_int("n_samples", n_samples, low=2, high=MAX_SAMPLES)
    train_size = check_int("train_size", train_size, low=1, high=n_samples - 1)
    centers = check_int("centers", centers, low=2, high=50)
    cluster_std = check_float("cluster_std", cluster_std, low=0.0, low_open=True)
    random_state = check_int("random_state", random_state, low=0, high=2**32 - 1)
    x, y = make_blobs(n_samples=n_samples, centers=centers, n_features=2,
                      cluster_std=cluster_std, random_state=random_state)
    config = dict(dataset="blobs", n_samples=n_samples, train_size=train_size,
                  centers=centers, cluster_std=cluster_std, random_state=random_state)
    name = f"blobs {train_size}/{n_samples - train_size}, std {cluster_std:g}"
    return _split(x, y, train_size, name, centers, config)


def load_digits(*, train_size=1000, random_state=0):
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, no download).

    Pixels are scaled to [0, 1]; the rows are shuffled once with
    ``random_state`` before the split so both splits see every digit.

    Parameters
    ----------
    train_size : int, default 1000
        Number of training images; the other ``1797 - train_size`` are the test split.
    random_state : int, default 0
        Seed of the shuffle before the split.

    Returns
    -------
    Dataset
        ``x_*`` of shape (n, 64) float32 and ``y_*`` of shape (n,) int32, 10 classes.

    Examples
    --------
    >>> load_digits().n_features
    64
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    n = len(bunch.target)
    train_size = check_int("train_size", train_size, low=1, high=n - 1)
    random_state = check_int("random_state", random_state, low=0, high=2**32 - 1)
    order = np.random.default_rng(random_state).permutation(n)
    x = bunch.data[order] / 16.0
    y = bunch.target[order]
    config = dict(dataset="digits", train_size=train_size, random_state=random_state)
    return _split(x, y, train_size, f"digits {train_size}/{n - train_size}", 10, config)
