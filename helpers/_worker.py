"""The explorer's background thread: it serves the newest request, and works ahead while idle.

A request submitted while another waits is merged with it (a burst of slider moves is served once);
warm-up jobs run one at a time while no request waits, ``rest`` seconds after the last one and while
``quiet()``, and a new or busy worker cancels the others' warm-up. Errors go to ``report``. Callbacks
are held weakly; a collected worker closes, and open ones are closed at exit.
"""

import atexit
import inspect
import threading
import time
import weakref

__all__ = ["Worker", "weakly"]

#: How often a worker with warm-up jobs looks again whether it may run them.
POLL_SECONDS = 0.25

_WORKERS = weakref.WeakSet()
_NOTHING = object()


class _OwnerGone(Exception):
    """The object whose bound method a worker calls was garbage-collected."""


def _owner_gone():
    raise _OwnerGone()


def weakly(function, *, gone=None):
    """A callable that calls ``function``, holding a bound method's object weakly: once it is
    collected, calling it calls ``gone()`` instead (or does nothing). Plain functions are kept as is."""
    if not inspect.ismethod(function):
        return function
    method = weakref.WeakMethod(function)

    def call(*args, **kwargs):
        bound = method()
        if bound is None:
            return gone() if gone is not None else None
        return bound(*args, **kwargs)
    return call


@atexit.register
def _close_all():
    for worker in list(_WORKERS):
        worker.close()


class Worker:
    """One background thread calling ``serve(request)`` for the newest request (``merge(old, new)``
    combines an unserved one), then ``warm(job)`` while ``quiet()``; errors go to ``report``."""

    def __init__(self, serve, *, warm, quiet, report, merge, rest, name):
        callbacks = dict(serve=serve, warm=warm, quiet=quiet, report=report, merge=merge)
        for key, function in callbacks.items():
            if not callable(function):
                raise TypeError(f"{key} must be callable, got {function!r}")
        self._serve, self._warm, self._quiet, self._report, self._merge = (
            weakly(f, gone=_owner_gone) for f in callbacks.values())
        self._rest, self._name = float(rest), str(name)
        self._changed = threading.Condition()
        self._pending, self._queue, self._thread = _NOTHING, [], None
        self._busy = self._warming = self._closed = False
        self._last_request = time.monotonic()  # a new worker rests first, as after a request
        for owner in {id(f.__self__): f.__self__ for f in callbacks.values() if inspect.ismethod(f)}.values():
            weakref.finalize(owner, self.close, 0.0)  # no waiting: the owner may go in the worker's thread
        self._cancel_others()  # a new worker is the one in use
        _WORKERS.add(self)

    def submit(self, request):
        """Ask for ``request`` to be served, merged with an unserved one; refused once closed."""
        self._cancel_others()
        with self._changed:
            self._refuse_if_closed("submit")
            if self._pending is not _NOTHING:
                request = self._merge(self._pending, request)
            self._pending, self._last_request = request, time.monotonic()
            self._start()

    def waiting(self):
        """The request submitted and not yet being served, or None."""
        with self._changed:
            return None if self._pending is _NOTHING else self._pending

    def warm_up(self, jobs):
        """Replace the queue of warm-up jobs with ``jobs``, and cancel every other worker's."""
        jobs = list(jobs)
        self._cancel_others()
        with self._changed:
            self._refuse_if_closed("warm up")
            self._queue = jobs
            if jobs:
                self._start()

    def _cancel_others(self):
        for other in list(_WORKERS):
            if other is not self:
                with other._changed:
                    other._queue = []  # a job in progress finishes

    def _refuse_if_closed(self, what):
        if self._closed:
            raise RuntimeError(f"cannot {what}: the worker {self._name!r} is closed")

    def wait(self, timeout, *, warm_up=False):
        """Block until every request so far is served (and, if asked, the warm-up is done);
        False if ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending is not _NOTHING or self._busy or (warm_up and (self._queue or self._warming)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.05))
        return True

    def close(self, timeout=15.0):
        """Stop the thread; wait up to ``timeout`` s for a job in progress. Harmless twice."""
        with self._changed:
            self._closed = True
            self._pending, self._queue = _NOTHING, []
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread() and timeout > 0:
            thread.join(timeout)

    @property
    def closed(self):
        """Whether :meth:`close` was called (or the owner was collected)."""
        return self._closed

    def _start(self):
        """Wake the thread, starting it if there is none; called holding the lock."""
        self._changed.notify_all()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _next(self):
        """Wait for a request or a job; return (request, job), or None to stop."""
        with self._changed:
            while not self._closed and self._pending is _NOTHING and not (
                    self._queue and time.monotonic() - self._last_request >= self._rest and self._quiet()):
                self._changed.wait(POLL_SECONDS if self._queue else None)
            if self._closed:
                return None
            request, self._pending = self._pending, _NOTHING
            job = self._queue.pop(0) if request is _NOTHING else None
            self._busy, self._warming = request is not _NOTHING, request is _NOTHING
            return request, job

    def _run(self):
        try:
            while (task := self._next()) is not None:
                request, job = task
                try:
                    if request is not _NOTHING:
                        self._serve(request)
                    else:
                        self._warm(job)
                except _OwnerGone:
                    raise
                except Exception as error:  # one failed request must not end the thread
                    self._report(error)
                finally:
                    del task, request, job  # hold nothing of the owner while waiting
                    with self._changed:
                        self._busy = self._warming = False
                        self._changed.notify_all()
        except _OwnerGone:
            self.close(0.0)
