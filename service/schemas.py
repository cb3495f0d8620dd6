"""Shared request and response building blocks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _not_future_date(value: dt.date) -> dt.date:
    if value > dt.date.today():
        raise ValueError("must not be in the future")
    return value


def _not_future_datetime(value: dt.datetime) -> dt.datetime:
    now = dt.datetime.now(value.tzinfo) if value.tzinfo else dt.datetime.now()
    if value > now + dt.timedelta(minutes=5):  # small allowance for clock skew
        raise ValueError("must not be in the future")
    return value


Amount = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
NonNegativeAmount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
PastDate = Annotated[dt.date, AfterValidator(_not_future_date)]
PastDateTime = Annotated[dt.datetime, AfterValidator(_not_future_datetime)]


class Texts(Strict):
    """Customer text in both languages."""

    zh_CN: str = Field(alias="zh-CN", min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)
