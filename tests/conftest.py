"""Suite-wide settings: one OpenMP thread (2-core machines) and no MLflow telemetry."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
