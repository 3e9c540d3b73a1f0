"""Sealed dead letters: no backend sees a rejected record in the clear, and an erasure finds
and shreds a customer's letters, attributed or not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from events.deadletter import DeadLetter
from events.deadletter.memory import MemoryDeadLetterStore
from events.deadletter.sealed import SealedDeadLetters, letter_owner, mentions, named_customer
from events.errors import FieldError
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
NAMED = '{"customer": {"id": "C1", "name": "Zelda Quixote"}, "occurred_at": "soon"}'
UNNAMED = "2026-01-05,complaint,zelda.q@example.org,+86 138 0013 9999"


def letter(
    line: int, payload: str, message: str = "Input should be a valid datetime"
) -> DeadLetter:
    return DeadLetter(
        "in.ndjson", line, "bad", payload, AT, (FieldError("occurred_at", "bad", message),)
    )


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def store(keys: MemoryKeyStore) -> SealedDeadLetters:
    return SealedDeadLetters(MemoryDeadLetterStore(), PersonalVault(keys))


def test_the_backend_only_ever_holds_sealed_letters(store: SealedDeadLetters) -> None:
    store.put([letter(1, NAMED, "got 'Zelda Quixote'"), letter(2, UNNAMED)])
    raw = store.inner.list()
    text = "".join(x.encode().decode() for x in raw)
    assert "Zelda" not in text and "zelda.q" not in text and "138 0013" not in text
    assert [x.customer_id for x in raw] == ["C1", None]
    assert [x.errors[0].code for x in raw] == ["bad", "bad"]
    named = replace(letter(1, NAMED, "got 'Zelda Quixote'"), customer_id="C1")
    assert store.list() == [named, letter(2, UNNAMED)], "opened: as put, plus whom it names"


def test_a_named_customers_letters_die_with_their_key(
    store: SealedDeadLetters, keys: MemoryKeyStore
) -> None:
    store.put([letter(1, NAMED), letter(2, UNNAMED)])
    keys.destroy("C1")
    first, second = store.list()
    assert first.erased and first.payload == "" and first.errors[0].message == ""
    assert not second.erased and second.payload == UNNAMED
    assert store.count() == 2


def test_erasure_finds_letters_by_customer_and_by_what_they_mention(
    store: SealedDeadLetters, keys: MemoryKeyStore
) -> None:
    other = '{"customer": {"id": "C2"}, "text": "nothing about anyone"}'
    store.put([letter(1, NAMED), letter(2, UNNAMED), letter(3, other)])
    found = store.letters_of("C1", {"zelda.q@example.org"})
    assert [x.line for x in found] == [1, 2]
    assert [x.line for x in store.letters_of("C1")] == [1], "without values: attribution only"
    keys.destroy(letter_owner(found[1].letter_id))
    assert store.scrub([x.letter_id for x in found]) == 2
    assert [x.erased for x in store.list()] == [True, True, False]
    assert store.letters_of("C1", {"zelda.q@example.org"}) == []


def test_a_letter_whose_key_is_gone_is_erased_even_before_the_scrub(
    store: SealedDeadLetters, keys: MemoryKeyStore
) -> None:
    store.put([letter(2, UNNAMED)])
    (raw,) = store.inner.list()
    keys.destroy(letter_owner(raw.letter_id))
    (shown,) = store.list()
    assert shown.erased and "zelda" not in shown.encode().decode()


@pytest.mark.parametrize(
    ("payload", "customer"),
    [
        (NAMED, "C1"),
        ('{"customer_id": " C7 "}', "C7"),
        ('{"customer": "C1"}', None),
        ('{"customer": {"id": ""}}', None),
        ("[1, 2]", None),
        ("not json", None),
    ],
)
def test_the_customer_a_payload_names(payload: str, customer: str | None) -> None:
    assert named_customer(payload) == customer


def test_mentions_are_whole_words_ignoring_case() -> None:
    assert mentions("call ZELDA.Q@example.org now", ["zelda.q@example.org"])
    assert mentions('{"id":"C1"}', ["C1"])
    assert not mentions('{"id":"C12"}', ["C1"])
    assert not mentions("Lines of text", ["Li"])
    assert mentions("我是王芳请回电", ["王芳"]), "CJK text has no spaces between words"
    assert not mentions("anything", ["", "  "])
