"""Quality audit: evaluations (read and score), the QA form, and the trail of reads (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.api.auth import PlatformDep, require
from services.api.errors import ApiError
from services.security import Capability, Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["audit"])

Auditor = Annotated[Principal, Depends(require(Capability.EVALUATIONS_READ))]


class EvaluationIn(BaseModel):
    """An evaluation of one episode with the shipped QA form: every question answered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    episode_id: str = Field(min_length=1, max_length=200)
    answers: dict[str, Any] = Field(description="question id → 0..scale, yes, no or na")
    notes: dict[str, Any] = Field(default_factory=dict, description="question id → note")
    comment: str = ""


@router.get("/evaluations", summary="Evaluations, newest first")
def evaluations(
    platform: PlatformDep,
    principal: Auditor,
    customer: str | None = None,
    episode: str | None = None,
) -> list[dict[str, Any]]:
    from services.audit.views import evaluation_json

    found = platform.audit.evaluations(customer_id=customer, episode_id=episode)
    return [evaluation_json(e) for e in found]


@router.get("/evaluations/{evaluation_id}", summary="One evaluation's score card")
def evaluation(evaluation_id: str, platform: PlatformDep, principal: Auditor) -> dict[str, Any]:
    from services.audit.views import evaluation_json

    return evaluation_json(platform.audit.evaluation(evaluation_id))


@router.post("/evaluations", status_code=201, summary="Score an episode (the shipped QA form)")
def evaluate(
    body: EvaluationIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Capability.EVALUATIONS_WRITE))],
) -> dict[str, Any]:
    from services.audit import load_form
    from services.audit.files import answers_from_document
    from services.audit.views import evaluation_json

    form = load_form()
    document = {"answers": body.answers, "notes": body.notes, "comment": body.comment}
    answers = answers_from_document(form, document, "request body")
    row = platform.scene_view.get(body.episode_id)
    if row is None:
        raise ApiError(404, "not_found", f"no episode {body.episode_id!r} in the scene view")
    found = platform.audit.evaluate(
        body.episode_id, str(row["customer_id"]), form, answers, principal.name
    )
    return evaluation_json(found)


@router.get("/evaluation-form", summary="The QA form: the questions to answer")
def evaluation_form(principal: Auditor) -> dict[str, Any]:
    from services.audit import load_form
    from services.audit.views import form_json

    return form_json(load_form())


@router.get("/reads", summary="The audit trail of reads: who read which journey, and when")
def reads(
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Capability.READS_READ))],
    customer: str | None = None,
    by: str | None = None,
    what: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    from services.audit.views import read_json

    found = platform.audit.reads(customer_id=customer, by=by, what=what, limit=limit)
    return [read_json(row) for row in found]
