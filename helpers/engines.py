"""The engines' plumbing: bounded caches of compiled programs, compile timing, one training at a time.

Compiled programs live in :data:`PROGRAMS` and engines (a compiled model and
its optimizer) in :data:`ENGINES`, both least recently used out first;
:func:`timed_compile` times a compile with TensorFlow's retracing warning
silenced; :func:`one_at_a_time` keeps two trainings from sharing variables at
once; :func:`momentum_sgd` is the SGD whose momentum needs no new compile.
"""

import collections
import contextlib
import functools
import logging
import threading
import time

from . import compile_cache
from ._backend import keras
from ._checks import check_int

__all__ = ["ProgramCache", "PROGRAMS", "ENGINES", "engine_for", "expected_retracing",
           "quiet_retracing", "timed_compile", "TRAINING_LOCK", "one_at_a_time", "momentum_sgd"]


class ProgramCache:
    """Values by key, at most ``maxsize`` of them: the least recently used goes first.

    Compiled programs and engines are kept here, so that a sweep compiles
    once per batch size, while a long session does not keep every program
    it ever compiled.
    """

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
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

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
        for key in [k for k in self._items if predicate(k)]:
            del self._items[key]

    def __contains__(self, key):
        return key in self._items

    def __len__(self):
        return len(self._items)

    def keys(self):
        """The keys, least recently used first."""
        return list(self._items)



#: Compiled epoch or chunk programs of both engines, by program key. 64 hold
#: every batch size of the explorer's slider on its datasets, and any lesson.
#: Dropping a program frees its Python side only: TensorFlow's runtime keeps
#: the XLA executable it compiled (about 12 MB) for the life of the process
#: (benchmarks/bench_memory.py --programs), so the bound is generous and what
#: saves memory is compiling fewer programs (momentum and a given model of the
#: course's architecture share them).
PROGRAMS = ProgramCache(maxsize=64)
#: The engines (a compiled model and its optimizer), by engine key.
ENGINES = ProgramCache(maxsize=16)


def engine_for(key, make):
    """The engine of ``key``, made by ``make()`` if not cached.

    Program keys start with their engine's key (``(engine_key, ...)``), so
    the programs of an engine that leaves the cache leave with it.
    """
    engine = ENGINES.get(key)
    if engine is None:
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
    """Run ``call()`` (a first call that traces and compiles), return its seconds.

    The persistent compile cache is checked first and sealed after
    (:func:`helpers.compile_cache.before_compile`): TensorFlow would fail on a
    damaged stored program, or block on a pipe in its place.
    """
    compile_cache.before_compile()
    start = time.perf_counter()
    with quiet_retracing():
        call()
    seconds = time.perf_counter() - start
    compile_cache.after_compile()
    return seconds


# Engines share variables between runs, so two trainings must not overlap (the
# explorer widget trains in a background thread while a notebook cell may train).
TRAINING_LOCK = threading.RLock()


def one_at_a_time(function):
    @functools.wraps(function)
    def locked(*args, **kwargs):
        with TRAINING_LOCK:
            return function(*args, **kwargs)

    return locked


@functools.cache
def momentum_sgd():
    """Keras's SGD with its momentum in a variable, so one program serves every momentum.

    Keras's SGD bakes ``momentum`` into the compiled program as a constant, so
    each new momentum would compile anew (about a second: the explorer's
    momentum slider would wait for the compiler). This subclass runs Keras's
    own update, ``m = momentum * m - lr * g; w += m``, reading ``momentum``
    from a variable. Without XLA its weights and histories are bit for bit
    those of Keras's SGD at every momentum, 0 included, where Keras runs
    ``w -= lr * g`` instead (tests/test_training.py). With XLA they agree as
    closely as XLA agrees with ``model.fit`` anyway; at momentum 0 XLA may
    round ``w + (0 * m - lr * g)`` and ``w - lr * g`` apart by about 1e-7.
    Both engines use it.
    """
    k = keras()
    ops = k.ops

    class MomentumSGD(k.optimizers.SGD):
        def __init__(self, learning_rate=0.01):
            # The constructor's momentum only makes Keras build the momentum slots.
            super().__init__(learning_rate=learning_rate, momentum=0.9)

        def build(self, variables):
            if self.built:
                return
            super().build(variables)
            self.momentum_value = self.add_variable(shape=(), initializer="zeros",
                                                    dtype="float32", name="momentum_value")

        def update_step(self, gradient, variable, learning_rate):
            learning_rate = ops.cast(learning_rate, variable.dtype)
            gradient = ops.cast(gradient, variable.dtype)
            m = self.momentums[self._get_variable_index(variable)]
            momentum = ops.cast(self.momentum_value, variable.dtype)
            self.assign(m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)))
            self.assign_add(variable, m)

    return MomentumSGD
