"""helpers.style: one colour per batch size, shaded apart when a batch size repeats."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from helpers.style import SCHEDULE_COLOR, batch_color, class_color, run_colors


def test_the_three_batch_sizes_of_the_course_have_their_anchor_colours():
    assert [batch_color(b) for b in (1, 4, 32, 256, 800)] == \
        ["#D55E00", "#E69F00", "#009E73", "#56B4E9", "#0072B2"]


def test_a_batch_size_between_anchors_gets_a_colour_between_them():
    low, mid, high = (np.array(to_rgb(batch_color(b))) for b in (32, 64, 256))
    assert np.all((mid >= np.minimum(low, high) - 1e-9) & (mid <= np.maximum(low, high) + 1e-9))
    assert batch_color(64) not in (batch_color(32), batch_color(256))


@pytest.mark.parametrize("size", ["schedule", 0, -3, 2.5, None, True])
def test_what_is_not_a_batch_size_gets_the_schedule_colour(size):
    assert batch_color(size) == SCHEDULE_COLOR


def test_same_colour_everywhere_for_the_same_batch_size():
    assert batch_color(32) == batch_color(32) == run_colors([800, 32])[1]


def test_repeated_batch_sizes_are_shaded_apart_and_keep_their_hue():
    colors = run_colors([1, 1, 1, 800])
    assert len(set(colors)) == 4 and colors[0] == batch_color(1) and colors[3] == batch_color(800)
    darker, lighter = sum(to_rgb(colors[1])), sum(to_rgb(colors[2]))
    assert darker < sum(to_rgb(colors[0])) < lighter


def test_class_colours_differ_from_the_batch_colours_of_the_lessons():
    batch = {batch_color(b) for b in (1, 32, 500, 800)}
    assert not batch & {class_color(k) for k in range(3)}
