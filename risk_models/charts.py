"""Charts drawn without pyplot: no backend is chosen and nothing global is kept, so importing a
risk_models module neither imports matplotlib nor changes how a notebook shows its charts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure with one axes (matplotlib is imported on the first chart)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def save(fig: Figure, path: Path) -> Path:
    """Write the figure as a PNG file."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path
