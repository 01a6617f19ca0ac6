"""A background thread that serves the newest request, and works ahead while nothing waits.

:class:`Worker` is the explorer's training thread without any widget, so that
its rules can be tested (and reused) on their own:

- **the newest request wins**: a request submitted while another waits
  replaces it (or is merged with it), so a burst of slider moves is served
  once, for the last value, instead of queueing one training per move;
- **cancellation**: the code serving a request can ask :meth:`Worker.waiting`
  whether a newer one arrived, and drop its stale work;
- **warm-up**: jobs queued with :meth:`Worker.warm_up` run one at a time, only
  while no request waits, ``rest`` seconds after the last request and while
  ``quiet()`` says so (the explorer compiles ahead while the kernel is idle);
  only the worker in use warms up: making one, or giving one work, cancels the
  others' warm-up;
- **errors** from a request or a job go to ``report`` and the thread goes on;
  a thread that died anyway is replaced by the next request;
- **lifetime**: bound methods are held weakly, so a worker never keeps its
  owner alive; when the owner is garbage-collected the worker closes and its
  thread ends. Every worker still open at interpreter exit is closed, waiting
  for a job in progress, so that Python never stops inside TensorFlow.
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


def weakly(function, *, gone=None):
    """A callable that calls ``function``, holding a bound method's object weakly.

    Once that object is garbage-collected, calling it calls ``gone()`` instead
    (or does nothing). Plain functions are held as they are.
    """
    if not inspect.ismethod(function):
        return function
    method = weakref.WeakMethod(function)

    def call(*args, **kwargs):
        bound = method()
        if bound is None:
            return gone() if gone is not None else None
        return bound(*args, **kwargs)

    return call


def _owner_gone():
    raise _OwnerGone()


def _hold(function, name):
    if function is None:
        return None
    if not callable(function):
        raise TypeError(f"{name} must be callable, got {function!r}")
    return weakly(function, gone=_owner_gone)


def _close_all():
    for worker in list(_WORKERS):
        worker.close()


atexit.register(_close_all)


class Worker:
    """One background thread serving the newest request, then optional warm-up jobs.

    Parameters
    ----------
    serve : callable(request)
        Called in the thread for each request served.
    warm : callable(job), optional
        Called in the thread for each warm-up job.
    quiet : callable() -> bool, optional
        Warm-up jobs run only while this returns True (default: always).
    report : callable(error), optional
        Called in the thread with an exception that ``serve`` or ``warm``
        raised; the thread goes on serving. Default: the error is dropped.
    merge : callable(old, new) -> request, optional
        How a request combines with the unserved one it replaces
        (default: the new one replaces it).
    rest : float, default 0
        Seconds after the last request (or the worker's creation) before
        warm-up may run: a learner moving a control is served first.
    name : str, default "worker"
        The thread's name.

    Bound methods (``self.method``) are held weakly: when their object is
    garbage-collected, the worker closes itself and its thread ends.

    Examples
    --------
    >>> served = []
    >>> worker = Worker(served.append)
    >>> worker.submit("a")
    >>> worker.wait(5)
    True
    >>> served
    ['a']
    >>> worker.close()
    """

    def __init__(self, serve, *, warm=None, quiet=None, report=None, merge=None, rest=0.0,
                 name="worker"):
        self._serve = _hold(serve, "serve")
        if self._serve is None:
            raise TypeError("serve must be callable, got None")
        self._warm = _hold(warm, "warm")
        self._quiet = _hold(quiet, "quiet")
        self._report = _hold(report, "report")
        self._merge = _hold(merge, "merge")
        if isinstance(rest, bool) or not isinstance(rest, (int, float)) or not rest >= 0:
            raise ValueError(f"rest must be a number of seconds >= 0, got {rest!r}")
        self._rest, self._name = float(rest), str(name)
        self._changed = threading.Condition()
        self._pending = _NOTHING
        self._queue = []
        self._busy = self._warming = self._closed = False
        self._last_request = time.monotonic()  # a new worker rests first, as after a request
        self._thread = None
        owners = {id(f.__self__): f.__self__ for f in (serve, warm, quiet, report, merge)
                  if inspect.ismethod(f)}
        for owner in owners.values():
            # No waiting: the owner may be collected in the worker's own thread.
            weakref.finalize(owner, self.close, 0.0)
        self._cancel_others()  # a new worker is the one in use
        _WORKERS.add(self)

    # --- asking ---------------------------------------------------------

    def submit(self, request):
        """Ask for ``request`` to be served; it replaces (or merges with) an unserved one.

        Raises
        ------
        RuntimeError
            If the worker is closed.
        """
        self._cancel_others()
        with self._changed:
            self._refuse_if_closed("submit")
            if self._pending is not _NOTHING and self._merge is not None:
                request = self._merge(self._pending, request)
            self._pending = request
            self._last_request = time.monotonic()
            self._changed.notify_all()
            self._start()

    def waiting(self):
        """The request submitted and not yet being served, or None.

        Code serving a request calls this to learn whether a newer one came in.
        """
        with self._changed:
            return None if self._pending is _NOTHING else self._pending

    def warm_up(self, jobs):
        """Replace the queue of warm-up jobs with ``jobs`` (served in order).

        Cancels the warm-up of every other worker: only the one in use works ahead.

        Raises
        ------
        RuntimeError
            If the worker is closed.
        """
        if self._warm is None:
            raise RuntimeError("this worker has no warm function: pass warm=... to queue jobs")
        jobs = list(jobs)
        self._cancel_others()
        with self._changed:
            self._refuse_if_closed("warm up")
            self._queue = jobs
            self._changed.notify_all()
            if jobs:
                self._start()

    def cancel_warm_up(self):
        """Drop the warm-up jobs not yet started (one in progress finishes)."""
        with self._changed:
            self._queue = []
            self._changed.notify_all()

    def _cancel_others(self):
        for other in list(_WORKERS):
            if other is not self:
                other.cancel_warm_up()

    def _refuse_if_closed(self, what):
        if self._closed:
            raise RuntimeError(f"cannot {what}: the worker {self._name!r} is closed")

    # --- waiting and closing -------------------------------------------

    def wait(self, timeout=120.0, *, warm_up=False):
        """Block until every request so far is served (and, if asked, the warm-up is done).

        Returns
        -------
        bool
            False if ``timeout`` seconds passed first.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while (self._pending is not _NOTHING or self._busy
                   or (warm_up and (self._queue or self._warming))):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.05))
        return True

    def close(self, timeout=15.0):
        """Stop the thread: no more requests or jobs; wait up to ``timeout`` s for one in progress.

        Closing twice, or from the worker's own thread, is harmless.
        """
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

    @property
    def running(self):
        """Whether the worker's thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    # --- the thread -----------------------------------------------------

    def _start(self):
        """Start the thread if there is none (or it died); called holding the lock."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _may_warm(self):
        if not self._queue or time.monotonic() - self._last_request < self._rest:
            return False
        return self._quiet is None or self._quiet()

    def _next(self):
        """Wait for a request or a job; return (request, job), or None to stop."""
        with self._changed:
            while not self._closed and self._pending is _NOTHING and not self._may_warm():
                self._changed.wait(POLL_SECONDS if self._queue else None)
            if self._closed:
                return None
            request, self._pending = self._pending, _NOTHING
            job = self._queue.pop(0) if request is _NOTHING else None
            self._busy, self._warming = request is not _NOTHING, request is _NOTHING
            return request, job

    def _run(self):
        try:
            while True:
                task = self._next()
                if task is None:
                    return
                request, job = task
                try:
                    if request is not _NOTHING:
                        self._serve(request)
                    else:
                        self._warm(job)
                except _OwnerGone:
                    raise
                except Exception as error:  # one failed request must not end the thread
                    if self._report is not None:
                        self._report(error)
                finally:
                    del task, request, job  # hold nothing of the owner while waiting
                    with self._changed:
                        self._busy = self._warming = False
                        self._changed.notify_all()
        except _OwnerGone:
            self.close(0.0)
