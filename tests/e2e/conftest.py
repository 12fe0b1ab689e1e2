"""The end-to-end tests use the API tests' PostgreSQL database (created once per run)."""

from tests.api.conftest import pg_database

__all__ = ["pg_database"]
