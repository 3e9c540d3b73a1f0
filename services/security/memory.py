"""In-process token store: the test double, and the store of ``SERVICETRACE_LOG=memory``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from services.security.tokens import TokenRecord, TokenStore

__all__ = ["MemoryTokenStore"]


class MemoryTokenStore(TokenStore):
    def __init__(self) -> None:
        self._records: dict[str, TokenRecord] = {}
        self._lock = threading.Lock()

    def add(self, record: TokenRecord) -> None:
        with self._lock:
            if record.token_id in self._records:
                raise ValueError(f"token id {record.token_id} already exists")
            self._records[record.token_id] = record

    def get(self, token_id: str) -> TokenRecord | None:
        return self._records.get(token_id)

    def list(self) -> Sequence[TokenRecord]:
        return list(self._records.values())

    def mark_revoked(self, token_id: str, when: str) -> bool:
        with self._lock:
            record = self._records.get(token_id)
            if record is None or not record.active:
                return False
            self._records[token_id] = replace(record, revoked_at=when)
            return True
