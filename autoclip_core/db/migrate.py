"""The app database's schema: brought up to date by one explicit step, checked by the rest.

``python -m autoclip_api migrate`` runs :func:`upgrade` (``make api``/``dev``/``demo`` and
the deploy's release job do). Every other process only :func:`check_current`: when two
processes start together, neither races the other through a migration, and a database
that is behind its code is refused with the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from autoclip_core.db.engine import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_COMMAND = "python -m autoclip_api migrate"


class SchemaNotCurrentError(RuntimeError):
    """The app database is not at the revision this code expects."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the latest revision (creating a SQLite file's folder)."""
    make_engine(url).dispose()
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_current(engine: Engine) -> None:
    """Raise :class:`SchemaNotCurrentError` unless the database is at the latest revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    state = "has no schema yet" if current is None else f"is at revision {current}, not {head}"
    raise SchemaNotCurrentError(f"the app database ({where}) {state}: run `{MIGRATE_COMMAND}`")
