"""QA forms, answers and scoring: validation that names the question, worked examples of the
scoring rules, and properties that hold for any form and any answers."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audit import (
    DIMENSIONS,
    Form,
    FormError,
    InvalidAnswers,
    answers_template,
    check_answers,
    load_answers,
    load_form,
    score,
)
from services.audit.files import answers_from_document
from services.audit.forms import NA, form_from_document


def question(qid: str, **fields: Any) -> dict[str, Any]:
    return {"id": qid, "dimension": "reliability", "text": f"text of {qid}", **fields}


def make_form(*questions: dict[str, Any], pass_mark: float = 80, scale: int = 4) -> Form:
    return form_from_document(
        {
            "id": "f",
            "title": "test form",
            "version": 1,
            "pass_mark": pass_mark,
            "scale": scale,
            "questions": list(questions),
        }
    )


def scored(form: Form, values: Mapping[str, Any]) -> Any:
    return score(form, check_answers(form, values))


def form_error(*questions: dict[str, Any], **top: Any) -> str:
    document = {"id": "f", "title": "t", "version": 1, "pass_mark": 80, **top}
    document.setdefault("questions", list(questions))
    with pytest.raises(FormError) as caught:
        form_from_document(document, "form x.toml")
    return str(caught.value)


# --- the shipped form ----------------------------------------------------------------------


def test_the_shipped_form_covers_servqual_with_critical_and_fatal_checks() -> None:
    form = load_form()
    assert 12 <= len(form.questions) <= 15
    assert {q.dimension for q in form.questions} == set(DIMENSIONS)
    for dimension in DIMENSIONS:
        assert any(q.dimension == dimension and q.type == "standard" for q in form.questions)
    critical = [q for q in form.questions if q.type == "critical"]
    fatal = [q for q in form.questions if q.type == "fatal"]
    assert 2 <= len(critical) <= 4 and 1 <= len(fatal) <= 2
    assert all(q.answer == "yes_no" for q in critical + fatal)
    assert any(not q.allow_na for q in fatal)
    assert any("unverified caller" in q.text for q in fatal)
    assert 0 < form.pass_mark <= 100


def test_a_form_digest_is_its_content_not_its_layout(tmp_path: Path) -> None:
    shipped = load_form()
    text = (Path(__file__).parents[2] / "services/audit/qa_forms/servqual.toml").read_text()
    relaid = tmp_path / "relaid.toml"
    relaid.write_text("# a comment\n" + text.replace(" = ", "   =   "), encoding="utf-8")
    assert load_form(relaid).digest() == shipped.digest()
    changed = tmp_path / "changed.toml"
    changed.write_text(text.replace("pass_mark = 80", "pass_mark = 85"), encoding="utf-8")
    assert load_form(changed).digest() != shipped.digest()


# --- form validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"weight": 0}, "question q1.weight: Input should be greater than 0"),
        ({"weight": -2}, "question q1.weight: Input should be greater than 0"),
        ({"dimension": "speed"}, "question q1.dimension: Input should be 'reliability'"),
        ({"type": "optional"}, "question q1.type: Input should be 'standard'"),
        ({"type": "critical", "answer": "scale"}, "question q1: a critical question is answered"),
        ({"type": "fatal", "answer": "scale"}, "question q1: a fatal question is answered"),
        ({"text": ""}, "question q1.text: String should have at least 1 character"),
        ({"colour": "red"}, "question q1.colour: Extra inputs are not permitted"),
        ({"answer": "stars"}, "question q1.answer: Input should be 'scale' or 'yes_no'"),
    ],
)
def test_a_broken_question_is_named_with_its_field(fields: dict[str, Any], expected: str) -> None:
    message = form_error(question("q0"), question("q1", **fields))
    assert message.startswith("form x.toml: ")
    assert expected in message
    assert "q0" not in message


def test_every_broken_question_is_reported_at_once() -> None:
    message = form_error(question("a", weight=0), question("b", dimension="x"), {"text": "t"})
    assert "question a.weight" in message and "question b.dimension" in message
    assert "question #3.id: Field required" in message and "4 problems" in message
    assert "question #3.dimension: Field required" in message


def test_form_level_problems_are_named() -> None:
    assert "question q: the id is used twice" in form_error(question("q"), question("q"))
    assert "pass_mark: Input should be less than or equal to 100" in form_error(
        question("q"), pass_mark=120
    )
    assert "questions: Tuple should have at least 1 item" in form_error()
    assert "'questions' is a list of tables" in form_error(questions={"q": 1})
    assert "version: Input should be greater than or equal to 1" in form_error(
        question("q"), version=0
    )
    assert "id: String should match pattern" in form_error(question("q"), id="no spaces")


def test_critical_and_fatal_questions_default_to_yes_no() -> None:
    form = make_form(question("c", type="critical"), question("f", type="fatal"), question("s"))
    assert [q.answer for q in form.questions] == ["yes_no", "yes_no", "scale"]


# --- answers --------------------------------------------------------------------------------


def test_answers_are_normalised() -> None:
    form = make_form(question("s", answer="yes_no"), question("c", type="critical"), question("n"))
    answers = check_answers(form, {"s": True, "c": " No ", "n": "N/A"}, {"s": "fine"}, "ok")
    assert answers.values == {"s": "yes", "c": "no", "n": NA}
    assert answers.notes == {"s": "fine"} and answers.comment == "ok"
    assert answers.form_digest == form.digest()


def test_every_bad_answer_is_named() -> None:
    form = make_form(
        question("a"),
        question("b"),
        question("c", type="critical"),
        question("d", type="fatal", allow_na=False),
        question("e"),
        question("f"),
        question("g", answer="yes_no"),
    )
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(
            form,
            {"a": 5, "c": "maybe", "d": "na", "e": True, "f": 2.0, "g": 1, "zz": 3},
            notes={"nope": "x"},
        )
    problems = caught.value.problems
    assert "b: not answered" in problems
    assert "zz: no such question in form f" in problems
    assert "notes.nope: no such question" in problems
    assert "a: 5 is not on the scale: a whole number 0..4 or 'na'" in problems
    assert "c: 'maybe' is not an answer to a yes/no question: 'yes' or 'no' or 'na'" in problems
    assert "d: N/A is not allowed (a fatal question that must be answered)" in problems
    assert "e: True is not on the scale: a whole number 0..4 or 'na'" in problems
    assert "f: 2.0 is not on the scale: a whole number 0..4 or 'na'" in problems
    assert "g: 1 is not an answer to a yes/no question: 'yes' or 'no' or 'na'" in problems
    assert len(problems) == 9
    assert str(caught.value).startswith("answers: 9 problems\n  - ")


def test_an_answers_document_is_checked_whole(tmp_path: Path) -> None:
    form = make_form(question("a"))
    with pytest.raises(InvalidAnswers) as caught:
        answers_from_document(form, {"answer": {"a": 1}, "note": {}}, "answers x.toml")
    assert caught.value.problems == [
        "answer: unknown key (use [answers], [notes], comment)",
        "note: unknown key (use [answers], [notes], comment)",
        "[answers]: missing (a table: question id = answer)",
    ]
    path = tmp_path / "a.toml"
    path.write_text('comment = "late callback"\n[answers]\na = 3\n[notes]\na = "ok"\n')
    answers = load_answers(form, path)
    assert (answers.values, answers.notes, answers.comment) == (
        {"a": 3},
        {"a": "ok"},
        "late callback",
    )


def test_the_template_lists_every_question_and_refuses_to_be_handed_in_blank() -> None:
    form = load_form()
    text = answers_template(form)
    document = tomllib.loads(text)
    assert list(document["answers"]) == [q.id for q in form.questions]
    for q in form.questions:
        assert q.text in text
    with pytest.raises(InvalidAnswers) as caught:
        answers_from_document(form, document, "answers")
    assert caught.value.problems == [
        f"{q.id}: not answered yet (still '?')" for q in form.questions
    ]


# --- scoring: worked examples ---------------------------------------------------------------


def test_the_standard_score_is_the_weighted_mean_of_answered_standard_questions() -> None:
    form = make_form(
        question("a", weight=2),  # 4/4 -> 1.0
        question("b", weight=1, dimension="empathy"),  # 2/4 -> 0.5
        question("c", weight=1, answer="yes_no", dimension="empathy"),  # no -> 0
        question("d", weight=5, dimension="tangibles"),  # N/A: not counted
        question("k", type="critical", weight=3),  # critical: apart
    )
    card = scored(form, {"a": 4, "b": 2, "c": "no", "d": "na", "k": "yes"})
    assert card.standard == round((2 * 1 + 0.5 + 0) / 4 * 100, 2) == 62.5
    assert card.dimensions == {
        "reliability": 100.0,
        "responsiveness": None,
        "assurance": None,
        "empathy": 25.0,
        "tangibles": None,
    }
    assert card.critical == 100.0 and card.critical_missed == ()
    assert card.not_applicable == ("d",)
    assert card.result == "fail"
    assert card.reasons == ("standard score 62.5% is below the pass mark 80%",)


def test_percentages_are_rounded_to_two_decimals() -> None:
    form = make_form(question("a"), question("b"), question("c"), scale=3)
    card = scored(form, {"a": 3, "b": 3, "c": 1})
    assert card.standard == 77.78  # 7/9


def test_a_score_at_the_pass_mark_passes() -> None:
    form = make_form(question("a"), question("b"), pass_mark=75)
    assert scored(form, {"a": 4, "b": 2}).result == "pass"
    assert scored(form, {"a": 4, "b": 1}).result == "fail"


def test_a_missed_critical_question_fails_whatever_the_standard_score() -> None:
    form = make_form(
        question("a"),
        question("k1", type="critical", weight=3, text="callback made"),
        question("k2", type="critical", weight=1),
        question("k3", type="critical"),
    )
    card = scored(form, {"a": 4, "k1": "no", "k2": "yes", "k3": "na"})
    assert card.standard == 100.0
    assert card.critical == 25.0  # weight 1 of 4 met; the N/A one not counted
    assert card.critical_missed == ("k1",)
    assert card.result == "fail"
    assert card.reasons == ("critical question k1 missed: callback made",)
    assert scored(form, {"a": 4, "k1": "na", "k2": "na", "k3": "na"}).critical is None


def test_a_failed_fatal_question_fails_and_is_named_first() -> None:
    form = make_form(
        question("a", weight=0.5),
        question("f", type="fatal", allow_na=False, text="identity verified"),
        question("k", type="critical"),
    )
    card = scored(form, {"a": 4, "f": "no", "k": "no"})
    assert card.result == "fail"
    assert card.fatal_failed == ("f",)
    assert card.reasons[0] == "fatal question f failed: identity verified"
    assert card.reasons[1].startswith("critical question k missed")
    assert card.standard == 100.0
    assert scored(form, {"a": 4, "f": "yes", "k": "yes"}).result == "pass"


def test_nothing_to_score_fails_with_its_reason() -> None:
    form = make_form(question("a"), question("b", dimension="empathy"))
    card = scored(form, {"a": "na", "b": "na"})
    assert card.standard is None
    assert set(card.dimensions.values()) == {None}
    assert card.result == "fail"
    assert card.reasons == ("no standard question was scored (all N/A): nothing to pass on",)


def test_answers_checked_against_another_form_are_refused() -> None:
    one = make_form(question("a"))
    other = make_form(question("a"), pass_mark=50)
    with pytest.raises(InvalidAnswers, match="another form"):
        score(other, check_answers(one, {"a": 1}))


# --- scoring: properties --------------------------------------------------------------------

WEIGHTS = st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 7.5])


@st.composite
def question_specs(draw: st.DrawFn, n: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["standard", "standard", "critical", "fatal"]))
    spec: dict[str, Any] = question(
        f"q{n}",
        dimension=draw(st.sampled_from(DIMENSIONS)),
        weight=draw(WEIGHTS),
        type=kind,
        allow_na=draw(st.booleans()),
    )
    if kind == "standard":
        spec["answer"] = draw(st.sampled_from(["scale", "yes_no"]))
    return spec


@st.composite
def forms(draw: st.DrawFn) -> Form:
    count = draw(st.integers(1, 12))
    specs = [draw(question_specs(n)) for n in range(count)]
    return make_form(
        *specs,
        pass_mark=draw(st.sampled_from([0, 50, 62.5, 75, 80, 90, 100])),
        scale=draw(st.integers(1, 10)),
    )


def answer_for(draw: st.DrawFn, form: Form, qid: str) -> Any:
    q = form.question(qid)
    options: list[Any] = ["yes", "no"] if q.answer == "yes_no" else list(range(form.scale + 1))
    if q.allow_na:
        options.append("na")
    return draw(st.sampled_from(options))


@st.composite
def answered_forms(draw: st.DrawFn) -> tuple[Form, dict[str, Any]]:
    form = draw(forms())
    return form, {q.id: answer_for(draw, form, q.id) for q in form.questions}


def with_questions(form: Form, questions: list[Any], **changes: Any) -> Form:
    data = form.model_dump()
    data["questions"] = questions
    return Form.model_validate({**data, **changes})


@settings(max_examples=300, deadline=None)
@given(answered_forms())
def test_the_result_follows_the_documented_rule(case: tuple[Form, dict[str, Any]]) -> None:
    form, values = case
    card = scored(form, values)
    standard_answered = [q for q in form.questions if q.type == "standard" and values[q.id] != "na"]
    assert (card.standard is None) == (not standard_answered)
    if card.standard is not None:
        assert 0 <= card.standard <= 100
    for value in (*card.dimensions.values(), card.critical):
        assert value is None or 0 <= value <= 100
    fatal_no = tuple(q.id for q in form.questions if q.type == "fatal" and values[q.id] == "no")
    critical_no = tuple(
        q.id for q in form.questions if q.type == "critical" and values[q.id] == "no"
    )
    assert card.fatal_failed == fatal_no and card.critical_missed == critical_no
    passes = (
        not fatal_no
        and not critical_no
        and card.standard is not None
        and card.standard >= form.pass_mark
    )
    assert card.result == ("pass" if passes else "fail")
    assert bool(card.reasons) == (not passes)
    assert card.not_applicable == tuple(q.id for q in form.questions if values[q.id] == "na")


@settings(max_examples=200, deadline=None)
@given(answered_forms(), question_specs(99), st.data())
def test_an_na_question_changes_no_score(
    case: tuple[Form, dict[str, Any]], extra: dict[str, Any], data: st.DataObject
) -> None:
    form, values = case
    extra["allow_na"] = True
    wider = with_questions(form, [*form.questions, extra])
    before, after = scored(form, values), scored(wider, {**values, "q99": "na"})
    for field in ("standard", "dimensions", "critical", "critical_missed", "fatal_failed"):
        assert getattr(after, field) == getattr(before, field)
    assert after.result == before.result


@settings(max_examples=200, deadline=None)
@given(answered_forms(), st.sampled_from([0.5, 2.0, 4.0]), st.randoms(use_true_random=False))
def test_scores_ignore_weight_scale_and_question_order(
    case: tuple[Form, dict[str, Any]], factor: float, rnd: Any
) -> None:
    form, values = case
    scaled = with_questions(
        form, [q.model_copy(update={"weight": q.weight * factor}) for q in form.questions]
    )
    shuffled = list(form.questions)
    rnd.shuffle(shuffled)
    reordered = with_questions(form, shuffled)
    base = scored(form, values)
    for other in (scored(scaled, values), scored(reordered, values)):
        assert (other.standard, other.dimensions, other.critical, other.result) == (
            base.standard,
            base.dimensions,
            base.critical,
            base.result,
        )


@settings(max_examples=200, deadline=None)
@given(answered_forms(), st.data())
def test_a_better_standard_answer_never_lowers_the_score(
    case: tuple[Form, dict[str, Any]], data: st.DataObject
) -> None:
    form, values = case
    scale_questions = [
        q.id
        for q in form.questions
        if q.type == "standard" and q.answer == "scale" and values[q.id] != "na"
    ]
    if not scale_questions:
        return
    qid = data.draw(st.sampled_from(scale_questions))
    better = {**values, qid: data.draw(st.integers(values[qid], form.scale))}
    before, after = scored(form, values), scored(form, better)
    assert before.standard is not None and after.standard is not None
    assert after.standard >= before.standard
    dimension = form.question(qid).dimension
    assert after.dimensions[dimension] >= before.dimensions[dimension]
    if before.result == "pass":
        assert after.result == "pass"


@settings(max_examples=200, deadline=None)
@given(answered_forms())
def test_the_standard_score_is_the_dimensions_weighted_by_their_weights(
    case: tuple[Form, dict[str, Any]],
) -> None:
    form, values = case
    card = scored(form, values)
    weights = dict.fromkeys(DIMENSIONS, 0.0)
    for q in form.questions:
        if q.type == "standard" and values[q.id] != "na":
            weights[q.dimension] += q.weight
    if card.standard is None:
        return
    combined = sum(weights[d] * (card.dimensions[d] or 0) for d in DIMENSIONS) / sum(
        weights.values()
    )
    assert combined == pytest.approx(card.standard, abs=0.011)


def test_the_readme_form_example_is_a_valid_form() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    (example,) = [block for block in blocks if "[[questions]]" in block]
    form = form_from_document(tomllib.loads(example), "README form")
    assert [(q.type, q.answer, q.allow_na) for q in form.questions] == [
        ("standard", "scale", True),
        ("fatal", "yes_no", False),
    ]
    assert scored(form, {"rel_accurate_info": 4, "ass_identity_verified": "no"}).result == "fail"
