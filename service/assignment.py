"""The assignment policy: which team works a claim and whether it goes to one of its members.

Declared in a YAML file (`service/assignment.yaml`, or CLAIMS_ASSIGNMENT_FILE), checked as a
whole when the service starts, so analysts tune it without code and a mistake is refused with
every problem named. Applying it (counting members' open claims) is `adjudication.assign`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SHIPPED = Path(__file__).with_name("assignment.yaml")
MATCHED = ("route", "risk_band", "product", "peril", "channel")
# Fields with a closed set of values: a rule naming another value could never match.
KNOWN = {"route": ("simple", "complex", "major"), "risk_band": ("low", "medium", "high")}


class AssignmentError(ValueError):
    """An assignment file that cannot be used; the message names every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in both languages."""

    en: str = Field(min_length=1)
    zh_cn: str = Field(alias="zh-CN", min_length=1)


class Team(_Strict):
    """A team: its name in both languages and its members (API key names)."""

    label: Text
    members: tuple[str, ...] = ()


class Target(_Strict):
    """Where a rule sends a claim: a team's queue, or the least-loaded member of a team."""

    team: str | None = None
    least_loaded: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.team is None) == (self.least_loaded is None):
            raise ValueError("give exactly one of team or least_loaded")
        return self


class Rule(_Strict):
    """One assignment rule: when every listed field matches, send the claim to the target."""

    name: str = Field(min_length=1, max_length=40)
    when: dict[Literal[MATCHED], str | list[str]] = Field(default_factory=dict)  # type: ignore[valid-type]
    to: Target
    why: Text


class Policy(_Strict):
    """A whole assignment file."""

    teams: dict[str, Team]
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        problems = []
        names = [r.name for r in self.rules]
        problems += [
            f"rule {n!r} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})
        ]
        for rule in self.rules:
            team = rule.to.team or rule.to.least_loaded or ""
            if "{" not in team and team not in self.teams:
                problems.append(f"rule {rule.name!r} sends claims to unknown team {team!r}")
            elif rule.to.least_loaded and team in self.teams and not self.teams[team].members:
                problems.append(f"rule {rule.name!r} gives claims to a member of {team!r}, which has none")
            for field, wanted in rule.when.items():
                values = wanted if isinstance(wanted, list) else [wanted]
                unknown = [v for v in values if field in KNOWN and v not in KNOWN[field]]
                if unknown:
                    problems.append(
                        f"rule {rule.name!r}: {field} is one of {list(KNOWN[field])}, not {unknown}"
                    )
        if self.rules[-1].when:
            problems.append(f"the last rule ({self.rules[-1].name!r}) must match every claim (`when: {{}}`)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class Decision:
    """What the policy decides for one claim."""

    rule: str
    team: str
    least_loaded: bool
    why: str  # English, as kept with the change; both languages are in the rule


def _matches(rule: Rule, claim: Mapping[str, Any]) -> bool:
    for field, wanted in rule.when.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if claim.get(field) not in values:
            return False
    return True


class Assignment:
    """A loaded assignment policy."""

    def __init__(self, policy: Policy, source: str) -> None:
        self.policy = policy
        self.source = source

    def decide(self, claim: Mapping[str, Any]) -> Decision:
        """Return the first rule's decision for a claim's fields (route, risk band, product, ...)."""
        rule = next(r for r in self.policy.rules if _matches(r, claim))
        team = (rule.to.team or rule.to.least_loaded or "").format(product=claim.get("product", ""))
        return Decision(rule.name, team, rule.to.least_loaded is not None, rule.why.en)

    def members(self, team: str) -> tuple[str, ...]:
        """Return a team's members (none for a team the file does not declare)."""
        declared = self.policy.teams.get(team)
        return declared.members if declared else ()

    def teams_of(self, person: str) -> list[str]:
        """Return the teams a person belongs to."""
        return [name for name, team in self.policy.teams.items() if person in team.members]


def fewest(members: tuple[str, ...], counts: Mapping[str, int]) -> str | None:
    """The member with the fewest open items (ties: the first listed), or None for no members."""
    return min(members, key=lambda person: (counts.get(person, 0), members.index(person)), default=None)


def load(path: Path | None = None) -> Assignment:
    """Load and check an assignment file (the shipped one by default)."""
    path = path or SHIPPED
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AssignmentError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise AssignmentError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = [
            ".".join(str(p) for p in e["loc"])
            + ": " * bool(e["loc"])
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        ]
        raise AssignmentError(f"{path}: " + "; ".join(problems)) from None
    return Assignment(policy, str(path))
