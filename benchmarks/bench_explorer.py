"""Latency of the explorer widget: from a control's change to its redrawn curves.

Changes are made the way the front end makes them (setting a control's value),
so every figure goes through the explorer's own path: its background thread
trains with helpers.train (100 epochs on the 800/200 blobs unless said
otherwise), draws the figure, encodes the PNG and sets the widgets. The goal is
at most 2 s per change at any batch size on a 2-core machine.

    .venv/bin/python benchmarks/bench_explorer.py

cold: the epoch program is compiled during the change (the first time a batch
size or dataset is used, with nothing compiled ahead; a new learning rate,
momentum, epochs or seeds never compiles). warm: compiled
before, by an earlier change or by the explorer's idle-time warm-up. Other processes on
the machine make single timings noisy; warm rows repeat each change and print
the median and the worst.
"""

import argparse
import statistics
import time

import helpers
from helpers.widgets import DATASETS

GOAL = 2.0
BNOMIAL, BROWNLEE, DIGITS = DATASETS  # the dropdown's names, in its order


def change(explorer, **values):
    """Set controls as the front end does; return (latency, compile seconds) of the redraw."""
    served = len(explorer.latencies)
    for name, value in values.items():
        explorer.controls[name].value = value
    if not explorer.wait(300):
        raise RuntimeError(f"the explorer did not redraw within 300 s after {values}")
    if len(explorer.latencies) == served:
        raise RuntimeError(f"no redraw after {values}: {explorer.error or 'unchanged value?'}")
    return explorer.latencies[-1], explorer.current.compile_seconds


def row(label, latencies, compile_seconds=None, note=""):
    worst = max(latencies)
    median = statistics.median(latencies)
    compiled = "" if compile_seconds is None else f"{compile_seconds:.2f}"
    flag = "ok" if worst <= GOAL else "OVER"
    print(f"{label:<44} {median:>8.2f} {worst:>8.2f} {compiled:>9}  {flag:<4}  {note}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each warm change")
    args = parser.parse_args(argv)
    data = helpers.load_blobs()
    full = data.n_train
    start = time.perf_counter()
    explorer = helpers.explore(batch_size=64, warm_up=False)
    print(f"first display (TensorFlow import, compile, train, draw): "
          f"{time.perf_counter() - start:.2f} s\n")
    header = f"{'change (100 epochs)':<44} {'median s':>8} {'worst s':>8} {'compile s':>9}  goal"
    print(header)
    print("-" * (len(header) + 30))

    for size in (1, 32, full):
        latency, compiled = change(explorer, batch_size=size)
        row(f"batch size -> {size}, cold", [latency], compiled)
    for seeds in (1, 3):
        explorer.controls["seeds"].value = seeds
        explorer.wait()
        for size in (1, 32, full):
            latencies = []
            for _ in range(args.repeats):
                change(explorer, batch_size=64)  # move away, then back to the batch size timed
                latencies.append(change(explorer, batch_size=size)[0])
            row(f"batch size -> {size}, warm, {seeds} seed{'s' * (seeds > 1)}", latencies)
    explorer.controls["seeds"].value = 1
    explorer.wait()
    for name, values in (("learning_rate", (0.1, 0.001)), ("epochs", (50, 100)),
                         ("cluster_std", (3.0, 2.0))):
        row(f"{name} changed, warm", [change(explorer, **{name: v})[0] for v in values])
    row("x-axis changed (redraw only)", [change(explorer, x=x)[0] for x in ("update", "epoch")])
    row("learning rate 10 (diverges at once)", [change(explorer, learning_rate=10.0)[0]],
        note=f"readout: diverged at epoch {explorer.current.diverged_at}")
    change(explorer, learning_rate=0.01)
    row("momentum changed (0.5, 0), first use", [change(explorer, momentum=m)[0] for m in (0.5, 0.0)])
    latency, compiled = change(explorer, dataset=DIGITS)
    row("dataset -> digits (new shapes), cold", [latency], compiled,
        note=f"batch size {explorer.current.settings['batch_size']}")
    change(explorer, dataset=BNOMIAL, momentum=0.9)

    # Rapid moves: ten changes in a burst train the last value once, not ten times.
    before = explorer.trainings
    for size in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512):
        explorer.controls["batch_size"].value = size
    explorer.wait()
    print(f"\nburst of 10 batch-size moves: {explorer.trainings - before} training(s) shown, "
          f"last value {explorer.current.settings['batch_size']}, "
          f"redrawn {explorer.latencies[-1]:.2f} s after the last move")

    # With warm-up (the default): while idle, the explorer compiles what one move of a control
    # would compile: the slider's batch sizes, and the other datasets at this batch size.
    # Its own data (shapes no change above compiled), so that a compile time of 0 is the
    # warm-up's doing.
    ahead = helpers.explore(helpers.load_blobs(n_samples=900, train_size=700), batch_size=64)
    start = time.perf_counter()
    ahead.wait(600, warm_up=True)
    print(f"\nwarm-up of the {len(ahead.controls['batch_size'].options) - 1} other batch sizes "
          f"and the {len(ahead.controls['dataset'].options) - 1} other datasets "
          f"(new 700/200 blobs): {time.perf_counter() - start:.1f} s in the background")
    for size in (1, 32, 700):
        latency, compiled = change(ahead, batch_size=size)
        row(f"batch size -> {size}, first use after warm-up", [latency], compiled)
    ahead.wait(600, warm_up=True)  # the learner pauses: the new batch size's neighbours compile
    latency, compiled = change(ahead, dataset=BROWNLEE)
    row("dataset -> blobs 500/500, first use after warm-up", [latency], compiled,
        note=f"batch size {ahead.current.settings['batch_size']}")
    # A change that lands while warm-up compiles waits for that compile to finish.
    for size, note in ((1, "warm-up compiles 1 first"), (4, "4 is compiled late: two compiles")):
        fresh = helpers.load_blobs(n_samples=800 + size, train_size=600)  # shapes new to this run
        during = helpers.explore(fresh, batch_size=64)
        time.sleep(0.3)  # warm-up has begun its first compile
        latency, compiled = change(during, batch_size=size)
        row(f"batch size -> {size} while warm-up compiles", [latency], compiled, note=note)
        during.close()
    for old in (explorer, ahead):
        old.close()


if __name__ == "__main__":
    main()
