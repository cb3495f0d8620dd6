"""`claims demo`: six claims walked over HTTP, then open work left in the queues for the workbench."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
import zlib
from typing import Any

import httpx
from rich.console import Console

TODAY = dt.date.today


# --- the walk over HTTP ------------------------------------------------------------

MOTOR = {
    "driver_intoxicated": False,
    "driver_licensed": True,
    "intentional_loss": False,
    "catastrophe_event": False,
}
PROPERTY = {
    "forced_entry": False,
    "vacant_days": 0,
    "wear_and_tear": False,
    "intentional_loss": False,
    "catastrophe_event": False,
}


class Walk:
    """A small HTTP client that speaks as the demo people."""

    def __init__(
        self, url: str, keys: dict[str, str], console: Console, http: httpx.Client | None = None
    ) -> None:
        self.http = http or httpx.Client(base_url=url, timeout=30)
        self.keys = keys
        self.console = console
        self.tag = secrets.token_hex(3).upper()
        self.refusals: list[tuple[int, str]] = []  # (status, rule or code) of each refused request

    def call(self, who: str, method: str, path: str, body: Any = None, **headers: str) -> dict[str, Any]:
        """Send one request; print a refusal instead of failing."""
        response = self.http.request(
            method, path, json=body, headers={"X-API-Key": self.keys[who], **headers}
        )
        data = response.json()
        if response.status_code >= 400:
            self.refusals.append((response.status_code, data.get("rule") or data.get("code")))
            step = f"{method} {path.rsplit('/', 1)[-1]}"
            self.console.print(
                f"    [yellow]{who}: {step} refused, {response.status_code} "
                f"{data.get('rule') or data.get('code')}: {data.get('detail')}[/yellow]"
            )
        return data

    def policy(self, product: str, sum_insured: str, days_in_force: int = 180, **options: bool) -> str:
        """Create a policy for one claim."""
        number = f"WALK-{product[:3].upper()}-{self.tag}-{secrets.token_hex(2).upper()}"
        start = TODAY() - dt.timedelta(days=days_in_force)
        self.call(
            "claims-system",
            "POST",
            "/v1/policies",
            {
                "policy_number": number,
                "product": product,
                "holder_name": "Demo Walk",
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=364)).isoformat(),
                "sum_insured": sum_insured,
                "deductible": "500.00",
                "options": options,
            },
        )
        return number

    def report(self, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """File a claim (under an idempotency key, if given) and print its first adjudication."""
        claim = self.call(
            "claims-system", "POST", "/v1/claims", body, **({"Idempotency-Key": key} if key else {})
        )
        adj = claim["adjudication"]
        self.console.print(
            f"  {claim['claim_number']}: {claim['status']}, coverage {adj['coverage']}, payable "
            f"{adj['payable_amount']}, route {adj['route']}, risk {claim['risk']['band']} "
            f"({claim['risk']['score']:.3f})"
        )
        self.console.print(f"    reasons: {', '.join(r['code'] for r in adj['reasons'])}")
        return claim

    def documents(self, claim: dict[str, Any]) -> dict[str, Any]:
        """Send every missing document."""
        for doc in claim["documents"]["missing"]:
            content = f"{doc['code']} for {claim['claim_number']}".encode()
            result = self.call(
                "claims-system",
                "POST",
                f"/v1/claims/{claim['claim_number']}/documents",
                {
                    "doc_type": doc["code"],
                    "file_name": f"{doc['code']}.pdf",
                    "sha256": hashlib.sha256(content).hexdigest(),
                },
            )
            claim = result.get("claim", claim)
        self.console.print(f"    documents sent: {claim['status']}, route {claim['route']}")
        return claim

    def review(
        self, claim: dict[str, Any], who: str, stage: str, recommendation: str, amount: str | None
    ) -> dict:
        """Record a review."""
        body = {
            "stage": stage,
            "recommendation": recommendation,
            "notes": f"{stage} review by {who}",
        }
        if amount:
            body["amount"] = amount
        result = self.call(who, "POST", f"/v1/claims/{claim['claim_number']}/reviews", body)
        if "claim_number" not in result:
            return claim  # refused: the line above says why
        self.console.print(f"    {stage} review by {who}: {recommendation} -> {result['status']}")
        return result

    def decide(self, claim: dict[str, Any], who: str, body: dict[str, Any]) -> dict[str, Any]:
        """Decide the claim."""
        result = self.call(who, "POST", f"/v1/claims/{claim['claim_number']}/decision", body)
        if "claim_number" not in result:
            return claim  # refused: the line above says why
        self.console.print(f"    decision by {who}: {body['outcome']} -> {result['status']}")
        return result

    def pay(self, claim: dict[str, Any]) -> None:
        """Pay the approved amount (retried once with the same key: one payment)."""
        key = f"demo-{claim['claim_number']}"
        path = f"/v1/claims/{claim['claim_number']}/payments"
        first = self.call(
            "claims-system", "POST", path, {"method": "bank_transfer"}, **{"Idempotency-Key": key}
        )
        again = self.call(
            "claims-system", "POST", path, {"method": "bank_transfer"}, **{"Idempotency-Key": key}
        )
        self.console.print(
            f"    paid {first.get('amount')} by bank transfer, ref {first.get('reference')} "
            f"(retry returned the same payment: {first.get('reference') == again.get('reference')})"
        )
        self.call("claims-system", "POST", f"/v1/claims/{claim['claim_number']}/close")

    def outbox(self, claim: dict[str, Any], wait: float = 10.0) -> None:
        """Print the claim's messages once the worker has sent them (or say it has not yet)."""
        deadline = time.monotonic() + wait
        while True:
            messages = self.call("zhao.lei", "GET", f"/v1/claims/{claim['claim_number']}/messages")
            done = isinstance(messages, list) and any(m["event"] == "survey_invitation" for m in messages)
            if (done and all(m["status"] != "queued" for m in messages)) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for m in messages if isinstance(messages, list) else []:
            self.console.print(f"    [{m['status']}] {m['event']}: {m['subject']}", markup=False)
        if not any(m["status"] == "sent" for m in messages or []):
            self.console.print(
                "    (no worker has sent them yet: `make run` runs one; or run `claims worker`)"
            )

    def history(self, claim: dict[str, Any]) -> None:
        """Print the claim's decision records."""
        records = self.call("zhao.lei", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
        path = " -> ".join(f"{r['kind']}({r['actor']})" for r in records)
        self.console.print(f"    records: {path}")
        messages = self.call("zhao.lei", "GET", f"/v1/claims/{claim['claim_number']}/messages")
        if isinstance(messages, list) and messages:
            sent = ", ".join(f"{m['event']} ({m['status']})" for m in messages)
            self.console.print(f"    messages to {messages[0]['recipient'] or 'nobody'}: {sent}")


def claim_body(policy: str, peril: str, amount: str, facts: dict, days_ago: int = 1, **extra: Any) -> dict:
    """A first notice of loss."""
    incident = dt.datetime.combine(TODAY() - dt.timedelta(days=days_ago), dt.time(15, 0))
    return {
        "policy_number": policy,
        "channel": "app",
        "incident_at": incident.isoformat(),
        "peril": peril,
        "description": "Demo claim",
        "claimed_amount": amount,
        # Each customer their own account: one shared by several policies is a ring's sign.
        "payee_account": f"6222 0201 {zlib.crc32(policy.encode()) % 10**8:08d}",
        "contact_email": "customer@example.com",
        "facts": facts,
        **extra,
    }


def run(
    url: str, keys: dict[str, str], console: Console, http: httpx.Client | None = None, wait: float = 10.0
) -> Walk:
    """Walk six claims through the lifecycle: five kinds of claim, then the money controls."""
    w = Walk(url, keys, console, http)

    console.print("[bold]1. simple[/bold]: a small single-vehicle motor claim")
    claim = w.report(
        claim_body(w.policy("motor", "300000.00", theft_cover=True), "single_vehicle", "4200.00", MOTOR)
    )
    claim = w.documents(claim)
    claim = w.review(claim, "li.wei", "preliminary", "approve", claim["payable_amount"])
    claim = w.decide(claim, "li.wei", {"outcome": "approve", "amount": claim["payable_amount"]})
    w.pay(claim)
    w.history(claim)
    w.outbox(claim, wait)

    console.print("[bold]2. complex[/bold]: a collision with a third party, major fault")
    facts = {**MOTOR, "fault_share": "major"}
    claim = w.report(
        claim_body(
            w.policy("motor", "300000.00"),
            "collision",
            "80000.00",
            facts,
            third_party=True,
            police_report=True,
        )
    )
    claim = w.documents(claim)
    claim = w.review(claim, "li.wei", "preliminary", "approve", claim["payable_amount"])
    claim = w.decide(claim, "wang.fang", {"outcome": "approve", "amount": claim["payable_amount"]})
    claim = w.review(claim, "wang.fang", "senior", "approve", claim["payable_amount"])
    claim = w.decide(claim, "wang.fang", {"outcome": "approve", "amount": claim["payable_amount"]})
    w.pay(claim)
    w.history(claim)

    console.print("[bold]3. major[/bold]: a house fire over the remaining sum insured")
    claim = w.report(claim_body(w.policy("property", "1000000.00"), "fire", "1200000.00", PROPERTY))
    claim = w.documents(claim)
    claim = w.review(claim, "chen.jing", "preliminary", "approve", claim["payable_amount"])
    claim = w.review(claim, "zhang.min", "senior", "approve", claim["payable_amount"])
    # Above 500,000 one senior reviewer is not enough: the one who reviewed cannot also decide.
    claim = w.decide(claim, "zhang.min", {"outcome": "approve", "amount": claim["payable_amount"]})
    claim = w.decide(claim, "wang.fang", {"outcome": "approve", "amount": claim["payable_amount"]})
    w.pay(claim)
    w.history(claim)

    console.print("[bold]4. denied[/bold]: the driver was drunk (no documents asked, denied at once)")
    claim = w.report(
        claim_body(
            w.policy("motor", "300000.00"),
            "single_vehicle",
            "6000.00",
            {**MOTOR, "driver_intoxicated": True},
        )
    )
    # The rules already exclude it: the reason codes and the customer's texts default to theirs.
    claim = w.decide(claim, "li.wei", {"outcome": "deny"})
    w.call("claims-system", "POST", f"/v1/claims/{claim['claim_number']}/close")
    w.history(claim)

    console.print(
        "[bold]5. high risk[/bold]: new policy, new bank account, late night, late report, near the limit"
    )
    policy = w.policy("motor", "60000.00", days_in_force=40)
    earlier = w.report(
        claim_body(policy, "glass", "800.00", MOTOR, days_ago=30, payee_account="6222 0000 9999 0000")
    )
    w.call("claims-system", "POST", f"/v1/claims/{earlier['claim_number']}/withdraw")
    console.print(f"    {earlier['claim_number']} withdrawn: it only gives the policy a history")
    incident = dt.datetime.combine(TODAY() - dt.timedelta(days=33), dt.time(2, 30))
    body = claim_body(policy, "single_vehicle", "57000.00", MOTOR)
    body.update(incident_at=incident.isoformat(), payee_account="6217 8888 7777 6666", provider="Night Auto")
    claim = w.report(body)
    claim = w.documents(claim)
    claim = w.review(claim, "li.wei", "preliminary", "approve", claim["payable_amount"])
    claim = w.review(claim, "wang.fang", "senior", "approve", claim["payable_amount"])
    w.decide(claim, "wang.fang", {"outcome": "approve", "amount": claim["payable_amount"]})
    investigations = w.call("liu.yang", "GET", "/v1/investigations?status=open")
    mine = [i for i in investigations if i["claim_number"] == claim["claim_number"]]
    if mine:
        w.call(
            "liu.yang",
            "POST",
            f"/v1/investigations/{mine[0]['id']}/outcome",
            {"outcome": "confirmed_fraud", "notes": "Staged accident; repairer invoice forged."},
        )
        console.print("    investigation: confirmed fraud")
        claim = w.decide(
            claim,
            "wang.fang",
            {
                "outcome": "deny",
                "reason_codes": ["FRAUD_CONFIRMED"],
                "explanation": {
                    "zh-CN": "经调查，本次索赔存在欺诈行为，不予赔付。",
                    "en": "Our investigation found this claim to be fraudulent, so it is not payable.",
                },
            },
        )
    w.history(claim)

    console.print(
        "[bold]6. controls[/bold]: a retried report, an approval above the payable amount refused to a "
        "specialist and confirmed by a senior reviewer, a payee change held until verified"
    )
    body = claim_body(w.policy("motor", "300000.00"), "single_vehicle", "9000.00", MOTOR)
    key = f"demo-report-{w.tag}"
    claim = w.report(body, key)
    again = w.call("claims-system", "POST", "/v1/claims", body, **{"Idempotency-Key": key})
    console.print(f"    the retried report returned {again['claim_number']}: one claim")
    claim = w.documents(claim)
    claim = w.review(claim, "li.wei", "preliminary", "approve", claim["payable_amount"])
    above = f"{float(claim['payable_amount']) + 500:.2f}"  # a courtesy car on top, ex gratia
    override = {"outcome": "approve", "amount": above, "override_reason_code": "EX_GRATIA"}
    claim = w.decide(claim, "li.wei", override)  # refused: above the payable amount needs a senior
    claim = w.decide(claim, "wang.fang", override)
    path = f"/v1/claims/{claim['claim_number']}"
    w.call(
        "claims-system",
        "POST",
        f"{path}/payments",
        {"method": "bank_transfer", "payee": "SOMEONE ELSE 9999"},
        **{"Idempotency-Key": f"demo-other-{w.tag}"},
    )
    change = {"payee_account": "6217 0000 2222 3333", "reason": "the customer changed banks"}
    claim = w.call("claims-system", "PATCH", f"{path}/payee", change)
    console.print(f"    payee changed, re-scored: risk {claim['risk_band']}; payment held until verified")
    w.call(
        "claims-system",
        "POST",
        f"{path}/payments",
        {"method": "bank_transfer"},
        **{"Idempotency-Key": f"demo-held-{w.tag}"},
    )
    w.call("li.wei", "POST", f"{path}/payee/verify")
    console.print("    li.wei verified the new account with the customer")
    w.pay(claim)
    w.history(claim)
    leave_open_work(w)
    return w


def leave_open_work(w: Walk) -> None:
    """Leave claims in the queues for the workbench: work to do for each of its people."""
    console = w.console
    console.print("[bold]7. open work[/bold]: claims left in the queues for the workbench (/app)")
    ready = w.documents(w.report(claim_body(w.policy("motor", "300000.00"), "glass", "3800.00", MOTOR)))
    console.print(f"    {ready['claim_number']}: documents to verify, held by {ready['owner']}")
    owed = w.report(claim_body(w.policy("motor", "300000.00"), "single_vehicle", "5200.00", MOTOR))
    console.print(f"    {owed['claim_number']}: waiting for the customer's documents")
    fire = w.documents(
        w.report(claim_body(w.policy("property", "1000000.00"), "fire", "620000.00", PROPERTY))
    )
    fire = w.review(fire, fire["owner"] or "chen.jing", "preliminary", "approve", fire["payable_amount"])
    console.print(f"    {fire['claim_number']}: reviewed by {fire['owner']}, waiting for a senior review")
    policy = w.policy("motor", "60000.00", days_in_force=40)
    incident = dt.datetime.combine(TODAY() - dt.timedelta(days=33), dt.time(2, 30))
    body = claim_body(policy, "single_vehicle", "56000.00", MOTOR)
    body.update(incident_at=incident.isoformat(), payee_account="6217 8888 5555 4444", provider="Night Auto")
    held = w.report(body)
    console.print(f"    {held['claim_number']}: risk {held['risk_band']}, on hold: {held['on_hold']}")
