"""Scoring the risk rules against labelled data: pure functions of decisions and request ids.

Used on the real 311 exports (``tests/integration/test_311_risk.py``, ``bench/risk_311.py``),
where the label is what the city itself wrote when it closed a request: NYC agencies close a
request that repeats an earlier one with a resolution text saying so. :data:`DUPLICATE_PHRASES`
lists the phrases that mean exactly that in the NYC export; texts that merely contain a similar
word are left out on purpose ("Violations were *previously* issued" is about a building's
record, not an earlier request; "has *already* mailed you a complaint form" and "please do not
file *duplicate* complaints" are about the caller's paperwork; "part of an *existing* project"
is about road works).

What a ``repeat_request`` alert predicts: its triggers are every request of the window that
reached the threshold, in event-time order. The earliest is the request the others repeat, so
the alert names every trigger *but the earliest* as a repeat (:func:`alerted_repeats`). After
an alert the rule stays quiet for one window, so later requests on the same customer and
service type within that window are repeats it has already warned about without naming them;
:func:`covered_repeats` adds those. Neither counts the earliest request of a window: in the data
at hand, it is the one the others repeat. :func:`repeats_within_window` is the
ceiling: every request with an earlier one from the same customer on the same service type
within the window. ``covered`` never leaves it, and reaches it at threshold 2 when each
customer's requests on a service type span no more than one window (as in the NYC 311 slice).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from projections.facts import HOUR_US, Fact, order_key
from projections.risk.config import RepeatRequestRule
from projections.risk.decisions import Decision

__all__ = [
    "DUPLICATE_PHRASES",
    "Score",
    "alerted_repeats",
    "covered_repeats",
    "duplicate_requests",
    "repeat_scores",
    "repeats_within_window",
    "rule_counts",
    "says_duplicate",
    "score",
]

REPEAT_REQUEST = "repeat_request"

#: Resolution-text phrases (matched case-insensitively, whitespace collapsed) by which an NYC
#: agency says the request duplicates an earlier one; the agencies using each are noted.
DUPLICATE_PHRASES: tuple[str, ...] = (
    # HPD: "The complaint you filed is a duplicate of a condition already reported by another
    # tenant ..."; DEP and DOT: "... this complaint is a duplicate of a previously filed
    # complaint. The original complaint is being addressed."
    "is a duplicate of",
    # DEP: "... this issue was previously reported by another customer The original complaint
    # is being addressed."
    "was previously reported by another customer",
    # DOHMH: "This service request was closed because the Department of Health and Mental
    # Hygiene received an earlier complaint about the same location."
    "received an earlier complaint about the same location",
    # DSNY: "... found an open service request already exists for the same location."
    "open service request already exists for the same location",
    # DOB: "... the conditions described in this complaint were addressed under another
    # service request number."
    "addressed under another service request number",
)


def says_duplicate(text: str | None) -> bool:
    """Whether a resolution text says the request duplicates an earlier one."""
    if not text:
        return False
    folded = " ".join(text.split()).casefold()
    return any(phrase in folded for phrase in DUPLICATE_PHRASES)


def duplicate_requests(labelled: Iterable[tuple[str | None, str | None]]) -> frozenset[str]:
    """The request ids whose resolution text says they duplicate an earlier request.

    ``labelled`` are ``(request id, resolution text)`` pairs: from a source export, each row's
    request and its resolution column; from the journey, each closure's ``parent_event_id``
    and ``text``.
    """
    return frozenset(
        request for request, text in labelled if request is not None and says_duplicate(text)
    )


def rule_counts(decisions: Iterable[Decision]) -> dict[str, int]:
    """Decisions per rule: alerts under the rule id, flag changes as ``<rule id>.<action>``."""
    counts = Counter(d.rule_id if d.is_alert else f"{d.rule_id}.{d.action}" for d in decisions)
    return dict(sorted(counts.items()))


def _repeat_alerts(decisions: Iterable[Decision]) -> list[Decision]:
    return [d for d in decisions if d.rule_id == REPEAT_REQUEST and d.is_alert]


def alerted_repeats(decisions: Iterable[Decision]) -> frozenset[str]:
    """The requests ``repeat_request`` alerts name as repeats: every trigger but the earliest
    (triggers are in event-time order)."""
    return frozenset(t for d in _repeat_alerts(decisions) for t in d.triggers[1:])


def covered_repeats(
    decisions: Iterable[Decision], facts: Sequence[Fact], rule: RepeatRequestRule
) -> frozenset[str]:
    """:func:`alerted_repeats`, plus the requests of the same customer and service type that
    follow an alert within its quiet window (one customer's or many customers' ``facts``)."""
    window = round(rule.window_hours * HOUR_US)
    kinds = {kind.value for kind in rule.kinds}
    by_id = {fact.event_id: fact for fact in facts}
    alerts = _repeat_alerts(decisions)
    covered = set(alerted_repeats(alerts))
    #: (customer, service type) -> the facts that raised an alert (its last trigger).
    raised: dict[tuple[str, str], list[Fact]] = {}
    for alert in alerts:
        raised.setdefault((alert.customer_id, alert.service_type), []).append(
            by_id[alert.triggers[-1]]
        )
    for fact in facts:
        if fact.direction != "inbound" or fact.kind not in kinds:
            continue
        for trigger in raised.get((fact.customer_id, fact.service_type), ()):
            after = order_key(fact) > order_key(trigger)
            if after and fact.occurred - trigger.occurred <= window:
                covered.add(fact.event_id)
    return frozenset(covered)


def repeats_within_window(facts: Sequence[Fact], rule: RepeatRequestRule) -> frozenset[str]:
    """The requests (of ``rule.kinds``) with an earlier one from the same customer on the same
    service type within ``rule.window_hours``: the most any rule counting repeats per customer
    and service type could find, whatever its threshold. ``facts`` in event-time order."""
    window = round(rule.window_hours * HOUR_US)
    kinds = {kind.value for kind in rule.kinds}
    latest: dict[tuple[str, str], int] = {}
    found = set()
    for fact in facts:
        if fact.direction != "inbound" or fact.kind not in kinds:
            continue
        key = (fact.customer_id, fact.service_type)
        previous = latest.get(key)
        if previous is not None and fact.occurred - previous <= window:
            found.add(fact.event_id)
        latest[key] = fact.occurred
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Score:
    """Predicted and actual positives, and how many of them agree."""

    predicted: int
    actual: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.actual if self.actual else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "predicted": self.predicted,
            "actual": self.actual,
            "true_positives": self.true_positives,
            "precision": self.precision,
            "recall": self.recall,
        }


def score(
    predicted: Collection[str], actual: Collection[str], within: Collection[str] | None = None
) -> Score:
    """Precision and recall of ``predicted`` request ids against the ``actual`` ones, counting
    only the requests ``within`` when given (those a label could have been written for)."""
    guessed, truth = set(predicted), set(actual)
    if within is not None:
        guessed &= set(within)
        truth &= set(within)
    return Score(len(guessed), len(truth), len(guessed & truth))


def repeat_scores(
    decisions: Iterable[Decision],
    facts: Sequence[Fact],
    rule: RepeatRequestRule,
    actual: Collection[str],
    within: Collection[str] | None = None,
) -> dict[str, Score]:
    """``alerted``, ``covered`` and ``ceiling`` (see the module doc) scored against ``actual``.

    ``decisions`` are those ``rule`` made on ``facts`` (every customer's history, each in
    event-time order); only its ``repeat_request`` alerts are read.
    """
    alerts = _repeat_alerts(decisions)
    return {
        "alerted": score(alerted_repeats(alerts), actual, within),
        "covered": score(covered_repeats(alerts, facts, rule), actual, within),
        "ceiling": score(repeats_within_window(facts, rule), actual, within),
    }
