"""The generic mode's guards, on tables shaped like real exports: ids however they are spelt or
repeated, time columns of every kind, delimiters, columns dropped or kept by hand, one-column
leaks, and every user mistake answered in one line with exit code 2."""

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from risk_models import tabular
from risk_models.train import TrainConfig, leak_warnings, single_column_aucs, split_by_time
from service.cli import app

runner = CliRunner()


def _export(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """An insurer's export: ids of several spellings, a year, a month name, a real signal."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(int)
    return pd.DataFrame(
        {
            "PolicyNumber": (np.arange(n) + 1 + 1) // 2,  # each policy behind two claims
            "RepNumber": rng.integers(1, 17, n),
            "ClaimID": [f"C{i:06d}" for i in range(n)],
            "CustomerId": rng.permutation(n),
            "number_of_vehicles": rng.integers(1, 4, n),
            "Ref": (np.arange(n) + 2) // 3,  # no telling name: content shows it counts rows
            "Month": rng.choice(["Jan", "Feb", "Mar", "Apr", "May", "Jun"], n),
            "Year": np.repeat([1994, 1995, 1996], n // 3),
            "Deductible": rng.choice([300, 400, 500, 700], n),
            "AgeOfVehicle": rng.choice(["new", "2 years", "5 years", "more than 7"], n),
            "PastNumberOfClaims": rng.choice(["none", "1", "2 to 4", "more than 4"], n),
            "amount": np.round(rng.lognormal(8, 1, n) * (1 + 1.5 * y)),
            "FraudFound_P": y,
        }
    )


def test_ids_are_dropped_by_their_name_in_any_spelling_and_by_their_content():
    frame = _export()
    features = tabular.TableFeatures("FraudFound_P").assign(frame)
    roles = {r.column: r for r in features.roles}
    for column in ("PolicyNumber", "RepNumber", "ClaimID", "CustomerId", "Ref"):
        assert roles[column].role == "dropped", roles[column]
    assert "a few rows" in roles["Ref"].reason  # found by content: numbered in row order, 3 rows each
    assert roles["number_of_vehicles"].role == "numeric"  # a count, not an id
    assert roles["amount"].role == "numeric"  # many values, spread out: an amount
    assert roles["Deductible"].role == "numeric" and roles["AgeOfVehicle"].role == "categorical"
    assert [tabular.words(n) for n in ("RepNumber", "ClaimID", "customer_id")] == [
        ["rep", "number"],
        ["claim", "id"],
        ["customer", "id"],
    ]


def test_drop_and_keep_change_the_roles_and_unknown_columns_are_named():
    frame = _export()
    features = tabular.TableFeatures("FraudFound_P").assign(frame, drop=["Deductible"], keep=["RepNumber"])
    roles = {r.column: r for r in features.roles}
    assert roles["Deductible"].role == "dropped" and "--drop" in roles["Deductible"].reason
    assert roles["RepNumber"].role == "numeric" and "--keep" in roles["RepNumber"].reason
    with pytest.raises(ValueError, match="no column 'Nope'"):
        tabular.TableFeatures("FraudFound_P").assign(frame, drop=["Nope"])
    with pytest.raises(ValueError, match="is the label"):
        tabular.TableFeatures("FraudFound_P").assign(frame, keep=["FraudFound_P"])


def test_time_columns_years_epoch_seconds_dates_and_month_names():
    years = tabular.times(pd.Series([1994, 1996, None], name="Year"))
    assert list(years.dt.year[:2]) == [1994, 1996] and years.isna().iloc[2]
    epoch = tabular.times(pd.Series([1_700_000_000, 1_600_000_000], name="ts"))
    assert list(epoch.dt.year) == [2023, 2020]
    assert list(tabular.times(pd.Series(["2024-03-01", "3/2/2024"], name="d")).dt.month) == [3, 3]
    with pytest.raises(ValueError, match="month names"):
        tabular.times(pd.Series(["Jan", "Feb", "Dec"], name="Month"))
    with pytest.raises(ValueError, match="neither years"):
        tabular.times(pd.Series([3, 7, 9], name="Week"))


def test_rows_with_no_time_are_fitted_on_and_never_held_out():
    frame = _export()
    frame["when"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    frame.loc[frame.index[::4], "when"] = None  # a quarter of the rows have no date
    fit, calibration, holdout = split_by_time(frame, "when", TrainConfig(), "FraudFound_P")
    blank = set(np.flatnonzero(frame["when"].isna().to_numpy()))
    assert blank <= set(fit) and not blank & (set(calibration) | set(holdout))
    assert len(fit) + len(calibration) + len(holdout) == len(frame)
    newest = frame["when"].iloc[holdout].min()
    assert frame["when"].iloc[calibration].max() <= newest  # the holdout is still the newest


def test_a_column_that_alone_separates_the_labels_is_named():
    frame = _export()
    frame["siu_flag"] = np.where(frame["FraudFound_P"] == 1, "referred", "none")
    features = tabular.TableFeatures("FraudFound_P").assign(frame)
    from risk_models import frames

    x = frames.frame(features, frame)
    warned = leak_warnings(single_column_aucs(x, frame["FraudFound_P"].to_numpy(), features))
    assert (
        len(warned) == 1
        and "'siu_flag' alone separates the labels" in warned[0]
        and "--drop siu_flag" in warned[0]
    )
    clean = tabular.TableFeatures("FraudFound_P").assign(frame.drop(columns="siu_flag"))
    x = frames.frame(clean, frame)
    assert leak_warnings(single_column_aucs(x, frame["FraudFound_P"].to_numpy(), clean)) == []


def _write(frame: pd.DataFrame, path, sep: str = ",") -> str:
    frame.to_csv(path, index=False, sep=sep)
    return str(path)


def _one_line_exit_2(arguments: list[str], pattern: str) -> None:
    result = runner.invoke(app, ["model", "train", "--no-register", *arguments])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and re.search(pattern, result.output), result.output
    assert len(result.output.strip().splitlines()) <= 2, result.output


def test_user_mistakes_are_one_line_and_exit_2(tmp_path):
    frame = _export(600)
    good = _write(frame, tmp_path / "claims.csv")
    three = frame.assign(FraudFound_P=frame["FraudFound_P"] + (frame.index % 7 == 0))
    one = frame.assign(FraudFound_P=0)
    clustered = frame.assign(FraudFound_P=(frame.index < 80).astype(int))
    _one_line_exit_2(["--data", str(tmp_path / "missing.csv"), "--label", "FraudFound_P"], "no file")
    _one_line_exit_2(["--data", good, "--label", "Fraud"], "no column 'Fraud'")
    _one_line_exit_2(["--data", good, "--label", "FraudFound_P", "--time-column", "When"], "no column 'When'")
    _one_line_exit_2(["--data", good, "--label", "FraudFound_P", "--time-column", "Month"], "month names")
    _one_line_exit_2(["--data", good, "--label", "FraudFound_P", "--drop", "Nope"], "no column 'Nope'")
    _one_line_exit_2(["--data", _write(three, tmp_path / "3.csv"), "--label", "FraudFound_P"], "two values")
    _one_line_exit_2(["--data", _write(one, tmp_path / "1.csv"), "--label", "FraudFound_P"], "two values")
    clustered_file = _write(clustered, tmp_path / "c.csv")
    _one_line_exit_2(
        ["--data", clustered_file, "--label", "FraudFound_P", "--time-column", "Year"], "clustered in time"
    )
    _one_line_exit_2(["--drop", "x"], "apply to a table")


@pytest.mark.model
def test_a_semicolon_export_trains_with_the_year_as_its_time_column_and_not_as_a_feature(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    frame = _export()
    frame.loc[frame.index[:90], "Year"] = None  # rows with no year: never in the holdout
    path = _write(frame, tmp_path / "oracle.csv", sep=";")
    result = runner.invoke(
        app,
        [
            "model",
            "train",
            "--no-register",
            "--data",
            path,
            "--label",
            "FraudFound_P",
            "--time-column",
            "Year",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dropped column Year: the time column" in result.output
    assert "dropped column PolicyNumber" in result.output and "dropped column RepNumber" in result.output
    assert "90 rows with no Year: fitted on, never in the holdout" in result.output
    assert "holdout: 582 newest claims (1996-01-01 .. 1996-01-01)" in result.output
    assert "1970" not in result.output
    random = runner.invoke(
        app, ["model", "train", "--no-register", "--data", path, "--label", "FraudFound_P"]
    )
    assert random.exit_code == 0, random.output
    assert "claims drawn at random (no time column)" in random.output
