"""Fast, Keras-faithful training: :func:`train` runs ``model.fit``'s computation.

Keras's own ``train_step`` runs once per batch, but all steps of an epoch run in one ``tf.function`` (XLA by
default), so a batch-1 epoch costs milliseconds instead of a second. Compiled programs are reused across runs
of one architecture.
"""

import re
import time

import numpy as np

from . import compile_cache
from ._backend import keras, tf
from ._checks import check_bool, check_int
from .models import build_mlp
from .engines import ENGINES, PROGRAMS, engine_for, momentum_sgd, one_at_a_time, timed_compile
from .pipeline import MODEL_DEFAULTS, check_architecture, check_dataset, check_model, plan_runs
from .result import HISTORY_KEYS, TrainResult, diverged

__all__ = ["TrainResult", "train", "updates_per_epoch", "program_key", "evaluation_key", "is_compiled", "HISTORY_KEYS"]


def updates_per_epoch(n_train, batch_size):
    """Number of parameter updates in one epoch: ``ceil(n_train / batch_size)``.

    >>> updates_per_epoch(800, 32), updates_per_epoch(500, 32), updates_per_epoch(800, 1)
    (25, 16, 800)
    """
    n_train = check_int("n_train", n_train, low=1)
    batch_size = check_int("batch_size", batch_size, low=1, high=n_train)
    return -(-n_train // batch_size)   # in integers: n_train / batch_size in floats rounds past 2**53


class _Engine:
    """A compiled model + SGD whose programs (in ``PROGRAMS``) every run reuses with its own weights and state."""

    def __init__(self, key, model, jit_compile):
        self.key = key
        self.model = model
        self.jit_compile = jit_compile
        model.compile(optimizer=momentum_sgd()(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        self.optimizer = model.optimizer
        self.optimizer.build(model.trainable_variables)
        self._optimizer_start = [v.numpy() for v in self.optimizer.variables]
        self._tf = tf()

    @property
    def usable(self):
        """False once the model was compiled again elsewhere (its optimizer is no longer ours)."""
        return self.model.optimizer is self.optimizer

    def _run_epoch(self, x, y, batch_size):
        t, model = self._tf, self.model
        full, rest = divmod(x.shape[0], batch_size)
        model.reset_metrics()
        running = t.TensorArray(t.float32, size=full + (rest > 0))
        xs = t.reshape(x[:full * batch_size], (full, batch_size, x.shape[1]))
        ys = t.reshape(y[:full * batch_size], (full, batch_size))
        logs = None
        for i in t.range(full):
            logs = model.train_step((xs[i], ys[i]))
            running = running.write(i, logs["loss"])
        if rest:
            logs = model.train_step((x[full * batch_size:], y[full * batch_size:]))
            running = running.write(full, logs["loss"])
        return {"loss": logs["loss"], "accuracy": logs["accuracy"]}, running.stack()

    def _evaluate(self, x, y):
        self.model.reset_metrics()
        logs = self.model.test_step((x, y))
        return {"loss": logs["loss"], "accuracy": logs["accuracy"]}

    def start(self, weights, learning_rate, momentum):
        self.model.set_weights(weights)
        for v, value in zip(self.optimizer.variables, self._optimizer_start):
            v.assign(value)
        self.optimizer.learning_rate.assign(learning_rate)
        self.optimizer.momentum_value.assign(momentum)

    def _compiled(self, key, function, args, *names):
        """The program of ``key``, compiling ``function`` on ``args`` if needed; and its seconds."""
        if (program := PROGRAMS.get(key)) is not None:
            return program, 0.0
        program = self._tf.function(function, jit_compile=self.jit_compile, reduce_retracing=False)
        # Keras's metrics built as model.fit builds them, so every program traces alike (compile cache).
        self.model._symbolic_build(data_batch=args[:2])
        # The first call traces and compiles; it may also train, so the state is put back.
        variables = self.model.variables + self.optimizer.variables
        state = [v.numpy() for v in variables]
        with compile_cache.stable_names(*names, self.model.name, self.jit_compile, key):
            seconds = timed_compile(lambda: program(*args))
        for v, value in zip(variables, state):
            v.assign(value)
        PROGRAMS.put(key, program)
        return program, seconds

    def program(self, tensors, batch_size):
        key = _epoch_key(self.key, int(tensors[0].shape[0]), batch_size)
        return self._compiled(key, self._run_epoch, (*tensors, batch_size), "train")

    def evaluation(self, tensors):
        return self._compiled(_evaluation_key(self.key, int(tensors[0].shape[0])), self._evaluate, tensors, "evaluate")

    def evaluate(self, program, tensors):
        return {k: float(v) for k, v in program(*tensors).items()}


def _engine_key(data, hidden_units, activation, jit_compile):
    return ("train", data.n_features, data.n_classes, hidden_units, activation, jit_compile)


def _epoch_key(engine_key, n_train, batch_size):
    return (engine_key, n_train, batch_size)


def _evaluation_key(engine_key, n_rows):
    return (engine_key, "evaluate", n_rows)


def program_key(data, *, batch_size, hidden_units=32, activation="relu", jit_compile=True):
    """The key of a run's compiled epoch program: runs with equal keys share one, a new key compiles."""
    return _epoch_key(_engine_key(data, hidden_units, activation, jit_compile), data.n_train, batch_size)


def evaluation_key(data, *, hidden_units=32, activation="relu", jit_compile=True):
    """The key of the validation pass a run of this shape uses (one per size of the validation split)."""
    return _evaluation_key(_engine_key(data, hidden_units, activation, jit_compile), data.n_val)


def is_compiled(data, *, batch_size, hidden_units=32, activation="relu", jit_compile=True):
    """Whether a run of this shape would find its epoch program and validation pass compiled."""
    shape = {"hidden_units": hidden_units, "activation": activation, "jit_compile": jit_compile}
    return program_key(data, batch_size=batch_size, **shape) in PROGRAMS and evaluation_key(data, **shape) in PROGRAMS


def _architecture(model):
    """A model's ``hidden_units``, ``activation``, ``kernel_initializer``; ``"custom"`` if not a build_mlp shape."""
    if len(model.layers) != 2 or not all(isinstance(layer, keras().layers.Dense) for layer in model.layers):
        return dict.fromkeys(MODEL_DEFAULTS, "custom")
    hidden = model.layers[0]
    # Keras's initializer classes are the CamelCase of their string names: HeUniform -> he_uniform.
    initializer = re.sub(r"(?<!^)(?=[A-Z])", "_", type(hidden.kernel_initializer).__name__).lower()
    return dict(hidden_units=int(hidden.units), activation=keras().activations.serialize(hidden.activation),
                kernel_initializer=initializer)


# Layer settings that do not change what a trained model computes from given weights.
_INITIAL_ONLY = ("name", "kernel_initializer", "bias_initializer")


def _is_course_mlp(model, data, architecture):
    """True if ``model`` computes what :func:`helpers.build_mlp` builds (the course's engine can train it)."""
    k = keras()
    if type(model) is not k.Sequential or architecture["hidden_units"] == "custom" \
            or not all(type(layer) is k.layers.Dense for layer in model.layers):
        return False
    try:
        reference = build_mlp(data.n_features, data.n_classes, hidden_units=architecture["hidden_units"],
                              activation=architecture["activation"])
    except (TypeError, ValueError):   # e.g. an activation build_mlp does not offer
        return False

    def settings(m):
        return [{key: v for key, v in layer.get_config().items() if key not in _INITIAL_ONLY} for layer in m.layers]

    return model.trainable and settings(model) == settings(reference) \
        and [w.shape for w in model.weights] == [w.shape for w in reference.weights]


def _check_model_fits(model, data):
    if not isinstance(model, keras().Model):
        raise TypeError(f"model must be a keras.Model or None, got {type(model).__name__}")
    outputs = check_model(model, data.x_train[:1])
    if outputs != data.n_classes:
        raise ValueError(f"model must output one probability per class ({data.n_classes}, "
                         f"data.n_classes), got {model.name!r} with {outputs} outputs")
    if not model.trainable_weights:
        raise ValueError(f"model must have trainable weights, got {model.name!r}, which has none "
                         f"(trainable=False?); SGD would have nothing to update")
    # The loss reads the outputs as probabilities: logits or sigmoids train on nonsense.
    probabilities = np.asarray(model(data.x_train[:16], training=False), dtype=np.float64)
    sums = probabilities.sum(axis=1)
    if not (np.all(probabilities >= 0) and np.all(probabilities <= 1) and np.allclose(sums, 1.0, atol=1e-3)):
        raise ValueError(f"model must output class probabilities (each in [0, 1], each row summing "
                         f"to 1, e.g. a softmax last layer), got {model.name!r}, whose outputs on "
                         f"the first rows of x_train sum to {sums.min():.3g}..{sums.max():.3g}")


@one_at_a_time
def train(data, *, batch_size, epochs, learning_rate, momentum=0.9, seed=0, model=None,
          hidden_units=MODEL_DEFAULTS["hidden_units"], activation=MODEL_DEFAULTS["activation"],
          kernel_initializer=MODEL_DEFAULTS["kernel_initializer"], shuffle=True, jit_compile=True,
          progress=False, test=False):
    """Train an MLP with SGD + momentum, exactly as ``model.fit`` would, but fast.

    Sparse categorical cross-entropy and accuracy; ``data``'s validation split is Keras's ``validation_data``
    (the ``val_`` keys of the history). Returns a :class:`TrainResult`; TypeError or ValueError on a bad
    argument (naming it and the value) or a ``model`` that does not fit the data.

    - ``batch_size``: int in ``[1, data.n_train]``, or a callable ``batch_size(epoch)`` (from 0).
    - ``learning_rate``: float > 0, or a callable ``learning_rate(epoch)``; ``momentum`` in ``[0, 1)``.
    - ``seed``: seeds the initial weights and the shuffling; same seed, same run.
    - ``model``: a keras.Model to train in place from its current weights (``seed`` then only seeds the
      shuffling); it must take ``data.n_features`` inputs and output ``data.n_classes`` probabilities. By default
      :func:`helpers.build_mlp` builds one from ``hidden_units``, ``activation``, ``kernel_initializer`` (which
      must keep their defaults with a ``model``).
    - ``shuffle``: shuffle the training set before every epoch, as ``model.fit`` does.
    - ``jit_compile``: compile each epoch with XLA (agrees with ``model.fit`` to about 1e-5); ``False``
      reproduces ``model.fit(jit_compile=False)`` bit for bit.
    - ``progress``: a tqdm bar over epochs. ``test``: also score the test split once, after the last epoch.

    >>> from helpers import load_blobs, train
    >>> result = train(load_blobs(), batch_size=32, epochs=5, learning_rate=0.01)
    >>> result.updates_per_epoch, len(result.history["val_loss"])
    (25, 5)
    """
    data = check_dataset(data)
    for name, value in (("jit_compile", jit_compile), ("progress", progress), ("test", test)):
        check_bool(name, value)
    if model is None:
        architecture = check_architecture(hidden_units, activation, kernel_initializer)
    else:
        given = dict(hidden_units=hidden_units, activation=activation, kernel_initializer=kernel_initializer)
        for name, value in given.items():
            if value != MODEL_DEFAULTS[name]:
                raise ValueError(f"{name} has no effect with model= (the model's own layers are "
                                 f"trained), got {name}={value!r}; build the model with it instead")
        _check_model_fits(model, data)
        architecture = _architecture(model)
    plan = plan_runs(data, batch_size=batch_size, epochs=epochs, learning_rates=[learning_rate], seeds=[seed],
                     momentum=momentum, shuffle=shuffle, architecture=architecture,
                     rate_names=["learning_rate"], seed_names=["seed"])
    seed, rates = plan.seeds[0], plan.learning_rates[0]
    result_model = build_mlp(data.n_features, data.n_classes, **architecture, seed=seed) if model is None else model
    if model is None or _is_course_mlp(model, data, architecture):
        key = _engine_key(data, architecture["hidden_units"], architecture["activation"], jit_compile)
        engine = engine_for(key, lambda: _Engine(key, build_mlp(
            data.n_features, data.n_classes, hidden_units=architecture["hidden_units"],
            activation=architecture["activation"]), jit_compile))
    else:   # another architecture: compiled on its first run, then kept
        key = ("model", id(model), jit_compile)
        if (old := ENGINES.get(key)) is not None and not old.usable:
            ENGINES.discard(lambda k: k == key)
            PROGRAMS.discard(lambda program: program[0] == key)
        engine = engine_for(key, lambda: _Engine(key, model, jit_compile))
    engine.start(result_model.get_weights(), rates[0], plan.momentum)
    t = tf()
    rng = np.random.default_rng(seed)
    n_train = data.n_train
    validation = (t.constant(data.x_val), t.constant(data.y_val))
    evaluation, compile_seconds = engine.evaluation(validation)
    history = {k: [] for k in HISTORY_KEYS}
    batch_loss, epoch_updates, epoch_seconds = [], [], []
    eval_seconds, diverged_at = 0.0, None
    epoch_iter = range(plan.epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="epochs", leave=False)
    for epoch in epoch_iter:
        size = plan.batch_sizes[epoch]
        order = rng.permutation(n_train) if plan.shuffle else np.arange(n_train)
        tensors = (t.constant(data.x_train[order]), t.constant(data.y_train[order]))
        program, seconds = engine.program(tensors, size)
        compile_seconds += seconds
        start = time.perf_counter()
        engine.optimizer.learning_rate.assign(rates[epoch])
        logs, running = program(*tensors, size)
        logs, running = {k: float(v) for k, v in logs.items()}, running.numpy()
        middle = time.perf_counter()
        logs.update({"val_" + k: v for k, v in engine.evaluate(evaluation, validation).items()})
        epoch_seconds.append(middle - start)
        eval_seconds += time.perf_counter() - middle
        for key in HISTORY_KEYS:
            history[key].append(logs[key])
        # Each batch's own mean loss, from Keras's running (sample-weighted) mean.
        sizes = np.full(len(running), size, dtype=np.float64)
        sizes[-1] = n_train - size * (len(running) - 1)
        batch_loss.append(np.diff(np.asarray(running, dtype=np.float64) * np.cumsum(sizes), prepend=0.0) / sizes)
        epoch_updates.append(len(running))
        if diverged(logs["loss"], logs["val_loss"], data.n_classes):
            diverged_at = epoch + 1
            break
    scores = (None, None)
    if test:
        held_out = (t.constant(data.x_test), t.constant(data.y_test))
        program, seconds = engine.evaluation(held_out)
        compile_seconds += seconds
        scores = tuple(engine.evaluate(program, held_out)[k] for k in ("loss", "accuracy"))
    if engine.model is not result_model:
        result_model.set_weights(engine.model.get_weights())
    return plan.result(0, history=history, batch_loss=np.concatenate(batch_loss), epoch_updates=epoch_updates,
                       epoch_seconds=epoch_seconds, compile_seconds=compile_seconds, diverged_at=diverged_at,
                       model=result_model, eval_seconds=eval_seconds, test=scores, jit_compile=jit_compile)
