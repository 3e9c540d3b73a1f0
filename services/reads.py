"""The trail of reads: every journey, scene or replay someone reads is recorded.

One function the read commands call once they have what they show (a read that finds nothing
shows nothing and is not recorded). Who reads is ``--by``, else ``$SERVICETRACE_USER``, else
the OS user (:func:`services.audit.reader`); ``servicetrace reads`` lists the trail.
"""

from __future__ import annotations

from services.audit import reader
from services.moments import from_micros
from services.platform import Platform

__all__ = ["record_read"]


def record_read(
    platform: Platform,
    by: str | None,
    what: str,
    customer_id: str,
    *,
    episode_id: str | None = None,
    as_of: int | None = None,
    since: int | None = None,
    until: int | None = None,
) -> None:
    """Record that the reader read ``what`` of ``customer_id`` (with what narrowed it)."""
    subject: dict[str, str] = {}
    if episode_id is not None:
        subject["episode_id"] = episode_id
    for name, moment in (("as_of", as_of), ("from", since), ("to", until)):
        if moment is not None:
            subject[name] = from_micros(moment).isoformat()
    platform.audit.record_read(reader(by), what, customer_id, subject)
