"""The decisions-application contract run against every store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.decisions_contract import DecisionsAppContract


class TestMemoryDecisionsApp(DecisionsAppContract):
    durable = False

    @pytest.fixture
    def url(self) -> str:
        return "memory:"


class TestSqliteDecisionsApp(DecisionsAppContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite://{(tmp_path / 'decisions.sqlite').resolve()}"


@pytest.mark.postgres
class TestPostgresDecisionsApp(DecisionsAppContract):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url
