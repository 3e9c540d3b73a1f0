"""Evaluations, reads and forms as JSON for people and programs (CLI ``--json``, the API)."""

from __future__ import annotations

from typing import Any

from services.audit.domain import Evaluation
from services.audit.forms import Form
from services.audit.index import ReadRow

__all__ = ["evaluation_json", "form_json", "read_json"]


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    """One evaluation: what was scored against what, by whom, the score card, each question
    with its answer and note, and the history of amendments."""
    form = evaluation.form
    return {
        "evaluation_id": str(evaluation.id),
        "episode_id": evaluation.episode_id,
        "customer_id": evaluation.customer_id,
        "form": {
            "id": form["id"],
            "version": form["version"],
            "title": form["title"],
            "digest": evaluation.form_digest,
        },
        "by": evaluation.by,
        "when": evaluation.when,
        "result": evaluation.result,
        "score": dict(evaluation.score),
        "questions": [
            {
                "id": question["id"],
                "dimension": question["dimension"],
                "type": question["type"],
                "weight": question["weight"],
                "text": question["text"],
                "answer": evaluation.answers[question["id"]],
                "note": evaluation.notes.get(question["id"]),
            }
            for question in form["questions"]
        ],
        "comment": evaluation.comment,
        "history": [dict(step) for step in evaluation.history],
    }


def read_json(read: ReadRow) -> dict[str, Any]:
    """One entry of the audit trail of reads."""
    return {
        "read_id": read.read_id,
        "by": read.by,
        "what": read.what,
        "customer_id": read.customer_id,
        "subject": dict(read.subject),
        "when": read.when,
    }


def form_json(form: Form) -> dict[str, Any]:
    """A form as an auditor needs it: the questions to answer and what each accepts."""
    data = form.model_dump(mode="json")
    data["digest"] = form.digest()
    for question in data["questions"]:
        accepts = [f"0..{form.scale}"] if question["answer"] == "scale" else ["yes", "no"]
        question["accepts"] = accepts + (["na"] if question["allow_na"] else [])
    return data
