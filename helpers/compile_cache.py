"""A persistent cache of compiled XLA programs, so a new kernel need not compile again.

Compiling the course's training programs with XLA takes about a second each,
and every fresh kernel ("Restart and run all", the next lesson) used to pay
it again. TensorFlow can keep compiled programs on disk
(``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=...``); :func:`configure`
turns that on before TensorFlow is imported, in a per-user cache folder:

- ``platformdirs.user_cache_dir("batch-size-course")/xla/<key>``, e.g.
  ``~/.cache/batch-size-course/xla/...`` on Linux, Binder and Colab (which
  honours ``XDG_CACHE_HOME``). The key names the TensorFlow and Keras
  versions, the Python version and a hash of the CPU's features and of the
  helpers' source files that build compiled programs, so a different
  TensorFlow, another machine or a changed trainer never loads an old
  program. (TensorFlow itself also checks that a stored program was compiled
  from the same XLA computation.)
- ``BATCH_SIZE_COURSE_XLA_CACHE=0`` turns it off; a ``TF_XLA_FLAGS`` of your
  own is kept (the flag is appended), and one that already names a persistent
  cache folder is left alone.
- The three most recently used key folders are kept, older ones deleted.
- Every stored program gets a SHA-256 sidecar once it is written. At start-up
  a program whose bytes no longer match is deleted with a warning naming the
  file, and compiled again when needed; one without a sidecar (its kernel
  stopped before sealing it) is deleted quietly. A damaged file never reaches
  TensorFlow, which would fail the compilation instead of redoing it.

TensorFlow names a traced program by a process-wide counter, and the stored
programs are looked up by that name, so a program traced after a different
history (a sweep read from its cache instead of trained, another lesson)
would never be found. :func:`stable_names` makes the names of one trace
depend only on what is traced: the trainers trace inside it.
"""

import atexit
import contextlib
import hashlib
import os
import platform
import shutil
import sys
import threading
import time
import warnings
from importlib import metadata
from pathlib import Path

__all__ = ["configure", "folder", "cache_key", "check", "seal", "stable_names", "SWITCH"]

#: The environment variable that turns the cache off (``0``) or on (``1``, the default).
SWITCH = "BATCH_SIZE_COURSE_XLA_CACHE"
_FLAG = "--tf_xla_persistent_cache_directory"
_ON, _OFF = ("", "1", "true", "yes", "on"), ("0", "false", "no", "off")
#: The helpers' modules whose code ends up in a compiled program.
_PROGRAM_SOURCES = ("_backend.py", "compile_cache.py", "models.py", "training.py", "replicas.py",
                    "timing.py", "trace.py", "gradients.py")
_TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel",
                             "tf-nightly", "tf-nightly-cpu")
_SIDECAR = ".sha256"
_STALE_TEMPORARY_SECONDS = 3600
_SLOT = 2**20
#: Key folders kept (the current one included): e.g. two environments used in turn.
_KEEP = 3
_state = {"configured": False, "folder": None}


def folder():
    """The folder of this process's persistent XLA cache, or None when it is off.

    >>> import helpers
    >>> from helpers import compile_cache
    >>> compile_cache.folder() is None or compile_cache.folder().is_dir()
    True
    """
    return _state["folder"]


def package_version(*names):
    """The installed version of the first of ``names`` that is installed, else "none"."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "none"


def _cpu_features():
    """What the compiled machine code depends on: the architecture and the CPU's feature flags."""
    text = platform.machine() + platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith(("flags", "Features", "model name")):
                    text += line
                if not line.strip():  # the first processor is enough
                    break
    except OSError:
        pass
    return text


def cache_key():
    """The name of the cache's subfolder: versions and a hash of what the programs depend on.

    >>> from helpers.compile_cache import cache_key
    >>> cache_key().startswith("tf")
    True
    """
    digest = hashlib.sha256(_cpu_features().encode())
    # XLA_FLAGS can change the machine code (--xla_cpu_max_isa=AVX2 simulates another CPU):
    # programs compiled under other flags must not be loaded.
    digest.update(os.environ.get("XLA_FLAGS", "").encode())
    here = Path(__file__).resolve().parent
    for name in _PROGRAM_SOURCES:
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    python = "".join(map(str, sys.version_info[:2]))
    return (f"tf{package_version(*_TENSORFLOW_DISTRIBUTIONS)}-keras{package_version('keras')}-py{python}-"
            f"{digest.hexdigest()[:16]}")


def _switch():
    value = os.environ.get(SWITCH, "1")
    if value.strip().lower() in _OFF:
        return False
    if value.strip().lower() in _ON:
        return True
    raise ValueError(f"{SWITCH} must be 1 (the compile cache on) or 0 (off), got {value!r}")


def _entries(path):
    return sorted(p for p in path.glob("*.pb") if p.is_file())


def _digest(path):
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def check(path):
    """Delete the stored programs of ``path`` that cannot be trusted; return how many.

    A program whose SHA-256 no longer matches its sidecar is deleted with a
    warning that names the file; one without a sidecar is deleted quietly;
    so are leftover temporary files older than an hour.
    """
    removed = 0
    for entry in _entries(path):
        sidecar = entry.with_name(entry.name + _SIDECAR)
        try:
            expected = sidecar.read_text().strip()
        except OSError:
            expected = None
        try:
            damaged = expected is not None and _digest(entry) != expected
        except OSError:
            damaged = True
        if expected is None or damaged:
            if damaged:
                warnings.warn(f"compiled-program cache file {entry} is damaged; deleted, "
                              f"it will be compiled again", RuntimeWarning, stacklevel=2)
            entry.unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
            removed += 1
    now = time.time()
    for other in path.iterdir():
        try:
            orphan = other.name.endswith(_SIDECAR) and not other.with_name(
                other.name.removesuffix(_SIDECAR)).exists()
            stale = other.suffix == ".tmp" and now - other.stat().st_mtime > _STALE_TEMPORARY_SECONDS
            if orphan or stale:
                other.unlink(missing_ok=True)
        except OSError:
            pass
    return removed


def seal():
    """Write the SHA-256 sidecar of every stored program that has none yet.

    The trainers call it after compiling, and it runs when Python exits, for
    programs compiled elsewhere (``model.fit``). Without a cache it does nothing.
    """
    path = folder()
    if path is None:
        return
    for entry in _entries(path):
        sidecar = entry.with_name(entry.name + _SIDECAR)
        if sidecar.exists():
            continue
        try:
            temporary = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.tmp")
            temporary.write_text(_digest(entry))
            os.replace(temporary, sidecar)
        except OSError:
            pass  # unsealed: deleted at the next start, and compiled again then


def _prune(path):
    """Keep the ``_KEEP`` most recently used key folders beside ``path``; delete the others.

    Each TensorFlow upgrade or changed trainer starts a new folder; without
    this, old programs would pile up. A process still using a deleted folder
    only compiles again (TensorFlow recreates the folder to store a program).
    """
    others = [p for p in path.parent.iterdir() if p.is_dir() and p != path]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[_KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def configure():
    """Turn the persistent XLA cache on, if allowed; must run before TensorFlow is imported.

    Returns the cache folder, or None when the cache is off: turned off by
    ``BATCH_SIZE_COURSE_XLA_CACHE=0``, TensorFlow already imported (its flags
    are read then), a ``TF_XLA_FLAGS`` that names a cache folder of its own,
    or a cache folder that cannot be written (or whose path holds a space,
    which ``TF_XLA_FLAGS`` cannot carry). Runs once per process.

    Raises
    ------
    ValueError
        If ``BATCH_SIZE_COURSE_XLA_CACHE`` is neither 0 nor 1; the message
        names the variable and echoes its value.
    """
    if _state["configured"]:
        return _state["folder"]
    if not _switch() or "tensorflow" in sys.modules:
        _state["configured"] = True
        return None
    _state["configured"] = True
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if _FLAG in flags:
        return None
    import platformdirs

    path = Path(platformdirs.user_cache_dir("batch-size-course", appauthor=False)) / "xla" / cache_key()
    if any(c.isspace() or c in "\"'" for c in str(path)):
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".writable.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
        os.utime(path)
        _prune(path)
        check(path)
    except OSError as error:
        warnings.warn(f"the compiled-program cache is off: cannot write {path} ({error})",
                      RuntimeWarning, stacklevel=2)
        return None
    os.environ["TF_XLA_FLAGS"] = f"{flags} {_FLAG}={path}".strip()
    # Loading a stored program logs a harmless CPU-feature mismatch ("+prefer-no-gather")
    # as an error, which a notebook would show under every cell that trains.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _state["folder"] = path
    atexit.register(seal)
    return path


_local = threading.local()
_uses = {}
_uses_lock = threading.Lock()
_patched = []


def _install_uid():
    """Route TensorFlow's name counter through the current :func:`stable_names` block, if any."""
    if _patched:
        return True
    try:
        from tensorflow.python.framework import ops
    except ImportError:
        return False
    original = getattr(ops, "uid", None)
    if not callable(original):
        return False

    def uid():
        counter = getattr(_local, "counter", None)
        return original() if counter is None else next(counter)

    ops.uid = uid
    _patched.append(original)
    return True


def _numbers(start):
    """The numbers of one slot, then (a trace that outgrew it) the process counter's."""
    yield from range(start, start + _SLOT)
    while True:
        yield _patched[0]()


@contextlib.contextmanager
def stable_names(*key):
    """Trace inside this block with names that depend on ``key``, not on the process's history.

    TensorFlow numbers every traced function, tensor and loop body from one
    process-wide counter, and the persistent cache finds a program by those
    names. Inside the block (on this thread) the numbers come from a range of
    their own, picked by a hash of ``key`` and of how often this process used
    that key before: the same trace gets the same names in every process,
    while two traces in one process never share a name. ``key`` only needs to
    be the same for the same program in every process (for example the
    trainer, the model's name, the input shapes and the batch size); a
    coarse key costs cache hits, never correctness.
    """
    if getattr(_local, "counter", None) is not None or not _install_uid():
        yield  # nested, or a TensorFlow without the counter: names as usual
        return
    with _uses_lock:
        occurrence = _uses.get(key, 0)
        _uses[key] = occurrence + 1
    digest = int.from_bytes(hashlib.sha256(repr((key, occurrence)).encode()).digest()[:8], "big")
    # 2**40 slots of 2**20 names each, far above the process counter; int64-safe.
    _local.counter = _numbers(2**61 + digest % 2**40 * _SLOT)
    try:
        yield
    finally:
        _local.counter = None
