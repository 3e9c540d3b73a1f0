"""Admission: one submission → encoded log entries, or the reason it is rejected.

This is the CPU-heavy part of ingest (JSON, validation, hashing, sealing, Avro), written as a
pure step so that it runs the same inline or in worker processes (:class:`AdmissionPool`),
which is how one ingest uses every core of the machine while the log stays single-writer.
Results come back as plain picklable values, in submission order.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from events.errors import FieldError, InvalidRecord
from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.sqlite import SqliteKeyStore
from events.log import Entry
from events.personal import PersonalVault
from events.resources import Closing
from events.touchpoint import Touchpoint
from schemas.serde import TouchpointSerde
from services.ingest.submission import Submission

__all__ = [
    "AdmissionPool",
    "Admitted",
    "AdmittedChunk",
    "Encoder",
    "IntakeRecipe",
    "admit",
    "admit_all",
    "chunks",
    "default_workers",
]


class Encoder(Protocol):
    """Encodes a touchpoint given as the model or (bulk ingest) as its validated field values;
    both give the same bytes (see :class:`~schemas.serde.TouchpointSerde`)."""

    def encode(self, tp: Touchpoint) -> bytes: ...

    def encode_fields(self, fields: dict[str, Any]) -> bytes: ...


class Admitted(NamedTuple):
    """The outcome of one submission: its log entries, or why it was rejected (a named tuple:
    one is made per submission, in the worker and again in the parent)."""

    entries: tuple[Entry, ...] = ()
    reason: str | None = None
    errors: tuple[FieldError, ...] = ()

    @property
    def rejected(self) -> bool:
        return self.reason is not None


def admit(intake: Intake, encoder: Encoder, submission: Submission) -> Admitted:
    """All of a submission's touchpoints, encoded; or its rejection (all or nothing)."""
    return _admit_records(intake, encoder, _records(submission))


def admit_all(intake: Intake, encoder: Encoder, chunk: Sequence[Submission]) -> list[Admitted]:
    """A chunk at a time: the chunk's new customers get their keys in one durable write."""
    records = [_records(submission) for submission in chunk]
    intake.prepare(r for rs in records if not isinstance(rs, InvalidRecord) for r in rs)
    return [_admit_records(intake, encoder, rs) for rs in records]


def _records(submission: Submission) -> list[dict[str, Any]] | InvalidRecord:
    try:
        return submission.touchpoint_records()
    except InvalidRecord as exc:
        return exc


def _admit_records(
    intake: Intake, encoder: Encoder, records: list[dict[str, Any]] | InvalidRecord
) -> Admitted:
    try:
        if isinstance(records, InvalidRecord):
            raise records
        touchpoints = [intake.touchpoint_fields(r) for r in records]
    except InvalidRecord as exc:
        return Admitted(reason=exc.reason, errors=tuple(exc.errors))
    except Exception as exc:  # a bug must not lose the record: it is kept as a dead letter
        error = FieldError("record", "unexpected_error", f"{type(exc).__name__}: {exc}")
        return Admitted(reason="unexpected_error", errors=(error,))
    # No Touchpoint model is built on this path: the validated fields go straight to Avro.
    encode = encoder.encode_fields
    return Admitted(
        tuple([Entry(tp["event_id"], tp["customer_id"], encode(tp)) for tp in touchpoints])
    )


class AdmittedChunk(NamedTuple):
    """The outcomes of a run of submissions, flat: what the pipeline consumes, without an
    object per submission (the parent process appends every touchpoint, and a few objects
    per touchpoint there are a measurable share of its work).

    ``counts[i]`` is how many entries submission ``i`` has (they follow each other in
    ``entries``), or -1 when it is rejected: its reasons are ``rejections[i]``.
    """

    submissions: list[Submission]
    entries: list[Entry]
    counts: list[int]
    rejections: dict[int, Admitted]

    @classmethod
    def of(cls, submissions: list[Submission], outcomes: Iterable[Admitted]) -> AdmittedChunk:
        entries: list[Entry] = []
        counts: list[int] = []
        rejections: dict[int, Admitted] = {}
        for index, admitted in enumerate(outcomes):
            if admitted.reason is None:
                counts.append(len(admitted.entries))
                entries += admitted.entries
            else:
                counts.append(-1)
                rejections[index] = admitted
        return cls(submissions, entries, counts, rejections)

    def outcomes(self) -> Iterator[tuple[Submission, Admitted]]:
        """Each submission with its outcome."""
        at = 0
        for index, (submission, count) in enumerate(
            zip(self.submissions, self.counts, strict=True)
        ):
            if count < 0:
                yield submission, self.rejections[index]
            else:
                yield submission, Admitted(tuple(self.entries[at : at + count]))
                at += count


@dataclass(frozen=True)
class IntakeRecipe:
    """What a worker process needs to build the same intake as the parent: the identifier
    pepper and the durable key store every process shares (keys are created once, anywhere)."""

    pepper: bytes
    keys_path: Path


_worker: tuple[Intake, TouchpointSerde] | None = None


def _start_worker(recipe: IntakeRecipe) -> None:
    global _worker  # noqa: PLW0603 - one intake per worker process, built once
    vault = PersonalVault(SqliteKeyStore(recipe.keys_path))
    _worker = (Intake(IdentifierHasher(recipe.pepper), vault), TouchpointSerde())
    # A worker only ever admits: everything imported so far is permanent, and its garbage is
    # short-lived and acyclic, so full collections are pure cost (see pipeline._quiet_gc).
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


#: A chunk's outcomes between processes: event ids, keys and values of every entry, counts
#: per submission (-1: rejected) and the rejections by index, as (reason, errors). Flat lists
#: of strings and bytes pickle and unpickle several times faster than a tuple per entry.
_Wire = tuple[
    list[str],
    list[str],
    list[bytes],
    list[int],
    dict[int, tuple[str, tuple[tuple[str, str, str], ...]]],
]


def _to_wire(outcomes: Iterable[Admitted]) -> _Wire:
    ids: list[str] = []
    keys: list[str] = []
    values: list[bytes] = []
    counts: list[int] = []
    rejections: dict[int, tuple[str, tuple[tuple[str, str, str], ...]]] = {}
    for index, admitted in enumerate(outcomes):
        reason = admitted.reason
        if reason is None:
            counts.append(len(admitted.entries))
            for event_id, key, value in admitted.entries:
                ids.append(event_id)
                keys.append(key)
                values.append(value)
        else:
            counts.append(-1)
            rejections[index] = (
                reason,
                tuple((e.field, e.code, e.message) for e in admitted.errors),
            )
    return ids, keys, values, counts, rejections


def _from_wire(submissions: list[Submission], wire: _Wire) -> AdmittedChunk:
    ids, keys, values, counts, rejected = wire
    rejections = {
        index: Admitted((), reason, tuple(FieldError(*e) for e in errors))
        for index, (reason, errors) in rejected.items()
    }
    # tuple.__new__ straight from C: half the cost of the named tuple's Python constructor.
    entries = list(map(tuple.__new__, repeat(Entry), zip(ids, keys, values, strict=True)))
    return AdmittedChunk(submissions, entries, counts, rejections)


#: A submission on its way to a worker: an NDJSON line travels as its bare text (the common
#: case, and the cheapest thing to pickle), anything else as (payload, records, reason, errors).
_Item = str | tuple[str, list[dict[str, Any]] | None, str | None, tuple[tuple[str, str, str], ...]]


def _item(submission: Submission) -> _Item:
    """What a worker needs of a submission (its payload or records, or why it is unreadable)."""
    error = submission.error
    if error is None:
        if submission.records is None:
            return submission.payload
        return submission.payload, submission.records, None, ()
    return (
        submission.payload,
        None,
        error.reason,
        tuple((e.field, e.code, e.message) for e in error.errors),
    )


def _submission(item: _Item) -> Submission:
    if isinstance(item, str):
        return Submission("", None, item)
    payload, records, reason, errors = item
    error = None if reason is None else InvalidRecord(reason, [FieldError(*e) for e in errors])
    return Submission("", None, payload, records, error)


def _admit_chunk(items: Sequence[_Item]) -> _Wire:
    assert _worker is not None, "worker used before its initializer ran"
    intake, serde = _worker
    return _to_wire(admit_all(intake, serde, [_submission(item) for item in items]))


class AdmissionPool(Closing):
    """Admits submissions in worker processes, yielding outcomes in submission order.

        Chunks keep pickling cheap (NDJSON submissions travel as their text); at most
        ``in_flight`` chunks (default ``4 * workers``: enough that workers keep going while the
    parent flushes a batch to the log) are queued, so memory stays flat however large the input.
        Workers are forked (instant, modules already imported) when the parent runs no other
        thread; otherwise they come from a fork server, because forking a process that runs
        Kafka client or ClickHouse threads can deadlock the child.
    """

    def __init__(
        self, recipe: IntakeRecipe, workers: int, chunk: int = 500, in_flight: int = 0
    ) -> None:
        self._chunk = chunk
        self._workers = workers
        self._in_flight = in_flight or 4 * workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(_start_method()),
            initializer=_start_worker,
            initargs=(recipe,),
        )

    def admit(self, submissions: Iterable[Submission]) -> Iterator[tuple[Submission, Admitted]]:
        """Each submission with its outcome, in submission order."""
        for chunk in self.admit_chunks(submissions):
            yield from chunk.outcomes()

    def admit_chunks(self, submissions: Iterable[Submission]) -> Iterator[AdmittedChunk]:
        """The outcomes a chunk at a time, in submission order (what the pipeline consumes)."""
        pending: list[tuple[list[Submission], Future[_Wire]]] = []
        for chunk in chunks(submissions, self._chunk):
            items = [_item(submission) for submission in chunk]
            pending.append((chunk, self._executor.submit(_admit_chunk, items)))
            if len(pending) >= self._in_flight:
                yield _drain(pending.pop(0))
        for item in pending:
            yield _drain(item)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def _drain(item: tuple[list[Submission], Future[_Wire]]) -> AdmittedChunk:
    chunk, future = item
    return _from_wire(chunk, future.result())


def chunks(submissions: Iterable[Submission], size: int) -> Iterator[list[Submission]]:
    """``submissions`` in lists of ``size`` (the last one shorter)."""
    chunk: list[Submission] = []
    for submission in submissions:
        chunk.append(submission)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _start_method() -> str:
    return "fork" if threading.active_count() == 1 else "forkserver"


def default_workers() -> int:
    """Worker processes for a large ingest: every core (the parent mostly waits on the log)."""
    return os.cpu_count() or 1
