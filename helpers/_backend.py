"""Lazy, quiet access to TensorFlow and Keras.

TensorFlow takes seconds to import and writes native log lines to stderr
while doing so, so :mod:`helpers` imports it only when a function needs it,
after asking it (unless the user already chose otherwise) to log warnings
and errors only.
"""

import os

from . import compile_cache

__all__ = ["keras", "tf", "quiet_tensorflow_logs"]


def quiet_tensorflow_logs():
    """Ask TensorFlow, if the user has not chosen otherwise, to log errors only.

    Must run before TensorFlow is imported. ``TF_ENABLE_ONEDNN_OPTS=0`` turns
    off oneDNN's custom CPU kernels, whose only visible effect here is a log
    line at import (newer TensorFlow prints it whatever the log level); the
    course's training runs through XLA, which does not use them. It also turns
    on the persistent cache of compiled XLA programs
    (:func:`helpers.compile_cache.configure`).
    """
    compile_cache.configure()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def tf():
    """Return the ``tensorflow`` module, importing it quietly on first use."""
    quiet_tensorflow_logs()
    import tensorflow

    return tensorflow


def keras():
    """Return the ``keras`` module (Keras 3), importing it quietly on first use."""
    quiet_tensorflow_logs()
    import keras as keras_module

    return keras_module
