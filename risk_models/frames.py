"""Features of whole tables (training, batch scoring): the pandas side of `features`.

Serving scores one claim at a time through `features.RecordSource` and never imports pandas;
everything that reads a DataFrame lives here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_models.features import EPOCH, FeatureError, FeatureSet


class FrameSource:
    """Read whole columns of a DataFrame; a missing required column is an error."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def _column(self, name: str, required: bool) -> pd.Series | None:
        if name in self.frame.columns:
            return self.frame[name]
        if required:
            raise FeatureError(name, "column is missing")
        return None

    def number(self, name: str, required: bool = True) -> np.ndarray:
        """Return a float column (NaN where absent or not a number)."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), np.nan)
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    def days(self, name: str, required: bool = True) -> np.ndarray:
        """Return a date column as float day numbers."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), np.nan)
        stamps = pd.to_datetime(col, errors="coerce", format="mixed")
        out = (stamps.to_numpy(dtype="datetime64[D]") - EPOCH).astype(float)
        out[stamps.isna().to_numpy()] = np.nan
        return out

    def category(self, name: str, required: bool = True) -> np.ndarray:
        """Return a text column as objects, None where absent."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), None, dtype=object)
        values = col.astype(object).where(col.notna(), None)
        return np.array([None if v is None else str(v) for v in values], dtype=object)

    def flag(self, name: str, required: bool = True) -> np.ndarray:
        """Return a true/false column as 1.0/0.0, NaN where absent."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), np.nan)
        mapped = col.map({True: 1.0, False: 0.0, "true": 1.0, "false": 0.0})  # 1 and 0 hash as True, False
        return pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def frame(features: FeatureSet, data: pd.DataFrame) -> pd.DataFrame:
    """Compute features for a whole table (batch)."""
    columns = features.compute(FrameSource(data))
    out = {n: columns[n] for n in features.numeric}
    for name in features.categorical:
        # Object dtype with NaN for absent values: what sklearn's encoders and imputers expect.
        values = columns[name]
        out[name] = pd.Series(np.where(pd.isna(values), np.nan, values), dtype=object)
    return pd.DataFrame(out, index=pd.RangeIndex(len(data)))
