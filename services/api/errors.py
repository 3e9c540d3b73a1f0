"""Every error the API answers, mapped in one place to a status and one JSON body shape::

    {"error": {"code": "...", "message": "...", "details": ...}}

Bad input is always a 4xx naming what was wrong (which record, which question, which
parameter); a 5xx means the server itself failed (a log that cannot be reached, a broken
configuration) and never carries internals. The mapping is a :func:`functools.singledispatch`
over the exception type, so a subclass answers like its parent unless registered itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import singledispatch
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.errors import (
    ConfigurationError,
    InvalidRecord,
    KeyDestroyed,
    LogError,
    ServicetraceError,
)
from services.audit.application import EvaluationNotFound
from services.audit.domain import InvalidAudit
from services.audit.forms import InvalidAnswers
from services.decisions.application import AlertNotFound
from services.decisions.domain import InvalidTransition
from services.evidence import NoSuchCustomer
from services.security.tokens import InvalidTokenRequest, TokenNotFound

__all__ = ["ApiError", "error_body", "install_error_handlers", "problem"]

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request (a plain exception, not a
    frozen dataclass: the machinery that re-raises exceptions sets attributes on them)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


@singledispatch
def problem(exc: Exception) -> ApiError:
    """The answer to an exception nobody expected: a 500 that says nothing of the internals
    (the traceback goes to the server's log)."""
    logger.error("unexpected error", exc_info=exc)
    return ApiError(500, "internal_error", "the server failed to answer; see its log")


@problem.register
def _(exc: ApiError) -> ApiError:
    return exc


@problem.register
def _(exc: ServicetraceError) -> ApiError:
    return ApiError(400, "bad_request", str(exc))


@problem.register
def _(exc: InvalidRecord) -> ApiError:
    details = [{"field": e.field, "code": e.code, "message": e.message} for e in exc.errors]
    return ApiError(422, exc.reason, str(exc), details)


@problem.register
def _(exc: InvalidAnswers) -> ApiError:
    return ApiError(422, "invalid_answers", str(exc), list(exc.problems))


@problem.register
def _(exc: InvalidAudit) -> ApiError:
    return ApiError(422, "invalid_audit", str(exc))


@problem.register
def _(exc: InvalidTokenRequest) -> ApiError:
    return ApiError(422, "invalid_token_request", str(exc))


@problem.register
def _(exc: KeyDestroyed) -> ApiError:
    return ApiError(410, "erased", "this customer's personal data was erased")


@problem.register
def _(exc: LogError) -> ApiError:
    logger.error("event log failure", exc_info=exc)
    return ApiError(503, "log_unavailable", "the event log cannot be reached; try again later")


@problem.register
def _(exc: ConfigurationError) -> ApiError:
    logger.error("configuration error", exc_info=exc)
    return ApiError(500, "configuration_error", "the server is misconfigured; see its log")


def _not_found(exc: Exception) -> ApiError:
    return ApiError(404, "not_found", str(exc).strip("'\""))


for _missing in (AlertNotFound, EvaluationNotFound, NoSuchCustomer, TokenNotFound):
    problem.register(_missing)(_not_found)


@problem.register
def _(exc: InvalidTransition) -> ApiError:
    return ApiError(409, "invalid_transition", str(exc))


@problem.register
def _(exc: RequestValidationError) -> ApiError:
    details = [
        {
            "where": ".".join(str(part) for part in error.get("loc", ())),
            "message": error.get("msg", ""),
        }
        for error in exc.errors()
    ]
    wrong = "; ".join(f"{d['where']}: {d['message']}" for d in details)
    return ApiError(422, "invalid_request", f"the request is not valid: {wrong}", details)


_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


@problem.register
def _(exc: StarletteHTTPException) -> ApiError:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return ApiError(exc.status_code, code, str(exc.detail), headers=exc.headers or {})


def _respond(request: Request, exc: Exception) -> JSONResponse:
    answer = problem(exc)
    return JSONResponse(
        error_body(answer.code, answer.message, answer.details),
        status_code=answer.status,
        headers=dict(answer.headers),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception through :func:`problem` (``Exception`` included: an unexpected
    failure answers in the same shape)."""
    for kind in (
        ApiError,
        ServicetraceError,
        AlertNotFound,
        InvalidTransition,
        NoSuchCustomer,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        app.add_exception_handler(kind, _respond)
