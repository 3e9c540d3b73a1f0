"""Risk prevention: pure rules over a customer's event-time history (see :mod:`.rules`).

Nothing here performs I/O; the decisions are applied to event-sourced aggregates by
:mod:`services.decisions` and delivered by its outbox relay.
"""

from projections.risk.config import RuleSet, load_rules
from projections.risk.decisions import Decision, decision_id
from projections.risk.engine import Assessment, assess
from projections.risk.rules import evaluate, evaluate_all

__all__ = [
    "Assessment",
    "Decision",
    "RuleSet",
    "assess",
    "decision_id",
    "evaluate",
    "evaluate_all",
    "load_rules",
]
