"""Reconcile the money columns: what each claim and policy holds against the moves that made it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.models.claims import DecisionRecord

CLAIMS = text(
    "SELECT c.id, c.claim_number, c.status, c.approved_amount, c.paid_amount, c.reserve, c.policy_id, "
    "p.policy_number, p.sum_insured, "
    "(SELECT coalesce(sum(amount), 0) FROM payments WHERE claim_id = c.id) "
    "FROM claims c JOIN policies p ON p.id = c.policy_id"
)
RESERVE_MOVES = text("SELECT claim_id, new FROM claim_events WHERE kind = 'reserve' ORDER BY id")
PAYMENTS = text("SELECT claim_id, reference, amount FROM payments")
MONEY_RECORDS = (
    select(DecisionRecord.claim_id, DecisionRecord.kind, DecisionRecord.outcome, DecisionRecord.amount)
    .where(DecisionRecord.kind.in_(("decision", "payment")))
    .order_by(DecisionRecord.claim_id, DecisionRecord.seq)
)
SETTLED = ("denied", "withdrawn", "closed")
CENT = Decimal("0.01")


def _money(value: object) -> Decimal:
    # Plain SQL reads money back as the driver has it: SQLite may give an int or a float.
    return Decimal(str(value)).quantize(CENT)


def _recorded(session: Session) -> tuple[dict[int, Decimal], dict[int, dict[str, Decimal]]]:
    """What the records say: each claim's approved amount, and its payments by reference."""
    approved: dict[int, Decimal] = {}
    paid: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for cid, kind, outcome, amount in session.execute(MONEY_RECORDS):
        if kind == "decision" and outcome.get("decision") == "approved":
            approved[cid] = _money(amount)
        elif kind == "payment":
            paid[cid][outcome.get("reference")] = _money(amount)
    return approved, paid


def reconcile(session: Session) -> list[str]:
    """Name every claim or policy whose balances do not add up (an empty list when all do).

    Paid never above approved; an approved claim holds exactly its approved amount; a settled
    one reserves nothing; payments add up to what the claim was paid; each reserve equals its
    last recorded move; no policy's claims hold more than its sum insured; and every approved
    amount, paid amount and payment is what a decision record says it is.
    """
    problems: list[str] = []
    moves = dict(session.execute(RESERVE_MOVES).all())  # ordered by id: the last move of each claim wins
    approved_by_record, paid_by_record = _recorded(session)
    held: dict[str, Decimal] = defaultdict(Decimal)
    limits: dict[str, Decimal] = {}
    for cid, number, status, approved, paid, reserve, _, policy, sum_insured, paid_sum in session.execute(
        CLAIMS
    ):
        approved = None if approved is None else _money(approved)
        paid, reserve, paid_sum = _money(paid), _money(reserve), _money(paid_sum)
        if reserve < 0 or paid < 0:
            problems.append(f"{number}: negative reserve {reserve} or paid {paid}")
        if paid > (approved or 0):
            problems.append(f"{number}: paid {paid} above the approved {approved}")
        if status in ("approved", "paid") and reserve + paid != approved:
            problems.append(f"{number}: holds {reserve + paid} but {approved} was approved")
        if status in SETTLED and reserve != 0:
            problems.append(f"{number}: {status} but still reserves {reserve}")
        if paid_sum != paid:
            problems.append(f"{number}: its payments add up to {paid_sum}, paid_amount says {paid}")
        if _money(moves.get(cid, "0")) != reserve:
            problems.append(
                f"{number}: reserve {reserve}, its last recorded move was to {moves.get(cid, '0')}"
            )
        said = approved_by_record.get(cid)
        if approved is not None and said != approved:
            problems.append(f"{number}: approved_amount {approved}, its decision record says {said}")
        recorded = sum(paid_by_record[cid].values(), Decimal("0.00"))
        if paid != recorded:
            problems.append(f"{number}: paid_amount {paid}, its payment records add up to {recorded}")
        held[policy] += reserve + paid
        limits[policy] = _money(sum_insured)
    problems += [
        f"policy {policy}: its claims hold {amount} of a sum insured of {limits[policy]}"
        for policy, amount in held.items()
        if amount > limits[policy]
    ]
    for cid, reference, amount in session.execute(PAYMENTS):
        if paid_by_record[cid].get(reference) != _money(amount):
            problems.append(
                f"payment {reference}: {_money(amount)}, its record says {paid_by_record[cid].get(reference)}"
            )
    return problems
