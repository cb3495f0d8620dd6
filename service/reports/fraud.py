"""The regulator's fraud summary: referrals to investigation, confirmed frauds and the amounts
they did not cost, by line and month (`claims report fraud`, `GET /v1/reports/fraud`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.database import utc
from service.models.claims import Claim
from service.models.investigations import Investigation
from service.runtime import Runtime


def _month(moment: dt.datetime, runtime: Runtime) -> str:
    return utc(moment).astimezone(runtime.settings.zone).strftime("%Y-%m")


def fraud_summary(session: Session, runtime: Runtime, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Referrals opened, and confirmed frauds and clearances closed, in [start, end] (local days).

    A confirmed fraud's amount saved is what was claimed less what was paid on it: the money a
    referral kept from going out.
    """
    zone = runtime.settings.zone
    begin = dt.datetime.combine(start, dt.time(0), zone).astimezone(dt.UTC)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    in_period = or_(
        Investigation.opened_at.between(begin, finish), Investigation.closed_at.between(begin, finish)
    )  # read only what the period can count; the exact bounds are checked below
    rows = session.execute(
        select(Investigation, Claim.product, Claim.claimed_amount, Claim.paid_amount)
        .join(Claim, Claim.id == Investigation.claim_id)
        .where(in_period)
    ).all()
    empty = {
        "referred": 0,
        "confirmed_fraud": 0,
        "cleared": 0,
        "claimed_confirmed": Decimal("0.00"),
        "saved": Decimal("0.00"),
    }
    cells: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: dict(empty))
    for investigation, line, claimed, paid in rows:
        opened = utc(investigation.opened_at)
        if begin <= opened < finish:
            cells[(line, _month(opened, runtime))]["referred"] += 1
        closed = utc(investigation.closed_at) if investigation.closed_at else None
        if closed is None or not begin <= closed < finish:
            continue
        cell = cells[(line, _month(closed, runtime))]
        if investigation.status == "confirmed_fraud":
            cell["confirmed_fraud"] += 1
            cell["claimed_confirmed"] += claimed
            cell["saved"] += max(claimed - paid, Decimal("0.00"))
        elif investigation.status == "cleared":
            cell["cleared"] += 1

    def plain(cell: dict[str, Any]) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in cell.items()}

    total = dict(empty)
    for cell in cells.values():
        for key in total:
            total[key] += cell[key]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "rows": [{"line": line, "month": month, **plain(c)} for (line, month), c in sorted(cells.items())],
        "total": plain(total),
    }
