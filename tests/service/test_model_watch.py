"""A worker's watch on its serving document: a new champion is taken between requests; a bad or
unfit document leaves the old model serving, and readiness says why."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from service import model_watch
from service.config import Settings
from service.main import create_app
from tests.service.conftest import env_keys, migrated_database

pytestmark = pytest.mark.model


def test_a_worker_takes_a_new_champion_and_keeps_its_model_when_the_next_is_unfit(scorer, tmp_path_factory):
    from tests.risk_models.test_contract import table_result

    folder = tmp_path_factory.mktemp("watch")
    path = folder / "serving-model.json"
    version = lambda v: dataclasses.replace(scorer.model, version=v).to_json()  # noqa: E731
    model_watch.write_document(path, version("1"))
    settings = Settings(
        data_dir=folder,
        database_url=migrated_database("sqlite", tmp_path_factory),
        api_keys=env_keys(),
        serving_model=path,
        load_model=True,
        model_refresh_seconds=0,  # the test drives the watch itself
    )
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime
        watch = model_watch.Watcher(runtime, path)
        assert runtime.scorer.version == "1" and not watch.check()  # nothing new yet
        model_watch.write_document(path, version("2"))
        assert watch.check() and runtime.scorer.version == "2"
        assert client.get("/readyz").json()["model"] == "fraud-risk@2"
        path.write_text("{not a document", encoding="utf-8")
        assert not watch.check() and runtime.scorer.version == "2"
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["model"] == "fraud-risk@2"
        assert "could not be loaded" in ready["model_update"] and "fraud-risk@2 kept" in ready["model_update"]
        model_watch.write_document(path, table_result().model.serving("9").to_json())
        assert not watch.check() and runtime.scorer.version == "2"
        assert (
            "model version 9 cannot score the service's claims"
            in client.get("/readyz").json()["model_update"]
        )
        model_watch.write_document(path, version("3"))
        assert watch.check() and runtime.scorer.version == "3"
        assert client.get("/readyz").json().get("model_update") is None
