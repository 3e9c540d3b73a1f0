"""``POST /v1/touchpoints``: a request body → submissions → the log, as ``servicetrace ingest``.

The body is one JSON object, a JSON array of objects, or NDJSON (one object per line,
``Content-Type: application/x-ndjson``). Each object is one submission, admitted by the same
:func:`~services.ingest.admission.admit_all` as a file's lines, appended to the same log and,
when rejected, kept in the same dead-letter store under the source ``api:<token name>`` with
its index (from 1, like a file's line) so an operator can tell whose batch it was.

Unlike a file ingest the caller needs the outcome per record: the event ids of the records
taken (new or duplicate) and why each rejected one was rejected, by index (from 0, the
record's place in the body). ``submitted == accepted + duplicates + rejected`` always holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from events.deadletter import DeadLetter
from events.log import Entry
from services.ingest.admission import Admitted, admit_all
from services.ingest.submission import Submission, read_ndjson
from services.platform import Platform

__all__ = ["Outcome", "post_submissions", "submissions_of"]

NDJSON = "application/x-ndjson"


@dataclass
class Outcome:
    """What became of each record of one request."""

    submitted: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    event_ids: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "event_ids": self.event_ids,
            "errors": self.errors,
        }


def submissions_of(body: str, media_type: str, source: str) -> list[Submission]:
    """The submissions of a body: NDJSON lines, or the objects of a JSON body.

    A JSON body that does not parse is one submission (rejected as invalid JSON, kept as a
    dead letter like any unreadable line): nothing the caller sent is dropped silently.
    """
    if media_type == NDJSON:
        # Lines end at "\n" only: ``str.splitlines`` also splits at U+2028, U+2029 and U+0085,
        # which JSON strings carry unescaped, and would cut a valid record in two.
        return list(read_ndjson(body.split("\n"), source))
    text = body.strip()
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return [Submission(source, 1, text)]
    if isinstance(value, list):
        return [
            Submission(source, number, orjson.dumps(item).decode())
            for number, item in enumerate(value, start=1)
        ]
    return [Submission(source, 1, text)]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def post_submissions(
    platform: Platform,
    submissions: Sequence[Submission],
    clock: Callable[[], datetime] = _utc_now,
) -> Outcome:
    """Admit, append and dead-letter ``submissions``; the outcome of each."""
    admitted = admit_all(platform.intake, platform.serde, submissions)
    outcome = Outcome(submitted=len(submissions))
    letters = [
        _letter(submission, result, clock())
        for submission, result in zip(submissions, admitted, strict=True)
        if result.rejected
    ]
    if letters:
        platform.deadletters.put(letters)
    taken = [result.entries for result in admitted if not result.rejected]
    appended = iter(platform.log.append([entry for entries in taken for entry in entries]))
    platform.log.flush()
    for index, result in enumerate(admitted):
        if result.rejected:
            outcome.rejected += 1
            outcome.errors.append(_error(index, result))
            continue
        fresh = sum(not next(appended).duplicate for _ in result.entries)
        outcome.event_ids.extend(_ids(result.entries))
        if fresh:
            outcome.accepted += 1
        else:
            outcome.duplicates += 1
    from services.metrics import record_ingest  # the ingest rate counts API posts too

    record_ingest(outcome)
    return outcome


def _ids(entries: Sequence[Entry]) -> list[str]:
    return [entry.event_id for entry in entries]


def _letter(submission: Submission, result: Admitted, when: datetime) -> DeadLetter:
    return DeadLetter(
        source=submission.source,
        line=submission.line,
        reason=result.reason or "rejected",
        payload=submission.payload,
        received_at=when,
        errors=result.errors,
    )


def _error(index: int, result: Admitted) -> dict[str, Any]:
    return {
        "index": index,
        "reason": result.reason,
        "reasons": [
            {"field": e.field, "code": e.code, "message": e.message} for e in result.errors
        ],
    }
