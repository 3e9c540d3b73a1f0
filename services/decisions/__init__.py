"""Event-sourced decisions: alerts and customer risk flags, their application, the risk engine
that feeds them and the outbox relay that publishes them."""

from services.decisions.application import AlertNotFound, DecisionsApp
from services.decisions.board import AlertBoard, AlertRow
from services.decisions.domain import Alert, CustomerRisk, InvalidTransition, risk_id
from services.decisions.stores import decisions_env

__all__ = [
    "Alert",
    "AlertBoard",
    "AlertNotFound",
    "AlertRow",
    "CustomerRisk",
    "DecisionsApp",
    "InvalidTransition",
    "decisions_env",
    "risk_id",
]
