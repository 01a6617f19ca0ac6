"""The engines' plumbing: caches of compiled programs, compile timing, one training at a time."""

import collections
import contextlib
import functools
import logging
import threading
import time

from . import compile_cache
from ._backend import keras
from ._checks import check_int

__all__ = ["ProgramCache", "PROGRAMS", "ENGINES", "engine_for", "expected_retracing", "quiet_retracing",
           "timed_compile", "one_at_a_time", "momentum_sgd"]


class ProgramCache:
    """Values by key, at most ``maxsize`` of them: the least recently used goes first."""

    def __init__(self, maxsize):
        self._items = collections.OrderedDict()
        self.maxsize = maxsize

    @property
    def maxsize(self):
        return self._maxsize

    @maxsize.setter
    def maxsize(self, value):
        self._maxsize = check_int("maxsize", value, low=1)
        self._evict()

    def get(self, key):
        """The value of ``key`` (now the most recently used), or None."""
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key, value):
        self._items[key] = value
        self._items.move_to_end(key)
        self._evict()
        return value

    def _evict(self):
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def discard(self, predicate):
        """Drop every entry whose key satisfies ``predicate``."""
        self._items = collections.OrderedDict((k, v) for k, v in self._items.items() if not predicate(k))

    def __contains__(self, key):
        return key in self._items

    def __len__(self):
        return len(self._items)

    def keys(self):
        """The keys, least recently used first."""
        return list(self._items)


#: Compiled programs of both engines. Dropping one frees its Python side only: TensorFlow keeps the XLA
#: executable (about 12 MB) for the process's life (benchmarks/bench_memory.py).
PROGRAMS = ProgramCache(maxsize=64)
#: The engines (a compiled model and its optimizer), by engine key.
ENGINES = ProgramCache(maxsize=16)


def engine_for(key, make):
    """The engine of ``key``, made by ``make()`` if not cached; an evicted engine's programs go too."""
    if (engine := ENGINES.get(key)) is None:
        before = set(ENGINES.keys())
        engine = ENGINES.put(key, make())
        gone = before - set(ENGINES.keys())
        PROGRAMS.discard(lambda program: program[0] in gone)
    return engine


def expected_retracing(record):
    """Drop TensorFlow's warning about retracing: each new batch size is meant to compile."""
    return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing():
    logger = logging.getLogger("tensorflow")
    logger.addFilter(expected_retracing)
    try:
        yield
    finally:
        logger.removeFilter(expected_retracing)


def timed_compile(call):
    """Run ``call()`` (a first call that compiles) between the compile cache's checks; its seconds."""
    compile_cache.before_compile()
    start = time.perf_counter()
    with quiet_retracing():
        call()
    seconds = time.perf_counter() - start
    compile_cache.after_compile()
    return seconds


# Engines share variables, so two trainings must not overlap (the explorer trains in a thread).
_TRAINING_LOCK = threading.RLock()


def one_at_a_time(function):
    @functools.wraps(function)
    def locked(*args, **kwargs):
        with _TRAINING_LOCK:
            return function(*args, **kwargs)

    return locked


@functools.cache
def momentum_sgd():
    """Keras's SGD reading its momentum from a variable, so one program serves every momentum.

    Without XLA it is bit for bit Keras's SGD at every momentum (tests/test_training.py); at momentum 0 XLA
    may round it apart from Keras's ``w -= lr * g`` by about 1e-7."""
    ops = keras().ops

    class MomentumSGD(keras().optimizers.SGD):
        def __init__(self, learning_rate=0.01):
            # The constructor's momentum only makes Keras build the momentum slots.
            super().__init__(learning_rate=learning_rate, momentum=0.9)

        def build(self, variables):
            if self.built:
                return
            super().build(variables)
            self.momentum_value = self.add_variable(shape=(), initializer="zeros", dtype="float32",
                                                    name="momentum_value")

        def update_step(self, gradient, variable, learning_rate):
            learning_rate = ops.cast(learning_rate, variable.dtype)
            gradient = ops.cast(gradient, variable.dtype)
            m = self.momentums[self._get_variable_index(variable)]
            momentum = ops.cast(self.momentum_value, variable.dtype)
            self.assign(m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)))
            self.assign_add(variable, m)

    return MomentumSGD
