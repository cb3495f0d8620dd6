"""Drive claims through the proxy of scripts/topology, kill a replica part-way, check nothing was lost.

Each claim goes policy -> report -> documents -> preliminary review -> approval -> payment, one
thread per claim, several at once. After a quarter of the claims, a burst of reports is sent at
once and one replica's process group is killed with SIGKILL while it works on them. A request
that fails on the way (a transport error, or 502-504 from the proxy) is retried: reports and
payments with the same Idempotency-Key; the other steps are not idempotent, so the claim is
read again and the step is taken only if it did not happen.

At the end, through the API: every claim started exists once, each was paid once, a retried
report or payment answers with what the first one made, the change feed holds no event twice,
the worker sent every message; and `claims audit verify` passes. Exit 1 on any problem.
TOPOLOGY_CLAIMS (60) and TOPOLOGY_KILL_DELAY_MS (50) change how many claims and when the kill comes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

AT_ONCE = 8
CLAIMS = max(int(os.environ.get("TOPOLOGY_CLAIMS", "60")), AT_ONCE)
KILL_AFTER = CLAIMS // 4  # claims taken to their payment before the kill
# The next AT_ONCE claims send their reports at one moment and the kill comes KILL_DELAY later,
# while the replica is working on its share of them: answers are lost after (or before) commit.
KILL_DELAY = float(os.environ.get("TOPOLOGY_KILL_DELAY_MS", "50")) / 1000
TRANSIENT = {502, 503, 504}
FACTS = {
    "driver_intoxicated": False,
    "driver_licensed": True,
    "intentional_loss": False,
    "catastrophe_event": False,
}


def bodies(run: str, i: int) -> tuple[dict, dict]:
    """The policy and the report of claim i: one policy each, each holder their own account."""
    today = dt.date.today()
    number = f"TOPO-{run}-{i:03d}"
    policy = {
        "policy_number": number,
        "product": "motor",
        "holder_name": f"Topology {i}",
        "start_date": (today - dt.timedelta(days=200)).isoformat(),
        "end_date": (today + dt.timedelta(days=164)).isoformat(),
        "sum_insured": "300000.00",
        "deductible": "500.00",
        "options": {"theft_cover": True},
    }
    incident = dt.datetime.now().replace(microsecond=0, hour=9) - dt.timedelta(days=2)
    report = {
        "policy_number": number,
        "channel": "app",
        "incident_at": incident.isoformat(),
        "peril": "single_vehicle",
        "description": "Hit a bollard while parking.",
        "claimed_amount": "4200.00",
        "payee_account": f"6222 {i:04d} {int(run, 16) % 10**8:08d}",
        "contact_email": f"holder{i}@example.com",
        "facts": FACTS,
    }
    return policy, report


def document(claim_number: str, code: str) -> dict:
    """A small document with its content, stored by the replica under the shared folder."""
    content = f"{claim_number} {code}".encode()
    return {
        "doc_type": code,
        "file_name": f"{code}.pdf",
        "sha256": hashlib.sha256(content).hexdigest(),
        "content_base64": base64.b64encode(content).decode(),
    }


class Driver:
    """The claims, the counts and the problems found, shared by the threads."""

    def __init__(self) -> None:
        self.keys = {}
        for item in os.environ["CLAIMS_API_KEYS"].split(","):
            role, _, key = item.split(":", 2)
            self.keys[role] = key
        url, ca = os.environ["TOPOLOGY_URL"], os.environ["TOPOLOGY_CA"]
        self.http = httpx.Client(base_url=url, verify=ca, timeout=30)
        self.run = uuid.uuid4().hex[:8].upper()
        self.lock = threading.Lock()
        self.count: Counter[str] = Counter()
        self.served: Counter[str] = Counter()  # "replica before|after" -> requests
        self.problems: list[str] = []
        self.claims: dict[int, dict] = {}  # claim index -> what the driver made
        self.killed_at: float | None = None
        self.burst = threading.Barrier(AT_ONCE + 1, timeout=60)  # broken if a claim fails before it
        self.started = time.monotonic()

    def problem(self, text: str) -> None:
        """Note a loss, a duplicate or an unexpected answer."""
        with self.lock:
            self.problems.append(text)

    def note(self, what: str) -> None:
        """Count something that happened."""
        with self.lock:
            self.count[what] += 1

    def call(self, role: str, method: str, path: str, body=None, key: str | None = None, retry=True):
        """One request; a transient failure is retried (same headers) if `retry`, else answers None."""
        headers = {"X-API-Key": self.keys[role], **({"Idempotency-Key": key} if key else {})}
        for attempt in range(60):
            sent = time.monotonic()
            try:
                response = self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                failed = type(exc).__name__
            else:
                with self.lock:
                    self.count["requests"] += 1
                    # By when it was sent: app1 may answer just before it dies, read just after.
                    phase = "after" if self.killed_at and sent > self.killed_at else "before"
                    self.served[f"{response.headers.get('X-Claims-Replica', '-')} {phase}"] += 1
                if response.status_code not in TRANSIENT:
                    if attempt:
                        self.note(
                            f"{method} retried {'with the same Idempotency-Key' if key else '(a read)'}"
                        )
                    return response
                failed = str(response.status_code)
            self.note(f"failed ({failed})")
            if not retry:
                self.note(f"{method} lost, not idempotent: state checked before trying again")
                return None
            time.sleep(0.25)
        raise RuntimeError(f"{method} {path}: still failing after 60 tries")

    def expect(self, response: httpx.Response | None, *codes: int) -> bool:
        """Whether the step answered as it should (None: lost on the way, the claim is read again)."""
        if response is None:
            return False
        if response.status_code not in codes:
            where = f"{response.request.method} {response.request.url.path}"
            self.problem(f"{where}: {response.status_code} {response.text[:300]}")
            return False
        return True

    def kill_one_replica(self) -> None:
        """When the burst's reports are sent, SIGKILL app1's process group (`claims serve` and its
        workers, as when a host dies)."""
        self.burst.wait()
        time.sleep(KILL_DELAY)
        os.killpg(int(os.environ["TOPOLOGY_KILL_GROUP"]), signal.SIGKILL)
        with self.lock:
            self.killed_at = time.monotonic()

    # --- one claim's life ----------------------------------------------------------------
    def life(self, i: int) -> None:
        """Take claim i from its policy to its payment."""
        policy, report = bodies(self.run, i)
        while True:  # an answer lost on the way: the policy may exist (409 then)
            made = self.call("claims_system", "POST", "/v1/policies", policy, retry=False)
            if made is not None:
                if made.status_code not in (201, 409):
                    return self.problem(f"policy {policy['policy_number']}: {made.status_code} {made.text}")
                break
        mine = {"policy": policy["policy_number"], "report": report}
        mine["report_key"], mine["pay_key"] = f"report-{self.run}-{i:03d}", f"pay-{self.run}-{i:03d}"
        if KILL_AFTER <= i < KILL_AFTER + AT_ONCE:
            self.burst.wait()
        answer = self.call("claims_system", "POST", "/v1/claims", report, key=mine["report_key"])
        if not self.expect(answer, 201, 200):
            return None
        mine["claim"] = number = answer.json()["claim_number"]
        with self.lock:
            self.claims[i] = mine
        if answer.status_code == 200:
            self.note("reports answered as a retry")
        path = f"/v1/claims/{number}"
        for _ in range(40):
            claim = self.call("claims_system", "GET", path).json()
            status, actions = claim["status"], claim["allowed_actions"]
            reviewed = any(r["stage"] == "preliminary" for r in claim["reviews"])
            if status == "paid":
                return None
            if status == "documents_pending":
                for doc in claim["documents"]["missing"]:
                    body = document(number, doc["code"])
                    self.expect(
                        self.call("claims_system", "POST", f"{path}/documents", body, retry=False), 201
                    )
            elif status == "under_review" and not reviewed:
                body = {
                    "stage": "preliminary",
                    "recommendation": "approve",
                    "amount": claim["payable_amount"],
                }
                self.expect(self.call("specialist", "POST", f"{path}/reviews", body, retry=False), 201)
            elif status == "under_review" and "approve" in actions:
                body = {"outcome": "approve", "amount": claim["payable_amount"]}
                self.expect(self.call("specialist", "POST", f"{path}/decision", body, retry=False), 200)
            elif status == "approved" and "pay" in actions:
                body = {"method": "bank_transfer"}
                paid = self.call("claims_system", "POST", f"{path}/payments", body, key=mine["pay_key"])
                if self.expect(paid, 201, 200):
                    mine["reference"] = paid.json()["reference"]
                    if paid.status_code == 200:
                        self.note("payments answered as a retry")
            else:
                return self.problem(f"{number} stuck: {status}, on hold {claim['on_hold']}, may {actions}")
        return self.problem(f"{number} not paid after 40 steps")

    # --- the checks ----------------------------------------------------------------------
    def check(self) -> list[str]:
        """Every claim once, every payment once, the replays, the documents; then the rest."""
        if len(self.claims) != CLAIMS:
            self.problem(f"{CLAIMS - len(self.claims)} claims were never reported")
        found: Counter[str] = Counter()
        offset = 0
        while True:
            page = self.call("claims_system", "GET", f"/v1/claims?limit=200&offset={offset}").json()
            found.update(row["policy_number"] for row in page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
        once = paid_once = replays = docs = 0
        folder = Path(os.environ["TOPOLOGY_DOCUMENTS"])
        for mine in self.claims.values():
            number = mine["claim"]
            if found[mine["policy"]] == 1:
                once += 1
            else:
                self.problem(f"policy {mine['policy']} holds {found[mine['policy']]} claims, not 1")
            claim = self.call("claims_system", "GET", f"/v1/claims/{number}").json()
            payments = claim["payments"]
            if (
                claim["status"] == "paid"
                and len(payments) == 1
                and payments[0]["reference"] == mine.get("reference")
                and claim["paid_amount"] == claim["approved_amount"] == payments[0]["amount"]
            ):
                paid_once += 1
            else:
                self.problem(f"{number}: {claim['status']}, payments {payments}, paid {claim['paid_amount']}")
            # Retried now, long after and on the other replica: each key answers with what it made.
            again = self.call("claims_system", "POST", "/v1/claims", mine["report"], key=mine["report_key"])
            body = {"method": "bank_transfer"}
            pay = self.call(
                "claims_system", "POST", f"/v1/claims/{number}/payments", body, key=mine["pay_key"]
            )
            if (again.status_code, pay.status_code) == (200, 200) and (
                again.json()["claim_number"],
                pay.json()["reference"],
            ) == (number, mine.get("reference")):
                replays += 1
            else:
                self.problem(f"{number}: replayed report {again.status_code}, payment {pay.status_code}")
            for doc in claim["documents"]["received"]:
                if doc["stored"] and (folder / number / doc["sha256"]).is_file():
                    docs += 1
                else:
                    self.problem(f"{number}: document {doc['doc_type']} not in the shared folder")
        return [
            f"claims started {len(self.claims)}/{CLAIMS}; found exactly once {once}; "
            f"paid exactly once {paid_once}",
            f"sent again at the end with the same Idempotency-Key: {replays} report+payment pairs answered "
            "with the claim and payment they first made",
            f"documents stored in the folder the replicas share: {docs}",
            self.check_feed(),
            self.check_messages(),
            self.check_edges(),
            self.audit(),
        ]

    def check_feed(self) -> str:
        """The change feed from the start: no event twice, each claim's payment in it once."""
        after, ids, paid = 0, Counter(), Counter()
        while True:
            page = self.call("claims_system", "GET", f"/v1/events?after={after}&limit=1000").json()
            for event in page["events"]:
                ids[event["id"]] += 1
                if event["kind"] == "status" and event["new"] == "paid":
                    paid[event["claim_number"]] += 1
            after = page["next_cursor"]
            if not page["more"]:
                break
        twice = [i for i, n in ids.items() if n > 1]
        if twice:
            self.problem(f"change feed: {len(twice)} events appear more than once")
        wrong = [m["claim"] for m in self.claims.values() if paid[m["claim"]] != 1]
        if wrong:
            self.problem(f"change feed: {len(wrong)} claims without exactly one 'paid' event: {wrong[:3]}")
        return f"change feed: {len(ids)} events, {len(twice)} twice; 'paid' once for {len(paid)} claims"

    def check_messages(self) -> str:
        """Every customer message sent by the worker process (within 30 s)."""
        deadline = time.monotonic() + 30
        while True:
            statuses: Counter[str] = Counter()
            for mine in self.claims.values():
                path = f"/v1/claims/{mine['claim']}/messages"
                statuses.update(m["status"] for m in self.call("claims_system", "GET", path).json())
            if set(statuses) <= {"sent"} or time.monotonic() > deadline:
                break
            time.sleep(1)
        if set(statuses) - {"sent"} or not statuses:
            self.problem(f"messages not all sent by the worker: {dict(statuses)}")
        return f"customer messages sent by the worker: {statuses['sent']} of {statuses.total()}"

    def check_edges(self) -> str:
        """Plain HTTP is redirected, /metrics kept in; the replicas' take the token; who served."""
        plain = httpx.get(f"{os.environ['TOPOLOGY_HTTP_URL']}/healthz")
        if plain.status_code != 308 or not plain.headers.get("location", "").startswith("https://"):
            self.problem(f"plain HTTP answered {plain.status_code}, not a redirect to https")
        token = {"Authorization": f"Bearer {os.environ['CLAIMS_METRICS_TOKEN']}"}
        outside = self.http.get("/metrics", headers=token).status_code
        if outside != 404:
            self.problem(f"/metrics through the proxy answered {outside}, not 404")
        scraped = []
        for url in os.environ["TOPOLOGY_REPLICAS"].split(","):
            try:
                scraped.append(str(httpx.get(f"{url}/metrics", headers=token, timeout=5).status_code))
            except httpx.TransportError:
                scraped.append("down")
        if scraped != ["down", "200"]:
            self.problem(f"/metrics of app1, app2: {scraped} (expected the killed one down, the other 200)")
        before = {k for k in self.served if k.endswith("before") and not k.startswith("-")}
        if len(before) < 2 or any(k.startswith("app1") and k.endswith("after") for k in self.served):
            self.problem(f"replicas served {dict(self.served)}: expected both before the kill, app2 after")
        return (
            f"plain HTTP -> {plain.status_code} to https; /metrics through the proxy {outside}, "
            f"on the replicas with the scrape token: app1 {scraped[0]}, app2 {scraped[1]}"
        )

    def audit(self) -> str:
        """`claims audit verify` on the database the replicas wrote."""
        claims = Path(sys.executable).with_name("claims")
        done = subprocess.run([str(claims), "audit", "verify"], capture_output=True, text=True, check=False)
        last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        if done.returncode != 0:
            self.problem(
                f"claims audit verify exited {done.returncode}: {done.stdout[-500:]}{done.stderr[-500:]}"
            )
        return f"claims audit verify: exit {done.returncode}: {last}"


def main() -> int:
    """Drive, check, print the summary; 1 if anything was lost, doubled or refused."""
    driver = Driver()
    burst = KILL_AFTER + AT_ONCE
    phases = [range(KILL_AFTER), range(KILL_AFTER, burst), range(burst, CLAIMS)]
    for phase, claims in enumerate(phases):
        with ThreadPoolExecutor(max_workers=AT_ONCE + 1) as pool:
            futures = [pool.submit(driver.life, i) for i in claims]
            if phase == 1:
                futures.append(pool.submit(driver.kill_one_replica))
            for future in futures:
                try:
                    future.result()
                except Exception as exc:
                    driver.problem(f"driver error: {type(exc).__name__}: {exc}")
    took = time.monotonic() - driver.started
    lines = driver.check()
    killed = f"{driver.killed_at - driver.started:.1f} s in" if driver.killed_at else "never"
    served = ", ".join(f"{k} the kill {v}" for k, v in sorted(driver.served.items()))
    lost = {k: v for k, v in sorted(driver.count.items()) if k != "requests"}
    print("topology summary")
    print(f"  {CLAIMS} claims, {AT_ONCE} at once, through HAProxy over TLS in {took:.1f} s")
    print(
        f"  replica app1 SIGKILLed {killed}, {KILL_DELAY * 1000:.0f} ms after "
        f"{AT_ONCE} reports were sent at once"
    )
    print(f"  {driver.count['requests']} answered requests: {served}")
    print(f"  lost on the way and retried: {lost or 'none'}")
    for line in lines:
        print(f"  {line}")
    for text in driver.problems[:30]:
        print(f"  PROBLEM {text}")
    print(f"  result: {'FAIL' if driver.problems else 'PASS'} ({len(driver.problems)} problems)")
    return 1 if driver.problems else 0


if __name__ == "__main__":
    sys.exit(main())
