"""Charts drawn without pyplot: no backend is chosen and nothing global is kept, so importing a
rules module neither imports matplotlib nor changes how a notebook shows its charts."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure with one axes (matplotlib is imported on the first chart)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def figure_png(fig: Figure) -> str:
    """Render a figure as base64 PNG for an inline <img>."""
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode()
