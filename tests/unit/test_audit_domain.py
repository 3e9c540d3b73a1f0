"""The audit aggregates, pure: an evaluation records its form and score, an amendment
re-scores and keeps the history, a read is checked before it is recorded."""

from __future__ import annotations

import pytest

from services.audit import Evaluation, InvalidAudit, Read, check_answers, load_form, score
from services.audit.forms import Form

WHEN = "2026-03-04T10:15:00+00:00"


def full_marks(form: Form) -> dict[str, object]:
    return {q.id: (form.scale if q.answer == "scale" else "yes") for q in form.questions}


def test_an_evaluation_records_its_form_answers_and_score() -> None:
    form = load_form()
    answers = check_answers(form, full_marks(form), {"rel_promise_kept": "on time"}, "good")
    evaluation = Evaluation.start("E1", "C1", form, answers, by=" ann ", when=WHEN)

    assert (evaluation.episode_id, evaluation.customer_id, evaluation.by) == ("E1", "C1", "ann")
    assert evaluation.form_model == form and evaluation.form_digest == form.digest()
    assert evaluation.card == score(form, answers)
    assert evaluation.result == "pass"
    assert evaluation.notes == {"rel_promise_kept": "on time"} and evaluation.comment == "good"
    assert evaluation.history == [
        {"action": "evaluated", "by": "ann", "when": WHEN, "result": "pass", "standard": 100.0}
    ]
    [created] = evaluation.collect_events()
    assert type(created).__name__ == "Evaluated"


def test_amending_rescores_and_keeps_the_history() -> None:
    form = load_form()
    evaluation = Evaluation.start(
        "E1", "C1", form, check_answers(form, full_marks(form)), by="ann", when=WHEN
    )
    worse = {**full_marks(form), "ass_identity_verified": "no"}
    evaluation.amend(check_answers(form, worse), by="lee", when="later", reason="listened again")

    assert evaluation.result == "fail"
    assert evaluation.card.fatal_failed == ("ass_identity_verified",)
    assert evaluation.answers["ass_identity_verified"] == "no"
    assert [(s["action"], s["by"], s["result"]) for s in evaluation.history] == [
        ("evaluated", "ann", "pass"),
        ("amended", "lee", "fail"),
    ]
    assert evaluation.history[-1]["reason"] == "listened again"
    assert [type(e).__name__ for e in evaluation.collect_events()] == ["Evaluated", "Amended"]


def test_an_evaluation_needs_who_and_an_amendment_needs_why() -> None:
    form = load_form()
    answers = check_answers(form, full_marks(form))
    with pytest.raises(InvalidAudit, match="who acted"):
        Evaluation.start("E1", "C1", form, answers, by="  ", when=WHEN)
    with pytest.raises(InvalidAudit, match="episode and its customer"):
        Evaluation.start("", "C1", form, answers, by="ann", when=WHEN)
    evaluation = Evaluation.start("E1", "C1", form, answers, by="ann", when=WHEN)
    with pytest.raises(InvalidAudit, match="needs a reason"):
        evaluation.amend(answers, by="ann", when=WHEN, reason=" ")
    assert len(evaluation.history) == 1


def test_a_read_is_checked_before_it_is_recorded() -> None:
    read = Read.record("ann", "scene", "C1", {"episode_id": "E1"}, WHEN)
    assert (read.by, read.what, read.customer_id, read.subject, read.when) == (
        "ann",
        "scene",
        "C1",
        {"episode_id": "E1"},
        WHEN,
    )
    assert Read.record("ann", "export", None, {}, WHEN).customer_id is None
    with pytest.raises(InvalidAudit, match="lower-case word"):
        Read.record("ann", "Journey!", "C1", {}, WHEN)
    with pytest.raises(InvalidAudit, match="who acted"):
        Read.record("", "journey", "C1", {}, WHEN)
    with pytest.raises(InvalidAudit, match="non-empty string"):
        Read.record("ann", "journey", "", {}, WHEN)
    with pytest.raises(InvalidAudit, match="maps text to text"):
        Read.record("ann", "journey", "C1", {"as_of": 5}, WHEN)  # type: ignore[dict-item]


def test_who_is_reading_is_explicit_else_the_environment_else_the_os_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import getpass

    from services.audit import reader

    monkeypatch.setenv("SERVICETRACE_USER", " kim ")
    assert reader(" ann ") == "ann"
    assert reader(None) == "kim"
    monkeypatch.setenv("SERVICETRACE_USER", "  ")
    assert reader(None) == getpass.getuser()
    monkeypatch.delenv("SERVICETRACE_USER")
    assert reader("") == getpass.getuser()
