"""Claim → facts → score → rules → recorded decision: the flow every adjudication goes through."""

# Importing `due` registers the flush hook that keeps every claim's SLA dates on its row.
from service.adjudication import due
from service.adjudication.facts import build_facts, history
from service.adjudication.flow import (
    Assessment,
    Inputs,
    adjudicate,
    assess,
    decided_by,
    deciding_engine,
    documents_to_ask,
    gather,
    judge,
    open_investigation,
    record_assessment,
    settle,
    shadow,
)
from service.adjudication.replay import replay, summarize

__all__ = [
    "Assessment",
    "Inputs",
    "adjudicate",
    "assess",
    "build_facts",
    "decided_by",
    "deciding_engine",
    "documents_to_ask",
    "due",
    "gather",
    "history",
    "judge",
    "open_investigation",
    "record_assessment",
    "replay",
    "settle",
    "shadow",
    "summarize",
]
