"""Journey times: exact microseconds, original UTC offsets kept."""

from __future__ import annotations

from datetime import timedelta

from projections.journey import from_micros, to_micros
from tests.factories import BASE_TIME


def test_micros_are_exact_and_keep_the_offset() -> None:
    moment = BASE_TIME + timedelta(microseconds=123_457)

    assert from_micros(to_micros(moment), 480) == moment
    assert from_micros(to_micros(moment), 480).utcoffset() == timedelta(hours=8)
