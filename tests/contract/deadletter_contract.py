"""The dead-letter contract: every backend keeps each rejected record once, verbatim, and
forgets its contents (not the letter) when an erasure scrubs it."""

from __future__ import annotations

from datetime import UTC, datetime

from events.deadletter import DeadLetter, DeadLetterStore, Envelope
from events.errors import FieldError
from events.touchpoint import SealedPersonal

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

    def test_a_scrubbed_letter_keeps_its_place_but_not_its_contents(
        self, store: DeadLetterStore
    ) -> None:
        secret = letter(1, payload='{"customer": {"name": "Wang Fang", "phone": "13800139999"}}')
        store.put([secret, letter(2)])
        assert store.scrub([secret.letter_id, "no-such-letter"]) == 1
        first, second = store.list()
        assert first.erased and not second.erased
        assert (first.letter_id, first.line, first.reason) == (secret.letter_id, 1, "missing")
        assert [(e.field, e.code, e.message) for e in first.errors] == [("customer", "missing", "")]
        assert "Wang" not in first.encode().decode() and "13800139999" not in str(first)
        assert second == letter(2)
        assert store.count() == 2

    def test_scrubbing_is_idempotent_and_a_scrubbed_letter_does_not_come_back(
        self, store: DeadLetterStore
    ) -> None:
        secret = letter(1, payload='{"name": "Wang Fang"}')
        store.put([secret])
        assert store.scrub([secret.letter_id]) == 1
        assert store.scrub([secret.letter_id]) == 0
        assert store.put([secret]) == 0, "the same letter again is a duplicate"
        (kept,) = store.list()
        assert kept.erased and kept.payload == ""

    def test_a_sealed_letter_is_kept_as_sealed(self, store: DeadLetterStore) -> None:
        sealed = DeadLetter(
            "api",
            None,
            "missing",
            "",
            AT,
            (FieldError("customer", "missing", ""),),
            customer_id="C9",
            envelope=Envelope(
                "a" * 32, SealedPersonal(key_id="k1", nonce=b"n" * 12, ciphertext=b"c" * 20)
            ),
        )
        assert store.put([sealed]) == 1
        (kept,) = store.list()
        assert kept == sealed and kept.letter_id == "a" * 32 and not kept.erased
