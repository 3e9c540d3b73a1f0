"""The audit aggregates: auditors' evaluations of episodes and the trail of who read what.

Pure domain (eventsourcing's ``Aggregate`` only; no persistence, no I/O).

* :class:`Evaluation`, one per evaluation (id uuid4: an auditor may score one episode twice,
  on purpose, and both stand). It keeps a snapshot of the form it was scored against and the
  form's digest, so the score card can be shown and re-scored even after the form file
  changed or is lost. The score is computed by the command and *recorded* in the event: a
  later change to the scoring code never rewrites a past score. :meth:`Evaluation.amend`
  re-scores new answers and keeps the history.
* :class:`Read`, one per read of a journey, scene, replay or export: who, what, which
  customer, the subject (episode id, as-of moment...) and when. One small aggregate per read,
  so concurrent readers never contend on a version number.

``when`` is the wall-clock moment the person acted (ISO 8601), passed in by the application's
clock: it is real time by nature and never feeds a projection.
"""

from __future__ import annotations

import re
from typing import Any

from eventsourcing.domain import Aggregate, event

from events.errors import ServicetraceError
from services.audit.forms import Answers, Form, ScoreCard
from services.audit.forms import score as score_answers

__all__ = ["READ_KINDS", "Evaluation", "InvalidAudit", "Read"]

#: What is usually read (``what`` of a :class:`Read`); any lower-case word is accepted, so a
#: new kind of read needs no change here.
READ_KINDS = ("journey", "scene", "scenes", "replay", "export", "customer", "evaluation")
_WHAT = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class InvalidAudit(ServicetraceError, ValueError):
    """An evaluation or a read that cannot be recorded as asked (who is missing, no reason)."""


def _who(by: str) -> str:
    if not isinstance(by, str) or not by.strip():
        raise InvalidAudit("who acted is required (a non-empty name)")
    return by.strip()


class Evaluation(Aggregate):
    """An auditor's scored QA form for one episode; see the module doc."""

    @event("Evaluated")
    def __init__(
        self,
        episode_id: str,
        customer_id: str,
        form: dict[str, Any],
        form_digest: str,
        answers: dict[str, Any],
        notes: dict[str, str],
        comment: str,
        score: dict[str, Any],
        by: str,
        when: str,
    ) -> None:
        self.episode_id = episode_id
        self.customer_id = customer_id
        self.form = dict(form)
        self.form_digest = form_digest
        self.answers = dict(answers)
        self.notes = dict(notes)
        self.comment = comment
        self.score = dict(score)
        self.by = by
        self.when = when
        self.history: list[dict[str, Any]] = [_step("evaluated", by, when, score)]

    @classmethod
    def start(
        cls, episode_id: str, customer_id: str, form: Form, answers: Answers, by: str, when: str
    ) -> Evaluation:
        """Score ``answers`` (checked against ``form``) and record the evaluation."""
        if not episode_id or not customer_id:
            raise InvalidAudit("an evaluation names its episode and its customer")
        card = score_answers(form, answers)
        return cls(
            episode_id=episode_id,
            customer_id=customer_id,
            form=form.model_dump(mode="json"),
            form_digest=form.digest(),
            answers=dict(answers.values),
            notes=dict(answers.notes),
            comment=answers.comment,
            score=card.model_dump(mode="json"),
            by=_who(by),
            when=when,
        )

    @property
    def form_model(self) -> Form:
        """The form this evaluation was scored against (its recorded snapshot)."""
        return Form.model_validate(self.form)

    @property
    def card(self) -> ScoreCard:
        return ScoreCard.model_validate(self.score)

    @property
    def result(self) -> str:
        return str(self.score["result"])

    def amend(self, answers: Answers, by: str, when: str, reason: str) -> None:
        """Replace the answers (checked against this evaluation's form) and re-score; the
        earlier answers stay in the aggregate's history."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidAudit(f"amending evaluation {self.id} needs a reason")
        card = score_answers(self.form_model, answers)
        self._amended(
            answers=dict(answers.values),
            notes=dict(answers.notes),
            comment=answers.comment,
            score=card.model_dump(mode="json"),
            by=_who(by),
            when=when,
            reason=reason.strip(),
        )

    @event("Amended")
    def _amended(
        self,
        answers: dict[str, Any],
        notes: dict[str, str],
        comment: str,
        score: dict[str, Any],
        by: str,
        when: str,
        reason: str,
    ) -> None:
        self.answers = dict(answers)
        self.notes = dict(notes)
        self.comment = comment
        self.score = dict(score)
        self.history.append({**_step("amended", by, when, score), "reason": reason})


def _step(action: str, by: str, when: str, score: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": action,
        "by": by,
        "when": when,
        "result": score["result"],
        "standard": score["standard"],
    }


class Read(Aggregate):
    """One read of customer data by a person: the audit trail's entry."""

    @event("Recorded")
    def __init__(
        self, by: str, what: str, customer_id: str | None, subject: dict[str, str], when: str
    ) -> None:
        self.by = by
        self.what = what
        self.customer_id = customer_id
        self.subject = dict(subject)
        self.when = when

    @classmethod
    def record(
        cls, by: str, what: str, customer_id: str | None, subject: dict[str, str], when: str
    ) -> Read:
        """A checked read; ``customer_id`` is ``None`` for a read that spans customers (an
        export of many)."""
        if not isinstance(what, str) or not _WHAT.match(what):
            raise InvalidAudit(
                f"what was read must be a lower-case word such as {', '.join(READ_KINDS)}; "
                f"got {what!r}"
            )
        if customer_id is not None and (not isinstance(customer_id, str) or not customer_id):
            raise InvalidAudit("a read's customer id is a non-empty string (or None)")
        bad = [k for k, v in subject.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise InvalidAudit(f"a read's subject maps text to text; not so for {bad!r}")
        return cls(by=_who(by), what=what, customer_id=customer_id, subject=subject, when=when)
