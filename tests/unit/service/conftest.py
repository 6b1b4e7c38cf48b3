"""Fixtures of these tests (defined once in support/handler_fixtures.py)."""

from support.handler_fixtures import context, engine, fake_engine  # noqa: F401
