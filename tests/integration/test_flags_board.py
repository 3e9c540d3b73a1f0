"""The sensitive-customers board folded from the decisions' notification log: it lists exactly
the customers whose flag the aggregate says stands, through raises, renewals, expiries,
supervisors' clears, withdrawals and reinstatements."""

from __future__ import annotations

from projections.risk.decisions import FLAG_EXPIRED, FLAG_RENEWED
from services.decisions import DecisionsApp
from services.decisions.flags_board import FlagBoard
from tests.contract.decisions_contract import NOW, alert, flag


def listed(board: FlagBoard) -> list[tuple[str, str]]:
    return [(row.customer_id, row.action) for row in board.rows()]


def test_the_board_follows_each_customers_standing_flag() -> None:
    app = DecisionsApp("memory:", clock=lambda: NOW)
    board = FlagBoard(app)
    assert listed(board) == []
    raised = flag("C1", hours=1)
    app.record([raised, flag("C2", hours=2), alert("C3", 1, hours=3)])
    assert listed(board) == [("C2", "flag_raised"), ("C1", "flag_raised")]
    assert board.refresh() == 0, "nothing new: nothing read again"

    app.record([flag("C1", FLAG_RENEWED, hours=5)])
    (first, second) = board.rows()
    assert (first.customer_id, first.action, first.rule_id) == (
        "C1",
        "flag_renewed",
        "sensitive_customer",
    )
    assert first.at > second.at and second.customer_id == "C2"

    app.record([flag("C2", FLAG_EXPIRED, hours=6)])
    assert listed(board) == [("C1", "flag_renewed")]
    app.clear_flag("C1", by="sup-1", reason="called back, settled")
    assert listed(board) == []


def test_a_withdrawn_raise_leaves_the_board_and_comes_back_when_reinstated() -> None:
    app = DecisionsApp("memory:", clock=lambda: NOW)
    board = FlagBoard(app)
    raised = flag("C7", hours=1)
    app.record([raised, alert("C7", 1, hours=1)])
    (row,) = board.rows()
    assert (row.customer_id, row.alerts) == ("C7", 1)
    assert app.withdraw([("C7", raised.decision_id)], "a late arrival") == 1
    assert listed(board) == []
    app.record([raised])  # the engine finds it holds again
    assert listed(board) == [("C7", "flag_raised")]


def test_a_board_started_late_reads_the_whole_log() -> None:
    app = DecisionsApp("memory:", clock=lambda: NOW)
    app.record([flag("C1", hours=1), flag("C2", hours=2), flag("C2", FLAG_EXPIRED, hours=3)])
    assert listed(FlagBoard(app)) == [("C1", "flag_raised")]
