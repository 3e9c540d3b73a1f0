"""The dead-letter contract: every backend keeps each rejected record once, verbatim."""

from __future__ import annotations

from datetime import UTC, datetime

from events.deadletter import DeadLetter, DeadLetterStore
from events.errors import FieldError

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def letter(
    line: int, payload: str = '{"kind": "complaint"}', reason: str = "missing"
) -> DeadLetter:
    errors = (FieldError("customer", reason, "customer is required: an object with an id"),)
    return DeadLetter("demo.ndjson", line, reason, payload, AT, errors)


class DeadLetterContract:
    def test_a_letter_is_kept_verbatim(self, store: DeadLetterStore) -> None:
        original = letter(7, payload='{"odd": "päyload ✓"}')
        assert store.put([original]) == 1
        (kept,) = store.list()
        assert kept == original
        assert kept.errors[0].field == "customer"

    def test_the_same_letter_is_never_doubled(self, store: DeadLetterStore) -> None:
        assert store.put([letter(1), letter(2)]) == 2
        assert store.put([letter(1), letter(3)]) == 1
        assert store.count() == 3
        assert [x.line for x in store.list()] == [1, 2, 3]

    def test_same_payload_on_another_line_is_another_letter(self, store: DeadLetterStore) -> None:
        store.put([letter(1, "x"), letter(2, "x")])
        assert store.count() == 2

    def test_list_honours_a_limit(self, store: DeadLetterStore) -> None:
        store.put([letter(i) for i in range(5)])
        assert [x.line for x in store.list(limit=2)] == [0, 1]
