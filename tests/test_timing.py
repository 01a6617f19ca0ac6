"""helpers.timing: seconds per update for model.fit and helpers.train (no wall-clock asserts)."""

import numpy as np
import pytest

from helpers.timing import StepCosts, measure_step_costs, seconds_per_step


def test_both_ways_are_measured_at_every_batch_size(small_blobs):
    costs = measure_step_costs(small_blobs, [1, 60], min_updates=4, fit_updates=4)
    assert isinstance(costs, StepCosts) and costs.batch_sizes == [1, 60]
    for name in ("model.fit", "helpers.train"):
        seconds = costs.seconds_per_update[name]
        assert seconds.shape == (2,) and np.all(np.isfinite(seconds)) and np.all(seconds > 0)
        np.testing.assert_allclose(costs.examples_per_second(name), [1, 60] / seconds)
    assert "µs/update" in str(costs)


@pytest.mark.parametrize("batch_sizes, error, pattern", [
    ([0], ValueError, r"batch_sizes\[0\] must be an int in \[1, 60\], got 0"),
    ([], ValueError, "batch_sizes must hold at least one batch size"),
    (32, TypeError, "batch_sizes must be a sequence of ints, got 32"),
])
def test_bad_batch_sizes_are_named(small_blobs, batch_sizes, error, pattern):
    with pytest.raises(error, match=pattern):
        measure_step_costs(small_blobs, batch_sizes)


def test_a_pause_of_a_busy_machine_does_not_count_as_the_cost_of_a_step():
    ends = np.cumsum([5.0, 1.0, 1.0, 1.0, 40.0, 1.0, 1.0])   # the first step traces; one step waited
    assert seconds_per_step(ends) == 1.0
