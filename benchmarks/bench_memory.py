"""Peak memory of each notebook's kernel, run top to bottom on a fresh kernel.

Binder gives a session 1-2 GB, so each notebook's kernel must stay under
1.5 GB. Each notebook runs with nbclient, as tools/execute_notebooks.py does
(nothing is saved), in an empty working folder (so lessons 04 and 05 train
their sweeps instead of reading an earlier run's cache); meanwhile a thread samples the resident memory (RSS) of
the kernel process and its children with psutil every 50 ms, and before the
kernel shuts down its own high-water mark (VmHWM in /proc, which no sampling
can miss) is read too, after every cell.

The explorer (07) trains more when a learner moves its controls than when
the notebook runs, so it is measured a second time with a whole session
appended: one explorer moved through every stop of its batch-size slider on
each dataset of its dropdown (each a compiled XLA program that TensorFlow
keeps until the kernel stops), then every stop of its momentum, noise,
learning-rate and seeds sliders (which share those programs). The session
prints the resident memory before and after it, the programs it compiled
against the explorer's bound (``helpers.widgets.program_bound()``), and the
memory each program cost.

A second table follows (``--programs`` prints it alone): the resident memory
of one fresh Python process against the number of batch sizes it has
trained (``helpers.train``, one epoch each on the 800/200 blobs, each batch
size a new compiled program), once with the program cache at its default
size and once bounded to 8 programs, then what ``train(model=...)`` costs
when the given model has the course's architecture (it reuses the compiled
engine: no compile, no new program) and when it has another one (compiled
once, on its first run).

    .venv/bin/python benchmarks/bench_memory.py                 # every notebook, then programs
    .venv/bin/python benchmarks/bench_memory.py notebooks/05_*.ipynb
    .venv/bin/python benchmarks/bench_memory.py --programs      # the programs table only

Exits 1 if a notebook's own run peaks over the limit (a session over it is
reported, not failed).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 1536
INTERVAL = 0.05
MB = 2**20
EXPLORER = "07_explorer.ipynb"
EXPLORER_SESSION = """\
import json, psutil
from helpers import engines, widgets
rss = lambda: psutil.Process().memory_info().rss / 2**20
before_mb, compiled = rss(), engines.PROGRAMS.keys
keys = widgets.program_keys([load(2.0) for load, _ in widgets.DATASETS.values()])
new = keys - set(compiled())   # what the notebook's own run has not compiled yet
session = helpers.explore(epochs=3, warm_up=False)
c = session.controls
def move(name, value):
    c[name].value = value
    assert session.wait(600), (name, value)
for dataset in widgets.DATASETS:
    move("dataset", dataset)
    for _, batch_size in list(c["batch_size"].options):
        move("batch_size", batch_size)
move("dataset", next(iter(widgets.DATASETS)))
move("batch_size", 32)
stops = dict(momentum=[m for _, m in c["momentum"].options],
             cluster_std=[widgets.NOISE[0] + k * widgets.NOISE_STEP for k in
                          range(round((widgets.NOISE[1] - widgets.NOISE[0]) / widgets.NOISE_STEP) + 1)],
             learning_rate=[10 ** (widgets.LR_EXPONENTS[0] + k * widgets.LR_STEP) for k in
                            range(round((widgets.LR_EXPONENTS[1] - widgets.LR_EXPONENTS[0]) / widgets.LR_STEP) + 1)],
             seeds=list(range(widgets.SEEDS[0], widgets.SEEDS[1] + 1)))
for name, values in stops.items():
    for value in values:
        move(name, value)
session.close()
after_mb = rss()
print("SESSION " + json.dumps(dict(before_mb=before_mb, after_mb=after_mb, bound=len(keys),
      new=len(new), missing=len(keys - set(compiled())), trainings=session.trainings)))
"""


def _tree_rss(process):
    try:
        procs = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def _high_water_mark(pid):
    """The kernel's peak RSS in bytes, from /proc/PID/status (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


class _Sampler:
    """Samples a kernel's RSS from when the notebook starts until it completes."""

    def __init__(self):
        self.peak, self.hwm, self.samples = 0, 0, 0
        self._stop = threading.Event()
        self._thread = None
        self._pid = None

    def start(self, client):
        self._pid = client.km.provisioner.process.pid
        process = psutil.Process(self._pid)

        def loop():
            while not self._stop.is_set():
                self.peak = max(self.peak, _tree_rss(process))
                self.samples += 1
                self._stop.wait(INTERVAL)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def read_high_water_mark(self):
        # After every cell, while the kernel is alive (nbclient's completion hook comes
        # after the kernel has shut down); the mark only grows, so the last read is the peak.
        self.hwm = _high_water_mark(self._pid)

    def stop(self):
        self._stop.set()
        self._thread.join()


def measure(path, *, then=None, timeout=900):
    """Run ``path`` on a fresh kernel; return (seconds, sampled peak bytes, VmHWM bytes, notebook).

    ``then``, if given, is code run in the same kernel after the last cell.
    """
    nb = nbformat.read(path, as_version=4)
    if then:
        nb.cells.append(nbformat.v4.new_code_cell(then))
    sampler = _Sampler()
    # A fresh working folder: no sweep cache from an earlier run, as on a learner's first run.
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": folder}})
        client.on_notebook_start = lambda notebook: sampler.start(client)
        client.on_cell_executed = lambda **_: sampler.read_high_water_mark()
        client.on_notebook_complete = lambda notebook: sampler.stop()
        start = time.perf_counter()
        client.execute()
    return time.perf_counter() - start, sampler.peak, sampler.hwm, nb


def session_report(nb):
    """The explorer session's own line: memory before and after, programs compiled and their cost."""
    text = "".join(out.get("text", "") for out in nb.cells[-1].outputs)
    line = next(line for line in text.splitlines() if line.startswith("SESSION "))
    s = json.loads(line[len("SESSION "):])
    added = s["after_mb"] - s["before_mb"]
    per = f"{added / s['new']:.1f} MB per program" if s["new"] else "no new program"
    return (f"  explorer session ({s['trainings']} trainings, every slider stop): resident memory "
            f"{s['before_mb']:.0f} -> {s['after_mb']:.0f} MB; it compiled {s['new']} of the "
            f"explorer's {s['bound']} programs (the notebook had the others; {s['missing']} not "
            f"kept by the cache); {per}")


PROGRAMS_CHILD = """
import json, sys, time
import psutil
import helpers
from helpers import engines
from helpers._backend import keras

maxsize, steps = int(sys.argv[1]), int(sys.argv[2])
engines.PROGRAMS.maxsize = maxsize
process = psutil.Process()
data = helpers.load_blobs()
rss = lambda: process.memory_info().rss / 2**20
helpers.train(data, batch_size=800, epochs=1, learning_rate=0.01)   # imports, first engine
rows = [(0, rss(), len(engines.PROGRAMS))]
for i, batch_size in enumerate(range(100, 100 + steps), start=1):
    helpers.train(data, batch_size=batch_size, epochs=1, learning_rate=0.01)
    if i % 10 == 0:
        rows.append((i, rss(), len(engines.PROGRAMS)))
given = []
for make in (lambda: helpers.build_mlp(seed=1),
             lambda: keras().Sequential([keras().Input(shape=(2,)), keras().layers.Dense(16, activation="tanh"),
                                         keras().layers.Dense(3, activation="softmax")])):
    model, before = make(), rss()
    seconds = [helpers.train(data, model=model, batch_size=32, epochs=1, learning_rate=0.01).compile_seconds
               for _ in range(3)]
    given.append((seconds, rss() - before))
print(json.dumps(dict(rows=rows, given=given)))
"""


def programs_table(steps=50):
    """RSS of a fresh process against the batch sizes it trained; model= reuse."""
    print("\nresident memory of one process against the batch sizes trained (one epoch each, 800/200 blobs)\n")
    results = {}
    for maxsize in (64, 8):
        out = subprocess.run([sys.executable, "-c", PROGRAMS_CHILD, str(maxsize), str(steps)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        results[maxsize] = json.loads(out.stdout.strip().splitlines()[-1])
    header = f"{'batch sizes trained':>20} {'RSS, cache of 64':>17} {'kept':>5} {'RSS, cache of 8':>16} {'kept':>5}"
    print(header)
    print("-" * len(header))
    for (n, big, kept_big), (_, small, kept_small) in zip(results[64]["rows"], results[8]["rows"]):
        print(f"{n:>20} {big:>14.0f} MB {kept_big:>5} {small:>13.0f} MB {kept_small:>5}")
    first, last = results[64]["rows"][0], results[64]["rows"][-1]
    print(f"\nper new batch size: {(last[1] - first[1]) / last[0]:.1f} MB with a cache of 64, "
          f"{(results[8]['rows'][-1][1] - results[8]['rows'][0][1]) / last[0]:.1f} MB with a cache of 8")
    print("\ntrain(model=...) three times on one model, batch 32: compile seconds of each call, RSS added")
    for name, (seconds, added) in zip(("course architecture (build_mlp)", "another architecture"),
                                      results[64]["given"]):
        print(f"  {name:<32} {', '.join(f'{s:.2f}' for s in seconds)} s   {added:+.0f} MB")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--programs", action="store_true",
                        help="only the table of memory against the batch sizes trained")
    args = parser.parse_args(argv)
    if args.programs:
        programs_table()
        return 0
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    print(f"kernel peak memory, each notebook on a fresh kernel (limit {LIMIT_MB} MB)\n")
    header = f"{'notebook':<40} {'seconds':>8} {'peak RSS sampled':>17} {'peak RSS (VmHWM)':>17}"
    print(header)
    print("-" * len(header))
    over = []
    runs = [(path, path.name, None) for path in paths]
    runs += [(path, f"{path.name} + session", EXPLORER_SESSION) for path in paths
             if path.name == EXPLORER]
    for path, name, then in runs:
        seconds, sampled, hwm, nb = measure(path, then=then)
        print(f"{name:<40} {seconds:>8.1f} {sampled / MB:>14.0f} MB {hwm / MB:>14.0f} MB",
              flush=True)
        if then:
            print(session_report(nb), flush=True)
        if max(sampled, hwm) > LIMIT_MB * MB:
            over.append((name, then is None))
    print("\nsampled: kernel + child processes every "
          f"{INTERVAL * 1000:.0f} ms; VmHWM: the kernel process's own high-water mark.")
    if any(then for _, _, then in runs):
        print("+ session: after the notebook, one explorer (3 epochs) at every batch size of its "
              "slider on each of its datasets, then every stop of momentum, noise, learning rate "
              "and seeds.")
    if over:
        print(f"over {LIMIT_MB} MB: {', '.join(name for name, _ in over)}")
    if not args.notebooks:
        programs_table()
    # The limit is the notebooks' own run; a heavy session is reported, not failed.
    if any(plain for _, plain in over):
        return 1
    print(f"every notebook's own run stayed under {LIMIT_MB} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
