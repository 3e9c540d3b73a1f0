"""Sealing and opening a customer's personal fields (AES-256-GCM under the customer's key).

The associated data binds an envelope to its customer, so an envelope copied onto another
customer's event does not open. Only the fields in :data:`PERSONAL_FIELDS` are ever sealed.

Envelopes are remembered per (key, plaintext): the same name, phone and address on a
customer's hundredth call reuse the envelope of the first instead of being encrypted again.
A nonce is therefore only ever reused for the *identical* plaintext under the same key, which
reveals nothing but equality (already visible through the identifier hashes), never keystream.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.errors import KeyDestroyed
from events.keys import DataKey, KeyStore
from events.touchpoint import SealedPersonal

__all__ = ["PERSONAL_FIELDS", "PersonalVault", "Plain", "mask", "plain_fields"]

#: Customer fields that are personal data: never stored or logged in the clear.
PERSONAL_FIELDS = ("name", "phone", "email", "address", "account", "social_handle", "note")


def _aad(customer_id: str) -> bytes:
    return f"servicetrace\x1f{customer_id}".encode()


#: The non-empty personal fields of one envelope, in :data:`PERSONAL_FIELDS` order.
Plain = tuple[tuple[str, Any], ...]


def plain_fields(fields: Mapping[str, Any]) -> Plain:
    """What an envelope of ``fields`` holds: the personal ones that are not empty.

    ``note`` comes last, so a customer's fields plus a note are ``plain_fields(customer) +
    (("note", text),)``: intake computes the customer part once per customer.
    """
    return tuple([(k, fields[k]) for k in PERSONAL_FIELDS if fields.get(k) not in (None, "")])


class PersonalVault:
    """Seals personal fields for the log and opens them for readers allowed to see them."""

    CACHE_SIZE = 100_000

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._ciphers: dict[str, AESGCM] = {}
        self._sealed: dict[tuple[str, Plain], SealedPersonal] = {}

    def _cipher(self, key_id: str, material: bytes) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = self._ciphers[key_id] = AESGCM(material)
        return cipher

    def prepare(self, customer_ids: Iterable[str]) -> None:
        """Make sure these customers have keys, in one write (bulk ingest calls this per chunk)."""
        self._keys.keys_for(customer_ids)

    def seal(self, customer_id: str, fields: Mapping[str, Any]) -> SealedPersonal | None:
        """Encrypt the non-empty personal ``fields``; ``None`` when there is nothing personal."""
        return self.seal_plain(customer_id, plain_fields(fields))

    def seal_plain(self, customer_id: str, plain: Plain) -> SealedPersonal | None:
        """Encrypt fields already chosen by :func:`plain_fields` (``None`` when there are none)."""
        if not plain:
            return None
        key = self._keys.key_for(customer_id)
        remembered = self._sealed.get((key.key_id, plain))
        if remembered is not None:
            return remembered
        if len(self._sealed) >= self.CACHE_SIZE:
            self._sealed.clear()
        sealed = self._sealed[(key.key_id, plain)] = self._encrypt(customer_id, key, dict(plain))
        return sealed

    def _encrypt(self, customer_id: str, key: DataKey, present: dict[str, Any]) -> SealedPersonal:
        nonce = os.urandom(12)
        cipher = self._cipher(key.key_id, key.material)
        ciphertext = cipher.encrypt(nonce, orjson.dumps(present), _aad(customer_id))
        return SealedPersonal(key_id=key.key_id, nonce=nonce, ciphertext=ciphertext)

    def open(self, customer_id: str, sealed: SealedPersonal) -> dict[str, str]:
        """The personal fields, or :class:`KeyDestroyed` once the customer was erased."""
        key = self._keys.get(sealed.key_id)
        if key is None:
            self._ciphers.pop(sealed.key_id, None)
            raise KeyDestroyed(f"personal data of customer {mask(customer_id)} was erased")
        try:
            plaintext = self._cipher(key.key_id, key.material).decrypt(
                sealed.nonce, sealed.ciphertext, _aad(customer_id)
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
