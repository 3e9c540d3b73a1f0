"""Wiring: builds the adapters a command needs from :class:`~services.settings.Settings`.

Every piece is created lazily and at most once, so a command that only lists dead letters never
opens the log, and a command that never projects never starts the ClickHouse engine.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from events.deadletter import DeadLetterStore
from events.deadletter.sealed import SealedDeadLetters
from events.errors import ConfigurationError
from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys import KeyStore
from events.log import EventLog
from events.personal import PersonalVault
from events.resources import Closing
from projections.clickhouse import ViewStore, connect
from projections.folding import FoldView
from projections.policy import ProjectionConfig, load_projection_config
from projections.projector import Projector
from projections.risk import RuleSet, load_rules
from projections.views import (
    ChannelView,
    ComplianceView,
    CustomerView,
    JourneyView,
    SceneView,
    standard_folds,
)
from schemas.serde import TouchpointSerde
from services.settings import Settings

if TYPE_CHECKING:
    from services.audit import AuditApp
    from services.decisions import DecisionsApp
    from services.decisions.engine import RiskEngine
    from services.decisions.relay import OutboxRelay
    from services.security import Tokens

__all__ = ["Platform"]


def _embedded_log(settings: Settings) -> EventLog:
    from events.log.sqlite import SqliteEventLog

    return SqliteEventLog(settings.path("log.sqlite"), partitions=settings.partitions)


def _memory_log(settings: Settings) -> EventLog:
    from events.log.memory import MemoryEventLog

    return MemoryEventLog(partitions=settings.partitions)


def _kafka_bootstrap(settings: Settings) -> str:
    if not settings.kafka_bootstrap:
        raise ConfigurationError("SERVICETRACE_LOG=kafka needs SERVICETRACE_KAFKA_BOOTSTRAP")
    return settings.kafka_bootstrap


def _kafka_log(settings: Settings) -> EventLog:
    from events.log.kafka import KafkaEventLog, KafkaLogConfig
    from schemas.serde import touchpoint_event_id

    # Only the touchpoint topic takes the read timings: the projector follows it, and ending a
    # read early there only defers records to its next pass. The decision topics are read by
    # the relay's reconciliation, where a premature end would publish a message twice.
    reads: dict[str, Any] = {}
    if settings.kafka_poll_timeout_ms is not None:
        reads["poll_timeout_ms"] = settings.kafka_poll_timeout_ms
    if settings.kafka_fetch_max_wait_ms is not None:
        reads["fetch_max_wait_ms"] = settings.kafka_fetch_max_wait_ms
    if settings.kafka_end_at_highwater:
        reads["end_at_highwater"] = True
    config = KafkaLogConfig(
        bootstrap=_kafka_bootstrap(settings),
        topic=settings.kafka_topic,
        index_path=settings.path("kafka-index.sqlite"),
        event_id_of=touchpoint_event_id,
        **reads,
    )
    return KafkaEventLog(config)


def _embedded_deadletters(settings: Settings) -> DeadLetterStore:
    from events.deadletter.sqlite import SqliteDeadLetterStore

    return SqliteDeadLetterStore(settings.path("deadletter.sqlite"))


def _memory_deadletters(settings: Settings) -> DeadLetterStore:
    from events.deadletter.memory import MemoryDeadLetterStore

    return MemoryDeadLetterStore()


def _kafka_deadletters(settings: Settings) -> DeadLetterStore:
    from events.deadletter.kafka import KafkaDeadLetterStore

    return KafkaDeadLetterStore.connect(
        _kafka_bootstrap(settings),
        settings.path("kafka-deadletter-index.sqlite"),
        topic=settings.kafka_deadletter_topic,
    )


def _decision_log(settings: Settings, name: str, topic: str) -> EventLog:
    """The log one kind of decision message is published to (see :mod:`~services.decisions`)."""
    if settings.log == "memory":
        from events.log.memory import MemoryEventLog

        return MemoryEventLog(partitions=settings.partitions)
    if settings.log == "kafka":
        from events.log.kafka import KafkaEventLog, KafkaLogConfig

        config = KafkaLogConfig(
            bootstrap=_kafka_bootstrap(settings),
            topic=topic,
            index_path=settings.path(f"kafka-{name}-index.sqlite"),
        )
        return KafkaEventLog(config)
    from events.log.sqlite import SqliteEventLog

    return SqliteEventLog(settings.path(f"{name}.sqlite"), partitions=settings.partitions)


_LOGS: dict[str, Callable[[Settings], EventLog]] = {
    "embedded": _embedded_log,
    "memory": _memory_log,
    "kafka": _kafka_log,
}
_DEADLETTERS: dict[str, Callable[[Settings], DeadLetterStore]] = {
    "embedded": _embedded_deadletters,
    "memory": _memory_deadletters,
    "kafka": _kafka_deadletters,
}


class Platform(Closing):
    """The configured adapters of one process; a context manager that closes what it opened."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    @cached_property
    def log(self) -> EventLog:
        return _LOGS[self.settings.log](self.settings)

    @cached_property
    def deadletters(self) -> SealedDeadLetters:
        """The configured store behind sealing: no backend sees a rejected record in the clear
        (see :mod:`events.deadletter.sealed`)."""
        return SealedDeadLetters(_DEADLETTERS[self.settings.log](self.settings), self.vault)

    @property
    def keys_path(self) -> Path:
        """The durable key store, shared by every process of this data directory."""
        return self.settings.path("keys.sqlite")

    @cached_property
    def keys(self) -> KeyStore:
        if self.settings.log == "memory":
            from events.keys.memory import MemoryKeyStore

            return MemoryKeyStore()
        from events.keys.sqlite import SqliteKeyStore

        return SqliteKeyStore(self.keys_path)

    @cached_property
    def vault(self) -> PersonalVault:
        return PersonalVault(self.keys)

    @cached_property
    def serde(self) -> TouchpointSerde:
        return TouchpointSerde()

    @cached_property
    def intake(self) -> Intake:
        return Intake(IdentifierHasher(self.settings.pepper_bytes()), self.vault)

    @cached_property
    def view_store(self) -> ViewStore:
        settings = self.settings
        chdb_path = None if settings.clickhouse_url else settings.path("clickhouse")
        client = connect(settings.clickhouse_url, chdb_path)
        return ViewStore(client, settings.clickhouse_database)

    @cached_property
    def projection_config(self) -> ProjectionConfig:
        """``SERVICETRACE_PROJECTIONS``, else ``projections.toml`` in the home, else defaults."""
        path = self.settings.projections
        if path is None:
            default = self.settings.home / "projections.toml"
            path = default if default.exists() else None
        return load_projection_config(path)

    @cached_property
    def journey_view(self) -> JourneyView:
        return JourneyView(self.view_store)

    @cached_property
    def scene_view(self) -> SceneView:
        return SceneView(self.view_store, self.projection_config)

    @cached_property
    def compliance_view(self) -> ComplianceView:
        return ComplianceView(self.view_store, self.projection_config)

    @cached_property
    def customer_view(self) -> CustomerView:
        return CustomerView(self.view_store)

    @cached_property
    def channel_view(self) -> ChannelView:
        return ChannelView(self.view_store, self.projection_config.costs)

    def views_in(self, store: ViewStore) -> tuple[JourneyView, list[FoldView]]:
        """The journey view and the fold views the projector keeps, in ``store`` (the live
        ones are :attr:`journey_view` and friends; a rebuild builds them in a shadow store)."""
        return JourneyView(store), standard_folds(store, self.projection_config)

    @cached_property
    def projector(self) -> Projector:
        return Projector(
            self.log,
            self.view_store,
            journey=self.journey_view,
            folds=[self.scene_view, self.compliance_view, self.customer_view],
            batch_size=self.settings.projection_batch_size,
            fold_process=self.settings.projection_fold_process,
        )

    @cached_property
    def rules(self) -> RuleSet:
        """``SERVICETRACE_RULES``, else ``rules.toml`` in the home, else the built-in rules."""
        path = self.settings.rules
        if path is None:
            default = self.settings.home / "rules.toml"
            path = default if default.exists() else None
        return load_rules(path)

    @property
    def decisions_url(self) -> str:
        return self._store_url(self.settings.decisions, "decisions.sqlite")

    @cached_property
    def decisions(self) -> DecisionsApp:
        from services.decisions import DecisionsApp

        return DecisionsApp(self.decisions_url)

    @property
    def audit_url(self) -> str:
        """The audit store: never the decisions' SQLite file (eventsourcing's SQLite recorder
        names its table ``stored_events`` whatever the application), but on PostgreSQL the
        same DSN (there the tables carry the application's name)."""
        return self._store_url(self.settings.audit, "audit.sqlite")

    def _store_url(self, configured: str | None, filename: str) -> str:
        """An eventsourcing store: as configured, else PostgreSQL when a DSN is set, else in
        memory with the memory log, else a SQLite file of its own in the home."""
        settings = self.settings
        if configured:
            return configured
        if settings.postgres_dsn:
            return settings.postgres_dsn
        if settings.log == "memory":
            return "memory:"
        return f"sqlite:///{settings.path(filename).resolve()}"

    @cached_property
    def audit(self) -> AuditApp:
        from services.audit import AuditApp

        return AuditApp(self.audit_url)

    @cached_property
    def risk_engine(self) -> RiskEngine:
        from services.decisions.engine import RiskEngine

        return RiskEngine(
            self.journey_view,
            self.projector.positions,
            self.decisions,
            self.rules,
            self.projection_config,
            partitions=self.log.partitions,
            upstream=self.projector.name,
            batch_size=self.settings.projection_batch_size,
        )

    @cached_property
    def decision_logs(self) -> dict[str, EventLog]:
        """Where alerts and flags are published: Kafka topics, or SQLite logs when embedded."""
        settings = self.settings
        topics = {"alerts": settings.kafka_alerts_topic, "flags": settings.kafka_flags_topic}
        from services.decisions.messages import ALERTS_TOPIC, FLAGS_TOPIC

        keys = {"alerts": ALERTS_TOPIC, "flags": FLAGS_TOPIC}
        logs: dict[str, EventLog] = {}
        for name, topic in topics.items():
            logs[keys[name]] = _decision_log(settings, name, topic)
        return logs

    @cached_property
    def relay(self) -> OutboxRelay:
        from services.decisions.relay import OutboxRelay

        return OutboxRelay(self.decisions, self.decision_logs, page=self.settings.relay_page)

    @property
    def tokens_url(self) -> str:
        """The API token store: ``SERVICETRACE_TOKENS``, else PostgreSQL when configured, else
        ``tokens.sqlite`` in the home (``memory:`` with the in-memory log)."""
        return self._store_url(self.settings.tokens, "tokens.sqlite")

    @cached_property
    def tokens(self) -> Tokens:
        from services.security import Tokens, token_store

        return Tokens(token_store(self.tokens_url), self.settings.pepper_bytes())

    def view_checksums(self) -> dict[str, Any]:
        """Every view's checksum and the projector's committed positions (no projecting)."""
        projector = self.projector
        views = {
            "journey": self.journey_view.checksum(),
            "scenes": self.scene_view.checksum(),
            "violations": self.compliance_view.checksum(),
            "customers": self.customer_view.checksum(),
            "channels": self.channel_view.checksum(),
        }
        positions = projector.committed()
        return {
            "views": views,
            "positions": {str(p): n for p, n in sorted(positions.items())},
            "touchpoints": self.journey_view.count(),
        }

    def close(self) -> None:
        projector = self.__dict__.pop("projector", None)
        if projector is not None:
            projector.close()
        for name in ("log", "deadletters", "keys", "decisions", "audit"):
            adapter = self.__dict__.pop(name, None)
            if adapter is not None:
                adapter.close()
        for log in self.__dict__.pop("decision_logs", {}).values():
            log.close()
        tokens = self.__dict__.pop("tokens", None)
        if tokens is not None:
            tokens.store.close()
