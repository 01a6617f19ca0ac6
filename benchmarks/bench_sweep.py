"""The sweep of Jason Brownlee's batch-size tutorial (Machine Learning Mastery) through helpers.sweep,
against plain model.fit.

The sweep: batch sizes 4, 8, 16, 32, 64, 128, 256, 450 at learning rate 0.01,
200 epochs, 5 seeds each (40 runs) on the 500/500 blobs with
Dense(50, relu, he_uniform) -> Dense(3, softmax), SGD momentum 0.9, the test
split evaluated every epoch. Goal: <= 30 s through helpers on 2 CPU cores.

Measured side by side in this one process:

1. ``helpers.sweep`` (no cache): the runs of each batch size trained as
   replicas in one compiled XLA program; the first use of each batch size
   compiles (included in the time, reported separately).
2. A plain loop over ``helpers.train``, one run at a time (``--skip-train-loop``
   leaves it out).
3. Plain ``model.fit`` with a fresh model per run, as a learner would write it.
   A full run takes minutes at small batches, so each batch size is fitted
   once for 1 + FIT_EPOCHS epochs with one seed: the median epoch after the
   first is the cost of an epoch, the rest of the call a fixed cost per run,
   and both are scaled to 200 epochs x 5 seeds. The output marks these
   figures as estimates.

Timings are wall-clock seconds and noisy when other programs share the CPU.

    .venv/bin/python benchmarks/bench_sweep.py
"""

import argparse
import logging
import time

import numpy as np

import helpers
from helpers._backend import keras
from helpers.engines import expected_retracing

BATCH_SIZES = [4, 8, 16, 32, 64, 128, 256, 450]
SEEDS = [0, 1, 2, 3, 4]
EPOCHS = 200
FIT_EPOCHS = 5
MODEL = dict(hidden_units=50, kernel_initializer="he_uniform")


class _EpochClock:
    """A Keras callback that records the wall time of each epoch."""

    def __init__(self):
        self.seconds = []

    def as_callback(self):
        clock = self

        class Callback(keras().callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                clock.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                clock.seconds.append(time.perf_counter() - clock.started)

        return Callback()


def estimate_fit(data, batch_size):
    """Estimated seconds of the 5 model.fit runs of one batch size, and its epoch cost.

    One fit of 1 + FIT_EPOCHS epochs: the median of the epochs after the
    first (which traces Keras's functions) is the cost of an epoch; the rest
    of the call (building, compiling, tracing) is a fixed cost per run.
    """
    clock = _EpochClock()
    start = time.perf_counter()
    model = helpers.build_mlp(data.n_features, data.n_classes, seed=0, **MODEL)
    model.compile(optimizer=keras().optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=1 + FIT_EPOCHS, verbose=0,
              validation_data=(data.x_val, data.y_val), callbacks=[clock.as_callback()])
    total = time.perf_counter() - start
    per_epoch = float(np.median(clock.seconds[1:]))
    fixed = total - per_epoch * len(clock.seconds)
    return len(SEEDS) * (fixed + EPOCHS * per_epoch), per_epoch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-train-loop", action="store_true",
                        help="leave out the one-run-at-a-time helpers.train loop")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    keras()
    import_seconds = time.perf_counter() - start
    data = helpers.load_blobs(n_samples=1000, train_size=500, cluster_std=2.0, random_state=2)
    runs = len(BATCH_SIZES) * len(SEEDS)
    print(f"Brownlee's tutorial sweep: {len(BATCH_SIZES)} batch sizes x {EPOCHS} epochs x "
          f"{len(SEEDS)} seeds = {runs} runs on {data!r}")
    print(f"(importing TensorFlow/Keras took {import_seconds:.1f} s, not counted below)\n")

    start = time.perf_counter()
    result = helpers.sweep(data, batch_sizes=BATCH_SIZES, learning_rates=[0.01], seeds=SEEDS,
                           epochs=EPOCHS, cache_dir=None, progress=False, **MODEL)
    sweep_seconds = time.perf_counter() - start
    # Each run carries its share of its group's compile time, so the runs' shares add up.
    compile_seconds = sum(r.compile_seconds for r in result.runs)
    per_batch = {b: sum(r.seconds for r in result.select(batch_size=b)) for b in BATCH_SIZES}

    loop_seconds = None
    if not args.skip_train_loop:
        start = time.perf_counter()
        for b in BATCH_SIZES:
            for seed in SEEDS:
                helpers.train(data, batch_size=b, epochs=EPOCHS, learning_rate=0.01, seed=seed, **MODEL)
        loop_seconds = time.perf_counter() - start

    print(f"{'batch':>5}  {'sweep training (s)':>18}  {'model.fit per epoch (s)':>23}  "
          f"{'model.fit, 5 runs (s)':>21}")
    fit_total = 0.0
    # A fresh model per run retraces Keras's step; TensorFlow would warn about each.
    logging.getLogger("tensorflow").addFilter(expected_retracing)
    for b in BATCH_SIZES:
        estimate, per_epoch = estimate_fit(data, b)
        fit_total += estimate
        print(f"{b:>5}  {per_batch[b]:>18.2f}  {per_epoch:>23.3f}  {estimate:>20.0f}*")

    print(f"\nhelpers.sweep, all {runs} runs:           {sweep_seconds:7.1f} s "
          f"(of which XLA compilation ~{compile_seconds:.1f} s; goal <= 30 s)")
    if loop_seconds is not None:
        print(f"helpers.train, one run at a time:       {loop_seconds:7.1f} s "
              f"(its first run of each batch size compiles too)")
    print(f"plain model.fit, fresh model per run:   {fit_total:7.0f} s*  "
          f"(~{fit_total / sweep_seconds:.0f}x the sweep)")
    print(f"\n* estimated: model.fit timed for {1 + FIT_EPOCHS} epochs with one seed per batch size, "
          f"scaled to {EPOCHS} epochs x {len(SEEDS)} seeds.")
    print("Wall-clock timings; other programs sharing the CPU make them noisy.")


if __name__ == "__main__":
    main()
