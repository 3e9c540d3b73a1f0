"""Reading an eventsourcing application's notification log from a position to its end.

eventsourcing stores aggregates, not queries, so every listing here (the alert board, the
sensitive customers, the audit index, the erasures, what-if's production fold) is a fold of
an application's notification log. They all read it the same way: pages from a position until
a short page says the end is reached. eventsourcing's own ``NotificationLogReader`` goes
through the application's ``notification_log``, whose sections hold 10 notifications (a read
per ten); this reads the recorder directly, a page of ``page`` at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from eventsourcing.persistence import ApplicationRecorder, Notification

__all__ = ["PAGE", "notifications_from"]

#: Notifications per read of the recorder.
PAGE = 1000


def notifications_from(
    recorder: ApplicationRecorder, start: int, *, topics: Sequence[str] = (), page: int = PAGE
) -> Iterator[Notification]:
    """Every notification with an id at or after ``start`` (only ``topics``, when given),
    oldest first, read ``page`` at a time until the log's end.

    Lazily: a caller that records its position after folding each notification keeps a
    position that never passes what it folded.
    """
    while True:
        found = recorder.select_notifications(start, page, topics=topics)
        yield from found
        if len(found) < page:
            return
        start = found[-1].id + 1
