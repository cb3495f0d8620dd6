import pytest

from rules import expressions as ex

FACTS = {
    "amount": ex.FactType(ex.Kind.NUMBER),
    "deductible": ex.FactType(ex.Kind.NUMBER),
    "peril": ex.FactType(ex.Kind.STRING, allowed=("fire", "theft", "flood")),
    "injured": ex.FactType(ex.Kind.BOOL),
    "start": ex.FactType(ex.Kind.DATE),
    "incident": ex.FactType(ex.Kind.DATE),
    "band": ex.FactType(ex.Kind.STRING, optional=True, allowed=("low", "high")),
    "docs": ex.FactType(ex.Kind.LIST, allowed=("form", "photo")),
}
PARAMS = {"limit": 1000, "band": "high", "perils": ["fire", "flood"], "sla": {"simple": 3}}


def parse(text):
    return ex.normalize(ex.parse(text, FACTS, PARAMS))


def run(text, **facts):
    return ex.evaluate(parse(text), facts)


BASE = {
    "amount": 500.0,
    "deductible": 100.0,
    "peril": "fire",
    "injured": False,
    "start": 100,
    "incident": 110,
    "docs": ["form"],
}


@pytest.mark.parametrize(
    ("text", "changes", "expected"),
    [
        ("amount <= params.limit", {}, True),
        ("amount - deductible > 450", {}, False),
        ("amount * 2 == 1000", {}, True),
        ("-amount < 0", {}, True),
        ("peril in ['fire', 'theft']", {}, True),
        ("peril not in params.perils", {}, False),
        ("not injured and peril == 'fire'", {}, True),
        ("injured or amount > 400", {}, True),
        ("days_between(start, incident) < 30", {}, True),
        ("days_between(start, incident) == 10", {}, True),
        ("incident >= start", {}, True),
        ("0 < amount <= params.limit", {}, True),
        ("'photo' in docs", {}, False),
        ("'photo' not in docs", {}, True),
        ("'photo' not in docs", {"docs": []}, True),
        ("present(band)", {}, False),
        ("missing(band)", {}, True),
        ("band == params.band", {"band": "high"}, True),
        ("params.sla.simple == 3 and amount > 0", {}, True),
        ("true", {}, True),
    ],
)
def test_evaluates(text, changes, expected):
    assert run(text, **{**BASE, **changes}) is expected


def test_absent_optional_fact_makes_its_atom_false_even_negated():
    assert run("band == 'high'", **BASE) is False
    assert run("band != 'high'", **BASE) is False
    assert run("not (band == 'high')", **BASE) is False
    assert run("band != 'high' or amount > 0", **BASE) is True


def test_negation_is_pushed_to_the_atoms():
    node = parse("not (amount > 5 and peril in ['fire'])")
    assert node == ex.Or(
        (
            ex.Compare("<=", ex.Fact("amount", ex.Kind.NUMBER, False), ex.Const(5, ex.Kind.NUMBER)),
            ex.InList(ex.Fact("peril", ex.Kind.STRING, False), ("fire",), negated=True),
        )
    )


def test_constant_parts_fold_away():
    assert parse("params.limit > 5 and injured") == parse("injured")
    assert parse("params.limit < 5 or injured") == parse("injured")
    assert parse("params.limit > 5 or injured") == ex.Const(True, ex.Kind.BOOL)


def test_fact_names_in_first_use_order():
    assert ex.fact_names(parse("amount > 1 and (peril == 'fire' or amount < 9)")) == (
        "amount",
        "peril",
    )


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("amount > (3", "syntax error", 10),
        ("amont > 5", "unknown fact 'amont'", 1),
        ("amount > params.limt", "unknown param 'params.limt'", 10),
        ("amount > 'ten'", "cannot compare a number with a string", 1),
        ("peril == 'meteor'", "'meteor' is not an allowed value of 'peril'", 10),
        ("peril in ['fire', 'meteor']", "'meteor' is not an allowed value of 'peril'", 10),
        ("peril > 'fire'", "'>' needs numbers or dates", 1),
        ("amount + peril > 1", "arithmetic needs numbers", 10),
        ("amount", "expected a condition", 1),
        ("days_between(start, amount) > 1", "days_between needs dates", 21),
        ("present(amount)", "is required, so always present", 9),
        ("'x' in docs", "'x' can never be in 'docs'", 1),
        ("amount ** 2 > 1", "unsupported operator", 1),
        ("__import__('os')", "unknown function", 1),
        ("amount.real > 1", "only params.<name> may use a dot", 1),
        ("amount in []", "non-empty list", 11),
        ("incident > start + 1", "arithmetic needs numbers", 12),
        ("", "empty expression", 1),
    ],
)
def test_refuses_with_message_and_column(text, message, column):
    with pytest.raises(ex.ExpressionError) as err:
        ex.parse(text, FACTS, PARAMS)
    assert message in err.value.message
    assert err.value.column == column


def test_render_round_trips_to_the_same_tree():
    node = parse("amount - deductible > params.limit and peril in ['fire'] or missing(band)")
    assert parse(ex.render(node)) == node
