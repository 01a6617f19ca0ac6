"""Argument checks: each error names the parameter and echoes it (``batch_size must be an int in [1, 800], got 0``)."""

import math
import numbers
import os
import sys
import warnings

__all__ = ["check_int", "check_float", "check_choice", "check_bool", "check_str", "check_sequence",
           "check_numbers", "range_text", "warn"]


def range_text(low, high, *, low_open=False, high_open=False):
    low_s = "-inf" if low is None else f"{low:g}" if isinstance(low, float) else str(low)
    high_s = "inf" if high is None else f"{high:g}" if isinstance(high, float) else str(high)
    return f"{'(' if low_open else '['}{low_s}, {high_s}{')' if high_open else ']'}"


def check_int(name, value, *, low=None, high=None):
    """Return ``value`` as an ``int`` in ``[low, high]``; bools and floats (even 32.0) raise TypeError."""
    where = range_text(low, high)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int in {where}, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an int in {where}, got {value!r}")
    return value


def check_float(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite ``float`` inside the given interval."""
    where = range_text(low, high, low_open=low_open, high_open=high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {where}, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or (low is not None and (value < low or (low_open and value == low))) \
            or (high is not None and (value > high or (high_open and value == high))):
        raise ValueError(f"{name} must be a finite number in {where}, got {value!r}")
    return value


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(name, value):
    """Return ``value`` if it is a ``bool``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_str(name, value, *, optional=False):
    """Return ``value`` if it is a ``str`` (or None, when ``optional``)."""
    if not isinstance(value, str) and not (value is None and optional):
        raise TypeError(f"{name} must be a str{' or None' if optional else ''}, got {value!r}")
    return value


def check_sequence(name, values, what):
    """Return ``values`` as a list if it is a sequence (not a str, a scalar or a mapping)."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of {what}, got {values!r}")
    return list(values)


def check_numbers(name, values):
    """Return ``values`` as a 1-D float array if it is a flat sequence of numbers."""
    import numpy as np

    values = check_sequence(name, values, "numbers")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers, got shape {array.shape}")
    return array


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def warn(message, category=RuntimeWarning):
    """``warnings.warn`` pointing at the first caller outside :mod:`helpers` (counted on the live stack:
    Python 3.12 inlines comprehensions' frames, 3.11 does not)."""
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
