"""The persistent cache of compiled XLA programs (helpers.compile_cache), across processes.

Each run below is a fresh Python process with its own per-user cache folder
(``XDG_CACHE_HOME`` in a temporary folder), as a new kernel would be.
"""

import json
import os
import shutil
import subprocess
import sys
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
    environment.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT), **env)
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


def test_a_run_from_the_cache_gives_the_history_of_a_fresh_compile(tmp_path):
    fresh, _ = _train(tmp_path, 1, 32)
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


def test_a_damaged_program_is_compiled_again_with_a_warning(tmp_path):
    fresh, _ = _train(tmp_path, 1, 32)
    folder = Path(fresh["folder"])
    damaged = sorted(folder.glob("*.pb"))
    damaged[0].write_bytes(b"not a program")                       # overwritten
    data = damaged[1].read_bytes()
    damaged[1].write_bytes(data[:len(data) // 2])                  # cut short
    flipped = bytearray(damaged[2].read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF                             # one byte changed
    damaged[2].write_bytes(bytes(flipped))
    (folder / "xla_compile_cache__1__2__XLA_CPU_JIT.pb").write_bytes(b"unsealed")

    again, stderr = _train(tmp_path, 1, 32)
    assert again["runs"] == fresh["runs"]
    for path in damaged[:3]:
        assert f"compiled-program cache file {path} is damaged" in stderr
    assert "__1__2__" not in stderr   # an unsealed file goes quietly
    assert not (folder / "xla_compile_cache__1__2__XLA_CPU_JIT.pb").exists()
    # Compiled again, stored again, sealed again.
    assert sorted(_programs(folder)) == sorted(p.name for p in damaged)
    assert compile_cache.check(folder) == 0


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


def test_old_key_folders_are_deleted_the_recent_ones_kept(tmp_path):
    root = tmp_path / "cache" / "batch-size-course" / "xla"
    for age in range(5):
        old = root / f"tf0.{age}-old"
        (old / "program.pb").parent.mkdir(parents=True)
        (old / "program.pb").write_bytes(b"x")
        os.utime(old, (1e9 - age, 1e9 - age))
    folder, _ = _run(tmp_path, code=IMPORT).stdout.splitlines()
    assert sorted(p.name for p in root.iterdir()) == sorted([Path(folder).name, "tf0.0-old", "tf0.1-old"])


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
