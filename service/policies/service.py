"""Policies: create, read and bulk-load."""

from __future__ import annotations

import csv
import io

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import Conflict, NotFound, Unprocessable
from service.models.policies import Policy
from service.policies.schemas import PolicyIn


def get(session: Session, policy_number: str) -> Policy:
    """Load a policy or 404."""
    policy = session.scalar(select(Policy).where(Policy.policy_number == policy_number))
    if policy is None:
        raise NotFound(f"no policy {policy_number}", field="policy_number")
    return policy


def create(session: Session, data: PolicyIn) -> Policy:
    """Add a policy; a policy number is used once."""
    if session.scalar(select(Policy.id).where(Policy.policy_number == data.policy_number)):
        raise Conflict(f"policy {data.policy_number} already exists", field="policy_number")
    policy = Policy(**data.model_dump())
    session.add(policy)
    session.flush()
    return policy


def parse_csv(text: str) -> list[PolicyIn]:
    """Parse a policies CSV (options as theft_cover/earthquake_cover columns); all rows or none."""
    rows, errors = [], []
    for line, raw in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        options = {
            k: raw.pop(k).strip().lower() in ("1", "true", "yes")
            for k in ("theft_cover", "earthquake_cover")
            if k in raw
        }
        try:
            rows.append(PolicyIn.model_validate({**raw, "options": options}))
        except ValidationError as exc:
            errors.extend(
                {"field": f"line {line}: {'.'.join(map(str, e['loc']))}", "message": e["msg"]}
                for e in exc.errors()
            )
    if errors:
        raise Unprocessable(f"{len(errors)} problem(s) in the file", errors=errors)
    return rows
