"""The persistent cache of compiled XLA programs (helpers.compile_cache), across processes.

Each run below is a fresh Python process with its own per-user cache folder
(``XDG_CACHE_HOME`` in a temporary folder), as a new kernel would be.
"""

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import helpers
from helpers import compile_cache

ROOT = Path(__file__).resolve().parents[1]

# Both trainers, at two batch sizes, in an order a second process reverses.
TRAIN = """
import json, sys, warnings
warnings.simplefilter("always")
import helpers
from helpers import compile_cache
data = helpers.load_blobs()
order = [int(b) for b in sys.argv[1:]]
runs = {}
for b in order:
    r = helpers.train(data, batch_size=b, epochs=3, learning_rate=0.01, seed=1)
    runs[f"train {b}"] = r.history
for r in helpers.train_replicas(data, batch_size=16, epochs=3, learning_rates=[0.01, 0.1],
                                seeds=[0, 1]):
    runs[f"replicas {r.config['learning_rate']}"] = r.history
folder = compile_cache.folder()
print(json.dumps(dict(runs=runs, folder=None if folder is None else str(folder))))
"""


def _run(tmp_path, *args, code=TRAIN, **env):
    environment = {k: v for k, v in os.environ.items() if k != "TF_XLA_FLAGS"}
    environment.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _train(tmp_path, *order, **env):
    done = _run(tmp_path, *order, **env)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def _programs(folder):
    """Each stored program's (inode, mtime): TensorFlow rewrites a file it compiled again."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in Path(folder).glob("*.pb")}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """One process's fresh compile of TRAIN (batch 1, then 32): its folder and its output."""
    base = tmp_path_factory.mktemp("compiled")
    fresh, _ = _train(base, 1, 32)
    return base, fresh


def _fresh(tmp_path, compiled):
    """A copy of the fresh compile's cache in tmp_path (times kept), and its output there."""
    base, fresh = compiled
    shutil.copytree(base / "cache", tmp_path / "cache")
    folder = tmp_path / Path(fresh["folder"]).relative_to(base)
    return dict(fresh, folder=str(folder))


def test_a_run_from_the_cache_gives_the_history_of_a_fresh_compile(tmp_path, compiled):
    fresh = _fresh(tmp_path, compiled)
    folder = Path(fresh["folder"])
    assert folder.is_relative_to(tmp_path / "cache" / "batch-size-course" / "xla")
    stored = _programs(folder)
    assert len(stored) == 4   # batch 1, batch 32, the validation pass, the replicas at batch 16
    assert all((folder / f"{name}.sha256").is_file() for name in stored)

    # Another process, the other order (as after a cached sweep): every program is loaded.
    cached, _ = _train(tmp_path, 32, 1)
    assert _programs(folder) == stored
    assert cached["runs"] == fresh["runs"]

    off, _ = _train(tmp_path, 32, 1, BATCH_SIZE_COURSE_XLA_CACHE="0")
    assert off["folder"] is None
    assert off["runs"] == fresh["runs"]


def test_a_damaged_program_is_compiled_again_with_a_warning(tmp_path, compiled):
    fresh = _fresh(tmp_path, compiled)
    folder = Path(fresh["folder"])
    damaged = sorted(folder.glob("*.pb"))
    damaged[0].write_bytes(b"not a program")                       # overwritten
    data = damaged[1].read_bytes()
    damaged[1].write_bytes(data[:len(data) // 2])                  # cut short
    flipped = bytearray(damaged[2].read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF                             # one byte changed
    damaged[2].write_bytes(bytes(flipped))
    sealed_at = (folder / f"{damaged[2].name}.sha256").stat().st_mtime
    os.utime(damaged[2], (sealed_at - 1, sealed_at - 1))           # as the disk rots it: same time
    (folder / "xla_compile_cache__1__2__XLA_CPU_JIT.pb").write_bytes(b"unsealed")
    os.utime(folder / "xla_compile_cache__1__2__XLA_CPU_JIT.pb", (1e9, 1e9))   # a stopped kernel's

    again, stderr = _train(tmp_path, 1, 32)
    assert again["runs"] == fresh["runs"]
    for path in damaged[:3]:
        assert f"compiled-program cache file {path} is damaged (" in stderr
    assert "__1__2__" not in stderr   # an unsealed file goes quietly
    assert not (folder / "xla_compile_cache__1__2__XLA_CPU_JIT.pb").exists()
    # Compiled again, stored again, sealed again.
    assert sorted(_programs(folder)) == sorted(p.name for p in damaged)
    assert compile_cache.check(folder) == 0
    # Changed after sealing (a newer time: edited, or another process's compile of it):
    # never sealed as it is, deleted quietly and compiled again.
    flipped = bytearray(damaged[2].read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    damaged[2].write_bytes(bytes(flipped))
    os.utime(damaged[2], (time.time() + 5, time.time() + 5))
    again, stderr = _train(tmp_path, 1, 32)
    assert again["runs"] == fresh["runs"] and "damaged" not in stderr
    assert hashlib.sha256(damaged[2].read_bytes()).hexdigest() == (folder / f"{damaged[2].name}.sha256").read_text()


IMPORT = "import os, helpers; print(helpers.compile_cache.folder()); print(os.environ.get('TF_XLA_FLAGS'))"


def test_switch_and_the_users_flags(tmp_path):
    folder, flags = _run(tmp_path, code=IMPORT).stdout.splitlines()
    assert flags == f"--tf_xla_persistent_cache_directory={folder}"

    folder, flags = _run(tmp_path, code=IMPORT, BATCH_SIZE_COURSE_XLA_CACHE="0").stdout.splitlines()
    assert (folder, flags) == ("None", "None")

    mine = "--tf_xla_min_cluster_size=4"
    folder, flags = _run(tmp_path, code=IMPORT, TF_XLA_FLAGS=mine).stdout.splitlines()
    assert flags == f"{mine} --tf_xla_persistent_cache_directory={folder}"

    mine = f"--tf_xla_persistent_cache_directory={tmp_path / 'mine'}"
    folder, flags = _run(tmp_path, code=IMPORT, TF_XLA_FLAGS=mine).stdout.splitlines()
    assert (folder, flags) == ("None", mine)

    environment = dict(os.environ, PYTHONPATH=str(ROOT), BATCH_SIZE_COURSE_XLA_CACHE="sometimes")
    done = subprocess.run([sys.executable, "-c", "import helpers"], env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "BATCH_SIZE_COURSE_XLA_CACHE must be 1 (the compile cache on) or 0 (off), " \
           "got 'sometimes'" in done.stderr


def test_old_key_folders_are_deleted_at_the_first_compile_never_at_import(tmp_path):
    root = tmp_path / "cache" / "batch-size-course" / "xla"
    for age in range(5):
        old = root / f"tf0.{age}-old"
        (old / "program.pb").parent.mkdir(parents=True)
        (old / "program.pb").write_bytes(b"x")
        os.utime(old, (1e9 - age, 1e9 - age))
    mine = root / compile_cache.cache_key()
    mine.mkdir()
    (mine / "xla_compile_cache__1__2__XLA_CPU_JIT.pb").write_bytes(b"damaged")
    (mine / "x.pb.sha256.99.tmp").write_bytes(b"")
    for left in ("xla_compile_cache__1__2__XLA_CPU_JIT.pb", "x.pb.sha256.99.tmp"):
        os.utime(mine / left, (1e9, 1e9))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    folder, _ = _run(tmp_path, code=IMPORT).stdout.splitlines()
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before   # import deletes nothing
    fresh, _ = _train(tmp_path, 32)
    assert sorted(p.name for p in root.iterdir()) == sorted([Path(folder).name, "tf0.0-old", "tf0.1-old"])
    assert not (mine / "x.pb.sha256.99.tmp").exists()
    assert not (mine / "xla_compile_cache__1__2__XLA_CPU_JIT.pb").exists()


def test_a_changed_trainer_gets_a_folder_of_its_own(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "helpers", copy / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    code = "from helpers.compile_cache import cache_key; print(cache_key())"

    def key(root):
        environment = dict(os.environ, PYTHONPATH=str(root))
        return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                              text=True, timeout=120, check=True, cwd=root).stdout.strip()

    original = key(copy)
    assert original == compile_cache.cache_key()
    assert original.startswith(f"tf{compile_cache.package_version(*compile_cache._TENSORFLOW_DISTRIBUTIONS)}-"
                               f"keras{compile_cache.package_version('keras')}-")
    trainer = copy / "helpers" / "training.py"
    trainer.write_text(trainer.read_text() + "\n# changed\n")
    assert key(copy) != original


def test_stable_names_depend_on_the_key_and_never_repeat():
    from tensorflow.python.framework import ops

    helpers.train(helpers.load_blobs(n_samples=100, train_size=60), batch_size=8, epochs=1,
                  learning_rate=0.01)  # TensorFlow in, the counter routed
    with compile_cache.stable_names("test", 1):
        first = [ops.uid() for _ in range(3)]
        with compile_cache.stable_names("nested"):
            first.append(ops.uid())   # a nested block keeps the outer range
    with compile_cache.stable_names("test", 1):
        second = [ops.uid() for _ in range(4)]
    outside = ops.uid()
    assert first[1:] == [first[0] + 1, first[0] + 2, first[0] + 3]
    assert not set(first) & set(second)
    assert min(first + second) >= 2**61 and outside < 2**61


@pytest.mark.parametrize("value", ["0", "off", "False"])
def test_switch_values_that_turn_it_off(monkeypatch, value):
    monkeypatch.setenv("BATCH_SIZE_COURSE_XLA_CACHE", value)
    assert compile_cache._switch() is False


# --- failing safe (issue 19) ------------------------------------------------------

@contextlib.contextmanager
def _small_disk(where, size):
    """A real small disk (tmpfs) at ``where`` if this machine lets us mount one, else None."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True).returncode == 0 if shutil.which("mount") else False
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=True)


# The disk is filled between the two trainings (or, without a small disk, reported full).
FILL = """
import json, os, shutil, sys, warnings
warnings.simplefilter("always")
import helpers
from helpers import compile_cache
data = helpers.load_blobs(n_samples=100, train_size=60)
first = helpers.train(data, batch_size=20, epochs=2, learning_rate=0.01)
folder = compile_cache.folder()
if folder is not None:
    if sys.argv[1] == "fill":   # leave 16 MB: below the cache's 64 MB, room for this session
        with open(folder.parent / "filler", "wb") as f:
            f.write(b"x" * (shutil.disk_usage(folder).free - 16 * 2**20))
    else:
        real = shutil.disk_usage
        shutil.disk_usage = lambda p: real(p)._replace(free=2**20)
kept = sorted(p.name for p in folder.glob("*.pb")) if folder else []
second = helpers.train(data, batch_size=60, epochs=2, learning_rate=0.01)
third = helpers.train(data, batch_size=30, epochs=2, learning_rate=0.01)
print(json.dumps(dict(folder=None if folder is None else str(folder), kept=kept,
                      after=sorted(p.name for p in folder.glob("*.pb")) if folder else [],
                      files=sorted(p.name for p in folder.iterdir()) if folder else [],
                      loss=[r.history["loss"] for r in (first, second, third)])))
"""


def test_a_full_disk_turns_the_cache_off_with_one_warning(tmp_path):
    with _small_disk(tmp_path / "cache", "600k") as mounted:
        done = _run(tmp_path, "-", code=FILL)
        if not mounted:   # no tmpfs here: a folder that cannot be written instead
            pytest.skip("cannot mount a small disk here; the next test simulates one")
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["folder"] is None
    assert done.stderr.count("the compiled-program cache is off") == 1
    assert "MB free, less than 64 MB" in done.stderr
    assert "Error" not in done.stderr
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_a_disk_that_fills_up_mid_session_stops_the_cache_with_one_warning(tmp_path):
    with _small_disk(tmp_path / "cache", "80m") as mounted:
        done = _run(tmp_path, "fill" if mounted else "report", code=FILL)
        out = json.loads(done.stdout.splitlines()[-1])
        files = out["files"]
    assert out["folder"] is not None
    assert done.stderr.count("the compiled-program cache stops keeping new programs") == 1
    assert "Error" not in done.stderr
    # The first run's epoch program and its validation pass, and nothing new after the disk filled.
    assert out["after"] == out["kept"] and len(out["kept"]) == 2
    assert not [f for f in files if f.endswith(".tmp")]
    assert all(len(loss) == 2 for loss in out["loss"])


def test_an_unwritable_cache_is_off_with_one_warning(tmp_path):
    if os.geteuid() == 0:   # root writes anywhere: a read-only place instead
        target = Path("/proc/self")
        environment_home = str(target)
    else:
        (tmp_path / "cache").mkdir()
        (tmp_path / "cache").chmod(0o500)
        environment_home = str(tmp_path / "cache")
    done = _run(tmp_path, "-", code=FILL, XDG_CACHE_HOME=environment_home)
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["folder"] is None and done.stderr.count("the compiled-program cache is off") == 1


def _seal(path):
    path.with_name(path.name + ".sha256").write_text(hashlib.sha256(path.read_bytes()).hexdigest())


def test_files_that_match_their_sidecar_but_are_not_tensorflows_are_compiled_again(tmp_path, compiled):
    fresh = _fresh(tmp_path, compiled)
    folder = Path(fresh["folder"])
    a, b, c, _ = sorted(folder.glob("*.pb"))
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)                                   # two programs swapped
    b.write_bytes(data_a)
    c.write_bytes(c.read_bytes()[:1000])                    # cut short
    for path in (a, b, c):
        _seal(path)                                         # and every sidecar agrees
    again, stderr = _train(tmp_path, 1, 32)
    assert again["runs"] == fresh["runs"]
    assert f"{a} is damaged (it holds the entry of another program" in stderr
    assert f"{c} is damaged (it is not a TensorFlow cache entry" in stderr

    a.write_bytes(os.urandom(5000))                         # random bytes
    _seal(a)
    b.unlink()
    b.mkdir()                                               # a folder
    (b / "inside").write_text("x")
    again, stderr = _train(tmp_path, 1, 32)
    assert again["runs"] == fresh["runs"]
    assert f"{a} is damaged (it is not a TensorFlow cache entry" in stderr
    assert f"{b} is damaged (it is a folder, not a file)" in stderr
    assert compile_cache.check(folder) == 0


def test_a_pipe_or_a_link_to_dev_zero_never_hangs_a_run(tmp_path, compiled):
    fresh = _fresh(tmp_path, compiled)
    folder = Path(fresh["folder"])
    a, b, *_ = sorted(folder.glob("*.pb"))
    a.unlink()
    os.mkfifo(a)
    b.unlink()
    b.symlink_to("/dev/zero")
    start = time.monotonic()
    again, stderr = _train(tmp_path, 1, 32)   # _run's timeout fails a hang
    assert time.monotonic() - start < 300
    assert again["runs"] == fresh["runs"]
    assert f"{a} is damaged (it is a named pipe, not a file)" in stderr
    assert f"{b} is damaged (it is a link, not a file)" in stderr
    assert Path("/dev/zero").exists()   # the link was removed, not what it points to


def test_an_entry_being_written_by_another_process_is_waited_for_and_sealed_when_whole(tmp_path):
    import threading

    fresh, _ = _train(tmp_path, 32)
    program = sorted(Path(fresh["folder"]).glob("*.pb"))[0]
    whole = program.read_bytes()
    folder = tmp_path / "other"
    folder.mkdir()
    entry = folder / program.name
    entry.write_bytes(whole[:len(whole) // 3])              # another process is writing it ...
    finish = threading.Timer(0.3, lambda: entry.write_bytes(whole))   # ... and finishes
    finish.start()
    with warnings_as_errors():
        assert compile_cache.check(folder) == 0
    finish.join()
    assert entry.with_name(entry.name + ".sha256").read_text() == hashlib.sha256(entry.read_bytes()).hexdigest()
    # A second process compiled the same program and wrote it again.
    entry.write_bytes(whole)
    with warnings_as_errors():
        assert compile_cache.check(folder) == 0
    # A partial file that nobody finishes, fresh or old, is deleted quietly: TensorFlow
    # would fail on it for the rest of the process.
    entry.with_name(entry.name + ".sha256").unlink()
    for mtime in (None, 1e9):
        entry.write_bytes(whole[:100])
        if mtime:
            os.utime(entry, (mtime, mtime))
        with warnings_as_errors():
            assert compile_cache.check(folder) == 1
        assert not entry.exists()


@contextlib.contextmanager
def warnings_as_errors():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_two_processes_compiling_the_same_programs_at_once(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "TF_XLA_FLAGS"}
    environment.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    runs = [subprocess.Popen([sys.executable, "-c", TRAIN, "1", "32"], env=environment,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    third, stderr = _train(tmp_path, 1, 32)
    for _, err in outputs:
        assert "damaged" not in err
    assert "damaged" not in stderr
    folder = Path(third["folder"])
    stored = _programs(folder)
    _train(tmp_path, 32, 1)
    assert _programs(folder) == stored   # every program loaded, none compiled again


def test_a_cache_path_with_a_space_and_a_quote(tmp_path):
    home = tmp_path / "Users" / "Jane O'Doe"
    fresh, stderr = _train(tmp_path, 32, XDG_CACHE_HOME=str(home))
    folder = Path(fresh["folder"])
    assert folder.is_relative_to(home) and "cache is off" not in stderr
    stored = _programs(folder)
    assert len(stored) == 3   # batch 32, the validation pass, the replicas
    again, _ = _train(tmp_path, 32, XDG_CACHE_HOME=str(home))
    assert _programs(folder) == stored and again["runs"] == fresh["runs"]


def test_tensorflow_imported_first_says_the_cache_is_off(tmp_path):
    code = "import tensorflow, helpers; print(helpers.compile_cache.folder())"
    done = _run(tmp_path, code=code)
    assert done.stdout.split() == ["None"]
    assert "the compiled-program cache is off: TensorFlow was imported before helpers" in done.stderr
