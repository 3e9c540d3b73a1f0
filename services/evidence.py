"""Evidence export, the services side: gather one customer's sections from the platform, sign
them with the deployment's key (:mod:`replay.signing`) into a bundle (:mod:`replay.bundle`).

The export reads the views as they stand and does not project first: evidence describes what
the platform held, and the manifest names the log positions the views had reached, so a
reader knows exactly what the bundle covers. (``servicetrace project`` brings them current.)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from replay.bundle import Bundle, Sections, build_bundle
from replay.signing import load_or_create
from services.decisions.views import alert_json, risk_json
from services.journeys import journey_json
from services.platform import Platform
from services.settings import Settings
from services.views import scene_json

__all__ = [
    "NoSuchCustomer",
    "collect",
    "export_bundle",
    "record_export",
    "signing_key_path",
]


class NoSuchCustomer(LookupError):
    """The journey view holds no touchpoint of this customer: there is nothing to export.

    Not a :class:`~events.errors.ServicetraceError`: asking about an unknown customer is an
    outcome (exit 1), not a broken configuration (exit 2)."""


def signing_key_path(settings: Settings) -> Path:
    """``SERVICETRACE_SIGNING_KEY``, else ``secrets/signing-key.pem`` in the home (without
    creating the home: ``verify`` only looks)."""
    return settings.signing_key or settings.home / "secrets" / "signing-key.pem"


def collect(platform: Platform, customer_id: str) -> Sections:
    """Everything the platform holds about ``customer_id``, as bundle sections."""
    projector = platform.projector  # first: it creates the views of a home never projected
    positions = projector.committed()
    entries = platform.journey_view.timeline(customer_id)
    if not entries:
        raise NoSuchCustomer(f"no touchpoints for customer {customer_id!r}: nothing to export")
    return Sections(
        customer_id=customer_id,
        journey=journey_json(customer_id, entries, platform.vault),
        scenes=[scene_json(row) for row in platform.scene_view.for_customer(customer_id)],
        decisions=_decisions(platform, customer_id),
        evaluations=_evaluations(platform, customer_id),
        projected={str(p): n for p, n in sorted(positions.items())},
    )


def _decisions(platform: Platform, customer_id: str) -> dict[str, Any]:
    """The customer's flag changes and every alert raised about them, oldest first, each with
    its rule, rule version, triggering event ids and workflow history. The triggering
    touchpoints themselves are in ``journey.json``, so ``alert_json`` gets none here."""
    decisions = platform.decisions
    alerts = [decisions.alert(row.alert_id) for row in decisions.alerts(customer_id=customer_id)]
    alerts.sort(key=lambda alert: (alert.at, str(alert.id)))
    shown = []
    for alert in alerts:
        data = alert_json(alert)
        del data["touchpoints"]
        shown.append(data)
    return {"risk": risk_json(decisions.risk_of(customer_id), customer_id), "alerts": shown}


def _evaluations(platform: Platform, customer_id: str) -> list[dict[str, Any]]:
    """The auditors' evaluations of the customer's episodes, oldest first (amendments are in
    each evaluation's history)."""
    from services.audit.views import evaluation_json

    shown = [evaluation_json(e) for e in platform.audit.evaluations(customer_id=customer_id)]
    shown.sort(key=lambda data: (str(data["when"]), str(data["evaluation_id"])))
    return shown


def export_bundle(platform: Platform, customer_id: str, created_at: datetime) -> Bundle:
    """The signed bundle of ``customer_id`` as of ``created_at`` (the deployment's key is
    created on the first export)."""
    sections = collect(platform, customer_id)
    key = load_or_create(signing_key_path(platform.settings))
    return build_bundle(sections, key, created_at)


def record_export(platform: Platform, customer_id: str, by: str, bundle: Bundle) -> None:
    """Record the export in the audit trail of reads: who took this customer's evidence out,
    and which bundle (its chain head and export moment)."""
    subject = {"chain_head": bundle.chain_head, "created_at": str(bundle.manifest["created_at"])}
    platform.audit.record_read(by=by, what="export", customer_id=customer_id, subject=subject)
