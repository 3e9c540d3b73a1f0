"""The API's error mapping and body parsing (pure: no app, no platform)."""

from __future__ import annotations

import pytest

from events.errors import (
    ConfigurationError,
    FieldError,
    InvalidRecord,
    InvalidTouchpoint,
    KeyDestroyed,
    LogUnavailable,
    ServicetraceError,
)
from services.api.errors import ApiError, problem
from services.api.intake import NDJSON, submissions_of
from services.audit.application import EvaluationNotFound
from services.audit.forms import InvalidAnswers
from services.decisions.application import AlertNotFound
from services.decisions.domain import InvalidTransition
from services.evidence import NoSuchCustomer
from services.security import InvalidTokenRequest, TokenNotFound


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (InvalidTouchpoint("invalid_touchpoint", [FieldError("channel", "x", "bad")]), 422, None),
        (InvalidAnswers("answers", ["q1: not answered"]), 422, "invalid_answers"),
        (InvalidTokenRequest("bad name"), 422, "invalid_token_request"),
        (AlertNotFound("no alert x"), 404, "not_found"),
        (EvaluationNotFound("no evaluation x"), 404, "not_found"),
        (NoSuchCustomer("no touchpoints for customer 'x'"), 404, "not_found"),
        (TokenNotFound("no token"), 404, "not_found"),
        (InvalidTransition("only an open alert can"), 409, "invalid_transition"),
        (KeyDestroyed("gone"), 410, "erased"),
        (ServicetraceError("odd"), 400, "bad_request"),
        (LogUnavailable("broker down at 10.0.0.1"), 503, "log_unavailable"),
        (ConfigurationError("secret path /etc/x"), 500, "configuration_error"),
        (RuntimeError("internal detail"), 500, "internal_error"),
    ],
)
def test_each_error_has_its_status_and_code(exc: Exception, status: int, code: str | None) -> None:
    answer = problem(exc)
    assert answer.status == status
    if code is not None:
        assert answer.code == code
    if status >= 500:
        assert str(exc) not in answer.message, "a server failure never shows its internals"
    else:
        assert answer.message


def test_a_rejected_record_lists_each_broken_field() -> None:
    exc = InvalidTouchpoint(
        "invalid_touchpoint",
        [FieldError("channel", "unknown", "no such channel"), FieldError("kind", "missing", "x")],
    )
    answer = problem(exc)
    assert answer.code == "invalid_touchpoint"
    assert [d["field"] for d in answer.details] == ["channel", "kind"]


def test_an_api_error_answers_as_raised() -> None:
    raised = ApiError(418, "teapot", "short and stout", {"k": 1}, {"X-A": "b"})
    assert problem(raised) is raised


def test_ndjson_bodies_give_one_submission_per_non_blank_line() -> None:
    found = submissions_of('{"a": 1}\n\n  \n{"b": 2}\n', NDJSON, "api:gw")
    assert [(s.source, s.line, s.payload) for s in found] == [
        ("api:gw", 1, '{"a": 1}'),
        ("api:gw", 4, '{"b": 2}'),
    ]


def test_json_bodies_are_one_object_or_an_array_and_garbage_is_one_submission() -> None:
    assert [s.payload for s in submissions_of('{"a": 1}', "application/json", "s")] == ['{"a": 1}']
    array = submissions_of('[{"a": 1}, 7]', "application/json", "s")
    assert [(s.line, s.payload) for s in array] == [(1, '{"a":1}'), (2, "7")]
    (garbage,) = submissions_of("{nope", "application/json", "s")
    assert garbage.payload == "{nope"
    with pytest.raises(InvalidRecord, match="not valid JSON"):
        garbage.touchpoint_records()
    assert submissions_of("[]", "application/json", "s") == []
