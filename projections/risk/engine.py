"""The risk engine's pure core: one customer's history and the stream time in, decisions out.

``assess`` is what every caller shares: the live engine (through
:class:`projections.risk.view.RiskView`), replay and what-if runs. Same facts, same rules, same
stream time: same decisions with the same ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from projections.facts import Fact
from projections.policy import ProjectionConfig
from projections.risk.config import RuleSet
from projections.risk.decisions import Decision
from projections.risk.rules import ScenesOnDemand, evaluate_all

__all__ = ["Assessment", "assess"]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The decisions due by the stream time, and when the next one falls due (if any)."""

    decisions: tuple[Decision, ...]
    next_due: int | None


def assess(
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    stream_time: int,
    *,
    scenes: ScenesOnDemand | None = None,
) -> Assessment:
    """What the rules decide on one customer's ``facts`` (event-time order) by ``stream_time``.

    Decisions due later (an SLA deadline or a flag expiry the stream has not reached) are left
    out; ``next_due`` says when to look again even if the customer stays silent. ``scenes``
    (optional, see :func:`~projections.risk.rules.evaluate_all`) lets a caller that needs the
    scene fold of ``facts`` too share it with the rules instead of folding twice.
    """
    ready: list[Decision] = []
    later: list[int] = []
    for decision in evaluate_all(facts, rules, config, scenes=scenes):
        if decision.due <= stream_time:
            ready.append(decision)
        else:
            later.append(decision.due)
    return Assessment(tuple(ready), min(later, default=None))
