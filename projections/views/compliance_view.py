"""The contact-policy compliance view: one row per (outbound touchpoint, rule broken).

The fold is :func:`projections.compliance.violations_of`; rows are keyed by event id and rule,
so a late arrival that ends a "silence" retracts the violation it had caused.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date
from typing import Any

from projections.clickhouse import ViewStore
from projections.compliance import ComplianceFold, Violation
from projections.facts import Fact
from projections.policy import ProjectionConfig
from projections.views.fold_table import Column, FoldTable, FoldTableView, Insert, micros

__all__ = ["ComplianceView"]

COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "String"),
    Column("event_id", "String"),
    Column("rule", "LowCardinality(String)"),
    micros("occurred_at"),
    Column("local_time", "String"),
    Column("channel", "LowCardinality(String)"),
    Column("kind", "LowCardinality(String)"),
    Column("detail", "String"),
)
_NAMES = tuple(column.name for column in COLUMNS)


class ComplianceView(FoldTableView):
    """``violations``: outbound contacts that broke the contact policy."""

    name = "violations"

    def __init__(self, store: ViewStore, config: ProjectionConfig | None = None) -> None:
        self.config = config or ProjectionConfig()
        self.store = store
        self.rows = FoldTable(store, self.name, ("event_id", "rule"), COLUMNS)

    def fold(self, facts: Sequence[Fact], scratch: dict[str, Any]) -> dict[Hashable, Violation]:
        fold = scratch.get("violations")
        if fold is None:
            fold = scratch["violations"] = ComplianceFold(self.config.contact_policy)
        found = fold.violations(facts)
        return {(violation.event_id, violation.rule): violation for violation in found}

    def encode_upsert(self, violations: Sequence[Violation], version: int) -> Insert | None:
        return self.rows.encode_upsert(
            [
                (
                    v.customer_id,
                    v.event_id,
                    v.rule,
                    v.occurred_at,
                    v.local_time,
                    v.channel,
                    v.kind,
                    v.detail,
                )
                for v in violations
            ],
            version,
        )

    def list(
        self,
        since: date | None = None,
        until: date | None = None,
        rule: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Violations in event-time order, optionally within local dates and of one rule."""
        where, parameters = _filters(since, until, rule)
        result = self.store.client.query(
            f"SELECT {', '.join(_NAMES)} FROM {self.rows.table} FINAL WHERE {where} "
            "ORDER BY occurred_at, event_id, rule LIMIT {limit:UInt64}",
            parameters={**parameters, "limit": limit},
        )
        return [dict(zip(_NAMES, row, strict=True)) for row in result.result_rows]

    def counts(
        self, since: date | None = None, until: date | None = None
    ) -> dict[str, dict[str, int]]:
        """Violations per rule and channel, and the outbound touchpoints they come from."""
        where, parameters = _filters(since, until, None)
        rows = self.store.rows(
            f"SELECT rule, channel, count() FROM {self.rows.table} FINAL WHERE {where} "
            "GROUP BY rule, channel ORDER BY rule, channel",
            parameters,
        )
        counts: dict[str, dict[str, int]] = {}
        for rule, channel, n in rows:
            counts.setdefault(rule, {})[channel] = int(n)
        return counts


#: The local calendar date of a violation: ``local_time`` starts with it ("2024-03-05 07:00 ..."),
#: whereas ``toDate(occurred_at)`` would be the UTC date (a day off for early or late contacts).
_LOCAL_DATE = "toDate(substring(local_time, 1, 10))"


def _filters(
    since: date | None, until: date | None, rule: str | None
) -> tuple[str, dict[str, Any]]:
    clauses = ["1"]
    parameters: dict[str, Any] = {}
    if since is not None:
        clauses.append(f"{_LOCAL_DATE} >= {{since:Date}}")
        parameters["since"] = since
    if until is not None:
        clauses.append(f"{_LOCAL_DATE} <= {{until:Date}}")
        parameters["until"] = until
    if rule is not None:
        clauses.append("rule = {rule:String}")
        parameters["rule"] = rule
    return " AND ".join(clauses), parameters
