"""PostgreSQL connections whose server side went away (a server restart ends every backend):
an idle pooled one is replaced before use, one used moments ago is not pinged."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from autoclip_core.db.engine import make_engine


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("pinging pooled connections concerns PostgreSQL only")
    return db_url


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    finally:
        admin.dispose()
    time.sleep(0.1)  # the backend is gone once its socket closes


def test_an_idle_pooled_connection_whose_server_went_away_is_replaced_before_use(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url, pool_size=1, ping_idle_seconds=0.05)
    try:
        pid = backend_pid(engine)
        terminate(pg_url, pid)  # also idle longer than ping_idle_seconds now
        assert backend_pid(engine) != pid
    finally:
        engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged_and_one_failure_renews_the_pool(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url, pool_size=1, ping_idle_seconds=60)
    try:
        pid = backend_pid(engine)
        terminate(pg_url, pid)
        with pytest.raises(DBAPIError) as raised:
            backend_pid(engine)
        assert raised.value.connection_invalidated
        assert backend_pid(engine) != pid
    finally:
        engine.dispose()
