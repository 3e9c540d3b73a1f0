"""Who is acting: the name an evaluation or a read is recorded under."""

from __future__ import annotations

import getpass
import os

from events.errors import ConfigurationError

__all__ = ["USER_ENV", "reader"]

#: The environment variable naming the person at the keyboard (a shared service account's
#: processes set it per request or session).
USER_ENV = "SERVICETRACE_USER"


def reader(explicit: str | None = None) -> str:
    """``--by`` when given, else ``$SERVICETRACE_USER``, else the OS user.

    An audit trail entry without a name is worthless, so when none can be found this fails
    (:class:`ConfigurationError`) rather than recording "unknown".
    """
    for candidate in (explicit, os.environ.get(USER_ENV)):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):
        user = ""
    if not user.strip():
        raise ConfigurationError(f"cannot tell who is reading: pass --by NAME or set {USER_ENV}")
    return user.strip()
