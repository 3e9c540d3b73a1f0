"""The decisions-application contract: every store (memory, SQLite, PostgreSQL) must pass it all.

Subclass :class:`DecisionsAppContract` and provide a ``url`` fixture naming a fresh, empty store
for :class:`~services.decisions.DecisionsApp`. Set :attr:`DecisionsAppContract.durable` to
``False`` for a store that does not outlive its application (``memory:``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from projections.risk.decisions import (
    ALERT,
    FLAG_EXPIRED,
    FLAG_RAISED,
    FLAG_RENEWED,
    Decision,
    decision_id,
)
from services.decisions import AlertNotFound, DecisionsApp, InvalidTransition, risk_id
from services.decisions.messages import (
    ALERTS_TOPIC,
    FLAGS_TOPIC,
    Message,
    MessageSerdes,
    message_id,
    to_message,
)
from tests.factories import FOLD_EPOCH_US

NOW = "2026-01-01T00:00:00+00:00"
HOUR_US = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def alert(
    customer_id: str = "C1",
    n: int = 0,
    *,
    rule_id: str = "repeat_request",
    hours: float = 0,
    severity: str = "warning",
    decision_id_: str | None = None,
) -> Decision:
    """An alert decision ``hours`` after the fold epoch; the id is derived from the args."""
    at = FOLD_EPOCH_US + round(hours * HOUR_US)
    return Decision(
        decision_id=decision_id_ or decision_id(rule_id, 1, customer_id, f"t{n}"),
        rule_id=rule_id,
        rule_version=1,
        customer_id=customer_id,
        action=ALERT,
        at=at,
        due=at + 2_000_000,
        service_type="billing",
        severity=severity,
        triggers=(f"{customer_id}-t{n}-a", f"{customer_id}-t{n}-b"),
        summary=f"{rule_id} for {customer_id} #{n}",
        reasons=(f"reason {n}",),
        episodes=(f"episode-{n}",) if rule_id == "agent_warning" else (),
    )


def warning(customer_id: str = "C1", n: int = 0, *, hours: float = 0) -> Decision:
    return alert(customer_id, n, rule_id="agent_warning", hours=hours, severity="info")


def flag(customer_id: str = "C1", action: str = FLAG_RAISED, *, hours: float = 0) -> Decision:
    at = FOLD_EPOCH_US + round(hours * HOUR_US)
    return Decision(
        decision_id=decision_id("sensitive_customer", 1, customer_id, action, str(at)),
        rule_id="sensitive_customer",
        rule_version=1,
        customer_id=customer_id,
        action=action,
        at=at,
        due=at,
        service_type="billing",
        severity="warning",
        triggers=(f"{customer_id}-complaint-{hours}",),
        summary=f"{customer_id} {action}",
    )


def notification_messages(app: DecisionsApp) -> list[tuple[str, Any, Message | None]]:
    """(event class name, event, message or None) for every notification, in log order."""

    def load(originator_id: UUID, version: int) -> Any:
        return app.repository.get(originator_id, version=version)

    found = []
    for notification in app.recorder.select_notifications(1, 1000):
        event = app.mapper.to_domain_event(notification)
        found.append((type(event).__name__, event, to_message(event, load)))
    return found


def _micros(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(microseconds=1)
    return value


class DecisionsAppContract:
    #: Whether the store outlives the application (a second app on the URL sees the same data).
    durable = True

    @pytest.fixture
    def app(self, url: str) -> Iterator[DecisionsApp]:
        app = DecisionsApp(url, clock=lambda: NOW)
        try:
            yield app
        finally:
            app.close()

    # --- recording decisions ---------------------------------------------------------------

    def test_recording_creates_alerts_and_flag_changes(self, app: DecisionsApp) -> None:
        decisions = [flag("C1", hours=0), alert("C1", 1, hours=1), alert("C2", 2, hours=2)]
        assert app.recorder.max_notification_id() is None

        applied = app.record(decisions)

        assert {d.decision_id for d in applied} == {d.decision_id for d in decisions}
        assert {row.alert_id for row in app.alerts()} == {
            decisions[1].decision_id,
            decisions[2].decision_id,
        }
        risk = app.risk_of("C1")
        assert risk is not None
        assert risk.id == risk_id("C1")
        assert [c["action"] for c in risk.changes] == [FLAG_RAISED]
        assert risk.changes[0]["decision_id"] == decisions[0].decision_id
        assert risk.alert_ids == [decisions[1].decision_id]
        assert risk.sensitive
        c2 = app.risk_of("C2")
        assert c2 is not None and not c2.sensitive and c2.changes == []
        assert app.risk_of("C3") is None

    def test_recording_the_same_decisions_again_records_nothing(self, app: DecisionsApp) -> None:
        decisions = [
            flag("C1"),
            alert("C1", 1, hours=1),
            warning("C1", 2, hours=2),
            alert("C2", 3, hours=3),
        ]
        app.record(decisions)
        last = app.recorder.max_notification_id()
        assert last is not None

        again = list(decisions)
        random.Random(7).shuffle(again)
        assert app.record(again) == []
        assert app.record(decisions[:1]) == []
        assert app.recorder.max_notification_id() == last
        assert len(app.alerts()) == 3

    def test_a_decision_twice_in_one_batch_is_applied_once(self, app: DecisionsApp) -> None:
        one, raised = alert("C1", 1), flag("C1")
        applied = app.record([one, raised, one, raised])
        assert sorted(d.decision_id for d in applied) == sorted(
            [one.decision_id, raised.decision_id]
        )
        risk = app.risk_of("C1")
        assert risk is not None
        assert len(risk.changes) == 1 and risk.alert_ids == [one.decision_id]
        assert len(app.alerts()) == 1

    def test_recording_nothing_records_nothing(self, app: DecisionsApp) -> None:
        assert app.record([]) == []
        assert app.recorder.max_notification_id() is None

    def test_an_alert_id_is_its_decision_id(self, app: DecisionsApp) -> None:
        decision = alert("C1", 1, hours=5, severity="critical")
        app.record([decision])

        found = app.alert(decision.decision_id)
        assert str(found.id) == decision.decision_id == found.decision_id
        assert (found.rule_id, found.rule_version, found.customer_id) == (
            decision.rule_id,
            decision.rule_version,
            decision.customer_id,
        )
        assert (found.severity, found.service_type, found.at, found.due) == (
            "critical",
            "billing",
            decision.at,
            decision.due,
        )
        assert found.triggers == list(decision.triggers)
        assert found.reasons == list(decision.reasons)
        assert found.summary == decision.summary
        assert found.status == "open" and found.history == []
        [row] = app.alerts()
        assert row.alert_id == decision.decision_id
        assert row.status == "open" and row.triggers == len(decision.triggers)
        assert row.last_by is None and row.last_when is None

    # --- listing and lookup ----------------------------------------------------------------

    def test_alerts_are_listed_newest_first_and_filtered(self, app: DecisionsApp) -> None:
        old, middle, new = alert("C1", 1, hours=1), alert("C2", 2, hours=5), alert("C1", 3, hours=9)
        app.record([middle, old])
        app.record([new])

        assert [r.alert_id for r in app.alerts()] == [
            new.decision_id,
            middle.decision_id,
            old.decision_id,
        ]
        assert [r.alert_id for r in app.alerts(customer_id="C1")] == [
            new.decision_id,
            old.decision_id,
        ]
        assert app.alerts(customer_id="nobody") == []

        app.acknowledge(middle.decision_id, by="sup-1")
        app.acknowledge(old.decision_id, by="sup-1")
        app.resolve(old.decision_id, by="sup-1", note="called back")
        assert [r.alert_id for r in app.alerts(status="open")] == [new.decision_id]
        assert [r.alert_id for r in app.alerts(status="acknowledged")] == [middle.decision_id]
        assert [r.alert_id for r in app.alerts(status="resolved", customer_id="C1")] == [
            old.decision_id
        ]
        assert app.alerts(status="resolved", customer_id="C2") == []
        assert app.alerts(status="dismissed") == []

    def test_an_alert_is_found_by_full_id_or_unique_prefix(self, app: DecisionsApp) -> None:
        first = alert(decision_id_="aaaaaaaa-0000-4000-8000-000000000001")
        second = alert("C1", 2, decision_id_="aaaaaaaa-0000-4000-8000-000000000002")
        other = alert("C2", 3, decision_id_="bbbbbbbb-0000-4000-8000-000000000003")
        app.record([first, second, other])

        assert str(app.alert(first.decision_id).id) == first.decision_id
        assert str(app.alert(first.decision_id.upper()).id) == first.decision_id
        assert str(app.alert("bbbb").id) == other.decision_id
        assert str(app.alert("BBBBBBBB-0").id) == other.decision_id
        assert str(app.alert(second.decision_id[:-1] + "2").id) == second.decision_id

        with pytest.raises(AlertNotFound) as ambiguous:
            app.alert("aaaa")
        assert str(ambiguous.value) == "2 alerts start with 'aaaa': give more of the id"
        with pytest.raises(AlertNotFound) as missing:
            app.alert("cccc")
        assert str(missing.value) == "no alert id starts with 'cccc'"
        with pytest.raises(AlertNotFound, match="no alert id starts with ''"):
            app.alert("")
        unknown = "cccccccc-0000-4000-8000-000000000000"
        with pytest.raises(AlertNotFound) as absent:
            app.alert(unknown)
        assert str(absent.value) == f"no alert {unknown}"
        assert isinstance(absent.value, KeyError)

    def test_an_empty_prefix_names_no_alert(self, app: DecisionsApp) -> None:
        app.record([alert("C1", 1)])
        with pytest.raises(AlertNotFound, match="no alert id starts with ''"):
            app.alert("")

    def test_a_customer_risk_id_is_not_an_alert(self, app: DecisionsApp) -> None:
        app.record([flag("C1"), alert("C1", 1)])
        other_aggregate = str(risk_id("C1"))
        with pytest.raises(AlertNotFound):
            app.alert(other_aggregate)
        with pytest.raises(AlertNotFound):
            app.acknowledge(other_aggregate, by="sup-1")

    # --- the workflow ----------------------------------------------------------------------

    def test_acknowledge_then_resolve(self, app: DecisionsApp) -> None:
        decision = alert("C1", 1)
        app.record([decision])
        key = decision.decision_id

        acked = app.acknowledge(key[:8], by="sup-1")
        assert acked.status == "acknowledged"
        resolved = app.resolve(key, by="sup-2", note="refund issued")
        assert resolved.status == "resolved"

        stored = app.alert(key)
        assert stored.status == "resolved"
        assert stored.history == [
            {"status": "acknowledged", "by": "sup-1", "when": NOW},
            {"status": "resolved", "by": "sup-2", "when": NOW, "note": "refund issued"},
        ]
        [row] = app.alerts()
        assert (row.status, row.last_by) == ("resolved", "sup-2")
        assert row.last_when is not None

    def test_acknowledge_then_dismiss_and_a_dismissed_alert_is_not_resolved(
        self, app: DecisionsApp
    ) -> None:
        decision = alert("C1", 1)
        app.record([decision])
        key = decision.decision_id
        app.acknowledge(key, by="sup-1")
        app.dismiss(key, by="sup-1", reason="duplicate of another case")
        last = app.recorder.max_notification_id()

        with pytest.raises(InvalidTransition, match="is dismissed") as refused:
            app.resolve(key, by="sup-2", note="too late")
        assert key in str(refused.value)
        with pytest.raises(InvalidTransition, match="is dismissed"):
            app.acknowledge(key, by="sup-2")

        stored = app.alert(key)
        assert stored.status == "dismissed"
        assert stored.history[-1] == {
            "status": "dismissed",
            "by": "sup-1",
            "when": NOW,
            "reason": "duplicate of another case",
        }
        assert app.recorder.max_notification_id() == last
        assert [r.status for r in app.alerts()] == ["dismissed"]

    def test_acknowledging_twice_fails(self, app: DecisionsApp) -> None:
        decision = alert("C1", 1)
        app.record([decision])
        app.acknowledge(decision.decision_id, by="sup-1")
        with pytest.raises(InvalidTransition, match="is acknowledged"):
            app.acknowledge(decision.decision_id, by="sup-2")
        assert app.alert(decision.decision_id).history == [
            {"status": "acknowledged", "by": "sup-1", "when": NOW}
        ]

    def test_a_resolved_alert_is_closed(self, app: DecisionsApp) -> None:
        decision = alert("C1", 1)
        app.record([decision])
        app.resolve(decision.decision_id, by="sup-1", note="handled on first call")
        with pytest.raises(InvalidTransition, match="is resolved"):
            app.dismiss(decision.decision_id, by="sup-1", reason="changed my mind")
        with pytest.raises(InvalidTransition, match="is resolved"):
            app.resolve(decision.decision_id, by="sup-1", note="again")

    # --- withdrawals -----------------------------------------------------------------------

    def test_withdrawing_an_open_alert(self, app: DecisionsApp) -> None:
        gone, kept = alert("C1", 1, hours=1), alert("C1", 2, hours=2)
        app.record([gone, kept])

        assert app.withdraw([("C1", gone.decision_id)], "a late resolution arrived") == 1

        withdrawn = app.alert(gone.decision_id)
        assert withdrawn.status == "withdrawn"
        assert withdrawn.history == [
            {"status": "withdrawn", "by": "risk engine", "reason": "a late resolution arrived"}
        ]
        assert app.decision_ids(["C1"]) == {"C1": {kept.decision_id}}
        assert [(r.alert_id, r.status) for r in app.alerts(customer_id="C1")] == [
            (kept.decision_id, "open"),
            (gone.decision_id, "withdrawn"),
        ]
        assert app.alerts(status="withdrawn")[0].last_by == "risk engine"

        last = app.recorder.max_notification_id()
        assert app.withdraw([("C1", gone.decision_id)], "again") == 0
        assert app.withdraw([("C1", "not-a-decision"), ("nobody", gone.decision_id)], "?") == 0
        assert app.recorder.max_notification_id() == last

    def test_withdrawing_a_closed_alert_keeps_its_outcome(self, app: DecisionsApp) -> None:
        decision = alert("C1", 1)
        app.record([decision])
        app.acknowledge(decision.decision_id, by="sup-1")
        app.resolve(decision.decision_id, by="sup-1", note="customer called back")

        assert app.withdraw([("C1", decision.decision_id)], "no longer holds") == 1

        assert app.alert(decision.decision_id).status == "resolved"
        assert [r.status for r in app.alerts()] == ["resolved"]
        assert app.decision_ids(["C1"]) == {"C1": set()}

    def test_withdrawing_a_flag_change_undoes_it(self, app: DecisionsApp) -> None:
        raised = flag("C1")
        app.record([raised])
        assert app.withdraw([("C1", raised.decision_id)], "no longer holds") == 1
        risk = app.risk_of("C1")
        assert risk is not None
        assert not risk.sensitive and not risk.cleared
        assert risk.changes[0]["withdrawn"] is True

    # --- the sensitive flag ----------------------------------------------------------------

    def test_a_raised_flag_makes_the_customer_sensitive_until_it_expires(
        self, app: DecisionsApp
    ) -> None:
        app.record([flag("C1", FLAG_RAISED, hours=0)])
        risk = app.risk_of("C1")
        assert risk is not None and risk.sensitive and not risk.cleared

        app.record([flag("C1", FLAG_RENEWED, hours=24)])
        risk = app.risk_of("C1")
        assert risk is not None and risk.sensitive

        app.record([flag("C1", FLAG_EXPIRED, hours=24 * 30)])
        risk = app.risk_of("C1")
        assert risk is not None and not risk.sensitive and not risk.cleared
        assert [c["action"] for c in risk.changes] == [FLAG_RAISED, FLAG_RENEWED, FLAG_EXPIRED]

    def test_a_supervisor_clears_the_flag(self, app: DecisionsApp) -> None:
        app.record([flag("C1")])

        cleared = app.clear_flag("C1", by="sup-1", reason="complaint settled in person")

        assert not cleared.sensitive and cleared.cleared
        risk = app.risk_of("C1")
        assert risk is not None and not risk.sensitive and risk.cleared
        assert risk.changes[-1] == {
            "decision_id": "",
            "action": "flag_cleared",
            "by": "sup-1",
            "reason": "complaint settled in person",
            "when": NOW,
        }
        with pytest.raises(InvalidTransition, match="not flagged sensitive"):
            app.clear_flag("C1", by="sup-1", reason="twice")

    def test_clearing_a_customer_who_is_not_sensitive_fails(self, app: DecisionsApp) -> None:
        app.record([alert("C1", 1), flag("C2"), flag("C2", FLAG_EXPIRED, hours=48)])
        last = app.recorder.max_notification_id()
        for customer in ("C1", "C2"):
            with pytest.raises(InvalidTransition, match=f"customer {customer} is not flagged"):
                app.clear_flag(customer, by="sup-1", reason="nothing to clear")
        with pytest.raises(AlertNotFound, match="customer C3 has no risk record"):
            app.clear_flag("C3", by="sup-1", reason="unknown")
        assert app.recorder.max_notification_id() == last

    def test_warnings_after_a_clear_are_suppressed_until_the_flag_is_renewed(
        self, app: DecisionsApp
    ) -> None:
        app.record([flag("C1", hours=0), warning("C1", 1, hours=1)])
        assert [r.rule_id for r in app.alerts()] == ["agent_warning"]
        app.clear_flag("C1", by="sup-1", reason="settled")

        suppressed, other = warning("C1", 2, hours=2), alert("C1", 3, hours=2)
        applied = app.record([suppressed, other])

        assert {d.decision_id for d in applied} == {suppressed.decision_id, other.decision_id}
        assert suppressed.decision_id not in {r.alert_id for r in app.alerts()}
        assert other.decision_id in {r.alert_id for r in app.alerts()}
        with pytest.raises(AlertNotFound):
            app.alert(suppressed.decision_id)
        risk = app.risk_of("C1")
        assert risk is not None
        assert risk.decisions[suppressed.decision_id] == "suppressed"
        assert suppressed.decision_id not in risk.alert_ids
        assert suppressed.decision_id in app.decision_ids(["C1"])["C1"]
        assert app.record([suppressed]) == []

        renewal, later = flag("C1", FLAG_RENEWED, hours=3), warning("C1", 4, hours=4)
        app.record([later, renewal])  # sorted by event time: the renewal applies first
        risk = app.risk_of("C1")
        assert risk is not None and risk.sensitive and not risk.cleared
        assert app.alert(later.decision_id).status == "open"
        assert [r.rule_id for r in app.alerts(customer_id="C1")] == [
            "agent_warning",
            "repeat_request",
            "agent_warning",
        ]

    def test_decision_ids_are_the_active_decisions_of_known_customers(
        self, app: DecisionsApp
    ) -> None:
        c1 = [flag("C1"), alert("C1", 1, hours=1), alert("C1", 2, hours=2)]
        c2 = [alert("C2", 3)]
        app.record(c1 + c2)
        app.withdraw([("C1", c1[2].decision_id)], "no longer holds")

        assert app.decision_ids(["C1", "C2", "C3"]) == {
            "C1": {c1[0].decision_id, c1[1].decision_id},
            "C2": {c2[0].decision_id},
        }
        assert app.decision_ids([]) == {}

    # --- durability ------------------------------------------------------------------------

    def test_state_survives_reopening_the_store(self, app: DecisionsApp, url: str) -> None:
        if not self.durable:
            pytest.skip("this store does not outlive its application")
        first, second = alert("C1", 1, hours=1), alert("C2", 2, hours=2)
        app.record([flag("C1"), first, second])
        app.acknowledge(first.decision_id, by="sup-1")
        app.clear_flag("C1", by="sup-1", reason="settled")
        rows = app.alerts()
        last = app.recorder.max_notification_id()

        reopened = DecisionsApp(url, clock=lambda: NOW)
        try:
            assert reopened.recorder.max_notification_id() == last
            assert reopened.alerts() == rows
            assert reopened.alert(first.decision_id[:8]).history == [
                {"status": "acknowledged", "by": "sup-1", "when": NOW}
            ]
            risk = reopened.risk_of("C1")
            assert risk is not None and risk.cleared
            assert reopened.record([first, second]) == []
            reopened.resolve(second.decision_id, by="sup-2", note="done")
        finally:
            reopened.close()
        assert app.alert(second.decision_id).status == "resolved"
        assert app.alerts(status="resolved")[0].alert_id == second.decision_id

    # --- the relay's messages --------------------------------------------------------------

    def test_one_message_per_alert_change_and_flag_change(self, app: DecisionsApp) -> None:
        resolved, dismissed = alert("C1", 1, hours=1), alert("C2", 2, hours=2)
        app.record([flag("C1", hours=0), resolved, dismissed])
        app.record([flag("C1", FLAG_RENEWED, hours=10)])
        app.acknowledge(resolved.decision_id, by="sup-1")
        app.resolve(resolved.decision_id, by="sup-1", note="called back")
        app.dismiss(dismissed.decision_id, by="sup-2", reason="test data")
        app.clear_flag("C1", by="sup-3", reason="settled")
        app.record([warning("C1", 3, hours=11)])  # suppressed: publishes nothing
        app.record([flag("C1", FLAG_EXPIRED, hours=24 * 30)])

        found = notification_messages(app)
        published = [(name, m) for name, _, m in found if m is not None]
        silent = {name for name, _, m in found if m is None}

        assert silent == {"Opened", "AlertLinked", "Suppressed"}
        alerts = [m for _, m in published if m[0] == ALERTS_TOPIC]
        flags = [m for _, m in published if m[0] == FLAGS_TOPIC]
        assert len(alerts) + len(flags) == len(published)
        assert sorted((m[2]["alert_id"], m[2]["change"], m[2]["status"]) for m in alerts) == sorted(
            [
                (resolved.decision_id, "raised", "open"),
                (resolved.decision_id, "acknowledged", "acknowledged"),
                (resolved.decision_id, "resolved", "resolved"),
                (dismissed.decision_id, "raised", "open"),
                (dismissed.decision_id, "dismissed", "dismissed"),
            ]
        )
        assert [(m[2]["change"], m[2]["flagged"]) for m in flags] == [
            ("raised", True),
            ("renewed", True),
            ("cleared", False),
            ("expired", False),
        ]
        for _, key, record in alerts + flags:
            assert key == record["customer_id"]
        by_change = {m[2]["change"]: m[2] for m in alerts}
        assert by_change["raised"]["actor"] is None
        assert (by_change["resolved"]["actor"], by_change["resolved"]["note"]) == (
            "sup-1",
            "called back",
        )
        assert (by_change["dismissed"]["actor"], by_change["dismissed"]["note"]) == (
            "sup-2",
            "test data",
        )
        cleared = flags[2][2]
        assert (cleared["actor"], cleared["reason"], cleared["decision_id"]) == (
            "sup-3",
            "settled",
            None,
        )
        assert flags[0][2]["rule_id"] == "sensitive_customer"

    def test_withdrawals_publish_on_the_topic_of_what_was_withdrawn(
        self, app: DecisionsApp
    ) -> None:
        raised, gone = flag("C1"), alert("C1", 1, hours=1)
        app.record([raised, gone])
        app.clear_flag("C1", by="sup-1", reason="settled")
        suppressed = warning("C1", 2, hours=2)
        app.record([suppressed])
        start = len(notification_messages(app))

        app.withdraw(
            [
                ("C1", gone.decision_id),
                ("C1", raised.decision_id),
                ("C1", suppressed.decision_id),
            ],
            "no longer holds",
        )

        new = [m for _, _, m in notification_messages(app)[start:] if m is not None]
        assert sorted((m[0], m[2]["change"], m[2].get("decision_id")) for m in new) == sorted(
            [
                (ALERTS_TOPIC, "withdrawn", None),
                (FLAGS_TOPIC, "withdrawn", raised.decision_id),
            ]
        )
        [alert_message] = [m for m in new if m[0] == ALERTS_TOPIC]
        assert alert_message[2]["alert_id"] == gone.decision_id
        assert alert_message[2]["actor"] == "risk engine"
        assert alert_message[2]["note"] == "no longer holds"

    def test_messages_encode_decode_and_have_stable_ids(self, app: DecisionsApp) -> None:
        decision = alert("C1", 1, hours=1)
        app.record([flag("C1"), decision])
        app.acknowledge(decision.decision_id, by="sup-1")
        app.clear_flag("C1", by="sup-1", reason="settled")

        first = notification_messages(app)
        second = notification_messages(app)
        messages = [m for _, _, m in first if m is not None]
        assert messages == [m for _, _, m in second if m is not None]
        assert len({m[2]["message_id"] for m in messages}) == len(messages) == 4
        for _, event, message in first:
            if message is not None:
                assert message[2]["message_id"] == message_id(
                    event.originator_id, event.originator_version
                )

        serdes = MessageSerdes()
        for message in messages:
            topic, key, record = message
            entry = serdes.entry(message)
            assert (entry.event_id, entry.key) == (record["message_id"], key)
            decoded = serdes.decode(topic, entry.value)
            assert {k: _micros(v) for k, v in decoded.items()} == record
