"""Sealing and opening a customer's personal fields (AES-256-GCM under the customer's key).

The associated data binds an envelope to its customer and event, so an envelope copied onto
another event does not open. Only the fields in :data:`PERSONAL_FIELDS` are ever sealed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.errors import KeyDestroyed
from events.keys import KeyStore
from events.touchpoint import SealedPersonal

__all__ = ["PERSONAL_FIELDS", "PersonalVault", "mask"]

#: Customer fields that are personal data: never stored or logged in the clear.
PERSONAL_FIELDS = ("name", "phone", "email", "address", "account", "social_handle", "note")


def _aad(customer_id: str, event_id: str) -> bytes:
    return f"{customer_id}\x1f{event_id}".encode()


class PersonalVault:
    """Seals personal fields for the log and opens them for readers allowed to see them."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._ciphers: dict[str, AESGCM] = {}

    def _cipher(self, key_id: str, material: bytes) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = self._ciphers[key_id] = AESGCM(material)
        return cipher

    def seal(
        self, customer_id: str, event_id: str, fields: Mapping[str, Any]
    ) -> SealedPersonal | None:
        """Encrypt the non-empty personal ``fields``; ``None`` when there is nothing personal."""
        present = {k: fields[k] for k in PERSONAL_FIELDS if fields.get(k) not in (None, "")}
        if not present:
            return None
        key = self._keys.key_for(customer_id)
        nonce = os.urandom(12)
        plaintext = json.dumps(present, separators=(",", ":"), ensure_ascii=False).encode()
        ciphertext = self._cipher(key.key_id, key.material).encrypt(
            nonce, plaintext, _aad(customer_id, event_id)
        )
        return SealedPersonal.model_construct(key_id=key.key_id, nonce=nonce, ciphertext=ciphertext)

    def open(self, customer_id: str, event_id: str, sealed: SealedPersonal) -> dict[str, str]:
        """The personal fields, or :class:`KeyDestroyed` once the customer was erased."""
        key = self._keys.get(sealed.key_id)
        if key is None:
            self._ciphers.pop(sealed.key_id, None)
            raise KeyDestroyed(f"personal data of customer {mask(customer_id)} was erased")
        try:
            plaintext = self._cipher(key.key_id, key.material).decrypt(
                sealed.nonce, sealed.ciphertext, _aad(customer_id, event_id)
            )
        except InvalidTag as exc:
            raise KeyDestroyed("sealed personal data does not open with its key") from exc
        opened: dict[str, str] = json.loads(plaintext)
        return opened


def mask(value: str | None, keep: int = 2) -> str:
    """Show only the last ``keep`` characters: safe for logs and screens without the right role."""
    if not value:
        return ""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]
