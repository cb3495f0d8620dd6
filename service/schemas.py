"""Shared request and response building blocks."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# Control characters (tab, newline and carriage return allowed) and lone surrogates: PostgreSQL
# cannot store NUL or a surrogate, and none of them belongs in a claim.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def control_at(value: Any, path: str = "") -> str | None:
    """Return where in a value (a dotted path) a string holds a control character, if anywhere."""
    if isinstance(value, str):
        return path if CONTROL.search(value) else None
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()] + [("(a key)", k) for k in value]
    elif isinstance(value, list | tuple):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return None
    for key, item in items:
        found = control_at(item, f"{path}.{key}" if path else key)
        if found is not None:
            return found
    return None


class Strict(BaseModel):
    """Request bodies: unknown fields and control characters are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        where = control_at(value)
        if where is not None:
            inside = f" (at {where})" if where else ""
            raise ValueError(f"must not contain control characters{inside}")
        return value


def _not_future_date(value: dt.date) -> dt.date:
    if value > dt.date.today():
        raise ValueError("must not be in the future")
    return value


def _not_future_datetime(value: dt.datetime) -> dt.datetime:
    now = dt.datetime.now(value.tzinfo) if value.tzinfo else dt.datetime.now()
    if value > now + dt.timedelta(minutes=5):  # small allowance for clock skew
        raise ValueError("must not be in the future")
    return value


def _as_utc(value: dt.datetime) -> dt.datetime:
    # SQLite gives stored timestamps back without their zone; they were written in UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_as_utc)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
NonNegativeAmount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
PastDate = Annotated[dt.date, AfterValidator(_not_future_date)]
PastDateTime = Annotated[dt.datetime, AfterValidator(_not_future_datetime)]


class Texts(Strict):
    """Customer text in both languages."""

    zh_CN: str = Field(alias="zh-CN", min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)
