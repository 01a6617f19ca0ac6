"""A persistent cache of compiled XLA programs, so a new kernel need not compile again.

:func:`configure` turns TensorFlow's cache on (``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory``) before
TensorFlow's import, in ``platformdirs.user_cache_dir("batch-size-course")/xla/<key>``; the key names the
TensorFlow, Keras and Python versions and hashes the CPU's features and the trainers' source, so no old
program is loaded by another setup (``BATCH_SIZE_COURSE_XLA_CACHE=0``: off). The three newest key folders
are kept. Before every compile the folder is checked (:func:`check`), as TensorFlow fails for the rest of
the process on an entry it cannot read, and blocks on a pipe; a disk with less than 64 MB free turns the
cache off with one warning. :func:`stable_names` makes a trace's program names depend only on what is traced.
"""

import atexit
import contextlib
import hashlib
import itertools
import os
import platform
import shutil
import stat
import sys
import threading
import time
import warnings
from importlib import metadata
from pathlib import Path

__all__ = ["configure", "folder", "cache_key", "check", "seal", "stable_names", "before_compile",
           "SWITCH", "package_version"]

#: The environment variable that turns the cache off (``0``) or on (``1``, the default).
SWITCH = "BATCH_SIZE_COURSE_XLA_CACHE"
_FLAG = "--tf_xla_persistent_cache_directory"
_ON, _OFF = ("", "1", "true", "yes", "on"), ("0", "false", "no", "off")
#: The helpers' modules whose code ends up in a compiled program.
_PROGRAM_SOURCES = ("_backend.py", "compile_cache.py", "models.py", "training.py", "replicas.py",
                    "timing.py", "trace.py", "gradients.py")
_TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel",
                             "tf-nightly", "tf-nightly-cpu")
_SIDECAR, _STALE_TEMPORARY_SECONDS, _SLOT = ".sha256", 3600, 2**20
#: A partial program this young (s) may be being written by another process: waited for (s), then removed.
_WRITING_SECONDS, _WAIT_FOR_WRITER = 120, 2.0
_MIN_FREE = 64 * 2**20   # free disk space below which the cache stays off (one program is about 0.4 MB)
_MAX_PROGRAM = 512 * 2**20   # a larger stored program is not one of the course's (they are under 10 MB)
_KEEP = 3   # key folders kept (the current one included): e.g. two environments used in turn
_state = {"configured": False, "folder": None, "prepared": False, "full": False}
_verified = {}   # path -> (inode, size, mtime) of a file checked whole and sealed


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
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(name)
    return "none"


def _cpu_features():
    """What the compiled machine code depends on: the architecture and the CPU's feature flags."""
    text = platform.machine() + platform.processor()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
        for line in info:
            if line.startswith(("flags", "Features", "model name")):
                text += line
            if not line.strip():  # the first processor is enough
                break
    return text


def cache_key():
    """The name of the cache's subfolder: versions and a hash of what the programs depend on.

    >>> from helpers.compile_cache import cache_key
    >>> cache_key().startswith("tf")
    True
    """
    digest = hashlib.sha256(_cpu_features().encode())
    # XLA_FLAGS can change the machine code (--xla_cpu_max_isa=AVX2): other flags' programs must not be loaded.
    digest.update(os.environ.get("XLA_FLAGS", "").encode())
    here = Path(__file__).resolve().parent
    for name in _PROGRAM_SOURCES:
        digest.update(name.encode() + (here / name).read_bytes())
    python = "".join(map(str, sys.version_info[:2]))
    return (f"tf{package_version(*_TENSORFLOW_DISTRIBUTIONS)}-keras{package_version('keras')}-py{python}-"
            f"{digest.hexdigest()[:16]}")


def _switch():
    value = os.environ.get(SWITCH, "1")
    if value.strip().lower() in _OFF + _ON:
        return value.strip().lower() in _ON
    raise ValueError(f"{SWITCH} must be 1 (the compile cache on) or 0 (off), got {value!r}")


def _entries(path):
    """The paths named like stored programs (never opened here)."""
    try:
        return sorted(p for p in path.iterdir() if p.name.endswith(".pb"))
    except OSError:
        return []


def _varint(data, at):
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a number runs past the end")
        value |= (data[at] & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not data[at - 1] & 0x80:
            return value, at


def _fields(data):
    """The top-level (number, value) fields of a protobuf message; ValueError if it is not whole."""
    at, out = 0, []
    while at < len(data):
        tag, at = _varint(data, at)
        number, kind = tag >> 3, tag & 7
        if kind == 0:
            value, at = _varint(data, at)
        elif kind == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise ValueError("a field runs past the end (cut short?)")
            value, at = data[at:at + length], at + length
        else:
            raise ValueError(f"field {number} has wire type {kind}, which a cache entry never uses")
        out.append((number, value))
    return out


def _entry_problem(path, data):
    """Why ``data`` is not TensorFlow's cache entry for ``path``'s name, or None.

    ``XlaSerializedCacheEntry``: 1 the key (1 signature fingerprint, 2 cluster fingerprint, 3 device type,
    4 prefix), 2 the HLO module, 3 the executable; the file is ``<prefix>__<signature>__<cluster>__<device>.pb``.
    """
    try:
        fields = dict(_fields(data))
        key = dict(_fields(fields[1]))
        name = "__".join(([key[4].decode()] if key.get(4) else []) +
                         [str(key[1]), str(key[2]), key[3].decode()]) + ".pb"
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        return f"it is not a TensorFlow cache entry ({error})"
    if name != path.name:
        return f"it holds the entry of another program ({name})"
    if not fields.get(2) or not fields.get(3):
        return "its compiled program or its HLO module is missing"
    return None


def _check_entry(entry, now):
    """Check one path named like a program; return a reason to delete it, "" to keep it."""
    info = entry.lstat()
    if not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a named pipe" if stat.S_ISFIFO(info.st_mode)
                else "a link" if stat.S_ISLNK(info.st_mode) else "a special file")
        return f"it is {kind}, not a file"
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    if _verified.get(entry) == stamp:
        return ""
    sidecar = entry.with_name(entry.name + _SIDECAR)
    try:
        expected = sidecar.read_text().strip()
        # Written since sealed: another process compiled the same program (bytes may differ) or is writing it.
        rewritten = info.st_mtime_ns > sidecar.stat().st_mtime_ns
    except OSError:
        expected, rewritten = None, False
    if info.st_size > _MAX_PROGRAM:
        return f"it holds {info.st_size:,} bytes, more than a program of the course"
    problem = _entry_problem(entry, data := entry.read_bytes())
    if problem is not None and (expected is None or rewritten) and now - info.st_mtime < _WRITING_SECONDS:
        # Perhaps another process is writing it: wait, or TensorFlow reads half a program and fails for good.
        deadline = time.monotonic() + _WAIT_FOR_WRITER
        while problem is not None and time.monotonic() < deadline:
            time.sleep(0.05)
            problem = _entry_problem(entry, data := entry.read_bytes())
        info = entry.lstat()
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    if problem is not None:
        return problem if expected is not None else "unsealed"
    digest = hashlib.sha256(data).hexdigest()
    if expected is not None and digest != expected:
        # A rewrite is deleted quietly, never sealed: TensorFlow does not check the bytes; edited ones can crash it.
        return "unsealed" if rewritten else "its bytes no longer match its SHA-256 sidecar"
    if expected is None:
        # Only a whole entry is sealed: sealing another's half-written file would make the finished one look damaged.
        temporary = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(digest)
            os.replace(temporary, sidecar)
        except OSError:
            temporary.unlink(missing_ok=True)   # a full disk leaves no temporary file behind
    if (entry.lstat().st_ino, entry.lstat().st_size, entry.lstat().st_mtime_ns) == stamp:
        _verified[entry] = stamp
    return ""


def check(path):
    """Delete the stored programs of ``path`` that cannot be trusted; return how many.

    Not a plain file: removed unopened; not TensorFlow's entry for its name, or bytes that no longer match
    its sidecar: deleted with a warning naming it. A whole unsealed entry is sealed; a fresh partial one is
    waited for (another process may be writing it), then deleted quietly if still partial and never sealed.
    Temporary files older than an hour are deleted.
    """
    path = Path(path)
    removed, now = 0, time.time()
    for entry in _entries(path):
        try:
            reason = _check_entry(entry, now)
        except OSError as error:
            reason = f"it cannot be read ({error})"
        if not reason:
            continue
        if reason != "unsealed":
            warnings.warn(f"compiled-program cache file {entry} is damaged ({reason}); deleted, "
                          f"it will be compiled again", RuntimeWarning, stacklevel=2)
        _verified.pop(entry, None)
        with contextlib.suppress(OSError):   # removed unopened (a folder with what it holds)
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            entry.with_name(entry.name + _SIDECAR).unlink(missing_ok=True)
        removed += 1
    others = []
    with contextlib.suppress(OSError):
        others = list(path.iterdir())
    for other in others:
        with contextlib.suppress(OSError):
            orphan = other.name.endswith(_SIDECAR) and not os.path.lexists(
                other.with_name(other.name.removesuffix(_SIDECAR)))
            stale = other.suffix == ".tmp" and now - other.lstat().st_mtime > _STALE_TEMPORARY_SECONDS
            if orphan or stale:
                other.unlink(missing_ok=True)
    return removed


def seal():
    """Check and seal the stored programs: each whole one gets its SHA-256 sidecar.

    The trainers call it after compiling; it also runs at exit, for programs of ``model.fit``. Without a
    cache, or in a process that compiled nothing through helpers, it does nothing (programs compiled only
    by ``model.fit`` are sealed at the next process's first compile).
    """
    path = folder()
    if path is not None and _state["prepared"]:   # a process that compiled nothing touches nothing
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # damage is reported before the next compile
            check(path)


def _space_problem(path):
    """Why ``path`` cannot take new programs (unwritable, disk nearly full), or None."""
    if not os.access(path, os.W_OK | os.X_OK):
        return "the folder cannot be written"
    try:
        free = shutil.disk_usage(path).free
    except OSError as error:
        return f"its free space cannot be read ({error})"
    if free < _MIN_FREE:
        return f"its disk has {free / 2**20:.1f} MB free, less than {_MIN_FREE // 2**20} MB"
    return None


def before_compile():
    """Make the cache safe for the compile about to run (the trainers call it first).

    The first time, old key folders are deleted (never at import). Every time, the programs are checked
    (:func:`check`): TensorFlow would fail on a bad one, or block on a pipe. With the disk nearly full, new
    programs are deleted after each compile (:func:`after_compile`), with one warning.
    """
    path = folder()
    if path is None:
        return
    if not _state["prepared"]:
        _state["prepared"] = True
        with contextlib.suppress(OSError):
            path.mkdir(parents=True, exist_ok=True)
            os.utime(path)
            # Keep the _KEEP most recently used key folders: each upgrade or changed trainer starts one. A
            # process still using a deleted folder only compiles again (TensorFlow recreates it).
            others = sorted((p for p in path.parent.iterdir() if p.is_dir() and p != path),
                            key=lambda p: p.stat().st_mtime, reverse=True)
            for old in others[_KEEP - 1:]:
                shutil.rmtree(old, ignore_errors=True)
    check(path)
    problem = _space_problem(path)
    if problem and not _state["full"]:
        warnings.warn(f"the compiled-program cache stops keeping new programs: {path}: {problem}; "
                      f"training goes on, compiling as without the cache", RuntimeWarning, stacklevel=2)
    _state["full"] = bool(problem)
    _state["before"] = {p.name for p in _entries(path)}


def after_compile():
    """Seal what the compile stored, or, with the disk nearly full, delete it again."""
    if folder() is None or not _state["full"]:
        return seal()
    for entry in _entries(folder()):
        if entry.name not in _state.get("before", ()):
            entry.unlink(missing_ok=True)


def configure():
    """Turn the cache on if allowed (once per process, before TensorFlow's import); its folder or None.

    Off: the switch, TensorFlow already imported, a ``TF_XLA_FLAGS`` naming its own folder, an
    unwritable folder or a full disk, a path holding both ``'`` and ``"`` (all but the switch and
    the user's own folder warn). Deletes nothing. A switch other than 0 or 1 raises ValueError.
    """
    if _state["configured"]:
        return _state["folder"]
    switch = _switch()
    _state["configured"] = True
    if not switch:
        return None
    import platformdirs

    path = Path(platformdirs.user_cache_dir("batch-size-course", appauthor=False)) / "xla" / cache_key()
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if _FLAG in flags:
        # A folder of the user's own is left alone; ours, inherited from a parent process, is on.
        if f"{_FLAG}={_quoted(path)}" in flags:
            _state["folder"] = path
            atexit.register(seal)
        return _state["folder"]
    if "tensorflow" in sys.modules:
        warnings.warn("the compiled-program cache is off: TensorFlow was imported before helpers, "
                      "and reads its flags at import; import helpers first (or restart the kernel)",
                      RuntimeWarning, stacklevel=3)
        return None
    if '"' in str(path) and "'" in str(path):
        warnings.warn(f"the compiled-program cache is off: its folder {path} holds both kinds of "
                      f"quote, which TF_XLA_FLAGS cannot carry", RuntimeWarning, stacklevel=3)
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
        problem = _space_problem(path)
    except OSError as error:
        problem = f"cannot make it ({error})"
    if problem:
        warnings.warn(f"the compiled-program cache is off: {path}: {problem}", RuntimeWarning, stacklevel=3)
        return None
    os.environ["TF_XLA_FLAGS"] = f"{flags} {_FLAG}={_quoted(path)}".strip()
    # Loading a program logs a harmless CPU-feature mismatch ("+prefer-no-gather") as an error under every cell.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _state["folder"] = path
    atexit.register(seal)
    return path


def _quoted(path):
    """``path`` as TF_XLA_FLAGS takes it: quoted when it holds a space or a quote."""
    text = str(path)
    quote = "'" if '"' in text else '"'
    return f"{quote}{text}{quote}" if any(c.isspace() or c in "\"'" for c in text) else text


_local, _uses, _uses_lock, _patched = threading.local(), {}, threading.Lock(), []


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


@contextlib.contextmanager
def stable_names(*key):
    """Trace inside this block with names that depend on ``key``, not on the process's history.

    TensorFlow numbers traced functions, tensors and loop bodies from one process-wide counter, and the
    cache finds a program by those names. Inside the block (this thread) the numbers come from a range
    picked by a hash of ``key`` and of how often this process used it: the same trace gets the same names
    in every process, two traces in one process never share one. ``key`` need only be the same for the
    same program in every process (e.g. trainer, model name, input shapes, batch size); a coarse key
    costs cache hits, never correctness.
    """
    if getattr(_local, "counter", None) is not None or not _install_uid():
        yield  # nested, or a TensorFlow without the counter: names as usual
        return
    with _uses_lock:
        occurrence = _uses.get(key, 0)
        _uses[key] = occurrence + 1
    digest = int.from_bytes(hashlib.sha256(repr((key, occurrence)).encode()).digest()[:8], "big")
    # 2**40 slots of 2**20 names each, far above the process counter; int64-safe. A trace that outgrows its
    # slot goes on with the process counter's numbers.
    start = 2**61 + digest % 2**40 * _SLOT
    _local.counter = itertools.chain(range(start, start + _SLOT), iter(_patched[0], None))
    try:
        yield
    finally:
        _local.counter = None
