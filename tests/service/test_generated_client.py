"""The contract is good enough for a mainstream generator: a client generated from /openapi.json
(openapi-python-client) walks a claim from intake to payment against a real server, with typed
answers and problems."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.main import create_app
from tests.service.conftest import (
    KEYS,
    claim_body,
    live_server,
    make_settings,
    migrated_database,
    policy_body,
)

PACKAGE = "claims_client"


@pytest.fixture(scope="module")
def client_package(scorer, tmp_path_factory):
    """Generate the client from the app's own contract and import it."""
    out = tmp_path_factory.mktemp("generated")
    app = create_app(make_settings(migrated_database("sqlite", tmp_path_factory), out), scorer=scorer)
    spec = out / "openapi.json"
    spec.write_text(json.dumps(app.openapi()))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [bin_dir / "openapi-python-client", "generate", "--path", spec, "--meta", "none"]
    done = subprocess.run(
        [*command, "--output-path", out / PACKAGE],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The generator warns about every part of the contract it could not turn into code.
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def base_url(request, scorer, tmp_path_factory):
    url = migrated_database(request.param, tmp_path_factory)
    app = create_app(make_settings(url, tmp_path_factory.mktemp("data")), scorer=scorer)
    with live_server(app) as base:
        yield base


def _api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_the_generated_client_walks_a_claim_from_intake_to_payment(client_package, base_url):
    models = importlib.import_module(f"{PACKAGE}.models")
    as_who = {
        who: client_package.AuthenticatedClient(
            base_url=base_url, token=KEYS[who], raise_on_unexpected_status=True
        )
        for who in ("claims_system", "specialist")
    }
    system, specialist = as_who["claims_system"], as_who["specialist"]

    policy = _api("policies.create_policy").sync(client=system, body=models.PolicyIn.from_dict(policy_body()))
    assert isinstance(policy, models.PolicyOut), policy
    claim = _api("claims.report_claim").sync(
        client=system, body=models.ClaimIn.from_dict(claim_body(policy.policy_number))
    )
    assert isinstance(claim, models.ClaimDetail), claim
    assert claim.status == models.ClaimDetailStatus.DOCUMENTS_PENDING and claim.documents.missing
    number = claim.claim_number

    for item in claim.documents.missing:
        added = _api("claims.add_document").sync(
            number,
            client=system,
            body=models.DocumentIn(doc_type=item.code, file_name=f"{item.code}.pdf", sha256="ab" * 32),
        )
        assert isinstance(added, models.DocumentAdded), added
    claim = added.claim
    assert claim.status == models.ClaimDetailStatus.UNDER_REVIEW and not claim.documents.missing

    review = _api("claims.add_review").sync(
        number,
        client=specialist,
        body=models.ReviewIn(
            stage=models.ReviewInStage.PRELIMINARY,
            recommendation=models.ReviewInRecommendation.APPROVE,
            amount=claim.payable_amount,
        ),
    )
    assert isinstance(review, models.ClaimDetail), review
    decided = _api("claims.decide").sync(
        number,
        client=specialist,
        body=models.DecisionIn(outcome=models.DecisionInOutcome.APPROVE, amount=claim.payable_amount),
    )
    assert isinstance(decided, models.ClaimDetail) and decided.status == models.ClaimDetailStatus.APPROVED, (
        decided
    )

    payment = _api("payments.pay").sync(
        number,
        client=system,
        body=models.PaymentIn(method=models.PaymentInMethod.BANK_TRANSFER),
        idempotency_key=f"pay-{number}",
    )
    assert isinstance(payment, models.PaymentOut), payment
    assert payment.amount == claim.payable_amount

    final = _api("claims.get_claim").sync(number, client=system)
    assert isinstance(final, models.ClaimDetail)
    assert (
        final.status == models.ClaimDetailStatus.PAID
        and final.paid_amount == claim.payable_amount
        and final.reserve == "0.00"
    )
    records = _api("claims.decisions").sync(number, client=system)
    kinds = [r.kind for r in records]
    assert kinds[:2] == ["reported", "adjudication"] and kinds[-2:] == ["payment", "message"], kinds
    assert "decision" in kinds and all(r.record_hash for r in records)


def test_problems_come_back_typed(client_package, base_url):
    models = importlib.import_module(f"{PACKAGE}.models")
    system = client_package.AuthenticatedClient(base_url=base_url, token=KEYS["claims_system"])
    missing = _api("claims.get_claim").sync("CLM-NOPE", client=system)
    assert isinstance(missing, models.Problem)
    assert missing.status == 404 and missing.code == "not_found" and missing.field == "claim_number"
    stranger = client_package.AuthenticatedClient(base_url=base_url, token="not-a-key")
    refused = _api("claims.get_claim").sync("CLM-NOPE", client=stranger)
    assert isinstance(refused, models.Problem) and refused.code == "unauthorized"
