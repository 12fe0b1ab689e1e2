-- Dagster's storage gets a database of its own: its schedule storage has a `jobs` table, and
-- so has the app database (pipeline runs per content item).
CREATE DATABASE dagster;
