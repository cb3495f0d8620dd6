"""A seeded generator of realistic claims for the motor, health and property lines.

Fraud (about 5%) is injected through the field's known red flags; honest claims show the
same flags at a lower rate, and some frauds show none, so the problem is not trivial.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

PRODUCTS = ("motor", "health", "property")
PRODUCT_SHARE = (0.55, 0.30, 0.15)
CHANNELS = ("hotline", "online", "app", "email")
PERILS = {
    "motor": ("collision", "single_vehicle", "theft", "fire", "flood", "glass", "vandalism"),
    "health": ("illness", "accident", "maternity", "dental", "cosmetic"),
    "property": (
        "fire",
        "flood",
        "storm",
        "theft",
        "burst_pipe",
        "earthquake",
        "accidental_damage",
    ),
}
PERIL_SHARE = {
    "motor": (0.42, 0.18, 0.08, 0.03, 0.06, 0.15, 0.08),
    "health": (0.62, 0.25, 0.08, 0.03, 0.02),
    "property": (0.12, 0.12, 0.14, 0.12, 0.35, 0.03, 0.12),
}
# Median claimed amount (CNY) by peril, before any inflation.
TYPICAL_AMOUNT = {
    "motor": (9000, 7000, 60000, 25000, 15000, 1500, 3000),
    "health": (6000, 9000, 15000, 2500, 8000),
    "property": (60000, 30000, 15000, 12000, 9000, 80000, 6000),
}
SUM_INSURED = {
    "motor": (50_000, 400_000),
    "health": (100_000, 1_000_000),
    "property": (200_000, 3_000_000),
}
DEDUCTIBLES = {"motor": (0, 500, 1000), "health": (0, 200, 500), "property": (500, 1000, 2000)}
FRAUD_RATE = 0.05
# Red flags: (probability among frauds, probability among honest claims).
FLAGS = {
    "early": (0.30, 0.05),
    "late_report": (0.28, 0.06),
    "near_limit": (0.22, 0.03),
    "repeat_claimant": (0.25, 0.05),
    "bank_changed": (0.30, 0.03),
    "no_police_for_theft": (0.55, 0.08),
    "night_single_vehicle": (0.35, 0.06),
    "hot_provider": (0.30, 0.05),
    "inflated": (0.32, 0.06),
}
_SENTINEL_DAYS = 9999


def _choice(rng: np.random.Generator, options: tuple, shares: tuple, n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=shares)]


def generate(n: int, seed: int = 7, end: dt.date = dt.date(2026, 10, 31), months: int = 24) -> pd.DataFrame:
    """Return n claims reported over `months` months up to `end`, with an `is_fraud` label."""
    rng = np.random.default_rng(seed)
    fraud = rng.random(n) < FRAUD_RATE
    flag = {
        name: np.where(fraud, rng.random(n) < p_fraud, rng.random(n) < p_honest)
        for name, (p_fraud, p_honest) in FLAGS.items()
    }
    product = _choice(rng, PRODUCTS, PRODUCT_SHARE, n)
    peril = np.empty(n, dtype=object)
    typical = np.empty(n)
    for name in PRODUCTS:
        mask = product == name
        idx = rng.choice(len(PERILS[name]), size=mask.sum(), p=PERIL_SHARE[name])
        peril[mask] = np.asarray(PERILS[name], dtype=object)[idx]
        typical[mask] = np.asarray(TYPICAL_AMOUNT[name])[idx]

    span = months * 30
    report = np.datetime64(end) - rng.integers(0, span, n).astype("timedelta64[D]")
    delay = np.where(flag["late_report"], rng.integers(15, 90, n), rng.geometric(0.45, n) - 1)
    incident = report - delay.astype("timedelta64[D]")
    since_start = np.where(flag["early"], rng.integers(0, 30, n), rng.integers(0, 365, n))
    policy_start = incident - since_start.astype("timedelta64[D]")
    out_of_period = rng.random(n) < 0.01  # honest mistakes: a loss just after the policy ended
    policy_start = np.where(out_of_period, incident - np.timedelta64(380, "D"), policy_start)
    policy_end = policy_start + np.timedelta64(364, "D")

    low = np.array([SUM_INSURED[p][0] for p in product], dtype=float)
    high = np.array([SUM_INSURED[p][1] for p in product], dtype=float)
    sum_insured = np.round(rng.uniform(low, high) / 1000) * 1000
    remaining = np.round(sum_insured * (1 - rng.uniform(0, 0.3, n) * (rng.random(n) < 0.3)), 2)
    amount = typical * rng.lognormal(0, 0.6, n)
    amount = np.where(flag["inflated"], amount * rng.uniform(2.0, 4.0, n), amount)
    amount = np.where(flag["near_limit"], remaining * rng.uniform(0.85, 1.0, n), amount)
    amount = np.clip(np.round(amount, 2), 50, None)
    deductible = np.array([rng.choice(DEDUCTIBLES[p]) for p in product], dtype=float)

    is_theft = peril == "theft"
    police = np.where(is_theft, ~flag["no_police_for_theft"], rng.random(n) < 0.3)
    single = (product == "motor") & (peril == "single_vehicle")
    night = flag["night_single_vehicle"] & single
    hour = np.where(night, rng.integers(0, 5, n), rng.choice(24, n, p=_hour_weights()))
    bank_days = np.where(
        flag["bank_changed"],
        rng.integers(0, 14, n),
        np.where(rng.random(n) < 0.6, _SENTINEL_DAYS, rng.integers(30, 1500, n)),
    )
    prior = np.where(flag["repeat_claimant"], 3 + rng.poisson(1.0, n), rng.poisson(0.3, n))
    provider_load = np.where(flag["hot_provider"], 12 + rng.poisson(6, n), rng.poisson(3, n))
    motor = product == "motor"
    injured = motor & (peril == "collision") & (rng.random(n) < 0.12)
    injuries = np.where(injured, 1 + rng.poisson(0.3, n), 0)
    fatalities = np.where(injured & (rng.random(n) < 0.04), 1, 0)
    third_party = motor & (peril == "collision") & (rng.random(n) < 0.7)

    frame = pd.DataFrame(
        {
            "claim_id": [f"SYN-{seed}-{i:07d}" for i in range(n)],
            "policy_number": [f"P{seed:03d}{i:08d}" for i in rng.permutation(n)],
            "product": product,
            "channel": _choice(rng, CHANNELS, (0.35, 0.25, 0.3, 0.1), n),
            "peril": peril,
            "policy_start": pd.to_datetime(policy_start).date,
            "policy_end": pd.to_datetime(policy_end).date,
            "incident_date": pd.to_datetime(incident).date,
            "report_date": pd.to_datetime(report).date,
            "incident_hour": hour.astype(int),
            "claimed_amount": amount,
            "deductible": deductible,
            "sum_insured": sum_insured,
            "sum_insured_remaining": remaining,
            "injuries": injuries.astype(int),
            "fatalities": fatalities.astype(int),
            "third_party": third_party,
            "police_report": police.astype(bool),
            "prior_claims_12m": prior.astype(int),
            "bank_account_changed_days": pd.array(
                np.where(bank_days == _SENTINEL_DAYS, -1, bank_days), dtype="Int64"
            ),
            "provider_claims_90d": provider_load.astype(int),
            "is_fraud": fraud.astype(int),
        }
    )
    frame.loc[frame["bank_account_changed_days"] < 0, "bank_account_changed_days"] = pd.NA
    _add_network(frame, np.random.default_rng([seed, 1]), fraud)
    _add_product_facts(frame, rng, fraud)
    return frame.sort_values("report_date", kind="stable").reset_index(drop=True)


# Organised rings: a share of frauds are paid into accounts (and reached on phones) that other
# policies' claims used too; honest households sometimes share one with one other policy.
RING = (0.22, 0.01)


def _add_network(frame: pd.DataFrame, rng: np.random.Generator, fraud: np.ndarray) -> None:
    """The network indicators, from their own random stream (the other columns stay as they were)."""
    n = len(frame)
    ring = np.where(fraud, rng.random(n) < RING[0], rng.random(n) < RING[1])
    household = rng.random(n) < 0.03
    frame["payee_shared_policies"] = np.where(ring, 2 + rng.poisson(2.0, n), household.astype(int))
    phone_ring = ring & (rng.random(n) < 0.7)
    frame["phone_shared_policies"] = np.where(
        phone_ring, 1 + rng.poisson(2.0, n), (rng.random(n) < 0.02).astype(int)
    )


def _hour_weights() -> np.ndarray:
    weights = np.array([1, 1, 1, 1, 1, 2, 4, 7, 9, 8, 7, 7, 7, 7, 7, 8, 9, 10, 9, 7, 5, 4, 3, 2], float)
    return weights / weights.sum()


def _add_product_facts(frame: pd.DataFrame, rng: np.random.Generator, fraud: np.ndarray) -> None:
    """Add the facts only one product line's rulebook declares (empty for the others)."""
    n = len(frame)
    motor = frame["product"].eq("motor").to_numpy()
    health = frame["product"].eq("health").to_numpy()
    prop = frame["product"].eq("property").to_numpy()
    peril = frame["peril"].to_numpy()

    def only(mask: np.ndarray, values: np.ndarray) -> pd.Series:
        return pd.Series(values, dtype=object).where(mask, None)

    theft_cover = (peril == "theft") | (rng.random(n) < 0.6)
    frame["theft_cover"] = only(motor, theft_cover)
    fault = _choice(rng, ("full", "major", "equal", "minor", "none"), (0.35, 0.2, 0.2, 0.15, 0.1), n)
    frame["fault_share"] = only(motor & frame["third_party"].to_numpy(), fault)
    frame["driver_intoxicated"] = only(motor, rng.random(n) < 0.01)
    frame["driver_licensed"] = only(motor, rng.random(n) > 0.01)
    frame["intentional_loss"] = only(motor | prop, np.zeros(n, dtype=bool))
    frame["catastrophe_event"] = only(
        motor | health | prop,
        np.isin(peril, ("flood", "storm", "earthquake")) & (rng.random(n) < 0.3),
    )
    treatment = _choice(
        rng, ("outpatient", "inpatient", "surgery", "critical_illness"), (0.6, 0.25, 0.12, 0.03), n
    )
    frame["treatment"] = only(health, treatment)
    network = np.where(rng.random(n) < 0.85, "in_network", "out_of_network")
    frame["hospital_network"] = only(health, network)
    frame["pre_existing_condition"] = only(health, rng.random(n) < 0.05)
    frame["self_inflicted"] = only(health, rng.random(n) < 0.005)
    frame["under_influence"] = only(health, rng.random(n) < 0.01)
    frame["earthquake_cover"] = only(prop, (peril == "earthquake") & (rng.random(n) < 0.7))
    forced = (peril == "theft") & ((rng.random(n) < 0.85) & ~(fraud & (rng.random(n) < 0.5)))
    frame["forced_entry"] = only(prop, forced)
    frame["vacant_days"] = only(prop, np.where(rng.random(n) < 0.9, 0, rng.integers(1, 120, n)))
    frame["wear_and_tear"] = only(prop, rng.random(n) < 0.02)


RULEBOOK_FACTS = {
    "motor": [
        "policy_start",
        "policy_end",
        "incident_date",
        "report_date",
        "peril",
        "claimed_amount",
        "deductible",
        "sum_insured_remaining",
        "theft_cover",
        "injuries",
        "fatalities",
        "third_party",
        "fault_share",
        "police_report",
        "driver_intoxicated",
        "driver_licensed",
        "intentional_loss",
        "catastrophe_event",
        "prior_claims_12m",
    ],
    "health": [
        "policy_start",
        "policy_end",
        "incident_date",
        "report_date",
        "peril",
        "treatment",
        "hospital_network",
        "claimed_amount",
        "deductible",
        "sum_insured_remaining",
        "pre_existing_condition",
        "self_inflicted",
        "under_influence",
        "fatalities",
        "catastrophe_event",
        "prior_claims_12m",
    ],
    "property": [
        "policy_start",
        "policy_end",
        "incident_date",
        "report_date",
        "peril",
        "claimed_amount",
        "deductible",
        "sum_insured_remaining",
        "earthquake_cover",
        "forced_entry",
        "vacant_days",
        "wear_and_tear",
        "intentional_loss",
        "injuries",
        "fatalities",
        "catastrophe_event",
    ],
}


def rulebook_facts(row: dict) -> dict:
    """Return the facts of one generated claim that its product line's rulebook declares."""
    facts: dict = {"documents_received": []}
    for name in RULEBOOK_FACTS[row["product"]]:
        value = row.get(name)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, float):
            value = f"{value:.2f}"
        elif isinstance(value, np.generic):
            value = value.item()
        facts[name] = value
    return facts


def write(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write claims as Parquet or CSV, chosen by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise ValueError(f"unsupported file type {path.suffix!r}: use .parquet or .csv")
    return path
