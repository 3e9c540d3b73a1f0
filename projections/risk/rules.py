"""The risk rules: pure functions of one customer's facts in event-time order.

Each rule is registered on :func:`evaluate` by the type of its settings (``singledispatch``)
and returns *every* decision the history implies, due or not; :func:`projections.risk.engine.
assess` keeps the ones the stream has reached. Rules never read the wall clock: the moments
they speak of are event times, and the moment a decision may be emitted is its ``due`` stream
time (see :mod:`projections.risk.decisions`).

Alerting rules that count within a window (repeat requests, channel hopping) raise one alert
when the count is reached and stay quiet for one window after it: a customer calling every day
about the same leak gets one warning a week, not one a call.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, singledispatch
from heapq import heappop, heappush

from projections.compliance import violations_of
from projections.facts import DAY_US, HOUR_US, Fact
from projections.policy import ProjectionConfig
from projections.risk.config import (
    AgentWarningRule,
    ChannelHoppingRule,
    DndViolationRule,
    RepeatRequestRule,
    RuleSet,
    SensitiveCustomerRule,
    SlaOverdueRule,
)
from projections.risk.decisions import (
    ALERT,
    FLAG_EXPIRED,
    FLAG_RAISED,
    FLAG_RENEWED,
    Decision,
    decision_id,
)
from projections.scenes import Scene, scenes_of

__all__ = ["ScenesOnDemand", "evaluate", "evaluate_all"]

#: The scene fold of the facts being evaluated, folded when first called: the rules that need
#: scenes ask for them, and a caller that needs them too (an as-of reconstruction) folds once.
ScenesOnDemand = Callable[[], Sequence[Scene]]

_CLOSING = frozenset({"case_resolved", "case_closed"})
_NOT_A_RESOLUTION = frozenset({"unresolved", "failed", "abandoned", "pending"})


def evaluate_all(
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    *,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    """Every decision of every switched-on rule, in (event time, id) order.

    ``scenes``, when given, must return the scene fold of ``facts`` under ``config``; either
    way the scenes are folded at most once here, and only if a rule asks for them.
    """
    folded = cache(scenes or (lambda: scenes_of(facts, config.scenes, config.costs)))
    found: list[Decision] = []
    for name in RuleSet.model_fields:
        rule = getattr(rules, name)
        if rule.enabled:
            found.extend(evaluate(rule, facts, rules, config, folded))
    found.sort(key=lambda decision: (decision.at, decision.decision_id))
    return found


@singledispatch
def evaluate(
    rule: object,
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    """Every decision ``rule`` makes on one customer's ``facts`` (event-time order).

    ``scenes`` (optional) gives the scene fold of ``facts`` to a rule that needs it; without
    it such a rule folds them itself.
    """
    raise TypeError(f"no evaluation registered for rule settings {type(rule).__name__}")


def _day(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).strftime("%Y-%m-%d")


def _stamp(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _by_service_type(facts: Iterable[Fact]) -> dict[str, list[Fact]]:
    grouped: dict[str, list[Fact]] = {}
    for fact in facts:
        grouped.setdefault(fact.service_type, []).append(fact)
    return grouped


def _known(facts: Iterable[Fact]) -> int:
    """The stream time at which all of ``facts`` are known."""
    return max(fact.recorded for fact in facts)


def _alert(
    rule_id: str, version: int, severity: str, trigger: Fact, window: Sequence[Fact], summary: str
) -> Decision:
    return Decision(
        decision_id=decision_id(rule_id, version, trigger.customer_id, trigger.event_id),
        rule_id=rule_id,
        rule_version=version,
        customer_id=trigger.customer_id,
        action=ALERT,
        at=trigger.occurred,
        due=_known(window),
        service_type=trigger.service_type,
        severity=severity,
        triggers=tuple(fact.event_id for fact in window),
        summary=summary,
    )


# --- repeat_request -----------------------------------------------------------------------


@evaluate.register
def _repeat_request(
    rule: RepeatRequestRule,
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    kinds = {kind.value for kind in rule.kinds}
    window = round(rule.window_hours * HOUR_US)
    requests = (f for f in facts if f.direction == "inbound" and f.kind in kinds)
    found = []
    for service_type, group in _by_service_type(requests).items():
        start = 0
        last_alert: int | None = None
        for index, fact in enumerate(group):
            while fact.occurred - group[start].occurred > window:
                start += 1
            count = index - start + 1
            if count < rule.threshold:
                continue
            if last_alert is not None and fact.occurred - last_alert <= window:
                continue
            last_alert = fact.occurred
            span = _span(group[start].occurred, fact.occurred)
            summary = f"{count} requests on {service_type} within {span}"
            found.append(
                _alert(
                    "repeat_request",
                    rule.version,
                    rule.severity,
                    fact,
                    group[start : index + 1],
                    summary,
                )
            )
    return found


def _span(first: int, last: int) -> str:
    hours = (last - first) / HOUR_US
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.1f} days"


# --- channel_hopping ----------------------------------------------------------------------


@evaluate.register
def _channel_hopping(
    rule: ChannelHoppingRule,
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    window = round(rule.window_hours * HOUR_US)
    contacts = (f for f in facts if f.direction == "inbound" and f.actor_type == "customer")
    found = []
    for service_type, group in _by_service_type(contacts).items():
        recent: deque[Fact] = deque()
        channels: Counter[str] = Counter()
        last_alert: int | None = None
        for fact in group:
            recent.append(fact)
            channels[fact.channel] += 1
            while fact.occurred - recent[0].occurred > window:
                gone = recent.popleft()
                channels[gone.channel] -= 1
                if not channels[gone.channel]:
                    del channels[gone.channel]
            if len(channels) < rule.threshold:
                continue
            if last_alert is not None and fact.occurred - last_alert <= window:
                continue
            last_alert = fact.occurred
            path = " → ".join(dict.fromkeys(f.channel for f in recent))
            span = _span(recent[0].occurred, fact.occurred)
            summary = f"{len(channels)} channels on {service_type} within {span}: {path}"
            found.append(
                _alert("channel_hopping", rule.version, rule.severity, fact, list(recent), summary)
            )
    return found


# --- sla_overdue --------------------------------------------------------------------------


def _answers(complaint: Fact, fact: Fact) -> bool:
    """Whether ``fact`` resolves ``complaint``: same case (or, without a case, same service
    type), and a case resolved / closed, or a provider-side touchpoint with outcome resolved."""
    if complaint.case_id is not None:
        if fact.case_id != complaint.case_id:
            return False
    elif fact.service_type != complaint.service_type:
        return False
    if fact.outcome in _NOT_A_RESOLUTION:
        return False
    if fact.kind in _CLOSING:
        return True
    return fact.direction != "inbound" and fact.outcome == "resolved"


@evaluate.register
def _sla_overdue(
    rule: SlaOverdueRule,
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    deadline = round(rule.deadline_hours * HOUR_US)
    found = []
    for index, complaint in enumerate(facts):
        if complaint.kind != "complaint" or complaint.direction != "inbound":
            continue
        due_at = complaint.occurred + deadline
        answered = False
        for fact in facts[index + 1 :]:
            if fact.occurred > due_at:
                break
            if _answers(complaint, fact):
                answered = True
                break
        if answered:
            continue
        found.append(
            Decision(
                decision_id=decision_id(
                    "sla_overdue", rule.version, complaint.customer_id, complaint.event_id
                ),
                rule_id="sla_overdue",
                rule_version=rule.version,
                customer_id=complaint.customer_id,
                action=ALERT,
                at=due_at,
                due=max(due_at, complaint.recorded),
                service_type=complaint.service_type,
                severity=rule.severity,
                triggers=(complaint.event_id,),
                summary=(
                    f"complaint on {complaint.service_type} of {_stamp(complaint.occurred)} "
                    f"has no resolution after {rule.deadline_hours:g} hours"
                ),
            )
        )
    return found


# --- dnd_violation ------------------------------------------------------------------------


@evaluate.register
def _dnd_violation(
    rule: DndViolationRule,
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    by_id = {fact.event_id: fact for fact in facts}
    found = []
    for violation in violations_of(facts, config.contact_policy):
        fact = by_id[violation.event_id]
        found.append(
            Decision(
                decision_id=decision_id(
                    "dnd_violation",
                    rule.version,
                    fact.customer_id,
                    violation.rule,
                    fact.event_id,
                ),
                rule_id="dnd_violation",
                rule_version=rule.version,
                customer_id=fact.customer_id,
                action=ALERT,
                at=fact.occurred,
                due=fact.recorded,
                service_type=fact.service_type,
                severity=rule.severity,
                triggers=(fact.event_id,),
                summary=f"{violation.rule}: {violation.detail} ({violation.local_time})",
                reasons=(violation.rule,),
            )
        )
    return found


# --- sensitive_customer and agent_warning --------------------------------------------------


def _negative(fact: Fact, rule: SensitiveCustomerRule) -> bool:
    """A complaint, or feedback at or below the dissatisfied score."""
    if fact.kind == "complaint":
        return fact.direction == "inbound"
    return fact.kind == "feedback" and fact.score is not None and fact.score <= rule.max_score


@dataclass(slots=True)
class _Period:
    """One stretch during which the customer is sensitive."""

    raised: Decision
    expires: int
    known: int
    renewals: int = 0
    last_trigger: str = ""
    #: (occurred, recorded) of the raising negative and of every renewal: what kept the flag
    #: in force, and from when each was known.
    negatives: list[tuple[int, int]] = field(default_factory=list)


def _flag(
    rule: SensitiveCustomerRule,
    action: str,
    fact: Fact,
    at: int,
    due: int,
    triggers: tuple[str, ...],
    summary: str,
    key: str,
) -> Decision:
    return Decision(
        decision_id=decision_id("sensitive_customer", rule.version, fact.customer_id, action, key),
        rule_id="sensitive_customer",
        rule_version=rule.version,
        customer_id=fact.customer_id,
        action=action,
        at=at,
        due=due,
        service_type=fact.service_type,
        severity=rule.severity,
        triggers=triggers,
        summary=summary,
        reasons=(summary,),
    )


def sensitive_periods(
    rule: SensitiveCustomerRule, facts: Sequence[Fact]
) -> tuple[list[Decision], list[_Period]]:
    """The flag's decisions (raised, renewed, expired) and the periods they delimit."""
    window = round(rule.window_days * DAY_US)
    expiry = round(rule.expiry_days * DAY_US)
    recent: dict[str, deque[Fact]] = {}
    found: list[Decision] = []
    periods: list[_Period] = []
    current: _Period | None = None
    last: Fact | None = None
    for fact in facts:
        if not _negative(fact, rule):
            continue
        if current is not None and current.expires <= fact.occurred:
            found.append(_expired(rule, current, last))
            current = None
            recent.clear()  # a new flag needs the threshold again, from complaints after this
        same = recent.setdefault(fact.service_type, deque())
        same.append(fact)
        while fact.occurred - same[0].occurred > window:
            same.popleft()
        last = fact
        if current is None:
            if len(same) >= rule.threshold:
                summary = (
                    f"{len(same)} complaints or dissatisfied feedback on {fact.service_type} "
                    f"between {_day(same[0].occurred)} and {_day(fact.occurred)}"
                )
                triggers = tuple(f.event_id for f in same)
                raised = _flag(
                    rule,
                    FLAG_RAISED,
                    fact,
                    fact.occurred,
                    _known(same),
                    triggers,
                    summary,
                    fact.event_id,
                )
                found.append(raised)
                current = _Period(raised, fact.occurred + expiry, raised.due, 0, fact.event_id)
                current.negatives.append((fact.occurred, raised.due))
                periods.append(current)
            continue
        summary = f"new {fact.kind} on {fact.service_type} on {_day(fact.occurred)}"
        renewed = _flag(
            rule,
            FLAG_RENEWED,
            fact,
            fact.occurred,
            fact.recorded,
            (fact.event_id,),
            summary,
            fact.event_id,
        )
        found.append(renewed)
        current.expires = fact.occurred + expiry
        # The expiry is keyed on this renewal: it cannot be due before the renewal is known.
        current.known = max(current.known, fact.recorded)
        current.renewals += 1
        current.last_trigger = fact.event_id
        current.negatives.append((fact.occurred, fact.recorded))
    if current is not None:
        found.append(_expired(rule, current, last))
    return found, periods


def _expired(rule: SensitiveCustomerRule, period: _Period, last: Fact | None) -> Decision:
    assert last is not None  # a period starts at a negative fact
    summary = f"no new complaint for {rule.expiry_days:g} days"
    return Decision(
        decision_id=decision_id(
            "sensitive_customer", rule.version, last.customer_id, FLAG_EXPIRED, period.last_trigger
        ),
        rule_id="sensitive_customer",
        rule_version=rule.version,
        customer_id=last.customer_id,
        action=FLAG_EXPIRED,
        at=period.expires,
        due=max(period.expires, period.known),
        service_type=period.raised.service_type,
        severity=rule.severity,
        triggers=(period.last_trigger,),
        summary=summary,
        reasons=(summary,),
    )


@evaluate.register
def _sensitive_customer(
    rule: SensitiveCustomerRule,
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    return sensitive_periods(rule, facts)[0]


class _RangeMin:
    """Minimum of ``values[lo:hi]`` in constant time (a sparse table: level ``k`` holds the
    minimum of every run of ``2**k`` values), built in ``n log n``."""

    def __init__(self, values: Sequence[int]) -> None:
        self._levels = [list(values)]
        width = 1
        while 2 * width <= len(values):
            row = self._levels[-1]
            self._levels.append([min(row[i], row[i + width]) for i in range(len(row) - width)])
            width *= 2

    def min(self, lo: int, hi: int) -> int | None:
        """The minimum of ``values[lo:hi]`` (``None`` if empty)."""
        if lo >= hi:
            return None
        level = (hi - lo).bit_length() - 1
        row = self._levels[level]
        return min(row[lo], row[hi - (1 << level)])


class _FlagIndex:
    """Which flag period was in force at an event time *as known* at a stream time.

    To someone knowing only what was recorded by ``known_by``, a period was in force at
    ``moment`` when it was raised and known by then, and had not lapsed given the negatives
    (the raising one and the renewals) known by then: one of them occurred within the expiry
    before ``moment``. Asked for every contact of a long history, that is bisection rather than
    scans: periods never overlap (a new one is raised only after the previous one expired), so
    the candidate is the last one raised before ``moment``; a period's negatives are sorted by
    event time, and the earliest recording among those in the expiry window is a range minimum.
    """

    def __init__(self, periods: Sequence[_Period], expiry: int) -> None:
        self._periods = periods
        self._raised = [period.raised.at for period in periods]
        self._expiry = expiry
        self._occurred: list[list[int]] = []
        self._recorded: list[_RangeMin] = []
        for period in periods:
            negatives = sorted(period.negatives)
            self._occurred.append([occurred for occurred, _ in negatives])
            self._recorded.append(_RangeMin([recorded for _, recorded in negatives]))

    def in_force(self, moment: int, known_by: int) -> _Period | None:
        """The period in force at ``moment`` as known by ``known_by`` (``None``: none)."""
        index = bisect_left(self._raised, moment) - 1
        if index < 0:
            return None
        period = self._periods[index]
        if period.raised.due > known_by or moment >= period.expires:
            return None
        occurred = self._occurred[index]
        # Negatives that occurred in (moment - expiry, moment): known by then, they keep it up.
        lo = bisect_right(occurred, moment - self._expiry)
        hi = bisect_left(occurred, moment)
        earliest = self._recorded[index].min(lo, hi)
        return period if earliest is not None and earliest <= known_by else None


class _OpenEpisodes:
    """The episodes open at each of many moments, in one sweep over the moments in order.

    An episode is open at ``moment`` when it started by then and was not resolved by then; the
    sweep opens episodes as their start passes and closes them as their resolution passes, so a
    long history costs its episodes once plus the output, not a scan of every scene per moment.
    """

    def __init__(self, scenes: Sequence[Scene]) -> None:
        self._scenes = scenes
        self._by_start = sorted(range(len(scenes)), key=lambda index: scenes[index].started_at)

    def at_each(self, moments: Sequence[int]) -> list[tuple[str, ...]]:
        """The ids of the episodes open at each of ``moments``, in the scenes' order."""
        scenes, by_start = self._scenes, self._by_start
        found: list[tuple[str, ...]] = [()] * len(moments)
        started = 0
        open_now: set[int] = set()
        closing: list[tuple[int, int]] = []
        ids: tuple[str, ...] = ()
        for position in sorted(range(len(moments)), key=moments.__getitem__):
            moment = moments[position]
            changed = False
            while started < len(by_start) and scenes[by_start[started]].started_at <= moment:
                index = by_start[started]
                open_now.add(index)
                resolved = scenes[index].resolved_at
                if resolved is not None:
                    heappush(closing, (resolved, index))
                started += 1
                changed = True
            while closing and closing[0][0] <= moment:
                open_now.discard(heappop(closing)[1])
                changed = True
            if changed:
                ids = tuple(scenes[index].episode_id for index in sorted(open_now))
            found[position] = ids
        return found


def _warning(
    rule: AgentWarningRule, fact: Fact, period: _Period, open_now: tuple[str, ...]
) -> Decision:
    reasons = (
        f"sensitive since {_day(period.raised.at)}: {period.raised.summary}",
        *(f"open episode {episode}" for episode in open_now),
    )
    return Decision(
        decision_id=decision_id("agent_warning", rule.version, fact.customer_id, fact.event_id),
        rule_id="agent_warning",
        rule_version=rule.version,
        customer_id=fact.customer_id,
        action=ALERT,
        at=fact.occurred,
        due=max(fact.recorded, period.raised.due),
        service_type=fact.service_type,
        severity=rule.severity,
        triggers=(fact.event_id, *period.raised.triggers),
        summary=(
            f"sensitive customer on the line ({fact.channel}, {fact.service_type}); "
            f"{len(open_now)} open episode(s)"
        ),
        reasons=reasons,
        episodes=open_now,
    )


@evaluate.register
def _agent_warning(
    rule: AgentWarningRule,
    facts: Sequence[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    scenes: ScenesOnDemand | None = None,
) -> list[Decision]:
    """Every inbound contact while the flag was in force *as known when they called*: raised
    and known by then, not lapsed given the renewals known by then (a replay shows only
    warnings an agent could have seen)."""
    flag = rules.sensitive_customer
    if not flag.enabled:
        return []
    _, periods = sensitive_periods(flag, facts)
    if not periods:
        return []
    index = _FlagIndex(periods, round(flag.expiry_days * DAY_US))
    skip = {kind.value for kind in rule.not_contacts}
    warned: list[tuple[Fact, _Period]] = []
    for fact in facts:
        if fact.direction != "inbound" or fact.actor_type != "customer" or fact.kind in skip:
            continue
        period = index.in_force(fact.occurred, fact.recorded)
        if period is not None:  # else not sensitive then, as far as anyone knew when they called
            warned.append((fact, period))
    if not warned:
        return []
    folded = scenes() if scenes is not None else scenes_of(facts, config.scenes, config.costs)
    open_at = _OpenEpisodes(folded).at_each([fact.occurred for fact, _ in warned])
    return [
        _warning(rule, fact, period, open_now)
        for (fact, period), open_now in zip(warned, open_at, strict=True)
    ]
