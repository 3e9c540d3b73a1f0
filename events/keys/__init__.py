"""Per-customer data keys for crypto-shredding.

Every customer gets a random 256-bit key the first time personal data of theirs is written.
Destroying it (erasure) makes every sealed envelope of that customer unreadable for good, in the
log, in views, in backups, without rewriting a single immutable event.

Backends: :mod:`events.keys.memory` (tests, throwaway runs) and :mod:`events.keys.sqlite`
(the embedded default). All pass ``tests/contract/test_keystore.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DataKey", "KeyStore"]


@dataclass(frozen=True)
class DataKey:
    key_id: str
    customer_id: str
    material: bytes


class KeyStore(abc.ABC):
    """Port: create, find and destroy customers' data keys."""

    @abc.abstractmethod
    def key_for(self, customer_id: str) -> DataKey:
        """The customer's live key, created on first use (and anew after an erasure)."""

    def keys_for(self, customer_ids: Iterable[str]) -> dict[str, DataKey]:
        """Live keys of many customers at once (backends override this to create them in one
        durable write instead of one per new customer)."""
        return {cid: self.key_for(cid) for cid in set(customer_ids)}

    @abc.abstractmethod
    def get(self, key_id: str) -> DataKey | None:
        """The key ``key_id``, or ``None`` when it never existed or was destroyed."""

    @abc.abstractmethod
    def destroy(self, customer_id: str) -> int:
        """Destroy every key of the customer; returns how many were destroyed."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
