"""Policies: create, read and bulk-load."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable

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
    return import_all(session, [data])[0]


def import_all(
    session: Session, rows: list[PolicyIn], done: Callable[[int], None] | None = None, chunk: int = 1000
) -> list[Policy]:
    """Add policies in the caller's transaction, a chunk at a time (one query checks a chunk's
    numbers); a number already stored or given twice refuses them all."""
    twice = sorted(n for n, seen in Counter(row.policy_number for row in rows).items() if seen > 1)
    if twice:
        raise Conflict(f"policy {twice[0]} is in the file more than once", field="policy_number")
    added: list[Policy] = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        stored = session.scalars(
            select(Policy.policy_number).where(Policy.policy_number.in_([r.policy_number for r in part]))
        ).first()
        if stored is not None:
            raise Conflict(f"policy {stored} already exists", field="policy_number")
        policies = [Policy(**row.model_dump()) for row in part]
        session.add_all(policies)
        session.flush()
        added += policies
        if done is not None:
            done(len(part))
    return added


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
