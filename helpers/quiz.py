"""Lesson 06's quiz: read a learning curve and say what produced it.

The questions are data (``quiz_bank.json``, format in ``quiz_bank.schema.json``). :func:`make_question`
picks a variant, an option order and a training seed from ``(seed, question id, draw)``;
:func:`check_answer` marks an answer; :class:`Quiz` keeps the tries and score (widgets:
:mod:`helpers.quiz_view`). Instructors get :func:`answer_key` and :func:`export_quiz` (``batch-size-quiz``).
"""

import argparse
import hashlib
import html
import json
import math
import numbers
import re
import string
import sys
import warnings
import zlib
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from ._backend import keras
from ._checks import check_choice, check_int, range_text
from ._display import figure_png
from .data import load_blobs, load_digits
from .plots import plot_curves, plot_side_by_side
from .pipeline import MAX_UPDATES
from .quiz_view import practice_panel, score_line, show_question
from .style import NEUTRAL_COLORS
from .training import train, updates_per_epoch

__all__ = ["Bank", "BankQuestion", "Option", "Run", "Figure", "Variant", "Question", "Feedback",
           "Attempt", "Quiz", "AnswerKey", "load_bank", "make_question", "check_answer",
           "train_question", "train_run", "build_quiz_model", "draw_question", "answer_key",
           "export_quiz", "main", "BANK_PATH", "MODELS"]

# Read through importlib.resources: the bank is package data wherever helpers is installed.
BANK_PATH = files(__package__) / "quiz_bank.json"
LETTERS = "ABCDEFGH"
LOADERS = {"load_blobs": load_blobs, "load_digits": load_digits}
METRICS = ("loss", "accuracy")
#: The networks a run can train: the course's MLP (built by helpers.train), or lesson 09's
#: net with batch normalisation (see :func:`build_quiz_model`).
MODELS = ("mlp", "batch-norm")
EXPORT_FORMAT = "batch-size-course quiz"
MAX_SEED = 2**32 - 1
#: The reference run of a figure: a light grey, beside the neutral colours of the runs asked about.
REFERENCE_COLOR = "#A6A6A6"


# --- reading JSON with the file and the field named ----------------------------

_MISSING = object()
#: How an error names a JSON type.
_TYPES = {"object": "a JSON object", "array": "a list", "string": "a string", "integer": "an integer",
          "number": "a number", "boolean": "true or false", "null": "null"}


def _fail(where, name, problem, value=_MISSING):
    got = "" if value is _MISSING else f", got {_short(value)}"
    raise ValueError(f"{where}: {name} {problem}{got}")


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _join(name, key):
    return f"{name}.{key}" if name else key


@cache
def _validator(schema_name):
    """A checker for a JSON Schema of helpers/: an integer is an int (not 32.0 or true), a number is finite."""
    import jsonschema  # here, not at import: `import helpers` stays quick
    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine_many({
        "integer": lambda _, v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda _, v: isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)})
    schema = json.loads((files(__package__) / schema_name).read_text(encoding="utf-8"))
    return jsonschema.validators.extend(base, type_checker=checker)(schema)


def _wording(schema, error):
    """What a value that fails ``schema`` must be, where the schema gives no ``x-message``."""
    if "enum" in schema:
        return f"must be one of {', '.join(map(str, schema['enum']))}"
    if "const" in schema:
        return f"must be {schema['const']!r}"
    if error.validator in ("minItems", "uniqueItems", "minProperties"):
        return {"minItems": "must be a non-empty list", "uniqueItems": "must be distinct",
                "minProperties": "must not be empty"}[error.validator]
    if "type" not in schema:
        return error.message
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    low_open, high_open = "exclusiveMinimum" in schema, "exclusiveMaximum" in schema
    low = schema.get("exclusiveMinimum" if low_open else "minimum")
    high = schema.get("exclusiveMaximum" if high_open else "maximum")
    bounds = (f" in {range_text(low, high, low_open=low_open, high_open=high_open)}" if high is not None
              else "" if low is None else f" {'>' if low_open else '>='} {low}")
    return f"must be {' or '.join(_TYPES[t] for t in types)}{bounds}"


def _validate(obj, where, schema_name, *, ids=True):
    """``obj`` if it fits the schema; else the first misfit, naming the file and the field (with
    ``ids``, also the question's id: ``questions[3] (flat-curve)``)."""
    error = next(_validator(schema_name).iter_errors(obj), None)
    if error is None:
        return obj
    name, node = "", obj
    for key in error.absolute_path:
        node = node[key]
        name = f"{name}[{key}]" if isinstance(key, int) else _join(name, key)
        if ids and name.startswith("questions[") and name.endswith("]") and isinstance(node, dict) \
                and isinstance(node.get("id"), str):
            name += f" ({node['id']})"
    schema, value = error.schema, error.instance
    if "x-message" in schema:
        _fail(where, name or "the file", schema["x-message"], value)
    if error.validator == "required":
        _fail(where, _join(name, next(k for k in error.validator_value if k not in value)), "is missing")
    if error.validator == "additionalProperties":
        known = tuple(schema.get("properties", ()))
        _fail(where, _join(name, sorted(set(value) - set(known))[0]),
              f"is not a known field (known: {', '.join(known)})")
    _fail(where, name or "the file", _wording(schema, error), value)


def _parse_json(text, where):
    """JSON that a person wrote or a program exported: no repeated keys, no NaN."""
    def unique(pairs):
        obj = {}
        for key, value in pairs:
            if key in obj:
                raise ValueError(f"{where}: the key {key!r} appears twice in one object")
            obj[key] = value
        return obj

    def constant(name):
        raise ValueError(f"{where}: {name} is not a JSON number")

    try:
        return json.loads(text, object_pairs_hook=unique, parse_constant=constant)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON ({error.msg} at line {error.lineno}, column "
                         f"{error.colno}); is the file complete?") from None
    except RecursionError:
        raise ValueError(_TOO_DEEP.format(where=where)) from None


_TOO_DEEP = ("{where}: nested too deeply (lists or objects inside one another thousands of levels "
             "down); a question bank or quiz file is only a few levels deep")


def _read_text(path, what):
    """The text of a JSON file, or an error naming it (a folder or a pipe is not read)."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{what} must be a path to a JSON file, got {path!r}")
    path = Path(path)
    if not path.is_file():
        state = "does not exist" if not path.exists() else "is not a regular file"
        raise FileNotFoundError(f"{what} must be a JSON file, got {str(path)!r}, which {state}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a UTF-8 text file ({error.reason} at byte "
                         f"{error.start})") from None


# --- the bank: plain, immutable records ------------------------------------------

@dataclass(frozen=True)
class Run:
    """One training behind a figure: keyword arguments of :func:`helpers.train` (no seed). In the bank
    ``batch_size`` may be ``"full"`` and ``epochs`` None (the figure's); ``model`` is one of :data:`MODELS`."""
    batch_size: object
    learning_rate: float
    epochs: int = None
    momentum: float = 0.9
    model: str = "mlp"

    def train_args(self):
        """The keyword arguments of :func:`helpers.train`."""
        return dict(batch_size=self.batch_size, epochs=self.epochs,
                    learning_rate=self.learning_rate, momentum=self.momentum)

    def label(self):
        return f"batch {self.batch_size}, lr {self.learning_rate:g}"


@dataclass(frozen=True)
class Option:
    """An option of a multiple-choice question; ``note`` says why it is wrong."""
    key: str
    text: str
    note: str = ""


@dataclass(frozen=True)
class RunAnswer:
    """The answer is a run of the figure: index ``run`` in the bank's order."""
    run: int


@dataclass(frozen=True)
class FormulaAnswer:
    """The answer is computed from the variant's values (see :data:`FORMULAS`)."""
    formula: str


@dataclass(frozen=True)
class Figure:
    """How a question's runs are drawn: ``limits``, the ``(metric, (low, high))`` bounds of every axis;
    ``reference``, a run drawn beside the ones asked about (curves only)."""
    plot: str
    data: str
    metrics: tuple = ("loss",)
    hide_labels: bool = False
    shuffle_runs: bool = False
    epochs: int = 100
    limits: tuple = ()
    reference: Run = None

    def limit(self, metric):
        return dict(self.limits)[metric]

    def drawn_metrics(self):
        return METRICS if self.plot == "side_by_side" else self.metrics


@dataclass(frozen=True)
class Variant:
    """A variant of a question: its runs, its answer and the values of its placeholders."""
    runs: tuple = ()
    answer: object = None
    values: tuple = ()
    reveal: str = ""


@dataclass(frozen=True)
class BankQuestion:
    """A question as the bank holds it; :func:`make_question` turns it into a :class:`Question`."""
    id: str
    topic: str
    kind: str
    prompt: str
    explanation: str
    variants: tuple
    options: tuple = ()
    figure: Figure = None

    @property
    def n_choices(self):
        """How many options a learner chooses from (0 for a numeric question)."""
        if isinstance(self.variants[0].answer, RunAnswer):
            return len(self.variants[0].runs)
        return len(self.options)


@dataclass(frozen=True)
class DataSpec:
    name: str
    loader: str
    args: tuple = ()


@dataclass(frozen=True)
class Bank:
    """A checked question bank. ``digest`` identifies its content, ``source`` where it came from."""
    training_seeds: tuple
    datasets: tuple
    questions: tuple
    digest: str
    source: str

    @property
    def ids(self):
        return tuple(q.id for q in self.questions)

    def question(self, question_id):
        """``(number, BankQuestion)``: the position from 1 and the question."""
        check_choice("question_id", question_id, self.ids)
        index = self.ids.index(question_id)
        return index + 1, self.questions[index]

    def data(self, name):
        """The Dataset the bank names ``name``."""
        spec = next(d for d in self.datasets if d.name == name)
        return _dataset(spec.loader, spec.args)


def _formula(name, values):
    """The values a numeric answer needs: ``answer`` and what its explanation quotes."""
    per_epoch = updates_per_epoch(values["n_train"], values["batch_size"])
    if name == "updates_per_epoch":
        return {"answer": per_epoch}
    return {"per_epoch": per_epoch, "answer": per_epoch * values["epochs"]}


#: Formula name -> (values it needs, values it adds for the texts).
FORMULAS = {"updates_per_epoch": (("n_train", "batch_size"), ("answer",)),
            "total_updates": (("n_train", "batch_size", "epochs"), ("per_epoch", "answer"))}


def _run(value):
    return Run(**{**value, "learning_rate": float(value["learning_rate"]),
                  "momentum": float(value.get("momentum", 0.9))})


def _check_run(where, name, run, n_train, epochs):
    """What train would refuse later: a batch larger than the data, more updates than it records."""
    size = n_train if run.batch_size == "full" else run.batch_size
    if size > n_train:
        _fail(where, f"{name}.batch_size", f"must be at most the dataset's {n_train} training points", size)
    updates = (run.epochs or epochs) * -(-n_train // size)
    if updates > MAX_UPDATES:
        _fail(where, f"{name}.epochs", f"make {updates:,} updates at batch size {size}, more than the "
              f"{MAX_UPDATES:,} helpers.train records", run.epochs or epochs)


def _figure(where, name, value, sizes):
    if value["data"] not in sizes:
        _fail(where, f"{name}.data", f"must be one of the bank's datasets ({', '.join(sizes)})", value["data"])
    figure = Figure(**{**value, "metrics": tuple(value.get("metrics", ["loss"])), "limits": (),
                       "reference": _run(value["reference"]) if "reference" in value else None})
    limits, drawn = value["limits"], figure.drawn_metrics()
    for metric in (*drawn, *sorted(set(limits) - set(drawn))):
        label = f"{name}.limits.{metric}"
        if metric not in limits:
            _fail(where, label, "is missing")
        if metric not in drawn:
            _fail(where, label, f"is not a known field (known: {', '.join(drawn)})")
        if not limits[metric][0] < limits[metric][1]:
            _fail(where, label, "must have low < high", limits[metric])
    if figure.reference is not None:
        _check_run(where, f"{name}.reference", figure.reference, sizes[figure.data], figure.epochs)
    return replace(figure, limits=tuple((m, tuple(map(float, limits[m]))) for m in drawn))


def _answer(value):
    if isinstance(value, str):
        return value
    return RunAnswer(value["run"]) if "run" in value else FormulaAnswer(value["formula"])


def _placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _check_question(where, name, q, sizes):
    """What ties a question's parts together: answers, options, runs and placeholders."""
    answers = [v.answer for v in q.variants]
    keys = [o.key for o in q.options]
    if len(set(keys)) != len(keys):
        _fail(where, f"{name}.options", "must have distinct keys", keys)
    if len({o.text for o in q.options}) != len(q.options):
        _fail(where, f"{name}.options", "must have distinct texts")
    for i, (variant, answer) in enumerate(zip(q.variants, answers)):
        label = f"{name}.variants[{i}]"
        if isinstance(answer, str) and answer not in keys:
            _fail(where, f"{label}.answer", f"must be one of the option keys ({', '.join(keys)})", answer)
        if isinstance(answer, RunAnswer):
            figure = q.figure
            if figure is None or not (figure.hide_labels and figure.shuffle_runs):
                _fail(where, f"{label}.answer", "names a run, which needs a figure with hidden "
                      "labels and shuffled runs")
            if answer.run >= len(variant.runs):
                _fail(where, f"{label}.answer.run", f"must name one of its {len(variant.runs)} runs", answer.run)
            if q.options:
                _fail(where, f"{name}.options", "must be absent when the answer is a run")
            if len(variant.runs) != len(q.variants[0].runs) or len(variant.runs) < 2:
                _fail(where, f"{label}.runs", "must be at least two, as many in every variant")
        if type(answer) is not type(answers[0]):
            _fail(where, f"{label}.answer", "must be of the same kind as variant 0's", answer)
        if (q.figure is None) != (not variant.runs):
            _fail(where, f"{label}.runs", "must be given exactly when the question has a figure")
        for j, run in enumerate(variant.runs):
            _check_run(where, f"{label}.runs[{j}]", run, sizes[q.figure.data], q.figure.epochs)
        values = dict(variant.values)
        known = set(values) | {"reveal"}
        if isinstance(answer, FormulaAnswer):
            needs, adds = FORMULAS[answer.formula]
            for key in needs:
                if not isinstance(values.get(key), int) or isinstance(values.get(key), bool) or values[key] < 1:
                    _fail(where, f"{label}.values.{key}",
                          f"must be an integer >= 1 for formula {answer.formula!r}", values.get(key))
            if values["batch_size"] > values["n_train"]:
                _fail(where, f"{label}.values.batch_size", "must be at most values.n_train "
                      f"({values['n_train']})", values["batch_size"])
            known |= set(adds)
        for part in ("prompt", "explanation"):
            unknown = sorted(_placeholders(getattr(q, part)) - known)
            if unknown:
                _fail(where, f"{name}.{part}", f"uses {{{unknown[0]}}}, which {label} does not define")


def _question(where, name, value, sizes):
    figure = value.get("figure")
    question = BankQuestion(**{
        **value, "options": tuple(Option(**o) for o in value.get("options", [])),
        "figure": None if figure is None else _figure(where, f"{name}.figure", figure, sizes),
        "variants": tuple(Variant(runs=tuple(map(_run, v.get("runs", []))), answer=_answer(v["answer"]),
                                  values=tuple(v.get("values", {}).items()), reveal=v.get("reveal", ""))
                          for v in value["variants"])})
    _check_question(where, name, question, sizes)
    return question


def _n_train(where, name, spec):
    """The training points of a bank's dataset, which must load."""
    try:
        return _dataset(spec["loader"], tuple(sorted(spec.get("args", {}).items()))).n_train
    except (TypeError, ValueError) as error:
        _fail(where, f"datasets.{name}.args", f"are refused by {spec['loader']}: {error}")


def _bank(obj, where, digest):
    """Check a bank read from JSON against helpers/quiz_bank.schema.json, then what a schema
    cannot say, and turn it into immutable records."""
    _validate(obj, where, "quiz_bank.schema.json")
    sizes = {name: _n_train(where, name, spec) for name, spec in obj["datasets"].items()}
    questions = [_question(where, f"questions[{i}] ({q['id']})", q, sizes) for i, q in enumerate(obj["questions"])]
    ids = [q.id for q in questions]
    for i, question_id in enumerate(ids):
        if ids.index(question_id) < i:
            _fail(where, f"questions[{i}].id", f"repeats the id of questions[{ids.index(question_id)}]", question_id)
    datasets = tuple(DataSpec(name, spec["loader"], tuple(sorted(spec.get("args", {}).items())))
                     for name, spec in obj["datasets"].items())
    return Bank(training_seeds=tuple(obj["training_seeds"]), datasets=datasets,
                questions=tuple(questions), digest=digest, source=where)


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@cache
def _bank_from_text(text, where):
    # Keyed by the text itself: an edited file is read again, an unchanged one is not re-checked.
    return _bank(_parse_json(text, where), where, _digest(text))


def load_bank(bank=None):
    """The checked :class:`Bank` of ``bank``: None (the course's), a JSON file's path, a dict or a Bank.

    A bank that does not fit the schema or holds a run :func:`helpers.train` would refuse raises
    ValueError naming the file and the field (``questions[3] (id).variants[0].answer``).

    >>> len(load_bank().questions) >= 12
    True
    """
    if bank is None:
        return _bank_from_text(BANK_PATH.read_text(encoding="utf-8"), "helpers/quiz_bank.json")
    if isinstance(bank, Bank):
        return bank
    if isinstance(bank, (str, Path)):
        return _bank_from_text(_read_text(bank, "bank"), str(bank))
    if isinstance(bank, dict):
        try:
            text = json.dumps(bank, sort_keys=True, default=repr)
        except RecursionError:
            raise ValueError(_TOO_DEEP.format(where="bank")) from None
        return _bank(bank, "bank", _digest(text))
    raise TypeError(f"bank must be None, a path, a dict or a Bank, got {type(bank).__name__}")


@cache
def _dataset(loader, args):
    return LOADERS[loader](**dict(args))


def _deal(bank, seed):
    """The position of the right option in each question's variant 0, so that A, B, C and D are each
    right about equally often: fewest options first, each to a least-used position (seeded among equals)."""
    counts, deal = [0] * len(LETTERS), {}
    for q in sorted((q for q in bank.questions if q.n_choices), key=lambda q: q.n_choices):
        least = min(counts[:q.n_choices])
        free = [i for i in range(q.n_choices) if counts[i] == least]
        pick = free[int(np.random.default_rng([seed, zlib.crc32(q.id.encode()), 1]).integers(len(free)))]
        counts[pick] += 1
        deal[q.id] = pick
    return deal


# --- questions and answers --------------------------------------------------

@dataclass(frozen=True, eq=False)
class Question:
    """One variant of a bank question, ready to show and to mark: ``options`` ``(letter, text)`` in display
    order, ``answer`` the right letter or number, ``notes`` ``(letter, why it is wrong)``, ``runs`` and
    ``labels`` in display order on dataset ``data``; ``seed``, ``draw``, ``variant``: its origin."""
    id: str
    number: int
    topic: str
    kind: str
    prompt: str
    options: tuple
    answer: object
    explanation: str
    notes: tuple
    runs: tuple
    labels: tuple
    reference: Run
    figure: Figure
    data: str
    training_seed: int
    seed: int
    draw: int
    variant: int

    def option_text(self, letter):
        return dict(self.options)[letter]

    def note(self, letter):
        """Why option ``letter`` is wrong ("" where the bank says nothing)."""
        return dict(self.notes).get(letter, "")

    def answer_text(self):
        """The right answer as a learner reads it."""
        if self.kind == "numeric":
            return f"{self.answer:,}"
        return f"{self.answer}. {self.option_text(self.answer)}"

    def heading(self):
        return f"Question {self.number} ({self.topic})"

    def options_text(self):
        """The options, one a line, or how to answer a numeric question."""
        if self.kind == "numeric":
            return "  (answer with a number)"
        return "\n".join(f"  {letter}. {text}" for letter, text in self.options)

    def text(self):
        """The question in plain text: heading and prompt, then the options."""
        return f"{self.heading()}: {self.prompt}\n{self.options_text()}"


def make_question(question_id, *, seed=0, draw=0, bank=None):
    """A :class:`Question` (untrained: :func:`train_question`) for the quiz's ``seed``: ``draw`` 0 is the
    quiz's own variant, 1, 2, ... fresh practice ones (the right option moves on by one each time).

    >>> make_question("total-updates", draw=3).answer in (100, 2_500, 12_500, 80_000)
    True
    """
    bank = load_bank(bank)
    number, spec = bank.question(question_id)
    seed = check_int("seed", seed, low=0, high=MAX_SEED)
    draw = check_int("draw", draw, low=0, high=MAX_SEED)
    rng = np.random.default_rng([seed, zlib.crc32(question_id.encode()), draw])
    variant_index = int(rng.integers(len(spec.variants)))
    variant = spec.variants[variant_index]
    # Training seeds step through a cycle shuffled once per quiz and question, so that the
    # next draw (a practice click) never repeats the last one's seed, and every seed comes round.
    cycle = np.random.default_rng([seed, zlib.crc32(question_id.encode())])
    pool = bank.training_seeds
    training_seed = int(pool[cycle.permutation(len(pool))[draw % len(pool)]])
    figure = spec.figure
    values = dict(variant.values)

    def resolved(run):
        n_train = bank.data(figure.data).n_train
        return replace(run, batch_size=n_train if run.batch_size == "full" else run.batch_size,
                       epochs=run.epochs or figure.epochs)

    runs = [resolved(run) for run in variant.runs]
    reference = resolved(figure.reference) if figure is not None and figure.reference else None
    # The right option sits at a dealt position, one further at each draw.
    position = (_deal(bank, seed)[question_id] + draw) % spec.n_choices if spec.n_choices else None

    def around(right, n):
        """Indices 0..n-1 in display order: ``right`` at ``position``, the others shuffled."""
        others = [int(i) for i in rng.permutation([i for i in range(n) if i != right])]
        return others[:position] + [right] + others[position:]

    answer, notes, options, order = variant.answer, (), (), list(range(len(runs)))
    if isinstance(answer, RunAnswer):
        order = around(answer.run, len(runs))
        options = tuple((LETTERS[i], f"Run {LETTERS[i]}") for i in range(len(runs)))
        answer = LETTERS[position]
        values["reveal"] = "; ".join(f"Run {LETTERS[i]}: batch size {runs[j].batch_size}, "
                                     f"learning rate {runs[j].learning_rate:g}"
                                     for i, j in enumerate(order)) + "."
    elif isinstance(answer, FormulaAnswer):
        computed = _formula(answer.formula, values)
        answer = computed["answer"]
        values.update({k: f"{v:,}" for k, v in computed.items()})
    else:
        keys = [o.key for o in spec.options]
        shown_options = [spec.options[i] for i in around(keys.index(answer), len(keys))]
        options = tuple((LETTERS[j], o.text) for j, o in enumerate(shown_options))
        notes = tuple((LETTERS[j], o.note) for j, o in enumerate(shown_options) if o.note)
        answer = LETTERS[position]
    values.setdefault("reveal", variant.reveal)
    shown = tuple(runs[i] for i in order)
    if figure is not None and figure.hide_labels:
        labels = tuple(f"run {LETTERS[i]}" for i in range(len(shown))) if len(shown) > 1 \
            else ("run shown",)
    else:
        labels = tuple(run.label() for run in shown)

    return Question(id=question_id, number=number, topic=spec.topic, kind=spec.kind,
                    prompt=spec.prompt.format_map(values), options=options, answer=answer,
                    explanation=spec.explanation.format_map(values).strip(), notes=notes,
                    runs=shown, labels=labels, reference=reference, figure=figure,
                    data=figure.data if figure else None, training_seed=training_seed,
                    seed=seed, draw=draw, variant=variant_index)


@dataclass(frozen=True)
class Feedback:
    """The marking of one answer (``given`` None: the answer was asked for). ``choice`` is the letter
    or number marked; ``expected`` the right answer once ``revealed``; ``score`` the running score
    (set by :class:`Quiz`)."""
    question_id: str
    correct: bool
    given: str
    choice: object
    expected: str
    message: str
    revealed: bool
    score: str = None

    def __str__(self):
        return self.message + (f"\n{self.score}" if self.score else "")

    __repr__ = __str__


# A written number: digits, commas only between groups of three ("12,500", not "8,00").
NUMBER = re.compile(r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?([eE][+-]?\d+)?")


def _as_number(answer):
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        value = float(answer)
    elif isinstance(answer, str):
        if not NUMBER.fullmatch(answer.strip()):
            raise ValueError(f"answer must be a number such as 800 or 12,500 (commas only between "
                             f"groups of three digits), got {answer!r}")
        value = float(answer.strip().replace(",", ""))
    else:
        raise TypeError(f"answer must be a number, got {answer!r} of type {type(answer).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"answer must be a finite number, got {answer!r}")
    return value


def _as_letter(question, answer):
    if not isinstance(answer, str):
        raise TypeError(f"answer must be an option letter, got {answer!r}")
    letters = [letter for letter, _ in question.options]
    cleaned = answer.strip().rstrip(".").upper()
    if cleaned in letters:
        return cleaned
    for letter, text in question.options:  # the option's own text works too
        if answer.strip().lower() == text.lower():
            return letter
    raise ValueError(f"answer must be one of {', '.join(map(repr, letters))} "
                     f"(or an option's text), got {answer!r}")


def check_answer(question, answer, *, reveal=True):
    """The :class:`Feedback` on ``answer``: an option's letter (any case) or text, or a number
    (``"12,500"`` too). ``reveal=False``: a wrong answer's feedback keeps the right one back (it
    gives the bank's note on that option); a right answer is always explained.

    >>> q = make_question("total-updates")
    >>> check_answer(q, q.answer).correct
    True
    """
    if not isinstance(question, Question):
        raise TypeError(f"question must be a Question (from make_question), "
                        f"got {type(question).__name__}")
    if not isinstance(reveal, bool):
        raise TypeError(f"reveal must be True or False, got {reveal!r}")
    if question.kind == "numeric":
        choice = _as_number(answer)
        correct = math.isclose(choice, question.answer, rel_tol=0.0, abs_tol=1e-9)
        given, note = f"{choice:,g}", ""
    else:
        choice = _as_letter(question, answer)
        correct = choice == question.answer
        given, note = f"{choice}. {question.option_text(choice)}", question.note(choice)
    expected = question.answer_text()
    why = f"Why: {question.explanation}"
    if correct:
        lines, revealed = ["Correct.", why], True
    elif reveal:
        lines = [f"Not quite: you answered {given}; the answer is {expected}.", note, why]
        revealed = True
    else:
        wrong = f"{given} is" if question.kind == "numeric" else f"option {choice} is"
        lines = [f"Not quite: {wrong} not the answer.", note,
                 "Try once more: a second wrong answer shows the right one."]
        revealed, expected = False, None
    return Feedback(question.id, correct, given, choice, expected,
                    "\n".join(line for line in lines if line), revealed=revealed)


def reveal_answer(question):
    """The right answer and why, as :class:`Feedback` (for a "Show answer" button)."""
    if not isinstance(question, Question):
        raise TypeError(f"question must be a Question (from make_question), "
                        f"got {type(question).__name__}")
    expected = question.answer_text()
    return Feedback(question.id, False, None, None, expected,
                    f"The answer is {expected}.\nWhy: {question.explanation}", revealed=True)


# --- training and drawing ---------------------------------------------------

def train_question(question, *, bank=None):
    """Train the runs behind a question's figure with its training seed: TrainResults in display order,
    then the reference run if any (empty without a figure)."""
    if not question.runs:
        return []
    data = load_bank(bank).data(question.data)
    runs = question.runs + ((question.reference,) if question.reference else ())
    return [train_run(data, run, question.training_seed) for run in runs]


def build_quiz_model(model, n_features, n_classes, seed, *, normalise=True):
    """A fresh network of kind ``model`` (one of :data:`MODELS` but ``"mlp"``): ``"batch-norm"`` is lesson 09's
    net, (Dense(64) -> BatchNormalization(momentum 0.9) -> ReLU) twice, then softmax, He-uniform weights
    seeded by ``seed``; ``normalise=False`` drops the normalisation (the Dense layers get biases)."""
    check_choice("model", model, MODELS[1:])
    k = keras()
    init = k.initializers.HeUniform
    layers = [k.Input((n_features,))]
    for i in range(2):
        layers.append(k.layers.Dense(64, use_bias=not normalise, kernel_initializer=init(seed=100 * seed + i)))
        if normalise:
            layers.append(k.layers.BatchNormalization(momentum=0.9))
        layers.append(k.layers.Activation("relu"))
    layers.append(k.layers.Dense(n_classes, activation="softmax", kernel_initializer=init(seed=100 * seed + 9)))
    return k.Sequential(layers)


@cache
def _kept_model(model, n_features, n_classes, normalise):
    # One network per kind and dataset, trained again and again: helpers.train compiles a
    # model's programs once, on its first run, and reuses them for that same model object.
    return build_quiz_model(model, n_features, n_classes, 0, normalise=normalise)


def train_run(data, run, seed, *, normalise=True):
    """Train one :class:`Run` on ``data`` with training seed ``seed`` (weights and shuffles). ``normalise=False``
    drops a ``"batch-norm"`` run's normalisation. Such a model is reused by later runs: read the history."""
    if run.model == "mlp":
        if not normalise:
            raise ValueError(f"normalise=False needs a run with a normalisation layer, got model={run.model!r}")
        return train(data, seed=seed, **run.train_args())
    shape = (data.n_features, data.n_classes)
    net = _kept_model(run.model, *shape, normalise)
    net.set_weights(build_quiz_model(run.model, *shape, seed, normalise=normalise).get_weights())
    return train(data, seed=seed, model=net, **run.train_args())


def fitted_limits(results, metric, limits):
    """The y-limits of a quiz axis: the runs' train and validation curves of ``metric`` with a 5 %
    margin, rounded out to 0.05, inside the bank's ``limits``.

    >>> class Run: history = {"loss": [1.2, 0.6], "val_loss": [1.1, 0.62]}
    >>> fitted_limits([Run()], "loss", (0.0, 2.8))
    (0.55, 1.25)
    """
    values = np.concatenate([np.asarray(r.history[key], dtype=float) for r in results
                             for key in (metric, "val_" + metric)])
    values = values[np.isfinite(values)]
    low, high = limits
    if values.size == 0:
        return float(low), float(high)
    pad = 0.05 * max(float(values.max() - values.min()), 0.2)
    step = 0.05
    return (float(max(low, round(np.floor((values.min() - pad) / step) * step, 2))),
            float(min(high, round(np.ceil((values.max() + pad) / step) * step, 2))))


def draw_question(question, results):
    """A question's figure from its trained runs: neutral colours, shared axes fitted to the curves."""
    figure = question.figure
    colors = list(NEUTRAL_COLORS[:len(question.runs)])
    labels = list(question.labels)
    if question.reference is not None:
        colors.append(REFERENCE_COLOR)
        labels.append("reference run")
    if figure.plot == "side_by_side":
        fig = plot_side_by_side(results, labels=labels, colors=colors)
        n = len(results)
        rows = {metric: fitted_limits(results, metric, figure.limit(metric)) for metric in ("loss", "accuracy")}
        for i, ax in enumerate(fig.axes[:2 * n]):  # the loss row, then the accuracy row
            ax.set_ylim(*rows["loss" if i < n else "accuracy"])
        return fig
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(5.5 * len(figure.metrics), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(figure.metrics)))
    for ax, metric in zip(axes, figure.metrics):
        plot_curves(results, metric=metric, labels=labels, colors=colors, ax=ax)
        ax.set_ylim(*fitted_limits(results, metric, figure.limit(metric)))
        ax.get_legend().remove()
    # one legend for the figure, under the axes: never over a curve
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def _png(fig):
    png = figure_png(fig)
    import matplotlib.pyplot as plt

    plt.close(fig)  # a pyplot figure would otherwise show a second time at the end of the cell
    return png


# --- the quiz's state -------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """The tries at one question variant: the answers marked so far, whether the first was right
    (None: not yet; asking for the answer first counts as wrong), solved, revealed."""
    tries: tuple = ()
    first_correct: bool = None
    solved: bool = False
    revealed: bool = False

    @property
    def wrong_tries(self):
        return len(self.tries) - (1 if self.solved else 0)

    def after(self, feedback):
        """This attempt after one more answer (or after the answer was shown)."""
        first = self.first_correct if self.first_correct is not None else feedback.correct
        return Attempt(tries=self.tries + ((feedback.choice,) if feedback.choice is not None else ()),
                       first_correct=first, solved=self.solved or feedback.correct,
                       revealed=self.revealed or feedback.revealed)


class Quiz:
    """Questions of the bank, with the tries and the score (widgets: :mod:`helpers.quiz_view`).

    ``seed`` chooses every variant, option order and training seed; ``questions``: ids to use, each
    once (default: the whole bank, in order); ``bank``: see :func:`load_bank`.

    >>> quiz = Quiz(seed=0)
    >>> feedback = quiz.check("total-updates", quiz.question("total-updates").answer)
    >>> feedback.correct, quiz.score
    (True, (1, 1))
    """

    def __init__(self, *, seed=0, questions=None, bank=None):
        self.bank = load_bank(bank)
        self.seed = check_int("seed", seed, low=0, high=MAX_SEED)
        ids = self.bank.ids
        if questions is None:
            questions = ids
        if isinstance(questions, str) or not isinstance(questions, (list, tuple)) or not questions:
            raise ValueError(f"questions must be a non-empty list of question ids, got {questions!r}")
        self.question_ids = [check_choice("questions", q, ids) for q in questions]
        repeated = sorted({q for q in self.question_ids if self.question_ids.count(q) > 1})
        if repeated:
            raise ValueError(f"questions must name each question once, got {repeated[0]!r} "
                             f"{self.question_ids.count(repeated[0])} times")
        self._draws = {qid: 0 for qid in self.question_ids}     # the variant each question shows
        self._next_draw = {qid: 1 for qid in self.question_ids}  # the next fresh variant
        self._questions, self._pngs, self._attempts = {}, {}, {}
        self._listeners = []

    def __repr__(self):
        return f"Quiz(seed={self.seed}): {len(self.question_ids)} questions. {self.score_text()}"

    # variants
    def question(self, question_id, *, draw=None):
        """The variant of a question this quiz shows now (or the given draw of it)."""
        check_choice("question_id", question_id, self.question_ids)
        draw = self._draws[question_id] if draw is None else draw
        key = (question_id, draw)
        if key not in self._questions:
            self._questions[key] = make_question(question_id, seed=self.seed, draw=draw, bank=self.bank)
        return self._questions[key]

    def new_variant(self, question_id, *, keep=False):
        """A variant of a question never drawn before by this quiz (another seed, the right option moved).

        ``keep=True`` makes it the quiz's own variant of that question (what
        :meth:`check`, the answer key and :meth:`export` use); practice does not.
        """
        check_choice("question_id", question_id, self.question_ids)
        draw = self._next_draw[question_id]
        self._next_draw[question_id] = draw + 1
        if keep:
            self._draws[question_id] = draw
        return self.question(question_id, draw=draw)

    def question_png(self, question):
        """PNG of a question's figure, trained and drawn once per variant (None without one)."""
        key = (question.id, question.draw)
        if key not in self._pngs:
            self._pngs[key] = (_png(draw_question(question, train_question(question, bank=self.bank)))
                               if question.runs else None)
        return self._pngs[key]

    # tries and score
    def _own(self, question):
        if isinstance(question, str):
            return self.question(question)
        if not isinstance(question, Question):
            raise TypeError(f"question must be a question id or a Question, got {question!r}")
        if question.seed != self.seed or question.id not in self.question_ids:
            raise ValueError(f"question must be a variant of this quiz (seed {self.seed}), got "
                             f"{question.id!r} of seed {question.seed}")
        return question

    def attempt(self, question):
        """The :class:`Attempt` at a question variant (a question id: its current variant)."""
        question = self._own(question)
        return self._attempts.get((question.id, question.draw), Attempt())

    def _record(self, question, feedback):
        key = (question.id, question.draw)
        self._attempts[key] = self.attempt(question).after(feedback)
        for listener in list(self._listeners):
            listener()
        return replace(feedback, score=self.score_text())

    def mark(self, question, answer):
        """Mark and record an answer (:class:`Feedback`); the right one shows at the second wrong try."""
        question = self._own(question)
        attempt = self.attempt(question)
        feedback = check_answer(question, answer, reveal=attempt.revealed or attempt.wrong_tries >= 1)
        return self._record(question, feedback)

    def check(self, question_id, answer):
        """Answer a question's current variant in code (where there are no buttons): a :class:`Feedback`."""
        return self.mark(self.question(question_id), answer)

    def show_answer(self, question):
        """The right answer and why (before any answer, it counts as a wrong first answer)."""
        question = self._own(question)
        return self._record(question, reveal_answer(question))

    @property
    def score(self):
        """``(correct, answered)``: first answers to each question variant."""
        firsts = [a.first_correct for a in self._attempts.values() if a.first_correct is not None]
        return sum(firsts), len(firsts)

    def score_text(self):
        correct, answered = self.score
        if not answered:
            return "No answers yet: the score counts your first answer to each question."
        return f"Score: {correct} of {answered} answered correctly at the first try."

    def on_change(self, callback):
        """Call ``callback()`` after every answer (a score line uses it to redraw)."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        self._listeners.append(callback)

    # showing (see helpers.quiz_view)
    def ask(self, question_id, *, fresh=False):
        """Show a question: prompt, figure (trained now), options (static, for web pages too) and
        answer buttons. ``fresh=True``: a fresh variant, made this quiz's."""
        check_choice("question_id", question_id, self.question_ids)
        show_question(self, self.new_variant(question_id, keep=True) if fresh else self.question(question_id))

    def practice(self, question_id=None):
        """A practice panel (ipywidgets): each "New variant" trains and shows a fresh variant of
        ``question_id`` (default: another question each time)."""
        if question_id is not None:
            check_choice("question_id", question_id, self.question_ids)
        return practice_panel(self, question_id)

    def score_line(self):
        """The quiz's one score line, kept up to date as you answer (text where widgets do not run)."""
        return score_line(self)

    # instructors
    def answer_key(self):
        """The answers of this quiz's current variants; see :func:`answer_key`."""
        return AnswerKey([self.question(q) for q in self.question_ids])

    def export(self, path):
        """Write this quiz's seed, questions and variants (no answers) to a JSON file for a class."""
        path = Path(path)
        path.write_text(json.dumps({
            "format": EXPORT_FORMAT, "seed": self.seed, "bank": self.bank.digest,
            "questions": [{"id": q, "draw": self._draws[q]} for q in self.question_ids],
        }, indent=1) + "\n")
        return path

    @classmethod
    def from_file(cls, path, *, bank=None):
        """Load a quiz written by :meth:`export`; a bad file raises ValueError naming it and the field."""
        where = str(path)
        spec = _validate(_parse_json(_read_text(path, "path"), where), where, "quiz_file.schema.json", ids=False)
        seed, bank = spec["seed"], load_bank(bank)
        ids = [item["id"] for item in spec["questions"]]
        draws = [item["draw"] for item in spec["questions"]]
        for i, qid in enumerate(ids):
            if qid not in bank.ids:
                _fail(where, f"questions[{i}].id", "is not a question id of the bank", qid)
            if ids.index(qid) < i:
                _fail(where, f"questions[{i}].id", f"repeats questions[{ids.index(qid)}]", qid)
        quiz = cls(seed=seed, questions=ids, bank=bank)
        if spec["bank"] != bank.digest:
            warnings.warn(f"{path} was written with another version of the question bank: "
                          "its variants may differ from the ones the instructor saw",
                          stacklevel=2)
        for qid, draw in zip(ids, draws):
            quiz._draws[qid] = draw
            quiz._next_draw[qid] = draw + 1
        return quiz


class AnswerKey:
    """The answers of a quiz, one row per question; HTML in Jupyter, text elsewhere."""

    def __init__(self, questions):
        self.rows = [dict(number=q.number, id=q.id, topic=q.topic, answer=q.answer_text(),
                          explanation=q.explanation) for q in questions]

    def __str__(self):
        return "\n".join(f"{r['number']:>2}. {r['id']} ({r['topic']}): {r['answer']}\n"
                         f"    {r['explanation']}" for r in self.rows)

    __repr__ = __str__

    def _repr_html_(self):
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[k]))}</td>" for k in
                                       ("number", "id", "answer", "explanation")) + "</tr>"
                       for r in self.rows)
        return ("<table><thead><tr><th>#</th><th>question</th><th>answer</th><th>why</th></tr>"
                f"</thead><tbody>{body}</tbody></table>")


def answer_key(seed=0, *, path=None, questions=None):
    """The :class:`AnswerKey` of ``Quiz(seed=seed, questions=questions)``, or of the quiz file ``path``.

    >>> print(answer_key(seed=0))   # doctest: +SKIP
    """
    if path is not None:
        if questions is not None:
            raise ValueError(f"questions must be None with a quiz file (it names its own), "
                             f"got {questions!r}")
        return Quiz.from_file(path).answer_key()
    return Quiz(seed=seed, questions=questions).answer_key()


def export_quiz(path, *, seed=0, questions=None):
    """Write a fixed quiz for a class: every learner who loads it sees the same variants.

    >>> export_quiz("class-quiz.json", seed=7)   # doctest: +SKIP
    """
    return Quiz(seed=seed, questions=questions).export(path)


# --- the command line -----------------------------------------------------------

def _seed_arg(text):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, {MAX_SEED}], got {text!r}")
    return value


def _questions_arg(text):
    ids = load_bank().ids
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise argparse.ArgumentTypeError(f"must be question ids separated by commas, got {text!r}")
    for name in names:
        if name not in ids:
            raise argparse.ArgumentTypeError(f"{name!r} is not a question id; the ids are "
                                             f"{', '.join(ids)}")
        if names.count(name) > 1:
            raise argparse.ArgumentTypeError(f"names {name!r} twice, got {text!r}")
    return names


def _output_arg(text):
    path = Path(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a file name, got ''")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"must be a file to write, got {text!r}, a folder")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"must be in an existing folder, got {text!r}")
    return path


def _parser():
    parser = argparse.ArgumentParser(prog="batch-size-quiz", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{key,export}")
    key = commands.add_parser("key", help="print the answer key of a quiz")
    source = key.add_mutually_exclusive_group()
    source.add_argument("--seed", type=_seed_arg, help="the quiz's seed (default 0)")
    source.add_argument("--from", dest="path", type=Path, help="a quiz file written by export")
    key.add_argument("--questions", type=_questions_arg,
                     help="comma-separated question ids (default: all; not with --from)")
    export = commands.add_parser("export", help="write a fixed quiz for a class")
    export.add_argument("path", type=_output_arg, help="the JSON file to write")
    export.add_argument("--seed", type=_seed_arg, default=0, help="the quiz's seed (default 0)")
    export.add_argument("--questions", type=_questions_arg, help="comma-separated question ids (default: all)")
    return parser, key, export


def main(argv=None):
    """The ``batch-size-quiz`` command: ``key`` prints an answer key, ``export`` writes a quiz.

    A bad argument or a bad file ends with a usage message and exit status 2.
    """
    parser, key, export = _parser()
    args = parser.parse_args(argv)
    if args.command == "key":
        if args.path is not None and args.questions is not None:
            key.error("argument --questions: not allowed with argument --from (the file names "
                      "its questions)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = answer_key(args.seed or 0, path=args.path, questions=args.questions)
            except (OSError, ValueError) as error:
                # Only a file given with --from is the user's to fix; anything else is named as it is.
                key.error(f"argument --from: {error}" if args.path is not None else str(error))
        for warning in caught:
            print(f"batch-size-quiz: warning: {warning.message}", file=sys.stderr)
        print(result)
    else:
        try:
            written = export_quiz(args.path, seed=args.seed, questions=args.questions)
        except OSError as error:
            export.error(f"argument path: cannot write {str(args.path)!r}: {error.strerror or error}")
        except ValueError as error:
            export.error(str(error))
        print(f"wrote {written}; learners load it with helpers.Quiz.from_file({str(written)!r}); "
              f"the key: batch-size-quiz key --from {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
