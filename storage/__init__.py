"""Persistence for Abacus: SQLAlchemy models, Alembic migrations, idempotent writes and queries.

This package imports nothing else of Abacus and reads no environment: callers hand it a database URL
or an engine, so it can be used and tested on its own.
"""
