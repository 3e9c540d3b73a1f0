"""The ingest pipeline: submissions → validated, sealed touchpoints → Avro → the log.

Every submission ends in exactly one of three places, and the summary counts them so that
``submitted == accepted + duplicates + rejected`` always holds:

* **accepted**: at least one of its touchpoints is new in the log;
* **duplicate**: all its touchpoints were already in the log (same event ids);
* **rejected**: it could not be read, mapped or validated; it is kept in the dead-letter store
  with the original payload, its source line and every broken rule. A submission is all or
  nothing: when one of its touchpoints is invalid none of them is appended.

Work is batched: a batch of touchpoints is encoded and appended in one call, which is what
makes the embedded log fast and lets Kafka compress whole batches.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from events.deadletter import DeadLetter, DeadLetterStore
from events.intake import Intake
from events.log import Appended, Entry, EventLog
from events.resources import quiet_gc
from services.ingest.admission import (
    AdmissionPool,
    Admitted,
    AdmittedChunk,
    Encoder,
    admit,
    chunks,
)
from services.ingest.submission import Submission

__all__ = ["IngestPipeline", "IngestSummary"]


@dataclass
class IngestSummary:
    submitted: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    touchpoints_appended: int = 0
    touchpoints_duplicate: int = 0
    dead_letters_new: int = 0
    elapsed_seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.submitted == self.accepted + self.duplicates + self.rejected

    def to_json(self) -> dict[str, Any]:
        rate = self.submitted / self.elapsed_seconds if self.elapsed_seconds else 0.0
        return {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "touchpoints": {
                "appended": self.touchpoints_appended,
                "duplicates": self.touchpoints_duplicate,
            },
            "dead_letters_new": self.dead_letters_new,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "submissions_per_second": round(rate, 1),
        }


@dataclass
class _Batch:
    entries: list[Entry] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # entries per accepted submission
    letters: list[DeadLetter] = field(default_factory=list)


Progress = Callable[[IngestSummary, Submission], None]

#: Submissions admitted at a time without worker processes (with them: the pool's chunk).
_INLINE_CHUNK = 500


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IngestPipeline:
    """Runs submissions through admission and the log; keeps every rejection.

    Admission (the CPU-heavy part) runs inline, or in worker processes when an
    :class:`~services.ingest.admission.AdmissionPool` is given; appends always happen here,
    in submission order, so one customer's touchpoints keep their order in the log.
    """

    def __init__(
        self,
        intake: Intake,
        encoder: Encoder,
        log: EventLog,
        deadletters: DeadLetterStore,
        batch_size: int = 2000,
        clock: Callable[[], datetime] = _utc_now,
        pool: AdmissionPool | None = None,
    ) -> None:
        self._intake = intake
        self._encoder = encoder
        self._log = log
        self._deadletters = deadletters
        self._batch_size = batch_size
        self._clock = clock
        self._pool = pool

    def _admitted(self, submissions: Iterable[Submission]) -> Iterator[AdmittedChunk]:
        if self._pool is not None:
            return self._pool.admit_chunks(submissions)
        return (
            AdmittedChunk.of(chunk, [admit(self._intake, self._encoder, s) for s in chunk])
            for chunk in chunks(submissions, _INLINE_CHUNK)
        )

    def run(
        self, submissions: Iterable[Submission], progress: Progress | None = None
    ) -> IngestSummary:
        summary = IngestSummary()
        started = time.perf_counter()
        batch = _Batch()
        last: Submission | None = None
        with quiet_gc():
            for chunk in self._admitted(submissions):
                summary.submitted += len(chunk.submissions)
                self._take(chunk, batch, summary)
                last = chunk.submissions[-1]
                if len(batch.entries) >= self._batch_size or len(batch.letters) >= self._batch_size:
                    self._flush(batch, summary)
                    batch = _Batch()
                    if progress is not None:
                        progress(summary, last)
            self._flush(batch, summary)
            self._log.flush()
        summary.elapsed_seconds = time.perf_counter() - started
        if progress is not None and last is not None:
            progress(summary, last)
        return summary

    def _take(self, chunk: AdmittedChunk, batch: _Batch, summary: IngestSummary) -> None:
        counts = chunk.counts
        if chunk.rejections:
            for index, admitted in chunk.rejections.items():
                summary.rejected += 1
                summary.rejected_by_reason[admitted.reason or "rejected"] += 1
                batch.letters.append(self._letter(chunk.submissions[index], admitted))
            counts = [count for count in counts if count >= 0]
        batch.entries += chunk.entries
        batch.counts += counts

    def _letter(self, submission: Submission, admitted: Admitted) -> DeadLetter:
        return DeadLetter(
            source=submission.source,
            line=submission.line,
            reason=admitted.reason or "rejected",
            payload=submission.payload,
            received_at=self._clock(),
            errors=admitted.errors,
        )

    def _flush(self, batch: _Batch, summary: IngestSummary) -> None:
        if batch.letters:
            summary.dead_letters_new += self._deadletters.put(batch.letters)
        if batch.counts:
            _tally(batch.counts, self._log.append(batch.entries), summary)


def _tally(counts: list[int], appended: list[Appended], summary: IngestSummary) -> None:
    """Count each submission (``counts``: its number of entries) as accepted (one of its
    touchpoints is new) or duplicate."""
    if not any(a.duplicate for a in appended):  # a fresh ingest: no per-entry walk needed
        nonempty = len(counts) - counts.count(0)
        summary.touchpoints_appended += len(appended)
        summary.accepted += nonempty
        summary.duplicates += len(counts) - nonempty
        return
    results = iter(appended)
    for count in counts:
        fresh = sum(not next(results).duplicate for _ in range(count))
        summary.touchpoints_appended += fresh
        summary.touchpoints_duplicate += count - fresh
        if fresh:
            summary.accepted += 1
        else:
            summary.duplicates += 1
