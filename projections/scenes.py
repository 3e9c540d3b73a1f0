"""Service scenes: a customer's touchpoints chained into episodes, and what each episode shows.

Pure domain code: functions of one customer's facts in event-time order (see
:mod:`projections.facts`), no I/O and no clock, so a rebuild, a resumed projector and a unit
test all get the same scenes.

**Chaining.** A touchpoint joins an episode, in this order of precedence:

1. the episode of its **case id**, when that case is already known;
2. the episode of its **parent event** (a handled call points at the inquiry it answered, a
   callback at the promise it keeps, a survey at the resolution it asks about);
3. the episode of its **contact id** (the IVR leg, the question and the agent's handling of one
   call);
4. otherwise the customer's latest episode on the **same service type**, if that episode is
   still open and its last activity is at most ``gap_days`` earlier;
5. otherwise it starts a new episode.

An episode carries at most one case: a touchpoint whose case differs from the one its link
points at starts the new case's own episode, so two cases never merge. An episode stops
accepting unlinked touchpoints once it is resolved, which is what makes a later contact on the
same matter a *repeat* (and the earlier resolution not first-contact).

**Episode id** = uuid5 of the customer and the episode's first touchpoint: stable as the
episode grows, and changed only if a late arrival becomes its new first touchpoint (the
projector then retracts the old id).

**Pairing.** Each customer request (inquiry, complaint, report, service request) is matched
with the first provider-side execution among its descendants by parent links (the call
handled, the case resolved, the visit done); each promise with the execution that keeps it
(``callback_promised`` -> ``callback``, ``field_dispatch`` -> ``field_visit``). Promises never
kept are listed as unmatched.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import NAMESPACE_URL, uuid5

from events.identity import uuid5_text
from events.taxonomy import CUSTOMER_INITIATED_KINDS, REQUEST_KINDS, Channel, Kind
from projections.facts import DAY_US, Fact, order_key
from projections.policy import ScenePolicy, UnitCosts

__all__ = [
    "Handoff",
    "Pairing",
    "Scene",
    "SceneFold",
    "chain_episodes",
    "episode_id",
    "price_table",
    "scenes_of",
]

#: Namespace of episode ids (uuid5), so they never collide with touchpoint ids.
EPISODE_NAMESPACE = uuid5(NAMESPACE_URL, "https://servicetrace.dev/ns/episode")
_EPISODE_NAMESPACE_BYTES = EPISODE_NAMESPACE.bytes

_FACING = frozenset({"inbound", "outbound"})
_REQUESTS = frozenset(kind.value for kind in REQUEST_KINDS)
_CUSTOMER_KINDS = frozenset(kind.value for kind in CUSTOMER_INITIATED_KINDS)
#: What answers a customer request, found among its descendants.
_ANSWERS = frozenset(
    {
        Kind.CONTACT_HANDLED.value,
        Kind.CALLBACK.value,
        Kind.FIELD_VISIT.value,
        Kind.CASE_RESOLVED.value,
        Kind.CASE_CLOSED.value,
    }
)
#: Promise kind -> the execution that keeps it, and the record that says it was missed.
_PROMISES: dict[str, tuple[str, str | None]] = {
    Kind.CALLBACK_PROMISED.value: (Kind.CALLBACK.value, None),
    Kind.FIELD_DISPATCH.value: (Kind.FIELD_VISIT.value, Kind.APPOINTMENT_MISSED.value),
}
_OPENING = frozenset({"case_reopened", "case_opened"})
_CLOSING = frozenset({"case_resolved", "case_closed"})
_FAILED_OUTCOMES = frozenset({"failed", "abandoned", "cancelled"})
_NOT_A_RESOLUTION = frozenset({"unresolved", "failed", "abandoned", "pending"})
#: Promise statuses that mean "never done": the scene lists them as unmatched.
UNMATCHED = frozenset({"open", "missed"})


@dataclass(frozen=True, slots=True)
class Handoff:
    """A change of hands inside an episode: another channel, or another agent."""

    at: int
    kind: str  # "channel" | "agent"
    source: str
    target: str
    event_id: str


@dataclass(frozen=True, slots=True)
class Pairing:
    """A request or promise and the execution that answered it (or ``None``).

    ``status``: requests are ``answered`` / ``unanswered``; promises are ``kept``, ``failed``
    (attempted, did not succeed), ``missed`` (the appointment was missed and nothing followed)
    or ``open`` (never made).
    """

    event_id: str
    kind: str
    at: int
    execution_event_id: str | None
    execution_kind: str | None
    executed_at: int | None
    status: str

    @property
    def is_promise(self) -> bool:
        return self.kind in _PROMISES

    @property
    def unmatched(self) -> bool:
        return self.is_promise and self.status in UNMATCHED


@dataclass(frozen=True, slots=True)
class Scene:
    """One episode of one customer, with the metrics an auditor and a manager ask for.

    Times are UTC microseconds (:mod:`projections.facts`); durations are seconds.
    ``first_contact_resolution`` is ``None`` when it does not apply (nothing resolved, or no
    inbound contact to resolve).
    """

    episode_id: str
    customer_id: str
    service_type: str
    case_id: str | None
    started_at: int
    #: UTC offset (minutes) of the first touchpoint: the episode's local start date.
    started_offset_minutes: int
    ended_at: int
    touchpoints: int
    contacts: int
    inbound_contacts: int
    channels: tuple[str, ...]
    channel_path: tuple[str, ...]
    entry_channel: str
    handoffs: tuple[Handoff, ...]
    status: str  # "open" | "resolved" | "closed"
    first_resolved_at: int | None
    resolved_at: int | None
    reopened: int
    first_contact_resolution: bool | None
    outcome: str | None
    satisfaction: float | None
    feedback_count: int
    wait_seconds: float
    handle_seconds: float
    cost: float
    pairings: tuple[Pairing, ...]
    event_ids: tuple[str, ...]

    @property
    def time_to_resolution_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.started_at) / 1_000_000

    @property
    def unmatched_promises(self) -> tuple[Pairing, ...]:
        return tuple(pairing for pairing in self.pairings if pairing.unmatched)

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


def episode_id(customer_id: str, first_event_id: str) -> str:
    """The id of the episode whose first touchpoint (in event-time order) is ``first_event_id``."""
    return uuid5_text(_EPISODE_NAMESPACE_BYTES, f"{customer_id}/{first_event_id}")


# -- chaining ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    """An episode being chained: its facts, case, and whether it still takes unlinked facts."""

    facts: list[Fact] = field(default_factory=list)
    case_id: str | None = None
    resolved: bool = False
    last: int = 0
    #: When the episode was first resolved (what first-contact resolution is judged from).
    first_resolved: int | None = None
    #: The scene summarised last, and the (size, repeat) it was summarised for.
    scene: Scene | None = None
    scene_key: tuple[int, bool] | None = None
    #: The episode id, once known (its first fact never changes while the chain only grows).
    id: str | None = None

    def add(self, fact: Fact) -> None:
        self.facts.append(fact)
        self.last = fact.occurred
        if fact.case_id is not None and self.case_id is None:
            self.case_id = fact.case_id
        kind = fact.kind
        resolution = _is_resolution(fact, self.case_id is not None)
        if resolution and self.first_resolved is None:
            self.first_resolved = fact.occurred
        if kind in _OPENING:
            self.resolved = False
        elif kind == "case_closed" or resolution:
            self.resolved = True


def _is_resolution(fact: Fact, has_case: bool) -> bool:
    """Whether ``fact`` resolves its episode: a case resolved or closed with a positive (or no)
    outcome; in an episode without a case, a provider-side touchpoint or a self-service step
    whose outcome is ``resolved``. An opening record (case opened or reopened) never is."""
    if fact.outcome in _NOT_A_RESOLUTION or fact.kind in _OPENING:
        return False
    if fact.kind in _CLOSING:
        return True
    return not has_case and fact.outcome == "resolved"


class _Chainer:
    """The chaining state of one customer, fed facts in event-time order."""

    __slots__ = ("by_case", "by_contact", "by_event", "episodes", "gap", "latest")

    def __init__(self, gap_us: int) -> None:
        self.gap = gap_us
        self.episodes: list[_Open] = []
        self.by_case: dict[str, _Open] = {}
        self.by_contact: dict[str, _Open] = {}
        self.by_event: dict[str, _Open] = {}
        self.latest: dict[str, _Open] = {}

    def feed(self, fact: Fact) -> _Open:
        """Chain ``fact`` (the next in event-time order); the episode it joined."""
        episode = self._linked(fact) or self._recent(fact) or self._start()
        episode.add(fact)
        self.by_event[fact.event_id] = episode
        if fact.case_id is not None:
            self.by_case.setdefault(fact.case_id, episode)
        if fact.contact_id is not None:
            self.by_contact.setdefault(fact.contact_id, episode)
        # The gap rule looks for the episode *about* this service type: a fact of another type
        # that joined by a link does not make the episode the latest one of that other type.
        self.latest[episode.facts[0].service_type] = episode
        return episode

    def _linked(self, fact: Fact) -> _Open | None:
        if fact.case_id is not None:
            known = self.by_case.get(fact.case_id)
            if known is not None:
                return known
        for link in (self.by_event, self.by_contact):
            key = fact.parent_event_id if link is self.by_event else fact.contact_id
            episode = link.get(key) if key is not None else None
            if episode is not None and _same_case(episode, fact):
                return episode
        return None

    def _recent(self, fact: Fact) -> _Open | None:
        episode = self.latest.get(fact.service_type)
        if episode is None or episode.resolved or not _same_case(episode, fact):
            return None
        return episode if fact.occurred - episode.last <= self.gap else None

    def _start(self) -> _Open:
        episode = _Open()
        self.episodes.append(episode)
        return episode


def _same_case(episode: _Open, fact: Fact) -> bool:
    return fact.case_id is None or episode.case_id is None or episode.case_id == fact.case_id


def chain_episodes(facts: Iterable[Fact], policy: ScenePolicy) -> list[list[Fact]]:
    """``facts`` (one customer, event-time order) grouped into episodes, by first touchpoint.

    Every fact lands in exactly one episode, and each episode keeps event-time order.
    """
    chainer = _Chainer(round(policy.gap_days * DAY_US))
    for fact in facts:
        chainer.feed(fact)
    return [episode.facts for episode in chainer.episodes]


# -- scenes ------------------------------------------------------------------------------------


def scenes_of(facts: Sequence[Fact], policy: ScenePolicy, costs: UnitCosts) -> list[Scene]:
    """The scenes of one customer whose facts, in event-time order, are ``facts``.

    The definition every view and test relies on; :class:`SceneFold` computes the same thing
    incrementally.
    """
    return SceneFold(policy, costs).scenes(facts)


class SceneFold:
    """:func:`scenes_of` for one customer, kept between calls.

    When the history only grew at the end since the last call (the common case: touchpoints
    arrive roughly in event-time order), only the new facts are chained and only the episodes
    they joined, or whose first-contact verdict changed, are summarised again. Any other change
    (a late arrival in the middle) starts over from the whole history. Either way the result
    equals :func:`scenes_of` (a property test holds the two together).
    """

    def __init__(
        self,
        policy: ScenePolicy,
        costs: UnitCosts,
        prices: dict[tuple[str, str], float] | None = None,
    ) -> None:
        self._gap = round(policy.gap_days * DAY_US)
        self._window = round(policy.fcr_window_days * DAY_US)
        self._prices = prices if prices is not None else price_table(costs)
        self._restart()

    def _restart(self) -> None:
        self._chainer = _Chainer(self._gap)
        self._requests: dict[str, list[int]] = defaultdict(list)
        self._fed = 0
        self._last: Fact | None = None

    def scenes(self, facts: Sequence[Fact]) -> list[Scene]:
        fed = self._fed
        if not (fed and len(facts) >= fed and facts[fed - 1] is self._last):
            self._restart()
            fed = 0
        feed, requests = self._chainer.feed, self._requests
        touched: set[int] = set()
        requested: set[str] = set()
        for fact in facts[fed:]:
            touched.add(id(feed(fact)))
            if fact.kind in _REQUESTS and fact.direction == "inbound":
                requests[fact.service_type].append(fact.occurred)
                requested.add(fact.service_type)
        self._fed = len(facts)
        self._last = facts[-1] if facts else None
        # A scene changes only with its facts, or with the requests that decide its FCR.
        return [
            self._scene(episode)
            if episode.scene is None
            or id(episode) in touched
            or (episode.first_resolved is not None and episode.facts[0].service_type in requested)
            else episode.scene
            for episode in self._chainer.episodes
        ]

    def _scene(self, episode: _Open) -> Scene:
        repeat = self._repeat_after(episode)
        key = (len(episode.facts), repeat)
        if episode.scene is None or episode.scene_key != key:
            if episode.id is None:
                first = episode.facts[0]
                episode.id = episode_id(first.customer_id, first.event_id)
            episode.scene = _summarise(episode.id, episode.facts, repeat, self._prices)
            episode.scene_key = key
        return episode.scene

    def _repeat_after(self, episode: _Open) -> bool:
        """Whether an inbound request on the episode's service type follows its first
        resolution within the window (which makes that resolution not first-contact)."""
        resolved_at = episode.first_resolved
        if resolved_at is None:
            return False
        times = self._requests.get(episode.facts[0].service_type)
        if not times:
            return False
        after = bisect_right(times, resolved_at)
        return after < len(times) and times[after] <= resolved_at + self._window


def price_table(costs: UnitCosts) -> dict[tuple[str, str], float]:
    """Every (channel, kind) with its unit cost: one dict lookup per touchpoint in the fold."""
    return {
        (channel.value, kind.value): costs.cost(channel.value, kind.value)
        for channel in Channel
        for kind in Kind
    }


def _summarise(
    identity: str, members: list[Fact], repeat: bool, prices: dict[tuple[str, str], float]
) -> Scene:
    """The scene of one episode (this runs for every change, so each pass is a tight loop)."""
    first = members[0]
    progress = _progress(members)
    path, channels, handoffs = _movement(members)
    totals = _totals(members, prices)
    fcr = None
    if progress.first_resolved is not None and progress.inbound_before > 0:
        fcr = progress.inbound_before == 1 and progress.reopened == 0 and not repeat
    scores = totals.scores
    return Scene(
        episode_id=identity,
        customer_id=first.customer_id,
        service_type=first.service_type,
        case_id=totals.case_id,
        started_at=first.occurred,
        started_offset_minutes=first.offset_minutes,
        ended_at=members[-1].occurred,
        touchpoints=len(members),
        contacts=len(progress.contacts),
        inbound_contacts=len(progress.inbound),
        channels=channels,
        channel_path=path,
        entry_channel=path[0] if path else first.channel,
        handoffs=handoffs,
        status=progress.status,
        first_resolved_at=progress.first_resolved,
        resolved_at=progress.resolved,
        reopened=progress.reopened,
        first_contact_resolution=fcr,
        outcome=totals.outcome,
        satisfaction=sum(scores) / len(scores) if scores else None,
        feedback_count=len(scores),
        wait_seconds=totals.wait,
        handle_seconds=totals.handle,
        cost=round(totals.cost, 6),
        pairings=_pairings(members) if totals.linked else (),
        event_ids=tuple(fact.event_id for fact in members),
    )


@dataclass(slots=True)
class _Progress:
    status: str = "open"
    first_resolved: int | None = None
    resolved: int | None = None
    reopened: int = 0
    #: Inbound customer contacts up to and including the first resolving touchpoint.
    inbound_before: int = 0
    contacts: set[str] = field(default_factory=set)
    inbound: set[str] = field(default_factory=set)


def _progress(members: list[Fact]) -> _Progress:
    """Status, resolutions and contacts, in event-time order."""
    p = _Progress()
    has_case = False
    for fact in members:
        kind = fact.kind
        has_case = has_case or fact.case_id is not None
        resolution = _is_resolution(fact, has_case)
        if kind in _OPENING:
            p.status, p.resolved = "open", None
            p.reopened += kind == "case_reopened"
        elif kind == "case_closed":
            p.status = "closed"
        elif resolution and p.status == "open":
            p.status = "resolved"
        if fact.direction != "internal":
            contact = fact.contact_id or fact.event_id
            p.contacts.add(contact)
            if fact.direction == "inbound" and kind in _CUSTOMER_KINDS and kind != "feedback":
                p.inbound.add(contact)
        if resolution and p.resolved is None:
            p.resolved = fact.occurred
            if p.first_resolved is None:
                p.first_resolved = fact.occurred
                p.inbound_before = len(p.inbound)
    return p


def _movement(members: list[Fact]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Handoff, ...]]:
    """Channel path (customer-facing touchpoints, repeats collapsed), channels in first-use
    order, and hand-offs: channel changes between consecutive customer-facing touchpoints and
    agent changes between consecutive touchpoints an agent performed."""
    path: list[str] = []
    handoffs: list[Handoff] = []
    agent: str | None = None
    for fact in members:
        if fact.direction != "internal":
            if path and fact.channel != path[-1]:
                handoffs.append(
                    Handoff(fact.occurred, "channel", path[-1], fact.channel, fact.event_id)
                )
            if not path or fact.channel != path[-1]:
                path.append(fact.channel)
        if fact.actor_type == "agent" and fact.actor_id is not None:
            if agent is not None and fact.actor_id != agent:
                handoffs.append(
                    Handoff(fact.occurred, "agent", agent, fact.actor_id, fact.event_id)
                )
            agent = fact.actor_id
    return tuple(path), tuple(dict.fromkeys(path)), tuple(handoffs)


@dataclass(slots=True)
class _Totals:
    case_id: str | None = None
    outcome: str | None = None
    scores: list[int] = field(default_factory=list)
    wait: float = 0.0
    handle: float = 0.0
    cost: float = 0.0
    #: Whether any request or promise is present (pairing is skipped otherwise).
    linked: bool = False


def _totals(members: list[Fact], prices: dict[tuple[str, str], float]) -> _Totals:
    t = _Totals()
    for fact in members:
        if t.case_id is None and fact.case_id is not None:
            t.case_id = fact.case_id
        if fact.outcome is not None and fact.actor_type != "customer":
            t.outcome = fact.outcome
        if fact.score is not None:
            t.scores.append(fact.score)
        if fact.wait_seconds is not None:
            t.wait += fact.wait_seconds
        if fact.handle_seconds is not None:
            t.handle += fact.handle_seconds
        t.cost += prices.get((fact.channel, fact.kind), 0.0)
        t.linked = t.linked or fact.kind in _REQUESTS or fact.kind in _PROMISES
    return t


def _pairings(members: list[Fact]) -> tuple[Pairing, ...]:
    children: dict[str, list[Fact]] = defaultdict(list)
    for fact in members:
        if fact.parent_event_id is not None:
            children[fact.parent_event_id].append(fact)
    pairs = []
    for fact in members:
        if fact.kind in _REQUESTS and fact.direction == "inbound":
            pairs.append(_answer(fact, members, children))
        elif fact.kind in _PROMISES:
            pairs.append(_keep(fact, children))
    return tuple(pairs)


def _descendants(
    root: Fact, children: dict[str, list[Fact]], superseded_by: str | None = None
) -> list[Fact]:
    """Facts reachable from ``root`` by parent links, nearest first (cycle-safe).

    With ``superseded_by`` (a promise kind), the walk stops at a later promise of that kind: a
    repair dispatched again after a missed appointment is a new promise, and the visit that
    follows keeps the new one, not the missed one.
    """
    found: list[Fact] = []
    seen = {root.event_id}
    frontier = [root]
    while frontier:
        level = [
            child
            for parent in frontier
            for child in children.get(parent.event_id, ())
            if child.event_id not in seen and child.kind != superseded_by
        ]
        if len(level) > 1:
            level.sort(key=order_key)
        for child in level:
            seen.add(child.event_id)
        found.extend(level)
        frontier = level
    return found


def _answer(request: Fact, members: list[Fact], children: dict[str, list[Fact]]) -> Pairing:
    direct = [f for f in children.get(request.event_id, ()) if f.kind in _ANSWERS]
    answer = min(direct, key=order_key) if direct else None  # the usual case: one hop
    if answer is None:
        answer = next((f for f in _descendants(request, children) if f.kind in _ANSWERS), None)
    if answer is None and request.contact_id is not None:
        answer = next(
            (
                f
                for f in members
                if f.contact_id == request.contact_id
                and f.kind in _ANSWERS
                and f.occurred >= request.occurred
            ),
            None,
        )
    if answer is None:
        return Pairing(
            request.event_id, request.kind, request.occurred, None, None, None, "unanswered"
        )
    return Pairing(
        request.event_id,
        request.kind,
        request.occurred,
        answer.event_id,
        answer.kind,
        answer.occurred,
        "answered",
    )


def _keep(promise: Fact, children: dict[str, list[Fact]]) -> Pairing:
    execution_kind, missed_kind = _PROMISES[promise.kind]
    followers = _descendants(promise, children, superseded_by=promise.kind)
    executions = [f for f in followers if f.kind == execution_kind]
    done = next((f for f in executions if f.outcome not in _FAILED_OUTCOMES), None)
    attempt = done or (executions[-1] if executions else None)
    if attempt is not None:
        status = "kept" if done is not None else "failed"
        return Pairing(
            promise.event_id,
            promise.kind,
            promise.occurred,
            attempt.event_id,
            attempt.kind,
            attempt.occurred,
            status,
        )
    missed = missed_kind is not None and any(f.kind == missed_kind for f in followers)
    return Pairing(
        promise.event_id,
        promise.kind,
        promise.occurred,
        None,
        None,
        None,
        "missed" if missed else "open",
    )
