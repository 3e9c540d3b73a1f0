"""The unified customer view: a stored profile per customer, plus figures relative to a moment.

The stored part is the fold :func:`projections.customer.profile_of`. Recency, contacts and
complaints in the last 90 days, tenure and open episodes depend on "now", so they are computed
when read, against ``as_of`` (default: the latest event time in the journey view, never the
wall clock), which keeps the view deterministic and never stale.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

from projections.clickhouse import ViewStore
from projections.customer import CustomerProfile, ProfileFold
from projections.facts import Fact
from projections.views.fold_table import Column, FoldTable, FoldTableView, Insert, micros

__all__ = ["CustomerView"]

COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "String"),
    micros("first_contact_at"),
    micros("last_contact_at"),
    Column("touchpoints", "UInt32"),
    Column("contacts", "UInt32"),
    Column("inbound", "UInt32"),
    Column("outbound", "UInt32"),
    Column("by_channel", "Map(LowCardinality(String), UInt32)", "Map(String, UInt32)"),
    Column("preferred_channel", "LowCardinality(Nullable(String))"),
    Column("self_service_share", "Nullable(Float64)"),
    Column("feedback_count", "UInt32"),
    Column("average_satisfaction", "Nullable(Float64)"),
    Column("complaints", "UInt32"),
    micros("last_complaint_at", nullable=True),
    Column("service_types", "Array(LowCardinality(String))"),
)
_NAMES = tuple(column.name for column in COLUMNS)
#: The recent-activity window of the read-time figures.
RECENT_DAYS = 90


class CustomerView(FoldTableView):
    """``customers``: one profile row per customer."""

    name = "customers"

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self.rows = FoldTable(store, self.name, (), COLUMNS)
        self._journey = store.table("journey")
        self._scenes = store.table("scenes")

    def fold(
        self, facts: Sequence[Fact], scratch: dict[str, Any]
    ) -> dict[Hashable, CustomerProfile]:
        fold = scratch.get("profile")
        if fold is None:
            fold = scratch["profile"] = ProfileFold()
        profile = fold.profile(facts)
        return {profile.customer_id: profile}

    def encode_upsert(self, profiles: Sequence[CustomerProfile], version: int) -> Insert | None:
        return self.rows.encode_upsert(
            [
                (
                    p.customer_id,
                    p.first_contact_at,
                    p.last_contact_at,
                    p.touchpoints,
                    p.contacts,
                    p.inbound,
                    p.outbound,
                    dict(p.by_channel),
                    p.preferred_channel,
                    p.self_service_share,
                    p.feedback_count,
                    p.average_satisfaction,
                    p.complaints,
                    p.last_complaint_at,
                    p.service_types,
                )
                for p in profiles
            ],
            version,
        )

    # -- reads -----------------------------------------------------------------------------

    def watermark(self) -> datetime | None:
        """The latest event time in the journey view: the default "now" of every read."""
        moment = self.store.scalar(f"SELECT max(occurred_at) FROM {self._journey}")
        return None if moment is None or moment.year <= 1970 else moment

    def get(self, customer_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
        """The customer's profile with the figures relative to ``as_of``; ``None`` if unknown."""
        found = self.store.client.query(
            f"SELECT {', '.join(_NAMES)} FROM {self.rows.table} FINAL "
            "WHERE customer_id = {customer:String}",
            parameters={"customer": customer_id},
        ).result_rows
        if not found:
            return None
        profile = dict(zip(_NAMES, found[0], strict=True))
        moment = as_of or self.watermark()
        profile["as_of"] = moment
        profile.update(self._recent(customer_id, moment))
        profile["open_episodes"] = self._open_episodes(customer_id, moment)
        profile["identity"] = self._identity(customer_id)
        return profile

    def _recent(self, customer_id: str, as_of: datetime | None) -> dict[str, Any]:
        row = self.store.rows(
            "WITH {as_of:DateTime64(6, 'UTC')} AS t SELECT "
            "countIf(direction != 'internal' AND occurred_at > t - toIntervalDay({days:UInt16})), "
            "countIf(kind = 'complaint' AND occurred_at > t - toIntervalDay({days:UInt16})), "
            "dateDiff('day', maxIf(occurred_at, direction != 'internal'), t), "
            "dateDiff('day', min(occurred_at), t) "
            f"FROM {self._journey} FINAL "
            "WHERE customer_id = {customer:String} AND occurred_at <= t",
            {"customer": customer_id, "as_of": as_of, "days": RECENT_DAYS},
        )[0]
        contacts, complaints, recency, tenure = row
        return {
            f"contacts_last_{RECENT_DAYS}_days": int(contacts),
            f"complaints_last_{RECENT_DAYS}_days": int(complaints),
            "recency_days": recency,
            "tenure_days": tenure,
        }

    def _open_episodes(self, customer_id: str, as_of: datetime | None) -> list[dict[str, Any]]:
        rows = self.store.rows(
            "SELECT episode_id, service_type, started_at, ended_at, touchpoints, case_id "
            f"FROM {self._scenes} FINAL WHERE customer_id = {{customer:String}} "
            "AND status = 'open' AND started_at <= {as_of:DateTime64(6, 'UTC')} "
            "ORDER BY started_at",
            {"customer": customer_id, "as_of": as_of},
        )
        names = ("episode_id", "service_type", "started_at", "ended_at", "touchpoints", "case_id")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _identity(self, customer_id: str) -> dict[str, Any]:
        """The latest hashed identifiers and sealed personal fields (opened and masked by the
        caller, who holds the keys)."""
        rows = self.store.rows(
            "SELECT argMaxIf(id_phone, occurred_at, id_phone IS NOT NULL), "
            "argMaxIf(id_email, occurred_at, id_email IS NOT NULL), "
            "argMaxIf(id_account, occurred_at, id_account IS NOT NULL), "
            "argMaxIf(personal_key_id, occurred_at, personal_key_id IS NOT NULL) AS key_id, "
            "argMaxIf(personal_nonce, occurred_at, personal_key_id IS NOT NULL) AS nonce, "
            "argMaxIf(personal_ciphertext, occurred_at, personal_key_id IS NOT NULL) AS ciphertext "
            f"FROM {self._journey} FINAL WHERE customer_id = {{customer:String}}",
            {"customer": customer_id},
            binary_columns=("nonce", "ciphertext"),
        )
        phone, email, account, key_id, nonce, ciphertext = rows[0]
        sealed = (key_id, nonce, ciphertext) if key_id else None
        return {"phone_hash": phone, "email_hash": email, "account_hash": account, "sealed": sealed}
