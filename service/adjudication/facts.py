"""The facts the service supplies to a claim's rulebook and model: the claim and policy, and
what its history says (prior claims, what the policy's other claims hold, provider load,
similar claims, and the other policies sharing its payee account or phone)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, bindparam, case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from service import exposure, intel
from service.models.claims import Claim
from service.models.intel import Indicator

POLICY_OPTION_FACTS = ("theft_cover", "earthquake_cover")
# The facts the service supplies to every rulebook, from the claim, its policy and its history
# (risk_band from the model). A claim's own `facts` may not set them. build_facts makes exactly
# these (tests/service/test_history_facts.py holds it to that).
SUPPLIED = frozenset(
    {
        "policy_start",
        "policy_end",
        "incident_date",
        "report_date",
        "peril",
        "claimed_amount",
        "deductible",
        "sum_insured_remaining",
        "injuries",
        "fatalities",
        "third_party",
        "police_report",
        "prior_claims_12m",
        "documents_received",
        "similar_claims",
        "similar_claim_number",
        "payee_shared_policies",
        "phone_shared_policies",
        "watchlist_match",
        "risk_band",
        *POLICY_OPTION_FACTS,
    }
)


def _history_query() -> Select:
    """The one query behind `history`, built once: bound values change, the statement does not."""
    cid, day = bindparam("claim_id"), bindparam("report_date", type_=Date)
    other = Claim.id != cid
    earlier = Claim.id < bindparam("earlier_than")
    recent = other & (Claim.report_date >= bindparam("year_ago", type_=Date)) & (Claim.report_date <= day)
    same_payee = earlier & (Claim.payee_account == bindparam("payee"))
    # A possible duplicate: same peril, incident within a day, and not withdrawn, denied or closed unpaid.
    similar = (
        other
        & (Claim.peril == bindparam("peril"))
        & Claim.incident_at.between(bindparam("incident_from"), bindparam("incident_to"))
        & Claim.status.not_in(("withdrawn", "denied"))
        & ~((Claim.status == "closed") & (Claim.paid_amount == 0))
    )
    peer = aliased(Claim)
    provider_load = (
        select(func.count())
        .where(
            peer.provider == bindparam("provider"),  # NULL matches nothing: no provider, no load
            peer.id != cid,
            peer.report_date >= bindparam("window", type_=Date),
            peer.report_date <= day,
        )
        .scalar_subquery()
    )

    def shared(column: Any, value: str) -> Any:
        # Other policies whose claims used the same account (or phone) lately: a ring's signature.
        return (
            select(func.count(distinct(peer.policy_id)))
            .where(
                column == bindparam(value),  # NULL matches nothing: no account, nobody shares it
                peer.policy_id != bindparam("policy_id"),
                peer.report_date >= bindparam("window", type_=Date),
                peer.report_date <= day,
            )
            .scalar_subquery()
        )

    return select(
        func.count(case((recent, 1))),
        # What the other claims hold of the sum insured: paid, approved-unpaid and reserved.
        func.coalesce(func.sum(case((other, exposure.HELD))), 0),
        func.count(case((earlier, 1))),
        func.count(distinct(case((earlier, Claim.payee_account)))),
        func.count(case((same_payee, 1))),
        func.min(case((same_payee, Claim.report_date))),
        provider_load,
        func.count(case((similar, 1))),
        func.min(case((similar, Claim.claim_number))),
        shared(peer.payee_account, "payee_or_none"),
        shared(peer.contact_phone, "phone"),
        # Another insurer's confirmed fraud used this account or phone (keyed hashes, see intel).
        select(func.count())
        .select_from(Indicator)
        .where(
            ((Indicator.kind == "payee_account") & (Indicator.hash == bindparam("watch_payee")))
            | ((Indicator.kind == "phone") & (Indicator.hash == bindparam("watch_phone")))
        )
        .scalar_subquery(),
    ).where(Claim.policy_id == bindparam("policy_id"))


HISTORY = _history_query()
NOT_STORED = 2**31 - 1  # the id a claim not yet stored compares as: after every stored one (INTEGER max)


def history(session: Session, claim: Claim) -> dict[str, Any]:
    """Facts that come from the policy's and the provider's other claims (one query).

    Works for a claim not yet stored (its id is None: every stored claim is another, earlier one).
    """
    values = {
        "claim_id": claim.id if claim.id is not None else -1,
        "earlier_than": claim.id if claim.id is not None else NOT_STORED,
        "report_date": claim.report_date,
        "year_ago": claim.report_date - dt.timedelta(days=365),
        "window": claim.report_date - dt.timedelta(days=90),
        "payee": claim.payee_account,
        "provider": claim.provider or None,
        "policy_id": claim.policy.id,
        "peril": claim.peril,
        "incident_from": claim.incident_at - dt.timedelta(days=1),
        "incident_to": claim.incident_at + dt.timedelta(days=1),
        "payee_or_none": claim.payee_account or None,
        "phone": claim.contact_phone or None,
    }
    watched = intel.claim_hashes(session.info.get(intel.KEY), claim)
    values |= {"watch_payee": watched["payee_account"], "watch_phone": watched["phone"]}
    # Plain columns, no entities: the connection runs it without the ORM's per-statement work.
    row = session.connection().execute(HISTORY, values).one()
    (
        prior,
        held_elsewhere,
        n_earlier,
        accounts,
        payee_seen,
        payee_first,
        load,
        similar,
        first_similar,
        *shared,
    ) = row
    changed_days = None
    if n_earlier and (not payee_seen or accounts > 1):
        # The payee account differs from one used before: days since this account appeared.
        since = payee_first if payee_seen else claim.report_date
        changed_days = (claim.report_date - since).days
    if claim.payee_changed_at is not None:
        # The payee was changed on this claim: the account is as new as the change.
        changed_days = 0
    remaining = max(claim.policy.sum_insured - Decimal(held_elsewhere or 0), Decimal("0.00"))
    return {
        "prior_claims_12m": int(prior or 0),
        "sum_insured_remaining": remaining.quantize(Decimal("0.01")),
        "bank_account_changed_days": changed_days,
        "provider_claims_90d": int(load or 0),
        "similar_claims": int(similar or 0),
        "similar_claim_number": first_similar,
        "payee_shared_policies": int(shared[0] or 0),
        "phone_shared_policies": int(shared[1] or 0),
        "watchlist_match": bool(shared[2]),
    }


def build_facts(session: Session, claim: Claim, declared: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the rulebook facts and the risk model's inputs for a claim."""
    policy = claim.policy
    with session.no_autoflush:  # reads other claims only: this claim's pending changes can wait
        past = history(session, claim)
    received = sorted({d.doc_type for d in claim.documents if d.status != "rejected"})
    base: dict[str, Any] = {
        "policy_start": policy.start_date.isoformat(),
        "policy_end": policy.end_date.isoformat(),
        "incident_date": claim.incident_at.date().isoformat(),
        "report_date": claim.report_date.isoformat(),
        "peril": claim.peril,
        "claimed_amount": str(claim.claimed_amount),
        "deductible": str(policy.deductible),
        "sum_insured_remaining": str(past["sum_insured_remaining"]),
        "injuries": claim.injuries,
        "fatalities": claim.fatalities,
        "third_party": claim.third_party,
        "police_report": claim.police_report,
        "prior_claims_12m": past["prior_claims_12m"],
        "documents_received": received,
        "similar_claims": past["similar_claims"],
        "payee_shared_policies": past["payee_shared_policies"],
        "phone_shared_policies": past["phone_shared_policies"],
        "watchlist_match": past["watchlist_match"],
        **({"similar_claim_number": past["similar_claim_number"]} if past["similar_claim_number"] else {}),
        **{k: bool(policy.options.get(k, False)) for k in POLICY_OPTION_FACTS},
        **claim.facts,
    }
    rule_facts = {k: v for k, v in base.items() if k in declared}
    risk_input = {
        "product": claim.product,
        "peril": claim.peril,
        "channel": claim.channel,
        "claimed_amount": float(claim.claimed_amount),
        "sum_insured_remaining": float(past["sum_insured_remaining"]),
        "policy_start": policy.start_date,
        "incident_date": claim.incident_at.date(),
        "report_date": claim.report_date,
        "incident_hour": claim.incident_at.hour,
        "prior_claims_12m": past["prior_claims_12m"],
        "bank_account_changed_days": past["bank_account_changed_days"],
        "provider_claims_90d": past["provider_claims_90d"],
        "payee_shared_policies": past["payee_shared_policies"],
        "phone_shared_policies": past["phone_shared_policies"],
        "injuries": claim.injuries,
        "police_report": claim.police_report,
        "third_party": claim.third_party,
    }
    return rule_facts, risk_input
