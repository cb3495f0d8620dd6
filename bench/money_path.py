"""A seeded random driver of the money path, checking its invariants after every round.

Rounds of one to four requests at once, on a few shared policies: reports (fresh keys and
retries of earlier ones), documents, reviews, approvals (within and above the payable amount,
by whoever), denials, payments (fresh keys and retries), payee changes and verifications,
withdrawals. After each round the database must show: paid <= approved, an approved claim
holding exactly its approved amount, no policy's claims holding more than its sum insured,
payments adding up to what each claim was paid, one payment per key, each reserve equal to its
last recorded move, every retried report and payment answered with what the first one made,
no server error (`service.claims.balances.reconcile`, also run by `claims audit verify`); and,
every few rounds and at the end, every record chain intact.

`python -m bench money` runs 10,000 requests on PostgreSQL (TEST_POSTGRES_URL); the suite runs
a short one on each database.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
import zlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from service import audit
from service.claims.balances import reconcile

PEOPLE = {
    "claims-system": "claims_system",
    "li.wei": "specialist",
    "chen.jing": "specialist",
    "wang.fang": "senior_reviewer",
    "zhang.min": "senior_reviewer",
}
KEYS = {name: f"money-path-{name}" for name in PEOPLE}
API_KEYS = ",".join(f"{role}:{name}:{KEYS[name]}" for name, role in PEOPLE.items())
DEFAULT_FACTS = {
    "driver_intoxicated": False,
    "driver_licensed": True,
    "intentional_loss": False,
    "catastrophe_event": False,
}
PAYMENT_KEYS = text("SELECT count(*), count(DISTINCT idempotency_key) FROM payments")


class MoneyPath:
    """Drive the money path over HTTP with a seeded random choice of who does what, and when."""

    def __init__(self, client: TestClient, seed: int, policies: int = 3) -> None:
        self.client = client
        self.random = random.Random(seed)
        self.claims: list[str] = []
        self.reports: dict[str, tuple[dict, str]] = {}  # key -> (body, claim number)
        self.payments: dict[str, tuple[str, dict, str]] = {}  # key -> (claim, body, reference)
        self.violations: list[str] = []
        self.codes: dict[str, int] = defaultdict(int)
        self.requests = 0
        self.seed, self.made = seed, 0
        self.policies = [self._policy() for _ in range(policies)]
        self.live: list[str] = []  # claims not yet settled: where the next actions go

    def _call(self, who: str, method: str, path: str, body: Any = None, key: str | None = None):
        headers = {"X-API-Key": KEYS[who], **({"Idempotency-Key": key} if key else {})}
        response = self.client.request(method, path, json=body, headers=headers)
        self.requests += 1
        self.codes[f"{method} {re.sub(r'CLM-[0-9-]+', '{n}', path)} {response.status_code}"] += 1
        if response.status_code >= 500:
            self.violations.append(f"server error {response.status_code} on {method} {path}: {response.text}")
        return response

    def _policy(self) -> str:
        today, i = dt.date.today(), self.made
        self.made += 1
        number = f"POL-MONEY-{self.seed}-{i}"
        body = {
            "policy_number": number,
            "product": "motor",
            "holder_name": f"Holder {i}",
            "start_date": (today - dt.timedelta(days=200)).isoformat(),
            "end_date": (today + dt.timedelta(days=164)).isoformat(),
            "sum_insured": "250000.00",
            "deductible": "0.00",
            "options": {"theft_cover": True},
        }
        self._call("claims-system", "POST", "/v1/policies", body)
        return number

    # --- the actions ------------------------------------------------------------------------
    def report(self) -> None:
        """Report a new claim, or retry an earlier report with its key and body."""
        if self.reports and self.random.random() < 0.25:
            key = self.random.choice(list(self.reports))
            body, number = self.reports[key]
            response = self._call("claims-system", "POST", "/v1/claims", body, key)
            if response.status_code == 200 and response.json()["claim_number"] != number:
                self.violations.append(f"retried report {key} made {response.json()['claim_number']}")
            return
        incident = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=self.random.randint(1, 20))
        if len(self.reports) % 12 == 11:  # a new policy now and then; the last three stay shared
            self.policies = [*self.policies[1:], self._policy()]
        policy = self.random.choice(self.policies)
        body = {
            "policy_number": policy,
            "channel": "app",
            "incident_at": incident.replace(hour=10).isoformat(),
            "peril": "single_vehicle",
            "description": "money path",
            "claimed_amount": f"{self.random.choice((4000, 9000, 30000, 60000, 90000))}.00",
            # Each policyholder their own account: one account across policies is a ring's sign,
            # referred to investigation and held, and the path would seldom reach a payment.
            "payee_account": f"6222 0000 {zlib.crc32(policy.encode()) % 10**8:08d}",
            "facts": DEFAULT_FACTS,
        }
        key = f"report-{len(self.reports):06d}-{self.random.getrandbits(32):08x}"
        response = self._call("claims-system", "POST", "/v1/claims", body, key)
        if response.status_code in (200, 201):
            number = response.json()["claim_number"]
            self.reports[key] = (body, number)
            if number not in self.claims:
                self.claims.append(number)
                self.live.append(number)

    def act(self, number: str) -> None:
        """Take one action on a claim, chosen for (but not always fitting) the state it was in."""
        claim = self._call("li.wei", "GET", f"/v1/claims/{number}").json()
        path, pick = f"/v1/claims/{number}", self.random.random()
        status = claim.get("status")
        if status in ("paid", "closed", "denied", "withdrawn") and number in self.live:
            self.live.remove(number)
        payable = Decimal(claim.get("payable_amount") or "0")
        if status == "documents_pending":
            for doc in claim["documents"]["missing"]:
                body = {"doc_type": doc["code"], "file_name": "f.pdf", "sha256": "ab" * 32}
                self._call("claims-system", "POST", f"{path}/documents", body)
        elif status == "under_review" and pick < 0.6:
            amount = (payable * Decimal(self.random.choice(("1", "1", "0.8", "1.3")))).quantize(
                Decimal("0.01")
            )
            body = {"stage": "preliminary", "recommendation": "approve"}
            if amount > 0:
                body["amount"] = str(amount)
            self._call(self.random.choice(("li.wei", "chen.jing")), "POST", f"{path}/reviews", body)
        elif status == "senior_review" and pick < 0.5:
            body = {"stage": "senior", "recommendation": "approve"}
            self._call(self.random.choice(("wang.fang", "zhang.min")), "POST", f"{path}/reviews", body)
        elif status in ("under_review", "senior_review") and pick < 0.9:
            self._decide(path, payable)
        elif status == "approved" and pick < 0.75:
            self._pay(number)
        elif status in ("approved", "under_review") and pick < 0.85:
            account = f"6217 {self.random.randint(1000, 9999)} 0000 1111"
            self._call(
                "claims-system", "PATCH", f"{path}/payee", {"payee_account": account, "reason": "new bank"}
            )
        elif not claim.get("payee_verified", True):
            self._call("li.wei", "POST", f"{path}/payee/verify")
        elif status in ("reported", "documents_pending", "under_review") and pick < 0.95:
            self._call("claims-system", "POST", f"{path}/withdraw")

    def _decide(self, path: str, payable: Decimal) -> None:
        who = self.random.choice(list(PEOPLE)[1:])
        if self.random.random() < 0.15:
            body = {
                "outcome": "deny",
                "reason_codes": ["NOT_AN_INSURED_LOSS"],
                "explanation": {"zh-CN": "拒赔。", "en": "Denied."},
            }
        elif self.random.random() < 0.3:
            over = (payable + Decimal(self.random.choice((500, 5000, 40000)))).quantize(Decimal("0.01"))
            body = {"outcome": "approve", "amount": str(over), "override_reason_code": "EX_GRATIA"}
        else:
            body = {"outcome": "approve", "amount": str(payable)}
        self._call(who, "POST", f"{path}/decision", body)

    def _pay(self, number: str) -> None:
        path = f"/v1/claims/{number}/payments"
        mine = [k for k, (n, _, _) in self.payments.items() if n == number]
        if mine and self.random.random() < 0.3:
            key = self.random.choice(mine)
            _, body, reference = self.payments[key]
            response = self._call("claims-system", "POST", path, body, key)
            if response.status_code == 200 and response.json()["reference"] != reference:
                self.violations.append(f"retried payment {key} answered {response.json()['reference']}")
            return
        body = {"method": self.random.choice(("bank_transfer", "cheque"))}
        if self.random.random() < 0.5:
            body["amount"] = f"{self.random.choice((1000, 5000, 20000))}.00"
        key = f"pay-{len(self.payments):06d}-{self.random.getrandbits(32):08x}"
        response = self._call("claims-system", "POST", path, body, key)
        if response.status_code == 201:
            self.payments[key] = (number, body, response.json()["reference"])

    def round(self) -> int:
        """Fire one to four actions at once; return how many."""
        steps = []
        for _ in range(self.random.randint(1, 4)):
            if len(self.live) < 6 or self.random.random() < 0.05:
                steps.append(self.report)
            else:
                # Mostly the unsettled claims; now and then a settled one (late retries, stray acts).
                number = self.random.choice(self.live if self.random.random() < 0.9 else self.claims)
                steps.append(lambda number=number: self.act(number))
        with ThreadPoolExecutor(max_workers=len(steps)) as pool:
            for future in [pool.submit(step) for step in steps]:
                future.result()
        return len(steps)

    # --- the invariants ---------------------------------------------------------------------
    def check(self, chains: bool = False) -> None:
        """Append every invariant the database breaks now (and, if asked, every broken chain)."""
        runtime = self.client.app.state.runtime
        with runtime.readers() as session:
            self.violations.extend(reconcile(session))
            payments, keys = session.execute(PAYMENT_KEYS).one()
            broken = audit.verify(session)[1] if chains else []
        if payments != keys:
            self.violations.append(f"{payments} payments under {keys} keys")
        self.violations.extend(f"{b.claim_number} record {b.seq}: {b.problem}" for b in broken)


def run(client: TestClient, requests: int, seed: int = 7, chains_every: int = 25) -> MoneyPath:
    """Drive until about `requests` actions were taken, checking after every round."""
    driver = MoneyPath(client, seed)
    rounds = actions = 0
    while actions < requests:
        actions += driver.round()
        rounds += 1
        driver.check(chains=rounds % chains_every == 0)
    driver.check(chains=True)
    return driver


def main() -> None:
    """Run 10,000 actions on PostgreSQL and print the invariant violations found (target 0)."""
    import logging
    import os
    import tempfile
    from pathlib import Path

    from rich.console import Console

    from bench.common import machine, new_postgres_database, save
    from risk_models import synth
    from risk_models.features import ClaimFeatures
    from risk_models.scorer import Scorer
    from risk_models.train import TrainConfig, train
    from service.config import Settings
    from service.database import make_engine
    from service.db import upgrade
    from service.main import create_app

    console = Console()
    logging.disable(logging.INFO)  # the service logs every request: 10,000 lines say nothing here
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        console.print("money path: no TEST_POSTGRES_URL (`make bench` starts PostgreSQL); skipped")
        return
    target = new_postgres_database(base, "claims_money")
    engine = make_engine(target)
    upgrade(engine)
    engine.dispose()
    claims = synth.generate(8000, seed=21)
    model = train(claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=21, cv_folds=0)).model
    data = Path(tempfile.mkdtemp(prefix="claims-money-"))
    settings = Settings(data_dir=data, database_url=target, api_keys=API_KEYS, load_model=False)
    requests = int(os.environ.get("BENCH_MONEY_REQUESTS", "10000"))
    console.print(f"[bold]money path[/bold]: {requests:,} actions on PostgreSQL, {machine()}")
    start = time.perf_counter()
    with TestClient(create_app(settings, scorer=Scorer(model, "bench"))) as client:
        driver = run(client, requests)
    seconds = time.perf_counter() - start
    console.print(
        f"  {driver.requests:,} requests ({len(driver.claims):,} claims, {len(driver.payments):,} payments) "
        f"in {seconds:.0f} s; invariant violations: {len(driver.violations)} (target 0)"
    )
    for violation in driver.violations[:20]:
        console.print(f"  [red]{violation}[/red]")
    outcomes = dict(sorted(driver.codes.items()))
    figures = {"machine": machine(), "requests": driver.requests, "seconds": seconds}
    figures |= {"violations": driver.violations, "outcomes": outcomes}
    console.print(f"saved {save('money_path', figures)}")
    if driver.violations:
        raise SystemExit(1)
