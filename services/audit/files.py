"""Forms and answers as TOML files: the shipped default form, reading both, and the answers
skeleton an auditor fills in.

Answers file::

    comment = "callback promised for 14:00, made at 16:20"   # optional, before the tables

    [answers]                    # every question of the form, no other
    rel_accurate_info = 3        # a standard question: 0..scale, or "na"
    rel_promise_kept = "no"      # critical / fatal (and yes/no standard): "yes", "no" or "na"

    [notes]                      # optional, per question
    rel_promise_kept = "callback 2 h late"
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from projections.config_file import read_toml
from services.audit.forms import (
    TEMPLATE_BLANK,
    Answers,
    Form,
    InvalidAnswers,
    check_answers,
    form_from_document,
)

__all__ = ["DEFAULT_FORM", "answers_template", "load_answers", "load_form"]

#: Where the shipped SERVQUAL form lives (package data).
DEFAULT_FORM = "servqual.toml"
_ANSWER_KEYS = frozenset({"answers", "notes", "comment"})


def load_form(path: Path | None = None) -> Form:
    """The form at ``path``, else the shipped default form."""
    if path is None:
        return _shipped_form()
    return form_from_document(read_toml(path, "form"), f"form {path}")


@cache
def _shipped_form() -> Form:
    """The shipped form, read and checked once per process: it is package data and a frozen
    value, and the API asks for it on every evaluation and every look at the form."""
    source = resources.files("services.audit").joinpath("qa_forms", DEFAULT_FORM)
    with resources.as_file(source) as shipped:
        return form_from_document(read_toml(shipped, "form"), f"form {DEFAULT_FORM}")


def load_answers(form: Form, path: Path) -> Answers:
    """The answers at ``path``, checked against ``form`` (see the module doc)."""
    document = read_toml(path, "answers")
    return answers_from_document(form, document, f"answers {path}")


def answers_from_document(form: Form, document: dict[str, Any], source: str) -> Answers:
    """A parsed answers document (``[answers]``, ``[notes]``, ``comment``) checked against
    ``form``."""
    problems = [
        f"{key}: unknown key (use [answers], [notes], comment)"
        for key in document
        if key not in _ANSWER_KEYS
    ]
    values = document.get("answers")
    notes = document.get("notes", {})
    if not isinstance(values, dict):
        problems.append("[answers]: missing (a table: question id = answer)")
    if not isinstance(notes, dict):
        problems.append("[notes]: a table, question id = text")
    if problems:
        raise InvalidAnswers(source, problems)
    assert isinstance(values, dict)
    return check_answers(form, values, notes, document.get("comment", ""), source)


def answers_template(form: Form) -> str:
    """A TOML answers skeleton for ``form``: every question, its text and what it accepts.

    Each answer is :data:`~services.audit.forms.TEMPLATE_BLANK`, so a skeleton handed in
    unfinished fails naming every question left unanswered (not with a TOML syntax error)."""
    lines = [
        f"# answers to {form.id} v{form.version}: {form.title}",
        f"# standard questions: 0..{form.scale} ({form.scale} = fully met); "
        'yes/no questions: "yes" or "no"; "na" where allowed',
        'comment = ""',
        "",
        "[answers]",
    ]
    for question in form.questions:
        accepts = f"0..{form.scale}" if question.answer == "scale" else '"yes" | "no"'
        if question.allow_na:
            accepts += ' | "na"'
        lines.append(f"# [{question.dimension}, {question.type}] {question.text}")
        lines.append(f'{question.id} = "{TEMPLATE_BLANK}"  # {accepts}')
    lines += ["", "[notes]", '# question_id = "what you saw"', ""]
    return "\n".join(lines)
