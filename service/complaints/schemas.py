"""What the complaint endpoints accept."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from service.schemas import Strict

CATEGORIES = ("claim_delay", "claim_decision", "payment", "service_attitude", "documents", "other")
CAUSES = ("process", "staff", "rules", "system", "customer_misunderstanding", "third_party", "other")


def _number(value: object) -> object:
    # A blank claim number means none; claim numbers are upper case (CLM-2026-0000001).
    if isinstance(value, str):
        return value.strip().upper() or None
    return value


class ComplaintIn(Strict):
    """A complaint or inquiry as the customer made it."""

    channel: Literal["hotline", "online", "app", "email", "letter", "walk_in"]
    customer: str = Field(min_length=1, max_length=200)
    contact: str | None = Field(default=None, max_length=200)
    claim_number: Annotated[str | None, BeforeValidator(_number)] = Field(default=None, max_length=30)
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    severity: Literal["low", "medium", "high"]
    text: str = Field(min_length=1, max_length=8000)


class ResponseIn(Strict):
    """The first response to the customer."""

    text: str = Field(min_length=1, max_length=8000)


class ResolutionIn(Strict):
    """How the complaint ended: what was done, its cause, and whether it was upheld."""

    resolution: str = Field(min_length=1, max_length=8000)
    cause: Literal[CAUSES]  # type: ignore[valid-type]
    upheld: bool


class HandOverIn(Strict):
    """Who of the complaint's team handles it from now on."""

    to: str = Field(min_length=1, max_length=80)
    reason: str = Field(min_length=1, max_length=500, description="why it changes hands")
