"""The decision store on PostgreSQL as an operator configures it: a URL naming a schema that
does not exist yet (``SERVICETRACE_DECISIONS=postgresql://…?schema=servicetrace``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from events.errors import ConfigurationError
from services.decisions import DecisionsApp
from tests.fixtures.postgres import _base, _with_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def fresh_schema_url(postgres_dsn: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    schema = f"fresh_{uuid.uuid4().hex[:12]}"
    try:
        yield _with_schema(postgres_dsn, schema)
    finally:
        with psycopg.connect(_base(postgres_dsn), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_the_schema_is_created_when_missing(fresh_schema_url: str) -> None:
    app = DecisionsApp(fresh_schema_url)
    try:
        assert app.alerts() == []
        assert app.recorder.max_notification_id() is None
    finally:
        app.close()
    again = DecisionsApp(fresh_schema_url)  # and an existing one is fine
    again.close()


def test_an_unreachable_server_is_a_configuration_error() -> None:
    url = "postgresql://postgres@127.0.0.1:1/test?schema=nowhere"
    with pytest.raises(ConfigurationError, match=r"cannot prepare schema 'nowhere'"):
        DecisionsApp(url)
