"""What an update costs at each batch size, and the race of lesson 03 in seconds.

Backs the timing sentences of lesson 03 (tests never assert wall-clock times):

1. microseconds per update at batch sizes 1, 2, 4, ..., 512, 800 for plain
   ``model.fit`` and for ``helpers.train`` (``helpers.measure_step_costs``),
   repeated ``--repeats`` times in this one process, the fastest of each kept;
2. seconds of training each batch size needs to first reach a test loss of
   0.40 at its own learning rate (1: 1e-4, 32: 3e-3, 800: 0.1), seeds 0-4,
   with ``helpers.train`` (compiled);
3. lesson 05's cost table: seconds of one 200-epoch run at each batch size of
   Brownlee's sweep (500 training points, Dense(50)), as the lesson times it
   (200 times the median epoch), and the ratio of batch 4 to batch 256
   (62.5 times the updates).

    .venv/bin/python benchmarks/bench_step_costs.py [--repeats 3]
"""

import argparse

import numpy as np

import helpers

BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 800]
TUNED = {1: 1e-4, 32: 3e-3, 800: 0.1}
TARGET = 0.40


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    data = helpers.load_blobs()

    runs = [helpers.measure_step_costs(data, BATCH_SIZES) for _ in range(args.repeats)]
    fastest = {name: np.min([r.seconds_per_update[name] for r in runs], axis=0)
               for name in runs[0].seconds_per_update}
    print(f"Microseconds per update (fastest of {args.repeats}), 800/200 blobs, Dense(32) MLP:")
    print(f"{'batch':>6s} {'model.fit':>10s} {'helpers.train':>14s} {'ratio':>7s}")
    for i, b in enumerate(BATCH_SIZES):
        fit, compiled = fastest["model.fit"][i] * 1e6, fastest["helpers.train"][i] * 1e6
        print(f"{b:6d} {fit:10.1f} {compiled:14.1f} {fit / compiled:7.0f}x")
    for name, seconds in fastest.items():
        print(f"{name}: batch 800 costs {seconds[-1] / seconds[0]:.1f}x batch 1 per update, "
              f"{seconds[0] * 800 / seconds[-1]:.0f}x less per example")

    print(f"\nSeconds of helpers.train training to a test loss of {TARGET} (each at its own learning rate):")
    for b, lr in TUNED.items():
        seconds, updates = [], []
        for seed in range(5):
            run = helpers.train(data, batch_size=b, epochs=100, learning_rate=lr, seed=seed)
            epoch = helpers.steps_to_target(run, TARGET, x="epoch")
            seconds.append(np.cumsum(run.epoch_seconds)[epoch - 1])
            updates.append(int(run.updates[epoch - 1]))
        print(f"  batch {b:3d}, lr {lr:g}: {np.median(seconds):.3f} s (median of 5 seeds, "
              f"{min(seconds):.3f}-{max(seconds):.3f}), {int(np.median(updates)):,} updates")


    print("\nLesson 05: seconds per 200-epoch run (200 x median epoch, fastest of the repeats):")
    data_b = helpers.load_blobs(n_samples=1000, train_size=500, cluster_std=2.0, random_state=2)
    per_run = {}
    for b in (4, 8, 16, 32, 64, 128, 256, 450):
        per_run[b] = min(200 * np.median(helpers.train(data_b, batch_size=b, epochs=200, learning_rate=0.01,
                                                       seed=0, hidden_units=50,
                                                       kernel_initializer="he_uniform").epoch_seconds)
                         for _ in range(args.repeats))
        print(f"  batch {b:3d}: {per_run[b]:.3f} s")
    print(f"  batch 4 / batch 256: 62.5x the updates, {per_run[4] / per_run[256]:.1f}x the seconds")


if __name__ == "__main__":
    main()
