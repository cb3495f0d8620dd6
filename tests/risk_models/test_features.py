import datetime as dt

import numpy as np
import pandas as pd
import pytest

from risk_models import features as F
from risk_models import frames


@pytest.fixture(scope="module")
def fitted(claims):
    return F.ClaimFeatures().fit(claims)


def test_batch_and_online_features_are_identical(claims, fitted):
    sample = claims.sample(300, random_state=1)
    batch = frames.frame(fitted, sample)
    online = pd.DataFrame([F.record(fitted, row) for row in sample.to_dict("records")])
    for name in batch.columns:
        if batch[name].dtype == object:
            assert list(batch[name]) == list(online[name]), name
        else:
            np.testing.assert_array_equal(batch[name].to_numpy(float), online[name].to_numpy(float), name)


def test_dates_may_be_text_or_dates(claims, fitted):
    row = claims.iloc[0].to_dict()
    as_text = {
        **row,
        **{k: row[k].isoformat() for k in ("policy_start", "incident_date", "report_date")},
    }
    assert F.record(fitted, row) == F.record(fitted, as_text)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("claimed_amount", None, "required for scoring but missing"),
        ("claimed_amount", "lots", "expected a number"),
        ("incident_date", "2026-13-01", "expected a date"),
        ("police_report", "yes", "expected true or false"),
        ("prior_claims_12m", True, "expected a number, got true/false"),
        ("peril", ["theft"], "expected text"),
    ],
)
def test_a_bad_field_is_named(claims, fitted, field, value, message):
    row = {**claims.iloc[0].to_dict(), field: value}
    with pytest.raises(F.FeatureError) as err:
        F.record(fitted, row)
    assert err.value.field == field and message in err.value.message


def test_optional_fields_may_be_absent(claims, fitted):
    row = claims.iloc[0].to_dict()
    for name in ("bank_account_changed_days", "police_report", "third_party"):
        row.pop(name)
    values = F.record(fitted, row)
    assert np.isnan(values["bank_account_changed_days"]) and np.isnan(values["police_report"])


def test_batch_names_a_missing_column(claims, fitted):
    with pytest.raises(F.FeatureError, match="claimed_amount: column is missing"):
        frames.frame(fitted, claims.drop(columns=["claimed_amount"]))


def test_derived_values(fitted):
    row = {
        "product": "motor",
        "peril": "glass",
        "channel": "app",
        "claimed_amount": 3000.0,
        "sum_insured_remaining": 6000.0,
        "policy_start": dt.date(2026, 1, 1),
        "incident_date": dt.date(2026, 1, 11),
        "report_date": dt.date(2026, 1, 14),
        "incident_hour": 3,
        "prior_claims_12m": 1,
        "provider_claims_90d": 2,
        "injuries": 0,
    }
    values = F.record(fitted, row)
    assert values["amount_to_remaining"] == 0.5
    assert values["days_since_inception"] == 10 and values["report_delay_days"] == 3
    assert values["night_time"] == 1.0
    assert values["amount_to_typical"] == pytest.approx(3000.0 / fitted.typical["motor/glass"])
