"""Which rulebook version is in force on a day.

Each activation puts a version in force for claims reported from its effective date on; a later
activation supersedes earlier ones from its own date on. A product line's first activation is
effective since ever (`SINCE_EVER`): claims reported before the service existed need rules too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

SINCE_EVER = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Entry:
    """One activation that has not been revoked."""

    id: int
    version_id: int
    effective_from: dt.date


def in_force(entries: Sequence[Entry], day: dt.date) -> Entry | None:
    """Return the activation deciding claims reported on `day` (None if nothing was ever activated)."""
    chosen = None
    for entry in entries:
        if entry.effective_from <= day and (chosen is None or entry.id > chosen.id):
            chosen = entry
    if chosen is None and entries:
        return in_force(entries, min(e.effective_from for e in entries))
    return chosen


def periods(entries: Sequence[Entry]) -> dict[int, list[tuple[dt.date | None, dt.date | None]]]:
    """For each version id, the report dates it decides: [from, to) ranges, None for open ends."""
    spans: list[tuple[int, dt.date]] = []
    for day in sorted({e.effective_from for e in entries}):
        version = in_force(entries, day).version_id
        if not spans or spans[-1][0] != version:
            spans.append((version, day))
    out: dict[int, list[tuple[dt.date | None, dt.date | None]]] = {}
    for i, (version, start) in enumerate(spans):
        end = spans[i + 1][1] if i + 1 < len(spans) else None
        out.setdefault(version, []).append((None if i == 0 else start, end))
    return out


def status(
    version_id: int, approval: str, entries: Sequence[Entry], took_effect: bool, today: dt.date
) -> str:
    """Return active (in force today), scheduled (from a later day), retired, or the approval state."""
    current = in_force(entries, today)
    if current is not None and current.version_id == version_id:
        return "active"
    if any(start is not None and start > today for start, _ in periods(entries).get(version_id, [])):
        return "scheduled"
    return "retired" if took_effect else approval
