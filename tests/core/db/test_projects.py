from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.models import Organization, Project
from autoclip_core.db.projects import ProjectRepository
from tests.core.db.helpers import item


def test_project_settings_are_updated_in_place(db: Database) -> None:
    projects = ProjectRepository(db)
    projects.ensure("news")
    settings = projects.ensure("news", review_required=True, blocked_terms=["gambling"])
    assert settings.review_required is True
    assert settings.blocked_terms == ("gambling",)
    assert projects.ensure("news") == settings
    ContentRepository(db).register_item(item(1))
    assert projects.of_content(item(1).id) == settings
    assert projects.all() == [settings]


def test_only_auto_generating_projects_are_named(db: Database) -> None:
    projects = ProjectRepository(db)
    projects.ensure("news", auto_generate=True)
    projects.ensure("quiet")
    assert projects.auto_generating(["news", "quiet", "missing"]) == {"news"}
    assert projects.auto_generating([]) == set()


def test_the_tenant_scope_reads_only_the_organisations_projects(db: Database) -> None:
    ProjectRepository(db).ensure("from-the-file")  # no organisation: never readable
    with db.transaction() as s:
        s.add_all([Organization(id="a" * 32, name="A"), Organization(id="b" * 32, name="B")])
        s.flush()
        for n, org in enumerate(["a" * 32, "a" * 32, "b" * 32]):
            s.add(Project(id=f"{n}" * 32, org_id=org, slug=f"p{n}", name=f"P{n}",
                          created_at=datetime(2026, 1, 1 + n, tzinfo=UTC)))  # fmt: skip
    changed: list[str] = []
    with Session(db.engine) as session:
        projects = ProjectRepository(session, on_change=changed.append)
        rows, total = projects.list_readable("a" * 32, ["id", "slug"], limit=1, offset=1)
        assert ([tuple(r)[:2] for r in rows], total) == ([("1" * 32, "p1")], 2)
        assert projects.list_readable(None, ["id"], limit=10, offset=0) == ([], 0)
        assert projects.list_readable("a" * 32, ["id"], limit=5, offset=9)[1] == 2
        assert projects.get_readable("b" * 32, "0" * 32) is None
        own = projects.get_readable("a" * 32, "0" * 32)
        assert own is not None
        projects.update(own, {"name": "Renamed"}, datetime.now(UTC))
        projects.delete(own)
        assert changed == ["a" * 32, "a" * 32]
