"""Policy endpoints under /v1/policies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from service.deps import DbSession, require
from service.policies import service
from service.policies.schemas import PolicyIn, PolicyOut
from service.security import CLAIM_READERS, Principal

router = APIRouter(prefix="/v1/policies", tags=["policies"])


@router.post("", status_code=201, response_model=PolicyOut)
def create_policy(
    body: PolicyIn, session: DbSession, _: Annotated[Principal, Depends(require("claims_system"))]
) -> PolicyOut:
    """Add a policy."""
    out = PolicyOut.model_validate(service.create(session, body))
    session.commit()
    return out


@router.get("/{policy_number}", response_model=PolicyOut)
def get_policy(
    policy_number: str, session: DbSession, _: Annotated[Principal, Depends(require(*CLAIM_READERS))]
) -> PolicyOut:
    """Return a policy."""
    return PolicyOut.model_validate(service.get(session, policy_number))
