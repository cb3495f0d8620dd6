"""Policy requests and responses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.schemas import Amount, NonNegativeAmount, Strict


class PolicyIn(Strict):
    """A new policy."""

    policy_number: str = Field(pattern=r"^[A-Z0-9-]{4,40}$")
    product: Literal["motor", "health", "property"]
    holder_name: str = Field(min_length=1, max_length=200)
    start_date: dt.date
    end_date: dt.date
    sum_insured: Amount
    deductible: NonNegativeAmount
    options: dict[Literal["theft_cover", "earthquake_cover"], bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _period(self) -> PolicyIn:
        if self.end_date < self.start_date:
            raise ValueError("end_date: must not be before start_date")
        return self


class PolicyOut(BaseModel):
    """A policy as stored."""

    model_config = ConfigDict(from_attributes=True)
    policy_number: str
    product: str
    holder_name: str
    start_date: dt.date
    end_date: dt.date
    sum_insured: Decimal
    deductible: Decimal
    options: dict[str, Any]
