"""A trained model in the form a serving process needs: numpy, plain data and LightGBM's engine.

`FraudRiskModel.serving()` turns the fitted pipeline into this form: the ordinal encoder
compiled to dict lookups, the booster as LightGBM's own model text, the calibration as two
arrays. It round-trips through JSON, so a serving process can receive it from a short-lived
exporter (see `export`) and never import MLflow, scikit-learn or pandas. The booster is run
through LightGBM's C library directly, because the `lightgbm` package imports scikit-learn
and pandas whenever they are installed; the trees, the TreeSHAP contributions and therefore
every score are LightGBM's, bit for bit.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from risk_models import features as F
from risk_models.stability import Window

FORMAT = 1
_FLOAT64 = 1  # C_API_DTYPE_FLOAT64
_CONTRIB = 3  # C_API_PREDICT_CONTRIB
_library: ctypes.CDLL | None = None


@dataclass(frozen=True)
class Bands:
    """Score thresholds: at or above `high` is high, at or above `medium` is medium."""

    medium: float
    high: float

    def __post_init__(self) -> None:
        if not 0 <= self.medium <= self.high <= 1:
            raise ValueError("band thresholds must satisfy 0 <= medium <= high <= 1")

    def of(self, score: float) -> str:
        """Return the band of one score."""
        return "high" if score >= self.high else "medium" if score >= self.medium else "low"

    def of_many(self, scores: np.ndarray) -> np.ndarray:
        """Return the bands of many scores."""
        return np.where(scores >= self.high, "high", np.where(scores >= self.medium, "medium", "low"))


@dataclass(frozen=True)
class Factor:
    """One feature's contribution to one claim's score."""

    feature: str
    value: Any
    contribution: float
    direction: str  # "raises" or "lowers"


def _lib() -> ctypes.CDLL:
    """Load LightGBM's shared library from the installed package without importing it."""
    global _library
    if _library is None:
        spec = importlib.util.find_spec("lightgbm")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("LightGBM is not installed")
        folder = Path(next(iter(spec.submodule_search_locations)))
        name = {"win32": "lib_lightgbm.dll", "darwin": "lib_lightgbm.dylib"}.get(
            sys.platform, "lib_lightgbm.so"
        )
        # The places, in the order, where the package's own loader (lightgbm/libpath.py) looks.
        places = (folder.parent, folder / "bin", folder / "lib")
        found = [p / name for p in places if (p / name).is_file()]
        if not found:
            raise RuntimeError(f"LightGBM's library {name} is not under {folder}")
        library = ctypes.cdll.LoadLibrary(str(found[0]))
        library.LGBM_GetLastError.restype = ctypes.c_char_p
        library.LGBM_BoosterFree.argtypes = [ctypes.c_void_p]
        _library = library
    return _library


def _check(code: int) -> None:
    if code != 0:
        raise RuntimeError(f"LightGBM: {_lib().LGBM_GetLastError().decode()}")


class Booster:
    """A LightGBM booster loaded from its model text; predicts TreeSHAP contributions."""

    def __init__(self, text: str) -> None:
        lib = _lib()
        self._free = lib.LGBM_BoosterFree  # first: __del__ frees a handle a later step failed on
        self._handle = ctypes.c_void_p()
        iterations, count = ctypes.c_int(), ctypes.c_int()
        _check(
            lib.LGBM_BoosterLoadModelFromString(
                text.encode(), ctypes.byref(iterations), ctypes.byref(self._handle)
            )
        )
        _check(lib.LGBM_BoosterGetNumFeature(self._handle, ctypes.byref(count)))
        self.n_features = count.value
        self._predict = lib.LGBM_BoosterPredictForMat
        self._parameter = ctypes.c_char_p(b"num_threads=1")

    def contributions(self, row: np.ndarray) -> np.ndarray:
        """Return one row's contribution per feature, then the bias (they sum to the raw score)."""
        row = np.ascontiguousarray(row, dtype=np.float64)
        if row.shape != (self.n_features,):
            raise ValueError(f"expected {self.n_features} features, got shape {row.shape}")
        out = np.empty(self.n_features + 1, dtype=np.float64)
        written = ctypes.c_int64()
        _check(
            self._predict(
                self._handle,
                row.ctypes.data_as(ctypes.c_void_p),
                ctypes.c_int(_FLOAT64),
                ctypes.c_int32(1),
                ctypes.c_int32(self.n_features),
                ctypes.c_int(1),  # row-major
                ctypes.c_int(_CONTRIB),
                ctypes.c_int(0),  # from the first iteration
                ctypes.c_int(-1),  # to the last one the model text holds
                self._parameter,
                ctypes.byref(written),
                out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )
        if written.value != out.size:
            raise RuntimeError(f"LightGBM wrote {written.value} contributions, expected {out.size}")
        return out

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            self._free(handle)


@dataclass(eq=False)  # holds arrays and a C handle: compared by identity
class ServingModel:
    """Everything needed to score one claim: features, encoder lookups, booster, calibration."""

    features: F.FeatureSet
    codes: list[dict[str, float]]  # per categorical feature: category -> ordinal code
    booster_text: str
    calibration_x: np.ndarray
    calibration_y: np.ndarray
    bands: Bands
    label: str
    version: str = ""
    # The training population's profile (see `drift.profile`): with it, the model keeps a window
    # of the claims it scored, so its process can report their drift (PSI) as it serves.
    reference: dict[str, Any] | None = None
    names: tuple[str, ...] = field(init=False, repr=False)
    window: Window = field(init=False, repr=False)
    _booster: Booster = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._booster = Booster(self.booster_text)
        self.window = Window()
        self.names = (*self.features.numeric, *self.features.categorical)
        if len(self.codes) != len(self.features.categorical):
            raise ValueError(
                f"{len(self.codes)} category lookups, {len(self.features.categorical)} categorical features"
            )
        if self._booster.n_features != len(self.names):
            raise ValueError(
                f"booster has {self._booster.n_features} features, the feature set {len(self.names)}"
            )

    def calibrate(self, raw: float) -> float:
        """Map a raw log-odds to a calibrated probability."""
        return float(np.interp(raw, self.calibration_x, self.calibration_y))

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """Encode one claim's features as the pipeline would (unknown or absent category: NaN)."""
        numeric = [values[n] for n in self.features.numeric]
        cats = [
            np.nan if missing(values[n]) else codes.get(values[n], np.nan)
            for n, codes in zip(self.features.categorical, self.codes, strict=True)
        ]
        return np.array([*numeric, *cats], dtype=float)

    def score(self, claim: Mapping[str, Any], top: int = 5) -> tuple[float, str, list[Factor]]:
        """Return calibrated score, band and the top contributing factors for one claim."""
        values = F.record(self.features, claim)
        contrib = self._booster.contributions(self.encode(values))
        score = self.calibrate(float(contrib.sum()))  # contributions plus bias sum to the raw score
        if self.reference is not None:
            self.window.add(values, score)
        order = np.argsort(-np.abs(contrib[:-1]), kind="stable")[:top]
        factors = [
            Factor(
                self.names[i],
                _plain(values[self.names[i]]),
                round(float(contrib[i]), 6),
                "raises" if contrib[i] > 0 else "lowers",
            )
            for i in order
            if contrib[i] != 0
        ]
        return score, self.bands.of(score), factors

    def to_json(self) -> str:
        """Return the model as one JSON document (what `from_json` reads)."""
        return json.dumps(
            {
                "format": FORMAT,
                "version": self.version,
                "label": self.label,
                "features": F.state(self.features),
                "codes": self.codes,
                "booster": self.booster_text,
                "calibration": {"x": self.calibration_x.tolist(), "y": self.calibration_y.tolist()},
                "bands": {"medium": self.bands.medium, "high": self.bands.high},
                "reference": self.reference,
            },
            allow_nan=False,  # a NaN threshold or calibration point fails here, not when read back
        )

    @classmethod
    def from_json(cls, text: str) -> ServingModel:
        """Rebuild a model from `to_json`'s document."""
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"serving model format {data.get('format')!r}, expected {FORMAT}")
        return cls(
            features=F.restore(data["features"]),
            codes=[{str(k): float(v) for k, v in c.items()} for c in data["codes"]],
            booster_text=data["booster"],
            calibration_x=np.asarray(data["calibration"]["x"], dtype=float),
            calibration_y=np.asarray(data["calibration"]["y"], dtype=float),
            bands=Bands(**data["bands"]),
            label=data["label"],
            version=data["version"],
            reference=data.get("reference"),  # documents from before the drift gauge have none
        )


def missing(value: Any) -> bool:
    """Whether a category value is absent (None or NaN), as the fitted encoder treats it."""
    return value is None or (isinstance(value, float) and np.isnan(value))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
