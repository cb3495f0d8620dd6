"""Payment requests and responses."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import Amount, Strict, UtcDateTime


class PaymentIn(Strict):
    """Pay an approved claim by bank transfer or cheque."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"method": "bank_transfer"}, {"method": "cheque", "amount": "1000.00"}]
        }
    )

    method: Literal["bank_transfer", "cheque"]
    amount: Amount | None = None  # default: what is left of the approved amount
    payee: str | None = Field(default=None, max_length=200)  # default: the claim's payee account


class PaymentOut(BaseModel):
    """A payment as issued."""

    model_config = ConfigDict(from_attributes=True)
    reference: str
    claim_number: str = ""
    method: str
    amount: Decimal
    payee: str
    status: str
    idempotency_key: str
    created_at: UtcDateTime
