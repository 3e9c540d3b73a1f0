"""Where decisions are stored: an eventsourcing persistence module chosen by a URL.

* ``sqlite:///path/to/decisions.sqlite`` — the embedded default (a file in the data directory);
* ``postgresql://user:password@host:port/dbname?schema=name`` — production and the tests
  (PostgreSQL at 127.0.0.1:5432); ``schema`` keeps several deployments (or test runs) apart;
* ``memory:`` — eventsourcing's in-process recorder, the test double (it passes the same
  contract suite as the other two).

The result is the environment eventsourcing's ``InfrastructureFactory`` reads, so the
application code never imports a persistence module itself.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from events.errors import ConfigurationError

__all__ = ["decisions_env", "prepare_store"]


def decisions_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for the decision store at ``url`` (see the module doc)."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/") or path == "/":
            raise ConfigurationError(
                f"decision store {url!r}: a SQLite URL is sqlite:///absolute/path/file.sqlite"
            )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if parts.scheme in {"postgresql", "postgres"}:
        return _postgres_env(url)
    raise ConfigurationError(
        f"decision store {url!r}: use sqlite:///path, postgresql://user@host:port/db or memory:"
    )


def _postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or not parts.hostname:
        raise ConfigurationError(
            f"decision store {_without_password(url)!r}: a PostgreSQL URL names a host and a "
            "database, postgresql://user@host:5432/dbname"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "10",
    }
    schema = parse_qs(parts.query).get("schema")
    if schema:
        env["POSTGRES_SCHEMA"] = schema[0]
    return env


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@")


def prepare_store(env: dict[str, str]) -> None:
    """Create what eventsourcing expects to exist: the PostgreSQL schema named in the URL
    (eventsourcing creates its tables, not the schema)."""
    schema = env.get("POSTGRES_SCHEMA")
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres" or not schema:
        return
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        ) as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
    except psycopg.Error as exc:
        raise ConfigurationError(
            f"decision store: cannot prepare schema {schema!r} on "
            f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}: {exc}"
        ) from exc
