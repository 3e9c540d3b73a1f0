"""Channel analytics per channel and local day: volume, handling, resolution, satisfaction, cost.

A read-time view: one SQL statement over the journey and scene views, run by ClickHouse (tens
of milliseconds over a million touchpoints). Sums run over Decimal, never Float64: a float sum
depends on the order ClickHouse happens to read parts in, and the same log must always give the
same table (and the same checksum). Aggregating at read time keeps the figures exactly
consistent with the rows they summarise: a stored per-day aggregate would have to be corrected
whenever a late arrival or a re-delivered batch changed an episode, which ReplacingMergeTree
rows keyed by episode already handle.

Definitions (per channel, per local calendar day of the touchpoint):

* ``volume``, ``inbound``, ``outbound``: touchpoints on the channel;
* ``handled``: contacts the organisation handled (call or counter business handled, callback
  made, field visit done);
* ``avg_wait_seconds``, ``avg_handle_seconds``, ``satisfaction``: means over the touchpoints
  that report them;
* ``cost``: the sum of unit costs (:class:`~projections.policy.UnitCosts`) of the touchpoints;
* episodes are attributed to their **entry channel** and local start day: ``episodes``,
  ``resolved_episodes``, ``fcr_rate`` (first-contact resolutions over episodes where it
  applies) and ``cost_per_resolved_episode`` (the whole cost of those resolved episodes, every
  channel they used, divided by their number: what resolving an issue that came in through
  this channel costs).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from projections.clickhouse import ViewStore
from projections.policy import UnitCosts

__all__ = ["HANDLED_KINDS", "ChannelView"]

HANDLED_KINDS = ("contact_handled", "callback", "field_visit")

_SQL = """
WITH mapFromArrays({cost_keys:Array(String)}, {cost_values:Array(Float64)}) AS unit_costs
SELECT channel, day, volume, inbound, outbound, handled, avg_wait_seconds, avg_handle_seconds,
       satisfaction, cost, episodes, resolved_episodes, fcr_episodes, fcr_eligible,
       if(fcr_eligible = 0, NULL, fcr_episodes / fcr_eligible) AS fcr_rate,
       if(resolved_episodes = 0, NULL, resolved_cost / resolved_episodes)
           AS cost_per_resolved_episode
FROM (
    SELECT channel,
           toDate(occurred_at + toIntervalMinute(occurred_offset_minutes)) AS day,
           count() AS volume,
           countIf(direction = 'inbound') AS inbound,
           countIf(direction = 'outbound') AS outbound,
           countIf(kind IN {handled:Array(String)}) AS handled,
           toFloat64(avgIf(toDecimal128(wait_seconds, 6), wait_seconds IS NOT NULL))
               AS avg_wait_seconds,
           toFloat64(avgIf(toDecimal128(handle_seconds, 6), handle_seconds IS NOT NULL))
               AS avg_handle_seconds,
           avgIf(score, score IS NOT NULL) AS satisfaction,
           toFloat64(sum(toDecimal128(unit_costs[concat(channel, '/', kind)], 6))) AS cost
    FROM __JOURNEY__ FINAL
    GROUP BY channel, day
) AS touchpoints
LEFT JOIN (
    SELECT entry_channel AS channel,
           toDate(started_at + toIntervalMinute(started_offset_minutes)) AS day,
           count() AS episodes,
           countIf(resolved_at IS NOT NULL) AS resolved_episodes,
           countIf(first_contact_resolution) AS fcr_episodes,
           countIf(first_contact_resolution IS NOT NULL) AS fcr_eligible,
           toFloat64(sumIf(toDecimal128(cost, 6), resolved_at IS NOT NULL)) AS resolved_cost
    FROM __SCENES__ FINAL
    GROUP BY channel, day
) AS episodes USING (channel, day)
WHERE day >= {since:Date} AND day <= {until:Date}
ORDER BY day, channel
SETTINGS join_use_nulls = 0
"""
_NAMES = (
    "channel",
    "day",
    "volume",
    "inbound",
    "outbound",
    "handled",
    "avg_wait_seconds",
    "avg_handle_seconds",
    "satisfaction",
    "cost",
    "episodes",
    "resolved_episodes",
    "fcr_episodes",
    "fcr_eligible",
    "fcr_rate",
    "cost_per_resolved_episode",
)
_NAN_TO_NONE = ("avg_wait_seconds", "avg_handle_seconds", "satisfaction")


class ChannelView:
    """``servicetrace channels``: the channel table, computed from journey and scenes."""

    name = "channels"

    def __init__(self, store: ViewStore, costs: UnitCosts | None = None) -> None:
        self.store = store
        self.costs = costs or UnitCosts()
        self._sql = _SQL.replace("__JOURNEY__", store.table("journey")).replace(
            "__SCENES__", store.table("scenes")
        )

    def _cost_parameters(self) -> dict[str, Any]:
        table = self.costs.table()
        return {"cost_keys": list(table), "cost_values": list(table.values())}

    def daily(self, since: date | None = None, until: date | None = None) -> list[dict[str, Any]]:
        """One row per channel and local day within ``since..until`` (inclusive)."""
        rows = self.store.rows(
            self._sql,
            {
                **self._cost_parameters(),
                "handled": list(HANDLED_KINDS),
                "since": since or date(1970, 1, 1),
                "until": until or date(2299, 12, 31),
            },
        )
        return [_clean(dict(zip(_NAMES, row, strict=True))) for row in rows]

    def totals(self, since: date | None = None, until: date | None = None) -> list[dict[str, Any]]:
        """The daily rows summed per channel over the period (means weighted by volume)."""
        per_channel: dict[str, dict[str, Any]] = {}
        for row in self.daily(since, until):
            total = per_channel.setdefault(row["channel"], _empty(row["channel"]))
            _accumulate(total, row)
        return [
            _finish(total) for total in sorted(per_channel.values(), key=lambda t: -t["volume"])
        ]

    def checksum(self) -> int:
        """Order-independent fingerprint of the whole channel table (computed in ClickHouse:
        an aggregate over a subquery does not keep the subquery's order)."""
        return int(
            self.store.scalar(
                f"SELECT cityHash64(count(), groupBitXor(cityHash64(tuple(*)))) FROM ({self._sql})",
                {
                    **self._cost_parameters(),
                    "handled": list(HANDLED_KINDS),
                    "since": date(1970, 1, 1),
                    "until": date(2299, 12, 31),
                },
            )
        )


_SUMMED = (
    "volume",
    "inbound",
    "outbound",
    "handled",
    "cost",
    "episodes",
    "resolved_episodes",
    "fcr_episodes",
    "fcr_eligible",
)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    for name in _NAN_TO_NONE:
        value = row[name]
        if value is not None and math.isnan(value):  # avgIf over nothing is NaN
            row[name] = None
    return row


def _empty(channel: str) -> dict[str, Any]:
    total: dict[str, Any] = {name: 0 for name in _SUMMED}
    total.update(channel=channel, days=0, _resolved_cost=0.0)
    return total


def _accumulate(total: dict[str, Any], row: dict[str, Any]) -> None:
    for name in _SUMMED:
        total[name] += row[name] or 0
    total["days"] += 1
    if row["cost_per_resolved_episode"] is not None:
        total["_resolved_cost"] += row["cost_per_resolved_episode"] * row["resolved_episodes"]


def _finish(total: dict[str, Any]) -> dict[str, Any]:
    resolved_cost = total.pop("_resolved_cost")
    total["fcr_rate"] = (
        total["fcr_episodes"] / total["fcr_eligible"] if total["fcr_eligible"] else None
    )
    total["cost_per_resolved_episode"] = (
        resolved_cost / total["resolved_episodes"] if total["resolved_episodes"] else None
    )
    return total
