"""QA forms and the answers an auditor gives them: the model, its validation and the scoring.

Pure domain: no I/O (reading the TOML files is :mod:`services.audit.files`' job).

A form groups weighted questions under the five SERVQUAL dimensions. A question is

* ``standard``: scored on the form's scale (``0..scale``, ``answer = "scale"``, the default)
  or yes/no (``answer = "yes_no"``: yes is full marks, no is zero); the *standard score* is the
  weighted mean of the standard questions answered, as a percentage;
* ``critical``: a yes/no check scored apart (its own percentage); a "no" is a *missed*
  critical question and fails the evaluation, whatever the standard score;
* ``fatal``: a yes/no check that fails the evaluation on its own (personal data disclosed to
  an unverified caller); a fatal question may forbid N/A (``allow_na = false``).

Critical and fatal questions are yes/no by design: they are compliance checks, met or not.
An N/A answer (``"na"``) leaves the question out of numerator *and* denominator, so it
neither helps nor hurts; a dimension (or the critical part) whose questions are all N/A has
no score (``None``).

The result, in this order of precedence: **fail** if a fatal question failed; **fail** if a
critical question was missed; **fail** if no standard question was scored (every one N/A:
there is nothing to judge the service by); **fail** if the standard score, as shown (rounded
to two decimals), is below ``pass_mark``; **pass** otherwise. Every failure reason is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from events.errors import ConfigurationError, ServicetraceError

__all__ = [
    "DIMENSIONS",
    "NA",
    "TEMPLATE_BLANK",
    "Answers",
    "Form",
    "FormError",
    "InvalidAnswers",
    "Question",
    "ScoreCard",
    "check_answers",
    "form_from_document",
    "score",
]

#: The five SERVQUAL dimensions, in the order the score card shows them.
DIMENSIONS = ("reliability", "responsiveness", "assurance", "empathy", "tangibles")
Dimension = Literal["reliability", "responsiveness", "assurance", "empathy", "tangibles"]
QuestionType = Literal["standard", "critical", "fatal"]
AnswerKind = Literal["scale", "yes_no"]
Value = int | str

#: The answer that leaves a question out of the score.
NA = "na"
#: What the answers skeleton (``evaluation-form --template``) puts in front of every question.
TEMPLATE_BLANK = "?"
_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class FormError(ConfigurationError):
    """A QA form that cannot be used; the message names the question and the field."""


class InvalidAnswers(ServicetraceError, ValueError):
    """Answers that do not fit their form; :attr:`problems` names every offending question."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(_listing(source, problems))


def _listing(source: str, problems: list[str]) -> str:
    """One problem on the line of its source; several one per line, so a person can work
    through them."""
    if len(problems) == 1:
        return f"{source}: {problems[0]}"
    return f"{source}: {len(problems)} problems\n" + "\n".join(f"  - {p}" for p in problems)


class Question(BaseModel):
    """One question of a form (see the module doc for the types and answer kinds)."""

    model_config = _FROZEN

    id: str = Field(pattern=_ID)
    dimension: Dimension
    text: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    type: QuestionType = "standard"
    answer: AnswerKind = "scale"
    allow_na: bool = True

    @model_validator(mode="before")
    @classmethod
    def _checks_are_yes_no(cls, data: Any) -> Any:
        """Critical and fatal questions default to yes/no (and must be)."""
        if isinstance(data, Mapping) and data.get("type") in {"critical", "fatal"}:
            return {"answer": "yes_no", **data}
        return data

    @model_validator(mode="after")
    def _check_kind(self) -> Question:
        if self.type != "standard" and self.answer != "yes_no":
            raise ValueError(f"a {self.type} question is answered yes/no (answer = 'yes_no')")
        return self


class Form(BaseModel):
    """A QA form: weighted questions under the SERVQUAL dimensions and the pass mark."""

    model_config = _FROZEN

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    version: int = Field(ge=1)
    pass_mark: float = Field(ge=0, le=100, allow_inf_nan=False)
    #: Scale answers run from 0 to this.
    scale: int = Field(default=4, ge=1, le=100)
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Form:
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"question {question.id}: the id is used twice")
            seen.add(question.id)
        return self

    def question(self, question_id: str) -> Question:
        """The question with this id (:class:`KeyError` if the form has none)."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(f"form {self.id} has no question {question_id}")

    def digest(self) -> str:
        """SHA-256 of the form's content (not of its file: comments and layout do not count),
        so an evaluation names exactly what it was scored against."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def form_from_document(document: Mapping[str, Any], source: str = "form") -> Form:
    """``document`` (a parsed form TOML) as a :class:`Form`; :class:`FormError` naming every
    problem as ``question <id>.<field>`` otherwise."""
    raw_questions = document.get("questions", [])
    if not isinstance(raw_questions, list) or not all(isinstance(q, dict) for q in raw_questions):
        raise FormError(f"{source}: 'questions' is a list of tables ([[questions]])")
    problems: list[str] = []
    questions = [_question(raw, n, problems) for n, raw in enumerate(raw_questions, 1)]
    if problems:
        raise FormError(_listing(source, problems))
    try:
        return Form.model_validate({**document, "questions": questions})
    except ValidationError as exc:
        raise FormError(_listing(source, _describe(exc, ""))) from exc


def _question(raw: dict[str, Any], number: int, problems: list[str]) -> Question | None:
    name = f"question {raw['id']}" if isinstance(raw.get("id"), str) else f"question #{number}"
    try:
        return Question.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_describe(exc, name))
        return None


def _describe(exc: ValidationError, name: str) -> list[str]:
    found = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        label = ".".join(part for part in (name, where) if part)
        found.append(f"{label}: {message}" if label else message)
    return found


# --- answers ---------------------------------------------------------------------------------


class Answers(BaseModel):
    """An auditor's answers to every question of one form (checked by :func:`check_answers`):
    an integer on the scale, ``"yes"``, ``"no"`` or ``"na"``; optional notes per question and
    a comment."""

    model_config = _FROZEN

    form_digest: str
    values: dict[str, Value]
    notes: dict[str, str] = Field(default_factory=dict)
    comment: str = ""


def check_answers(
    form: Form,
    values: Mapping[str, Any],
    notes: Mapping[str, Any] | None = None,
    comment: str = "",
    source: str = "answers",
) -> Answers:
    """The answers, normalised (``true`` → ``"yes"``, ``"N/A"`` → ``"na"``), or
    :class:`InvalidAnswers` naming every missing, unknown or unacceptable answer."""
    notes = dict(notes or {})
    known = {q.id for q in form.questions}
    problems = [f"{q.id}: not answered" for q in form.questions if q.id not in values]
    problems += [f"{key}: no such question in form {form.id}" for key in values if key not in known]
    problems += [f"notes.{key}: no such question" for key in notes if key not in known]
    problems += [f"notes.{k}: a note is text" for k, v in notes.items() if not isinstance(v, str)]
    checked: dict[str, Value] = {}
    for question in form.questions:
        if question.id in values:
            raw = values[question.id]
            if raw == TEMPLATE_BLANK:
                problems.append(f"{question.id}: not answered yet (still {TEMPLATE_BLANK!r})")
                continue
            value, problem = _CHECKS[question.answer](question, raw, form.scale)
            if problem:
                problems.append(f"{question.id}: {problem}")
            else:
                checked[question.id] = value
    if not isinstance(comment, str):
        problems.append("comment: a comment is text")
    if problems:
        raise InvalidAnswers(source, problems)
    return Answers(form_digest=form.digest(), values=checked, notes=notes, comment=comment)


_NA_SPELLINGS = frozenset({"na", "n/a"})


def _scale_value(question: Question, raw: Any, scale: int) -> tuple[Value, str | None]:
    if isinstance(raw, str) and raw.strip().lower() in _NA_SPELLINGS:
        return _na(question)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= scale:
        return 0, f"{raw!r} is not on the scale: a whole number 0..{scale}{_or_na(question)}"
    return raw, None


def _yes_no_value(question: Question, raw: Any, scale: int) -> tuple[Value, str | None]:
    if isinstance(raw, bool):
        return ("yes" if raw else "no"), None
    text = raw.strip().lower() if isinstance(raw, str) else None
    if text in _NA_SPELLINGS:
        return _na(question)
    if text in {"yes", "no"}:
        return text, None
    return "", f"{raw!r} is not an answer to a yes/no question: 'yes' or 'no'{_or_na(question)}"


def _na(question: Question) -> tuple[Value, str | None]:
    if question.allow_na:
        return NA, None
    return NA, f"N/A is not allowed (a {question.type} question that must be answered)"


def _or_na(question: Question) -> str:
    return " or 'na'" if question.allow_na else ""


_CHECKS = {"scale": _scale_value, "yes_no": _yes_no_value}


# --- scoring ---------------------------------------------------------------------------------


class ScoreCard(BaseModel):
    """What an evaluation scored (percentages rounded to two decimals; see the module doc)."""

    model_config = _FROZEN

    standard: float | None
    dimensions: dict[str, float | None]
    critical: float | None
    critical_missed: tuple[str, ...]
    fatal_failed: tuple[str, ...]
    not_applicable: tuple[str, ...]
    pass_mark: float
    result: Literal["pass", "fail"]
    reasons: tuple[str, ...]


def score(form: Form, answers: Answers) -> ScoreCard:
    """Score ``answers`` (checked against ``form``) by the rules in the module doc."""
    if answers.form_digest != form.digest():
        raise InvalidAnswers("answers", [f"checked against another form than {form.id}"])
    points = {q.id: _points(answers.values[q.id], form.scale) for q in form.questions}
    scored = [(q, p) for q in form.questions if (p := points[q.id]) is not None]
    standard = [(q, p) for q, p in scored if q.type == "standard"]
    critical = [(q, p) for q, p in scored if q.type == "critical"]
    card = {
        "standard": _percent(_weighted(standard)),
        "dimensions": {
            d: _percent(_weighted((q, p) for q, p in standard if q.dimension == d))
            for d in DIMENSIONS
        },
        "critical": _percent(_weighted(critical)),
        "critical_missed": tuple(q.id for q, p in critical if p == 0),
        "fatal_failed": tuple(q.id for q, p in scored if q.type == "fatal" and p == 0),
        "not_applicable": tuple(q.id for q in form.questions if points[q.id] is None),
        "pass_mark": form.pass_mark,
    }
    reasons = _fail_reasons(form, card)
    return ScoreCard(**card, result="fail" if reasons else "pass", reasons=reasons)


def _points(value: Value, scale: int) -> Fraction | None:
    """The share of full marks an answer earns; ``None`` for N/A."""
    if value == NA:
        return None
    if isinstance(value, int):
        return Fraction(value, scale)
    return Fraction(1 if value == "yes" else 0)


def _weighted(items: Iterable[tuple[Question, Fraction]]) -> Fraction | None:
    """The weighted mean of the points, exact; ``None`` when nothing was scored."""
    total = weights = Fraction(0)
    for question, points in items:
        weight = Fraction(question.weight)
        total += weight * points
        weights += weight
    return total / weights if weights else None


def _percent(share: Fraction | None) -> float | None:
    return None if share is None else round(float(share * 100), 2)


def _fail_reasons(form: Form, card: Mapping[str, Any]) -> tuple[str, ...]:
    reasons = [
        f"fatal question {qid} failed: {form.question(qid).text}" for qid in card["fatal_failed"]
    ]
    reasons += [
        f"critical question {qid} missed: {form.question(qid).text}"
        for qid in card["critical_missed"]
    ]
    standard = card["standard"]
    if standard is None:
        reasons.append("no standard question was scored (all N/A): nothing to pass on")
    elif standard < form.pass_mark:
        reasons.append(f"standard score {standard:g}% is below the pass mark {form.pass_mark:g}%")
    return tuple(reasons)
