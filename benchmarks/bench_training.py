"""Plain model.fit against helpers.train on the experiment of bnomial's blog post
"The wrong batch size is all it takes".

Prints seconds and speed-ups for batch sizes 1, 32 and 800 (800/200 blobs,
Dense(32, relu) -> Dense(3, softmax), SGD lr 0.01 momentum 0.9, 100 epochs,
validation on the test split every epoch). Both run in this one process, side
by side. model.fit is timed over fewer epochs where a full run would take
minutes, and scaled to 100 epochs; the output says so.

    .venv/bin/python benchmarks/bench_training.py
"""

import argparse
import time

import helpers
from helpers._backend import keras

EPOCHS = 100
FIT_EPOCHS = {1: 3, 32: 10, 800: 100}  # epochs actually run by plain model.fit


def time_fit(data, batch_size, epochs):
    model = helpers.build_mlp(seed=0)
    model.compile(optimizer=keras().optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs, verbose=0,
              validation_data=(data.x_val, data.y_val))
    return time.perf_counter() - start


def time_train(data, batch_size, seed):
    start = time.perf_counter()
    result = helpers.train(data, batch_size=batch_size, epochs=EPOCHS, learning_rate=0.01, seed=seed)
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32, 800])
    args = parser.parse_args(argv)
    data = helpers.load_blobs()
    print(f"{EPOCHS} epochs on {data!r}\n")
    header = (f"{'batch':>5}  {'model.fit (s)':>14}  {'train cold (s)':>14}  {'of it compile':>13}  "
              f"{'train warm (s)':>14}  {'speed-up cold':>13}  {'speed-up warm':>13}")
    print(header)
    print("-" * len(header))
    for batch_size in args.batch_sizes:
        fit_epochs = FIT_EPOCHS.get(batch_size, 10)
        fit_seconds = time_fit(data, batch_size, fit_epochs) * EPOCHS / fit_epochs
        cold, result = time_train(data, batch_size, seed=0)   # compiles this batch size
        warm, _ = time_train(data, batch_size, seed=1)         # reuses the compiled program
        scaled = "*" if fit_epochs != EPOCHS else " "
        print(f"{batch_size:>5}  {fit_seconds:>13.1f}{scaled}  {cold:>14.2f}  {result.compile_seconds:>13.2f}  "
              f"{warm:>14.2f}  {fit_seconds / cold:>12.0f}x  {fit_seconds / warm:>12.0f}x")
    print(f"\n* model.fit timed over {FIT_EPOCHS[1]} (batch 1) or {FIT_EPOCHS[32]} (batch 32) epochs "
          f"and scaled to {EPOCHS}.")
    print("cold: first run of a batch size in this process, XLA compile included; "
          "warm: another seed, compiled program reused.")


if __name__ == "__main__":
    main()
