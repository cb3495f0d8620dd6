"""Generated requests for every operation of the published schema: none may get a 5xx, and every
answer must fit the schema the operation publishes.

A bounded, seeded run in the suite on each database (a few dozen cases an operation, as an
admin and as the claims system), and a stateful one that follows the contract's links from a
page of claims and a new report to the operations on that claim; `make fuzz` runs both longer.
"""

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.service.conftest import headers


class Started:
    """The running app, its lifespan already run: a second start would build a second runtime."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            if message["type"] == "lifespan.shutdown":
                return


FUZZ = {"deadline": None, "derandomize": True, "suppress_health_check": list(HealthCheck), "database": None}


def _operation(operation, who: str, examples: int, counts: dict[str, int]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=examples, **FUZZ)
    def each(case) -> None:
        response = case.call_and_validate(
            headers=headers(who), checks=[not_a_server_error, response_schema_conformance]
        )
        counts[operation.label] = counts.get(operation.label, 0) + 1
        assert response.status_code < 500

    each()


def fuzz(app, who: str, examples: int) -> dict[str, int]:
    """Send up to `examples` generated requests to every operation as one caller; return the counts."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", Started(app))
    counts: dict[str, int] = {}
    for result in schema.get_all_operations():
        _operation(result.ok(), who, examples, counts)
    return counts


def test_no_generated_request_gets_a_server_error(client, backend):
    examples = int(os.environ.get("FUZZ_EXAMPLES", "20"))  # `make fuzz` asks for more
    for who in ("admin", "claims_system"):
        counts = fuzz(client.app, who, examples)
        assert len(counts) >= 30 and sum(counts.values()) >= 20 * examples, counts
        total = sum(counts.values())
        print(f"\n{backend}, as {who}: {total:,} generated requests to {len(counts)} operations, no 5xx")


def test_following_the_links_from_claim_to_claim_operations_gets_no_server_error(client, backend, flow):
    for _ in range(3):
        flow.send_documents(flow.report())  # real claims for the links to lead to
    schema = schemathesis.openapi.from_asgi("/openapi.json", Started(client.app))
    calls: dict[tuple[str, int], int] = {}

    class Walk(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers("admin")}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            checks = [not_a_server_error, response_schema_conformance]
            case.validate_response(response, checks=checks, transport_kwargs=kwargs)

        def after_call(self, response, case):
            key = (case.operation.label, response.status_code)
            calls[key] = calls.get(key, 0) + 1

    # The walk picks among every operation: enough steps that its links reach real claims.
    examples = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "60"))
    Walk.run(settings=settings(max_examples=examples, stateful_step_count=8, **FUZZ))
    on_claims = {
        op for (op, status) in calls if op.startswith(("GET", "POST", "PATCH")) and "{claim_number}" in op
    }
    reached = {op for (op, status) in calls if "{claim_number}" in op and status in (200, 201, 409)}
    assert len(on_claims) >= 8 and reached, calls  # the links led to real claims, not only to 404s
    assert all(status < 500 for _, status in calls)
    print(f"\n{backend}, stateful: {sum(calls.values()):,} calls, {len(on_claims)} claim operations, no 5xx")
