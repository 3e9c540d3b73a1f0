"""Hostile input against the HTTP API (issue 6, item 5): nothing a caller sends makes it fail.

Two kinds of attack, both on the real app in-process (the ``world`` of :mod:`api_support`):

* **schemathesis** reads the app's own ``/openapi.json`` and fuzzes every operation with data
  that fits the schema and data that does not (positive and negative generation), as an admin
  (with random and with real ids, so reads go past the 404), as a low-privilege token, with a
  garbage token and with none. No answer may be a 5xx, every 4xx must say why in the API's one
  error shape, and a token must never get a 2xx from an operation its role does not allow.
* **hypothesis** builds NDJSON batches of touchpoints: valid ones, malformed ones (missing
  fields, wrong types, naive timestamps, scores outside 1-5, negative durations, a complaint
  sent outbound, huge strings, nested junk), unicode, duplicates and lines that are not JSON.
  Every response balances (submitted = accepted + duplicates + rejected), every rejection
  names the field and the rule it broke, the log grows by exactly the accepted records and the
  dead-letter store by exactly the rejected ones.

Everything is derandomized (``derandomize=True``) and bounded (examples per operation), so the
module runs the same way every time in well under two minutes.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from events.deadletter import DeadLetter
from events.deadletter.sqlite import SqliteDeadLetterStore
from services.security import Role
from tests.integration.api_support import World, bearer, world

__all__ = ["world"]

# ---------------------------------------------------------------------------------------------
# schemathesis: every operation of the OpenAPI schema
# ---------------------------------------------------------------------------------------------

MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
#: Examples per operation and generation mode (the run is derandomized: always the same ones).
EXAMPLES = 30
STREAM = "/v1/alerts/stream"
#: Among the guarded operations (below), what an ingest token may get a 2xx from.
INGEST_ALLOWED = frozenset({"POST /v1/touchpoints"})


def guarded(label: str) -> bool:
    """An operation that needs a bearer token: the API (``/v1``) and ``/metrics``. Health and
    the browser's sign-in (``/ui/session``, which takes the token in its body) do not."""
    path = label.split(" ", 1)[1]
    return path.startswith("/v1/") or path == "/metrics"


_BOUNDED = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def a_reason_for_every_rejection(ctx: Any, response: Any, case: Any) -> None:
    """A schemathesis check: a 4xx answers ``{"error": {"code", "message", ...}}`` with a
    message that says something (for a request validation error, which parameter and why)."""
    if not 400 <= response.status_code < 500:
        return
    body = orjson.loads(response.content)
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} without an error body: {body!r}"
    assert error.get("code") and isinstance(error["code"], str), body
    assert error.get("message") and isinstance(error["message"], str), body
    if error["code"] == "invalid_request":
        details = error.get("details") or []
        assert details and all(d.get("where") and d.get("message") for d in details), body


def a_documented_success(ctx: Any, response: Any, case: Any) -> None:
    """Status-code conformance for successes: a 2xx is one the schema documents (the 4xx are
    not all documented per operation: FastAPI lists only 422, and every error answers in the
    one shape checked above)."""
    if 200 <= response.status_code < 300:
        documented = set(case.operation.responses.status_codes)
        assert documented & {str(response.status_code), "2XX", "default"}, (
            f"{case.operation.label} answered {response.status_code}, documents {documented}"
        )


CHECKS = [not_a_server_error, a_reason_for_every_rejection, a_documented_success]


@dataclass
class Fuzzing:
    """What one fuzzing run saw: the failures (operation, mode, request, answer) and the
    statuses answered, by operation."""

    failures: list[str]
    statuses: dict[str, set[int]]

    def record(self, label: str, status: int) -> None:
        self.statuses.setdefault(label, set()).add(status)


def fuzz(
    world: World,
    headers: dict[str, str],
    *,
    examples: int = EXAMPLES,
    path_parameters: Callable[[Any], dict[str, str]] | None = None,
    only: str | None = None,
    call: dict[str, Any] | None = None,
) -> Fuzzing:
    """Every operation (but the SSE stream, unless ``only`` names it), positive and negative,
    sent with ``headers``; failures collected rather than raised so one run reports them all."""
    loaded = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    schema = loaded.include(path=only) if only else loaded.exclude(path=STREAM)
    seen = Fuzzing([], {})
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            seen.failures.append(f"an operation schemathesis cannot read: {result.err()}")
            continue
        operation = result.ok()
        fixed = path_parameters(operation) if path_parameters else {}
        for mode in MODES:
            try:
                _fuzz_one(operation, mode, headers, fixed, examples, seen, call or {})
            except Unsatisfiable:
                continue  # nothing to make invalid (an operation without parameters)
            except Exception as exc:  # reported with the operation
                seen.failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return seen


def _fuzz_one(
    operation: Any,
    mode: Any,
    headers: dict[str, str],
    fixed: dict[str, str],
    examples: int,
    seen: Fuzzing,
    call: dict[str, Any],
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

    @settings(_BOUNDED, max_examples=examples)
    @given(case=strategy)
    def attack(case: Any) -> None:
        # The token is ours, not generated: the case's own Authorization header (if any) is
        # replaced, so the role under test is the one that answers.
        case.headers = {**(case.headers or {}), **headers}
        response = case.call(**call)
        seen.record(operation.label, response.status_code)
        case.validate_response(response, checks=CHECKS)

    attack()


def _real_ids(world: World) -> Callable[[Any], dict[str, str]]:
    """Path parameters that exist, so fuzzed query parameters reach the views."""
    customer = world.customer_with_alerts()
    scenes = world.get(Role.ADMIN, f"/v1/customers/{customer}/scenes").json()["scenes"]
    alert = world.platform.decisions.alerts(None, customer)[0].alert_id
    victim = world.platform.tokens.create("fuzz-victim", ["agent"]).record.token_id
    known = {
        "customer_id": customer,
        "episode_id": str(scenes[0]["episode_id"]),
        "alert_id": alert,
        "token_id": victim,
    }

    def ids(operation: Any) -> dict[str, str]:
        names = {p.name for p in operation.path_parameters}
        return {name: value for name, value in known.items() if name in names}

    return ids


def _report(seen: Fuzzing) -> str:
    return "\n\n".join(seen.failures)


def test_no_operation_answers_an_admin_with_a_server_error(world: World) -> None:
    random_ids = fuzz(world, world.as_(Role.ADMIN))
    real_ids = fuzz(world, world.as_(Role.ADMIN), path_parameters=_real_ids(world))
    assert not random_ids.failures, _report(random_ids)
    assert not real_ids.failures, _report(real_ids)
    # The fuzzing reached past authentication and validation into the views.
    succeeded = {label for label, codes in real_ids.statuses.items() if codes & {200, 201, 202}}
    assert {"GET /v1/customers/{customer_id}/journey", "GET /v1/channels"} <= succeeded
    assert len(succeeded) >= 15, sorted(succeeded)


def test_a_low_privilege_token_is_refused_never_a_server_error(world: World) -> None:
    seen = fuzz(world, world.as_(Role.INGEST), examples=15)
    assert not seen.failures, _report(seen)
    leaked = {
        label
        for label, codes in seen.statuses.items()
        if guarded(label)
        and label not in INGEST_ALLOWED
        and any(200 <= code < 300 for code in codes)
    }
    assert not leaked, f"an ingest token got a 2xx from {sorted(leaked)}"
    assert 403 in seen.statuses["GET /v1/alerts"]


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("st_000000000000_forged"), {"Authorization": "Basic Zm9vOmJhcg=="}],
    ids=["no-token", "forged-token", "basic-auth"],
)
def test_without_a_valid_token_nothing_but_health_answers(
    world: World, headers: dict[str, str]
) -> None:
    seen = fuzz(world, headers, examples=8)
    assert not seen.failures, _report(seen)
    checked = {label: codes for label, codes in seen.statuses.items() if guarded(label)}
    assert len(checked) >= 20, sorted(checked)
    for label, codes in checked.items():
        assert not any(200 <= code < 300 for code in codes), (label, codes)
        assert 401 in codes, (label, codes)


def test_the_alert_stream_survives_fuzzed_parameters(world: World) -> None:
    """The SSE stream, bounded: a read timeout cuts a stream that would run on (schemathesis
    keeps the events it got), so each example costs at most a second."""
    seen = fuzz(world, world.as_(Role.SUPERVISOR), examples=6, only=STREAM, call={"timeout": 1})
    assert not seen.failures, _report(seen)
    assert 200 in seen.statuses[f"GET {STREAM}"]


# ---------------------------------------------------------------------------------------------
# hypothesis: malformed touchpoints through POST /v1/touchpoints
# ---------------------------------------------------------------------------------------------

Expect = Literal["accept", "reject", "duplicate"]


@dataclass(frozen=True)
class Item:
    """One NDJSON line to send and what must become of it.

    ``record`` is a touchpoint record (its ``source.event_id`` is filled in when it is sent, so
    every example's records are new) or a raw line; a rejection must name one of ``fields``
    (a field or a prefix of one, ``record`` for cross-field rules) and, if given, ``code``.
    """

    record: dict[str, Any] | str
    expect: Expect
    fields: frozenset[str] = frozenset()
    code: str | None = None


REQUIRED = ("source", "customer", "occurred_at", "channel", "direction", "actor", "kind")
SCALARS = ("channel", "direction", "kind", "service_type", "occurred_at", "text", "contact_id")
OBJECTS = ("actor", "source", "customer")
BOUNDED_STRINGS = {"contact_id": 256, "service_type": 128, "case_id": 256}

#: JSON scalars (integers within 64 bits: what orjson, like most JSON encoders, writes).
_int64 = st.integers(-(2**63), 2**63 - 1)
_json_scalar = (
    st.none()
    | st.booleans()
    | _int64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
#: Nested JSON junk that no string field accepts (the outermost value is never a string).
_junk = st.recursive(
    st.none() | st.booleans() | _int64,
    lambda inner: (
        st.lists(inner | _json_scalar, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner | _json_scalar, max_size=3)
    ),
    max_leaves=8,
)


def _rejected(record: dict[str, Any], *fields: str, code: str | None = None) -> Item:
    return Item(record, "reject", frozenset(fields), code)


@st.composite
def _missing(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    name = draw(st.sampled_from(REQUIRED))
    del base[name]
    return _rejected(base, name)


@st.composite
def _wrong_type(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    if draw(st.booleans()):
        name = draw(st.sampled_from(SCALARS))
        base[name] = draw(
            st.lists(_int64, max_size=2) | st.dictionaries(st.text(), _int64, max_size=2)
        )
    else:
        name = draw(st.sampled_from(OBJECTS))
        base[name] = draw(_int64 | st.text(max_size=8) | st.lists(_int64, max_size=2))
    return _rejected(base, name)


@st.composite
def _naive_timestamp(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    name = draw(st.sampled_from(("occurred_at", "recorded_at")))
    base[name] = draw(st.datetimes()).isoformat()
    return _rejected(base, name)


@st.composite
def _score_out_of_range(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    base.update(kind="feedback", direction="inbound", actor={"type": "customer"})
    base["score"] = draw(st.integers(-(2**63), 0) | st.integers(6, 2**63 - 1))
    return _rejected(base, "score")


@st.composite
def _negative_duration(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    name = draw(st.sampled_from(("wait_seconds", "handle_seconds")))
    base[name] = draw(st.integers(-(2**63), -1) | st.floats(max_value=-1e-6, allow_infinity=False))
    return _rejected(base, name)


def _complaint_outbound(base: dict[str, Any]) -> st.SearchStrategy[Item]:
    base.update(kind="complaint", direction="outbound", actor={"type": "customer"})
    return st.just(_rejected(base, "record", code="customer_kind_outbound"))


@st.composite
def _huge_string(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    name = draw(st.sampled_from(sorted(BOUNDED_STRINGS)))
    size = draw(st.integers(BOUNDED_STRINGS[name] + 1, 200_000))
    base[name] = draw(st.characters(codec="utf-8", exclude_categories=["Z", "C"])) * size
    return _rejected(base, name)


@st.composite
def _huge_text(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    base["actor"] = {"type": "agent", "id": "A001"}  # an agent's text is kept, and bounded
    base["text"] = "x" * draw(st.integers(10_001, 300_000))
    return _rejected(base, "text")


@st.composite
def _nested_junk(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    junk = draw(_junk)
    if draw(st.booleans()):
        key = draw(st.text(min_size=1, max_size=8))
        base["attributes"] = {key: junk}
        return _rejected(base, "attributes")
    name = "x_" + draw(st.text(max_size=8))
    base[name] = junk
    return _rejected(base, name)


@st.composite
def _unicode(draw: st.DrawFn, base: dict[str, Any]) -> Item:
    """Any unicode a JSON string can carry (line and paragraph separators, NEL, emoji, RTL...)
    in the free-text fields: a valid record, taken."""
    words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
    base["text"] = draw(words)
    base["customer"] = {**base["customer"], "name": draw(words) or "n"}
    base["attributes"] = draw(st.dictionaries(words.filter(bool), words, max_size=3))
    return Item(base, "accept")


MUTATIONS = (
    _missing,
    _wrong_type,
    _naive_timestamp,
    _score_out_of_range,
    _negative_duration,
    _complaint_outbound,
    _huge_string,
    _huge_text,
    _nested_junk,
    _unicode,
)


@st.composite
def _not_json(draw: st.DrawFn, template: dict[str, Any]) -> Item:
    """A line that is not one JSON object: cut short, plain text, or another JSON value."""
    whole = orjson.dumps(template).decode()
    line = draw(
        st.builds(lambda n: whole[:n], st.integers(1, len(whole) - 1))
        | st.text(min_size=1, max_size=40).filter(lambda t: "\n" not in t and t.strip())
        | st.builds(lambda v: orjson.dumps(v).decode(), st.lists(_json_scalar, max_size=3))
        | st.builds(lambda v: orjson.dumps(v).decode(), _json_scalar)
    )
    return Item(line, "reject")


def batches(templates: list[dict[str, Any]]) -> st.SearchStrategy[list[Item]]:
    """Batches of 1-12 lines: valid, malformed, unicode, not JSON, and repeats of lines sent
    earlier in the same batch (duplicates when the first copy was taken)."""
    base = st.sampled_from(templates).map(copy.deepcopy)
    valid = base.map(lambda record: Item(record, "accept"))
    malformed = st.one_of([base.flatmap(mutation) for mutation in MUTATIONS])
    broken = st.sampled_from(templates).flatmap(_not_json)
    line = st.one_of(valid, malformed, broken, st.just(Item("", "duplicate")))
    return st.lists(line, min_size=1, max_size=12)


@dataclass(frozen=True)
class Sent:
    """A batch as sent: its lines and, per line, what must become of it."""

    lines: list[str]
    items: list[Item]
    originals: dict[int, int]  # a duplicate's index -> the index of the line it repeats


def materialise(items: list[Item], nonce: str) -> Sent:
    """The NDJSON lines: fresh source ids (so valid records are new), a duplicate repeating
    the previous accepted line (or, when there is none yet, a valid line of its own)."""
    lines: list[str] = []
    kept: list[Item] = []
    originals: dict[int, int] = {}
    taken: list[int] = []
    for index, item in enumerate(items):
        if item.expect == "duplicate":
            if taken:
                originals[index] = taken[-1]
                lines.append(lines[taken[-1]])
                kept.append(item)
                continue
            item = _first_valid(items)  # noqa: PLW2901 - stands in for the missing original
        record = item.record
        if isinstance(record, dict) and isinstance(record.get("source"), dict):
            record = copy.deepcopy(record)
            record["source"]["event_id"] = f"hostile-{nonce}-{index}"
        lines.append(record if isinstance(record, str) else orjson.dumps(record).decode())
        kept.append(item)
        if item.expect == "accept":
            taken.append(index)
    return Sent(lines, kept, originals)


def _first_valid(items: list[Item]) -> Item:
    records = [i.record for i in items if isinstance(i.record, dict) and i.expect == "accept"]
    return Item(records[0], "accept") if records else Item("{}", "reject")


def log_size(world: World) -> int:
    log = world.platform.log
    return sum(len(log.read(p, 0, 10**7)) for p in range(world.platform.settings.partitions))


_sequence = itertools.count()


def fresh_ingest_token(world: World) -> tuple[str, str]:
    """A token of its own per example: its name is the dead letters' source, so every letter
    of the example is new (the store keeps one copy of an identical letter)."""
    name = f"hostile-{next(_sequence)}"
    return name, world.platform.tokens.create(name, ["ingest"]).secret


def post_ndjson(world: World, secret: str, body: bytes) -> Any:
    headers = {**bearer(secret), "Content-Type": "application/x-ndjson"}
    return world.client.post("/v1/touchpoints", content=body, headers=headers)


def reasons_are_specific(body: dict[str, Any], submitted: int) -> dict[int, dict[str, Any]]:
    """Each rejection: by index, a reason, and each broken rule's field, code and message."""
    errors = {e["index"]: e for e in body["errors"]}
    assert len(errors) == body["rejected"] == len(body["errors"])
    for index, error in errors.items():
        assert 0 <= index < submitted
        assert error["reason"] and error["reason"] != "unexpected_error", error
        assert error["reasons"], error
        for reason in error["reasons"]:
            assert reason["field"] and reason["code"] and reason["message"], error
    return errors


def names_the_field(error: dict[str, Any], item: Item) -> bool:
    fields = {r["field"] for r in error["reasons"]}
    codes = {r["code"] for r in error["reasons"]}
    named = any(f == want or f.startswith(f"{want}.") for f in fields for want in item.fields)
    return (named or not item.fields) and (item.code is None or item.code in codes)


def check_outcome(sent: Sent, body: dict[str, Any]) -> None:
    """What became of each line is what it deserved, and the event ids line up."""
    errors = reasons_are_specific(body, len(sent.lines))
    ids = iter(body["event_ids"])
    id_of: dict[int, str] = {}
    for index, item in enumerate(sent.items):
        if item.expect == "reject":
            assert index in errors, (index, sent.lines[index][:300], body)
            assert names_the_field(errors[index], item), (item.fields, item.code, errors[index])
            continue
        assert index not in errors, (index, sent.lines[index][:300], errors.get(index))
        id_of[index] = next(ids)
        if index in sent.originals:
            assert id_of[index] == id_of[sent.originals[index]]
    assert next(ids, None) is None
    assert body["duplicates"] == len(sent.originals)


def test_malformed_touchpoints_are_rejected_with_reasons_and_nothing_is_lost(
    world: World,
) -> None:
    templates = world.records[:40]

    @settings(_BOUNDED, max_examples=120)
    @given(items=batches(templates))
    def batch(items: list[Item]) -> None:
        name, secret = fresh_ingest_token(world)
        sent = materialise(items, name)
        letters, entries = world.platform.deadletters.count(), log_size(world)

        answer = post_ndjson(world, secret, "\n".join(sent.lines).encode())

        assert answer.status_code in (202, 422), answer.text
        body = answer.json()
        assert body["submitted"] == len(sent.lines)
        assert body["submitted"] == body["accepted"] + body["duplicates"] + body["rejected"]
        assert (answer.status_code == 422) == (body["rejected"] == body["submitted"])
        check_outcome(sent, body)
        assert world.platform.deadletters.count() - letters == body["rejected"]
        assert log_size(world) - entries == body["accepted"]

    batch()


def test_any_json_body_is_answered_with_a_balanced_outcome(world: World) -> None:
    """``application/json``: an object, an array of anything, a scalar, nested junk."""

    @settings(_BOUNDED, max_examples=60)
    @given(value=_junk | st.lists(_junk | _json_scalar, min_size=1, max_size=6) | _json_scalar)
    def body(value: Any) -> None:
        _, secret = fresh_ingest_token(world)
        letters = world.platform.deadletters.count()
        answer = world.client.post(
            "/v1/touchpoints",
            content=orjson.dumps(value),
            headers={**bearer(secret), "Content-Type": "application/json"},
        )
        assert answer.status_code in (202, 422), answer.text
        data = answer.json()
        if data.get("error", {}).get("code") == "empty":  # an empty array: nothing to count
            assert value == []
            return
        assert data["submitted"] == data["accepted"] + data["duplicates"] + data["rejected"]
        assert data["submitted"] == (len(value) if isinstance(value, list) else 1)
        reasons_are_specific(data, data["submitted"])
        assert world.platform.deadletters.count() - letters == data["rejected"]

    body()


# ---------------------------------------------------------------------------------------------
# regressions: what the fuzzing found
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# regressions: what the fuzzing found
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_line_separator_inside_a_string_does_not_split_an_ndjson_record(
    world: World, separator: str
) -> None:
    """Found by the unicode batches: the API split NDJSON with ``str.splitlines``, which also
    breaks at U+2028, U+2029 and U+0085; JSON strings carry them unescaped, so one valid
    record arrived as two invalid lines (and two dead letters)."""
    name, secret = fresh_ingest_token(world)
    record = copy.deepcopy(world.records[0])
    record["source"]["event_id"] = f"hostile-{name}-separator"
    record["text"] = f"first line{separator}second line"
    line = orjson.dumps(record)
    assert separator.encode() in line  # sent raw, as JSON allows
    letters = world.platform.deadletters.count()
    answer = post_ndjson(world, secret, line + b"\r\n")
    assert answer.status_code == 202, answer.text
    assert (answer.json()["submitted"], answer.json()["accepted"]) == (1, 1)
    assert world.platform.deadletters.count() == letters


@pytest.mark.parametrize("text", [["a", "list"], {"an": "object"}, 42])
def test_a_customers_text_of_the_wrong_type_is_rejected_by_field(world: World, text: Any) -> None:
    """Found by the wrong-type mutations: a customer's ``text`` is sealed as personal data
    before validation, and a list or an object there failed the sealing as an
    ``unexpected_error`` instead of being rejected as ``text``: not a string."""
    name, secret = fresh_ingest_token(world)
    record = copy.deepcopy(next(r for r in world.records if r["actor"]["type"] == "customer"))
    record["source"]["event_id"] = f"hostile-{name}-text"
    record["text"] = text
    answer = post_ndjson(world, secret, orjson.dumps(record))
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert error["reason"] != "unexpected_error"
    assert "text" in {reason["field"] for reason in error["reasons"]}, error


def test_the_embedded_dead_letter_store_takes_concurrent_puts(tmp_path: Path) -> None:
    """Found by the load test (``tests/e2e/test_api_load.py``): request threads share the
    SQLite dead-letter store's one connection, and two threads' transactions collided
    ("cannot start a transaction within a transaction"): a 500, and the store stuck."""
    store = SqliteDeadLetterStore(tmp_path / "deadletter.sqlite")
    when = datetime(2026, 5, 4, tzinfo=UTC)
    failures: list[BaseException] = []

    def put(thread: int) -> None:
        try:
            for n in range(25):
                letters = [
                    DeadLetter(f"t{thread}", n * 3 + k, "invalid_json", f"{{{k}", when)
                    for k in range(3)
                ]
                store.put(letters)
                store.count()
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=put, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    store.close()
    assert not failures, failures[:3]
    assert SqliteDeadLetterStore(tmp_path / "deadletter.sqlite").count() == 8 * 25 * 3
