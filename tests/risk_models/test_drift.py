import numpy as np

from risk_models import drift, synth
from risk_models.cli import drift_report


def test_psi_is_zero_for_the_same_shares_and_grows_with_shift():
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert drift.psi([0.5, 0.5], [0.6, 0.4]) < 0.1 < drift.psi([0.5, 0.5], [0.9, 0.1])


def test_same_population_does_not_drift_a_shifted_one_does(trained, tmp_path):
    same = synth.generate(4000, seed=11)
    report = drift_report(trained.model, same)
    assert not report["drifted"].any(), report
    shifted = same.copy()
    shifted["claimed_amount"] *= 2.5
    report = drift_report(trained.model, shifted).set_index("feature")
    assert report.loc["log_claimed_amount", "drifted"]
    assert report.loc["amount_to_typical", "psi"] > 0.2
    assert not report.loc["channel", "drifted"]
    assert drift.plot(report.reset_index(), tmp_path / "psi.png").stat().st_size > 1000


def test_reference_profile_has_every_feature_and_the_score(trained):
    reference = trained.model.metadata["reference"]
    assert set(reference) == {*trained.model.feature_names, "score"}
    shares = reference["log_claimed_amount"]["shares"]
    assert np.isclose(sum(shares), 1.0)
