"""The audit application: auditors' evaluations and the audit trail of reads, event-sourced.

The store is chosen by URL exactly like the decision store
(:func:`services.decisions.stores.decisions_env`: ``sqlite:///path``, ``postgresql://...``,
``memory:``), but it must not be the decisions' SQLite *file*: eventsourcing's SQLite recorder
always names its table ``stored_events``, so two applications in one file would read each
other's events. On PostgreSQL the tables carry the application's name
(``servicetrace-audit_events``), so one schema holds both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from events.errors import ConfigurationError, ServicetraceError
from services.audit.domain import Evaluation, Read
from services.audit.forms import Answers, Form, check_answers
from services.audit.index import AuditIndex, ReadRow
from services.decisions.stores import decisions_env, prepare_store
from services.moments import wall_clock

__all__ = ["AuditApp", "EvaluationNotFound", "audit_env"]


class EvaluationNotFound(ServicetraceError, KeyError):
    """No evaluation has that id (or no single evaluation starts with that prefix)."""

    def __str__(self) -> str:
        return str(self.args[0])


def audit_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for the audit store at ``url``."""
    try:
        return decisions_env(url)
    except ConfigurationError as exc:
        raise ConfigurationError(str(exc).replace("decision store", "audit store", 1)) from None


class AuditApp(Application[UUID]):
    """Evaluations and reads; see the module doc."""

    name = "servicetrace-audit"

    def __init__(self, url: str = "memory:", clock: Callable[[], str] = wall_clock) -> None:
        env = audit_env(url)
        prepare_store(env)
        super().__init__(env=env)
        self._clock = clock
        self.index = AuditIndex(self)

    # --- evaluations ------------------------------------------------------------------------

    def evaluate(
        self,
        episode_id: str,
        customer_id: str,
        form: Form,
        answers: Answers | Mapping[str, Any],
        by: str,
    ) -> Evaluation:
        """Score and record an evaluation of one episode.

        ``answers`` is :class:`~services.audit.forms.Answers` (from
        :func:`~services.audit.files.load_answers`) or a mapping question id → answer, checked
        here against ``form``."""
        checked = _checked(form, answers)
        evaluation = Evaluation.start(
            episode_id, customer_id, form, checked, by=by, when=self._clock()
        )
        self.save(evaluation)
        return evaluation

    def amend(
        self, evaluation_id: str, answers: Answers | Mapping[str, Any], by: str, reason: str
    ) -> Evaluation:
        """Re-answer an evaluation (against its own recorded form) and re-score it."""
        evaluation = self.evaluation(evaluation_id)
        checked = _checked(evaluation.form_model, answers)
        evaluation.amend(checked, by=by, when=self._clock(), reason=reason)
        self.save(evaluation)
        return evaluation

    def evaluation(self, evaluation_id: str) -> Evaluation:
        """The evaluation with this id, or with this unique id prefix."""
        key = self._resolve(evaluation_id)
        try:
            found: object = self.repository.get(UUID(key))
        except (AggregateNotFoundError, ValueError):
            raise EvaluationNotFound(f"no evaluation {evaluation_id}") from None
        if not isinstance(found, Evaluation):
            raise EvaluationNotFound(f"no evaluation {evaluation_id}")
        return found

    def _resolve(self, text: str) -> str:
        try:
            return str(UUID(text))
        except ValueError:
            pass
        matches = [k for k in self.index.evaluation_ids() if text and k.startswith(text.lower())]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise EvaluationNotFound(f"no evaluation id starts with {text!r}")
        raise EvaluationNotFound(f"{len(matches)} evaluations start with {text!r}: give more")

    def evaluations(
        self, customer_id: str | None = None, episode_id: str | None = None
    ) -> list[Evaluation]:
        """Evaluations, newest first, of one customer and/or one episode."""
        rows = self.index.evaluations(customer_id=customer_id, episode_id=episode_id)
        return [self.repository.get(UUID(row.evaluation_id)) for row in rows]

    # --- the audit trail of reads -----------------------------------------------------------

    def record_read(
        self, by: str, what: str, customer_id: str | None, subject: dict[str, str]
    ) -> None:
        """Record that ``by`` read ``what`` (a journey, scene, replay, export...) of
        ``customer_id`` (``None``: many customers), ``subject`` saying which (episode id,
        as-of moment...)."""
        self.save(Read.record(by, what, customer_id, dict(subject), when=self._clock()))

    def reads(
        self,
        customer_id: str | None = None,
        by: str | None = None,
        what: str | None = None,
        limit: int | None = None,
    ) -> list[ReadRow]:
        """The audit trail, newest first, filtered by customer, reader and kind of read."""
        return self.index.reads(customer_id=customer_id, by=by, what=what, limit=limit)


def _checked(form: Form, answers: Answers | Mapping[str, Any]) -> Answers:
    if isinstance(answers, Answers):
        return answers
    return check_answers(form, answers)
