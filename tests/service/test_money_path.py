"""A short seeded random run of the money path, concurrent rounds, invariants after each."""

from bench.money_path import run


def test_a_random_money_path_keeps_every_invariant(money_client):
    driver = run(money_client, requests=400, seed=11, chains_every=10)
    assert driver.violations == []
    # The run did reach the money: claims were approved and paid, and retries were answered.
    assert len(driver.claims) >= 10 and len(driver.payments) >= 3, dict(driver.codes)
    assert any(k.endswith(" 200") and k.startswith("POST /v1/claims ") for k in driver.codes)
