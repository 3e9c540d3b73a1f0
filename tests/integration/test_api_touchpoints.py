"""``POST /v1/touchpoints``: one object, an array or NDJSON; 202 with event ids, 422 with
per-record errors when everything is rejected; rejections kept as dead letters; the balance
submitted = accepted + duplicates + rejected always holds."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import orjson

from services.security import Role
from tests.integration.api_support import World, ndjson, world

__all__ = ["world"]


def fresh(world: World, count: int = 1) -> list[dict[str, Any]]:
    """Valid records nobody posted yet (the generator's, with new source ids)."""
    made = []
    for record in world.records[:count]:
        copied = copy.deepcopy(record)
        copied["source"]["event_id"] = f"api-test-{uuid.uuid4().hex}"
        made.append(copied)
    return made


def broken(world: World) -> dict[str, Any]:
    record = fresh(world)[0]
    record["channel"] = "carrier-pigeon"
    del record["occurred_at"]
    return record


def balanced(body: dict[str, Any]) -> bool:
    return bool(body["submitted"] == body["accepted"] + body["duplicates"] + body["rejected"])


def send(world: World, body: bytes, content_type: str = "application/json") -> Any:
    headers = {**world.as_(Role.INGEST), "Content-Type": content_type}
    return world.client.post("/v1/touchpoints", content=body, headers=headers)


def test_one_object_is_taken_and_appended_to_the_log(world: World) -> None:
    record = fresh(world)[0]
    before = sum(len(world.platform.log.read(p, 0, 10**6)) for p in range(2))
    answer = send(world, orjson.dumps(record))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["submitted"], body["accepted"], body["rejected"]) == (1, 1, 0)
    (event_id,) = body["event_ids"]
    after = [r.event_id for p in range(2) for r in world.platform.log.read(p, 0, 10**6)]
    assert len(after) == before + 1 and event_id in after


def test_posting_again_counts_duplicates_and_adds_nothing(world: World) -> None:
    records = fresh(world, 3)
    first = send(world, ndjson(records), "application/x-ndjson").json()
    again = send(world, ndjson(records), "application/x-ndjson").json()
    assert first["accepted"] == 3 and again["duplicates"] == 3 and again["accepted"] == 0
    assert again["event_ids"] == first["event_ids"]


def test_a_mixed_batch_is_202_with_the_rejected_by_index(world: World) -> None:
    good = fresh(world, 2)
    bad = broken(world)
    lines = [orjson.dumps(good[0]), b"{not json", orjson.dumps(bad), orjson.dumps(good[1])]
    answer = send(world, b"\n".join(lines), "application/x-ndjson")
    assert answer.status_code == 202
    body = answer.json()
    assert (body["submitted"], body["accepted"], body["rejected"]) == (4, 2, 2)
    assert balanced(body) and len(body["event_ids"]) == 2
    errors = {e["index"]: e for e in body["errors"]}
    assert set(errors) == {1, 2}
    assert errors[1]["reason"] == "invalid_json"
    fields = {r["field"] for r in errors[2]["reasons"]}
    assert {"channel", "occurred_at"} <= fields, errors[2]
    assert all(r["message"] for e in body["errors"] for r in e["reasons"])


def test_all_rejected_is_422_and_every_record_is_a_dead_letter(world: World) -> None:
    before = world.platform.deadletters.count()
    records = [broken(world), broken(world), [1, 2]]
    answer = send(world, orjson.dumps(records))
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"]["code"] == "rejected"
    assert [e["index"] for e in body["errors"]] == [0, 1, 2]
    assert body["errors"][2]["reason"] == "not_an_object"
    assert balanced(body) and body["rejected"] == 3 and body["event_ids"] == []
    assert world.platform.deadletters.count() == before + 3
    letters = world.platform.deadletters.list()[-3:]
    assert {letter.source for letter in letters} == {f"api:{world.names[Role.INGEST]}"}
    assert [letter.line for letter in letters] == [1, 2, 3]
    assert orjson.loads(letters[0].payload)["channel"] == "carrier-pigeon"


def test_an_unreadable_body_is_one_rejected_record_kept_as_a_dead_letter(world: World) -> None:
    before = world.platform.deadletters.count()
    answer = send(world, b'{"customer": ')
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["reason"] == "invalid_json"
    assert world.platform.deadletters.count() == before + 1


def test_an_empty_body_and_a_wrong_media_type_are_refused_with_reasons(world: World) -> None:
    empty = send(world, b"\n \n", "application/x-ndjson")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty"
    xml = send(world, b"<touchpoint/>", "application/xml")
    assert xml.status_code == 415
    assert "application/x-ndjson" in xml.json()["error"]["message"]


def test_posted_touchpoints_reach_the_views_once_projected(world: World) -> None:
    record = fresh(world)[0]
    customer = record["customer"]["id"]
    world.platform.projector.run_once()  # what earlier tests posted
    before = len(world.platform.journey_view.timeline(customer))
    (event_id,) = send(world, orjson.dumps(record)).json()["event_ids"]
    world.platform.projector.run_once()
    timeline = world.platform.journey_view.timeline(customer)
    assert len(timeline) == before + 1
    assert event_id in {str(entry.event_id) for entry in timeline}
