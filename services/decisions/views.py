"""Decisions as JSON for people and programs (CLI ``--json``, later the API)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from services.decisions.board import AlertRow
from services.decisions.domain import Alert, CustomerRisk

__all__ = ["alert_json", "alert_row_json", "iso_micros", "risk_json"]


def iso_micros(micros: int | None) -> str | None:
    """An event time (µs since the epoch, UTC) as ISO 8601."""
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / 1_000_000, UTC).isoformat()


def alert_row_json(row: AlertRow) -> dict[str, Any]:
    data = asdict(row)
    data["at"] = iso_micros(row.at)
    return data


def alert_json(alert: Alert, touchpoints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One alert with its provenance, its workflow and (when given) the triggering
    touchpoints."""
    return {
        "alert_id": str(alert.id),
        "status": alert.status,
        "rule_id": alert.rule_id,
        "rule_version": alert.rule_version,
        "severity": alert.severity,
        "customer_id": alert.customer_id,
        "service_type": alert.service_type,
        "at": iso_micros(alert.at),
        "summary": alert.summary,
        "reasons": list(alert.reasons),
        "episodes": list(alert.episodes),
        "triggers": list(alert.triggers),
        "history": list(alert.history),
        "touchpoints": touchpoints or [],
    }


def risk_json(risk: CustomerRisk | None, customer_id: str) -> dict[str, Any]:
    """A customer's flag and its changes."""
    if risk is None:
        return {"customer_id": customer_id, "sensitive": False, "changes": [], "alerts": 0}
    changes = []
    for change in risk.changes:
        entry = dict(change)
        if "at" in entry:
            entry["at"] = iso_micros(entry["at"])
        changes.append(entry)
    return {
        "customer_id": customer_id,
        "sensitive": risk.sensitive,
        "changes": changes,
        "alerts": len(risk.alert_ids),
    }
