"""The batch evaluator and the durable-rules engine must agree, claim for claim."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from rules import batch, samples
from rules.engine import RulesEngine


@pytest.mark.parametrize("name", ["motor", "health", "property"])
def test_batch_and_engine_agree_on_10000_claims(books, name):
    book = books[name]
    claims = list(samples.generate(book, 10_000, seed=97))
    result = batch.evaluate(book, pd.DataFrame(claims))
    differences = []
    with RulesEngine(book) as engine:
        for i, claim in enumerate(claims):
            want = engine.evaluate(claim)
            got = (
                result.coverage[i],
                result.route[i],
                Decimal(int(result.payable_cents[i])) / 100,
                result.reason_codes(i),
                bool(result.investigate[i]),
                bool(result.review[i]),
            )
            if got != (
                want.coverage,
                want.route,
                want.payable_amount,
                want.reason_codes,
                want.investigate,
                want.review,
            ):
                differences.append((i, got, want.reason_codes))
    assert differences == []
    # The sample covers the edges the two evaluators could disagree on.
    assert set(result.coverage) >= {"covered", "partially_covered", "not_covered", "pending_documents"}
    assert result.fired.any(axis=0).all(), "every rule fires somewhere in the sample"
    missing_optional = [f for f, s in book.facts.items() if not s.required]
    assert all(any(f not in c for c in claims) for f in missing_optional)
    thresholds = {float(book.params["simple_max_amount"]), float(book.params["major_min_amount"])}
    assert any(float(c["claimed_amount"]) in thresholds for c in claims)


def test_batch_reads_the_test_table_base_claim(books):
    import yaml

    from rules.rulebook import RULEBOOK_DIR

    base = yaml.safe_load((RULEBOOK_DIR / "motor.tests.yaml").read_text(encoding="utf-8"))["base"]
    result = batch.evaluate(books["motor"], pd.DataFrame([base, {**base, "risk_band": None}]))
    assert list(result.coverage) == ["covered", "covered"]
    assert list(result.route) == ["simple", "complex"]
    assert list(result.payable_cents) == [350000, 350000]
    assert result.reason_codes(1) == ("PERIL_COVERED", "DEFAULT_ROUTE")


def test_list_facts_read_as_the_engine_reads_them():
    import numpy as np
    import pandas as pd

    from rules.batch import Members

    mixed = Members(pd.Series([["a", "b"], None, [], ["b"], "a", np.array(["a"])], dtype=object))
    assert mixed.contains("a").tolist() == [True, False, False, False, False, True]  # text is no list
    assert mixed.contains("zz").tolist() == [False] * 6
    texts = Members(pd.Series([["a", "b"], None, [], ["b"]], dtype=object))  # the fast path
    assert texts.contains("b").tolist() == [True, False, False, True]
    assert Members(pd.Series(["a", "b"], dtype=object)).contains("a").tolist() == [False, False]


def test_columns_converted_by_distinct_value_equal_a_row_by_row_conversion():
    from rules.batch import _encode

    data = pd.DataFrame(
        {
            "amount": ["4200.00", "n/a", None, "4200.00", "17"],
            "day": ["2026-11-30", None, "not a day", "2026-11-30", "2026-01-02"],
            "peril": ["glass", None, "glass", "theft", ["a list", "by mistake"]],
        }
    )
    amounts, _ = _encode(data, "amount", "money")
    assert np.array_equal(
        amounts, pd.to_numeric(data["amount"], errors="coerce").to_numpy(float), equal_nan=True
    )
    days, present = _encode(data, "day", "date")
    assert list(present) == [True, False, True, True, True]
    assert np.isnan(days[1]) and np.isnan(days[2]) and days[0] == days[3] and days[4] < days[0]
    perils, _ = _encode(data, "peril", "text")  # a list among the values: converted row by row
    assert list(perils[:4]) == ["glass", None, "glass", "theft"]
