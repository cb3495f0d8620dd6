"""Claim → facts → score → rules → recorded decision: the flow every adjudication goes through."""

from service.adjudication.facts import build_facts, history
from service.adjudication.flow import (
    Assessment,
    adjudicate,
    assess,
    decided_by,
    deciding_engine,
    documents_to_ask,
    open_investigation,
    record_assessment,
    settle,
    shadow,
)
from service.adjudication.replay import replay, summarize

__all__ = [
    "Assessment",
    "adjudicate",
    "assess",
    "build_facts",
    "decided_by",
    "deciding_engine",
    "documents_to_ask",
    "history",
    "open_investigation",
    "record_assessment",
    "replay",
    "settle",
    "shadow",
    "summarize",
]
