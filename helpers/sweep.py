"""Sweeps: train a grid of batch sizes x learning rates x seeds, cached on disk.

:func:`sweep` runs the grid through :func:`helpers.replicas.run_plan` and writes each finished run at once to
its own gzip-compressed JSON file (never pickle), named by a hash of its full configuration and holding that
key and a checksum: running again, or after an interruption, trains only what is missing; an unusable file
is trained again with a warning.
"""

import contextlib
import gzip
import hashlib
import json
import math
import os
import stat
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._checks import check_bool, check_choice, check_float, check_int, check_sequence, warn
from .compile_cache import package_version
from .pipeline import (MAX_EPOCHS, MAX_SEED, MAX_UPDATES, RunPlan, check_architecture, check_dataset,
                       check_learning_rate)
from .result import HISTORY_KEYS, TrainResult

__all__ = ["sweep", "SweepResult", "OwnRate", "steps_to_target", "run_key", "data_digest",
           "TRAINER_VERSION", "DEFAULT_CACHE_DIR"]

#: Part of every cache key: bump it when a change to the trainer changes its numbers or their meaning.
TRAINER_VERSION = "replicas-4"
#: Relative to the working directory (``notebooks/`` when a notebook runs).
DEFAULT_CACHE_DIR = Path(".cache") / "sweeps"
_FORMAT = 2
#: Age after which a temporary file in the cache folder is a killed writer's leftover.
_STALE_SECONDS = 3600
_COLUMNS = ("batch_size", "learning_rate", "seed", "epochs")
ROW_KEYS = _COLUMNS + HISTORY_KEYS + ("updates", "seconds", "diverged_at", "cached")


def run_key(data, *, batch_size, learning_rate, seed, epochs, momentum, hidden_units, activation,
            kernel_initializer, shuffle):
    """The full configuration of one run (data, model, optimizer, versions), a JSON-safe dict: the cache key."""
    return dict(trainer=TRAINER_VERSION, keras=package_version("keras"),
                tensorflow=package_version("tensorflow", "tensorflow-cpu"), dataset=data.config,
                n_classes=int(data.n_classes), data_hash=data_digest(data), batch_size=int(batch_size),
                learning_rate=float(learning_rate), seed=int(seed), epochs=int(epochs), momentum=float(momentum),
                hidden_units=int(hidden_units), activation=activation, kernel_initializer=kernel_initializer,
                shuffle=shuffle)


def data_digest(data):
    """A short hash of a dataset's six arrays (values, dtypes and shapes): new data, new cache keys."""
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _canonical(value):
    """One text per JSON value (NaN included, which never equals itself as a float)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _checksum(result):
    return hashlib.sha256(_canonical(result).encode()).hexdigest()


_UNREADABLE = (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, zlib.error, RecursionError,
               MemoryError)


class _Cache:
    """One JSON file per run in ``folder``; ``None`` as folder caches nothing."""

    def __init__(self, folder):
        self.folder = None if folder is None else Path(folder)

    def prepare(self):
        """Make the folder and check that it can be written, before anything is trained."""
        if self.folder is None:
            return
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"cache_dir must be a folder, got {str(self.folder)!r}, which is not a folder")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=self.folder, suffix=".probe")
            os.close(handle)
            os.unlink(probe)
        except OSError as error:
            raise ValueError(f"cache_dir must be a folder this process can write, got {str(self.folder)!r} "
                             f"({error})") from None
        # Delete killed writers' temporary files (older than an hour; a live writer's is younger).
        now = time.time()
        for leftover in [*self.folder.glob("*.tmp"), *self.folder.glob("*.probe")]:
            with contextlib.suppress(OSError):   # gone already, or not ours to delete: it costs only its bytes
                if leftover.is_file() and now - leftover.stat().st_mtime > _STALE_SECONDS:
                    leftover.unlink()

    def path(self, key):
        return self.folder / f"{_checksum(key)[:24]}.json.gz"

    def load(self, key, n_train):
        """The cached result for ``key``, or None (with a warning if the file is bad)."""
        if self.folder is None:
            return None
        path = self.path(key)
        try:
            if not os.path.lexists(path):
                return None
            # The most bytes (uncompressed) a file of this key can need: more is not this run's.
            limit = 2**16 + 24 * key["epochs"] * math.ceil(n_train / key["batch_size"]) + 256 * key["epochs"]
            stored = json.loads(_read(path, limit))
            if not isinstance(stored, dict) or stored.get("format") != _FORMAT:
                raise ValueError("it was written in another format")
            if _canonical(stored.get("key")) != _canonical(key):
                raise ValueError("its key does not match the run's configuration")
            if stored.get("checksum") != _checksum(stored.get("result")):
                raise ValueError("its checksum does not match its contents")
            result = TrainResult.from_dict(stored["result"])
            c = result.config
            if [c[k] for k in _COLUMNS] != [key[k] for k in _COLUMNS] or result.epochs_run > key["epochs"]:
                raise ValueError("its run is not the one its key names")
            # Stored with float32's 9 significant digits (see save): back to those float32s.
            result.batch_loss = result.batch_loss.astype(np.float32).astype(float)
            return result
        except _UNREADABLE as error:
            warn(f"sweep cache file {path} is unreadable ({_kind(error)}: {error}); training that run again",
                 RuntimeWarning)
            return None

    def save(self, key, result):
        """Write ``result`` atomically; if that fails, warn and keep going (the run is in memory)."""
        if self.folder is None:
            return
        path = self.path(key)
        stored = result.to_dict()
        # The per-update losses are float32: 9 significant digits keep them exactly, in less space.
        stored["batch_loss"] = [float(f"{v:.9g}") for v in stored["batch_loss"]]
        text = json.dumps(dict(format=_FORMAT, key=key, checksum=_checksum(stored), result=stored))
        temporary = None
        try:
            # A temporary file renamed over the target: a reader (or a crash) never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1,
                                                              mtime=0) as stream:
                stream.write(text.encode("utf-8"))
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
            temporary = None
        except OSError as error:
            warn(f"sweep cache file {path} could not be written ({_kind(error)}: {error}); the run is in this "
                 f"sweep's result but not in the cache", RuntimeWarning)
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


def _kind(error):
    """``zlib.error`` rather than a bare ``error``; builtins by their name."""
    kind = type(error)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _read(path, limit):
    """The decompressed text of a cache file; anything but a plain small file is refused (a pipe unblocked)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = "folder" if stat.S_ISDIR(info.st_mode) else "named pipe" if stat.S_ISFIFO(info.st_mode) \
                else "special file"
            raise ValueError(f"it is a {kind}, not a file")
        if info.st_size > limit:
            raise ValueError(f"it holds {info.st_size:,} bytes, more than this run can need")
        with os.fdopen(descriptor, "rb", closefd=False) as raw:
            packed = raw.read(limit + 1)
    finally:
        os.close(descriptor)
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    data = inflate.decompress(packed, limit + 1)
    if len(data) > limit or inflate.unconsumed_tail:
        raise ValueError(f"it unpacks to more than {limit:,} bytes, more than this run can need")
    if not inflate.eof:
        raise EOFError("its compressed data ends early")
    return data.decode("utf-8")


@dataclass(frozen=True)
class OwnRate:
    """A batch size's own learning rate (:meth:`SweepResult.own_rates`).

    ``rate`` has the lowest mean final validation loss over the seeds (``loss``), whose standard deviation is
    ``spread``; ``band`` holds the rates within ``spread`` of ``loss``; ``bracketed`` is True if the grid
    has a rate on each side of ``rate`` that did not diverge (else widen it).
    """

    rate: float
    loss: float
    spread: float
    band: list
    bracketed: bool


@dataclass(eq=False)
class SweepResult:
    """The runs of a sweep (batch size slowest, then learning rate, then seed).

    ``cached`` says which runs were read from the cache; ``seconds`` is the :func:`sweep` call's wall time.
    """

    runs: list
    cached: list
    seconds: float
    cache_dir: object = field(default=None, repr=False)

    def __len__(self):
        return len(self.runs)

    def __repr__(self):
        done = sum(self.cached)
        return (f"SweepResult({len(self.runs)} runs: batch sizes {self.values('batch_size')}, "
                f"learning rates {self.values('learning_rate')}, seeds {self.values('seed')}; "
                f"{len(self.runs) - done} trained, {done} from cache, {self.seconds:.1f} s)")

    @property
    def rows(self):
        """One dict per run: configuration, final metrics, updates, seconds (tidy data)."""
        return [{**{name: run.config[name] for name in _COLUMNS}, **{key: run.final(key) for key in HISTORY_KEYS},
                 "updates": int(run.updates[-1]), "seconds": run.seconds, "diverged_at": run.diverged_at,
                 "cached": cached} for run, cached in zip(self.runs, self.cached)]

    def values(self, name):
        """The distinct values of a configuration column, sorted."""
        check_choice("name", name, _COLUMNS)
        return sorted({run.config[name] for run in self.runs})

    def select(self, **criteria):
        """The runs whose configuration matches every ``name=value`` given."""
        for name in criteria:
            check_choice("criteria", name, _COLUMNS)
        return [r for r in self.runs if all(r.config[k] == v for k, v in criteria.items())]

    def groups(self, by="batch_size", *, label="{name} {value:g}", **criteria):
        """Runs grouped by one column, for plots: ``label.format(name=..., value=...)`` -> runs."""
        names = {"batch_size": "batch", "learning_rate": "lr", "seed": "seed", "epochs": "epochs"}
        check_choice("by", by, tuple(names))
        runs = self.select(**criteria)
        return {label.format(name=names[by], value=value): [r for r in runs if r.config[by] == value]
                for value in sorted({r.config[by] for r in runs})}

    def grid(self, value="val_accuracy", *, rows="batch_size", cols="learning_rate", agg="mean", skip_diverged=False):
        """A table of one value aggregated over seeds: ``(table, row_values, col_values)``.

        ``value`` is a row key or ``"diverged"`` (the fraction of seeds that diverged); ``agg`` is mean,
        median, min, max or std; ``skip_diverged`` leaves out diverged seeds. NaN where there is no run.
        """
        check_choice("value", value, HISTORY_KEYS + ("seconds", "updates", "diverged"))
        check_choice("agg", agg, ("mean", "median", "min", "max", "std"))
        reduce = getattr(np, agg)
        row_values, col_values = self.values(rows), self.values(cols)
        cells = {}
        for row in self.rows:
            if skip_diverged and row["diverged_at"] is not None:
                continue
            v = row["diverged_at"] is not None if value == "diverged" else row[value]
            cells.setdefault((row[rows], row[cols]), []).append(float(v))
        table = np.array([[reduce(cells[r, c]) if (r, c) in cells else np.nan for c in col_values]
                          for r in row_values], dtype=float).reshape(len(row_values), len(col_values))
        return table, row_values, col_values

    def _ranked(self, value, per, over):
        """The grid of mean ``value``, NaN where the mean is not finite or every seed diverged."""
        table, row_values, col_values = self.grid(value, rows=per, cols=over)
        all_diverged, _, _ = self.grid("diverged", rows=per, cols=over)
        table[~np.isfinite(table) | (all_diverged == 1.0)] = np.nan
        return table, row_values, col_values

    def own_rates(self, *, per="batch_size"):
        """Each batch size's own learning rate, as the course defines it, with its band.

        **A batch size's own learning rate** is the grid's rate with the lowest mean final validation loss
        over the seeds. Its **band** is every rate whose mean is within the standard deviation of the best
        rate's seeds: the rates these seeds cannot tell from it. Returns ``per`` value -> :class:`OwnRate`,
        or None where every run diverged.
        """
        table, row_values, col_values = self._ranked("val_loss", per, "learning_rate")
        spread, _, _ = self.grid("val_loss", rows=per, cols="learning_rate", agg="std")
        out = {}
        for r, row, spreads in zip(row_values, table, spread):
            if np.isnan(row).all():
                out[r] = None
                continue
            i = int(np.nanargmin(row))
            with np.errstate(invalid="ignore"):
                good = row <= row[i] + spreads[i]
            out[r] = OwnRate(rate=col_values[i], loss=float(row[i]), spread=float(spreads[i]),
                             band=[c for c, ok in zip(col_values, good) if ok],
                             bracketed=bool(0 < i < len(col_values) - 1
                                            and np.isfinite(row[[i - 1, i + 1]]).all()))
        return out

    def steps_to_target(self, target, *, key="val_loss"):
        """For each batch size, the fewest updates any learning rate needed to reach ``target``.

        A rate counts only if every seed reached it (updates averaged over the seeds), read as
        :func:`steps_to_target` reads it. Returns ``(batch_sizes, steps, learning_rates)``, NaN and None
        where no rate reached the target.
        """
        batch_sizes, best = self.values("batch_size"), []
        for b in batch_sizes:
            options = []
            for lr in sorted({r.config["learning_rate"] for r in self.select(batch_size=b)}):
                counts = [steps_to_target(r, target, key=key) for r in self.select(batch_size=b, learning_rate=lr)]
                if None not in counts:
                    options.append((float(np.mean(counts)), lr))
            best.append(min(options) if options else (np.nan, None))
        return batch_sizes, np.array([s for s, _ in best]), [lr for _, lr in best]


def _as_list(name, values, check, what):
    values = [check(name, v) for v in check_sequence(name, values, what)]
    if not values:
        raise ValueError(f"{name} must hold at least one value, got an empty sequence")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must not repeat a value, got {values!r}")
    return values


def _per_batch(name, value, batch_sizes, check):
    """``value`` checked for each batch size: one for all, or a dict with an entry for each."""
    if not isinstance(value, dict):
        return dict.fromkeys(batch_sizes, check(name, value))
    missing = [b for b in batch_sizes if b not in value]
    if missing:
        raise ValueError(f"{name} must have an entry for every batch size, missing {missing} in {value!r}")
    return {b: check(f"{name}[{b}]", value[b]) for b in batch_sizes}


def sweep(data, *, batch_sizes, learning_rates, seeds=(0,), epochs, momentum=0.9, hidden_units=32,
          activation="relu", kernel_initializer="glorot_uniform", shuffle=True, cache_dir=DEFAULT_CACHE_DIR,
          replicas=8, progress=True):
    """Train every batch size x learning rate x seed of a grid; cache and resume. Returns a :class:`SweepResult`.

    ``data``: a Dataset; ``batch_sizes``, ``seeds``: ints; ``learning_rates``: floats, and ``epochs``: an
    int, or either a dict giving each batch size its own. ``momentum``, ``hidden_units``, ``activation``,
    ``kernel_initializer``, ``shuffle``: as in :func:`helpers.train`. ``cache_dir`` (default
    ``.cache/sweeps``): the run cache's folder, relative to the working directory (``~`` is home), made if
    missing; None caches nothing. ``replicas`` (8): runs of one batch size trained together in one compiled
    program. ``progress``: a tqdm bar over the runs.

    A bad argument (an unwritable ``cache_dir`` included) raises TypeError or ValueError before anything is
    trained; a KeyboardInterrupt is passed on after a warning saying how many runs are safe in the cache.

    >>> from helpers import load_blobs
    >>> result = sweep(load_blobs(), batch_sizes=[32, 800], learning_rates=[0.01, 0.1],
    ...                seeds=[0, 1], epochs=5, cache_dir=None, progress=False)
    >>> len(result.rows), sorted(result.own_rates()), sum(result.cached)
    (8, [32, 800], 0)
    """
    from .replicas import run_plan

    data = check_dataset(data)
    n_train = data.n_train
    batch_sizes = _as_list("batch_sizes", batch_sizes, lambda name, v: check_int(name, v, low=1, high=n_train), "ints")
    rates_of = _per_batch("learning_rates", learning_rates, batch_sizes, lambda name, v: _as_list(
        name, v, check_learning_rate, "learning rates (or a dict of batch size -> such a sequence)"))
    seeds = _as_list("seeds", seeds, lambda name, v: check_int(name, v, low=0, high=MAX_SEED), "ints")
    epochs_of = _per_batch("epochs", epochs, batch_sizes, lambda name, v: check_int(name, v, low=1, high=MAX_EPOCHS))
    momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
    architecture = check_architecture(hidden_units, activation, kernel_initializer)
    replicas = check_int("replicas", replicas, low=1, high=64)
    check_bool("shuffle", shuffle)
    check_bool("progress", progress)
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, os.PathLike)) or isinstance(os.fspath(cache_dir), bytes):
            raise TypeError(f"cache_dir must be a path or None, got {cache_dir!r}")
        if not os.fspath(cache_dir).strip():
            raise ValueError(f"cache_dir must name a folder (or be None to cache nothing), got "
                             f"{os.fspath(cache_dir)!r}; '.' is the working directory")
        cache_dir = Path(os.path.expanduser(os.fspath(cache_dir)))
    updates = sum(epochs_of[b] * math.ceil(n_train / b) * len(rates_of[b]) * len(seeds) for b in batch_sizes)
    if updates > MAX_UPDATES:
        raise ValueError(f"the grid makes {updates:,} updates in all, and their per-update losses "
                         f"({updates * 8 / 2**20:,.0f} MB) would not fit in memory; at most "
                         f"{MAX_UPDATES:,}: fewer runs or epochs, or larger batches")
    start = time.perf_counter()
    cache = _Cache(cache_dir)
    cache.prepare()   # a bad folder fails now, not after the first group has trained
    configs = [(b, lr, s) for b in batch_sizes for lr in rates_of[b] for s in seeds]
    keys = [run_key(data, batch_size=b, learning_rate=lr, seed=s, epochs=epochs_of[b], momentum=momentum,
                    shuffle=shuffle, **architecture) for b, lr, s in configs]
    runs = [cache.load(key, n_train) for key in keys]
    cached = [run is not None for run in runs]
    todo = [i for i, run in enumerate(runs) if run is None]
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="sweep", unit="run")
    unsaved = []   # trained runs not yet in the cache
    try:
        for b in batch_sizes:
            mine = [i for i in todo if configs[i][0] == b]
            for first in range(0, len(mine), replicas):
                group = mine[first:first + replicas]
                if bar is not None:
                    bar.set_postfix_str(f"batch {b}")
                plan = RunPlan.of_constants(data, batch_size=b, epochs=epochs_of[b],
                                            learning_rates=[configs[i][1] for i in group],
                                            seeds=[configs[i][2] for i in group], momentum=momentum,
                                            shuffle=shuffle, architecture=architecture)
                # Every run of the group is kept before any is written: a Ctrl-C while writing loses none.
                for i, result in zip(group, run_plan(plan, pad_to=replicas)):
                    runs[i] = result
                unsaved[:] = group
                while unsaved:
                    cache.save(keys[unsaved[0]], runs[unsaved[0]])
                    unsaved.pop(0)
                if bar is not None:
                    bar.update(len(group))
    except KeyboardInterrupt:
        # Finish writing the runs that had trained (milliseconds each), then say so truly.
        for i in unsaved:
            cache.save(keys[i], runs[i])
        done = sum(run is not None for run in runs)
        where = f"cached in {cache.folder}; run the sweep again to resume" if cache.folder else \
            "not cached (cache_dir=None)"
        warn(f"sweep interrupted: {done} of {len(runs)} runs finished, {where}", RuntimeWarning)
        raise
    finally:
        if bar is not None:
            bar.close()
    return SweepResult(runs=runs, cached=cached, seconds=time.perf_counter() - start, cache_dir=cache.folder)


def steps_to_target(result, target, *, key="val_loss", x="update"):
    """How long a run took to first reach ``target`` in ``history[key]`` (None if never).

    Losses must fall to the target, accuracies rise to it. The history is recorded at epoch ends, so the
    answer is the end of the first epoch that reached it (exact to one epoch's updates), unless the run has
    ``val_loss_by_update`` (``train_replicas(..., eval_every=k)``): for ``key="val_loss"`` and
    ``x="update"`` that is read instead, exact to k updates. ``result``: a TrainResult; ``key``: one of
    "val_loss", "loss", "val_accuracy", "accuracy"; ``x``: "update" or "epoch".

    >>> steps_to_target(result, 0.8, key="val_accuracy", x="epoch")   # doctest: +SKIP
    7
    """
    if not isinstance(result, TrainResult):
        raise TypeError(f"result must be a TrainResult, got {type(result).__name__}")
    check_choice("key", key, HISTORY_KEYS)
    check_choice("x", x, ("update", "epoch"))
    target = check_float("target", target)
    trace = result.val_loss_by_update
    if key == "val_loss" and x == "update" and trace is not None:
        hit = trace <= target                          # NaN (not evaluated) is never a hit
        return int(np.argmax(hit)) + 1 if hit.any() else None
    values = np.asarray(result.history[key])
    hit = values <= target if key.endswith("loss") else values >= target
    if not hit.any():
        return None
    first = int(np.argmax(hit))
    return first + 1 if x == "epoch" else int(result.updates[first])
