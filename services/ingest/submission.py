"""Submissions: one input record (an NDJSON line, a CSV row, an HTTP body item) on its way in.

A submission carries its original text (kept verbatim in the dead-letter store when rejected),
where it came from, and either the touchpoint records it maps to or why it could not be read.
It is the unit the ingest summary counts: submitted = accepted + duplicates + rejected.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from events.errors import FieldError, InvalidRecord
from services.ingest.mapping import CsvMapping

__all__ = ["Submission", "read_csv", "read_ndjson"]


class Submission(NamedTuple):
    """One input record. ``records is None`` means "the payload is one NDJSON object", parsed
    where the submission is admitted (possibly in a worker process: text pickles cheaply).
    A named tuple: one is made per input line, in half the time of a frozen dataclass."""

    source: str
    line: int | None
    payload: str
    records: list[dict[str, Any]] | None = None
    error: InvalidRecord | None = None

    def touchpoint_records(self) -> list[dict[str, Any]]:
        """The records to admit, or :class:`InvalidRecord` when they cannot be read."""
        if self.error is not None:
            raise self.error
        if self.records is not None:
            return self.records
        return [_ndjson_object(self.payload)]


def _ndjson_object(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} at column {exc.colno}"
        raise InvalidRecord(
            "invalid_json", [FieldError("record", "invalid_json", message)]
        ) from None
    if not isinstance(value, dict):
        message = "each NDJSON line must be one JSON object"
        raise InvalidRecord("not_an_object", [FieldError("record", "not_an_object", message)])
    return value


def read_ndjson(stream: Iterable[str], source: str) -> Iterator[Submission]:
    """One submission per non-blank line; line numbers count from 1 like an editor's."""
    for number, text in enumerate(stream, start=1):
        stripped = text.strip()
        if stripped:
            yield Submission(source, number, stripped)


def read_csv(stream: Iterable[str], source: str, mapping: CsvMapping) -> Iterator[Submission]:
    """One submission per data row; the header is line 1, so the first row is line 2."""
    reader = csv.DictReader(stream)
    for row in reader:
        line = reader.line_num
        payload = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
        try:
            yield Submission(source, line, payload, records=mapping.records(row, line))
        except InvalidRecord as exc:
            yield Submission(source, line, payload, error=exc)


def open_submissions(
    path: Path, fmt: str, mapping: CsvMapping | None, stream: Iterable[str]
) -> Iterable[Submission]:
    """Submissions of a file in ``fmt`` (ndjson or csv through ``mapping``)."""
    if fmt == "csv":
        if mapping is None:
            raise ValueError("CSV input needs a mapping (--mapping NAME|FILE)")
        return read_csv(stream, path.name, mapping)
    return read_ndjson(stream, path.name)
