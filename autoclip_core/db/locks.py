"""Named locks that hold across processes, released when their holder ends — also when it is
killed: a PostgreSQL session advisory lock (gone with the connection) or, on SQLite, an
``flock`` on a file beside the database (gone with the process's file descriptors)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

_MEMORY_LOCKS: dict[str, threading.Lock] = {}
_MEMORY_GUARD = threading.Lock()


@contextmanager
def held(engine: Engine, name: str) -> Iterator[None]:
    """Wait for the lock ``name`` of this database, and hold it until the block ends."""
    digest = hashlib.sha256(name.encode()).digest()
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(digest[:8], "big", signed=True)
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _MEMORY_GUARD:
            lock = _MEMORY_LOCKS.setdefault(name, threading.Lock())
        with lock:
            yield
        return
    folder = Path(database).parent / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{digest.hex()[:32]}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
