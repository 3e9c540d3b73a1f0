"""Erasure records as a list and as JSON (``servicetrace erasures``, later the API).

Erasures live in the audit store beside evaluations and reads. The audit index does not fold
them, and they are rare, so the list is read straight from the notification log: the ids of
the ``Erased`` events, each record then loaded whole (with its repeats).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from services.erasure.domain import Erasure
from services.notifications import notifications_from

__all__ = ["erasure_json", "erasures"]

_ERASED = get_topic(Erasure.Erased)  # type: ignore[attr-defined]


def erasures(app: Application[UUID]) -> list[Erasure]:
    """Every erasure record, oldest first erasure first."""
    erased = notifications_from(app.recorder, 1, topics=[_ERASED])
    found: list[Erasure] = [app.repository.get(UUID(str(n.originator_id))) for n in erased]
    return found


def erasure_json(erasure: Erasure) -> dict[str, Any]:
    """One record: the customer (pseudonymous id), the first erasure and every repeat."""
    first = erasure.first
    return {
        "erasure_id": str(erasure.id),
        "customer_id": erasure.customer_id,
        "erased_at": first["when"],
        "erased_by": first["by"],
        "reason": first["reason"],
        "keys_destroyed": erasure.keys_destroyed,
        "letters_scrubbed": erasure.letters_scrubbed,
        "history": [dict(step) for step in erasure.history],
    }
