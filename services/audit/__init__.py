"""Quality audit: auditors' SERVQUAL evaluations of episodes and the audit trail of reads.

* :mod:`~services.audit.forms`: the QA form model, answers and scoring (pure);
* :mod:`~services.audit.files`: forms and answers as TOML, the shipped default form;
* :mod:`~services.audit.domain`: the ``Evaluation`` and ``Read`` aggregates (pure);
* :mod:`~services.audit.application`: ``AuditApp``, the event-sourced application;
* :mod:`~services.audit.views`: JSON shapes.
"""

from services.audit.application import AuditApp, EvaluationNotFound
from services.audit.domain import READ_KINDS, Evaluation, InvalidAudit, Read
from services.audit.files import answers_template, load_answers, load_form
from services.audit.forms import (
    DIMENSIONS,
    Answers,
    Form,
    FormError,
    InvalidAnswers,
    Question,
    ScoreCard,
    check_answers,
    score,
)
from services.audit.index import ReadRow
from services.audit.who import reader

__all__ = [
    "DIMENSIONS",
    "READ_KINDS",
    "Answers",
    "AuditApp",
    "Evaluation",
    "EvaluationNotFound",
    "Form",
    "FormError",
    "InvalidAnswers",
    "InvalidAudit",
    "Question",
    "Read",
    "ReadRow",
    "ScoreCard",
    "answers_template",
    "check_answers",
    "load_answers",
    "load_form",
    "reader",
    "score",
]
