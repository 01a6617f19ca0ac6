"""Where each notebook's seconds go, from a fresh kernel: a cold run, then a warm one.

Every notebook in notebooks/ (or those given) is copied into a fresh temporary
folder and run top to bottom with nbclient on a fresh kernel, twice:

1. cold: an empty folder (no sweep cache) and an empty per-user cache folder
   (``XDG_CACHE_HOME`` points into the temporary folder, so the persistent XLA
   cache starts empty and no other run's cache is touched);
2. warm: the same folders again on a new kernel, as after "Restart and run all".

The committed notebooks are never executed in place. A probe
(benchmarks/_phase_probe.py, injected as the first cell; its docstring defines
the phases) splits each cell's time into import, set-up, tracing, XLA
compilation, training, evaluation, the deliberate model.fit demonstrations,
plotting, sweep-cache I/O and the rest; ``kernel`` is the time outside the
cells (starting and stopping the kernel). The peak RSS is the kernel's own
high-water mark (VmHWM); ``compiled`` counts the XLA programs the kernel
compiled and stored in the persistent cache (``-``: no cache). The course total is the sum of the cold runs, each
with empty caches: an upper bound on running the course in order, where a later
lesson can reuse an earlier one's compiled programs.

    .venv/bin/python benchmarks/bench_notebooks.py                      # every notebook
    .venv/bin/python benchmarks/bench_notebooks.py notebooks/05_*.ipynb --runs 1
    .venv/bin/python benchmarks/bench_notebooks.py --json results.json --cells
    .venv/bin/python benchmarks/bench_notebooks.py --compare /tmp/old-checkout   # before/after

Targets (issue 12, on the 2-core machine): each notebook <= 45 s cold and its
warm run <= 60 % of its cold one; the course <= 4 min cold; kernel peak
<= 1.2 GB. Wall-clock times are noisy when other programs share the CPU: the
load average at the start and end is printed with the table.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("_phase_probe.py")
MARKER = "PHASE-PROBE-REPORT "
COLUMNS = ("import", "setup", "trace", "compile", "train", "evaluate", "fit demos", "plot",
           "sweep cache", "other")
NOTEBOOK_LIMIT_S, WARM_RATIO, COURSE_LIMIT_S, PEAK_LIMIT_MB = 45.0, 0.60, 240.0, 1.2 * 1024

SETUP_CELL = f"""\
import sys as _sys, types as _types
_probe = _types.ModuleType("_phase_probe")
exec(compile({PROBE.read_text()!r}, "_phase_probe.py", "exec"), _probe.__dict__)
_sys.modules["_phase_probe"] = _probe
_probe.install()
del _sys, _types, _probe
"""
REPORT_CELL = f"""\
import sys as _sys
print({MARKER!r} + _sys.modules["_phase_probe"].report())
"""


def run_notebook(path, folder, timeout=900):
    """Run a copy of ``path`` in ``folder`` on a fresh kernel; return the probe's figures."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP_CELL))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    line = next(line for line in text.splitlines() if line.startswith(MARKER))
    report = json.loads(line[len(MARKER):])
    cells = sum(c["seconds"] for c in report["cells"])
    report.update(total=total, kernel=total - cells)
    return report


def _load():
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _row(name, run, r):
    phases = r["phases"]
    return (f"{name:<36} {run:<9} {r['total']:6.1f} {r['kernel']:6.1f} "
            + " ".join(f"{phases[c]:{max(6, len(c))}.1f}" for c in COLUMNS)
            + f" {r['traces']:6d} {_count(r.get('new_programs')):>8} {r['peak_rss_mb']:7.0f}")


def _count(value):
    return "-" if value is None else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=2, choices=(1, 2),
                        help="1: the cold run only; 2 (default): cold, then warm")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--cells", action="store_true", help="print the five slowest cells of each run")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also run each notebook with the helpers package of DIR (e.g. an older "
                             "commit's checkout), right before this checkout's, so both see the "
                             "same load; its rows are marked 'base'")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    results, missing = {}, set()
    load_start = _load()
    header = (f"{'notebook':<36} {'run':<9} {'total':>6} {'kernel':>6} "
              + " ".join(f"{c:>{max(6, len(c))}}" for c in COLUMNS) + f" {'traces':>6} {'compiled':>8} {'peak MB':>7}")
    print("seconds per phase, each notebook on a fresh kernel (cold: empty caches; warm: again)\n")
    print(header)
    print("-" * len(header), flush=True)
    saved_xdg = os.environ.get("XDG_CACHE_HOME")
    # matplotlib keeps its font cache under XDG_CACHE_HOME too: keep using the usual one.
    import matplotlib

    os.environ.setdefault("MPLCONFIGDIR", matplotlib.get_cachedir())
    own_path = os.environ["PYTHONPATH"]
    variants = [("base", str(args.compare.resolve())), ("", own_path)] if args.compare else [("", own_path)]
    base_results = {}
    for path in paths:
        for variant, pythonpath in variants:
            os.environ["PYTHONPATH"] = pythonpath
            store = base_results if variant else results
            folder = Path(tempfile.mkdtemp(prefix="bench-notebooks-"))
            # The kernel inherits this: its per-user cache (the persistent XLA cache) starts empty.
            os.environ["XDG_CACHE_HOME"] = str(folder / "xdg-cache")
            try:
                for run in ("cold", "warm")[:args.runs]:
                    report = run_notebook(path, folder)
                    store.setdefault(path.name, {})[run] = report
                    if not variant:
                        missing.update(report["missing"])
                    print(_row(path.name, f"{variant} {run}".strip(), report), flush=True)
                    if args.cells:
                        for cell in sorted(report["cells"], key=lambda c: -c["seconds"])[:5]:
                            print(f"{'':<36}      {cell['seconds']:6.1f}  {cell['line']}  "
                                  f"(peak {cell['peak_rss_mb']:.0f} MB after it)")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                if saved_xdg is None:
                    os.environ.pop("XDG_CACHE_HOME", None)
                else:
                    os.environ["XDG_CACHE_HOME"] = saved_xdg
    os.environ["PYTHONPATH"] = own_path

    cold = {name: r["cold"] for name, r in results.items()}
    course = sum(r["total"] for r in cold.values())
    if base_results:
        base_course = sum(r["cold"]["total"] for r in base_results.values())
        print(f"\nbase ({args.compare}): course, sum of the cold runs: {base_course:.0f} s "
              f"({base_course / 60:.1f} min)")
    print(f"\ncourse, sum of the cold runs: {course:.0f} s ({course / 60:.1f} min; "
          f"target <= {COURSE_LIMIT_S / 60:.0f} min)")
    print(f"load average (1/5/15 min) at start {load_start}, at end {_load()} on {os.cpu_count()} cores")
    if missing:
        print(f"not found, so not timed by name: {', '.join(sorted(missing))}")
    print("\ntargets:")
    verdicts = []
    for name, r in results.items():
        checks = [f"cold {r['cold']['total']:.0f} s {'<=' if r['cold']['total'] <= NOTEBOOK_LIMIT_S else '>'} "
                  f"{NOTEBOOK_LIMIT_S:.0f}"]
        ok = r["cold"]["total"] <= NOTEBOOK_LIMIT_S
        if "warm" in r:
            ratio = r["warm"]["total"] / r["cold"]["total"]
            checks.append(f"warm/cold {ratio:.0%} {'<=' if ratio <= WARM_RATIO else '>'} {WARM_RATIO:.0%}")
            ok &= ratio <= WARM_RATIO
        peak = max(x["peak_rss_mb"] for x in r.values())
        checks.append(f"peak {peak:.0f} MB {'<=' if peak <= PEAK_LIMIT_MB else '>'} {PEAK_LIMIT_MB:.0f}")
        ok &= peak <= PEAK_LIMIT_MB
        verdicts.append(ok)
        print(f"  {name:<36} {'met ' if ok else 'MISS'}  " + ", ".join(checks))
    course_ok = course <= COURSE_LIMIT_S
    print(f"  {'course':<36} {'met ' if course_ok else 'MISS'}  {course:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(dict(results=results, base=base_results, course_cold=course,
                                             load_start=load_start, load_end=_load()), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
