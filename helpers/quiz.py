"""Lesson 06's quiz: read a learning curve and say what produced it.

The questions live in ``quiz_bank.json``, as data. A question has one or more
variants; :func:`make_question` picks a variant, shuffles the options and picks
a training seed, all from ``(seed, question id, draw)``, so a quiz is
reproducible and a new ``draw`` gives a fresh variant: never the previous
draw's training seed, nor its option order. Curve questions are
trained through :func:`helpers.train` when they are shown, so every learner
sees real curves.

:func:`check_answer` marks an answer and explains why; it is a pure function.
:class:`Quiz` keeps the running score and puts a thin widget layer on top;
``quiz.check(question_id, answer)`` does the same in plain code where no
widgets exist. Instructors get :func:`answer_key` and :func:`export_quiz`,
also as the command ``batch-size-quiz``.
"""

import argparse
import hashlib
import html
import itertools
import json
import math
import numbers
import sys
import warnings
import zlib
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from ._checks import check_choice, check_int
from ._display import figure_png, require_ipywidgets, show_error, widget_bundle
from .data import load_blobs, load_digits
from .plots import plot_curves, plot_side_by_side
from .training import train, updates_per_epoch

__all__ = ["Question", "Feedback", "Quiz", "AnswerKey", "load_bank", "make_question",
           "check_answer", "train_question", "draw_question", "answer_key", "export_quiz",
           "main", "BANK_PATH"]

# Read through importlib.resources: the bank is package data wherever helpers is installed.
BANK_PATH = files(__package__) / "quiz_bank.json"
LETTERS = "ABCDEFGH"
LOADERS = {"load_blobs": load_blobs, "load_digits": load_digits}
PLOTS = ("curves", "side_by_side")
KINDS = ("choice", "numeric")
EXPORT_FORMAT = "batch-size-course quiz"


# --- the bank ---------------------------------------------------------------

def _formula(name, values):
    """The values a numeric answer needs: ``answer`` and what its explanation quotes."""
    per_epoch = updates_per_epoch(values["n_train"], values["batch_size"])
    if name == "updates_per_epoch":
        return {"answer": per_epoch}
    return {"per_epoch": per_epoch, "answer": per_epoch * values["epochs"]}


FORMULAS = {"updates_per_epoch": ("n_train", "batch_size"),
            "total_updates": ("n_train", "batch_size", "epochs")}


def _validate(bank, where):
    def fail(message):
        raise ValueError(f"{where}: {message}")

    for key in ("training_seeds", "datasets", "questions"):
        if key not in bank:
            fail(f"the bank must have a {key!r} entry")
    seeds = bank["training_seeds"]
    if not seeds or len(set(seeds)) != len(seeds):
        fail(f"training_seeds must be a non-empty list of distinct seeds, got {seeds}")
    ids = [q.get("id") for q in bank["questions"]]
    if len(set(ids)) != len(ids):
        fail(f"question ids must be unique, got {ids}")
    for q in bank["questions"]:
        name = f"question {q.get('id')!r}"
        for key in ("id", "topic", "kind", "prompt", "variants", "explanation"):
            if key not in q:
                fail(f"{name} has no {key!r}")
        if q["kind"] not in KINDS:
            fail(f"{name}: kind must be one of {KINDS}, got {q['kind']!r}")
        figure = q.get("figure")
        if figure is not None:
            if figure.get("plot") not in PLOTS:
                fail(f"{name}: figure plot must be one of {PLOTS}, got {figure.get('plot')!r}")
            if figure.get("data") not in bank["datasets"]:
                fail(f"{name}: figure data must be one of {sorted(bank['datasets'])}, "
                     f"got {figure.get('data')!r}")
        keys = [o["key"] for o in q.get("options", [])]
        for v in q["variants"]:
            answer = v.get("answer")
            if isinstance(answer, dict) and "run" in answer:
                if figure is None or not 0 <= answer["run"] < len(v.get("runs", [])):
                    fail(f"{name}: answer {answer} names no run of its variant")
            elif isinstance(answer, dict) and "formula" in answer:
                needs = FORMULAS.get(answer["formula"])
                if needs is None or any(k not in v.get("values", {}) for k in needs):
                    fail(f"{name}: formula {answer['formula']!r} is unknown or lacks values")
            elif answer not in keys:
                fail(f"{name}: answer {answer!r} is not one of its option keys {keys}")
            if figure is not None and not v.get("runs"):
                fail(f"{name}: a question with a figure needs runs in every variant")


@cache
def _load_bank_file(path=None):
    """The bank in a JSON file; by default the package's own."""
    source = BANK_PATH if path is None else Path(path)
    text = source.read_text()
    bank = json.loads(text)
    _validate(bank, str(source))
    bank["digest"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return bank


def load_bank(bank=None):
    """Read and check a question bank.

    Parameters
    ----------
    bank : None, str, Path or dict
        None for the course's bank (``helpers/quiz_bank.json``), a path to
        another JSON file, or an already loaded bank (checked again).

    Returns
    -------
    dict
        ``training_seeds``, ``datasets``, ``questions`` (a list) and ``digest``.

    Raises
    ------
    ValueError
        If the bank is malformed; the message names the question and the entry.

    Examples
    --------
    >>> len(load_bank()["questions"]) >= 12
    True
    """
    if bank is None:
        return _load_bank_file()
    if isinstance(bank, (str, Path)):
        return _load_bank_file(str(bank))
    if isinstance(bank, dict):
        _validate(bank, "bank")
        return {"digest": "custom", **bank}
    raise TypeError(f"bank must be None, a path or a dict, got {type(bank).__name__}")


@cache
def _dataset(loader, args):
    return LOADERS[loader](**dict(args))


def _data(bank, name):
    entry = bank["datasets"][name]
    return _dataset(entry["loader"], tuple(sorted(entry.get("args", {}).items())))


def _spec(bank, question_id):
    ids = [q["id"] for q in bank["questions"]]
    check_choice("question_id", question_id, ids)
    return ids.index(question_id) + 1, bank["questions"][ids.index(question_id)]


# --- questions and answers --------------------------------------------------

@dataclass(frozen=True, eq=False)
class Question:
    """One variant of a bank question, ready to show and to mark.

    Attributes
    ----------
    id, topic, kind : str
    number : int
        Position in the bank, from 1.
    prompt, explanation : str
    options : tuple of (str, str)
        ``(letter, text)`` in display order; empty for numeric questions.
    answer : str or int
        The right letter, or the number.
    notes : dict of str -> str
        Why a wrong option is wrong, by letter (where the bank says).
    runs : tuple of dict
        The trainings behind the figure, in display order: keyword arguments
        of :func:`helpers.train` (without ``seed``).
    labels : tuple of str
        The legend or panel name of each run.
    figure : dict or None
        How to draw the runs (see ``quiz_bank.json``).
    training_seed : int
    seed, draw, variant : int
        What generated this variant.
    """

    id: str
    number: int
    topic: str
    kind: str
    prompt: str
    options: tuple
    answer: object
    explanation: str
    notes: dict
    runs: tuple
    labels: tuple
    figure: dict
    data: str
    training_seed: int
    seed: int
    draw: int
    variant: int

    def option_text(self, letter):
        return dict(self.options)[letter]

    def answer_text(self):
        """The right answer as a learner reads it."""
        if self.kind == "numeric":
            return f"{self.answer:,}"
        return f"{self.answer}. {self.option_text(self.answer)}"

    def text(self):
        """The question in plain text: prompt, then the options."""
        lines = [f"Question {self.number} ({self.topic}): {self.prompt}"]
        lines += [f"  {letter}. {text}" for letter, text in self.options]
        if self.kind == "numeric":
            lines.append("  (answer with a number)")
        return "\n".join(lines)


def _run_label(run):
    return f"batch {run['batch_size']}, lr {run['learning_rate']:g}"


def make_question(question_id, *, seed=0, draw=0, bank=None):
    """Generate one variant of a question: variant, option order, run order and training seed.

    Parameters
    ----------
    question_id : str
        An ``id`` of the bank.
    seed : int, default 0
        The quiz's seed.
    draw : int, default 0
        0 for the quiz's own variant; 1, 2, ... for fresh practice variants.
    bank : None, path or dict, optional
        See :func:`load_bank`.

    Returns
    -------
    Question
        Nothing is trained yet; see :func:`train_question`.

    Raises
    ------
    ValueError, TypeError
        For an unknown ``question_id`` or a bad ``seed`` or ``draw``.

    Examples
    --------
    >>> make_question("updates-per-epoch", draw=3).answer in (1, 16, 25, 63, 800)
    True
    """
    bank = load_bank(bank)
    number, spec = _spec(bank, question_id)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    draw = check_int("draw", draw, low=0, high=2**32 - 1)
    rng = np.random.default_rng([seed, zlib.crc32(question_id.encode()), draw])
    variant_index = int(rng.integers(len(spec["variants"])))
    variant = spec["variants"][variant_index]
    # Seeds and option orders step through cycles shuffled once per quiz and question, so
    # that the next draw (a practice click) never repeats the last one's training seed nor,
    # where options are shuffled, their order; a cycle also reaches every seed in turn.
    cycle = np.random.default_rng([seed, zlib.crc32(question_id.encode())])
    pool = bank["training_seeds"]
    training_seed = int(pool[cycle.permutation(len(pool))[draw % len(pool)]])
    figure = spec.get("figure")
    values = dict(variant.get("values", {}))

    runs = []
    if figure is not None:
        n_train = _data(bank, figure["data"]).n_train
        for run in variant["runs"]:
            size = run["batch_size"]
            runs.append(dict(batch_size=n_train if size == "full" else int(size),
                             learning_rate=float(run["learning_rate"]),
                             epochs=int(run.get("epochs", figure.get("epochs", 100))),
                             momentum=float(run.get("momentum", 0.9))))
    order = list(range(len(runs)))
    if figure is not None and figure.get("shuffle_runs"):
        order = [int(i) for i in rng.permutation(len(runs))]
    shown = [runs[i] for i in order]
    if figure is not None and figure.get("hide_labels"):
        labels = [f"run {LETTERS[i]}" for i in range(len(shown))] if len(shown) > 1 else ["run shown"]
    else:
        labels = [_run_label(run) for run in shown]

    answer_spec, notes, options = variant["answer"], {}, ()
    if isinstance(answer_spec, dict) and "run" in answer_spec:
        options = tuple((LETTERS[i], f"Run {LETTERS[i]}") for i in range(len(shown)))
        answer = LETTERS[order.index(answer_spec["run"])]
        values["reveal"] = "; ".join(f"Run {LETTERS[i]}: batch size {run['batch_size']}, "
                                     f"learning rate {run['learning_rate']:g}"
                                     for i, run in enumerate(shown)) + "."
    elif isinstance(answer_spec, dict):
        computed = _formula(answer_spec["formula"], values)
        answer = computed["answer"]
        values.update({k: f"{v:,}" for k, v in computed.items()})
    else:
        keyed = spec["options"]
        orders = list(itertools.permutations(range(len(keyed))))
        permutation = orders[cycle.permutation(len(orders))[draw % len(orders)]]
        options = tuple((LETTERS[j], keyed[i]["text"]) for j, i in enumerate(permutation))
        notes = {LETTERS[j]: keyed[i]["note"] for j, i in enumerate(permutation)
                 if keyed[i].get("note")}
        answer = LETTERS[[keyed[i]["key"] for i in permutation].index(answer_spec)]
    values.setdefault("reveal", variant.get("reveal", ""))

    return Question(id=question_id, number=number, topic=spec["topic"], kind=spec["kind"],
                    prompt=spec["prompt"].format_map(values), options=options, answer=answer,
                    explanation=spec["explanation"].format_map(values).strip(), notes=notes,
                    runs=tuple(shown), labels=tuple(labels), figure=figure,
                    data=figure["data"] if figure else None, training_seed=training_seed,
                    seed=seed, draw=draw, variant=variant_index)


@dataclass(frozen=True)
class Feedback:
    """The marking of one answer.

    Attributes
    ----------
    question_id : str
    correct : bool
    given, expected : str
        The answer as given and the right one, as a learner reads them.
    message : str
        Right or wrong, why, and (for a wrong option) what is wrong with it.
    score : str or None
        The running score after this answer (set by :class:`Quiz`).
    """

    question_id: str
    correct: bool
    given: str
    expected: str
    message: str
    score: str = None

    def __str__(self):
        return self.message + (f"\n{self.score}" if self.score else "")

    __repr__ = __str__


def _as_number(answer):
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        value = float(answer)
    elif isinstance(answer, str):
        try:
            value = float(answer.replace(",", "").replace("_", "").strip())
        except ValueError:
            raise ValueError(f"answer must be a number, got {answer!r}") from None
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


def check_answer(question, answer):
    """Mark an answer to a question and explain why.

    Parameters
    ----------
    question : Question
    answer : str or number
        An option letter (any case) or an option's text; a number for a
        numeric question (``"12,500"`` works too).

    Returns
    -------
    Feedback

    Raises
    ------
    ValueError, TypeError
        If the answer is not an option of the question, or not a number for
        a numeric question.

    Examples
    --------
    >>> q = make_question("updates-per-epoch")
    >>> check_answer(q, q.answer).correct
    True
    """
    if not isinstance(question, Question):
        raise TypeError(f"question must be a Question (from make_question), "
                        f"got {type(question).__name__}")
    if question.kind == "numeric":
        value = _as_number(answer)
        correct = math.isclose(value, question.answer, rel_tol=0.0, abs_tol=1e-9)
        given = f"{value:,g}"
        note = ""
    else:
        letter = _as_letter(question, answer)
        correct = letter == question.answer
        given = f"{letter}. {question.option_text(letter)}"
        note = question.notes.get(letter, "")
    expected = question.answer_text()
    if correct:
        head = "Correct."
    else:
        head = f"Not quite: you answered {given}; the answer is {expected}."
        if note:
            head += f" {note}"
    return Feedback(question.id, correct, given, expected, f"{head}\nWhy: {question.explanation}")


# --- training and drawing ---------------------------------------------------

def train_question(question, *, bank=None):
    """Train the runs behind a question's figure (real training, with its training seed).

    Returns
    -------
    list of TrainResult
        In display order; empty for a question without a figure.
    """
    if not question.runs:
        return []
    data = _data(load_bank(bank), question.data)
    return [train(data, seed=question.training_seed, **run) for run in question.runs]


def draw_question(question, results):
    """Draw a question's figure from its trained runs.

    Returns
    -------
    matplotlib Figure
        All runs share their axes, so heights compare.
    """
    figure = question.figure
    if figure["plot"] == "side_by_side":
        return plot_side_by_side(results, labels=list(question.labels))
    from matplotlib.figure import Figure

    metrics = figure.get("metrics", ["loss"])
    fig = Figure(figsize=(5.5 * len(metrics), 3.8), layout="constrained")
    for ax, metric in zip(np.atleast_1d(fig.subplots(1, len(metrics))), metrics):
        plot_curves(results, metric=metric, labels=list(question.labels), ax=ax)
    return fig


def _png(fig):
    png = figure_png(fig)
    import matplotlib.pyplot as plt

    plt.close(fig)  # a pyplot figure would otherwise show a second time at the end of the cell
    return png


# --- the quiz ---------------------------------------------------------------

def _feedback_html(feedback):
    color = "#1b7f3b" if feedback.correct else "#b00020"
    head, _, why = feedback.message.partition("\nWhy: ")
    return (f"<div style='max-width:52em'><b style='color:{color}'>{html.escape(head)}</b>"
            f"<br>{html.escape(why)}</div>")


class _Shown:
    """A widget that displays as itself where widgets work and as text elsewhere."""

    def __init__(self, widget, text):
        self.widget, self.text = widget, text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return widget_bundle(self.widget, self.text)

    def __repr__(self):
        return self.text


class Quiz:
    """Questions of the bank with a running score; widgets on top of :func:`check_answer`.

    Parameters
    ----------
    seed : int, default 0
        Chooses every question's variant, option order and training seed.
    questions : list of str, optional
        Question ids to use (default: the whole bank, in order).
    bank : None, path or dict, optional
        See :func:`load_bank`.

    Examples
    --------
    >>> quiz = Quiz(seed=0)
    >>> feedback = quiz.check("updates-per-epoch", quiz.question("updates-per-epoch").answer)
    >>> feedback.correct, quiz.score
    (True, (1, 1))
    """

    def __init__(self, *, seed=0, questions=None, bank=None):
        self._bank = load_bank(bank)
        self.seed = check_int("seed", seed, low=0, high=2**32 - 1)
        ids = [q["id"] for q in self._bank["questions"]]
        if questions is None:
            questions = ids
        if isinstance(questions, str) or not list(questions):
            raise ValueError(f"questions must be a non-empty list of question ids, got {questions!r}")
        self.question_ids = [check_choice("questions", q, ids) for q in questions]
        self._draws = {qid: 0 for qid in self.question_ids}
        self._questions, self._pngs, self._first = {}, {}, {}
        self._score_html = None
        self._practice_rng = np.random.default_rng([self.seed, 6])

    def __repr__(self):
        return f"Quiz(seed={self.seed}): {len(self.question_ids)} questions. {self.score_text()}"

    # the logic
    def question(self, question_id, *, draw=None):
        """The variant of a question this quiz shows now (or the given draw of it)."""
        check_choice("question_id", question_id, self.question_ids)
        draw = self._draws[question_id] if draw is None else draw
        key = (question_id, draw)
        if key not in self._questions:
            self._questions[key] = make_question(question_id, seed=self.seed, draw=draw,
                                                 bank=self._bank)
        return self._questions[key]

    def question_png(self, question):
        """PNG of a question's figure, trained and drawn once per variant (None without one)."""
        key = (question.id, question.draw)
        if key not in self._pngs:
            self._pngs[key] = (_png(draw_question(question, train_question(question, bank=self._bank)))
                               if question.runs else None)
        return self._pngs[key]

    @property
    def score(self):
        """``(correct, answered)``: first answers to each question variant."""
        return sum(self._first.values()), len(self._first)

    def score_text(self):
        correct, answered = self.score
        return f"Score: {correct} of {answered} answered correctly at the first try."

    def _mark(self, question, answer):
        feedback = check_answer(question, answer)
        self._first.setdefault((question.id, question.draw), feedback.correct)
        if self._score_html is not None:
            self._score_html.value = f"<b>{html.escape(self.score_text())}</b>"
        return replace(feedback, score=self.score_text())

    def check(self, question_id, answer):
        """Answer a question in code (the text fallback of the buttons).

        Returns
        -------
        Feedback
            Shows as text: right or wrong, why, and the running score.
        """
        return self._mark(self.question(question_id), answer)

    # the widgets
    def _score_widget(self):
        if self._score_html is None:
            w = require_ipywidgets()
            self._score_html = w.HTML(f"<b>{html.escape(self.score_text())}</b>")
            self._score_html.add_class("quiz-score")
        return self._score_html

    def _answer_widget(self, question):
        w = require_ipywidgets()
        feedback = w.HTML()
        feedback.add_class("quiz-feedback")

        def answer(value):
            try:
                feedback.value = _feedback_html(self._mark(question, value))
            except Exception as error:  # a callback has no cell to raise into
                show_error(feedback, error)

        if question.kind == "numeric":
            box = w.Text(placeholder="a number", description="answer")
            button = w.Button(description="Check")
            button.add_class("quiz-check")
            button.on_click(lambda _button: answer(box.value))
            choices = w.HBox([box, button])
        else:
            rows = []
            for letter, text in question.options:
                button = w.Button(description=letter, layout=w.Layout(width="44px"))
                button.add_class("quiz-option")
                button.on_click(lambda _button, letter=letter: answer(letter))
                rows.append(w.HBox([button, w.HTML(html.escape(text))]))
            choices = w.VBox(rows)
        card = w.VBox([choices, feedback, self._score_widget()])
        card.add_class("quiz-card")
        card.add_class(f"quiz-q-{question.id}")
        return card

    def _fallback_text(self, question):
        example = "a number" if question.kind == "numeric" else "'A'"
        return question.text() + f"\nAnswer in code: quiz.check({question.id!r}, {example})"

    def ask(self, question_id, *, fresh=False):
        """Show a question: prompt, figure (trained now), answer buttons with feedback.

        Parameters
        ----------
        question_id : str
        fresh : bool, default False
            Show a fresh variant (new training seed, shuffled options), as
            practice does.

        Where ipywidgets is missing, the options show as text and
        ``quiz.check(question_id, answer)`` takes the answer.
        """
        from IPython.display import Image, Markdown, display

        check_choice("question_id", question_id, self.question_ids)
        if fresh:
            self._draws[question_id] += 1
        question = self.question(question_id)
        display(Markdown(f"**Question {question.number}** · *{question.topic}*\n\n{question.prompt}"))
        png = self.question_png(question)
        if png is not None:
            display(Image(data=png, format="png"))
        try:
            display(_Shown(self._answer_widget(question), self._fallback_text(question)))
        except ImportError:
            print(self._fallback_text(question))

    def practice(self, question_id=None):
        """A practice panel: each click on "New variant" trains and shows a fresh variant.

        Parameters
        ----------
        question_id : str, optional
            Practise one question; by default each new variant picks a question at random.

        Returns
        -------
        object
            Displays as the panel (needs ipywidgets).
        """
        if question_id is not None:
            check_choice("question_id", question_id, self.question_ids)
        w = require_ipywidgets()
        pick = w.Dropdown(options=[("any question", "")] + [
            (f"{self.question(q).number}. {q}", q) for q in self.question_ids],
            value=question_id or "", description="practise")
        new = w.Button(description="New variant")
        new.add_class("quiz-new-variant")
        prompt, status = w.HTML(), w.HTML()
        image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        slot = w.VBox()
        panel = w.VBox([w.HBox([pick, new, status]), prompt, image, slot])
        panel.add_class("quiz-practice")
        shown = _Shown(panel, "")

        def show_new(_button=None):
            try:
                status.value = "training…"
                qid = pick.value or str(self._practice_rng.choice(self.question_ids))
                self._draws[qid] += 1
                question = self.question(qid)
                prompt.value = (f"<b>Question {question.number}</b> · <i>{html.escape(question.topic)}"
                                f"</i><p style='max-width:52em'>{html.escape(question.prompt)}</p>")
                png = self.question_png(question)
                image.value = png or b""
                image.layout.display = "" if png else "none"
                slot.children = [self._answer_widget(question)]
                shown.text = (self._fallback_text(question)
                              + f"\nWithout widgets: quiz.ask({qid!r}, fresh=True) draws another.")
                status.value = ""
            except Exception as error:  # a callback has no cell to raise into
                show_error(status, error)

        new.on_click(show_new)
        show_new()
        return shown

    # instructors
    def answer_key(self):
        """The answers of this quiz's current variants; see :func:`answer_key`."""
        return AnswerKey([self.question(q) for q in self.question_ids])

    def export(self, path):
        """Write this quiz (seed, questions, current variants) to a JSON file for a class.

        Learners load it with ``Quiz.from_file(path)`` and see the same variants,
        trained on their own machine; the file holds no answers.

        Returns
        -------
        Path
        """
        path = Path(path)
        path.write_text(json.dumps({
            "format": EXPORT_FORMAT, "seed": self.seed, "bank": self._bank["digest"],
            "questions": [{"id": q, "draw": self._draws[q]} for q in self.question_ids],
        }, indent=1) + "\n")
        return path

    @classmethod
    def from_file(cls, path, *, bank=None):
        """Load a quiz written by :meth:`export` (or :func:`export_quiz`)."""
        spec = json.loads(Path(path).read_text())
        if spec.get("format") != EXPORT_FORMAT:
            raise ValueError(f"path must be a quiz written by Quiz.export, got {str(path)!r}")
        quiz = cls(seed=spec["seed"], questions=[q["id"] for q in spec["questions"]], bank=bank)
        if spec.get("bank") != quiz._bank["digest"]:
            warnings.warn(f"{path} was written with another version of the question bank: "
                          "its variants may differ from the ones the instructor saw",
                          stacklevel=2)
        for q in spec["questions"]:
            quiz._draws[q["id"]] = check_int("draw", q["draw"], low=0)
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
    """The answer key of a quiz: of ``Quiz(seed=seed)``, or of a quiz file.

    Parameters
    ----------
    seed : int, default 0
    path : str or Path, optional
        A file from :func:`export_quiz`; then ``seed`` and ``questions`` are taken from it.
    questions : list of str, optional

    Returns
    -------
    AnswerKey

    Examples
    --------
    >>> print(answer_key(seed=0))   # doctest: +SKIP
    """
    quiz = Quiz.from_file(path) if path is not None else Quiz(seed=seed, questions=questions)
    return quiz.answer_key()


def export_quiz(path, *, seed=0, questions=None):
    """Write a fixed quiz for a class: every learner who loads it sees the same variants.

    Returns
    -------
    Path

    Examples
    --------
    >>> export_quiz("class-quiz.json", seed=7)   # doctest: +SKIP
    """
    return Quiz(seed=seed, questions=questions).export(path)


def main(argv=None):
    """The ``batch-size-quiz`` command: ``key`` prints an answer key, ``export`` writes a quiz."""
    parser = argparse.ArgumentParser(prog="batch-size-quiz", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    key = commands.add_parser("key", help="print the answer key of a quiz")
    key.add_argument("--seed", type=int, default=0, help="the quiz's seed (default 0)")
    key.add_argument("--from", dest="path", type=Path, help="a quiz file written by export")
    export = commands.add_parser("export", help="write a fixed quiz for a class")
    export.add_argument("path", type=Path, help="the JSON file to write")
    export.add_argument("--seed", type=int, default=0, help="the quiz's seed (default 0)")
    export.add_argument("--questions", help="comma-separated question ids (default: all)")
    args = parser.parse_args(argv)
    if args.command == "key":
        print(answer_key(args.seed, path=args.path))
    else:
        questions = args.questions.split(",") if args.questions else None
        written = export_quiz(args.path, seed=args.seed, questions=questions)
        print(f"wrote {written}; learners load it with helpers.Quiz.from_file({str(written)!r}); "
              f"the key: batch-size-quiz key --from {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
