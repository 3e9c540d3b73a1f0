"""servicetrace's domain: the canonical touchpoint, its vocabularies, identity and the ports.

The public surface is re-exported here; adapters live in submodules (``events.log.sqlite``,
``events.log.kafka``, ``events.keys.sqlite`` ...) and are chosen by configuration.
"""

from events.errors import (
    FieldError,
    InvalidRecord,
    InvalidTouchpoint,
    KeyDestroyed,
    LogError,
    LogUnavailable,
    ServicetraceError,
)
from events.taxonomy import ActorType, Channel, Direction, Kind, Outcome
from events.touchpoint import Actor, Attachment, Identifiers, SealedPersonal, Source, Touchpoint

__all__ = [
    "Actor",
    "ActorType",
    "Attachment",
    "Channel",
    "Direction",
    "FieldError",
    "Identifiers",
    "InvalidRecord",
    "InvalidTouchpoint",
    "KeyDestroyed",
    "Kind",
    "LogError",
    "LogUnavailable",
    "Outcome",
    "SealedPersonal",
    "ServicetraceError",
    "Source",
    "Touchpoint",
]
