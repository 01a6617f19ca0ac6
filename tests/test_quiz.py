"""helpers.quiz: the bank, the marking, the score, the widgets, the instructors' tools,
and every explanation of the bank checked against real runs for each training seed."""

import ast
import fnmatch
import hashlib
import html
import importlib.resources
import json
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import nbformat
import numpy as np
import pytest

import helpers
from helpers import quiz as quizmod
from helpers._display import WIDGET_VIEW_MIMETYPE
from helpers.quiz import (Quiz, answer_key, check_answer, export_quiz, load_bank, main,
                          make_question)

ROOT = Path(__file__).resolve().parents[1]
BANK = load_bank()
SEEDS = BANK["training_seeds"]
IDS = [q["id"] for q in BANK["questions"]]
SPECS = {q["id"]: q for q in BANK["questions"]}


# --- the bank ----------------------------------------------------------------

def test_the_bank_has_at_least_12_questions_on_every_topic_of_the_lesson():
    assert len(IDS) >= 12
    topics = {q["topic"] for q in BANK["questions"]}
    assert topics >= {"which batch size produced this curve", "which run took longer",
                      "updates per epoch", "a learning rate too high for the batch size",
                      "the effect of scaling the learning rate",
                      "noisy vs smooth curves and generalisation",
                      "what a flat or rising curve says"}
    assert {q["kind"] for q in BANK["questions"]} == {"choice", "numeric"}


def test_the_bank_is_read_as_package_data():
    resource = importlib.resources.files("helpers") / "quiz_bank.json"
    text = resource.read_text()
    assert load_bank()["digest"] == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert [q["id"] for q in json.loads(text)["questions"]] == IDS
    # ... and a wheel or an install from git carries it (setuptools' package-data).
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "helpers" in setuptools["packages"]
    assert any(fnmatch.fnmatch(resource.name, pattern)
               for pattern in setuptools["package-data"]["helpers"])


def test_a_malformed_bank_is_refused_with_the_question_named():
    bad = json.loads(quizmod.BANK_PATH.read_text())
    bad["questions"][0]["variants"][0]["answer"] = "nonsense"
    with pytest.raises(ValueError, match="question 'two-experiments': answer 'nonsense' is not"):
        load_bank(bad)
    with pytest.raises(TypeError, match="bank must be None, a path or a dict"):
        load_bank(3)


@pytest.mark.parametrize("question_id", ["updates-per-epoch", "total-updates"])
def test_numeric_answers_are_the_helpers_arithmetic(question_id):
    spec = next(q for q in BANK["questions"] if q["id"] == question_id)
    seen = set()
    for draw in range(40):
        q = make_question(question_id, draw=draw)
        v = spec["variants"][q.variant]["values"]
        per_epoch = helpers.updates_per_epoch(v["n_train"], v["batch_size"])
        assert q.answer == per_epoch * v.get("epochs", 1)
        assert f"{q.answer:,}" in q.explanation
        seen.add(q.variant)
    assert seen == set(range(len(spec["variants"])))  # practice reaches every variant


def bank_text(question_id):
    """Everything a question says, as written in the bank (placeholders unfilled)."""
    spec = SPECS[question_id]
    options = [text for o in spec.get("options", []) for text in (o["text"], o.get("note", ""))]
    return " ".join([spec["prompt"], *options, spec["explanation"]])


def quoted(question_id, pattern):
    """The numbers a pattern finds in a question's text (it must find them: reworded text
    means this test has to be updated with it)."""
    found = re.search(pattern, bank_text(question_id))
    assert found, f"{question_id}: the bank no longer says {pattern!r}"
    return [float(g.replace(",", "")) if "." in g else int(g.replace(",", ""))
            for g in found.groups()]


def test_the_arithmetic_quoted_in_the_bank():
    per_epoch = helpers.updates_per_epoch
    n = quizmod._data(BANK, "blobs").n_train
    examples, small, small_updates, large, large_updates = quoted(
        "double-the-batch", r"with (\d+) examples, batch (\d+) makes (\d+) updates per epoch "
                            r"and batch (\d+) makes (\d+)")
    assert per_epoch(examples, small) == small_updates and per_epoch(examples, large) == large_updates
    assert large == 2 * small  # the question is about doubling
    points, epochs = quoted("which-took-longer", r"same (\d+) points for (\d+) epochs")
    one, total, full_total = quoted("which-took-longer", r"It makes (\d+) updates per epoch, "
                                    r"([\d,]+) in all, against one per epoch \(([\d,]+) in all\)")
    assert points == n and (one, total, full_total) == (per_epoch(n, 1), per_epoch(n, 1) * epochs,
                                                        per_epoch(n, n) * epochs)
    batch, = quoted("per-epoch-faster", r"batch size (\d+) and batch size %d" % n)
    option, = quoted("per-epoch-faster", r"It makes (\d+) updates per epoch; the full batch makes one")
    steps, = quoted("per-epoch-faster", r"takes (\d+) slightly noisy steps per epoch")
    assert option == steps == per_epoch(n, batch) and per_epoch(n, n) == 1
    big, fewer, more = quoted("lr-scaling-rule", r"batch size (\d+) makes (\d+) updates instead "
                                                 r"of (\d+)")
    factor, lr, scaled = quoted("lr-scaling-rule", r"(\d+) x (\d+\.\d+) = (\d+\.\d+)")
    assert (fewer, more) == (per_epoch(n, big), per_epoch(n, 32)) and big == factor * 32
    assert scaled == pytest.approx(factor * lr)
    which, = quoted("lr-scaling-which", r"at batch size (\d+)")
    only, = quoted("lr-scaling-which", r"With only (\d+) updates per epoch")
    assert only == per_epoch(n, which)
    updates, flat_epochs = quoted("flat-curve", r"makes only (\d+) updates in (\d+) epochs")
    at, = quoted("flat-curve", r"At batch size (\d+) there is one update per epoch")
    assert at == n and updates == per_epoch(n, n) * flat_epochs


# --- generating variants -------------------------------------------------------

def test_a_question_is_reproducible_from_its_seed_and_draw():
    a, b = make_question("which-is-batch-32", seed=3, draw=2), make_question("which-is-batch-32",
                                                                             seed=3, draw=2)
    assert (a.runs, a.labels, a.answer, a.training_seed) == (b.runs, b.labels, b.answer,
                                                             b.training_seed)


@pytest.mark.parametrize("question_id", IDS)
def test_the_next_draw_never_repeats_the_last_seed_or_option_order(question_id):
    draws = [make_question(question_id, seed=3, draw=d) for d in range(3 * len(SEEDS))]
    for last, following in zip(draws, draws[1:]):
        assert following.training_seed != last.training_seed
        if len(SPECS[question_id].get("options", [])) >= 2:  # shuffled option texts
            assert following.options != last.options
    assert {q.training_seed for q in draws} == set(SEEDS)  # every checked seed comes round


def test_practice_clicks_give_another_training_seed_each_time(monkeypatch):
    quiz = Quiz(seed=0, questions=["two-experiments", "flat-curve"])
    monkeypatch.setattr(Quiz, "question_png", lambda self, question: None)  # no training needed
    panel = quiz.practice("two-experiments").widget
    shown = [quiz.question("two-experiments")]
    for _ in range(12):
        panel.children[0].children[1].click()
        shown.append(quiz.question("two-experiments"))
    for last, following in zip(shown, shown[1:]):
        assert following.training_seed != last.training_seed and following.options != last.options


def test_fresh_draws_shuffle_options_runs_and_seeds():
    draws = [make_question("two-experiments", draw=d) for d in range(30)]
    assert {q.variant for q in draws} == {0, 1}
    assert len({q.options for q in draws}) > 1
    assert {q.training_seed for q in draws} <= set(SEEDS) and len({q.training_seed for q in draws}) > 3
    panels = [make_question("which-is-batch-32", draw=d) for d in range(30)]
    assert len({q.answer for q in panels}) == 3  # batch 32 lands in every panel
    for q in panels:  # the answer is the panel that trained batch 32
        assert q.runs["ABC".index(q.answer)]["batch_size"] == 32
        assert "Run " + q.answer + ": batch size 32," in q.explanation


def test_hidden_runs_do_not_give_the_answer_away():
    q = make_question("which-took-longer")
    assert q.labels == ("run A", "run B")
    assert "800" not in "".join(q.labels) and q.options == (("A", "Run A"), ("B", "Run B"))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(question_id="no-such-question"), ValueError, "question_id must be one of .* got 'no-such"),
    (dict(question_id="flat-curve", seed=-1), ValueError, "seed must be an int"),
    (dict(question_id="flat-curve", draw=1.5), TypeError, "draw must be an int"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_question(**kwargs)


# --- marking ---------------------------------------------------------------------

def test_check_answer_explains_right_and_wrong_answers():
    q = make_question("flat-curve")
    right = check_answer(q, q.answer.lower())
    assert right.correct and right.message.startswith("Correct.") and q.explanation in right.message
    wrong_letter = next(letter for letter in q.notes if letter != q.answer)
    wrong = check_answer(q, wrong_letter)
    assert not wrong.correct and f"the answer is {q.answer_text()}" in wrong.message
    assert q.notes[wrong_letter] in wrong.message and q.explanation in wrong.message
    assert check_answer(q, q.option_text(q.answer)).correct  # the option's text works too


def test_numeric_answers_accept_numbers_and_written_numbers():
    q = make_question("total-updates", draw=next(d for d in range(50) if make_question(
        "total-updates", draw=d).answer == 12_500))
    assert check_answer(q, 12500).correct and check_answer(q, "12,500").correct
    assert not check_answer(q, 12_499).correct
    with pytest.raises(ValueError, match="answer must be a number, got 'lots'"):
        check_answer(q, "lots")


def test_an_answer_that_is_no_option_is_refused():
    q = make_question("two-experiments")
    with pytest.raises(ValueError, match=r"answer must be one of 'A', 'B' .* got 'E'"):
        check_answer(q, "E")
    with pytest.raises(TypeError, match="question must be a Question"):
        check_answer("two-experiments", "A")


def test_the_score_counts_first_answers_only():
    quiz = Quiz(seed=0)
    q = quiz.question("flat-curve")
    wrong = next(letter for letter, _ in q.options if letter != q.answer)
    assert not quiz.check("flat-curve", wrong).correct
    feedback = quiz.check("flat-curve", q.answer)  # a retry does not raise the score
    assert feedback.correct and quiz.score == (0, 1)
    feedback = quiz.check("updates-per-epoch", quiz.question("updates-per-epoch").answer)
    assert quiz.score == (1, 2) and feedback.score == "Score: 1 of 2 answered correctly at the first try."
    assert "Score: 1 of 2" in str(feedback)


# --- widgets (a thin layer on check_answer) ----------------------------------------

def option_buttons(card):
    return {row.children[0].description: row.children[0] for row in card.children[0].children}


def test_answer_buttons_give_feedback_and_update_the_shared_score():
    quiz = Quiz(seed=1)
    first, second = quiz.question("flat-curve"), quiz.question("double-the-batch")
    card1, card2 = quiz._answer_widget(first), quiz._answer_widget(second)
    wrong = next(letter for letter, _ in first.options if letter != first.answer)
    option_buttons(card1)[wrong].click()
    feedback, score = card1.children[1], card1.children[2]
    assert "Not quite" in feedback.value and "0 of 1" in score.value
    option_buttons(card2)[second.answer].click()
    assert "Correct." in card2.children[1].value
    assert card2.children[2] is score and "1 of 2" in score.value


def test_numeric_questions_take_a_typed_number():
    quiz = Quiz(seed=0)
    q = quiz.question("updates-per-epoch")
    card = quiz._answer_widget(q)
    text, button = card.children[0].children
    text.value = "not a number"
    button.click()
    assert "ValueError: answer must be a number" in card.children[1].value  # shown, not raised
    text.value = str(q.answer)
    button.click()
    assert "Correct." in card.children[1].value


def test_ask_trains_the_figure_and_shows_a_text_fallback(monkeypatch):
    import IPython.display
    from IPython.display import Image, Markdown

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **_: shown.extend(objects))
    quiz = Quiz(seed=0, questions=["flat-curve", "updates-per-epoch"])
    quiz.ask("flat-curve")
    q = quiz.question("flat-curve")
    prompt, image, card = shown
    assert isinstance(prompt, Markdown) and q.prompt in prompt.data
    assert isinstance(image, Image) and image.data[:4] == b"\x89PNG"
    assert image.data == quiz.question_png(q)  # trained once, the figure shown
    bundle = card._repr_mimebundle_()
    assert bundle[WIDGET_VIEW_MIMETYPE]["model_id"] == card.widget.model_id
    assert "quiz.check('flat-curve', 'A')" in bundle["text/plain"]
    assert all(text in bundle["text/plain"] for _, text in q.options)
    assert "quiz-q-flat-curve" in card.widget._dom_classes


def test_without_ipywidgets_the_quiz_works_in_text(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    quiz = Quiz(seed=0, questions=["double-the-batch"])
    quiz.ask("double-the-batch")
    assert "Answer in code: quiz.check('double-the-batch', 'A')" in capsys.readouterr().out
    assert quiz.check("double-the-batch", quiz.question("double-the-batch").answer).correct
    with pytest.raises(ImportError, match="pip install 'ipywidgets>=7.7'"):
        quiz.practice()


def test_practice_draws_fresh_variants_on_demand():
    quiz = Quiz(seed=0, questions=["two-experiments", "double-the-batch"])
    shown = quiz.practice("two-experiments")
    assert quiz._draws["two-experiments"] == 1
    panel = shown.widget
    new_button = panel.children[0].children[1]
    image = panel.children[2]
    before = quiz.question("two-experiments")
    new_button.click()
    after = quiz.question("two-experiments")
    assert after.draw == before.draw + 1 and image.value[:4] == b"\x89PNG"
    assert after.prompt in shown.text
    card = panel.children[3].children[0]
    option_buttons(card)[after.answer].click()
    assert "Correct." in card.children[1].value and quiz.score == (1, 1)
    panel.children[0].children[0].value = "double-the-batch"  # a question without a figure
    new_button.click()
    assert image.layout.display == "none"


def test_an_exception_in_a_button_is_shown_to_the_learner(monkeypatch):
    quiz = Quiz(seed=0)
    q = quiz.question("flat-curve")
    card = quiz._answer_widget(q)

    def broken(*args):
        raise RuntimeError("marking broke")

    monkeypatch.setattr(quiz, "_mark", broken)
    option_buttons(card)["A"].click()
    assert "RuntimeError: marking broke" in card.children[1].value


# --- instructors -------------------------------------------------------------------

def test_the_answer_key_matches_the_quiz():
    key = answer_key(seed=4)
    quiz = Quiz(seed=4)
    assert [r["id"] for r in key.rows] == IDS
    for row in key.rows:
        assert row["answer"] == quiz.question(row["id"]).answer_text()
    assert "<table>" in key._repr_html_() and "two-experiments" in str(key)


def test_an_exported_quiz_gives_the_class_the_same_variants(tmp_path):
    teacher = Quiz(seed=7, questions=["which-is-batch-32", "total-updates"])
    teacher.ask("total-updates", fresh=True)  # the instructor drew a practice variant
    path = teacher.export(tmp_path / "class.json")
    assert "answer" not in path.read_text()
    learner = Quiz.from_file(path)
    for qid in teacher.question_ids:
        a, b = teacher.question(qid), learner.question(qid)
        assert (a.prompt, a.options, a.answer, a.training_seed) == (b.prompt, b.options, b.answer,
                                                                    b.training_seed)
    assert str(answer_key(path=path)) == str(teacher.answer_key())


def test_a_quiz_file_from_another_bank_warns(tmp_path):
    path = export_quiz(tmp_path / "class.json", seed=1, questions=["flat-curve"])
    spec = json.loads(path.read_text())
    spec["bank"] = "0000000000000000"
    path.write_text(json.dumps(spec))
    with pytest.warns(UserWarning, match="another version of the question bank"):
        Quiz.from_file(path)
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(ValueError, match="path must be a quiz written by Quiz.export"):
        Quiz.from_file(tmp_path / "other.json")


def test_the_command_prints_a_key_and_exports(tmp_path, capsys):
    assert main(["key", "--seed", "2"]) == 0
    assert str(answer_key(seed=2)) in capsys.readouterr().out
    out = tmp_path / "week3.json"
    assert main(["export", str(out), "--seed", "5", "--questions", "flat-curve,total-updates"]) == 0
    assert [q["id"] for q in json.loads(out.read_text())["questions"]] == ["flat-curve",
                                                                          "total-updates"]
    capsys.readouterr()
    main(["key", "--from", str(out)])
    key = capsys.readouterr().out
    assert "flat-curve (" in key and "total-updates (" in key and "two-experiments" not in key


# --- lesson 06 never shows an answer -------------------------------------------------

LESSON_06 = ROOT / "notebooks" / "06_quiz_reading_curves.ipynb"


def lesson_06_quiz():
    source = LESSON_06.read_text()
    return Quiz(seed=int(re.search(r"helpers\.Quiz\(seed=(\d+)\)", source).group(1)))


def giveaways(quiz):
    """Texts that give an answer away: answer-key rows, feedback, explanations, notes."""
    texts = set()
    for qid in quiz.question_ids:
        q = quiz.question(qid)
        texts |= {f"{q.id} ({q.topic}): {q.answer_text()}", f"the answer is {q.answer_text()}"}
        texts |= {s for s in re.split(r"(?<=\.)\s+", q.explanation) if len(s) >= 30}
        texts |= set(q.notes.values())
    return texts


def output_texts(outputs):
    for output in outputs:
        if "text" in output:
            yield output["text"]
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                yield html.unescape(value)


def test_the_stored_outputs_of_lesson_06_show_no_answers():
    notebook = nbformat.read(LESSON_06, as_version=4)
    shown = "\n".join(text for cell in notebook.cells if cell.cell_type == "code"
                      for text in output_texts(cell.outputs))
    assert "quiz.check('two-experiments'" in shown  # the outputs are there to be read
    assert [text for text in giveaways(lesson_06_quiz()) if text in shown] == []


def test_the_cells_of_lesson_06_print_no_answers(monkeypatch, capsys):
    """What each cell shows on a fresh run (figures aside: PNGs carry no answer text)."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **_: shown.extend(objects))
    monkeypatch.setattr(Quiz, "question_png", lambda self, question: None)  # no training
    namespace = {}
    for cell in nbformat.read(LESSON_06, as_version=4).cells:
        if cell.cell_type != "code" or "helpers.train(" in cell.source:
            continue  # the first two solutions train and print losses only
        tree = ast.parse(cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, LESSON_06.name, "exec"), namespace)
        if last is not None:
            shown.append(eval(compile(ast.Expression(last.value), LESSON_06.name, "eval"),
                              namespace))
    texts = [capsys.readouterr().out]
    for item in shown:
        texts += [repr(item), getattr(item, "data", None) or "",
                  html.unescape(getattr(item, "_repr_html_", lambda: "")() or "")]
    printed = "\n".join(map(str, texts))
    assert "Question 13" in printed and "quiz.check('flat-curve'" in printed
    assert [text for text in giveaways(namespace["quiz"]) if text in printed] == []


# --- the explanations, checked against real runs for every training seed ------------

@cache
def run(batch_size, learning_rate, seed, epochs=100, data="blobs"):
    dataset = quizmod._data(BANK, data)
    return helpers.train(dataset, batch_size=batch_size, epochs=epochs,
                         learning_rate=learning_rate, seed=seed)


# The runs the claims below are about; if the bank's runs change, so must the claims.
CLAIMED = {
    "two-experiments": {("blobs", 1, 0.01, 100), ("blobs", 800, 0.01, 100)},
    "which-took-longer": {("blobs", 1, 0.01, 100), ("blobs", 800, 0.01, 100)},
    "which-is-batch-32": {("blobs", 1, 0.01, 100), ("blobs", 32, 0.01, 100),
                          ("blobs", 800, 0.01, 100)},
    "per-epoch-faster": {("blobs", 32, 0.01, 100), ("blobs", 800, 0.01, 100)},
    "lr-too-high-for-batch": {("blobs", 1, 0.01, 100), ("blobs", 32, 0.01, 100)},
    "lr-scaling-rule": {("blobs", 32, 0.01, 100), ("blobs", 256, 0.01, 100)},
    "lr-scaling-which": {("blobs", 256, 0.00125, 100), ("blobs", 256, 0.01, 100),
                         ("blobs", 256, 0.08, 100)},
    "noise-and-generalisation": {("blobs", 1, 0.003, 100), ("blobs", 800, 0.1, 100)},
    "flat-curve": {("blobs", 800, 0.00001, 100)},
    "rising-test-loss": {("digits-100", 100, 0.5, 200)},
}


def test_the_claims_below_are_about_the_banks_runs():
    trained = {}
    for qid in IDS:
        for draw in range(12):
            q = make_question(qid, draw=draw)
            trained.setdefault(qid, set()).update(
                (q.data, r["batch_size"], r["learning_rate"], r["epochs"]) for r in q.runs)
    assert {k: v for k, v in trained.items() if v} == CLAIMED
    assert all(r.get("momentum", 0.9) == 0.9 for q in BANK["questions"] for v in q["variants"]
               for r in v.get("runs", []))


def loss(result, epoch):
    return result.history["loss"][epoch - 1]


def last10(result, key):
    return float(np.mean(result.history[key][-10:]))


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_size_questions(seed):
    sgd, mini, full = run(1, 0.01, seed), run(32, 0.01, seed), run(800, 0.01, seed)
    # two-experiments: batch 1 jumps from epoch to epoch, the full batch is smooth
    assert sgd.jitter() > 4 * full.jitter()
    # which-took-longer: the batch-1 run makes 80,000 updates against 100 (the time it took is
    # quoted from the source: here an epoch runs as one compiled loop, so seconds say little)
    assert sgd.updates[-1] == 80_000 and full.updates[-1] == 100
    # which-is-batch-32: much smoother than batch 1, falls faster than the full batch
    assert sgd.jitter() > 3 * mini.jitter()
    assert loss(mini, 20) < loss(full, 20)
    # per-epoch-faster: the batch-32 loss is lower than the full batch's at every epoch ...
    assert all(a < b for a, b in zip(mini.history["loss"], full.history["loss"]))
    # ... but after the same number of updates the full batch's training loss is the lower one
    per_epoch = mini.updates_per_epoch
    for epoch in range(1, len(full.history["loss"]) // per_epoch + 1):
        assert full.history["loss"][epoch * per_epoch - 1] < mini.history["loss"][epoch - 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_learning_rate_too_high_for_batch_size_1(seed):
    sgd, mini = run(1, 0.01, seed), run(32, 0.01, seed)
    assert sgd.jitter("val_accuracy") > 3 * mini.jitter("val_accuracy")  # swings wildly
    assert sgd.final("val_accuracy") < mini.final("val_accuracy") - 0.1  # ends far below
    assert run(1, 0.1, seed).diverged_at == 1  # raised: diverges in its first epoch
    accuracy = np.array(sgd.history["val_accuracy"])
    assert abs(accuracy[50:].mean() - accuracy[10:50].mean()) < 0.05  # more epochs: same level
    lowered = run(1, 0.001, seed)  # lowered: within a few points of batch 32
    assert abs(lowered.final("val_accuracy") - mini.final("val_accuracy")) <= 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_learning_rate_scaling(seed):
    mini, same, scaled = run(32, 0.01, seed), run(256, 0.01, seed), run(256, 0.08, seed)
    divided, far = run(256, 0.00125, seed), run(256, 0.8, seed)
    # lr-scaling-rule: at 0.01 batch 256 learns more slowly per epoch than batch 32 ...
    assert loss(same, 10) > loss(mini, 10) and loss(same, 20) > loss(mini, 20)
    # ... at 0.08 it follows the batch-32 curve more closely; at 0.00125 it is slower still
    gap = lambda r: np.mean(np.abs(np.array(r.history["loss"]) - mini.history["loss"]))  # noqa: E731
    assert gap(scaled) < gap(same)
    assert loss(divided, 20) > loss(same, 20)
    # ... and at 0.8 the test loss swings and the accuracy ends far below the others'
    assert far.jitter() > 5 * scaled.jitter()
    assert far.final("val_accuracy") < min(same.final("val_accuracy"),
                                           scaled.final("val_accuracy")) - 0.1
    # lr-scaling-which: over the first 10 epochs fastest at 0.08, slowest at 0.00125,
    # and 0.00125 is still well above the others after 100 epochs
    early = [np.mean(r.history["loss"][:10]) for r in (scaled, same, divided)]
    assert early == sorted(early)
    assert divided.final("loss") > max(scaled.final("loss"), same.final("loss")) + 0.1


@pytest.mark.parametrize("seed", SEEDS)
def test_noise_is_not_generalisation(seed):
    noisy, smooth = run(1, 0.003, seed), run(800, 0.1, seed)
    assert noisy.jitter() > 2.5 * smooth.jitter()  # much noisier
    assert abs(last10(noisy, "val_accuracy") - last10(smooth, "val_accuracy")) <= 0.04
    for r in (noisy, smooth):  # test close to train: no training curve far above its test curve
        assert abs(last10(r, "accuracy") - last10(r, "val_accuracy")) <= 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_flat_and_rising_curves(seed):
    flat, reference = run(800, 0.00001, seed), run(32, 0.01, seed)
    losses = flat.history["loss"]
    assert abs(losses[-1] - losses[0]) < 0.2 * losses[0]  # changes by less than a fifth
    assert 0.35 < reference.final("loss") < 0.45  # "about 0.4"
    assert min(losses) > 2 * reference.final("loss")  # far above it
    over = run(100, 0.5, seed, epochs=200, data="digits-100")
    val_loss, val_acc = np.array(over.history["val_loss"]), np.array(over.history["val_accuracy"])
    best = int(val_loss.argmin())
    assert over.final("loss") < 0.01 and over.final("accuracy") >= 0.99  # memorised
    assert best < 100 and val_loss[-1] > 1.2 * val_loss[best]  # falls, then rises
    assert val_acc[-1] >= val_acc[best] and val_acc[-1] > 0.8  # accuracy does not fall


def test_quiz_is_exported():
    assert helpers.Quiz is Quiz
