"""When the projector folds in a worker process, and what a view store becomes when pickled."""

from __future__ import annotations

import pickle
from typing import Any, cast

import pytest
from clickhouse_connect.driver.client import Client

from projections.clickhouse import ViewStore
from projections.projector import FOLD_PROCESS_MIN_BATCH, _use_fold_process
from projections.views import standard_folds


def _store() -> ViewStore:
    return ViewStore(cast(Client, object()), "views")


def test_a_pickled_store_arrives_detached_and_says_so() -> None:
    detached = pickle.loads(pickle.dumps(_store()))

    assert detached.table("scenes") == "`views`.`scenes`"
    with pytest.raises(RuntimeError, match="not reachable from this process"):
        detached.rows("SELECT 1")


def test_standard_views_travel_to_a_worker() -> None:
    views = pickle.loads(pickle.dumps(standard_folds(_store())))

    assert [view.name for view in views] == ["scenes", "violations", "customers"]


@pytest.mark.parametrize(
    ("wanted", "batch", "cores", "expected"),
    [
        (None, FOLD_PROCESS_MIN_BATCH, 2, True),
        (None, FOLD_PROCESS_MIN_BATCH - 1, 2, False),
        (None, FOLD_PROCESS_MIN_BATCH, 1, False),
        (True, 1, 1, True),
        (False, 1_000_000, 8, False),
    ],
)
def test_the_worker_is_used_for_big_batches_on_two_cores_unless_told(
    monkeypatch: pytest.MonkeyPatch, wanted: bool | None, batch: int, cores: int, expected: bool
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)

    assert _use_fold_process(wanted, batch, standard_folds(_store())) is expected


def test_views_that_cannot_encode_apart_stay_in_process() -> None:
    class Plain:
        name = "plain"

    views: list[Any] = [Plain()]
    assert _use_fold_process(None, 50_000, views) is False
    with pytest.raises(ValueError, match="fold-table views"):
        _use_fold_process(True, 50_000, views)
