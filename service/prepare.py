"""`claims prepare`: the first-run set-up (migrations, a first model, demo policies and keys)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from service.config import Settings

TODAY = dt.date.today


def prepare(settings: Settings, console: Console, n: int) -> None:
    """Migrate, make sure a champion model exists, seed demo policies and demo API keys."""
    from risk_models import registry, synth
    from risk_models.features import ClaimFeatures
    from risk_models.train import TrainConfig, train
    from service.database import make_engine, session_factory
    from service.db import upgrade
    from service.policies import service as policies
    from service.policies.schemas import PolicyIn
    from service.security import create_demo_keys

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    console.print(f"database ready: {engine.url.render_as_string(hide_password=True)}")

    registry.configure(settings.data_dir)
    if not any("champion" in v["aliases"] for v in registry.versions()):
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task(f"no champion model: generating {n:,} claims")
            data = synth.generate(n, seed=7)
            step = lambda s: bar.update(task, description=f"training the first model: {s}")  # noqa: E731
            result = train(data, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=7), step)
            bar.update(task, description="registering in MLflow")
            version = registry.log_training(result, {"source": "generated", "rows": n, "seed": 7})["version"]
            registry.promote(version)
        console.print(
            f"fraud-risk v{version} is champion: out-of-time ROC-AUC {result.metrics['roc_auc']:.3f}, "
            f"PR-AUC {result.metrics['pr_auc']:.3f}"
        )
    else:
        console.print("fraud-risk champion already registered")

    with session_factory(engine).begin() as session:
        for body in demo_policies():
            try:
                policies.create(session, PolicyIn.model_validate(body))
            except Exception:
                session.rollback()
                break
    engine.dispose()

    keys_path = settings.data_dir / "demo_keys.json"
    if not settings.keys_file.exists():
        plain = create_demo_keys(settings.keys_file)
        keys_path.write_text(json.dumps(plain, indent=2), encoding="utf-8")
        keys_path.chmod(0o600)
    if keys_path.exists():
        console.print(f"demo API keys (also in {keys_path}; the service stores only their hashes):")
        for name, key in json.loads(keys_path.read_text(encoding="utf-8")).items():
            console.print(f"  {name:14} {key}", markup=False)
        console.print("the workbench: http://127.0.0.1:8000/app (sign in with a person's key above)")


def demo_policies() -> list[dict[str, Any]]:
    """A few policies in force, one per product line, for trying the API by hand."""
    start, end = TODAY() - dt.timedelta(days=180), TODAY() + dt.timedelta(days=184)
    common = {
        "holder_name": "Demo Customer",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
    }
    return [
        {
            **common,
            "policy_number": "DEMO-MOTOR-0001",
            "product": "motor",
            "sum_insured": "300000.00",
            "deductible": "500.00",
            "options": {"theft_cover": True},
        },
        {
            **common,
            "policy_number": "DEMO-HEALTH-0001",
            "product": "health",
            "sum_insured": "500000.00",
            "deductible": "200.00",
        },
        {
            **common,
            "policy_number": "DEMO-PROPERTY-0001",
            "product": "property",
            "sum_insured": "2000000.00",
            "deductible": "1000.00",
        },
    ]
