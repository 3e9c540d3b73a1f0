"""Deterministic draws: the few random helpers every other module shares.

Why a module of its own: the generator's promise is "same arguments, same bytes", and that
rests on two things kept here. :func:`mix` derives per-customer traits from (seed, customer)
with no state, so a customer's name or activity never depends on what was drawn before;
:func:`pick` and :func:`poisson` consume the one shared ``random.Random`` in a fixed way, so
callers only have to keep the *order* of their draws stable.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

_MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A fixed 64-bit hash (splitmix64 rounds): cheap per-customer randomness with no state."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = ((x ^ (part & _MASK)) * 0xBF58476D1CE4E5B9) & _MASK
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & _MASK
        x ^= x >> 29
    return x


def pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw: Knuth's product method when small, a rounded normal when large."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
