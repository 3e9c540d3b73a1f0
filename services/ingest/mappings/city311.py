"""What NYC 311 and LA 311 exports have in common: a request, and maybe its closure.

Each row of a 311 export is one service request with its current state. It becomes the
request as the customer made it (inbound, actor customer) and, once the row has a close time,
the city's closure of it (outbound, actor the agency that owns it), chained by ``case_id`` and
``parent_event_id`` so the scene can be rebuilt. The cities differ only in column names,
vocabularies and how a location is turned into a customer key, which :class:`City311Spec` and a
``locate`` function carry.

Impossible rows are rejected, never repaired: a closure before its request, an unreadable time
or a row without a key would each corrupt every duration computed downstream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.errors import InvalidRecord
from events.identity import source_event_id
from events.taxonomy import Kind, Outcome
from services.ingest.mapping import CsvMapping
from services.ingest.mappings.common import (
    Location,
    Timestamps,
    ValueRule,
    cell,
    pick_attributes,
    reject,
)

__all__ = ["US_311_TIME_FORMAT", "City311Mapping", "City311Spec", "Locate"]

#: Both cities' exports write "02/28/2023 11:45:00 PM" in local wall-clock time.
US_311_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"

#: A row (and its request key) -> the customer it is filed under.
Locate = Callable[[Mapping[str, str], str], Location]


@dataclass(frozen=True)
class City311Spec:
    """One city's columns and vocabularies; everything a :class:`City311Mapping` varies on."""

    system: str
    key_column: str
    created_column: str
    closed_column: str
    status_column: str
    service_type_column: str
    closer_column: str
    timestamps: Timestamps
    kind: Kind
    channel: ValueRule
    request_attributes: Mapping[str, str]
    closure_attributes: Mapping[str, str]
    closure_text_column: str | None = None
    #: Current status -> closure outcome; any other status of a closed row counts as resolved.
    outcomes: Mapping[str, Outcome] | None = None


class City311Mapping(CsvMapping):
    """A 311 export row -> [request] or [request, closure]."""

    def __init__(self, spec: City311Spec, locate: Locate) -> None:
        self.name = spec.system
        self._spec = spec
        self._locate = locate

    def records(self, row: Mapping[str, str], line: int) -> list[dict[str, Any]]:
        """The request and, when the row has a close time, its closure (see the module doc)."""
        spec = self._spec
        key = self._key(row, line)
        created = spec.timestamps.required(row, spec.created_column, key, "missing_created_date")
        closed = spec.timestamps.parse(row, spec.closed_column, key)
        if closed is not None and closed < created:
            raise _closed_before_created(spec, key, created, closed)
        service_type = self._service_type(row, key)
        location = self._locate(row, key)
        request = self._request(row, key, created, location, service_type)
        if closed is None:
            return [request]
        return [request, self._closure(row, key, closed, location, service_type)]

    def _key(self, row: Mapping[str, str], line: int) -> str:
        key = cell(row, self._spec.key_column)
        if not key:
            raise reject(
                self._spec.key_column, "missing_key", f"line {line}: the request number is empty"
            )
        return key

    def _service_type(self, row: Mapping[str, str], key: str) -> str:
        column = self._spec.service_type_column
        value = cell(row, column)
        if not value:
            raise reject(column, "missing_service_type", f"row {key}: {column} is empty")
        return value

    def _request(
        self,
        row: Mapping[str, str],
        key: str,
        created: datetime,
        location: Location,
        service_type: str,
    ) -> dict[str, Any]:
        spec = self._spec
        channel = spec.channel.resolve(row)
        attributes = pick_attributes(row, spec.request_attributes)
        attributes["location_key"] = location.location_key
        if channel.unrecognised is not None:
            attributes["raw_channel"] = channel.unrecognised
        customer = {"id": location.customer_id}
        if location.address:
            customer["address"] = location.address
        return {
            "occurred_at": created.isoformat(),
            "source": {"system": spec.system, "event_id": f"{key}:request"},
            "customer": customer,
            "channel": channel.value,
            "direction": "inbound",
            "actor": {"type": "customer"},
            "kind": spec.kind.value,
            "service_type": service_type,
            "case_id": key,
            "attributes": attributes,
        }

    def _closure(
        self,
        row: Mapping[str, str],
        key: str,
        closed: datetime,
        location: Location,
        service_type: str,
    ) -> dict[str, Any]:
        spec = self._spec
        closer = cell(row, spec.closer_column)
        # The closure reaches the customer by no channel the export records (status page,
        # app notification, nothing at all), so it is filed under "other" rather than guessed.
        record: dict[str, Any] = {
            "occurred_at": closed.isoformat(),
            "source": {"system": spec.system, "event_id": f"{key}:closure"},
            "customer": {"id": location.customer_id},
            "channel": "other",
            "direction": "outbound",
            "actor": {"type": "agent", "id": closer} if closer else {"type": "agent"},
            "kind": Kind.CASE_CLOSED.value,
            "service_type": service_type,
            "case_id": key,
            "parent_event_id": source_event_id(spec.system, f"{key}:request"),
            "outcome": self._outcome(row).value,
            "attributes": pick_attributes(row, spec.closure_attributes),
        }
        text = cell(row, spec.closure_text_column) if spec.closure_text_column else ""
        if text:
            record["text"] = text
        return record

    def _outcome(self, row: Mapping[str, str]) -> Outcome:
        status = cell(row, self._spec.status_column)
        return (self._spec.outcomes or {}).get(status, Outcome.RESOLVED)


def _closed_before_created(
    spec: City311Spec, key: str, created: datetime, closed: datetime
) -> InvalidRecord:
    return reject(
        spec.closed_column,
        "closed_before_created",
        f"row {key}: {spec.closed_column} {closed.isoformat()} is before "
        f"{spec.created_column} {created.isoformat()}",
    )
