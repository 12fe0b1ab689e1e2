"""The app database: ORM models, Alembic migrations, the engine and one repository per aggregate.

- ``engine``: ``make_engine`` (the only one), ``Database`` (transactions outside a request),
  ``Repository`` (bound to a ``Database`` or to a request's ``Session``);
- ``migrate``: the explicit upgrade step and the check every other process makes;
- ``content`` (items, their states and audit trail), ``projects``, ``sources``, ``jobs``,
  ``performance``: the repositories, each with the data classes it hands out.
"""
