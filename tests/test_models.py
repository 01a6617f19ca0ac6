"""helpers.models: the MLP of both source experiments."""

import numpy as np

import helpers


def test_first_source_model_shape():
    model = helpers.build_mlp()
    assert [layer.units for layer in model.layers] == [32, 3]
    assert model.count_params() == 2 * 32 + 32 + 32 * 3 + 3


def test_second_source_model_uses_he_uniform():
    model = helpers.build_mlp(hidden_units=50, kernel_initializer="he_uniform")
    assert model.layers[0].units == 50
    assert type(model.layers[0].kernel_initializer).__name__ == "HeUniform"
    # He-uniform bound is sqrt(6 / fan_in) = sqrt(3) for two inputs; Glorot's would be sqrt(6/52).
    assert np.abs(model.layers[0].kernel.numpy()).max() > np.sqrt(6 / 52)


def test_seed_fixes_initial_weights():
    a, b, c = (helpers.build_mlp(seed=s).get_weights() for s in (1, 1, 2))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
