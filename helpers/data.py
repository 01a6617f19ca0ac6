"""Datasets of the course: small, made on the spot, no download.

Labels are integers (``0 .. n_classes - 1``), the form Keras's
``sparse_categorical_crossentropy`` expects.
"""

from dataclasses import dataclass, field

import numpy as np

from ._checks import check_float, check_int

__all__ = ["Dataset", "load_blobs", "load_digits"]


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
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    n_classes: int
    config: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.x_train) == 0:
            raise ValueError("x_train must hold at least one sample, got an empty array")
        if len(self.x_test) == 0:
            raise ValueError("x_test must hold at least one sample, got an empty array")
        if len(self.x_train) != len(self.y_train):
            raise ValueError(f"x_train and y_train must have the same length, got "
                             f"{len(self.x_train)} and {len(self.y_train)}")
        if len(self.x_test) != len(self.y_test):
            raise ValueError(f"x_test and y_test must have the same length, got "
                             f"{len(self.x_test)} and {len(self.y_test)}")

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

    n_samples = check_int("n_samples", n_samples, low=2)
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
