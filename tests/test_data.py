"""helpers.data: the course's datasets."""

import numpy as np
import pytest

import helpers


def test_first_source_split():
    data = helpers.load_blobs()
    assert (data.n_train, data.n_test, data.n_features, data.n_classes) == (800, 200, 2, 3)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert set(np.unique(data.y_train)) == {0, 1, 2}


def test_second_source_split_and_seed():
    a = helpers.load_blobs(train_size=500, random_state=2)
    b = helpers.load_blobs(train_size=500, random_state=2)
    c = helpers.load_blobs(train_size=500, random_state=3)
    assert (a.n_train, a.n_test) == (500, 500)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.config["random_state"] == 2


def test_cluster_std_controls_overlap():
    tight = helpers.load_blobs(cluster_std=0.5)
    loose = helpers.load_blobs(cluster_std=4.0)
    spread = lambda d: np.mean([d.x_train[d.y_train == k].std(axis=0).mean() for k in range(3)])  # noqa: E731
    assert spread(loose) > 4 * spread(tight)


def test_digits_are_scaled_and_stratified_enough():
    data = helpers.load_digits(train_size=1000)
    assert (data.n_train, data.n_val, data.n_test, data.n_features, data.n_classes) \
        == (1000, 400, 397, 64, 10)
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert set(np.unique(data.y_test)) == set(range(10)) == set(np.unique(data.y_val))
    rows = {row.tobytes() for row in np.concatenate([data.x_train, data.x_val, data.x_test])}
    assert len(rows) > 1700          # three disjoint parts of the 1797 images (a few are twins)


def test_repr_names_the_split():
    assert "800 train / 200 validation / 200 test" in repr(helpers.load_blobs())


def test_blobs_keep_the_sources_points_and_draw_validation_from_the_same_blobs():
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2.0, random_state=2)
    data = helpers.load_blobs()
    np.testing.assert_array_equal(data.x_train, x[:800].astype(np.float32))
    np.testing.assert_array_equal(data.x_test, x[800:].astype(np.float32))
    assert (data.n_val, data.config["validation_size"]) == (200, 200)
    # Another draw, of the same blobs: no shared point, class means within a few spreads / sqrt(n).
    assert not set(map(bytes, data.x_val)) & set(map(bytes, np.concatenate([data.x_train, data.x_test])))
    for k in range(3):
        assert np.linalg.norm(data.x_val[data.y_val == k].mean(0) - x[y == k].mean(0)) < 1.0
    assert helpers.load_blobs(validation_size=50).n_val == 50


def test_arrays_are_read_only_copies():
    x = np.zeros((4, 2), np.float32)
    data = helpers.Dataset(x, [0, 1, 0, 1], x[:2], [0, 1], name="toy", n_classes=2,
                           x_val=x[:2], y_val=[1, 0])
    x[0, 0] = np.nan                        # the caller's array, changed after the checks
    assert np.isfinite(data.x_train).all()
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(data, name)[0] = 1


def test_a_dataset_without_validation_gets_one_on_request_and_training_asks_for_it():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10) % 2
    data = helpers.Dataset(x, y, x[:3], y[:3], name="toy", n_classes=2)
    assert not data.has_validation and data.n_val == 0
    with pytest.raises(ValueError, match=r"data must have a validation split.*with_validation"):
        helpers.train(data, batch_size=2, epochs=1, learning_rate=0.01)
    split = data.with_validation(4, seed=1)
    assert (split.n_train, split.n_val, split.n_test) == (6, 4, 3)
    assert sorted(map(bytes, np.concatenate([split.x_train, split.x_val]))) == sorted(map(bytes, x))
    assert split.config["validation_size"] == 4
    with pytest.raises(ValueError, match="already has a validation split"):
        split.with_validation(2)
    with pytest.raises(ValueError, match="size"):
        data.with_validation(10)
    with pytest.raises(ValueError, match="x_val and y_val must be given together"):
        helpers.Dataset(x, y, x, y, name="toy", n_classes=2, x_val=x)
    with pytest.raises(ValueError, match="x_val must have the same number of features"):
        helpers.Dataset(x, y, x, y, name="toy", n_classes=2, x_val=x[:, :1], y_val=y)
