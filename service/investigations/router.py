"""Investigation endpoints under /v1/investigations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from service.deps import DbSession, Offset, RequestId, RowId, require
from service.investigations import service
from service.investigations.responses import InvestigationOut
from service.investigations.service import OutcomeIn
from service.models.claims import Claim
from service.security import MAY, Principal

router = APIRouter(prefix="/v1/investigations", tags=["investigations"])


@router.get("", response_model=list[InvestigationOut])
def list_investigations(
    session: DbSession,
    _: Annotated[Principal, Depends(require(*MAY["investigations"]))],
    status: Literal["open", "confirmed_fraud", "cleared"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """List investigations, newest first."""
    return service.listing(session, status, limit, offset)


@router.post("/{investigation_id}/outcome", response_model=InvestigationOut)
def outcome(
    investigation_id: RowId,
    body: OutcomeIn,
    session: DbSession,
    request_id: RequestId,
    who: Annotated[Principal, Depends(require(*MAY["conclude"]))],
) -> dict[str, Any]:
    """Record confirmed fraud or cleared; cleared lifts the hold on the claim."""
    found = service.conclude(session, service.get(session, investigation_id), body, who, request_id)
    out = service.view(found, session.get(Claim, found.claim_id).claim_number)
    session.commit()
    return out
