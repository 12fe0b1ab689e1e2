from __future__ import annotations

from sqlalchemy import delete, select

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.models import ContentItem, Organization, Project
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.usage import Usage, VendorUsageRepository
from tests.core.db.helpers import item

SPEECH = Usage("elevenlabs", "eleven_multilingual_v2", {"characters": 120.0}, 0.012)
SCRIPT = Usage(
    "gemini", "gemini-2.5-flash", {"input_tokens": 900.0, "output_tokens": 300.0}, 0.00102
)


def test_calls_are_charged_to_the_item_its_project_and_organisation(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_new_items([item(1), item(2)])
    with db.transaction() as s:
        org = Organization(name="Acme")
        s.add(org)
        s.flush()
        project = s.scalar(select(Project).where(Project.slug == "news"))
        assert project is not None
        project.org_id = org.id
        org_id, project_id = org.id, project.id
    usage = VendorUsageRepository(db)
    assert usage.record(item(1).id, [SCRIPT, SPEECH]) == 2
    rows = usage.of_content(item(1).id)
    assert [r.usage for r in rows] == [SCRIPT, SPEECH]
    assert {(r.content_id, r.org_id, r.project_id) for r in rows} == {
        (item(1).id, org_id, project_id)
    }
    assert all(r.created_at.tzinfo is not None for r in rows)
    assert usage.of_content(item(2).id) == []
    summary = usage.summary(item(1).id)
    assert summary.calls == 2
    assert summary.cost_usd == 0.01302
    assert summary.by_provider == {"gemini": 0.00102, "elevenlabs": 0.012}


def test_usage_outlives_its_content_item(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_new_items([item(1)])
    usage = VendorUsageRepository(db)
    usage.record(item(1).id, [SPEECH])
    with db.transaction() as s:
        s.execute(delete(ContentItem).where(ContentItem.id == item(1).id))
    assert usage.of_content(item(1).id) == []
    with db.transaction() as s:
        from autoclip_core.db.models import VendorUsage

        (row,) = s.scalars(select(VendorUsage)).all()
        assert row.content_id is None
        assert row.project_id is not None
        assert row.cost_usd == SPEECH.cost_usd


def test_a_call_for_an_unknown_item_is_still_counted(db: Database) -> None:
    usage = VendorUsageRepository(db)
    assert usage.record("gone", [SPEECH]) == 1
    assert usage.record(None, [SCRIPT]) == 1
    assert usage.of_content("gone") == []
