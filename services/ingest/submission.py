"""Submissions: one input record (an NDJSON line, a CSV row, an HTTP body item) on its way in.

A submission carries its original text (kept verbatim in the dead-letter store when rejected),
where it came from, and either the touchpoint records it maps to or why it could not be read.
It is the unit the ingest summary counts: submitted = accepted + duplicates + rejected.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events.errors import FieldError, InvalidRecord
from services.ingest.mapping import CsvMapping

__all__ = ["Submission", "read_csv", "read_ndjson"]


@dataclass(frozen=True)
class Submission:
    source: str
    line: int | None
    payload: str
    records: list[dict[str, Any]] = field(default_factory=list)
    error: InvalidRecord | None = None


def _invalid_json(exc: json.JSONDecodeError) -> InvalidRecord:
    message = f"not valid JSON: {exc.msg} at column {exc.colno}"
    return InvalidRecord("invalid_json", [FieldError("record", "invalid_json", message)])


def _not_object() -> InvalidRecord:
    message = "each NDJSON line must be one JSON object"
    return InvalidRecord("not_an_object", [FieldError("record", "not_an_object", message)])


def parse_ndjson_line(source: str, line: int, text: str) -> Submission:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Submission(source, line, text, error=_invalid_json(exc))
    if not isinstance(value, dict):
        return Submission(source, line, text, error=_not_object())
    return Submission(source, line, text, records=[value])


def read_ndjson(stream: Iterable[str], source: str) -> Iterator[Submission]:
    """One submission per non-blank line; line numbers count from 1 like an editor's."""
    for number, text in enumerate(stream, start=1):
        stripped = text.strip()
        if stripped:
            yield parse_ndjson_line(source, number, stripped)


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
