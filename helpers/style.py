"""The course's visual language: one colour per batch size, one line style per split.

Colours follow the batch size on a log scale through the Okabe–Ito palette (readable with the
common colour-vision deficiencies); training curves are solid, validation and test dashed.
"""

import math
import numbers

__all__ = ["batch_color", "run_colors", "class_color", "TRAIN_STYLE", "TEST_STYLE", "SCHEDULE_COLOR",
           "NEUTRAL_COLORS", "CLASS_COLORS"]

TRAIN_STYLE = "-"
TEST_STYLE = "--"
#: A batch size that changes during training (a schedule) has no single colour.
SCHEDULE_COLOR = "#CC79A7"
#: Colours that say nothing about the batch size (the quiz must not give its answers away).
NEUTRAL_COLORS = ("#444444", "#8C6D31", "#7B4173", "#637939")
#: Colours of the classes (points and decision regions), apart from the batch-size colours.
CLASS_COLORS = ("#7570B3", "#E7298A", "#A6761D", "#666666", "#1B9E77", "#E6AB02", "#66A61E",
                "#B15928", "#1F78B4", "#FB9A99")

# (log2 of the batch size, colour), interpolated in between: 1 vermillion, 4 orange, 32 bluish green,
# 256 sky blue, 800 blue, 2048 and beyond indigo.
_ANCHORS = ((0.0, "#D55E00"), (2.0, "#E69F00"), (5.0, "#009E73"), (8.0, "#56B4E9"), (9.64, "#0072B2"),
            (11.0, "#332288"))


def _rgb(hex_color):
    return tuple(int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5))


def _hex(rgb):
    return "#" + "".join(f"{round(255 * min(max(c, 0.0), 1.0)):02X}" for c in rgb)


def batch_color(batch_size):
    """The ``#RRGGBB`` colour of a batch size in every figure; anything but an int of at least 1
    (``"schedule"``, say) gets :data:`SCHEDULE_COLOR`.

    Examples
    --------
    >>> batch_color(1), batch_color(32), batch_color(800)
    ('#D55E00', '#009E73', '#0072B2')
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        return SCHEDULE_COLOR
    position = math.log2(batch_size)
    for (x0, c0), (x1, c1) in zip(_ANCHORS, _ANCHORS[1:]):
        if position <= x1:
            t = max(0.0, (position - x0) / (x1 - x0))
            return _hex(tuple(a + t * (b - a) for a, b in zip(_rgb(c0), _rgb(c1))))
    return _ANCHORS[-1][1]


def _shade(hex_color, k):
    """The ``k``-th variant of a colour: itself, then darker and lighter in turn."""
    if k == 0:
        return hex_color
    amount = 0.35 * ((k + 1) // 2) / (1 + (k - 1) // 2 * 0.5)
    target = 0.0 if k % 2 else 1.0
    return _hex(tuple(c + min(amount, 0.7) * (target - c) for c in _rgb(hex_color)))


def run_colors(batch_sizes):
    """One colour per run: its batch size's, the second of a batch size darker, the third lighter, ...

    Examples
    --------
    >>> run_colors([1, 800, 1])
    ['#D55E00', '#0072B2', '#8A3D00']
    """
    bases = [batch_color(size) for size in batch_sizes]
    return [_shade(base, bases[:i].count(base)) for i, base in enumerate(bases)]


def class_color(k):
    """The colour of class ``k`` in scatter plots and decision regions."""
    return CLASS_COLORS[int(k) % len(CLASS_COLORS)]
