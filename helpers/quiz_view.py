"""The widget view of lesson 06's quiz: question cards, the practice panel, the score line.

It changes a :class:`helpers.quiz.Quiz` only through its public methods. A question's prompt, figure
and options are static outputs (HTML with a text form, and a PNG) that every renderer shows (static
renderers show a widget's saved view, never its text form); only the answer buttons are a widget.
"""

import html

import numpy as np

from ._display import require_ipywidgets, show_error, widget_bundle

__all__ = ["Static", "prompt_display", "options_display", "answer_card", "show_question",
           "practice_panel", "score_line"]

RIGHT, WRONG, SHOWN = "#1b7f3b", "#b00020", "#333333"
TEXT_WIDTH = "max-width:52em"


class Static:
    """A static output: HTML where it can be rendered, plain text elsewhere."""

    def __init__(self, html_text, text):
        self.html, self.text = html_text, text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html, "text/plain": self.text}

    def __repr__(self):
        return self.text


class _Shown:
    """A widget that displays as itself where widgets work, as ``html`` on a static page, else as text."""

    def __init__(self, widget, text, html_text=None):
        self.widget, self.text, self.html = widget, text, html_text

    def _repr_mimebundle_(self, include=None, exclude=None):
        return widget_bundle(self.widget, self.text, html=self.html)

    def __repr__(self):
        return self.text


def _prompt_html(question):
    return (f"<div class='quiz-prompt' style='{TEXT_WIDTH}'><p><b>Question {question.number}</b>"
            f" · <i>{html.escape(question.topic)}</i></p><p>{html.escape(question.prompt)}</p></div>")


def _options_html(question):
    if question.kind == "numeric":
        return "<div class='quiz-options'><p><i>Answer with a number.</i></p></div>"
    rows = "".join(f"<li><b>{letter}.</b> {html.escape(text)}</li>" for letter, text in question.options)
    return (f"<div class='quiz-options' style='{TEXT_WIDTH}'>"
            f"<ul style='list-style:none;padding-left:0.5em'>{rows}</ul></div>")


def prompt_display(question):
    """The question's heading and prompt, as a static output."""
    return Static(_prompt_html(question), f"{question.heading()}: {question.prompt}")


def options_display(question):
    """The question's options (or "answer with a number"), as a static output."""
    return Static(_options_html(question), question.options_text())


def _feedback_html(feedback):
    """The verdict in bold and colour (red wrong, green right, grey shown), the rest as text."""
    color = RIGHT if feedback.correct else (SHOWN if feedback.given is None else WRONG)
    head, *rest = feedback.message.split("\n")
    body = "".join(f"<br>{html.escape(line)}" for line in rest)
    return (f"<div style='{TEXT_WIDTH};line-height:1.45'><b style='color:{color}'>"
            f"{html.escape(head)}</b>{body}</div>")


def folded_answer_html(question):
    """The answer and why, folded (``<details>``): what a static page shows in place of the buttons."""
    return (f"<details class='quiz-answer' style='{TEXT_WIDTH};line-height:1.45'>"
            f"<summary><b>Answer</b> (answer first, then open)</summary>"
            f"<p>The answer is <b>{html.escape(question.answer_text())}</b>.</p>"
            f"<p>Why: {html.escape(question.explanation)}</p></details>"
            f"<p style='font-size:90%'>{html.escape(_code_hint(question))}</p>")


def _code_hint(question):
    example = "a number" if question.kind == "numeric" else "'A'"
    return (f"Answer in code: quiz.check({question.id!r}, {example}); "
            f"quiz.show_answer({question.id!r}) shows the answer.")


def answer_card(quiz, question):
    """The answer widget of a question variant: letter buttons (or a number box), "Show answer" and the
    feedback; a chosen wrong letter turns red ✗, the right one green ✓ once revealed."""
    w = require_ipywidgets()
    feedback = w.HTML()
    feedback.add_class("quiz-feedback")
    show = w.Button(description="Show answer", layout=w.Layout(width="auto"))
    show.add_class("quiz-show-answer")
    letters = {}

    def refresh(result):
        attempt = quiz.attempt(question)
        for letter, button in letters.items():
            right = letter == question.answer and attempt.revealed
            chosen_wrong = letter in attempt.tries and letter != question.answer
            button.button_style = "success" if right else ("danger" if chosen_wrong else "")
            button.description = letter + (" ✓" if right else (" ✗" if chosen_wrong else ""))
        feedback.value = _feedback_html(result)  # last: once it shows, the buttons are marked

    def act(action):
        try:
            refresh(action())
        except Exception as error:  # a callback has no cell to raise into
            show_error(feedback, error)

    show.on_click(lambda _button: act(lambda: quiz.show_answer(question)))
    if question.kind == "numeric":
        box = w.Text(placeholder="a number", description="answer")
        check = w.Button(description="Check")
        check.add_class("quiz-check")
        check.on_click(lambda _button: act(lambda: quiz.mark(question, box.value)))
        row = w.HBox([box, check, show])
    else:
        for letter, text in question.options:
            button = w.Button(description=letter, tooltip=text, layout=w.Layout(width="56px"))
            button.add_class("quiz-option")
            button.on_click(lambda _button, letter=letter: act(lambda: quiz.mark(question, letter)))
            letters[letter] = button
        row = w.HBox([*letters.values(), show])
    card = w.VBox([row, feedback])
    card.add_class("quiz-card")
    card.add_class(f"quiz-q-{question.id}")
    return card


def show_question(quiz, question):
    """Display a question: prompt, figure (trained now), options, then the answer widget."""
    from IPython.display import Image, display

    display(prompt_display(question))
    png = quiz.question_png(question)
    if png is not None:
        display(Image(data=png, format="png"))
    display(options_display(question))
    try:
        display(_Shown(answer_card(quiz, question), _code_hint(question), folded_answer_html(question)))
    except ImportError:
        print(_code_hint(question))


def _other_question(rng, ids, last):
    """A question picked at random, never the one shown last (when there is a choice)."""
    choices = [q for q in ids if q != last] or list(ids)
    return str(choices[int(rng.integers(len(choices)))])


def practice_panel(quiz, question_id=None):
    """A panel whose "New variant" button trains and shows a variant never shown before (with "any
    question", of a question other than the one on show). Practice answers count in the score."""
    w = require_ipywidgets()
    pick = w.Dropdown(options=[("any question", "")] + [
        (f"{quiz.question(q).number}. {q}", q) for q in quiz.question_ids],
        value=question_id or "", description="practise")
    new = w.Button(description="New variant")
    new.add_class("quiz-new-variant")
    prompt, options, status = w.HTML(), w.HTML(), w.HTML()
    image = w.Image(format="png", layout=w.Layout(max_width="100%"))
    slot = w.VBox()
    panel = w.VBox([w.HBox([pick, new, status]), prompt, image, options, slot])
    panel.add_class("quiz-practice")
    shown = _Shown(panel, "")
    rng = np.random.default_rng([quiz.seed, 6])
    last = {"id": None}

    def show_new(_button=None):
        try:
            status.value = "training…"
            qid = pick.value or _other_question(rng, quiz.question_ids, last["id"])
            question = quiz.new_variant(qid)
            last["id"] = qid
            prompt.value = _prompt_html(question)
            png = quiz.question_png(question)
            image.value = png or b""
            image.layout.display = "" if png else "none"
            options.value = _options_html(question)
            slot.children = [answer_card(quiz, question)]
            shown.text = (f"{question.text()}\nWithout widgets: quiz.ask({qid!r}, fresh=True) "
                          "draws another.")
            status.value = ""
        except Exception as error:  # a callback has no cell to raise into
            show_error(status, error)

    new.on_click(show_new)
    show_new()
    return shown


def score_line(quiz):
    """The quiz's one score line: an HTML widget redrawn after every answer."""
    def bold():
        return f"<b>{html.escape(quiz.score_text())}</b>"

    try:
        w = require_ipywidgets()
    except ImportError:
        return Static(bold(), quiz.score_text())
    line = w.HTML(bold())
    line.add_class("quiz-score")
    quiz.on_change(lambda: setattr(line, "value", bold()))
    return _Shown(line, quiz.score_text())
