"""Erasures for people (rich); programs use ``--json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_erase", "print_erasures"]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def print_erase(console: Console, data: Mapping[str, Any]) -> None:
    """What one ``erase`` did."""
    record = data["erasure"]
    did = (
        f"{_plural(data['keys_destroyed'], 'key')} destroyed, "
        f"{_plural(data['letters_scrubbed'], 'dead letter')} scrubbed"
    )
    if data["already_erased"]:
        console.print(
            f"customer [bold]{data['customer_id']}[/] was already erased on "
            f"{record['erased_at']} by {record['erased_by']}; this time {did} "
            "(recorded as a repeat)"
        )
        return
    console.print(f"erased customer [bold]{data['customer_id']}[/]: {did}")
    console.print(
        "  their personal data no longer opens anywhere; counts and non-personal facts "
        "replay unchanged"
    )


def print_erasures(console: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    """The erasure records, one row each."""
    if not rows:
        console.print("no erasures")
        return
    table = Table("customer", "erased at", "by", "reason", "keys", "letters", "repeats")
    for row in rows:
        table.add_row(
            row["customer_id"],
            row["erased_at"],
            row["erased_by"],
            row["reason"],
            f"{row['keys_destroyed']:,}",
            f"{row['letters_scrubbed']:,}",
            f"{len(row['history']) - 1:,}",
        )
    console.print(table)
