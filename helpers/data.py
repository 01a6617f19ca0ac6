"""The course's datasets: small, made on the spot, no download; integer labels ``0 .. n_classes - 1``."""

import json
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_float, check_int

__all__ = ["Dataset", "load_blobs", "load_digits", "check_features", "check_labels", "MAX_FEATURE_BYTES"]

#: Most classes a dataset may have (the course's go up to 10).
MAX_CLASSES = 1000
#: Most points :func:`load_blobs` makes (its arrays then take a few hundred MB).
MAX_SAMPLES = 10_000_000
#: Most bytes of features a dataset may hold (float32): far above the course's datasets, below a laptop's memory.
MAX_FEATURE_BYTES = 2**30


def _array(name, values):
    try:
        return np.asarray(values)
    except ValueError as error:  # a ragged nesting: rows of different lengths
        raise ValueError(f"{name} must be a rectangular array, got a ragged sequence ({error})") from None


def check_features(name, values):
    """``values`` as a C-contiguous float32 (n_samples, n_features) array, checked."""
    x = _array(name, values)
    if x.ndim != 2:
        hint = "; one feature per sample is x.reshape(-1, 1)" if x.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {x.shape}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got an empty array")
    if x.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one feature, got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    if x.size * 4 > MAX_FEATURE_BYTES:
        raise ValueError(f"{name} of shape {x.shape} would take {x.size * 4 / 2**30:.1f} GB as float32, more than "
                         f"fits in memory here (at most {MAX_FEATURE_BYTES / 2**30:.0f} GB)")
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
    """A classification problem split three ways: train on ``x_train``, tune on ``x_val`` (a run's ``val_``
    keys), score the chosen settings once on ``x_test``.

    Features are (n, n_features) float32, labels (n,) int32 in ``[0, n_classes)``; ``name`` labels plots and
    cache keys; ``config`` holds the arguments that made it. Without a validation split, add one with
    :meth:`with_validation`. Every array is the dataset's own read-only copy. A ragged, empty, non-finite,
    one-hot or mismatched array raises an error naming it.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    n_classes: int
    config: dict = field(default_factory=dict)
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def __post_init__(self):
        # Checked at the door: bad labels or non-finite features would come back as "diverged at epoch 1".
        n_classes = check_int("n_classes", self.n_classes, low=2, high=MAX_CLASSES)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {self.name!r}")
        if not isinstance(self.config, dict):
            raise TypeError(f"config must be a dict, got {self.config!r}")
        try:
            json.dumps(self.config, sort_keys=True)
        except (TypeError, ValueError) as error:
            raise TypeError(f"config must be JSON-safe (it is part of cache keys), got {self.config!r}: {error}") \
                from None
        if (self.x_val is None) != (self.y_val is None):
            raise ValueError("x_val and y_val must be given together (a validation split), got "
                             f"{'x_val' if self.y_val is None else 'y_val'} alone")
        arrays = {}
        for split in ("train", "test") + (() if self.x_val is None else ("val",)):
            x = check_features(f"x_{split}", getattr(self, f"x_{split}"))
            y = check_labels(f"y_{split}", getattr(self, f"y_{split}"), n_classes)
            if x.shape[1] != arrays.get("x_train", x).shape[1]:
                raise ValueError(f"x_train and x_{split} must have the same number of features, "
                                 f"got {arrays['x_train'].shape[1]} and {x.shape[1]}")
            if len(x) != len(y):
                raise ValueError(f"x_{split} and y_{split} must have the same length, got {len(x)} and {len(y)}")
            arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
        for name, value in arrays.items():   # the dataset's own copy, that nobody can write into
            if np.may_share_memory(value, getattr(self, name)) or value.base is not None:
                value = value.copy()
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "n_classes", n_classes)

    @property
    def has_validation(self):
        return self.x_val is not None

    @property
    def n_val(self):
        return 0 if self.x_val is None else len(self.x_val)

    def with_validation(self, size, *, seed=0):
        """A copy whose validation split is ``size`` training rows drawn at random (``seed``); the others keep
        their order.

        >>> data = Dataset([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], [[1.5]], [1], name="toy",
        ...                n_classes=2).with_validation(1)
        >>> data.n_train, data.n_val, data.n_test
        (3, 1, 1)
        """
        if self.has_validation:
            raise ValueError(f"data already has a validation split of {self.n_val} rows")
        size = check_int("size", size, low=1, high=self.n_train - 1)
        seed = check_int("seed", seed, low=0, high=2**32 - 1)
        held = np.zeros(self.n_train, dtype=bool)
        held[np.random.default_rng(seed).choice(self.n_train, size, replace=False)] = True
        config = dict(self.config, validation_size=size, validation_seed=seed)
        return Dataset(x_train=self.x_train[~held], y_train=self.y_train[~held], x_test=self.x_test,
                       y_test=self.y_test, name=self.name, n_classes=self.n_classes, config=config,
                       x_val=self.x_train[held], y_val=self.y_train[held])

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
        val = f" / {self.n_val} validation" if self.has_validation else ""
        return (f"Dataset({self.name!r}: {self.n_train} train{val} / {self.n_test} test, "
                f"{self.n_features} features, {self.n_classes} classes)")


def _split(x, y, train_size, name, n_classes, config, x_val, y_val):
    return Dataset(x_train=x[:train_size], y_train=y[:train_size], x_test=x[train_size:], y_test=y[train_size:],
                   name=name, n_classes=n_classes, config=config, x_val=x_val, y_val=y_val)


def load_blobs(*, n_samples=1000, train_size=800, centers=3, cluster_std=2.0, random_state=2, validation_size=200):
    """Gaussian blobs in 2-D: the first ``train_size`` of ``n_samples`` rows train, the rest test.

    The sources' points and splits (``make_blobs(1000, centers=3, cluster_std=2)``, 800/200 and 500/500)
    are kept exactly; the validation split is ``validation_size`` more points from the same blobs (another
    seed), so tuning never looks at the test split. ``cluster_std``: larger, more overlap.

    >>> data = load_blobs(train_size=500)
    >>> data.x_train.shape, data.x_val.shape, data.x_test.shape
    ((500, 2), (200, 2), (500, 2))
    """
    from sklearn.datasets import make_blobs

    n_samples = check_int("n_samples", n_samples, low=2, high=MAX_SAMPLES)
    train_size = check_int("train_size", train_size, low=1, high=n_samples - 1)
    centers = check_int("centers", centers, low=2, high=50)
    cluster_std = check_float("cluster_std", cluster_std, low=0.0, low_open=True)
    random_state = check_int("random_state", random_state, low=0, high=2**32 - 1)
    validation_size = check_int("validation_size", validation_size, low=1, high=MAX_SAMPLES)
    x, y, middles = make_blobs(n_samples=n_samples, centers=centers, n_features=2, cluster_std=cluster_std,
                               random_state=random_state, return_centers=True)
    # The same blobs, another draw: a seed of its own, derived from random_state.
    val_seed = int(np.random.SeedSequence([random_state, 1]).generate_state(1)[0])
    x_val, y_val = make_blobs(n_samples=validation_size, centers=middles, cluster_std=cluster_std,
                              random_state=val_seed)
    config = dict(dataset="blobs", n_samples=n_samples, train_size=train_size, centers=centers,
                  cluster_std=cluster_std, random_state=random_state, validation_size=validation_size)
    name = f"blobs {train_size}/{validation_size}/{n_samples - train_size}, std {cluster_std:g}"
    return _split(x, y, train_size, name, centers, config, x_val, y_val)


def load_digits(*, train_size=1000, validation_size=400, random_state=0):
    """scikit-learn's 8x8 handwritten digits (1797 images, no download), pixels in [0, 1], shuffled once
    (``random_state``) and split ``train_size`` / ``validation_size`` / the rest for test.

    >>> load_digits().n_features
    64
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    n = len(bunch.target)
    train_size = check_int("train_size", train_size, low=1, high=n - 2)
    validation_size = check_int("validation_size", validation_size, low=1, high=n - train_size - 1)
    random_state = check_int("random_state", random_state, low=0, high=2**32 - 1)
    order = np.random.default_rng(random_state).permutation(n)
    x, y = bunch.data[order] / 16.0, bunch.target[order]
    config = dict(dataset="digits", train_size=train_size, validation_size=validation_size, random_state=random_state)
    stop = train_size + validation_size
    return _split(np.concatenate([x[:train_size], x[stop:]]), np.concatenate([y[:train_size], y[stop:]]),
                  train_size, f"digits {train_size}/{validation_size}/{n - stop}", 10, config,
                  x[train_size:stop], y[train_size:stop])
