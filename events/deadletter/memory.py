"""In-memory dead-letter store: the test double."""

from __future__ import annotations

from collections.abc import Sequence

from events.deadletter import DeadLetter, DeadLetterStore

__all__ = ["MemoryDeadLetterStore"]


class MemoryDeadLetterStore(DeadLetterStore):
    def __init__(self) -> None:
        self._letters: dict[str, DeadLetter] = {}

    def put(self, letters: Sequence[DeadLetter]) -> int:
        new = 0
        for letter in letters:
            if letter.letter_id not in self._letters:
                self._letters[letter.letter_id] = letter
                new += 1
        return new

    def list(self, limit: int | None = None) -> list[DeadLetter]:
        letters = list(self._letters.values())
        return letters if limit is None else letters[:limit]
