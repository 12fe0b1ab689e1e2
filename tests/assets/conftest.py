"""A whole pipeline environment in a temp data dir: settings, store, instance, definitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from autoclip_assets.definitions import build_definitions
from autoclip_assets.partitions import content_items
from autoclip_core.feeds import SAMPLE_FEED, read_feed
from autoclip_core.schemas import SourceItem
from autoclip_core.settings import Settings
from resources.app_database import AppDatabase
from tests.conftest import migrated


@dataclass
class Pipeline:
    settings: Settings
    app_db: AppDatabase
    instance: dg.DagsterInstance
    defs: dg.Definitions

    def add(self, item: SourceItem) -> str:
        self.app_db.content.register_item(item)
        self.instance.add_dynamic_partitions(content_items.name, [item.id])
        return item.id

    def run(
        self, job: str, content_id: str, resources: dict | None = None
    ) -> dg.ExecuteInProcessResult:
        defs = self.defs
        if resources:
            defs = dg.Definitions.merge(defs, dg.Definitions(resources=resources))
        return defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, partition_key=content_id, raise_on_error=False
        )


def make_pipeline(root: Path) -> Iterator[Pipeline]:
    settings = Settings(data_dir=root)
    migrated(settings.app_database_url)
    app_db = AppDatabase(url=settings.app_database_url)
    app_db.projects.ensure("demo")
    (root / "dagster").mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
        yield Pipeline(settings, app_db, instance, build_definitions(settings))
    app_db.database.dispose()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Shared by a module's tests: expensive outputs (renders) are made once."""
    yield from make_pipeline(tmp_path_factory.mktemp("pipeline"))


@pytest.fixture(scope="session")
def sample_items() -> dict[str, SourceItem]:
    items = read_feed(str(SAMPLE_FEED), project="demo")
    english = next(i for i in items if not any("\uac00" <= c <= "\ud7a3" for c in i.text))
    korean = next(i for i in items if any("\uac00" <= c <= "\ud7a3" for c in i.text))
    return {"en": english, "ko": korean}
