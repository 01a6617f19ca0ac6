"""Where a notebook's seconds go: a probe that bench_notebooks.py runs inside the kernel.

The benchmark injects this file's source as the notebook's first cell (as a
module named ``_phase_probe``, so the notebook's namespace stays clean) and
reads :func:`report` in an appended last cell. Nothing in :mod:`helpers` is
changed: the probe wraps functions by name once their module is imported, and
names the ones it could not find (a renamed function shows up as a gap, not as
a silent zero).

Time is attributed to the innermost phase on the main thread, so a cell's
seconds split without double counting:

- ``import``: the first import of a heavy package (TensorFlow, Keras,
  matplotlib, scikit-learn, ...; ``helpers`` itself);
- ``setup``: building models (``build_mlp``), the trainers' engines, Keras's
  ``Model.compile``;
- ``trace`` and ``compile``: a ``tf.function`` call that traced. Its tracing
  is TensorFlow's own graph-building timer; the rest of that call (graph
  optimisation, XLA compilation or a load from the persistent XLA cache, and
  the one execution that triggers it) is ``compile``;
- ``train``: ``helpers.train``, ``train_replicas``, ``sweep``,
  ``loss_after_each_update`` outside their set-up, tracing and compiling;
- ``evaluate``: Keras ``predict`` / ``evaluate`` and the gradient measurements;
- ``fit demos``: ``model.fit`` and ``helpers.measure_step_costs``, whole
  (their own tracing and compiling included: they are the deliberate
  demonstrations of Keras's speed);
- ``plot``: the plotting helpers and matplotlib's rendering of figures;
- ``sweep cache``: reading and writing the sweep's result files;
- ``other``: the rest of each cell's wall time.

It also counts the programs the kernel compiled and stored in the persistent
XLA cache (:mod:`helpers.compile_cache`), where there is one: a second run
that finds every program stores none.
"""

import builtins
import json
import sys
import threading
import time

PHASES = ("import", "setup", "trace", "compile", "train", "evaluate", "fit demos", "plot",
          "sweep cache", "other")
HEAVY = {"tensorflow", "keras", "matplotlib", "sklearn", "scipy", "pandas", "ipywidgets",
         "helpers", "tqdm", "psutil"}
#: Wrapped when their module is imported: (module, attribute path, phase). A
#: phase in ABSORBING keeps everything inside it.
TARGETS = [
    ("helpers.models", "build_mlp", "setup"),
    ("helpers.replicas", "build_replica_mlp", "setup"),
    ("helpers.training", "_Engine.__init__", "setup"),
    ("helpers.replicas", "_ReplicaEngine.__init__", "setup"),
    ("helpers.training", "train", "train"),
    ("helpers.replicas", "train_replicas", "train"),
    ("helpers.sweep", "sweep", "train"),
    ("helpers.trace", "loss_after_each_update", "train"),
    ("helpers.sweep", "_Cache.load", "sweep cache"),
    ("helpers.sweep", "_Cache.save", "sweep cache"),
    ("helpers.gradients", "per_example_gradients", "evaluate"),
    ("helpers.gradients", "batch_gradient", "evaluate"),
    ("helpers.gradients", "gradient_noise", "evaluate"),
    ("helpers.gradients", "minibatch_gradient_error", "evaluate"),
    ("helpers.timing", "measure_step_costs", "fit demos"),
    ("helpers.widgets", "draw_explorer", "plot"),
    ("keras", "Model.fit", "fit demos"),
    ("keras", "Model.evaluate", "evaluate"),
    ("keras", "Model.predict", "evaluate"),
    ("keras", "Model.compile", "setup"),
    ("matplotlib.backend_bases", "FigureCanvasBase.print_figure", "plot"),
]
ABSORBING = {"fit demos"}

_MAIN = threading.main_thread().ident
_totals = dict.fromkeys(PHASES, 0.0)
_stack = []             # phase names; the innermost gets the time
_mark = [0.0]           # when the innermost phase last started counting
_absorbing = [0]        # depth of absorbing phases open
_missing = []
_wrapped = set()
_counts = {"traces": 0, "trace_names": {}}
_cells = []
_cell = {}
_started = [time.time()]


def _charge(now):
    if _stack:
        _totals[_stack[-1]] += now - _mark[0]
    _mark[0] = now


def _enter(phase):
    now = time.perf_counter()
    _charge(now)
    _stack.append(phase)


def _leave():
    now = time.perf_counter()
    _charge(now)
    _stack.pop()


def _main_thread():
    return threading.get_ident() == _MAIN


def _wrap(function, phase):
    absorbing = phase in ABSORBING

    def wrapper(*args, **kwargs):
        if _absorbing[0] or not _main_thread():
            return function(*args, **kwargs)
        _enter(phase)
        _absorbing[0] += absorbing
        try:
            return function(*args, **kwargs)
        finally:
            _absorbing[0] -= absorbing
            _leave()

    wrapper.__wrapped__ = function
    wrapper.__name__ = getattr(function, "__name__", "wrapped")
    wrapper.__doc__ = getattr(function, "__doc__", None)
    return wrapper


def _patch(module_name, path, phase):
    module = sys.modules[module_name]
    owner, *rest = path.split(".")
    if rest:  # a method: patch the class attribute
        cls = getattr(module, owner, None)
        if cls is None or not hasattr(cls, rest[0]):
            _missing.append(f"{module_name}.{path}")
            return
        setattr(cls, rest[0], _wrap(getattr(cls, rest[0]), phase))
        return
    function = getattr(module, owner, None)
    if function is None:
        _missing.append(f"{module_name}.{path}")
        return
    wrapper = _wrap(function, phase)
    # Every helpers module that imported the function by name gets the wrapper.
    for name, other in list(sys.modules.items()):
        if name == module_name or name.startswith("helpers"):
            for attr, value in list(vars(other).items()):
                if value is function:
                    setattr(other, attr, wrapper)


def _patch_tf_function():
    from tensorflow.python.eager.polymorphic_function import polymorphic_function, tracing_compilation

    counter = tracing_compilation._graph_building_time_counter.get_cell()
    original = polymorphic_function.Function.__call__

    def call(self, *args, **kwargs):
        if _absorbing[0] or not _main_thread() or (_stack and _stack[-1] == "tf.function"):
            return original(self, *args, **kwargs)
        traces = self.experimental_get_tracing_count()
        building = counter.value()
        _enter("tf.function")
        _totals["tf.function"] = 0.0
        try:
            return original(self, *args, **kwargs)
        finally:
            _leave()
            own = _totals.pop("tf.function")
            if self.experimental_get_tracing_count() > traces:
                traced = min(own, (counter.value() - building) / 1e6)
                _totals["trace"] += traced
                _totals["compile"] += own - traced
                _counts["traces"] += 1
                name = getattr(self, "__name__", "?")
                _counts["trace_names"][name] = _counts["trace_names"].get(name, 0) + 1
            elif _stack:
                _totals[_stack[-1]] += own
            else:
                _totals["other"] += own

    polymorphic_function.Function.__call__ = call


_original_import = builtins.__import__


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    top = name.partition(".")[0]
    if (level or top not in HEAVY or top in sys.modules or (_stack and _stack[-1] == "import")
            or not _main_thread()):
        module = _original_import(name, globals, locals, fromlist, level)
    else:
        _enter("import")
        try:
            module = _original_import(name, globals, locals, fromlist, level)
        finally:
            _leave()
    _install_new()
    return module


def _install_new():
    if not _stack or _stack[-1] != "import":
        for module_name in {t[0] for t in TARGETS} | {"tensorflow"}:
            if module_name in sys.modules and module_name not in _wrapped:
                # helpers.* are patched only when the whole package is in (names are re-exported).
                if module_name.startswith("helpers") and "helpers.widgets" not in sys.modules:
                    continue
                if module_name == "keras" and not hasattr(sys.modules["keras"], "Model"):
                    continue
                _wrapped.add(module_name)
                if module_name == "tensorflow":
                    _patch_tf_function()
                    continue
                for target_module, path, phase in TARGETS:
                    if target_module == module_name:
                        _patch(target_module, path, phase)


def _pre_cell(info=None):
    _cell.clear()
    _cell.update(start=time.perf_counter(), totals=dict(_totals),
                 source=(getattr(info, "raw_cell", "") or "").strip())


def _post_cell(result=None):
    if "start" not in _cell:
        return
    wall = time.perf_counter() - _cell["start"]
    spent = sum(_totals[p] - _cell["totals"][p] for p in PHASES)
    _totals["other"] += max(0.0, wall - spent)
    first = next((line for line in _cell["source"].splitlines()
                  if line.strip() and not line.lstrip().startswith("#")), "")
    _cells.append(dict(seconds=wall, line=first[:70], peak_rss_mb=_peak_rss_mb(),
                       phases={p: _totals[p] - _cell["totals"][p] for p in PHASES}))


def install():
    """Start recording: wrap imports now, the named functions as their modules arrive."""
    _started[0] = time.time()
    builtins.__import__ = _import
    _install_new()
    shell = get_ipython()  # noqa: F821 - run inside IPython
    shell.events.register("pre_run_cell", _pre_cell)
    shell.events.register("post_run_cell", _post_cell)


def _peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _new_programs():
    """Programs this kernel compiled and stored in the persistent XLA cache (None: no cache)."""
    cache = sys.modules.get("helpers.compile_cache")
    folder = cache.folder() if cache is not None and hasattr(cache, "folder") else None
    if folder is None:
        return None
    return sum(1 for p in folder.glob("*.pb") if p.stat().st_mtime >= _started[0])


def report():
    """The phase totals, per-cell times, traces and the kernel's peak RSS, as one JSON line."""
    return json.dumps(dict(phases=_totals, cells=_cells, traces=_counts["traces"],
                           trace_names=_counts["trace_names"], peak_rss_mb=_peak_rss_mb(),
                           new_programs=_new_programs(), missing=_missing))
