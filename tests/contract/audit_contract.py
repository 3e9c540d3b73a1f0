"""The audit-application contract: every store (memory, SQLite, PostgreSQL) must pass it all.

Subclass :class:`AuditAppContract` (:class:`DurableAuditAppContract` for a store that
outlives its application) and provide a ``url`` fixture naming a fresh, empty store
for :class:`~services.audit.AuditApp`. Set :attr:`AuditAppContract.durable` to ``False`` for a
store that does not outlive its application (``memory:``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.audit import (
    AuditApp,
    EvaluationNotFound,
    InvalidAnswers,
    InvalidAudit,
    check_answers,
    load_form,
)
from services.audit.forms import Form
from services.audit.views import evaluation_json, read_json


def ticking_clock(start: int = 0) -> Callable[[], str]:
    """A clock one second further on each call: deterministic times, distinct per action."""
    counter = itertools.count(start)

    def now() -> str:
        n = next(counter)
        return f"2026-03-04T10:{n // 60:02d}:{n % 60:02d}+00:00"

    return now


def full_marks(form: Form, **changes: Any) -> dict[str, Any]:
    values = {q.id: (form.scale if q.answer == "scale" else "yes") for q in form.questions}
    return {**values, **changes}


class AuditAppContract:
    #: Whether the store outlives the application (a second app on the URL sees the same data).
    durable = True

    @pytest.fixture
    def app(self, url: str) -> Iterator[AuditApp]:
        app = AuditApp(url, clock=ticking_clock())
        try:
            yield app
        finally:
            app.close()

    @pytest.fixture
    def form(self) -> Form:
        return load_form()

    def reopen(self, url: str, app: AuditApp) -> AuditApp:
        """A second application on the same store (the same one for a store that is not
        durable)."""
        return AuditApp(url, clock=ticking_clock(1000)) if self.durable else app

    # --- evaluations ------------------------------------------------------------------------

    def test_an_evaluation_is_recorded_with_its_score_card(
        self, app: AuditApp, form: Form, url: str
    ) -> None:
        values = full_marks(form, tan_case_record=2, tan_written_followup="na")
        answers = check_answers(form, values, {"tan_case_record": "no outcome noted"}, "ok")
        made = app.evaluate("E1", "C1", form, answers, by="ann")

        other = self.reopen(url, app)
        try:
            found = other.evaluation(str(made.id))
            data = evaluation_json(found)
        finally:
            if other is not app:
                other.close()
        assert data == evaluation_json(made)
        assert (data["episode_id"], data["customer_id"], data["by"]) == ("E1", "C1", "ann")
        assert data["when"] == "2026-03-04T10:00:00+00:00"
        assert data["form"] == {
            "id": form.id,
            "version": form.version,
            "title": form.title,
            "digest": form.digest(),
        }
        assert data["score"]["not_applicable"] == ["tan_written_followup"]
        assert data["score"]["dimensions"]["tangibles"] < 100
        assert data["score"]["dimensions"]["reliability"] == 100.0
        assert data["result"] == "pass"
        by_id = {q["id"]: q for q in data["questions"]}
        assert set(by_id) == {q.id for q in form.questions}
        assert by_id["tan_case_record"]["answer"] == 2
        assert by_id["tan_case_record"]["note"] == "no outcome noted"
        assert data["comment"] == "ok"

    def test_answers_as_a_mapping_are_checked_against_the_form(
        self, app: AuditApp, form: Form
    ) -> None:
        values = full_marks(form, rel_promise_kept=True, ass_knowledge="N/A")
        made = app.evaluate("E1", "C1", form, values, by="ann")
        assert (made.answers["rel_promise_kept"], made.answers["ass_knowledge"]) == ("yes", "na")
        assert made.score["dimensions"]["assurance"] is None
        with pytest.raises(InvalidAnswers) as caught:
            app.evaluate("E1", "C1", form, {"rel_accurate_info": 9}, by="ann")
        assert "rel_accurate_info: 9 is not on the scale" in str(caught.value)
        assert "rel_promise_kept: not answered" in str(caught.value)
        assert len(app.evaluations()) == 1

    def test_a_fatal_answer_fails_the_recorded_evaluation(self, app: AuditApp, form: Form) -> None:
        made = app.evaluate(
            "E1", "C1", form, full_marks(form, ass_identity_verified="no"), by="ann"
        )
        assert made.result == "fail"
        assert made.score["fatal_failed"] == ["ass_identity_verified"]
        assert app.evaluation(str(made.id)).score == made.score

    def test_evaluations_are_listed_newest_first_and_filtered(
        self, app: AuditApp, form: Form
    ) -> None:
        made = [
            app.evaluate(episode, customer, form, full_marks(form), by="ann")
            for episode, customer in (("E1", "C1"), ("E2", "C1"), ("E3", "C2"), ("E1", "C1"))
        ]
        ids = [str(e.id) for e in made]
        assert [str(e.id) for e in app.evaluations()] == ids[::-1]
        assert [str(e.id) for e in app.evaluations(customer_id="C1")] == [ids[3], ids[1], ids[0]]
        assert [str(e.id) for e in app.evaluations(episode_id="E1")] == [ids[3], ids[0]]
        assert [str(e.id) for e in app.evaluations("C2", "E3")] == [ids[2]]
        assert app.evaluations(customer_id="C9") == []

    def test_an_amendment_rescores_and_is_kept_in_the_history(
        self, app: AuditApp, form: Form, url: str
    ) -> None:
        made = app.evaluate("E1", "C1", form, full_marks(form), by="ann")
        app.amend(str(made.id)[:8], full_marks(form, rel_promise_kept="no"), "lee", "re-listened")

        other = self.reopen(url, app)
        try:
            found = other.evaluation(str(made.id))
        finally:
            if other is not app:
                other.close()
        assert found.result == "fail"
        assert found.score["critical_missed"] == ["rel_promise_kept"]
        assert [(s["action"], s["by"], s["result"]) for s in found.history] == [
            ("evaluated", "ann", "pass"),
            ("amended", "lee", "fail"),
        ]
        assert found.history[1]["reason"] == "re-listened"
        assert found.version == 2
        with pytest.raises(InvalidAudit, match="needs a reason"):
            app.amend(str(made.id), full_marks(form), "lee", "")

    def test_an_unknown_evaluation_is_not_found(self, app: AuditApp, form: Form) -> None:
        with pytest.raises(EvaluationNotFound, match="no evaluation"):
            app.evaluation("00000000-0000-4000-8000-000000000000")
        with pytest.raises(EvaluationNotFound, match="no evaluation id starts with 'zz'"):
            app.evaluation("zz")
        app.record_read("ann", "journey", "C1", {})
        [read] = app.reads()
        with pytest.raises(EvaluationNotFound):  # a read is not an evaluation
            app.evaluation(read.read_id)

    # --- reads ------------------------------------------------------------------------------

    def test_reads_are_recorded_and_listed_newest_first(self, app: AuditApp, url: str) -> None:
        app.record_read("ann", "journey", "C1", {"as_of": "2026-03-01T00:00:00+00:00"})
        app.record_read("ann", "scene", "C1", {"episode_id": "E1"})
        app.record_read("bob", "replay", "C2", {"from": "2026-02-01", "to": "2026-03-01"})
        app.record_read("bob", "export", None, {"customers": "3"})

        other = self.reopen(url, app)
        try:
            rows = [read_json(r) for r in other.reads()]
        finally:
            if other is not app:
                other.close()
        assert [(r["by"], r["what"], r["customer_id"]) for r in rows] == [
            ("bob", "export", None),
            ("bob", "replay", "C2"),
            ("ann", "scene", "C1"),
            ("ann", "journey", "C1"),
        ]
        assert rows[2]["subject"] == {"episode_id": "E1"}
        assert rows[3]["when"] == "2026-03-04T10:00:00+00:00"
        assert len({r["read_id"] for r in rows}) == 4

    def test_reads_are_filtered_and_limited(self, app: AuditApp) -> None:
        for by, what, customer in (
            ("ann", "journey", "C1"),
            ("bob", "journey", "C2"),
            ("ann", "scene", "C2"),
            ("ann", "journey", "C2"),
        ):
            app.record_read(by, what, customer, {})
        assert [(r.by, r.what) for r in app.reads(customer_id="C2")] == [
            ("ann", "journey"),
            ("ann", "scene"),
            ("bob", "journey"),
        ]
        assert [r.customer_id for r in app.reads(by="ann", what="journey")] == ["C2", "C1"]
        assert [r.customer_id for r in app.reads(limit=2)] == ["C2", "C2"]
        assert app.reads(by="zoe") == []

    def test_reads_in_one_second_keep_the_order_they_were_recorded(self, url: str) -> None:
        app = AuditApp(url, clock=lambda: "2026-03-04T10:00:00+00:00")
        try:
            for n in range(5):
                app.record_read("ann", "scene", "C1", {"episode_id": f"E{n}"})
            assert [r.subject["episode_id"] for r in app.reads()] == [f"E{n}" for n in range(5)][
                ::-1
            ]
        finally:
            app.close()

    def test_a_bad_read_is_refused_and_nothing_is_recorded(self, app: AuditApp) -> None:
        with pytest.raises(InvalidAudit):
            app.record_read("", "journey", "C1", {})
        with pytest.raises(InvalidAudit):
            app.record_read("ann", "", "C1", {})
        assert app.reads() == []
        assert app.recorder.max_notification_id() in {None, 0}


class DurableAuditAppContract(AuditAppContract):
    """What a store that outlives its application (SQLite, PostgreSQL) must also pass."""

    def test_readers_on_two_applications_never_contend(self, app: AuditApp, url: str) -> None:
        other = AuditApp(url, clock=ticking_clock(500))
        try:
            for n in range(10):
                (app if n % 2 else other).record_read(f"user{n % 2}", "journey", "C1", {})
            assert len(app.reads()) == len(other.reads()) == 10
            assert {r.by for r in app.reads()} == {"user0", "user1"}
        finally:
            other.close()
