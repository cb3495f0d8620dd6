import pytest

from risk_models import synth
from risk_models.features import ClaimFeatures
from risk_models.train import TrainConfig, train


@pytest.fixture(scope="session")
def claims():
    return synth.generate(20_000, seed=11)


@pytest.fixture(scope="session")
def trained(claims):
    return train(claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=11, cv_folds=0))
