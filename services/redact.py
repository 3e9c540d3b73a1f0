"""Redaction for screens and logs: raw phone numbers, e-mails and names never leave in the clear.

Used wherever free text of unknown content is shown (dead-letter payloads, error messages), so
it errs on the side of hiding: anything that looks like an e-mail or a phone number is masked,
and the values of personal JSON keys are masked whole.
"""

from __future__ import annotations

import re

from events.personal import PERSONAL_FIELDS, mask

__all__ = ["redact"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()./-]{6,}\d")
_PERSONAL_KEYS = "|".join(sorted({*PERSONAL_FIELDS, "social"}))
_PERSONAL_JSON = re.compile(rf'("(?:{_PERSONAL_KEYS})"\s*:\s*")((?:[^"\\]|\\.)*)(")')


def _mask_email(match: re.Match[str]) -> str:
    local, _, domain = match.group(0).partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_personal(match: re.Match[str]) -> str:
    return f"{match.group(1)}{mask(match.group(2))}{match.group(3)}"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}")


def _mask_phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    return found if digits < 7 or _DATE.fullmatch(found) else mask(found)


def redact(text: str) -> str:
    """``text`` with personal JSON values, e-mails and phone-like numbers masked."""
    text = _PERSONAL_JSON.sub(_mask_personal, text)
    text = _EMAIL.sub(_mask_email, text)
    return _PHONE.sub(_mask_phone, text)
