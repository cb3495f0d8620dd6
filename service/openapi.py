"""The published contract: the API-key security scheme, problem+json on every error, plain
operation ids and summaries, and a page per problem type."""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from service.errors import NotFound

# Every problem type the service answers with, and what a caller should make of it.
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "bad_request": (400, "Bad request", "The request cannot be understood as sent."),
    "unauthorized": (
        401,
        "Missing or invalid API key",
        "Send a known key as X-API-Key or Authorization: Bearer.",
    ),
    "forbidden": (
        403,
        "Forbidden",
        "Your role or authority does not allow this: `rule`, `allowed_roles` or `may_approve` say who may.",
    ),
    "not_found": (
        404,
        "Not found",
        "The claim, policy, document or version named does not exist; `field` names it.",
    ),
    "method_not_allowed": (
        405,
        "Method not allowed",
        "The path exists; the `Allow` header lists its methods.",
    ),
    "conflict": (
        409,
        "Conflict with the current state",
        "The request does not fit the claim's state or a control (`rule`, `state`, `missing`): "
        "four eyes, dual approval, policy exposure, a reused key. Read the detail, then act.",
    ),
    "invalid_transition": (
        409,
        "Action not allowed in the current state",
        "The lifecycle does not allow this action now; `allowed_actions` lists what is.",
    ),
    "concurrent_update": (
        409,
        "The claim changed meanwhile",
        "Another request changed the claim: read it again, retry.",
    ),
    "payload_too_large": (413, "Request body too large", "Bodies are limited to 2 MB, chunked or not."),
    "validation_error": (
        422,
        "The request is not valid",
        "A field is missing, malformed or out of range; `errors` names each one.",
    ),
    "invalid_input": (
        422,
        "The request content cannot be accepted",
        "Well-formed but not acceptable (an unknown code, a fact the rulebook does not know): `field`.",
    ),
    "internal_error": (
        500,
        "Internal error",
        "The service failed; quote `request_id` to the operators, who find the traceback under it.",
    ),
}
ERRORS = (401, 403, 404, 409, 413, 422, 500)
# What a client (and a stateful test) may call next with a claim: OpenAPI links from a report's
# answer, and from a page of claims, to every operation on that claim.
CLAIM_LINK = {"claim_number": "$response.body#/claim_number"}
OPEN = ("/healthz", "/readyz")


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong and what is at fault (`field`, `state`, `rule`, …)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["/problems/validation_error"])
    title: str
    status: int
    detail: str
    instance: str
    code: str = Field(examples=["validation_error"])
    field: str | None = None
    errors: list[dict[str, str]] | None = None


def _document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for default in ("HTTPValidationError", "ValidationError"):
        schemas.pop(default, None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components["securitySchemes"] = {
        "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "Bearer": {"type": "http", "scheme": "bearer", "description": "the same API key as a bearer token"},
    }
    schema["security"] = [{"ApiKey": []}, {"Bearer": []}]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    on_a_claim = {
        op["operationId"]: op
        for path, ops in schema["paths"].items()
        if path.startswith("/v1/claims/{claim_number}")
        for op in ops.values()
    }
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            description = (operation.get("description") or "").strip()
            operation["summary"] = description.split("\n")[0].rstrip(".") or operation.get("summary", "")
            responses = operation.setdefault("responses", {})
            for status in ERRORS if path not in OPEN else (500,):
                title = next((t for s, t, _ in PROBLEMS.values() if s == status), "Error")
                responses[str(status)] = {"description": title, "content": problem}
            if path in OPEN:
                operation["security"] = []
    report = schema["paths"]["/v1/claims"]["post"]["responses"]
    links = {name: {"operationId": name, "parameters": CLAIM_LINK} for name in sorted(on_a_claim)}
    for status in ("200", "201"):
        report[status]["links"] = links
    first = {"claim_number": "$response.body#/items/0/claim_number"}  # the first claim listed
    schema["paths"]["/v1/claims"]["get"]["responses"]["200"]["links"] = {
        name: {"operationId": name, "parameters": first} for name in sorted(on_a_claim)
    }
    # A policy just made is one a report can name.
    schema["paths"]["/v1/policies"]["post"]["responses"]["201"]["links"] = {
        "report_claim": {
            "operationId": "report_claim",
            "requestBody": {"policy_number": "$response.body#/policy_number"},
        }
    }
    return schema


def install(app: FastAPI) -> None:
    """Publish the contract as described above, and `/problems/{code}` pages."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/problems/{code}", include_in_schema=False)
    def problem_page(code: str) -> HTMLResponse:
        """What one problem type means."""
        if code not in PROBLEMS:
            raise NotFound(f"no problem type {code}", field="code")
        status, title, meaning = PROBLEMS[code]
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;margin:2em'><h1>{status} {html.escape(title)}</h1>"
            f"<p><code>/problems/{html.escape(code)}</code></p><p>{html.escape(meaning)}</p></body></html>"
        )


def unique_id(route: Any) -> str:
    """Operation ids are the route functions' names: `report_claim`, `get_claim`, `pay`."""
    return route.name
