"""The timestamp shortcut of the direct Avro encoder writes exactly the general varint."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas._fastpath import _long, _timestamp

_BOUNDS = [1 << 48, (1 << 48) - 1, -(1 << 48), -(1 << 48) - 1, (1 << 55) - 1, 1 << 55]


@pytest.mark.parametrize(
    "n", [0, 1, -1, *_BOUNDS, 1_767_544_781_000_000, -(1 << 63), (1 << 63) - 1]
)
def test_timestamp_equals_the_general_varint_at_the_edges(n: int) -> None:
    assert _timestamp(n) == _long(n)


@given(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1))
def test_timestamp_equals_the_general_varint(n: int) -> None:
    assert _timestamp(n) == _long(n)
