"""Personal fields per role: masked unless the caller's role may see them.

The JSON shapes the API reuses (:func:`services.journeys.journey_json`,
:func:`services.views.customer_json`) already mask names and contact details, which is what
every caller sees by default. A caller allowed :attr:`~services.security.Capability.PERSONAL_READ`
(the agent on the line, the admin answering a data-subject request) gets the customer's
current name, phone, e-mail and address in clear (the latest value of each across the
journey); ``personal_masked`` says which of the two a response holds. An erased customer's
fields cannot be opened by anyone: they stay masked (``personal_erased``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from events.errors import KeyDestroyed
from projections.journey import JourneyEntry
from services.platform import Platform
from services.security import Capability, Principal

__all__ = ["DISCLOSED_FIELDS", "disclose", "personal_of"]

#: The personal fields a revealing role sees in clear.
DISCLOSED_FIELDS = ("name", "phone", "email", "address")


def personal_of(
    platform: Platform, customer_id: str, entries: Sequence[JourneyEntry] | None = None
) -> dict[str, str] | None:
    """The customer's personal fields in clear, the latest value of each across the journey
    (``entries``, else read); ``None`` when the customer was erased."""
    if entries is None:
        entries = platform.journey_view.timeline(customer_id)
    found: dict[str, str] = {}
    for entry in entries:
        if entry.personal is None:
            continue
        try:
            fields = platform.vault.open(customer_id, entry.personal)
        except KeyDestroyed:
            return None
        found.update({name: fields[name] for name in DISCLOSED_FIELDS if fields.get(name)})
    return found


def disclose(
    platform: Platform,
    principal: Principal,
    customer_id: str,
    *blocks: dict[str, Any],
    entries: Sequence[JourneyEntry] | None = None,
) -> None:
    """Put the personal fields in clear into each of ``blocks`` when ``principal`` may see
    them (``entries``: the journey already read, if any); mark every block with
    ``personal_masked`` either way."""
    clear = None
    if principal.can(Capability.PERSONAL_READ):
        clear = personal_of(platform, customer_id, entries)
    for block in blocks:
        if clear is None:
            block["personal_masked"] = True
            continue
        block.update(clear)
        block["personal_masked"] = False
