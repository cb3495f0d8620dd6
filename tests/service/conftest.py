"""Service test harness: a real database per backend, migrations applied, one fixed scorer.

Every test runs inside a transaction rolled back afterwards (sessions join it through
savepoints), so tests see only their own data. Backends: SQLite always, PostgreSQL when
TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from risk_models import synth
from risk_models.features import ClaimFeatures
from risk_models.scorer import Scorer
from risk_models.train import TrainConfig, train
from service.config import Settings
from service.database import make_engine, session_factory
from service.db import upgrade
from service.main import create_app

PEOPLE = {
    "claims_system": "claims-system",
    "specialist": "li.wei",
    "specialist2": "chen.jing",
    "senior_reviewer": "wang.fang",
    "senior_reviewer2": "zhang.min",
    "investigator": "liu.yang",
    "analyst": "zhao.lei",
    "analyst2": "sun.li",
    "risk_team": "zhou.xin",
    "admin": "admin",
    # li.wei also holds a senior reviewer key: four eyes must still stop her reviewing twice.
    "senior_reviewer3": "li.wei",
}
KEYS = {name: f"test-key-{name}" for name in PEOPLE}
BACKENDS = ["sqlite", *(["postgres"] if os.environ.get("TEST_POSTGRES_URL") else [])]


def headers(who: str, **extra: str) -> dict[str, str]:
    """Return request headers authenticating as one of the test people."""
    return {"X-API-Key": KEYS[who], **extra}


def env_keys() -> str:
    return ",".join(f"{name.rstrip('23')}:{PEOPLE[name]}:{KEYS[name]}" for name in PEOPLE)


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    """A small fixed model: trained once on generated claims, seeded."""
    claims = synth.generate(8000, seed=21)
    result = train(claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=21, cv_folds=0))
    return Scorer(result.model, "test")


def fresh_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of an empty database of this backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'claims.db'}"
    base = make_url(os.environ["TEST_POSTGRES_URL"])
    name = f"claims_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def make_settings(url: str, data_dir) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, api_keys=env_keys(), load_model=False)


@pytest.fixture(scope="session", params=BACKENDS)
def backend_app(request, scorer, tmp_path_factory) -> Iterator[tuple[TestClient, str]]:
    """One migrated database and one running app per backend."""
    url = fresh_database(request.param, tmp_path_factory)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(make_settings(url, tmp_path_factory.mktemp("data")), scorer=scorer)
    with TestClient(app) as client:
        yield client, request.param


def migrated_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of a new database of this backend with the migrations applied."""
    if backend == "postgres" and not os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("TEST_POSTGRES_URL not set")
    url = fresh_database(backend, tmp_path_factory)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """Serve the app with uvicorn on a free local port, in a thread; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def committed_client(request, scorer, tmp_path_factory) -> Iterator[TestClient]:
    """An app on its own database whose requests really commit (no test transaction): for races."""
    url = migrated_database(request.param, tmp_path_factory)
    with TestClient(create_app(make_settings(url, tmp_path_factory.mktemp("data")), scorer=scorer)) as client:
        yield client


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def money_client(request, scorer, tmp_path_factory) -> Iterator[TestClient]:
    """An app on its own committed database with the money-path driver's people."""
    from bench.money_path import API_KEYS

    url = migrated_database(request.param, tmp_path_factory)
    data = tmp_path_factory.mktemp("data")
    settings = Settings(data_dir=data, database_url=url, api_keys=API_KEYS, load_model=False)
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client


@pytest.fixture
def client(backend_app) -> Iterator[TestClient]:
    """A client whose every database change is rolled back after the test."""
    test_client, _ = backend_app
    runtime = test_client.app.state.runtime
    connection = runtime.db.connect()
    outer = connection.begin()
    original = runtime.sessions, runtime.readers
    info = runtime.sessions.kw["info"]  # the audit key, as the app's own units of work have it
    runtime.sessions = session_factory(connection, join_transaction_mode="create_savepoint", info=info)
    runtime.readers = session_factory(
        connection, readonly=True, join_transaction_mode="create_savepoint", info=info
    )
    try:
        yield test_client
    finally:
        runtime.sessions, runtime.readers = original
        outer.rollback()
        connection.close()


@pytest.fixture
def backend(backend_app) -> str:
    return backend_app[1]


_counter = iter(range(10**9))


def policy_body(product: str = "motor", **changes) -> dict:
    """A valid policy in force for the last and next half year."""
    today = dt.date.today()
    body = {
        "policy_number": f"POL-{product[:3].upper()}-{next(_counter):06d}",
        "product": product,
        "holder_name": "Wang Xiaoming",
        "start_date": (today - dt.timedelta(days=200)).isoformat(),
        "end_date": (today + dt.timedelta(days=164)).isoformat(),
        "sum_insured": "300000.00",
        "deductible": "500.00",
        "options": {"theft_cover": True} if product == "motor" else {},
    }
    return {**body, **changes}


PRODUCT_FACTS = {
    "motor": {
        "driver_intoxicated": False,
        "driver_licensed": True,
        "intentional_loss": False,
        "catastrophe_event": False,
    },
    "health": {
        "treatment": "outpatient",
        "hospital_network": "in_network",
        "pre_existing_condition": False,
        "self_inflicted": False,
        "under_influence": False,
        "catastrophe_event": False,
    },
    "property": {
        "forced_entry": False,
        "vacant_days": 0,
        "wear_and_tear": False,
        "intentional_loss": False,
        "catastrophe_event": False,
    },
}
PERIL = {"motor": "single_vehicle", "health": "illness", "property": "burst_pipe"}


def claim_body(policy_number: str, product: str = "motor", **changes) -> dict:
    """A valid first notice of loss for a policy."""
    incident = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=1)
    facts = {**PRODUCT_FACTS[product], **changes.pop("facts", {})}
    body = {
        "policy_number": policy_number,
        "channel": "app",
        "incident_at": incident.replace(hour=14).isoformat(),
        "peril": PERIL[product],
        "description": "Hit a bollard while parking.",
        "claimed_amount": "4200.00",
        "location": "Shanghai, Pudong",
        "payee_account": "6222 0000 1111 2222",
        "provider": "Pudong Auto Repair",
        "facts": facts,
    }
    return {**body, **changes}


@pytest.fixture
def new_policy(client):
    """Create a policy and return its number (product chosen by the caller)."""

    def make(product: str = "motor", **changes) -> str:
        body = policy_body(product, **changes)
        response = client.post("/v1/policies", json=body, headers=headers("claims_system"))
        assert response.status_code == 201, response.text
        return body["policy_number"]

    return make


class Flow:
    """Drive claims over HTTP as the test people, asserting each step succeeds."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def call(self, who: str, method: str, path: str, body=None, expect: int = 200, **extra):
        response = self.client.request(method, path, json=body, headers=headers(who, **extra))
        assert response.status_code == expect, response.text
        return response.json()

    def policy(self, product: str = "motor", **changes) -> str:
        body = policy_body(product, **changes)
        self.call("claims_system", "POST", "/v1/policies", body, expect=201)
        return body["policy_number"]

    def report(self, product: str = "motor", policy: str | None = None, **changes) -> dict:
        number = policy or self.policy(product)
        return self.call(
            "claims_system", "POST", "/v1/claims", claim_body(number, product, **changes), expect=201
        )

    def send_documents(self, claim: dict) -> dict:
        for doc in claim["documents"]["missing"]:
            body = {"doc_type": doc["code"], "file_name": f"{doc['code']}.pdf", "sha256": "ab" * 32}
            claim = self.call(
                "claims_system", "POST", f"/v1/claims/{claim['claim_number']}/documents", body, expect=201
            )["claim"]
        return claim

    def review(self, claim: dict, who: str, stage: str, recommendation: str = "approve", expect: int = 201):
        body = {"stage": stage, "recommendation": recommendation}
        if claim["payable_amount"] not in (None, "0.00"):
            body["amount"] = claim["payable_amount"]
        return self.call(who, "POST", f"/v1/claims/{claim['claim_number']}/reviews", body, expect=expect)

    def approve(self, claim: dict, who: str, expect: int = 200, amount: str | None = None):
        body = {"outcome": "approve", "amount": amount or claim["payable_amount"]}
        return self.call(who, "POST", f"/v1/claims/{claim['claim_number']}/decision", body, expect=expect)

    def pay(self, claim: dict, key: str, expect: int = 201, **body):
        return self.call(
            "claims_system",
            "POST",
            f"/v1/claims/{claim['claim_number']}/payments",
            {"method": "bank_transfer", **body},
            expect=expect,
            **{"Idempotency-Key": key},
        )

    def approved_claim(self) -> dict:
        claim = self.send_documents(self.report())
        self.review(claim, "specialist", "preliminary")
        return self.approve(claim, "specialist")


@pytest.fixture
def flow(client) -> Flow:
    return Flow(client)
