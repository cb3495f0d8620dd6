import pandas as pd
import pytest

from risk_models import synth
from rules import facts as fact_io
from rules.rulebook import load_shipped


def test_same_seed_same_claims_other_seed_other_claims():
    a, b = synth.generate(2000, seed=5), synth.generate(2000, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not synth.generate(2000, seed=6)["claimed_amount"].equals(a["claimed_amount"])


def test_fraud_rate_and_red_flags(claims):
    assert 0.04 < claims["is_fraud"].mean() < 0.06
    fraud, honest = claims[claims.is_fraud == 1], claims[claims.is_fraud == 0]
    bank = claims["bank_account_changed_days"]
    recent_bank = bank.notna() & (bank < 14)
    assert recent_bank[fraud.index].mean() > 5 * recent_bank[honest.index].mean()
    # honest claims that look suspicious exist, so the problem is not trivial
    assert recent_bank[honest.index].sum() > 100
    late = (pd.to_datetime(claims.report_date) - pd.to_datetime(claims.incident_date)).dt.days > 14
    assert late[fraud.index].mean() > 3 * late[honest.index].mean() > 0


def test_product_lines_and_their_facts_match_the_rulebooks(claims):
    assert set(claims["product"]) == {"motor", "health", "property"}
    books = load_shipped()
    for row in claims.head(1500).to_dict("records"):
        fact_io.check(books[row["product"]].facts, synth.rulebook_facts(row))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_writes_parquet_and_csv(tmp_path, suffix):
    frame = synth.generate(300, seed=1)
    path = synth.write(frame, tmp_path / f"claims{suffix}")
    back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert len(back) == 300 and back["is_fraud"].sum() == frame["is_fraud"].sum()


def test_refuses_unknown_file_type(tmp_path):
    with pytest.raises(ValueError, match=r"use \.parquet or \.csv"):
        synth.write(synth.generate(10), tmp_path / "claims.xlsx")
