"""History facts (prior claims, what was paid, payee changes, provider load) from one query.

The query must say what a plain reading of every stored claim says, for stored claims and for a
claim not stored yet.
"""

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from service.adjudication import history
from service.models.claims import Claim
from service.models.policies import Policy
from tests.service.conftest import claim_body


def _reference(claim: Claim, claims: list[Claim], policy_id: int) -> dict:
    """The facts read claim by claim, the way an investigator would count them."""
    mine = [c for c in claims if c.policy_id == policy_id]
    others = [c for c in mine if c.id != claim.id]
    year_ago = claim.report_date - dt.timedelta(days=365)
    earlier = [c for c in mine if claim.id is None or c.id < claim.id]
    first_seen: dict[str, dt.date] = {}
    for c in earlier:
        first_seen[c.payee_account] = min(first_seen.get(c.payee_account, c.report_date), c.report_date)
    changed = None
    if earlier and (claim.payee_account not in first_seen or len(first_seen) > 1):
        changed = (claim.report_date - first_seen.get(claim.payee_account, claim.report_date)).days
    window = claim.report_date - dt.timedelta(days=90)
    load = sum(
        1
        for c in claims
        if claim.provider and c.provider == claim.provider and c.id != claim.id
        if window <= c.report_date <= claim.report_date
    )
    held = sum((c.paid_amount + c.reserve for c in others), Decimal("0.00"))
    similar = sorted(
        c.claim_number
        for c in others
        if c.peril == claim.peril and abs(c.incident_at - claim.incident_at) <= dt.timedelta(days=1)
        if c.status not in ("withdrawn", "denied") and not (c.status == "closed" and c.paid_amount == 0)
    )

    def shared(field: str) -> int:
        value = getattr(claim, field)
        return len(
            {
                c.policy_id
                for c in claims
                if value and getattr(c, field) == value and c.policy_id != policy_id
                if window <= c.report_date <= claim.report_date
            }
        )

    return {
        "prior_claims_12m": sum(1 for c in others if year_ago <= c.report_date <= claim.report_date),
        "sum_insured_remaining": max(claim.policy.sum_insured - held, Decimal("0.00")),
        "bank_account_changed_days": changed,
        "provider_claims_90d": load,
        "similar_claims": len(similar),
        "similar_claim_number": similar[0] if similar else None,
        "payee_shared_policies": shared("payee_account"),
        "phone_shared_policies": shared("contact_phone"),
        "watchlist_match": False,  # nothing imported (tests/service/test_intel.py matches one)
    }


def test_history_facts_match_a_plain_reading(flow, client):
    today = dt.date.today()
    policy = flow.policy(start_date=(today - dt.timedelta(days=500)).isoformat())
    neighbour = flow.policy()
    far = flow.policy()
    plan = [  # (days ago, payee, provider, policy, phone)
        (400, "6222 1111", "Pudong Auto Repair", policy, None),
        (200, "6222 1111", "Pudong Auto Repair", policy, None),
        (100, "6222 2222", None, policy, "+86 21 5555"),
        (80, "6222 1111", "Pudong Auto Repair", neighbour, "+86 21 5555"),  # another policy, same account
        (95, "6222 1111", None, far, "+86 21 5555"),  # the same, but outside the 90 days
        (30, "6222 3333", "Pudong Auto Repair", policy, None),
        (0, "6222 1111", "Jing'an Motors", policy, "+86 21 5555"),
        (0, "6222 4444", None, policy, None),  # the same loss again: a duplicate suspect
    ]
    numbers = []
    for days, payee, provider, number, phone in plan:
        reported = today - dt.timedelta(days=days)
        incident = dt.datetime.combine(reported - dt.timedelta(days=1), dt.time(14))
        claim = flow.report(
            policy=number,
            payee_account=payee,
            provider=provider,
            report_date=reported.isoformat(),
            incident_at=incident.isoformat(),
            claimed_amount="900.00",
            contact_phone=phone,
        )
        numbers.append(claim["claim_number"])
    paid = flow.send_documents(flow.call("analyst", "GET", f"/v1/claims/{numbers[1]}"))
    flow.review(paid, "specialist", "preliminary")
    flow.approve(paid, "specialist")
    flow.pay(paid, "history-facts-01")

    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        claims = list(session.scalars(select(Claim).order_by(Claim.id)))
        policy_id = session.scalar(select(Policy.id).where(Policy.policy_number == policy))
        checked = [c for c in claims if c.claim_number in numbers]
        assert len(checked) == len(plan)
        for claim in checked:
            assert history(session, claim) == _reference(claim, claims, claim.policy_id), claim.claim_number
        duplicate = history(session, checked[-1])
        assert duplicate["similar_claims"] == 1
        assert duplicate["similar_claim_number"] == checked[-2].claim_number
        last = history(session, checked[-2])
        assert last["bank_account_changed_days"] == 400  # its account was first used 400 days ago
        assert last["provider_claims_90d"] == 0 and history(session, checked[5])["provider_claims_90d"] == 1
        # The neighbour's claim 80 days ago used the same account and phone; the far one is 95 days old.
        assert (last["payee_shared_policies"], last["phone_shared_policies"]) == (1, 1)
        # A claim not stored yet: every stored claim of the policy is an earlier one.
        fresh = Claim(
            policy=session.get(Policy, policy_id),
            report_date=today,
            peril=checked[-1].peril,
            incident_at=checked[-1].incident_at + dt.timedelta(hours=20),
            payee_account="6222 4444",
            provider="Pudong Auto Repair",
        )
        with session.no_autoflush:
            facts = history(session, fresh)
        assert facts == _reference(fresh, claims, policy_id)
        assert facts["prior_claims_12m"] == 5 and facts["bank_account_changed_days"] == 0
        assert facts["similar_claims"] == 2
        assert facts["sum_insured_remaining"] < Decimal("300000.00")  # the paid claim counts
        session.rollback()


def test_the_service_supplies_exactly_the_facts_it_declares(flow, client):
    from risk_models.features import SERVICE_INPUTS
    from service.adjudication.facts import SUPPLIED, build_facts

    claim = flow.report()
    with client.app.state.runtime.sessions() as session:
        row = session.scalar(select(Claim).where(Claim.claim_number == claim["claim_number"]))
        everything = set(SUPPLIED) | set(row.facts) | {"bank_account_changed_days", "provider_claims_90d"}
        made, risk_input = build_facts(session, row, everything)
        own = set(row.facts)
    # The risk inputs are the service schema a champion's contract is checked against.
    assert set(risk_input) == {i.name for i in SERVICE_INPUTS}
    # similar_claim_number appears only when there is a similar claim; risk_band comes from the model.
    assert set(made) - own == SUPPLIED - {"risk_band", "similar_claim_number"}
    bad = flow.call(
        "claims_system",
        "POST",
        "/v1/claims",
        {**claim_body(flow.policy()), "facts": {"prior_claims_12m": 0}},
        expect=422,
    )
    assert bad["errors"][0]["field"] == "facts.prior_claims_12m"
