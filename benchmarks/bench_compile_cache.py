"""The source sweep from a cold process: no compile cache, an empty one, a warm one.

Brownlee's sweep (batch sizes 4 ... 450 at learning rate 0.01, 200 epochs,
5 seeds: 40 runs, as in bench_sweep.py) and the issue's small case (batch 1
and batch 32, 100 epochs each, on the 800/200 blobs) are run, side by side in
this one invocation, each in a fresh Python process as a new kernel would:

1. ``off``: ``BATCH_SIZE_COURSE_XLA_CACHE=0``, every program compiled;
2. ``cold``: the persistent XLA cache on, in an empty per-user cache folder
   (``XDG_CACHE_HOME`` in a temporary folder), so it compiles and stores;
3. ``warm``: a new process on that folder, which loads the stored programs.

For each it prints the process's import time (TensorFlow and Keras), the
sweep's wall time (no sweep cache: every run trained) and how much of it was
tracing and compiling (``compile_seconds``, as the trainers report it), and
checks that all three gave the same histories.

Targets (issue 12, 2 cores): the sweep <= 12 s cold, <= 5 s warm; import
time is reported separately, as bench_sweep.py does. Wall-clock times are
noisy when other programs share the CPU; the load average is printed.

    .venv/bin/python benchmarks/bench_compile_cache.py [--repeat 2] [--helpers DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD_TARGET, WARM_TARGET = 12.0, 5.0

CHILD = """
import json, time
start = time.perf_counter()
import helpers
from helpers._backend import keras
keras()
imported = time.perf_counter() - start
source = helpers.load_blobs(n_samples=1000, train_size=500, cluster_std=2.0, random_state=2)
start = time.perf_counter()
result = helpers.sweep(source, batch_sizes=[4, 8, 16, 32, 64, 128, 256, 450], learning_rates=[0.01],
                       seeds=[0, 1, 2, 3, 4], epochs=200, cache_dir=None, progress=False,
                       hidden_units=50, kernel_initializer="he_uniform")
sweep = time.perf_counter() - start
blobs = helpers.load_blobs()
start = time.perf_counter()
pair = [helpers.train(blobs, batch_size=b, epochs=100, learning_rate=0.01) for b in (1, 32)]
small = time.perf_counter() - start
print(json.dumps(dict(
    imported=imported, sweep=sweep, sweep_compile=sum(r.compile_seconds for r in result.runs),
    small=small, small_compile=sum(r.compile_seconds for r in pair),
    histories=[r.history for r in result.runs + pair],
    folder=str(getattr(helpers, "compile_cache", None) and helpers.compile_cache.folder()))))
"""


def child(cache_home, root=ROOT, **env):
    environment = {k: v for k, v in os.environ.items() if k != "TF_XLA_FLAGS"}
    environment.update(PYTHONPATH=str(root), XDG_CACHE_HOME=str(cache_home), **env)
    done = subprocess.run([sys.executable, "-c", CHILD], env=environment, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds of off/cold/warm (default 1)")
    parser.add_argument("--helpers", type=Path, default=ROOT, metavar="DIR",
                        help="the folder whose helpers package the processes import (default: this "
                             "checkout), e.g. an older commit's, to measure before a change")
    args = parser.parse_args(argv)
    load = "/".join(f"{v:.1f}" for v in os.getloadavg())
    print("the source sweep (40 runs x 200 epochs) and batch 1 + batch 32 (100 epochs), "
          "each in a fresh process\n")
    header = (f"{'round':>5} {'cache':<5} {'import (s)':>10} {'sweep (s)':>9} {'of it compile':>13} "
              f"{'1 + 32 (s)':>10} {'of it compile':>13}")
    print(header)
    print("-" * len(header), flush=True)
    rows, same = [], True
    for round_ in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as home:
            for name, env in [("off", dict(BATCH_SIZE_COURSE_XLA_CACHE="0")), ("cold", {}), ("warm", {})]:
                r = child(Path(home), args.helpers, **env)
                rows.append((name, r))
                same &= r["histories"] == rows[0][1]["histories"]
                print(f"{round_:>5} {name:<5} {r['imported']:>10.1f} {r['sweep']:>9.1f} "
                      f"{r['sweep_compile']:>13.1f} {r['small']:>10.1f} {r['small_compile']:>13.1f}",
                      flush=True)
    best = {name: min(r["sweep"] for n, r in rows if n == name) for name in ("off", "cold", "warm")}
    print(f"\nsame histories in every process: {'yes' if same else 'NO'}")
    print(f"sweep, best of {args.repeat}: cold {best['cold']:.1f} s (target <= {COLD_TARGET:.0f}: "
          f"{'met' if best['cold'] <= COLD_TARGET else 'MISS'}), warm {best['warm']:.1f} s "
          f"(target <= {WARM_TARGET:.0f}: {'met' if best['warm'] <= WARM_TARGET else 'MISS'}), "
          f"no cache {best['off']:.1f} s")
    print(f"load average (1/5/15 min) at start {load}, at end "
          f"{'/'.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
