from tests.service.conftest import claim_body, headers


def test_fnol(client, new_policy):
    number = new_policy()
    r = client.post("/v1/claims", json=claim_body(number), headers=headers("claims_system"))
    print(r.json())
    assert r.status_code == 201
