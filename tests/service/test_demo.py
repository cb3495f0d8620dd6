"""`claims demo` walks its six claims end to end, each refusal one it means to show."""

from rich.console import Console

from service import demo
from tests.service.conftest import KEYS, PEOPLE


def test_the_demo_walk_reaches_every_end_and_shows_each_control(client):
    keys = {PEOPLE[role]: KEYS[role] for role in PEOPLE if not role.startswith("senior_reviewer3")}
    console = Console(record=True, width=200)
    walk = demo.run("http://testserver", keys, console, http=client, wait=0)
    text = console.export_text()
    assert walk.refusals[:2] == [(409, "conflict"), (409, "dual_approval")], walk.refusals
    controls = walk.refusals[-3:]
    assert controls == [(403, "override_confirmation"), (422, "invalid_input"), (409, "conflict")], (
        walk.refusals
    )
    assert "the retried report returned" in text and "payment held until verified" in text
    assert text.count("retry returned the same payment: True") == 4  # claims 1, 2, 3 and 6 are paid
    assert "decision by li.wei: deny -> denied" in text
    # It leaves work for each of the workbench's people.
    headers = {"X-API-Key": KEYS["specialist"]}
    mine = client.get("/v1/queues/mine", headers=headers).json()["items"]
    assert {"under_review", "senior_review"} <= {c["status"] for c in mine}
    held = client.get("/v1/investigations?status=open", headers={"X-API-Key": KEYS["investigator"]}).json()
    assert held
