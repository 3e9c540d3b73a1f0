"""Replay: rebuild, as-of, step-through and what-if over the event log.

Replay (rebuild, as-of, step-through, what-if) arrives with a later issue; the package
exists now so that it is installed and type-checked from the start.
"""

__all__: list[str] = []
