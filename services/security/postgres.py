"""PostgreSQL token store (the production shape): one table in the URL's schema."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.security.sqlite import record_from_row
from services.security.tokens import TokenRecord, TokenStore

__all__ = ["PostgresTokenStore"]

_COLUMNS = "token_id, name, roles, digest, created_at, revoked_at"


def _split(url: str) -> tuple[str, str | None]:
    """The libpq DSN and the ``schema`` query parameter (libpq does not know it)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresTokenStore(TokenStore):
    """Every call takes the one connection's lock: token checks are tiny and a deployment
    runs a few API processes, each with its own store."""

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg import sql

        dsn, schema = _split(url)
        self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
        self._lock = threading.Lock()
        if schema:
            self._conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        self._table: sql.Composable = (
            sql.SQL("{}.api_tokens").format(sql.Identifier(schema))
            if schema
            else sql.SQL("api_tokens")
        )
        self._conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (seq BIGSERIAL PRIMARY KEY, "
                "token_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, roles TEXT NOT NULL, "
                "digest TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)"
            ).format(self._table)
        )

    def _run(self, query: Any, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._conn.execute(query, params)

    def add(self, record: TokenRecord) -> None:
        from psycopg import sql

        roles = ",".join(role.value for role in record.roles)
        if self.get(record.token_id) is not None:
            raise ValueError(f"token id {record.token_id} already exists")
        self._run(
            sql.SQL(f"INSERT INTO {{}} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)").format(
                self._table
            ),
            (
                record.token_id,
                record.name,
                roles,
                record.digest,
                record.created_at,
                record.revoked_at,
            ),
        )

    def get(self, token_id: str) -> TokenRecord | None:
        from psycopg import sql

        query = sql.SQL(f"SELECT {_COLUMNS} FROM {{}} WHERE token_id = %s").format(self._table)
        row = self._run(query, (token_id,)).fetchone()
        return None if row is None else record_from_row(row)

    def list(self) -> Sequence[TokenRecord]:
        from psycopg import sql

        query = sql.SQL(f"SELECT {_COLUMNS} FROM {{}} ORDER BY seq").format(self._table)
        return [record_from_row(row) for row in self._run(query).fetchall()]

    def mark_revoked(self, token_id: str, when: str) -> bool:
        from psycopg import sql

        query = sql.SQL(
            "UPDATE {} SET revoked_at = %s WHERE token_id = %s AND revoked_at IS NULL"
        ).format(self._table)
        return bool(self._run(query, (when, token_id)).rowcount == 1)

    def close(self) -> None:
        self._conn.close()
