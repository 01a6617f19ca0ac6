"""Train many copies ("replicas") of the course's MLP at once, in one compiled program.

:func:`train_replicas` stacks ``K`` copies along a replica axis (``EinsumDense`` kernels ``[K, in, out]``) and
trains them in one XLA program per chunk of epochs. The loss is the sum of the replicas' losses, so each
replica's gradient is its own; the SGD's learning rate is a vector along the replica axis (not a scaled loss,
which would round differently). Replica ``k`` thus follows ``helpers.train(..., seed=seeds[k], ...)``.
"""

import contextlib
import time

import numpy as np

from . import compile_cache
from ._backend import keras, tf
from ._checks import check_bool, check_int, check_sequence
from .models import initial_weights
from .engines import PROGRAMS, engine_for, momentum_sgd, one_at_a_time, timed_compile
from .pipeline import check_architecture, check_dataset, plan_runs
from .result import HISTORY_KEYS, first_divergence

__all__ = ["train_replicas", "run_plan", "build_replica_mlp", "CHUNK_EPOCHS"]

#: Epochs per call of the compiled program: little Python overhead, a lively progress bar.
CHUNK_EPOCHS = 50


def build_replica_mlp(n_features, n_classes, *, replicas, hidden_units=32, activation="relu"):
    """Build ``replicas`` side-by-side copies of :func:`helpers.build_mlp`.

    Inputs ``(batch, replicas, n_features)`` give probabilities ``(batch, replicas, n_classes)``;
    replica ``k`` sees only ``x[:, k]``. :func:`train_replicas` loads each replica's weights.

    >>> model = build_replica_mlp(2, 3, replicas=4)
    >>> model.output_shape
    (None, 4, 3)
    """
    replicas = check_int("replicas", replicas, low=1)
    k = keras()
    return k.Sequential([
        k.Input(shape=(replicas, n_features)),
        k.layers.EinsumDense("brf,rfh->brh", output_shape=(replicas, hidden_units),
                             bias_axes="rh", activation=activation, name="hidden"),
        k.layers.EinsumDense("brh,rhc->brc", output_shape=(replicas, n_classes),
                             bias_axes="rc", activation="softmax", name="output"),
    ], name=f"mlp_{hidden_units}_x{replicas}")


def _replica_sgd(replicas):
    """The trainer's SGD (momentum in a variable) with a learning rate per replica (leading axis)."""
    class ReplicaSGD(momentum_sgd()):
        def __init__(self):
            super().__init__(learning_rate=1.0)
            self.replica_rates = tf().Variable(np.ones(replicas, np.float32), trainable=False, name="replica_rates")

        def update_step(self, gradient, variable, learning_rate):
            # [K] -> [K, 1, ...] to multiply each replica's slice by its own rate.
            shape = (replicas,) + (1,) * (len(variable.shape) - 1)
            return super().update_step(gradient, variable, keras().ops.reshape(self.replica_rates, shape))

    return ReplicaSGD()


class _ReplicaEngine:
    """A replica model + SGD whose compiled chunk programs (in ``PROGRAMS``) are reused."""

    def __init__(self, key, n_features, n_classes, replicas, hidden_units, activation):
        self.key = key
        self.replicas = replicas
        self.model = build_replica_mlp(n_features, n_classes, replicas=replicas, hidden_units=hidden_units,
                                       activation=activation)
        self.optimizer = _replica_sgd(replicas)
        self.optimizer.build(self.model.trainable_variables)
        self._optimizer_start = [v.numpy() for v in self.optimizer.variables]
        self._loss = keras().losses.sparse_categorical_crossentropy
        self._tf = tf()

    def start(self, weights, momentum):
        self.model.set_weights(weights)
        for v, value in zip(self.optimizer.variables, self._optimizer_start):
            v.assign(value)
        self.optimizer.momentum_value.assign(momentum)

    def _step(self, x, y, weight, count):
        """One SGD update of every replica; its loss (mean over ``count`` samples of ``weight`` 1) and hits."""
        t = self._tf
        variables = self.model.trainable_variables
        with t.GradientTape() as tape:
            probs = self.model(x, training=True)
            losses = t.reduce_sum(self._loss(y, probs) * weight[:, None], axis=0) / count
            total = t.reduce_sum(losses)
        grads = tape.gradient(total, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return losses, self._hits(y, probs, weight)

    def _hits(self, y, probs, weight=None):
        t = self._tf
        predicted = t.cast(t.argmax(probs, axis=-1), y.dtype)
        hits = t.cast(t.equal(predicted, y), t.float32)
        # No weight of ones for the validation split: its folded name would defeat the compile cache.
        return t.reduce_sum(hits if weight is None else hits * weight[:, None], axis=0)

    def _run_chunk(self, x, y, x_valid, y_valid, order, rates, n_epochs, batch_size, eval_every=0, start=0):
        """Per-epoch logs, batch losses (and with ``eval_every``, a program of its own, validation losses or NaN)."""
        t = self._tf
        (n, n_features), replicas = x.shape, order.shape[1]
        steps = -(-n // batch_size)
        padding = steps * batch_size - n
        # A short last batch is padded with zero-weight samples: one compiled step serves every batch.
        weights = t.reshape(t.concat([t.ones((n,)), t.zeros((padding,))], 0), (steps, batch_size))
        counts = t.constant([batch_size] * (steps - 1) + [batch_size - padding], t.float32)
        n_val = x_valid.shape[0]
        x_val = t.broadcast_to(x_valid[:, None, :], (n_val, replicas, n_features))
        y_val = t.broadcast_to(y_valid[:, None], (n_val, replicas))
        span = order.shape[0]
        logs = {key: t.TensorArray(t.float32, size=span, element_shape=(replicas,)) for key in HISTORY_KEYS}
        batch_logs = t.TensorArray(t.float32, size=span, element_shape=(steps, replicas))
        val_logs = t.TensorArray(t.float32, size=span, element_shape=(steps, replicas))

        def validation_loss():
            probs = self.model(x_val, training=False)
            return probs, t.reduce_sum(self._loss(y_val, probs), axis=0) / n_val

        # A plain while: autograph's tf.range loop gets a maximum_iterations, which XLA would compile anew.
        e = t.constant(0)
        while e < n_epochs:
            idx = t.concat([t.transpose(order[e]), t.zeros((padding, replicas), t.int32)], 0)
            xs = t.reshape(t.gather(x, idx), (steps, batch_size, replicas, n_features))
            ys = t.reshape(t.gather(y, idx), (steps, batch_size, replicas))
            self.optimizer.replica_rates.assign(rates[e])
            loss_sum = t.zeros((replicas,))
            hits = t.zeros((replicas,))
            per_batch = t.TensorArray(t.float32, size=steps, element_shape=(replicas,))
            per_val = t.TensorArray(t.float32, size=steps, element_shape=(replicas,))
            for i in t.range(steps):
                losses, h = self._step(xs[i], ys[i], weights[i], counts[i])
                # Keras's loss tracker weights each batch's mean by its size.
                loss_sum += losses * counts[i]
                hits += h
                per_batch = per_batch.write(i, losses)
                if eval_every:
                    due = (start + e * steps + i + 1) % eval_every == 0
                    per_val = per_val.write(i, t.cond(due, lambda: validation_loss()[1],
                                                      lambda: t.fill((replicas,), t.constant(np.nan, t.float32))))
            probs, val_loss = validation_loss()
            values = dict(loss=loss_sum / n, accuracy=hits / n, val_loss=val_loss,
                          val_accuracy=self._hits(y_val, probs) / n_val)
            logs = {key: logs[key].write(e, values[key]) for key in HISTORY_KEYS}
            batch_logs = batch_logs.write(e, per_batch.stack())
            if eval_every:
                val_logs = val_logs.write(e, per_val.stack())
            e += 1
        logs = {key: logs[key].stack() for key in HISTORY_KEYS}
        return (logs, batch_logs.stack()) + ((val_logs.stack(),) if eval_every else ())

    def run(self, tensors, order, rates, n_epochs, batch_size, eval_every=0, start=0):
        """Compile if needed, run a chunk: (logs, with ``val_trace`` if ``eval_every``; batch_losses; seconds;
        compile_seconds)."""
        t = self._tf
        order = t.constant(order, dtype=t.int32)
        rates = t.constant(rates, dtype=t.float32)
        key = (self.key, int(tensors[0].shape[0]), int(tensors[2].shape[0]), CHUNK_EPOCHS, batch_size)
        extra = ()
        if eval_every:
            key += (("eval_every", eval_every),)
            extra = (eval_every, t.constant(start, t.int32))
        program = PROGRAMS.get(key)
        compile_seconds = 0.0
        if program is None:
            program = t.function(self._run_chunk, jit_compile=True, reduce_retracing=False)
            # Zero epochs: XLA compiles the whole program, no weight moves.
            with compile_cache.stable_names("replicas", self.model.name, key):
                compile_seconds = timed_compile(lambda: program(*tensors, order, rates, t.constant(0), batch_size,
                                                                *extra))
            compile_cache.seal()
            PROGRAMS.put(key, program)
        began = time.perf_counter()
        out = program(*tensors, order, rates, t.constant(n_epochs), batch_size, *extra)
        logs = {k: v.numpy()[:n_epochs] for k, v in out[0].items()}
        if eval_every:
            logs["val_trace"] = out[2].numpy()[:n_epochs]
        return logs, out[1].numpy()[:n_epochs], time.perf_counter() - began, compile_seconds

    def score(self, x, y):
        """Every replica's (loss, accuracy) on ``x``, ``y`` with its current weights."""
        t = self._tf
        probs = self.model(t.broadcast_to(t.constant(x)[:, None, :], (x.shape[0], self.replicas, x.shape[1])),
                           training=False)
        labels = t.broadcast_to(t.constant(y)[:, None], probs.shape[:2])
        loss = t.reduce_mean(self._loss(labels, probs), axis=0).numpy()
        return loss, (self._hits(labels, probs) / x.shape[0]).numpy()


def _chunks(sizes):
    """Split per-epoch batch sizes into (first, stop, size): one size, <= CHUNK_EPOCHS epochs."""
    first = 0
    for epoch in range(1, len(sizes) + 1):
        if epoch == len(sizes) or sizes[epoch] != sizes[first] or epoch - first == CHUNK_EPOCHS:
            yield first, epoch, sizes[first]
            first = epoch


def train_replicas(data, *, batch_size, epochs, learning_rates, seeds, momentum=0.9,
                   hidden_units=32, activation="relu", kernel_initializer="glorot_uniform",
                   shuffle=True, pad_to=8, progress=False, test=False, eval_every=None):
    """Train ``K`` independent MLPs (one per seed/learning rate) in one compiled program.

    Replica ``k`` reproduces ``helpers.train(data, learning_rate=learning_rates[k], seed=seeds[k], ...)`` up to
    XLA's floating-point reordering; all share the batch size. Arguments are as in :func:`helpers.train`, but
    ``learning_rates`` and ``seeds`` hold one per replica (a learning rate may be a per-epoch schedule).
    ``pad_to`` pads the group with repeats of its first replica (dropped) to a multiple of it, so that calls with
    3 or 8 replicas share one compiled program. ``eval_every``: also the validation loss after every
    ``eval_every``-th update, as each result's ``val_loss_by_update`` (NaN where not computed;
    :func:`helpers.steps_to_target` reads it; small values cost time).

    Returns one TrainResult per replica, in order, without a model. A run's ``seconds`` and ``compile_seconds``
    are the program's wall time (validation passes included) divided by the number of real runs: the real runs
    pay for the padding. TypeError or ValueError on a bad argument (the message names it and echoes the value).

    >>> from helpers import load_blobs
    >>> runs = train_replicas(load_blobs(), batch_size=32, epochs=3,
    ...                       learning_rates=[0.01, 0.1], seeds=[0, 0])
    >>> [r.epochs_run for r in runs]
    [3, 3]
    """
    data = check_dataset(data)
    pad_to = check_int("pad_to", pad_to, low=1, high=64)
    for name, value in (("progress", progress), ("test", test)):
        check_bool(name, value)
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, low=1)
    learning_rates = check_sequence("learning_rates", learning_rates, "learning rates or schedules (one per run)")
    seeds = check_sequence("seeds", seeds, "ints (one per run)")
    architecture = check_architecture(hidden_units, activation, kernel_initializer)
    plan = plan_runs(data, batch_size=batch_size, epochs=epochs, learning_rates=learning_rates, seeds=seeds,
                     momentum=momentum, shuffle=shuffle, architecture=architecture)
    return run_plan(plan, pad_to=pad_to, progress=progress, test=test, eval_every=eval_every)


@one_at_a_time
def run_plan(plan, *, pad_to=8, progress=False, test=False, eval_every=None):
    """Train a checked :class:`helpers.pipeline.RunPlan`'s runs together: :func:`train_replicas` past its door."""
    data, architecture = plan.data, plan.architecture
    n_train, wanted = data.n_train, plan.runs
    padded = -(-wanted // pad_to) * pad_to
    all_seeds = list(plan.seeds) + [plan.seeds[0]] * (padded - wanted)
    rates = np.concatenate([plan.learning_rates, np.repeat(plan.learning_rates[:1], padded - wanted, axis=0)])
    rates = rates.astype(np.float32).T     # [epochs, replicas]
    singles = [initial_weights(data.n_features, data.n_classes, **architecture, seed=s) for s in all_seeds]
    shape = (data.n_features, data.n_classes, padded, architecture["hidden_units"], architecture["activation"])
    key = ("replicas", *shape)
    engine = engine_for(key, lambda: _ReplicaEngine(key, *shape))
    engine.start([np.stack(parts) for parts in zip(*singles)], plan.momentum)
    t = tf()
    tensors = tuple(t.constant(a) for a in (data.x_train, data.y_train, data.x_val, data.y_val))
    rngs = [np.random.default_rng(s) for s in all_seeds]
    logs = {key: np.zeros((0, padded)) for key in HISTORY_KEYS}
    batch_loss, epoch_updates, epoch_seconds, val_trace = [], [], [], []
    compile_seconds, bar = 0.0, contextlib.nullcontext()
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=plan.epochs, desc=f"{wanted} runs at once", leave=False)
    with bar:   # closes a tqdm bar
        for first, stop, size in _chunks(plan.batch_sizes):
            count = stop - first
            chunk_rates = np.ones((CHUNK_EPOCHS, padded), dtype=np.float32)
            chunk_rates[:count] = rates[first:stop]
            # Each replica's sample order, as helpers.train draws them.
            order = np.zeros((CHUNK_EPOCHS, padded, n_train), dtype=np.int32)
            for e in range(count):
                for k, rng in enumerate(rngs):
                    order[e, k] = rng.permutation(n_train) if plan.shuffle else np.arange(n_train)
            out, losses, seconds, compiled = engine.run(tensors, order, chunk_rates, count, size,
                                                        *((eval_every, sum(epoch_updates)) if eval_every else ()))
            compile_seconds += compiled
            if eval_every:
                trace = out.pop("val_trace")
                trace[:, -1] = out["val_loss"]      # epoch ends: the history's own value
                val_trace.extend(trace)
            logs = {key: np.concatenate([logs[key], out[key]]) for key in HISTORY_KEYS}
            batch_loss.extend(losses)
            epoch_updates.extend([losses.shape[1]] * count)
            # Padding replicas are wasted work that the real runs pay for.
            epoch_seconds.extend([seconds / count / wanted] * count)
            if progress:
                bar.update(count)
            divergence = first_divergence(logs["loss"], logs["val_loss"], data.n_classes)
            if all(d is not None for d in divergence[:wanted]):
                break
    # A diverged run's replica trained on with the others: a test score would be of later weights.
    scores = engine.score(data.x_test, data.y_test) if test else None
    results = []
    for k in range(wanted):
        stop = divergence[k] or len(epoch_updates)
        results.append(plan.result(k, history={key: logs[key][:stop, k] for key in HISTORY_KEYS},
            batch_loss=np.concatenate([b[:, k] for b in batch_loss[:stop]]), epoch_updates=epoch_updates[:stop],
            epoch_seconds=epoch_seconds[:stop], compile_seconds=compile_seconds / wanted, diverged_at=divergence[k],
            test=(None, None) if scores is None or divergence[k] is not None else (scores[0][k], scores[1][k]),
            jit_compile=True, trainer="replicas"))
        if eval_every:
            results[-1].val_loss_by_update = np.concatenate([v[:, k] for v in val_trace[:stop]])
    return results
