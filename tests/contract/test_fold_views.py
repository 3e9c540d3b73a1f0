"""Contract of every fold view on the real engine, driven through the projector.

Each test appends a small hand-built history to a :class:`MemoryEventLog`, projects it into a
fresh ClickHouse database (embedded chdb, one database per test) and reads the views back, so
what is checked is the whole path: Avro decoded by ClickHouse, facts read back, per-customer
refold, versioned upserts and retractions, ``FINAL`` reads.

Times: :data:`~tests.factories.BASE_TIME` is Monday 2024-03-04 09:30 at UTC+08:00, and
``minutes`` count from it, so ``minutes=690`` is 21:00 local and ``DAY`` is one day later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from events.log import Entry, EventLog
from events.log.memory import MemoryEventLog
from events.touchpoint import Actor, Touchpoint
from projections.clickhouse import ViewStore
from projections.policy import UnitCosts
from projections.projector import Projector
from projections.scenes import episode_id
from projections.views import (
    ChannelView,
    ComplianceView,
    CustomerView,
    JourneyView,
    SceneView,
    standard_folds,
)
from schemas.serde import TouchpointSerde
from tests.factories import BASE_TIME, make_touchpoint

SERDE = TouchpointSerde()
DAY = 24 * 60
HOUR = 60
COSTS = UnitCosts()


# -- helpers -----------------------------------------------------------------------------------


def append(log: EventLog, touchpoints: list[Touchpoint]) -> None:
    log.append([Entry(str(tp.event_id), tp.customer_id, SERDE.encode(tp)) for tp in touchpoints])


def projector(log: EventLog, store: ViewStore, batch_size: int = 4) -> Projector:
    return Projector(log, store, folds=standard_folds(store), batch_size=batch_size)


def project(store: ViewStore, touchpoints: list[Touchpoint]) -> tuple[MemoryEventLog, Projector]:
    """``touchpoints`` appended to a new log and projected into ``store`` (small batches, so
    one customer's history is folded over several batches)."""
    log = MemoryEventLog(partitions=2)
    append(log, touchpoints)
    runner = projector(log, store)
    stats = runner.run_once()
    assert stats.events == len(touchpoints)
    assert stats.undecodable == ()
    return log, runner


def checksums(store: ViewStore) -> dict[str, int]:
    return {
        "journey": JourneyView(store).checksum(),
        "scenes": SceneView(store).checksum(),
        "violations": ComplianceView(store).checksum(),
        "customers": CustomerView(store).checksum(),
        "channels": ChannelView(store).checksum(),
    }


@pytest.fixture
def reference(view_store: ViewStore) -> Iterator[ViewStore]:
    """A second database on the same engine, for from-scratch projections to compare with."""
    store = ViewStore(view_store.client, view_store.database + "_ref")
    store.ensure()
    try:
        yield store
    finally:
        store.drop()


def tp(customer: str, kind: str, channel: str, minutes: float, **fields: Any) -> Touchpoint:
    return make_touchpoint(customer, kind, channel, minutes=minutes, **fields)


def at(minutes: float) -> datetime:
    """The UTC instant ``minutes`` after BASE_TIME, as the views return it."""
    return (BASE_TIME + timedelta(minutes=minutes)).astimezone(UTC)


def agent(name: str) -> Actor:
    return Actor(type="agent", id=name)


# -- scenes ------------------------------------------------------------------------------------


def scene_history() -> dict[str, Touchpoint]:
    """Customer S1: five episodes.

    * ``A`` case K1 (outage): a phone complaint handled on the same call, a callback promised
      and never made, the case resolved by e-mail two hours later by another agent;
    * ``K2`` case K2 (outage), opened while A is still open: a different case never joins it;
    * ``B`` billing inquiry on day 1, never answered (open);
    * ``C`` billing inquiry on day 10 (more than the 7-day gap after B), answered and resolved
      on the chat;
    * ``D`` billing inquiry on day 12, after C was resolved: a repeat, so C is not FCR.
    """
    complaint = tp("S1", "complaint", "phone", 0, case_id="K1", contact_id="CT1", wait_seconds=30)
    inquiry_c = tp("S1", "inquiry", "chat", 10 * DAY, service_type="billing")
    return {
        "complaint": complaint,
        "handled": tp(
            "S1",
            "contact_handled",
            "phone",
            4,
            case_id="K1",
            contact_id="CT1",
            parent_event_id=str(complaint.event_id),
            actor=agent("A1"),
            outcome="promised",
            handle_seconds=240,
        ),
        "promised": tp(
            "S1",
            "callback_promised",
            "phone",
            5,
            case_id="K1",
            parent_event_id=str(complaint.event_id),
            actor=agent("A1"),
        ),
        "resolved": tp(
            "S1", "case_resolved", "email", 120, case_id="K1", actor=agent("A2"), outcome="resolved"
        ),
        "k2": tp("S1", "complaint", "web", 10, case_id="K2"),
        "inquiry_b": tp("S1", "inquiry", "chat", DAY, service_type="billing"),
        "inquiry_c": inquiry_c,
        "answer_c": tp(
            "S1",
            "contact_handled",
            "chat",
            10 * DAY + 10,
            service_type="billing",
            parent_event_id=str(inquiry_c.event_id),
            actor=agent("A3"),
            outcome="resolved",
            handle_seconds=100,
        ),
        "inquiry_d": tp("S1", "inquiry", "web", 12 * DAY, service_type="billing"),
    }


@pytest.fixture
def scenes(view_store: ViewStore) -> tuple[SceneView, dict[str, Touchpoint]]:
    history = scene_history()
    project(view_store, list(history.values()))
    return SceneView(view_store), history


def eid(touchpoint: Touchpoint) -> str:
    return str(touchpoint.event_id)


def test_for_customer_lists_the_episodes_split_by_case_and_gap(
    scenes: tuple[SceneView, dict[str, Touchpoint]],
) -> None:
    view, h = scenes

    found = view.for_customer("S1")

    members = [
        ["complaint", "handled", "promised", "resolved"],
        ["k2"],
        ["inquiry_b"],
        ["inquiry_c", "answer_c"],
        ["inquiry_d"],
    ]
    assert [row["event_ids"] for row in found] == [[eid(h[m]) for m in ms] for ms in members]
    assert [row["episode_id"] for row in found] == [
        episode_id("S1", eid(h[ms[0]])) for ms in members
    ]
    assert [row["case_id"] for row in found] == ["K1", "K2", None, None, None]
    assert [row["service_type"] for row in found] == ["outage", "outage"] + ["billing"] * 3
    assert [row["status"] for row in found] == ["resolved", "open", "open", "resolved", "open"]
    assert [row["first_contact_resolution"] for row in found] == [True, None, None, False, None]
    assert [row["started_at"] for row in found] == [
        at(0),
        at(10),
        at(DAY),
        at(10 * DAY),
        at(12 * DAY),
    ]
    assert view.for_customer("nobody") == []


def test_a_scene_row_carries_path_handoffs_costs_and_pairings(
    scenes: tuple[SceneView, dict[str, Touchpoint]],
) -> None:
    view, h = scenes

    a = view.for_customer("S1")[0]

    assert a["customer_id"] == "S1"
    assert a["started_offset_minutes"] == 8 * 60
    assert (a["started_at"], a["ended_at"]) == (at(0), at(120))
    assert a["touchpoints"] == 4
    # CT1 (complaint + handling on one call), the promise, the resolution e-mail.
    assert (a["contacts"], a["inbound_contacts"]) == (3, 1)
    assert a["channel_path"] == ["phone", "email"]
    assert a["channels"] == ["phone", "email"]
    assert a["entry_channel"] == "phone"
    assert [(x["kind"], x["source"], x["target"], x["event_id"]) for x in a["handoffs"]] == [
        ("channel", "phone", "email", eid(h["resolved"])),
        ("agent", "A1", "A2", eid(h["resolved"])),
    ]
    assert a["first_resolved_at"] == a["resolved_at"] == at(120)
    assert a["time_to_resolution_seconds"] == 2 * 3600
    assert (a["reopened"], a["outcome"]) == (0, "resolved")
    assert (a["satisfaction"], a["feedback_count"]) == (None, 0)
    assert (a["wait_seconds"], a["handle_seconds"]) == (30.0, 240.0)
    # phone complaint 6.00 + phone handling 6.00 + promise (free) + e-mail resolution 1.50
    assert a["cost"] == pytest.approx(13.5)
    assert [(p["event_id"], p["kind"], p["status"]) for p in a["pairings"]] == [
        (eid(h["complaint"]), "complaint", "answered"),
        (eid(h["promised"]), "callback_promised", "open"),
    ]
    answered, promise = a["pairings"]
    assert (answered["execution_event_id"], answered["execution_kind"]) == (
        eid(h["handled"]),
        "contact_handled",
    )
    assert (answered["at"], answered["executed_at"]) == (at(0), at(4))
    assert promise["execution_event_id"] is promise["executed_at"] is None
    assert a["unmatched_promises"] == 1


def test_get_returns_one_episode_by_id(scenes: tuple[SceneView, dict[str, Touchpoint]]) -> None:
    view, h = scenes
    listed = {row["episode_id"]: row for row in view.for_customer("S1")}

    c = view.get(episode_id("S1", eid(h["inquiry_c"])))

    assert c is not None
    assert c == listed[c["episode_id"]]
    assert (c["channel_path"], c["entry_channel"]) == (["chat"], "chat")
    assert c["pairings"][0]["status"] == "answered"
    assert c["time_to_resolution_seconds"] == 600
    assert view.get(episode_id("S1", eid(h["answer_c"]))) is None  # not a first touchpoint
    assert view.get(str(uuid.uuid4())) is None


def test_membership_and_totals(scenes: tuple[SceneView, dict[str, Touchpoint]]) -> None:
    view, h = scenes

    assert view.membership() == (len(h), len(h))
    assert view.count() == 5
    assert view.totals() == {
        "episodes": 5,
        "open": 3,
        "resolved": 2,
        "first_contact_resolved": 1,
        "fcr_eligible": 2,
        "fcr_rate": 0.5,
        "unmatched_promises": 1,
        # A took 2 h, C 10 min.
        "mean_time_to_resolution_hours": pytest.approx((2 + 10 / 60) / 2),
    }


def test_totals_of_an_empty_view(view_store: ViewStore) -> None:
    view = SceneView(view_store)
    view.ensure()

    assert view.membership() == (0, 0)
    totals = view.totals()
    assert (totals["episodes"], totals["fcr_rate"], totals["mean_time_to_resolution_hours"]) == (
        0,
        None,
        None,
    )


# -- late arrivals, retractions and re-delivery ----------------------------------------------


def gap_history() -> list[Touchpoint]:
    """L1: two outage inquiries ten days apart (more than the 7-day gap): two episodes."""
    return [tp("L1", "inquiry", "phone", 0), tp("L1", "inquiry", "web", 10 * DAY)]


def late(minutes: float, channel: str = "app") -> Touchpoint:
    """An L1 inquiry that happened at ``minutes`` but was recorded after everything else."""
    return tp("L1", "inquiry", channel, minutes, recorded_at=BASE_TIME + timedelta(days=30))


@pytest.mark.parametrize("resumed", [False, True], ids=["warm", "cold"])
def test_a_late_arrival_merging_two_episodes_retracts_the_stale_one(
    view_store: ViewStore, reference: ViewStore, resumed: bool
) -> None:
    first, second = gap_history()
    log, runner = project(view_store, [first, second])
    view = SceneView(view_store)
    stale = episode_id("L1", eid(second))
    assert [row["episode_id"] for row in view.for_customer("L1")] == [
        episode_id("L1", eid(first)),
        stale,
    ]

    arrival = late(5 * DAY)  # 5 days after the first, 5 before the second: bridges the gap
    append(log, [arrival])
    if resumed:  # a restarted projector: the history and the stored keys come from ClickHouse
        runner = projector(log, view_store)
    stats = runner.run_once()

    assert stats.folds.retracted >= 1
    (merged,) = view.for_customer("L1")
    assert merged["episode_id"] == episode_id("L1", eid(first))
    assert merged["event_ids"] == [eid(first), eid(arrival), eid(second)]
    assert merged["channel_path"] == ["phone", "app", "web"]
    assert view.get(stale) is None
    assert view.membership() == (3, 3)
    projector(log, reference).run_once()
    assert checksums(view_store) == checksums(reference)


def test_a_late_first_touchpoint_renames_the_episode(
    view_store: ViewStore, reference: ViewStore
) -> None:
    first, second = gap_history()
    log, runner = project(view_store, [first, second])
    old = episode_id("L1", eid(first))

    arrival = late(-2 * DAY)
    append(log, [arrival])
    runner.run_once()

    view = SceneView(view_store)
    assert view.get(old) is None
    renamed = view.get(episode_id("L1", eid(arrival)))
    assert renamed is not None
    assert renamed["event_ids"] == [eid(arrival), eid(first)]
    assert renamed["started_at"] == at(-2 * DAY)
    assert view.count() == 2
    projector(log, reference).run_once()
    assert checksums(view_store) == checksums(reference)


def test_re_delivering_every_batch_changes_no_checksum(view_store: ViewStore) -> None:
    history = [*scene_history().values(), *gap_history(), *silence_history()]
    log, runner = project(view_store, history)
    before = checksums(view_store)

    runner.positions.reset("views")
    again = runner.run_once()
    assert again.events == len(history)
    assert checksums(view_store) == before

    runner.positions.reset("views")
    cold = projector(log, view_store, batch_size=3).run_once()
    assert cold.events == len(history)
    assert checksums(view_store) == before


def test_a_closure_at_the_instant_of_its_request_does_not_precede_it(
    view_store: ViewStore,
) -> None:
    request = tp("T1", "complaint", "phone", 0, case_id="K9", event_id=uuid.UUID(int=2**128 - 1))
    closure = tp(
        "T1",
        "case_closed",
        "other",
        0,
        case_id="K9",
        parent_event_id=str(request.event_id),
        outcome="resolved",
        event_id=uuid.UUID(int=1),
    )
    project(view_store, [request, closure])

    (scene,) = SceneView(view_store).for_customer("T1")

    assert scene["episode_id"] == episode_id("T1", eid(request))
    assert scene["entry_channel"] == "phone"
    assert scene["first_contact_resolution"] is True


# -- compliance --------------------------------------------------------------------------------


def silence_history() -> list[Touchpoint]:
    """Q1: an inquiry, then 91 days of silence, then a phone callback (09:40 on a Monday)."""
    return [tp("Q1", "inquiry", "web", 0), tp("Q1", "callback", "phone", 91 * DAY + 10)]


def test_an_outbound_sms_at_nine_in_the_evening_breaks_the_window(view_store: ViewStore) -> None:
    sms = tp("N1", "notification_sent", "sms", 11.5 * HOUR)  # 21:00 local, Monday
    exempt = [
        tp("N1", "outage_notice", "sms", 11.5 * HOUR + 1),  # service-critical kind
        tp("N1", "notification_sent", "letter", 11.5 * HOUR + 2),  # does not reach a person
        tp("N1", "notification_sent", "sms", 10),  # 09:40, inside the morning window
        tp("N1", "inquiry", "sms", 11.5 * HOUR + 3),  # inbound: the customer may write any time
    ]
    project(view_store, [sms, *exempt])

    view = ComplianceView(view_store)
    assert view.list() == [
        {
            "customer_id": "N1",
            "event_id": eid(sms),
            "rule": "dnd_window",
            "occurred_at": at(11.5 * HOUR),
            "local_time": "2024-03-04 21:00 Mon UTC+0800",
            "channel": "sms",
            "kind": "notification_sent",
            "detail": "21:00 local is outside 09:30-12:00, 14:00-17:30",
        }
    ]
    assert view.counts() == {"dnd_window": {"sms": 1}}
    assert view.list(rule="silence_real_time") == []


def test_a_late_inbound_contact_ending_the_silence_retracts_the_violation(
    view_store: ViewStore, reference: ViewStore
) -> None:
    inquiry, callback = silence_history()
    evening = tp("Q1", "notification_sent", "sms", 11.5 * HOUR)  # a window breach that stays
    log, runner = project(view_store, [inquiry, evening, callback])
    view = ComplianceView(view_store)
    (silence,) = view.list(rule="silence_real_time")
    assert (silence["event_id"], silence["channel"]) == (eid(callback), "phone")
    # Silent since the evening SMS (day 0, 21:00) until the callback (day 91, 09:40).
    assert silence["detail"].startswith("first contact after 90 days of silence")
    assert view.counts() == {"dnd_window": {"sms": 1}, "silence_real_time": {"phone": 1}}

    reply = tp("Q1", "inquiry", "web", 60 * DAY, recorded_at=BASE_TIME + timedelta(days=95))
    append(log, [reply])
    stats = runner.run_once()

    assert stats.folds.retracted == 1
    assert view.list(rule="silence_real_time") == []
    assert view.counts() == {"dnd_window": {"sms": 1}}
    assert view.count() == 1
    projector(log, reference).run_once()
    assert checksums(view_store) == checksums(reference)


def test_compliance_lists_and_counts_by_date(view_store: ViewStore) -> None:
    monday = tp("W1", "notification_sent", "sms", 11.5 * HOUR)  # Mon 21:00 local
    saturday = tp("W1", "notification_sent", "email", 5 * DAY + 30)  # Sat 10:00 local
    project(view_store, [monday, saturday])
    view = ComplianceView(view_store)

    assert [v["event_id"] for v in view.list()] == [eid(monday), eid(saturday)]
    assert view.list()[1]["detail"] == "Saturday is not a working day"
    assert [v["event_id"] for v in view.list(since=date(2024, 3, 5))] == [eid(saturday)]
    assert [v["event_id"] for v in view.list(until=date(2024, 3, 4))] == [eid(monday)]
    assert [v["event_id"] for v in view.list(limit=1)] == [eid(monday)]
    assert view.counts(since=date(2024, 3, 9)) == {"dnd_window": {"email": 1}}
    assert view.counts(until=date(2024, 3, 1)) == {}


def test_compliance_dates_are_local_dates(view_store: ViewStore) -> None:
    """07:00 on Tuesday at UTC+08:00 is still Monday in UTC: filters go by the local date."""
    early = tp("W2", "notification_sent", "sms", DAY - 2.5 * HOUR)
    project(view_store, [early])
    view = ComplianceView(view_store)

    (violation,) = view.list()
    assert violation["local_time"] == "2024-03-05 07:00 Tue UTC+0800"
    assert [v["event_id"] for v in view.list(since=date(2024, 3, 5))] == [eid(early)]
    assert view.list(until=date(2024, 3, 4)) == []
    assert view.counts(since=date(2024, 3, 5), until=date(2024, 3, 5)) == {"dnd_window": {"sms": 1}}


# -- customers ---------------------------------------------------------------------------------


def customer_history() -> list[Touchpoint]:
    """P1 over 100 days: a phone complaint handled and resolved at once, two web inquiries on
    days 10 and 15 (one open episode), an internal assignment, an app complaint on day 100."""
    complaint = tp("P1", "complaint", "phone", 0)
    return [
        complaint,
        tp(
            "P1",
            "contact_handled",
            "phone",
            5,
            parent_event_id=str(complaint.event_id),
            actor=agent("A1"),
            outcome="resolved",
        ),
        tp("P1", "inquiry", "web", 10 * DAY, service_type="billing"),
        tp("P1", "inquiry", "web", 15 * DAY, service_type="billing"),
        tp(
            "P1",
            "case_assigned",
            "other",
            15 * DAY + 1,
            service_type="billing",
            direction="internal",
            actor=Actor(type="system"),
        ),
        tp("P1", "complaint", "app", 100 * DAY),
    ]


def test_customer_profile_relative_to_as_of(view_store: ViewStore) -> None:
    history = customer_history()
    project(view_store, history)
    view = CustomerView(view_store)

    profile = view.get("P1", as_of=at(100 * DAY + HOUR))

    assert profile is not None
    assert profile["touchpoints"] == 6
    assert (profile["contacts"], profile["inbound"], profile["outbound"]) == (5, 4, 1)
    assert profile["by_channel"] == {"phone": 2, "web": 2, "app": 1}
    assert profile["preferred_channel"] == "web"
    assert profile["self_service_share"] == 0.0
    assert profile["complaints"] == 2
    assert profile["last_complaint_at"] == at(100 * DAY)
    assert (profile["first_contact_at"], profile["last_contact_at"]) == (at(0), at(100 * DAY))
    assert profile["service_types"] == ["billing", "outage"]
    assert profile["complaints_last_90_days"] == 1
    assert profile["contacts_last_90_days"] == 2  # the day-15 inquiry and the day-100 complaint
    assert (profile["recency_days"], profile["tenure_days"]) == (0, 100)
    web, app = profile["open_episodes"]
    assert (web["service_type"], web["touchpoints"], web["started_at"]) == (
        "billing",
        3,
        at(10 * DAY),
    )
    assert (app["service_type"], app["touchpoints"], app["started_at"]) == (
        "outage",
        1,
        at(100 * DAY),
    )


def test_customer_figures_move_with_as_of(view_store: ViewStore) -> None:
    project(view_store, customer_history())
    view = CustomerView(view_store)

    day_50 = view.get("P1", as_of=at(50 * DAY))
    day_95 = view.get("P1", as_of=at(95 * DAY))

    assert day_50 is not None and day_95 is not None
    assert day_50["complaints_last_90_days"] == 1  # the day-0 complaint
    assert day_50["contacts_last_90_days"] == 4
    assert (day_50["recency_days"], day_50["tenure_days"]) == (35, 50)
    assert [e["started_at"] for e in day_50["open_episodes"]] == [at(10 * DAY)]
    assert day_95["complaints_last_90_days"] == 0  # day 0 fell out, day 100 is still ahead
    assert day_95["contacts_last_90_days"] == 2


def test_as_of_in_another_time_zone_is_the_same_instant(view_store: ViewStore) -> None:
    project(view_store, customer_history())
    view = CustomerView(view_store)
    moment = BASE_TIME + timedelta(days=100, hours=1)  # aware, UTC+08:00

    local = view.get("P1", as_of=moment)
    utc = view.get("P1", as_of=moment.astimezone(UTC))

    assert local is not None and utc is not None
    assert local["complaints_last_90_days"] == utc["complaints_last_90_days"] == 1
    assert len(local["open_episodes"]) == len(utc["open_episodes"]) == 2


def test_customer_as_of_defaults_to_the_latest_event_time(view_store: ViewStore) -> None:
    project(view_store, customer_history())
    view = CustomerView(view_store)

    profile = view.get("P1")

    assert profile is not None
    assert profile["as_of"] == view.watermark() == at(100 * DAY)
    assert profile["complaints_last_90_days"] == 1


def test_an_unknown_customer_is_none(view_store: ViewStore) -> None:
    project(view_store, customer_history())

    assert CustomerView(view_store).get("nobody", as_of=at(0)) is None


# -- channels ----------------------------------------------------------------------------------


def channel_history() -> list[Touchpoint]:
    """Monday: H1's phone complaint handled on the call (resolved, FCR); H2's web inquiry
    answered on the chat (resolved, but H2 asks again 40 minutes later: not FCR), and the
    repeat (open). Tuesday 07:00 local (still Monday in UTC): H1's phone inquiry on billing,
    open, and an SMS to H1 that joins it."""
    complaint = tp("H1", "complaint", "phone", 0, wait_seconds=20)
    question = tp("H2", "inquiry", "web", 10)
    tuesday = DAY - 2.5 * HOUR
    return [
        complaint,
        tp(
            "H1",
            "contact_handled",
            "phone",
            5,
            parent_event_id=str(complaint.event_id),
            actor=agent("A1"),
            outcome="resolved",
            handle_seconds=300,
        ),
        question,
        tp(
            "H2",
            "contact_handled",
            "chat",
            20,
            parent_event_id=str(question.event_id),
            actor=agent("A2"),
            outcome="resolved",
            handle_seconds=100,
        ),
        tp("H2", "inquiry", "web", 60),
        tp("H1", "inquiry", "phone", tuesday, service_type="billing", wait_seconds=40),
        tp("H1", "notification_sent", "sms", tuesday + 5, service_type="billing"),
    ]


MONDAY, TUESDAY = date(2024, 3, 4), date(2024, 3, 5)
#: Unit costs of a contact on each channel, from the defaults (none of these kinds is free).
PHONE, WEB, CHAT, SMS = (COSTS.cost(c, "inquiry") for c in ("phone", "web", "chat", "sms"))


def test_channel_defaults_are_the_documented_unit_costs() -> None:
    assert (PHONE, WEB, CHAT, SMS) == (6.0, 0.2, 2.0, 0.05)


@pytest.fixture
def channels(view_store: ViewStore) -> ChannelView:
    project(view_store, channel_history())
    return ChannelView(view_store)


def test_channel_totals(channels: ChannelView) -> None:
    totals = {row["channel"]: row for row in channels.totals()}

    assert [row["channel"] for row in channels.totals()] == ["phone", "web", "chat", "sms"]
    expected = {
        # volume, inbound, outbound, handled, cost, days
        "phone": (3, 2, 1, 1, 3 * PHONE, 2),
        "web": (2, 2, 0, 0, 2 * WEB, 1),
        "chat": (1, 0, 1, 1, CHAT, 1),
        "sms": (1, 0, 1, 0, SMS, 1),
    }
    for channel, (volume, inbound, outbound, handled, cost, days) in expected.items():
        row = totals[channel]
        assert (row["volume"], row["inbound"], row["outbound"], row["handled"]) == (
            volume,
            inbound,
            outbound,
            handled,
        ), channel
        assert row["cost"] == pytest.approx(cost), channel
        assert row["days"] == days, channel
    # Episodes by entry channel: phone E1 (resolved, FCR) and the Tuesday inquiry (open);
    # web: H2's answered inquiry (resolved, not FCR: asked again) and the repeat (open).
    phone, web, chat, sms = (totals[c] for c in ("phone", "web", "chat", "sms"))
    assert (phone["episodes"], phone["resolved_episodes"], phone["fcr_eligible"]) == (2, 1, 1)
    assert phone["fcr_rate"] == 1.0
    assert phone["cost_per_resolved_episode"] == pytest.approx(2 * PHONE)
    assert (web["episodes"], web["resolved_episodes"], web["fcr_eligible"]) == (2, 1, 1)
    assert web["fcr_rate"] == 0.0
    # What resolving the web inquiry cost, on every channel it used: web + chat.
    assert web["cost_per_resolved_episode"] == pytest.approx(WEB + CHAT)
    for quiet in (chat, sms):
        assert (quiet["episodes"], quiet["fcr_rate"], quiet["cost_per_resolved_episode"]) == (
            0,
            None,
            None,
        )


def test_channel_daily_rows_use_the_local_day(channels: ChannelView) -> None:
    daily = {(row["channel"], row["day"]): row for row in channels.daily()}

    assert sorted(daily) == [
        ("chat", MONDAY),
        ("phone", MONDAY),
        ("phone", TUESDAY),
        ("sms", TUESDAY),
        ("web", MONDAY),
    ]
    monday, tuesday = daily["phone", MONDAY], daily["phone", TUESDAY]
    assert (monday["volume"], monday["inbound"], monday["outbound"], monday["handled"]) == (
        2,
        1,
        1,
        1,
    )
    assert (monday["avg_wait_seconds"], monday["avg_handle_seconds"]) == (20.0, 300.0)
    assert monday["satisfaction"] is None
    assert monday["cost"] == pytest.approx(2 * PHONE)
    assert (monday["episodes"], monday["fcr_episodes"], monday["fcr_rate"]) == (1, 1, 1.0)
    assert (tuesday["volume"], tuesday["episodes"], tuesday["resolved_episodes"]) == (1, 1, 0)
    assert (tuesday["fcr_rate"], tuesday["cost_per_resolved_episode"]) == (None, None)
    assert (tuesday["avg_wait_seconds"], tuesday["avg_handle_seconds"]) == (40.0, None)


def test_channel_date_filters(channels: ChannelView) -> None:
    tuesday = channels.daily(since=TUESDAY)
    assert [(row["channel"], row["day"]) for row in tuesday] == [
        ("phone", TUESDAY),
        ("sms", TUESDAY),
    ]
    assert channels.daily(since=TUESDAY, until=TUESDAY) == tuesday
    assert channels.daily(until=date(2024, 3, 3)) == []

    monday = {row["channel"]: row for row in channels.totals(until=MONDAY)}
    assert set(monday) == {"phone", "web", "chat"}
    assert (monday["phone"]["volume"], monday["phone"]["episodes"]) == (2, 1)
    assert monday["phone"]["cost_per_resolved_episode"] == pytest.approx(2 * PHONE)
    assert channels.totals(since=date(2024, 3, 6)) == []


def test_channel_checksum_follows_the_content(view_store: ViewStore, reference: ViewStore) -> None:
    history = channel_history()
    project(view_store, history)
    log, runner = project(reference, list(reversed(history)))
    assert ChannelView(view_store).checksum() == ChannelView(reference).checksum()

    append(log, [tp("H3", "inquiry", "web", 30)])
    runner.run_once()
    assert ChannelView(view_store).checksum() != ChannelView(reference).checksum()
