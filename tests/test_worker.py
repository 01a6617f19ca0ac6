"""helpers._worker: the explorer's background thread, without any widget."""

import gc
import threading
import time

import pytest

from helpers._worker import Worker


class Recorder:
    """An owner whose bound methods the worker calls; ``gate`` holds the first request up."""

    def __init__(self):
        self.served, self.warmed, self.errors = [], [], []
        self.gate = threading.Event()
        self.gate.set()
        self.is_quiet = True

    def serve(self, request):
        self.gate.wait(30)
        if isinstance(request, BaseException):
            raise request
        self.served.append(request)

    def warm(self, job):
        if isinstance(job, BaseException):
            raise job
        self.warmed.append(job)

    def quiet(self):
        return self.is_quiet

    def report(self, error):
        self.errors.append(error)

    def merge(self, old, new):
        return new


def make(owner, *, rest=0.0, name="test-worker", **callbacks):
    """A worker calling ``owner``'s methods (or the ``callbacks`` given instead)."""
    held = dict(serve=owner.serve, warm=owner.warm, quiet=owner.quiet, report=owner.report,
                merge=owner.merge)
    return Worker(**{**held, **callbacks}, rest=rest, name=name)


def running(worker):
    """Whether the worker's thread is alive (the worker no longer says; the explorer never asks)."""
    return worker._thread is not None and worker._thread.is_alive()


@pytest.fixture
def owner():
    return Recorder()


@pytest.fixture
def worker(owner):
    worker = make(owner)
    yield worker
    worker.close()


def test_requests_are_served_in_the_thread(worker, owner):
    worker.submit(1)
    assert worker.wait(10)
    worker.submit(2)
    assert worker.wait(10)
    assert owner.served == [1, 2] and running(worker)


def test_a_burst_is_served_once_for_its_newest_request(worker, owner):
    owner.gate.clear()
    worker.submit("first")  # being served, held at the gate
    deadline = time.monotonic() + 10
    while worker.waiting() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    for request in range(10):
        worker.submit(request)
    assert worker.waiting() == 9  # the newest replaced every unserved one
    owner.gate.set()
    assert worker.wait(10)
    assert owner.served == ["first", 9]


def test_merge_combines_a_request_with_the_one_it_replaces(owner):
    worker = make(owner, merge=lambda old, new: old + new)
    owner.gate.clear()
    worker.submit([0])
    while worker.waiting() is not None:
        time.sleep(0.01)
    worker.submit([1])
    worker.submit([2])
    owner.gate.set()
    assert worker.wait(10)
    assert owner.served == [[0], [1, 2]]
    worker.close()


def test_serving_code_sees_a_newer_request_and_can_drop_stale_work(owner):
    started, outcomes = threading.Event(), []

    def serve(request):
        if request == "slow":
            started.set()
            deadline = time.monotonic() + 10
            while worker.waiting() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            outcomes.append("slow dropped" if worker.waiting() is not None else "slow finished")
        else:
            outcomes.append(request)

    worker = make(owner, serve=serve)
    worker.submit("slow")
    assert started.wait(10)
    worker.submit("new")
    assert worker.wait(20)
    assert outcomes == ["slow dropped", "new"]
    worker.close()


def test_an_error_is_reported_and_the_next_request_is_served(worker, owner):
    worker.submit(RuntimeError("the trainer broke"))
    assert worker.wait(10)
    assert [str(e) for e in owner.errors] == ["the trainer broke"]
    worker.submit("after")
    assert worker.wait(10) and owner.served == ["after"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_thread_is_replaced_by_the_next_request(worker, owner):
    worker.submit(SystemExit())  # not an Exception: it gets past the catch and ends the thread
    assert worker.wait(10)
    deadline = time.monotonic() + 10
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not running(worker) and owner.errors == []
    worker.submit("again")
    assert worker.wait(10) and owner.served == ["again"] and running(worker)


def test_warm_up_runs_only_while_quiet_and_after_requests(worker, owner):
    owner.is_quiet = False
    worker.warm_up(["a", "b"])
    assert not worker.wait(0.6, warm_up=True)  # not quiet: nothing warms
    assert owner.warmed == []
    worker.submit("request")
    assert worker.wait(10) and owner.served == ["request"] and owner.warmed == []
    owner.is_quiet = True
    assert worker.wait(10, warm_up=True)
    assert owner.warmed == ["a", "b"]


def test_warm_up_waits_for_the_controls_to_rest(owner):
    worker = make(owner, rest=0.8)
    worker.submit("move")
    worker.warm_up(["job"])
    assert worker.wait(10) and owner.warmed == []
    assert worker.wait(10, warm_up=True) and owner.warmed == ["job"]
    worker.close()


def test_a_failed_warm_up_job_is_reported_and_the_rest_go_on(worker, owner):
    worker.warm_up([ValueError("compile failed"), "next"])
    assert worker.wait(10, warm_up=True)
    assert [str(e) for e in owner.errors] == ["compile failed"] and owner.warmed == ["next"]


def test_only_the_worker_in_use_warms_up(owner):
    other = Recorder()
    old = make(other, name="old")
    new = make(owner, name="new")
    other.is_quiet = owner.is_quiet = False
    old.warm_up(["old job"])
    new.warm_up(["new job"])  # as a re-run cell makes a new explorer
    other.is_quiet = owner.is_quiet = True
    assert new.wait(10, warm_up=True) and old.wait(10, warm_up=True)
    assert owner.warmed == ["new job"] and other.warmed == []
    for worker in (old, new):
        worker.close()


def test_wait_says_when_it_timed_out(worker, owner):
    owner.gate.clear()
    worker.submit("held")
    assert worker.wait(0.2) is False
    owner.gate.set()
    assert worker.wait(10)


def test_close_stops_the_thread_and_refuses_more(worker, owner):
    worker.submit(1)
    worker.close()
    assert worker.closed and not running(worker)
    with pytest.raises(RuntimeError, match="cannot submit: the worker 'test-worker' is closed"):
        worker.submit(2)
    with pytest.raises(RuntimeError, match="cannot warm up: the worker 'test-worker' is closed"):
        worker.warm_up(["job"])
    worker.close()  # twice is harmless


def test_a_collected_owner_closes_the_worker_and_ends_its_thread():
    owner = Recorder()
    worker = make(owner, name="collected-owner")
    worker.submit("request")
    assert worker.wait(10) and running(worker)
    del owner
    gc.collect()
    deadline = time.monotonic() + 10
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.closed and not running(worker)


def test_a_callback_that_is_not_callable_is_named(owner):
    with pytest.raises(TypeError, match="warm must be callable, got 3"):
        make(owner, warm=3)
