"""helpers.data: the course's datasets."""

import numpy as np

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
    assert (data.n_train, data.n_test, data.n_features, data.n_classes) == (1000, 797, 64, 10)
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert set(np.unique(data.y_test)) == set(range(10))


def test_repr_names_the_split():
    assert "800 train / 200 test" in repr(helpers.load_blobs())
