"""Configuration by environment (``SERVICETRACE_*``), read once at the edge of the program.

Adapters are chosen here by configuration, never by which module a caller imported: the same
commands run on the embedded default (one process, files under ``SERVICETRACE_HOME``) or on the
production shape (Kafka, a ClickHouse server, PostgreSQL).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICETRACE_", extra="ignore")

    home: Path = Field(Path(".servicetrace"), description="data directory of the embedded mode")
    log: Literal["embedded", "kafka", "memory"] = "embedded"
    partitions: int = Field(4, ge=1, le=256, description="partitions of a new log")
    kafka_bootstrap: str | None = None
    kafka_topic: str = "servicetrace.touchpoints.v1"
    kafka_deadletter_topic: str = "servicetrace.deadletter.v1"
    clickhouse_url: str | None = Field(None, description="ClickHouse server; embedded if unset")
    clickhouse_database: str = "servicetrace"
    postgres_dsn: str | None = None
    pepper: SecretStr | None = Field(None, description="secret for identifier hashes")
    signing_key: Path | None = Field(
        None,
        description="Ed25519 key (PEM) signing evidence bundles; default: "
        "secrets/signing-key.pem in the home, created by the first export",
    )
    batch_size: int = Field(2000, ge=1, le=100_000)
    projection_batch_size: int = Field(
        50_000, ge=1, le=1_000_000, description="log records per projector batch"
    )
    projection_fold_process: bool | None = Field(
        None,
        description="fold in a second process (needs a second core); default: for batches of "
        "10,000 records or more on a machine with two cores or more",
    )
    projections: Path | None = Field(
        None, description="projection config (TOML); default: projections.toml in the home"
    )
    decisions: str | None = Field(
        None,
        description="decision store: sqlite:///path, postgresql://user@host:port/db or memory:; "
        "default: decisions.sqlite in the home",
    )
    rules: Path | None = Field(
        None, description="risk rules (TOML); default: rules.toml in the home, else built-in"
    )
    audit: str | None = Field(
        None,
        description="audit store URL (evaluations, the trail of reads): sqlite:///path, "
        "postgresql://user@host:port/db or memory:; default: audit.sqlite in the home, or "
        "SERVICETRACE_POSTGRES_DSN",
    )
    kafka_poll_timeout_ms: int | None = Field(
        None,
        ge=1,
        le=60_000,
        description="reading the touchpoint topic: a poll that returns nothing for this long "
        "is a partition's end (default: the log's, 300 ms). A live projector pays it on every "
        "pass for each partition with nothing more to read, so it wants a short one (~50 ms); "
        "one-off reads keep the default, where a slow broker cannot pass for an end",
    )
    kafka_fetch_max_wait_ms: int | None = Field(
        None,
        ge=0,
        le=60_000,
        description="how long the broker may hold an empty fetch of the touchpoint topic "
        "(default: the log's, 100 ms); must stay below the poll timeout",
    )
    kafka_end_at_highwater: bool = Field(
        False,
        description="reading the touchpoint topic: end a read at the high watermark of the "
        "last fetch instead of an empty poll (for a live projector, which reads again anyway)",
    )
    kafka_alerts_topic: str = "servicetrace.alerts.v1"
    kafka_flags_topic: str = "servicetrace.flags.v1"
    relay_page: int = Field(
        500, ge=1, le=100_000, description="notifications the relay publishes per batch"
    )
    serve_projector: bool = Field(
        True,
        description="`servicetrace serve` also projects, decides and relays in its own process "
        "(the embedded default); false where `project --follow` and `relay --follow` run as "
        "their own processes (docker-compose.yml), so no two processes consume one log",
    )
    ingest_workers: int | None = Field(
        None, ge=0, le=64, description="admission processes; default: every core for big inputs"
    )
    tokens: str | None = Field(
        None,
        description="API token store (hashes only): sqlite:///path, postgresql://user@host:port/db "
        "or memory:; default: tokens.sqlite in the home, or SERVICETRACE_POSTGRES_DSN",
    )
    api_host: str = Field("127.0.0.1", description="where `servicetrace serve` listens")
    api_port: int = Field(8000, ge=0, le=65535, description="the port `servicetrace serve` uses")

    def for_following(self) -> Settings:
        """These settings for a process that follows the touchpoint log live (``project
        --follow``): short Kafka reads ending at the high watermark and the folds in process,
        unless configured.

        Measured by ``bench/alerts.py`` at 2,000 touchpoints/s: with the one-off defaults a
        partition that never goes quiet is read until the batch is full, and alerts arrive
        half a minute late; with these, p99 is ~0.4 s.
        """
        live = {
            "kafka_poll_timeout_ms": 50,
            "kafka_fetch_max_wait_ms": 10,
            "kafka_end_at_highwater": True,
            # A live pass holds a few hundred records: the fold worker's pipe round trip
            # would cost more than its second core gains.
            "projection_fold_process": False,
        }
        chosen = {k: v for k, v in live.items() if k not in self.model_fields_set}
        return self.model_copy(update=chosen)

    def path(self, *parts: str) -> Path:
        """A path inside the data directory (created on demand)."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home.joinpath(*parts)

    def pepper_bytes(self) -> bytes:
        """The identifier-hash secret: configured, or created once per data directory.

        Changing it changes every identifier hash, so a generated pepper is kept beside the
        data it belongs to (mode 0600) rather than regenerated.
        """
        if self.pepper is not None:
            return self.pepper.get_secret_value().encode()
        path = self.path("secrets", "pepper")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return path.read_text().strip().encode()
