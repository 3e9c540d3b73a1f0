"""ClickHouse access for the analytics views: one client API for the server and the embedded engine.

Production talks to a ClickHouse server over HTTP; the embedded default and the tests run the
real ClickHouse engine in-process (chdb) through the same ``clickhouse_connect`` client, so every
view's SQL is the same in both places.

chdb allows one data directory per process for the whole life of the process (opening a second
path raises "EmbeddedServer already initialized"), so :func:`connect` caches one embedded client
per path and refuses a second path with a clear message. Views are therefore namespaced by a
ClickHouse *database*, not by a data directory: :class:`ViewStore` names every table fully
qualified (``db.table``), so clients shared between stores never depend on ``USE`` state.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

__all__ = ["ViewStore", "connect", "quote_identifier"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

_embedded: dict[str, Client] = {}
_embedded_lock = threading.Lock()


def connect(url: str | None = None, chdb_path: Path | None = None) -> Client:
    """A ClickHouse server over HTTP when ``url`` is set, else the embedded engine at ``chdb_path``.

    ``url`` looks like ``http://user:pass@host:8123/db``. The embedded client is cached per path
    because a process can open only one chdb path in its life.
    """
    if url:
        return clickhouse_connect.get_client(dsn=url)
    if chdb_path is None:
        raise ValueError("configure a ClickHouse URL or a data directory for the embedded engine")
    return _embedded_client(Path(chdb_path))


def _embedded_client(path: Path) -> Client:
    path.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _embedded_lock:
        client = _embedded.get(key)
        if client is not None:
            return client
        if _embedded:
            (opened,) = _embedded
            raise RuntimeError(
                f"this process already runs the embedded ClickHouse engine at {opened}; chdb "
                f"opens one data directory per process, so {key} cannot be opened too "
                "(use another database inside the same directory instead)"
            )
        client = clickhouse_connect.get_client(interface="chdb", path=key, tz_mode="aware")
        _embedded[key] = client
        return client


def quote_identifier(name: str) -> str:
    """``name`` back-quoted, after checking it is a plain identifier (it is spliced into SQL)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain ClickHouse identifier: {name!r}")
    return f"`{name}`"


class ViewStore:
    """A ClickHouse database holding a set of views, reached through one client.

    All statements name tables as ``database.table`` so that one cached embedded client serves
    many stores (one per test, one per deployment) without switching the session database.
    """

    def __init__(self, client: Client, database: str) -> None:
        self.client = client
        self.database = database
        self._purge = True
        self._quoted_db = quote_identifier(database)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """A pickled store arrives *detached* (no client): chdb serves one process per data
        directory, so a process that receives views (the fold worker) must never open it; it
        needs their folds and table names only, and any query there fails loudly."""
        return _detached_store, (self.database,)

    def table(self, name: str) -> str:
        """The fully qualified, quoted name of table ``name`` in this store."""
        return f"{self._quoted_db}.{quote_identifier(name)}"

    def ensure(self) -> None:
        """Create the database if it does not exist yet (idempotent)."""
        self.client.command(f"CREATE DATABASE IF NOT EXISTS {self._quoted_db}")

    def drop(self) -> None:
        """Drop the database and everything in it."""
        self.client.command(f"DROP DATABASE IF EXISTS {self._quoted_db} SYNC")

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows (DDL, TRUNCATE, DELETE)."""
        self.client.command(sql, parameters=dict(parameters) if parameters else None)

    def release_memory(self) -> None:
        """Have the embedded engine return the memory its allocator keeps for reuse.

        Why: jemalloc keeps freed pages of every insert for seconds before giving them back,
        and in a projection (one big insert after another, in this process) that pool stood at
        ~120 MB, a fifth of the projector's memory. Purging once a batch costs milliseconds.
        A ClickHouse server manages its own memory: nothing is done there.
        """
        if self._purge and self.client in _embedded.values():
            try:
                self.command("SYSTEM JEMALLOC PURGE")
            except ClickHouseError:
                self._purge = False  # an engine built without jemalloc: nothing to give back

    def rows(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        binary_columns: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """The result rows of ``sql``; ``binary_columns`` come back as ``bytes``, not text."""
        result = self.client.query(
            sql,
            parameters=dict(parameters) if parameters else None,
            column_formats={name: "bytes" for name in binary_columns} or None,
        )
        return [tuple(row) for row in result.result_rows]

    def scalar(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """The single value ``sql`` returns."""
        rows = self.rows(sql, parameters)
        return rows[0][0] if rows else None


class _NoClient:
    """The client of a detached store: every use is a bug, reported as such."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            f"ClickHouse is not reachable from this process (a detached view store): {name}"
        )


def _detached_store(database: str) -> ViewStore:
    """A :class:`ViewStore` naming ``database`` without a client (see ``__reduce__``)."""
    return ViewStore(cast(Client, _NoClient()), database)
