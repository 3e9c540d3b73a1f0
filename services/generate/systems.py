"""The source systems of a power utility's service line and what each of them knows.

Why it is separate: every drafted record is routed by these tables (which system submits it,
which personal fields that system can fill in, who is the default actor), and keeping them
apart from the scenarios makes the "what does an IVR know about a caller" rules easy to find
and change without touching any random draws.
"""

from __future__ import annotations

#: Which personal fields each channel's system knows (an IVR knows the caller's number, ...).
KNOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "phone": ("name", "phone", "account"),
    "ivr": ("phone", "account"),
    "sms": ("name", "phone"),
    "app": ("name", "phone", "email", "account"),
    "web": ("name", "email", "account"),
    "chat": ("name", "email", "account"),
    "email": ("name", "email", "account"),
    "social": ("name", "social_handle"),
    "counter": ("name", "phone", "account", "address"),
    "field": ("name", "phone", "account", "address"),
    "letter": ("name", "account", "address"),
}

#: The CRM holds the full customer record (it owns the cases).
CRM_FIELDS = ("name", "phone", "email", "account", "address")

#: Source system per channel; case events come from the CRM whatever the channel.
SYSTEMS = {
    "phone": "cti",
    "ivr": "ivr",
    "app": "app",
    "web": "web",
    "chat": "chat",
    "sms": "sms-gw",
    "email": "mail",
    "social": "social",
    "counter": "counter",
    "field": "fsm",
    "letter": "mailroom",
}

#: Requests: the channel of the first one is the channel a case "came in by".
REQUEST_KINDS = frozenset({"inquiry", "complaint", "report", "suggestion", "service_request"})
#: Default (actor, direction) of provider-side kinds.
PROVIDER_DEFAULTS: dict[str, tuple[str, str]] = {
    "contact_handled": ("agent", "inbound"),
    "callback": ("agent", "outbound"),
    "callback_promised": ("agent", "internal"),
    "field_dispatch": ("system", "internal"),
    "field_visit": ("agent", "outbound"),
    "appointment_missed": ("system", "internal"),
    "case_opened": ("agent", "internal"),
    "case_assigned": ("system", "internal"),
    "case_escalated": ("agent", "internal"),
    "case_resolved": ("agent", "internal"),
    "case_reopened": ("agent", "internal"),
    "case_closed": ("system", "internal"),
    "notification_sent": ("system", "outbound"),
    "outage_notice": ("system", "outbound"),
    "survey_sent": ("system", "outbound"),
}
