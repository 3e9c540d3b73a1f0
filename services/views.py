"""Plain-data shapes of what the views answer, shared by the CLI, the demo and (later) the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from events.errors import ServicetraceError
from events.personal import PersonalVault, mask
from events.touchpoint import SealedPersonal
from projections.projector import ProjectionStats
from projections.views import ComplianceView
from projections.views.journey_view import JourneyView

__all__ = [
    "compliance_json",
    "customer_json",
    "jsonable",
    "projection_json",
    "scene_json",
    "summary_json",
]


def projection_json(stats: ProjectionStats) -> dict[str, Any]:
    return {
        "events": stats.events,
        "batches": stats.batches,
        "undecodable": stats.undecodable_count,
        "undecodable_records": [
            {
                "partition": u.partition,
                "position": u.position,
                "event_id": u.event_id,
                "reason": u.reason,
            }
            for u in stats.undecodable
        ],
        "positions": {str(p): n for p, n in sorted(stats.positions.items())},
        "customers_refolded": stats.folds.customers,
        "rows_written": stats.folds.upserted,
        "rows_retracted": stats.folds.retracted,
    }


def summary_json(view: JourneyView) -> dict[str, Any]:
    summary = view.summary()
    return {
        "touchpoints": summary.total,
        "customers": view.customer_count(),
        "by_channel": dict(sorted(summary.by_channel.items(), key=lambda kv: -kv[1])),
        "by_kind": dict(sorted(summary.by_kind.items(), key=lambda kv: -kv[1])),
    }


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def scene_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A scene row as JSON-ready data: times in ISO 8601 (UTC), unmatched promises listed."""
    data: dict[str, Any] = jsonable(dict(row))
    data["unmatched"] = [p for p in data["pairings"] if p["status"] in ("open", "missed")]
    return data


def customer_json(profile: Mapping[str, Any], vault: PersonalVault) -> dict[str, Any]:
    """A customer profile, personal fields opened and masked, identifiers shortened."""
    data = dict(profile)
    identity = data.pop("identity")
    masked: dict[str, Any] = {}
    for name in ("phone_hash", "email_hash", "account_hash"):
        value = identity.get(name)
        masked[name.removesuffix("_hash")] = f"#{value[:8]}…" if value else None
    sealed = identity.get("sealed")
    if sealed is not None:
        masked.update(_masked_personal(profile["customer_id"], sealed, vault))
    data["identifiers"] = masked
    return jsonable(data)  # type: ignore[no-any-return]


def _masked_personal(
    customer_id: str, sealed: tuple[Any, ...], vault: PersonalVault
) -> dict[str, Any]:
    key_id, nonce, ciphertext = sealed
    try:
        fields = vault.open(
            customer_id, SealedPersonal(key_id=key_id, nonce=nonce, ciphertext=ciphertext)
        )
    except ServicetraceError:
        return {"personal": "erased or unreadable"}
    return {name: mask(value) for name, value in sorted(fields.items()) if name != "note" and value}


def compliance_json(
    view: ComplianceView, rows: list[dict[str, Any]], **period: Any
) -> dict[str, Any]:
    return {"counts": view.counts(**period), "violations": jsonable(rows)}
