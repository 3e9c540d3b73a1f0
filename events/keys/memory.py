"""In-memory key store: the test double, held to the same contract as the durable one."""

from __future__ import annotations

import secrets
import threading

from events.keys import DataKey, KeyStore

__all__ = ["MemoryKeyStore"]


class MemoryKeyStore(KeyStore):
    def __init__(self) -> None:
        self._live: dict[str, DataKey] = {}
        self._by_id: dict[str, DataKey] = {}
        self._lock = threading.Lock()

    def key_for(self, customer_id: str) -> DataKey:
        with self._lock:
            key = self._live.get(customer_id)
            if key is None:
                key = DataKey(secrets.token_hex(16), customer_id, secrets.token_bytes(32))
                self._live[customer_id] = key
                self._by_id[key.key_id] = key
            return key

    def get(self, key_id: str) -> DataKey | None:
        return self._by_id.get(key_id)

    def destroy(self, customer_id: str) -> int:
        with self._lock:
            doomed = [k for k in self._by_id.values() if k.customer_id == customer_id]
            for key in doomed:
                del self._by_id[key.key_id]
            self._live.pop(customer_id, None)
            return len(doomed)
