"""TensorFlow and Keras, imported on first use (they take seconds) and quietly."""

import os

from . import compile_cache

__all__ = ["keras", "tf", "quiet_tensorflow_logs"]


def quiet_tensorflow_logs():
    """Before TensorFlow's import: log errors only, unless the user chose otherwise; turn on the compiled-program
    cache (:func:`helpers.compile_cache.configure`). ``TF_ENABLE_ONEDNN_OPTS=0``: oneDNN only prints a line here.
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
