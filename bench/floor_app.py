"""The floor: the least an intake can do on the service's own stack, as a yardstick.

FastAPI on the same uvicorn, httptools and uvloop; the same request body validated by the same
pydantic model; the API key checked (hashed, compared in constant time); one claim row and
three event rows inserted with SQLAlchemy Core and committed; a small JSON answer. No rules,
no score, no records. `python -m bench.floor_app URL PORT` serves it with two workers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import sys

import uvicorn
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Table, insert

from bench.load import KEYS
from service.claims.schemas import ClaimIn
from service.database import make_engine

METADATA = MetaData()
CLAIMS = Table(
    "floor_claims",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("policy_number", String(40)),
    Column("peril", String(40)),
    Column("claimed_amount", Numeric(14, 2)),
    Column("facts", JSON),
    Column("created_at", DateTime(timezone=True)),
)
EVENTS = Table(
    "floor_events",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("claim_id", Integer, ForeignKey("floor_claims.id")),
    Column("kind", String(10)),
    Column("new", String(30)),
    Column("at", DateTime(timezone=True)),
)
DIGESTS = {hashlib.sha256(f"key-{who}".encode()).hexdigest() for who in KEYS}


def create_app(url: str) -> FastAPI:
    """The floor app over a database (its two tables are made if missing)."""
    engine = make_engine(url)
    METADATA.create_all(engine)
    app = FastAPI()

    @app.post("/v1/claims", status_code=201)
    def report(body: ClaimIn, x_api_key: str = Header(default="")) -> JSONResponse:
        digest = hashlib.sha256(x_api_key.encode()).hexdigest()
        if not any(hmac.compare_digest(digest, known) for known in DIGESTS):
            raise HTTPException(401)
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as connection:
            claim_id = connection.execute(
                insert(CLAIMS).returning(CLAIMS.c.id),
                {
                    "policy_number": body.policy_number,
                    "peril": body.peril,
                    "claimed_amount": body.claimed_amount,
                    "facts": body.facts,
                    "created_at": now,
                },
            ).scalar_one()
            connection.execute(
                insert(EVENTS),
                [{"claim_id": claim_id, "kind": "status", "new": s, "at": now} for s in ("a", "b", "c")],
            )
        return JSONResponse({"claim_number": f"FLOOR-{claim_id:07d}", "status": "reported"}, status_code=201)

    return app


def app() -> FastAPI:
    """The app uvicorn's workers import (the database from FLOOR_DATABASE_URL)."""
    return create_app(os.environ["FLOOR_DATABASE_URL"])


if __name__ == "__main__":
    os.environ["FLOOR_DATABASE_URL"] = sys.argv[1]
    uvicorn.run(
        "bench.floor_app:app",
        factory=True,
        port=int(sys.argv[2]),
        workers=2,
        http="httptools",
        loop="uvloop",
        log_level="warning",
    )
