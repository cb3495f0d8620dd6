"""Claims history for the risk team: labelled by investigations, in the model's input schema."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select

from rules.rulebook import Rulebook, load_shipped, loads
from service.adjudication import build_facts
from service.config import get_settings
from service.database import make_engine, session_factory
from service.models.claims import Claim
from service.models.investigations import Investigation


def _rows(since: dt.date | None, labelled: bool) -> pd.DataFrame:
    engine = make_engine(get_settings().resolved_database_url)
    rows = []
    with session_factory(engine)() as session:
        outcomes = dict(session.execute(select(Investigation.claim_id, Investigation.status)).all())
        query = select(Claim).order_by(Claim.id)
        if since is not None:
            query = query.where(Claim.report_date >= since)
        for claim in session.scalars(query):
            outcome = outcomes.get(claim.id)
            if outcome == "confirmed_fraud":
                label = 1
            elif outcome == "cleared" or (outcome is None and claim.status in ("paid", "closed")):
                label = 0  # paid without suspicion, or cleared by an investigator
            elif labelled:
                continue
            else:
                label = None
            _, risk_input = build_facts(session, claim, set())
            rows.append({"claim_number": claim.claim_number, **risk_input, "is_fraud": label})
    engine.dispose()
    return pd.DataFrame(rows)


def labelled_claims() -> pd.DataFrame:
    """Every claim with a label: confirmed fraud 1; cleared, or paid with no investigation, 0."""
    return _rows(None, labelled=True)


def recent_claims(days: int = 90) -> pd.DataFrame:
    """Claims reported in the last `days` days, for drift checks."""
    return _rows(dt.date.today() - dt.timedelta(days=days), labelled=False)


def _in_force(session, product: str) -> Rulebook:
    from service.errors import NotFound
    from service.rulebooks.service import in_force

    try:
        current = in_force(session, product)
    except NotFound:
        return load_shipped()[product]
    return loads(current.text, source=current.source)


def rulebook_in_force(product: str) -> Rulebook:
    """The version of a product line's rulebook in force today in the service's database."""
    engine = make_engine(get_settings().resolved_database_url)
    with session_factory(engine)() as session:
        book = _in_force(session, product)
    engine.dispose()
    return book


def rule_facts(product: str) -> pd.DataFrame:
    """Every claim of a product line as the facts of its rulebook in force, with the investigation outcome."""
    from service.rulebooks.service import history_facts

    engine = make_engine(get_settings().resolved_database_url)
    with session_factory(engine)() as session:
        frame = history_facts(session, _in_force(session, product))
    engine.dispose()
    return frame
