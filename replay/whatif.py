"""What-if: how the decisions production took would differ under candidate risk rules.

Pure (no I/O): the runner (:mod:`services.whatif`) hands in, customer by customer, the facts of
the whole history, what the production decision store holds for that customer and the stream
time production reached; this module evaluates the candidate rules on the facts and pairs
their decisions with production's.

**Production is what the store holds**, not a recomputation: a decision applied and not
withdrawn, agent warnings recorded as *suppressed* (a supervisor had cleared the flag) included,
since the rules did decide them. Decision ids carry the rule version, so a candidate with a
bumped version shares no id with production: decisions are paired by what they are about.

**Pairing**, within one (customer, rule, service type, action):

1. a production and a candidate decision at the same event time are the same decision:
   *unchanged*;
2. of the rest, a production decision pairs with the candidate decision that shares at least
   one triggering touchpoint with it and is nearest in time (production taken in event-time
   order): the same cause, decided at another moment, has *moved* (an SLA deadline of 72 hours
   instead of 48, a repeat-request alert on the fourth request instead of the third);
3. what is left *disappears* (production only) or *appears* (candidate only).

**Window** ``[start, end)``: the rules always see the whole history (a decision in the window
may depend on touchpoints before it); the window only chooses which decisions are compared.
Pairs are made over the whole history first, then an appearance counts when the candidate's
moment is in the window, a disappearance when production's is, a move or an unchanged decision
when either moment is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import TypeVar

from projections.facts import HOUR_US, Fact
from projections.policy import ProjectionConfig
from projections.risk import Decision, RuleSet, assess

__all__ = [
    "ActionDiff",
    "Move",
    "Occurrence",
    "Pairing",
    "RuleDiff",
    "WhatIfBuilder",
    "WhatIfDiff",
    "Window",
    "candidate_decisions",
    "pair",
    "resolve",
]

#: What a decision is about: (customer, rule, service type, action).
Group = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Window:
    """The event-time range ``[start, end)`` (µs) of the decisions compared; open when None."""

    start: int | None = None
    end: int | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("the window's start must come before its end")

    def contains(self, at: int) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One decision as the what-if compares it: what it is about, when it holds, its cause."""

    rule_id: str
    action: str
    customer_id: str
    service_type: str
    at: int
    rule_version: int
    decision_id: str
    triggers: tuple[str, ...]
    #: Production only: what became of it (an alert's status, ``applied`` for a flag change,
    #: ``suppressed`` for a warning held back after a supervisor cleared the flag).
    status: str = ""

    @property
    def group(self) -> Group:
        return (self.customer_id, self.rule_id, self.service_type, self.action)

    @property
    def order(self) -> tuple[str, str, int, str]:
        """Deterministic listing order: customer, service type, moment, id."""
        return (self.customer_id, self.service_type, self.at, self.decision_id)

    @classmethod
    def of(cls, decision: Decision, status: str = "") -> Occurrence:
        return cls(
            rule_id=decision.rule_id,
            action=decision.action,
            customer_id=decision.customer_id,
            service_type=decision.service_type,
            at=decision.at,
            rule_version=decision.rule_version,
            decision_id=decision.decision_id,
            triggers=decision.triggers,
            status=status,
        )


@dataclass(frozen=True, slots=True)
class Move:
    """A production decision the candidate rules take at another moment."""

    before: Occurrence
    after: Occurrence

    @property
    def shift(self) -> int:
        """µs; positive when the candidate decides later."""
        return self.after.at - self.before.at


@dataclass(frozen=True, slots=True)
class Pairing:
    """The outcome of :func:`pair` (whole history, no window)."""

    unchanged: tuple[Occurrence, ...] = ()
    moved: tuple[Move, ...] = ()
    disappear: tuple[Occurrence, ...] = ()
    appear: tuple[Occurrence, ...] = ()


def candidate_decisions(
    facts: Sequence[Fact], rules: RuleSet, config: ProjectionConfig, stream_time: int
) -> list[Occurrence]:
    """What ``rules`` decide on one customer's ``facts`` (event-time order) by
    ``stream_time``: the live engine's :func:`~projections.risk.assess`, so deadlines and
    expiries fall due exactly as they did in production."""
    return [Occurrence.of(d) for d in assess(facts, rules, config, stream_time).decisions]


def resolve(
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    stream_time: int,
    suppressed: Iterable[str],
) -> tuple[list[Occurrence], list[str]]:
    """The suppressed production decisions ``suppressed`` (ids) described by re-deciding the
    customer's history with the production ``rules``: the store keeps only the id and rule of
    a warning it held back. Returns those found and the ids the rules no longer make."""
    wanted = set(suppressed)
    found = [
        Occurrence.of(d, "suppressed")
        for d in assess(facts, rules, config, stream_time).decisions
        if d.decision_id in wanted
    ]
    missing = sorted(wanted - {o.decision_id for o in found})
    return found, missing


def pair(production: Iterable[Occurrence], candidate: Iterable[Occurrence]) -> Pairing:
    """Pair production with candidate decisions (see the module doc)."""
    before = _grouped(production)
    after = _grouped(candidate)
    parts = [_pair_group(before.get(g, []), after.get(g, [])) for g in sorted({*before, *after})]
    return Pairing(
        unchanged=tuple(o for p in parts for o in p.unchanged),
        moved=tuple(m for p in parts for m in p.moved),
        disappear=tuple(o for p in parts for o in p.disappear),
        appear=tuple(o for p in parts for o in p.appear),
    )


def _grouped(occurrences: Iterable[Occurrence]) -> dict[Group, list[Occurrence]]:
    grouped: dict[Group, list[Occurrence]] = {}
    for occurrence in occurrences:
        grouped.setdefault(occurrence.group, []).append(occurrence)
    for members in grouped.values():
        members.sort(key=lambda o: (o.at, o.decision_id))
    return grouped


def _pair_group(before: list[Occurrence], after: list[Occurrence]) -> Pairing:
    """One group: same moment first, then a shared trigger nearest in time."""
    at_moment: dict[int, list[Occurrence]] = {}
    for occurrence in after:
        at_moment.setdefault(occurrence.at, []).append(occurrence)
    unchanged: list[Occurrence] = []
    rest: list[Occurrence] = []
    for occurrence in before:
        same = at_moment.get(occurrence.at)
        if same:
            same.pop(0)
            unchanged.append(occurrence)
        else:
            rest.append(occurrence)
    left = [o for same in at_moment.values() for o in same]
    left.sort(key=lambda o: (o.at, o.decision_id))
    moved: list[Move] = []
    gone: list[Occurrence] = []
    for occurrence in rest:
        match = _nearest_sharing(occurrence, left)
        if match is None:
            gone.append(occurrence)
        else:
            left.remove(match)
            moved.append(Move(occurrence, match))
    return Pairing(tuple(unchanged), tuple(moved), tuple(gone), tuple(left))


def _nearest_sharing(occurrence: Occurrence, left: Sequence[Occurrence]) -> Occurrence | None:
    causes = set(occurrence.triggers)
    sharing = [o for o in left if causes.intersection(o.triggers)]
    if not sharing:
        return None
    return min(sharing, key=lambda o: (abs(o.at - occurrence.at), o.at, o.decision_id))


# --- the diff -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionDiff:
    """One rule's decisions of one action (an alert, a flag raised ...), compared."""

    action: str
    appear: tuple[Occurrence, ...]
    disappear: tuple[Occurrence, ...]
    moved: tuple[Move, ...]
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.appear or self.disappear or self.moved)

    @property
    def median_shift_hours(self) -> float | None:
        return median(m.shift for m in self.moved) / HOUR_US if self.moved else None

    @property
    def max_shift_hours(self) -> float | None:
        """The largest shift by size, with its sign (positive: the candidate decides later)."""
        if not self.moved:
            return None
        return max((m.shift for m in self.moved), key=abs) / HOUR_US


@dataclass(frozen=True, slots=True)
class RuleDiff:
    """One rule: its version on each side (None: switched off there) and its actions."""

    rule_id: str
    production_version: int | None
    candidate_version: int | None
    actions: tuple[ActionDiff, ...]
    #: Suppressed production decisions the production rules no longer make (rules edited
    #: since production decided): not described, so not compared.
    unresolved: int = 0

    @property
    def changed(self) -> bool:
        return any(a.changed for a in self.actions)


@dataclass(frozen=True, slots=True)
class WhatIfDiff:
    """Every rule's difference, in the order of :class:`~projections.risk.RuleSet`."""

    rules: tuple[RuleDiff, ...]
    window: Window
    stream_time: int
    customers: int

    @property
    def changed(self) -> bool:
        return any(rule.changed for rule in self.rules)


@dataclass(slots=True)
class WhatIfBuilder:
    """Collects customers' pairings (inside the window) and builds the :class:`WhatIfDiff`.

    Holds the changed decisions and only a count of the unchanged ones, so a run over every
    customer keeps in memory what it will report and not the decisions that did not change.
    """

    window: Window = field(default_factory=Window)
    customers: int = 0
    appear: list[Occurrence] = field(default_factory=list)
    disappear: list[Occurrence] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    unchanged: Counter[tuple[str, str]] = field(default_factory=Counter)
    unresolved: Counter[str] = field(default_factory=Counter)

    def add(self, production: Iterable[Occurrence], candidate: Iterable[Occurrence]) -> None:
        """One customer (or several): pair, keep what the window compares."""
        inside = self.window.contains
        pairing = pair(production, candidate)
        self.appear.extend(o for o in pairing.appear if inside(o.at))
        self.disappear.extend(o for o in pairing.disappear if inside(o.at))
        self.moved.extend(m for m in pairing.moved if inside(m.before.at) or inside(m.after.at))
        self.unchanged.update((o.rule_id, o.action) for o in pairing.unchanged if inside(o.at))

    def add_unresolved(self, rule_ids: Iterable[str]) -> None:
        self.unresolved.update(rule_ids)

    def build(self, production: RuleSet, candidate: RuleSet, stream_time: int) -> WhatIfDiff:
        """Every rule switched on in either set, or with decisions, in the RuleSet's order."""
        live, tried = production.versions(), candidate.versions()
        appear = _keyed(self.appear, lambda o: (o.rule_id, o.action))
        disappear = _keyed(self.disappear, lambda o: (o.rule_id, o.action))
        moved = _keyed(self.moved, lambda m: (m.before.rule_id, m.before.action))
        keys = sorted({*appear, *disappear, *moved, *self.unchanged})

        def action_diff(key: tuple[str, str]) -> ActionDiff:
            return ActionDiff(
                action=key[1],
                appear=tuple(sorted(appear.get(key, ()), key=lambda o: o.order)),
                disappear=tuple(sorted(disappear.get(key, ()), key=lambda o: o.order)),
                moved=tuple(sorted(moved.get(key, ()), key=lambda m: (m.before.order, m.after.at))),
                unchanged=self.unchanged[key],
            )

        seen = {rule_id for rule_id, _ in keys} | set(self.unresolved)
        rules = tuple(
            RuleDiff(
                rule_id=name,
                production_version=live.get(name),
                candidate_version=tried.get(name),
                actions=tuple(action_diff(key) for key in keys if key[0] == name),
                unresolved=self.unresolved[name],
            )
            for name in RuleSet.model_fields
            if name in live or name in tried or name in seen
        )
        return WhatIfDiff(rules, self.window, stream_time, self.customers)


_T = TypeVar("_T")


def _keyed(
    items: Iterable[_T], key: Callable[[_T], tuple[str, str]]
) -> dict[tuple[str, str], list[_T]]:
    grouped: dict[tuple[str, str], list[_T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped
