"""One caliber across channels: the closed vocabularies every touchpoint is normalised into.

The enums are mirrored one-to-one by the Avro enums in ``schemas/touchpoint.v1.avsc`` (a unit
test keeps them in step). Each Avro enum declares a default symbol (``other``) so that a reader
built from an older schema still decodes records written with symbols added later.

Service types are deliberately *not* an enum: every organisation has its own catalogue
(a power line's "outage" and "meter reading", a city's "Noise - Residential"), so they are
configurable strings normalised by :func:`normalise_service_type`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "CUSTOMER_INITIATED_KINDS",
    "PROVIDER_KINDS",
    "REAL_TIME_CHANNELS",
    "REQUEST_KINDS",
    "ActorType",
    "Channel",
    "Direction",
    "Kind",
    "Outcome",
    "normalise_service_type",
]


class Channel(StrEnum):
    PHONE = "phone"
    IVR = "ivr"
    COUNTER = "counter"
    WEB = "web"
    APP = "app"
    SOCIAL = "social"
    SMS = "sms"
    EMAIL = "email"
    CHAT = "chat"
    FIELD = "field"
    VIDEO = "video"
    LETTER = "letter"
    OTHER = "other"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class ActorType(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"
    BOT = "bot"


class Kind(StrEnum):
    # What the customer did.
    INQUIRY = "inquiry"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"
    SERVICE_REQUEST = "service_request"
    FEEDBACK = "feedback"
    SELF_SERVICE = "self_service"
    # What the organisation did.
    CONTACT_HANDLED = "contact_handled"
    CALLBACK = "callback"
    CALLBACK_PROMISED = "callback_promised"
    FIELD_DISPATCH = "field_dispatch"
    FIELD_VISIT = "field_visit"
    APPOINTMENT_MISSED = "appointment_missed"
    CASE_OPENED = "case_opened"
    CASE_ASSIGNED = "case_assigned"
    CASE_ESCALATED = "case_escalated"
    CASE_RESOLVED = "case_resolved"
    CASE_REOPENED = "case_reopened"
    CASE_CLOSED = "case_closed"
    NOTIFICATION_SENT = "notification_sent"
    OUTAGE_NOTICE = "outage_notice"
    SURVEY_SENT = "survey_sent"
    AGENT_WARNING_SHOWN = "agent_warning_shown"
    OTHER = "other"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    PENDING = "pending"
    PROMISED = "promised"
    TRANSFERRED = "transferred"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"
    OTHER = "other"


#: Kinds that only a customer can originate: they can never be outbound.
CUSTOMER_INITIATED_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.INQUIRY,
        Kind.COMPLAINT,
        Kind.REPORT,
        Kind.SUGGESTION,
        Kind.SERVICE_REQUEST,
        Kind.FEEDBACK,
        Kind.SELF_SERVICE,
    }
)

#: Requests the organisation owes an answer to (repeat-request and pairing rules count these).
REQUEST_KINDS: frozenset[Kind] = frozenset(
    {Kind.INQUIRY, Kind.COMPLAINT, Kind.REPORT, Kind.SERVICE_REQUEST}
)

#: Kinds only the organisation (agent, system, bot) performs.
PROVIDER_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.CONTACT_HANDLED,
        Kind.CALLBACK,
        Kind.CALLBACK_PROMISED,
        Kind.FIELD_DISPATCH,
        Kind.FIELD_VISIT,
        Kind.APPOINTMENT_MISSED,
        Kind.CASE_OPENED,
        Kind.CASE_ASSIGNED,
        Kind.CASE_ESCALATED,
        Kind.CASE_RESOLVED,
        Kind.CASE_REOPENED,
        Kind.CASE_CLOSED,
        Kind.NOTIFICATION_SENT,
        Kind.OUTAGE_NOTICE,
        Kind.SURVEY_SENT,
        Kind.AGENT_WARNING_SHOWN,
    }
)

#: Channels where an outbound contact interrupts the customer in real time.
REAL_TIME_CHANNELS: frozenset[Channel] = frozenset(
    {Channel.PHONE, Channel.IVR, Channel.VIDEO, Channel.FIELD, Channel.COUNTER}
)

_SERVICE_TYPE_SEPARATORS = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=4096)
def normalise_service_type(raw: str) -> str:
    """Fold a source's label into a stable slug ("Noise - Residential" -> "noise_residential").

    Slugs keep the taxonomy open (any organisation's catalogue) while making "Street Light Out"
    and "street light out" count as one service type. A catalogue has a few hundred labels at
    most, and every touchpoint is normalised: the slugs are remembered.
    """
    slug = _SERVICE_TYPE_SEPARATORS.sub("_", raw.strip().lower()).strip("_")
    return slug or "unspecified"
