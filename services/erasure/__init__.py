"""Erasure (PIPL / GDPR right to erasure) by crypto-shredding.

* :mod:`~services.erasure.domain`: the ``Erasure`` record, one aggregate per customer (pure);
* :mod:`~services.erasure.shredding`: :func:`erase`, destroying keys, scrubbing dead letters
  and recording the erasure in the audit store;
* :mod:`~services.erasure.listing`: the records, as a list and as JSON.
"""

from services.erasure.domain import Erasure, InvalidErasure, erasure_id
from services.erasure.listing import erasure_json, erasures
from services.erasure.shredding import ErasureOutcome, NothingToErase, erase, erased

__all__ = [
    "Erasure",
    "ErasureOutcome",
    "InvalidErasure",
    "NothingToErase",
    "erase",
    "erased",
    "erasure_id",
    "erasure_json",
    "erasures",
]
