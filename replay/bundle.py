"""Signed evidence bundles: one customer's journey, scenes, decisions and evaluations in a zip
that anyone can check without trusting whoever handed it over.

Pure code: sections and a key in, zip bytes out; zip bytes in, a report out. No clock (the
creation time is passed in), no files, no network, so the same state exported at the same
moment gives byte-identical bundles (zip entries in sorted order with a fixed timestamp).

What is protected, and how:

* ``manifest.json`` lists every other file with its SHA-256, size and item count, the head of
  the touchpoint hash chain, the log positions covered, and the signer's fingerprint.
  ``signature.json`` holds an Ed25519 signature over the *exact* manifest bytes and the raw
  public key (base64), so a changed manifest, or a changed file whose new hash was written into
  the manifest, breaks the signature.
* ``chain.json`` links the touchpoints of ``journey.json`` in event-time order: each entry has
  the SHA-256 of the touchpoint's canonical JSON (sorted keys, no spaces, UTF-8) and
  ``link = sha256(previous link ‖ digest)`` over the raw 32-byte values, the first one chained
  to 32 zero bytes. A file hash only says *that* ``journey.json`` changed; the chain says which
  touchpoint was altered, dropped, added or moved.

A signature proves integrity, not authorship: anyone can re-sign a forged bundle with a key of
their own. :func:`verify_bundle` therefore also checks the signer against a trusted key when
it is given one, and says so when it is not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events.errors import ServicetraceError
from replay.bundle_page import render_page
from replay.signing import TrustedKey, fingerprint, public_bytes

__all__ = [
    "FORMAT",
    "GENESIS",
    "SECTION_FILES",
    "Bundle",
    "BundleUnreadable",
    "ChainLink",
    "Finding",
    "Report",
    "Sections",
    "build_bundle",
    "canonical",
    "chain_of",
    "touchpoint_digest",
    "verify_bundle",
]

FORMAT = "servicetrace-evidence/1"
#: The "previous link" of the first touchpoint: 32 zero bytes, hex.
GENESIS = "0" * 64
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
#: The data sections and their files, in reading order.
SECTION_FILES = {
    "touchpoints": "journey.json",
    "chain_links": "chain.json",
    "scenes": "scenes.json",
    "decisions": "decisions.json",
    "evaluations": "evaluations.json",
}
#: Zip entries carry this timestamp, whatever the wall clock: bundles are reproducible.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_UNIX = 3


class BundleUnreadable(ServicetraceError):
    """The file is not a zip archive at all (nothing inside it can be checked)."""


# --- building -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sections:
    """What a bundle holds, as plain JSON-ready data gathered by the services side.

    ``journey`` has the shape of :func:`services.journeys.journey_json` (``customer``,
    ``channels``, ``touchpoints`` in event-time order, each with ``event_id`` and
    ``position``); ``decisions`` has ``risk`` (flag changes) and ``alerts``; ``projected`` is
    the projector's committed position per partition when the sections were read.
    """

    customer_id: str
    journey: Mapping[str, Any]
    scenes: Sequence[Mapping[str, Any]]
    decisions: Mapping[str, Any]
    evaluations: Sequence[Mapping[str, Any]]
    projected: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One touchpoint's place in the hash chain."""

    index: int
    event_id: str
    partition: int
    position: int
    digest: str
    link: str

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "event_id": self.event_id,
            "log_position": {"partition": self.partition, "position": self.position},
            "sha256": self.digest,
            "link": self.link,
        }


@dataclass(frozen=True, slots=True)
class Bundle:
    """A built bundle: the zip bytes and the manifest they carry (for the caller's summary)."""

    data: bytes
    manifest: Mapping[str, Any]

    @property
    def chain_head(self) -> str:
        return str(self.manifest["chain"]["head"])

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["signer"]["fingerprint"])

    def counts(self) -> dict[str, int]:
        """How many items each section holds: touchpoints, chain links, scenes, decisions
        (alerts and flag changes) and evaluations."""
        listed = {item["path"]: item["count"] for item in self.manifest["items"]}
        return {name: int(listed[path]) for name, path in SECTION_FILES.items()}


def canonical(value: Any) -> bytes:
    """The canonical JSON the chain hashes: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def touchpoint_digest(touchpoint: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(touchpoint)).hexdigest()


def _link(previous: str, digest: str) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(digest)).hexdigest()


def chain_of(touchpoints: Sequence[Mapping[str, Any]]) -> tuple[ChainLink, ...]:
    """The hash chain over ``touchpoints`` in the order given (event-time order)."""
    links: list[ChainLink] = []
    previous = GENESIS
    for index, touchpoint in enumerate(touchpoints):
        digest = touchpoint_digest(touchpoint)
        previous = _link(previous, digest)
        where = touchpoint["position"]
        links.append(
            ChainLink(
                index,
                str(touchpoint["event_id"]),
                int(where["partition"]),
                int(where["position"]),
                digest,
                previous,
            )
        )
    return tuple(links)


def _pretty(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def _log_covered(links: Sequence[ChainLink], projected: Mapping[str, int]) -> dict[str, Any]:
    """The log positions the touchpoints come from, and how far the views had projected."""
    spans: dict[str, dict[str, int]] = {}
    for link in sorted(links, key=lambda item: (item.partition, item.position)):
        span = spans.setdefault(
            str(link.partition), {"first": link.position, "last": link.position, "count": 0}
        )
        span["last"] = link.position
        span["count"] += 1
    return {"touchpoints": spans, "projected": dict(sorted(projected.items()))}


def _data_files(sections: Sections, links: Sequence[ChainLink]) -> dict[str, tuple[Any, int]]:
    """Each JSON file of the bundle with its content and item count."""
    decisions = sections.decisions
    decision_count = len(decisions.get("alerts", [])) + len(
        decisions.get("risk", {}).get("changes", [])
    )
    touchpoints = list(sections.journey["touchpoints"])
    return {
        "journey.json": (dict(sections.journey), len(touchpoints)),
        "chain.json": ([link.to_json() for link in links], len(links)),
        "scenes.json": ([dict(s) for s in sections.scenes], len(sections.scenes)),
        "decisions.json": (dict(decisions), decision_count),
        "evaluations.json": ([dict(e) for e in sections.evaluations], len(sections.evaluations)),
    }


def _item(path: str, content: bytes, count: int | None) -> dict[str, Any]:
    return {
        "path": path,
        "sha256": hashlib.sha256(content).hexdigest(),
        "bytes": len(content),
        "count": count,
    }


def _page_data(
    sections: Sections, links: Sequence[ChainLink], signer: str, created_at: str
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "customer": sections.journey.get("customer", {"id": sections.customer_id}),
        "created_at": created_at,
        "channels": list(sections.journey.get("channels", [])),
        "touchpoints": list(sections.journey["touchpoints"]),
        "scenes": list(sections.scenes),
        "decisions": dict(sections.decisions),
        "evaluations": list(sections.evaluations),
        "chain": {"head": links[-1].link if links else GENESIS, "length": len(links)},
        "signer": signer,
    }


def build_bundle(sections: Sections, key: Ed25519PrivateKey, created_at: datetime) -> Bundle:
    """The signed zip of ``sections``; ``created_at`` (aware) is recorded, never read from a
    clock, so that the same state and moment give the same bytes."""
    links = chain_of(list(sections.journey["touchpoints"]))
    signer = fingerprint(key.public_key())
    moment = created_at.isoformat()
    files: dict[str, bytes] = {}
    items = []
    for path, (content, count) in _data_files(sections, links).items():
        files[path] = _pretty(content)
        items.append(_item(path, files[path], count))
    files["index.html"] = render_page(_page_data(sections, links, signer, moment)).encode()
    items.append(_item("index.html", files["index.html"], None))
    manifest = {
        "format": FORMAT,
        "customer_id": sections.customer_id,
        "created_at": moment,
        "signer": {"algorithm": "ed25519", "fingerprint": signer},
        "items": sorted(items, key=lambda item: item["path"]),
        "chain": {
            "head": links[-1].link if links else GENESIS,
            "length": len(links),
            "genesis": GENESIS,
        },
        "log": _log_covered(links, sections.projected),
    }
    files[MANIFEST] = _pretty(manifest)
    files[SIGNATURE] = _pretty(_signature(key, files[MANIFEST]))
    return Bundle(_zip(files), manifest)


def _signature(key: Ed25519PrivateKey, manifest: bytes) -> dict[str, str]:
    public = key.public_key()
    return {
        "algorithm": "ed25519",
        "signed": MANIFEST,
        "public_key": base64.b64encode(public_bytes(public)).decode(),
        "fingerprint": fingerprint(public),
        "signature": base64.b64encode(key.sign(manifest)).decode(),
    }


def _zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: a stable ``code``, what it concerns (a file or an event id), a sentence."""

    code: str
    subject: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "subject": self.subject, "message": self.message}


@dataclass(frozen=True, slots=True)
class Report:
    """What :func:`verify_bundle` found. ``trust`` is ``trusted`` (the signer is the trusted
    key), ``untrusted`` (it is not) or ``unchecked`` (no trusted key was given)."""

    findings: tuple[Finding, ...]
    customer_id: str | None
    created_at: str | None
    signer: str | None
    chain_head: str | None
    touchpoints: int
    trust: str
    trusted_by: str | None

    @property
    def intact(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "customer_id": self.customer_id,
            "created_at": self.created_at,
            "signer": self.signer,
            "trust": self.trust,
            "trusted_by": self.trusted_by,
            "chain_head": self.chain_head,
            "touchpoints": self.touchpoints,
            "findings": [finding.to_json() for finding in self.findings],
        }


class _Findings:
    """Collects findings: verification reports every problem, never just the first."""

    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, code: str, subject: str, message: str) -> None:
        self.items.append(Finding(code, subject, message))


def _open_zip(data: bytes, found: _Findings) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            members = {name: archive.read(name) for name in names}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise BundleUnreadable(f"not a readable evidence bundle (zip): {exc}") from None
    for name, times in sorted(Counter(names).items()):
        if times > 1:  # a reader would see only one of them: which one is up to the tool
            found.add("item_duplicated", name, f"the zip holds {times} entries named {name}")
    return members


def _json(members: Mapping[str, bytes], path: str, found: _Findings) -> Any:
    """The parsed JSON file ``path``, or None (reported) when it cannot be read."""
    if path not in members:
        return None
    try:
        return json.loads(members[path])
    except (UnicodeDecodeError, ValueError) as exc:
        found.add("item_unreadable", path, f"{path} is not valid JSON: {exc}")
        return None


def verify_bundle(data: bytes, trusted: TrustedKey | None = None) -> Report:
    """Check a bundle: the signature, the signer (against ``trusted``), every listed file and
    the touchpoint chain. Raises :class:`BundleUnreadable` only when ``data`` is no zip."""
    found = _Findings()
    members = _open_zip(data, found)
    manifest = _json(members, MANIFEST, found)
    if MANIFEST not in members:
        found.add("manifest_missing", MANIFEST, "the bundle has no manifest.json")
    elif manifest is not None and not isinstance(manifest, dict):
        found.add("item_unreadable", MANIFEST, "manifest.json is not a JSON object")
        manifest = None
    signer, trust = _check_signature(members, manifest, trusted, found)
    if manifest is not None:
        _check_manifest(manifest, found)
        _check_items(members, manifest, found)
    journey = _json(members, "journey.json", found)
    chain = _json(members, "chain.json", found)
    touchpoints = _check_chain(journey, chain, manifest, found)
    return Report(
        findings=tuple(found.items),
        customer_id=_get(manifest, "customer_id"),
        created_at=_get(manifest, "created_at"),
        signer=signer,
        chain_head=_get(manifest, "chain", "head"),
        touchpoints=touchpoints,
        trust=trust,
        trusted_by=trusted.source if trusted else None,
    )


def _get(value: Any, *keys: str) -> str | None:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return None if value is None else str(value)


def _check_signature(
    members: Mapping[str, bytes],
    manifest: Any,
    trusted: TrustedKey | None,
    found: _Findings,
) -> tuple[str | None, str]:
    """Whether the manifest bytes carry a good signature; the signer's fingerprint and the
    trust verdict."""
    if SIGNATURE not in members:
        found.add("signature_missing", SIGNATURE, "the bundle has no signature.json")
        return None, "unchecked"
    signed = _json(members, SIGNATURE, found)
    public, signature = _signature_parts(signed)
    if public is None or signature is None:
        found.add(
            "signature_unreadable",
            SIGNATURE,
            "signature.json lacks a base64 Ed25519 public_key and signature",
        )
        return None, "unchecked"
    signer = fingerprint(public)
    if MANIFEST in members:
        try:
            public.verify(signature, members[MANIFEST])
        except InvalidSignature:
            found.add(
                "signature_invalid",
                MANIFEST,
                "the signature does not match manifest.json: the manifest (or the signature) "
                "was altered after signing",
            )
    named = _get(manifest, "signer", "fingerprint")
    if named is not None and named != signer:
        found.add(
            "signer_mismatch",
            SIGNATURE,
            f"manifest.json names signer {named[:16]}… but the bundle was signed by {signer[:16]}…",
        )
    return signer, _trust(signer, trusted, found)


def _signature_parts(signed: Any) -> tuple[Ed25519PublicKey | None, bytes | None]:
    if not isinstance(signed, dict):
        return None, None
    try:
        public = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(str(signed["public_key"]), validate=True)
        )
        signature = base64.b64decode(str(signed["signature"]), validate=True)
    except (KeyError, ValueError, binascii.Error):
        return None, None
    return public, signature


def _trust(signer: str, trusted: TrustedKey | None, found: _Findings) -> str:
    if trusted is None:
        return "unchecked"
    if trusted.trusts(signer):
        return "trusted"
    found.add(
        "untrusted_key",
        SIGNATURE,
        f"signed by key {signer[:16]}…, not by the trusted key {trusted.fingerprint[:16]}… "
        f"({trusted.source}): the bundle may have been re-signed by someone else",
    )
    return "untrusted"


def _check_manifest(manifest: Mapping[str, Any], found: _Findings) -> None:
    if manifest.get("format") != FORMAT:
        found.add(
            "unknown_format",
            MANIFEST,
            f"format {manifest.get('format')!r} is not {FORMAT!r}: this verifier cannot vouch "
            "for it",
        )


def _listed(manifest: Mapping[str, Any], found: _Findings) -> dict[str, Mapping[str, Any]]:
    items = manifest.get("items")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("path"), str) for i in items
    ):
        found.add("item_unreadable", MANIFEST, "manifest.json has no valid list of items")
        return {}
    return {item["path"]: item for item in items}


def _check_items(
    members: Mapping[str, bytes], manifest: Mapping[str, Any], found: _Findings
) -> None:
    listed = _listed(manifest, found)
    for path, item in listed.items():
        if path not in members:
            found.add("item_missing", path, f"{path} is listed in the manifest but not in the zip")
            continue
        actual = hashlib.sha256(members[path]).hexdigest()
        if actual != item.get("sha256"):
            found.add(
                "item_altered",
                path,
                f"{path} was altered: its SHA-256 is {actual[:16]}…, the manifest says "
                f"{str(item.get('sha256'))[:16]}…",
            )
    for path in sorted(set(members) - set(listed) - {MANIFEST, SIGNATURE}):
        found.add("item_unlisted", path, f"{path} is in the zip but not in the manifest")


def _check_chain(journey: Any, chain: Any, manifest: Any, found: _Findings) -> int:
    """Check the touchpoints of ``journey.json`` against ``chain.json`` and the manifest's chain
    head; returns how many touchpoints the journey holds."""
    touchpoints = _touchpoints(journey, found)
    links = _links(chain, found)
    if touchpoints is None or links is None:
        return len(touchpoints or [])
    _check_links(links, manifest, found)
    _check_members(touchpoints, links, found)
    return len(touchpoints)


def _touchpoints(journey: Any, found: _Findings) -> list[dict[str, Any]] | None:
    if journey is None:
        return None
    touchpoints = journey.get("touchpoints") if isinstance(journey, dict) else None
    if not isinstance(touchpoints, list) or not all(
        isinstance(t, dict) and "event_id" in t for t in touchpoints
    ):
        found.add(
            "item_unreadable", "journey.json", "journey.json has no list of touchpoints with ids"
        )
        return None
    return touchpoints


def _links(chain: Any, found: _Findings) -> list[dict[str, Any]] | None:
    if chain is None:
        return None
    wanted = ("event_id", "sha256", "link")
    if not isinstance(chain, list) or not all(
        isinstance(c, dict) and all(isinstance(c.get(k), str) for k in wanted) for c in chain
    ):
        found.add(
            "item_unreadable", "chain.json", "chain.json is not a list of {event_id, sha256, link}"
        )
        return None
    return chain


def _check_links(links: Sequence[Mapping[str, Any]], manifest: Any, found: _Findings) -> None:
    """Every link recomputed from its predecessor (as recorded, so one break is reported
    once), and the last one against the signed head."""
    previous = GENESIS
    for index, entry in enumerate(links):
        try:
            expected = _link(previous, entry["sha256"])
        except ValueError:
            expected = ""
        if entry["link"] != expected or entry.get("index") != index:
            found.add(
                "chain_broken",
                entry["event_id"],
                f"chain entry {index} (touchpoint {entry['event_id']}) does not follow from "
                "the entry before it: the chain was edited",
            )
        previous = entry["link"]
    head = _get(manifest, "chain", "head")
    if head is not None and head != previous:
        found.add(
            "chain_head_mismatch",
            "chain.json",
            f"the chain ends at {previous[:16]}…, the signed manifest says {head[:16]}…",
        )


def _check_members(
    touchpoints: Sequence[Mapping[str, Any]],
    links: Sequence[Mapping[str, Any]],
    found: _Findings,
) -> None:
    """Altered, missing, added and reordered touchpoints, each named by event id."""
    chained = {str(entry["event_id"]): entry for entry in links}
    present: dict[str, Mapping[str, Any]] = {}
    for touchpoint in touchpoints:
        event_id = str(touchpoint["event_id"])
        if event_id not in chained or event_id in present:
            found.add(
                "touchpoint_added",
                event_id,
                f"touchpoint {event_id} is in journey.json but not in the chain"
                + (" (it appears twice)" if event_id in present else ""),
            )
            continue
        present[event_id] = touchpoint
        entry = chained[event_id]
        if touchpoint_digest(touchpoint) != entry["sha256"]:
            found.add(
                "touchpoint_altered",
                event_id,
                f"touchpoint {event_id} (chain entry {entry.get('index')}) differs from what "
                "was signed",
            )
    for event_id, entry in chained.items():
        if event_id not in present:
            found.add(
                "touchpoint_missing",
                event_id,
                f"touchpoint {event_id} (chain entry {entry.get('index')}) is missing from "
                "journey.json",
            )
    _check_order(touchpoints, links, present, found)


def _check_order(
    touchpoints: Sequence[Mapping[str, Any]],
    links: Sequence[Mapping[str, Any]],
    present: Mapping[str, Any],
    found: _Findings,
) -> None:
    """Compare the journey's order with the chain's over the touchpoints both hold, so a
    missing or added one is not also reported as a move."""
    seen: set[str] = set()
    journey_order = []
    for touchpoint in touchpoints:
        event_id = str(touchpoint["event_id"])
        if event_id in present and event_id not in seen:
            seen.add(event_id)
            journey_order.append(event_id)
    chain_order = [str(e["event_id"]) for e in links if str(e["event_id"]) in present]
    for place, (got, want) in enumerate(zip(journey_order, chain_order, strict=True)):
        if got != want:
            found.add(
                "touchpoint_reordered",
                got,
                f"touchpoint {got} is out of place: it is number {place + 1} in journey.json, "
                f"where the chain has {want}",
            )
            return
