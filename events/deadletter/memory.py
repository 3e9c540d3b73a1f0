"""In-memory dead-letter store: the test double."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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

    def scrub(self, letter_ids: Iterable[str]) -> int:
        scrubbed = 0
        for lid in set(letter_ids):
            letter = self._letters.get(lid)
            if letter is not None and not letter.erased:
                self._letters[lid] = letter.scrubbed()
                scrubbed += 1
        return scrubbed
