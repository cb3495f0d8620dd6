"""The published contract: security schemes, problem+json on every error, plain ids and summaries,
a page per problem type, and documentation served by the service itself."""

from service.openapi import PROBLEMS


def test_every_operation_is_named_secured_and_documents_its_problems(client):
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"ApiKey", "Bearer"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    operations = [(path, op) for path, ops in schema["paths"].items() for op in ops.values()]
    ids = [op["operationId"] for _, op in operations]
    assert len(ids) == len(set(ids)) and "report_claim" in ids and "pay" in ids
    for path, op in operations:
        assert op["summary"] and not op["summary"].endswith(".")
        if path.startswith("/v1/"):
            for status in ("401", "403", "404", "409", "422", "500"):
                content = op["responses"][status]["content"]
                assert content["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
        else:
            assert op["security"] == []


def test_every_problem_type_has_a_page(client, flow):
    for code in PROBLEMS:
        page = client.get(f"/problems/{code}")
        assert page.status_code == 200 and PROBLEMS[code][1] in page.text
    problem = flow.call("analyst", "GET", "/v1/claims/CLM-0000-0000000", expect=404)
    assert client.get(problem["type"]).status_code == 200
    assert client.get("/problems/no_such_thing").status_code == 404


def test_the_docs_load_their_assets_from_the_service(client):
    for page in ("/docs", "/redoc"):
        text = client.get(page).text
        assert "cdn" not in text.lower() and "/docs-assets/" in text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-assets/redoc.standalone.js").status_code == 200
