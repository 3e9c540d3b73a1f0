"""The audit-application contract run against every store, and the audit store living beside
the decision store."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.audit import AuditApp, load_form
from services.decisions import DecisionsApp
from services.platform import Platform
from services.settings import Settings
from tests.contract.audit_contract import AuditAppContract, DurableAuditAppContract, full_marks
from tests.contract.decisions_contract import alert


class TestMemoryAuditApp(AuditAppContract):
    durable = False

    @pytest.fixture
    def url(self) -> str:
        return "memory:"


class TestSqliteAuditApp(DurableAuditAppContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite://{(tmp_path / 'audit.sqlite').resolve()}"


@pytest.mark.postgres
class TestPostgresAuditApp(DurableAuditAppContract):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url

    def test_audit_and_decisions_share_one_schema(self, postgres_url: str) -> None:
        """On PostgreSQL eventsourcing names the tables after the application, so both
        applications live in one schema without reading each other's events."""
        import psycopg

        from tests.fixtures.postgres import _base

        decisions, audit = DecisionsApp(postgres_url), AuditApp(postgres_url)
        try:
            decision = alert("C1", 1)
            decisions.record([decision])
            form = load_form()
            made = audit.evaluate("E1", "C1", form, full_marks(form), by="ann")
            audit.record_read("ann", "journey", "C1", {})

            assert [row.alert_id for row in decisions.alerts()] == [decision.decision_id]
            assert [str(e.id) for e in audit.evaluations()] == [str(made.id)]
            audit_topics = [n.topic for n in audit.recorder.select_notifications(1, 100)]
            decision_topics = [n.topic for n in decisions.recorder.select_notifications(1, 100)]
            assert len(audit_topics) == 2
            assert all(t.startswith("services.audit.") for t in audit_topics)
            assert decision_topics
            assert all(t.startswith("services.decisions.") for t in decision_topics)
        finally:
            decisions.close()
            audit.close()
        schema = postgres_url.rsplit("schema=", 1)[1]
        with psycopg.connect(_base(postgres_url)) as conn:
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                )
            }
        assert {"servicetrace-audit_events", "servicetrace-decisions_events"} <= tables


def test_the_embedded_audit_store_is_not_the_decisions_file(tmp_path: Path) -> None:
    """eventsourcing's SQLite recorder always uses the table ``stored_events``: the audit
    app gets its own file, or the two would read each other's events."""
    with Platform(Settings(home=tmp_path, postgres_dsn=None, decisions=None, audit=None)) as p:
        assert p.audit_url == f"sqlite:///{(tmp_path / 'audit.sqlite').resolve()}"
        assert p.audit_url != p.decisions_url
        p.audit.record_read("ann", "journey", "C1", {})
        p.decisions.record([alert("C1", 1)])
        assert len(p.audit.reads()) == 1
        assert len(p.decisions.alerts()) == 1
    assert (tmp_path / "audit.sqlite").exists() and (tmp_path / "decisions.sqlite").exists()
    with Platform(Settings(home=tmp_path, postgres_dsn=None, audit=None)) as again:
        assert [r.customer_id for r in again.audit.reads()] == ["C1"]
    configured = Settings(home=tmp_path, audit="memory:", postgres_dsn="postgresql://h/db")
    assert Platform(configured).audit_url == "memory:"
    dsn = Settings(home=tmp_path, audit=None, postgres_dsn="postgresql://h/db")
    assert Platform(dsn).audit_url == "postgresql://h/db"


def test_a_bad_audit_url_names_the_audit_store() -> None:
    from events.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"^audit store 'ftp://x'"):
        AuditApp("ftp://x")
