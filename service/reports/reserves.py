"""Outstanding case reserves: what open and approved claims may still cost, by line, tier and age."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models.claims import Claim

# Age of a reserve: working buckets a claims manager reads, in days since the report.
AGES = ((30, "0-30 days"), (90, "31-90 days"), (180, "91-180 days"), (None, "over 180 days"))


class Bucket(BaseModel):
    """Claims holding a reserve, and how much."""

    claims: int
    reserve: str


class ReserveReport(BaseModel):
    """Outstanding case reserves by product line, tier and age."""

    as_of: str
    claims: int
    outstanding_reserve: str
    by_product: dict[str, Bucket]
    by_tier: dict[str, Bucket]
    by_age: dict[str, Bucket]


def _age(days: int) -> str:
    return next(label for limit, label in AGES if limit is None or days <= limit)


def reserves_report(session: Session, today: dt.date | None = None) -> dict[str, Any]:
    """Sum the outstanding reserves (claims still holding one) by product line, tier and age."""
    today = today or dt.date.today()
    rows = session.execute(
        select(Claim.product, Claim.route, Claim.report_date, func.count(), func.sum(Claim.reserve))
        .where(Claim.reserve > 0)
        .group_by(Claim.product, Claim.route, Claim.report_date)
    ).all()
    zero = Decimal("0.00")
    total, count = zero, 0
    lines: dict[str, dict[str, Any]] = defaultdict(lambda: {"claims": 0, "reserve": zero})
    tiers: dict[str, dict[str, Any]] = defaultdict(lambda: {"claims": 0, "reserve": zero})
    ages: dict[str, dict[str, Any]] = {label: {"claims": 0, "reserve": zero} for _, label in AGES}
    for product, route, reported, n, amount in rows:
        amount = Decimal(amount).quantize(Decimal("0.01"))
        for bucket in (lines[product], tiers[route or "unrouted"], ages[_age((today - reported).days)]):
            bucket["claims"] += n
            bucket["reserve"] += amount
        total, count = total + amount, count + n

    def shown(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {k: {"claims": v["claims"], "reserve": str(v["reserve"])} for k, v in sorted(table.items())}

    return {
        "as_of": today.isoformat(),
        "claims": count,
        "outstanding_reserve": str(total),
        "by_product": shown(lines),
        "by_tier": shown(tiers),
        "by_age": {k: {"claims": v["claims"], "reserve": str(v["reserve"])} for k, v in ages.items()},
    }
