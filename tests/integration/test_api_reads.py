"""Every read and action of the API on a real platform: the answers, personal fields per role,
the trail of reads, the alert workflow, evaluations and the signed export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from replay.bundle import verify_bundle
from services.security import Role
from tests.integration.api_support import EXPORT_MOMENT, World, world

__all__ = ["world"]


def reads_of(world: World, customer: str, what: str) -> list[dict[str, Any]]:
    answer = world.get(Role.ADMIN, "/v1/reads", params={"customer": customer, "what": what})
    assert answer.status_code == 200
    rows: list[dict[str, Any]] = answer.json()
    return rows


def clear_name(world: World, customer: str) -> str:
    """The customer's name as submitted (the test's own records, not the API)."""
    names = [
        r["customer"]["name"]
        for r in world.records
        if r["customer"].get("id") == customer and r["customer"].get("name")
    ]
    assert names, "the generator gives every customer a name"
    return str(names[-1])


def test_the_journey_answers_with_every_touchpoint_and_records_the_read(world: World) -> None:
    customer = world.customer_with_alerts()
    before = len(reads_of(world, customer, "journey"))
    answer = world.get(Role.SUPERVISOR, f"/v1/customers/{customer}/journey")
    assert answer.status_code == 200
    data = answer.json()
    expected = len(world.platform.journey_view.timeline(customer))
    assert len(data["touchpoints"]) == expected > 0
    trail = reads_of(world, customer, "journey")
    assert len(trail) == before + 1
    assert trail[0]["by"] == world.names[Role.SUPERVISOR]


def test_personal_fields_are_clear_for_agents_and_admins_and_masked_for_the_rest(
    world: World,
) -> None:
    customer = world.customer_with_alerts()
    name = clear_name(world, customer)
    for role in Role:
        if role is Role.INGEST:
            continue
        journey = world.get(role, f"/v1/customers/{customer}/journey").json()
        profile = world.get(role, f"/v1/customers/{customer}").json()
        shown = journey["customer"]
        revealing = role in (Role.AGENT, Role.ADMIN)
        assert shown["personal_masked"] is not revealing, role
        assert profile["identifiers"]["personal_masked"] is not revealing, role
        if revealing:
            assert shown["name"] == name
            assert profile["identifiers"]["name"] == name
        else:
            assert name not in answer_text(journey) and name not in answer_text(profile), role
            assert shown["name"].startswith("*") and shown["name"].endswith(name[-3:])


def answer_text(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


def test_as_of_shows_what_was_known_then_and_records_the_moment(world: World) -> None:
    customer = world.customer_with_alerts()
    entries = world.platform.journey_view.timeline(customer)
    middle = entries[len(entries) // 2].recorded_at.isoformat()
    answer = world.get(Role.AUDITOR, f"/v1/customers/{customer}/journey", params={"as_of": middle})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    known = data["known"]["touchpoints"]
    assert 0 < len(known) < len(entries)
    moment = datetime.fromisoformat(data["as_of"])
    assert all(datetime.fromisoformat(tp["recorded_at"]) <= moment for tp in known)
    trail = reads_of(world, customer, "journey")
    assert trail[0]["subject"]["as_of"] == data["as_of"]


def test_a_bad_moment_is_422_naming_the_parameter(world: World) -> None:
    customer = world.customer_with_alerts()
    answer = world.get(Role.AUDITOR, f"/v1/customers/{customer}/journey?as_of=yesterday-ish")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_parameter" and error["message"].startswith("as_of:")


def test_scenes_and_one_scene_match_the_scene_view(world: World) -> None:
    customer = world.customer_with_alerts()
    scenes = world.get(Role.AGENT, f"/v1/customers/{customer}/scenes").json()["scenes"]
    stored = world.platform.scene_view.for_customer(customer)
    assert [s["episode_id"] for s in scenes] == [row["episode_id"] for row in stored]
    episode = scenes[-1]["episode_id"]
    one = world.get(Role.AGENT, f"/v1/scenes/{episode}").json()
    assert [tp["event_id"] for tp in one["touchpoints_detail"]] and set(
        tp["event_id"] for tp in one["touchpoints_detail"]
    ) == set(one["event_ids"])
    then = world.get(Role.AUDITOR, f"/v1/scenes/{episode}", params={"as_of": one["ended_at"]})
    assert then.status_code == 200 and then.json()["episode_id"] == episode
    trail = reads_of(world, customer, "scene")
    assert trail[0]["subject"]["episode_id"] == episode and "as_of" in trail[0]["subject"]
    assert world.get(Role.AGENT, "/v1/scenes/no-such-episode").status_code == 404


def test_replay_steps_through_every_touchpoint_and_is_recorded(world: World) -> None:
    customer = world.customer_with_alerts()
    answer = world.get(Role.AUDITOR, f"/v1/customers/{customer}/replay")
    assert answer.status_code == 200
    steps = answer.json()["steps"]
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) == len(world.platform.journey_view.timeline(customer))
    assert reads_of(world, customer, "replay")[0]["by"] == world.names[Role.AUDITOR]
    backwards = world.get(
        Role.AUDITOR, f"/v1/customers/{customer}/replay?from=2026-02-01&to=2026-01-01"
    )
    assert backwards.status_code == 422


def test_risk_channels_and_compliance(world: World) -> None:
    customer = world.customer_with_alerts()
    risk = world.get(Role.AGENT, f"/v1/customers/{customer}/risk").json()
    assert risk["customer_id"] == customer and risk["alerts"] > 0
    totals = world.get(Role.SUPERVISOR, "/v1/channels").json()
    volume = sum(row["volume"] for row in totals["channels"])
    assert volume == world.platform.journey_view.count()
    daily = world.get(Role.SUPERVISOR, "/v1/channels?daily=true&from=2026-01-05&to=2026-01-06")
    days = {row["day"] for row in daily.json()["channels"]}
    assert days and days <= {"2026-01-05", "2026-01-06"}
    compliance = world.get(Role.AUDITOR, "/v1/compliance?limit=5").json()
    assert len(compliance["violations"]) <= 5 and "counts" in compliance
    assert world.get(Role.SUPERVISOR, "/v1/channels?from=2026-13-01").status_code == 422
    assert world.get(Role.SUPERVISOR, "/v1/compliance?rule=nope").status_code == 422


def test_alerts_list_and_detail_with_provenance(world: World) -> None:
    rows = world.get(Role.SUPERVISOR, "/v1/alerts?status=open&limit=5").json()
    assert 0 < len(rows) <= 5 and {row["status"] for row in rows} == {"open"}
    detail = world.get(Role.SUPERVISOR, f"/v1/alerts/{rows[0]['alert_id']}").json()
    assert [tp["event_id"] for tp in detail["touchpoints"]] == detail["triggers"]
    customer = rows[0]["customer_id"]
    mine = world.get(Role.AUDITOR, "/v1/alerts", params={"customer": customer}).json()
    assert mine and {row["customer_id"] for row in mine} == {customer}
    assert world.get(Role.SUPERVISOR, "/v1/alerts/not-an-alert").status_code == 404


def test_the_alert_workflow_is_recorded_under_the_token_name(world: World) -> None:
    open_rows = world.get(Role.SUPERVISOR, "/v1/alerts?status=open&limit=100").json()
    first, second = open_rows[-1]["alert_id"], open_rows[-2]["alert_id"]
    acked = world.post(Role.SUPERVISOR, f"/v1/alerts/{first}/ack")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["history"][-1]["by"] == world.names[Role.SUPERVISOR]
    resolved = world.post(Role.ADMIN, f"/v1/alerts/{first}/resolve", json={"note": "called back"})
    assert resolved.json()["status"] == "resolved"
    again = world.post(Role.SUPERVISOR, f"/v1/alerts/{first}/ack")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    no_reason = world.post(Role.SUPERVISOR, f"/v1/alerts/{second}/dismiss", json={})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["error"]["message"]
    dismissed = world.post(
        Role.SUPERVISOR, f"/v1/alerts/{second}/dismiss", json={"reason": "duplicate"}
    )
    assert dismissed.json()["status"] == "dismissed"
    listed = {r["alert_id"]: r for r in world.get(Role.SUPERVISOR, "/v1/alerts?limit=10000").json()}
    assert listed[first]["status"] == "resolved" and listed[second]["status"] == "dismissed"


def answers_for(form: dict[str, Any]) -> dict[str, Any]:
    return {q["id"]: (4 if q["answer"] == "scale" else "yes") for q in form["questions"]}


def test_an_auditor_scores_an_episode_and_reads_it_back(world: World) -> None:
    customer = world.customer_with_alerts()
    episode = world.platform.scene_view.for_customer(customer)[0]["episode_id"]
    form = world.get(Role.AUDITOR, "/v1/evaluation-form").json()
    body = {"episode_id": episode, "answers": answers_for(form), "comment": "fine"}
    created = world.post(Role.AUDITOR, "/v1/evaluations", json=body)
    assert created.status_code == 201, created.text
    evaluation = created.json()
    assert evaluation["by"] == world.names[Role.AUDITOR] and evaluation["result"] == "pass"
    listed = world.get(Role.SUPERVISOR, "/v1/evaluations", params={"episode": episode}).json()
    assert evaluation["evaluation_id"] in {e["evaluation_id"] for e in listed}
    one = world.get(Role.AUDITOR, f"/v1/evaluations/{evaluation['evaluation_id']}")
    assert one.json()["comment"] == "fine"


def test_bad_answers_are_422_naming_every_question(world: World) -> None:
    customer = world.customer_with_alerts()
    episode = world.platform.scene_view.for_customer(customer)[0]["episode_id"]
    form = world.get(Role.AUDITOR, "/v1/evaluation-form").json()
    answers = answers_for(form)
    first, second = form["questions"][0]["id"], form["questions"][1]["id"]
    del answers[first]
    answers[second] = 99
    answer = world.post(
        Role.AUDITOR, "/v1/evaluations", json={"episode_id": episode, "answers": answers}
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_answers"
    assert any(first in p for p in error["details"]) and any(second in p for p in error["details"])
    missing = world.post(
        Role.AUDITOR, "/v1/evaluations", json={"episode_id": "nope", "answers": answers_for(form)}
    )
    assert missing.status_code == 404


def test_the_export_is_a_signed_zip_and_is_recorded(world: World) -> None:
    customer = world.customer_with_alerts()
    answer = world.get(Role.AUDITOR, f"/v1/customers/{customer}/export")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    report = verify_bundle(answer.content)
    assert report.intact, report.to_json()
    assert report.to_json()["created_at"] == EXPORT_MOMENT.isoformat()
    trail = reads_of(world, customer, "export")
    assert trail[0]["by"] == world.names[Role.AUDITOR]
    assert trail[0]["subject"]["chain_head"] == answer.headers["X-Chain-Head"]
    assert world.get(Role.AUDITOR, "/v1/customers/nobody/export").status_code == 404


def test_admins_manage_tokens_and_secrets_never_come_back(world: World) -> None:
    created = world.post(Role.ADMIN, "/v1/tokens", json={"name": "bot-7", "roles": ["ingest"]})
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = world.get(Role.ADMIN, "/v1/tokens")
    assert secret not in listed.text and secret.split("_", 2)[2] not in listed.text
    assert "bot-7" in {row["name"] for row in listed.json()}
    bad = world.post(Role.ADMIN, "/v1/tokens", json={"name": "x y", "roles": ["ingest"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_token_request"
    unknown_role = world.post(Role.ADMIN, "/v1/tokens", json={"name": "z", "roles": ["root"]})
    assert unknown_role.status_code == 422


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/alerts/x/explode"])
def test_unknown_paths_answer_in_the_error_shape(world: World, path: str) -> None:
    answer = world.get(Role.ADMIN, path)
    assert answer.status_code in (404, 405)
    assert set(answer.json()["error"]) == {"code", "message", "details"}
