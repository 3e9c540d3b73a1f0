"""How the projections reach ClickHouse: one embedded engine per process, many databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from projections.clickhouse import ViewStore, connect, quote_identifier


def test_the_embedded_client_is_shared_per_path(chdb_client: Client) -> None:
    assert connect(None, Path(chdb_client.path)) is chdb_client


def test_a_second_data_directory_is_refused_with_a_reason(
    chdb_client: Client, tmp_path: Path
) -> None:
    with pytest.raises(RuntimeError, match="one data directory per process"):
        connect(None, tmp_path / "elsewhere")


def test_without_url_or_path_there_is_nothing_to_connect_to() -> None:
    with pytest.raises(ValueError, match="ClickHouse URL or a data directory"):
        connect(None, None)


def test_stores_are_isolated_databases(view_store: ViewStore, chdb_client: Client) -> None:
    other = ViewStore(chdb_client, f"{view_store.database}_other")
    other.ensure()
    try:
        view_store.command(f"CREATE TABLE {view_store.table('t')} (x UInt8) ENGINE = Memory")
        assert (
            other.scalar(
                "SELECT count() FROM system.tables WHERE database = {db:String}",
                {"db": other.database},
            )
            == 0
        )
    finally:
        other.drop()


@pytest.mark.parametrize("name", ["a-b", "x; DROP TABLE y", "", "1abc"])
def test_only_plain_identifiers_reach_sql(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        quote_identifier(name)
