"""The customer's satisfaction survey: a small public page behind a one-time link (no sign-in)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.deps import RuntimeDep
from service.models.aftersales import Survey
from service.models.claims import Claim
from service.security import hash_key
from service.surveys import service as surveys
from service.web.common import HEADERS, templates
from service.web.i18n import translator

router = APIRouter(prefix="/survey", include_in_schema=False)
Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _page(lang: str, status: int = 200, **context: object) -> HTMLResponse:
    body = templates.get_template("survey.html").render(lang=lang, t=translator(lang), **context)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _find(db: Session, token: str) -> tuple[Survey | None, str]:
    survey = db.scalar(select(Survey).where(Survey.token_hash == hash_key(token)))
    if survey is None or survey.method != "online":  # a phone follow-up has no link to answer
        return None, "unknown_link"
    expires = survey.expires_at if survey.expires_at.tzinfo else survey.expires_at.replace(tzinfo=dt.UTC)
    if survey.answered_at is not None:
        return survey, "survey_already"
    if expires < dt.datetime.now(dt.UTC):
        return survey, "survey_expired"
    return survey, ""


def _status(survey: Survey | None, problem: str) -> int:
    # Unknown link 404, answered already 409, expired 410.
    return 404 if survey is None else 409 if problem == "survey_already" else 410


@router.get("/{token}")
def survey_page(token: Token, runtime: RuntimeDep, lang: str | None = None) -> HTMLResponse:
    """The rating form (1–5 and a comment), in the claim's language unless another is asked for."""
    with runtime.readers() as db:
        survey, problem = _find(db, token)
        claim = db.get(Claim, survey.claim_id) if survey else None
        shown = lang if lang in ("zh-CN", "en") else (claim.language if claim else "zh-CN")
        if problem:
            return _page(shown, _status(survey, problem), problem=problem)
        return _page(shown, claim_number=claim.claim_number, token=token)


@router.post("/{token}")
def answer(
    request: Request,
    token: Token,
    runtime: RuntimeDep,
    rating: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=2000)] = "",
    lang: Annotated[str, Form(max_length=5)] = "zh-CN",
) -> HTMLResponse:
    """Record the customer's rating once; a second answer through the same link is refused."""
    with runtime.sessions() as db:
        survey, problem = _find(db, token)
        if problem:
            return _page(lang, _status(survey, problem), problem=problem)
        surveys.answer(db, runtime, survey, rating, comment)
        db.commit()
        return _page(lang, thanks=True)
