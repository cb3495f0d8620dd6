import pytest

from rules.engine import RulesEngine
from rules.rulebook import RULEBOOK_DIR, load, load_shipped

MOTOR_TEXT = (RULEBOOK_DIR / "motor.yaml").read_text(encoding="utf-8")


def motor_text_with(*replacements: tuple[str, str]) -> str:
    """Return the motor rulebook text with each (old, new) replaced exactly once."""
    text = MOTOR_TEXT
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} is not unique in motor.yaml"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="session")
def books():
    return load_shipped()


@pytest.fixture(scope="session")
def motor():
    return load(RULEBOOK_DIR / "motor.yaml")


@pytest.fixture(scope="session")
def motor_engine(motor):
    with RulesEngine(motor) as engine:
        yield engine
