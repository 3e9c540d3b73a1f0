"""Evidence bundles: built, verified, and tampered with in every way a verifier must catch."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import re
import stat
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from replay.bundle import (
    FORMAT,
    GENESIS,
    BundleUnreadable,
    Sections,
    build_bundle,
    canonical,
    chain_of,
    verify_bundle,
)
from replay.bundle_page import DATA_ELEMENT_ID, embedded_json, render_page
from replay.signing import (
    SigningKeyError,
    fingerprint,
    load_or_create,
    trusted_key,
)

MOMENT = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
TRUSTED = trusted_key(fingerprint(KEY.public_key()))


def _touchpoint(n: int, channel: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-5000-8000-{n:012d}",
        "occurred_at": f"2026-02-0{n}T09:3{n}:00+08:00",
        "occurred_at_local": f"Mon 02-0{n} 09:3{n}",
        "channel": channel,
        "direction": "outbound" if kind.endswith("_made") else "inbound",
        "actor": "customer",
        "kind": kind,
        "service_type": "repair",
        "outcome": None,
        "score": None,
        "words": extra.pop("words", None),
        "attributes": {},
        "position": {"partition": n % 2, "position": 10 * n},
        **extra,
    }


def _sections(**changes: Any) -> Sections:
    touchpoints = [
        _touchpoint(1, "phone", "complaint", words="no power since </script><!-- & \u2028"),
        _touchpoint(2, "app", "inquiry"),
        _touchpoint(3, "phone", "callback_made"),
        _touchpoint(4, "sms", "complaint"),
        _touchpoint(5, "field", "repair_done"),
    ]
    values: dict[str, Any] = {
        "customer_id": "C0000007",
        "journey": {
            "customer": {"id": "C0000007", "name": "****ang"},
            "channels": ["phone", "app", "sms", "field"],
            "touchpoints": touchpoints,
        },
        "scenes": [{"episode_id": "E1", "event_ids": [t["event_id"] for t in touchpoints]}],
        "decisions": {
            "risk": {"customer_id": "C0000007", "sensitive": True, "changes": [{"x": 1}]},
            "alerts": [{"alert_id": "A1", "rule_id": "repeat_request", "rule_version": 2}],
        },
        "evaluations": [{"evaluation_id": "V1", "episode_id": "E1", "result": "pass"}],
        "projected": {"0": 40, "1": 60},
    }
    values.update(changes)
    return Sections(**values)


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _tamper(edit: Callable[[dict[str, bytes]], None]) -> bytes:
    files = _unzip(build_bundle(_sections(), KEY, MOMENT).data)
    edit(files)
    return _rezip(files)


def _edit_journey(change: Callable[[list[dict[str, Any]]], object]) -> bytes:
    def edit(files: dict[str, bytes]) -> None:
        journey = json.loads(files["journey.json"])
        change(journey["touchpoints"])
        files["journey.json"] = json.dumps(journey, indent=2).encode()

    return _tamper(edit)


def _found(data: bytes, trusted: Any = TRUSTED) -> set[tuple[str, str]]:
    return {(f.code, f.subject) for f in verify_bundle(data, trusted).findings}


def _event(n: int) -> str:
    return f"00000000-0000-5000-8000-{n:012d}"


# --- building ---------------------------------------------------------------------------------


def test_an_untouched_bundle_is_intact_and_signed_by_the_trusted_key() -> None:
    report = verify_bundle(build_bundle(_sections(), KEY, MOMENT).data, TRUSTED)
    assert report.findings == ()
    assert report.intact and report.trust == "trusted"
    assert report.customer_id == "C0000007" and report.touchpoints == 5
    assert report.signer == fingerprint(KEY.public_key())
    unchecked = verify_bundle(build_bundle(_sections(), KEY, MOMENT).data)
    assert unchecked.intact and unchecked.trust == "unchecked"


def test_the_same_state_and_moment_give_the_same_bytes() -> None:
    first = build_bundle(_sections(), KEY, MOMENT).data
    assert build_bundle(_sections(), KEY, MOMENT).data == first
    later = build_bundle(_sections(), KEY, MOMENT.replace(minute=16)).data
    assert later != first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_the_chain_links_each_touchpoint_digest_to_the_one_before() -> None:
    sections = _sections()
    touchpoints = sections.journey["touchpoints"]
    links = chain_of(touchpoints)
    previous = bytes(32)
    for link, touchpoint in zip(links, touchpoints, strict=True):
        body = json.dumps(touchpoint, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        assert link.digest == digest.hex()
        assert link.link == hashlib.sha256(previous + digest).hexdigest()
        assert (link.partition, link.position) == (
            touchpoint["position"]["partition"],
            touchpoint["position"]["position"],
        )
        previous = bytes.fromhex(link.link)
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert [link.index for link in links] == list(range(5))


def test_the_manifest_lists_every_file_with_its_hash_and_is_what_was_signed() -> None:
    bundle = build_bundle(_sections(), KEY, MOMENT)
    files = _unzip(bundle.data)
    manifest = json.loads(files["manifest.json"])
    assert manifest == json.loads(json.dumps(bundle.manifest))
    assert manifest["format"] == FORMAT and manifest["created_at"] == MOMENT.isoformat()
    listed = {item["path"]: item for item in manifest["items"]}
    assert set(listed) == set(files) - {"manifest.json", "signature.json"}
    for path, item in listed.items():
        assert item["sha256"] == hashlib.sha256(files[path]).hexdigest()
        assert item["bytes"] == len(files[path])
    assert listed["journey.json"]["count"] == 5 == listed["chain.json"]["count"]
    assert listed["decisions.json"]["count"] == 2  # one flag change, one alert
    assert listed["index.html"]["count"] is None
    chain = json.loads(files["chain.json"])
    assert manifest["chain"] == {"head": chain[-1]["link"], "length": 5, "genesis": GENESIS}
    assert manifest["log"]["projected"] == {"0": 40, "1": 60}
    assert manifest["log"]["touchpoints"] == {
        "0": {"first": 20, "last": 40, "count": 2},
        "1": {"first": 10, "last": 50, "count": 3},
    }
    signed = json.loads(files["signature.json"])
    public = KEY.public_key()
    public.verify(base64.b64decode(signed["signature"]), files["manifest.json"])
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert base64.b64decode(signed["public_key"]) == raw
    assert manifest["signer"]["fingerprint"] == hashlib.sha256(raw).hexdigest()
    assert bundle.counts() == {
        "touchpoints": 5,
        "chain_links": 5,
        "scenes": 1,
        "decisions": 2,
        "evaluations": 1,
    }


def test_an_empty_journey_chains_to_the_genesis() -> None:
    empty = _sections(journey={"customer": {"id": "C1"}, "channels": [], "touchpoints": []})
    bundle = build_bundle(empty, KEY, MOMENT)
    assert bundle.chain_head == GENESIS
    assert verify_bundle(bundle.data, TRUSTED).intact


# --- tampering --------------------------------------------------------------------------------


def test_a_rewritten_touchpoint_field_names_the_touchpoint() -> None:
    def rewrite(touchpoints: list[dict[str, Any]]) -> None:
        touchpoints[2]["kind"] = "callback_promised"

    assert _found(_edit_journey(rewrite)) == {
        ("item_altered", "journey.json"),
        ("touchpoint_altered", _event(3)),
    }


def test_a_dropped_touchpoint_is_missing() -> None:
    assert _found(_edit_journey(lambda tps: tps.pop(1))) == {
        ("item_altered", "journey.json"),
        ("touchpoint_missing", _event(2)),
    }


def test_two_swapped_touchpoints_name_the_first_out_of_place() -> None:
    def swap(touchpoints: list[dict[str, Any]]) -> None:
        touchpoints[1], touchpoints[3] = touchpoints[3], touchpoints[1]

    assert _found(_edit_journey(swap)) == {
        ("item_altered", "journey.json"),
        ("touchpoint_reordered", _event(4)),
    }


def test_an_added_touchpoint_is_named() -> None:
    def add(touchpoints: list[dict[str, Any]]) -> None:
        forged = copy.deepcopy(touchpoints[0])
        forged["event_id"] = _event(99)
        touchpoints.insert(1, forged)

    assert _found(_edit_journey(add)) == {
        ("item_altered", "journey.json"),
        ("touchpoint_added", _event(99)),
    }


def test_a_dropped_file_and_an_extra_file() -> None:
    def drop(files: dict[str, bytes]) -> None:
        del files["scenes.json"]

    def extra(files: dict[str, bytes]) -> None:
        files["notes.txt"] = b"trust me"

    assert _found(_tamper(drop)) == {("item_missing", "scenes.json")}
    assert _found(_tamper(extra)) == {("item_unlisted", "notes.txt")}


def test_an_edited_manifest_breaks_the_signature() -> None:
    def edit(files: dict[str, bytes]) -> None:
        files["manifest.json"] = files["manifest.json"].replace(b"C0000007", b"C0000008")

    report = verify_bundle(_tamper(edit), TRUSTED)
    assert {(f.code, f.subject) for f in report.findings} == {
        ("signature_invalid", "manifest.json")
    }
    assert report.customer_id == "C0000008"


def test_a_forgery_re_signed_with_another_key_is_untrusted() -> None:
    """The forger rebuilds everything consistently: only the trusted key can tell."""
    sections = _sections()
    sections.journey["touchpoints"][0]["words"] = "all fine"
    forged = build_bundle(sections, OTHER, MOMENT).data
    report = verify_bundle(forged, TRUSTED)
    assert {(f.code, f.subject) for f in report.findings} == {("untrusted_key", "signature.json")}
    assert report.trust == "untrusted"
    assert verify_bundle(forged).intact  # without a trusted key: consistent, signer unchecked


def test_a_manifest_re_signed_with_another_key_names_both_problems() -> None:
    def re_sign(files: dict[str, bytes]) -> None:
        public = OTHER.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        files["signature.json"] = json.dumps(
            {
                "public_key": base64.b64encode(public).decode(),
                "signature": base64.b64encode(OTHER.sign(files["manifest.json"])).decode(),
            }
        ).encode()

    assert _found(_tamper(re_sign)) == {
        ("signer_mismatch", "signature.json"),
        ("untrusted_key", "signature.json"),
    }


def test_an_edited_chain_breaks_at_the_edited_entry() -> None:
    def edit(files: dict[str, bytes]) -> None:
        chain = json.loads(files["chain.json"])
        chain[2]["sha256"] = hashlib.sha256(b"something else").hexdigest()
        files["chain.json"] = json.dumps(chain).encode()

    assert _found(_tamper(edit)) == {
        ("item_altered", "chain.json"),
        ("chain_broken", _event(3)),
        ("touchpoint_altered", _event(3)),
    }


def test_every_problem_is_reported_not_just_the_first() -> None:
    def many(files: dict[str, bytes]) -> None:
        del files["evaluations.json"]
        files["manifest.json"] = files["manifest.json"].replace(b'"ed25519"', b'"Ed25519"')
        journey = json.loads(files["journey.json"])
        journey["touchpoints"][4]["outcome"] = "resolved"
        files["journey.json"] = json.dumps(journey).encode()

    assert _found(_tamper(many)) == {
        ("signature_invalid", "manifest.json"),
        ("item_missing", "evaluations.json"),
        ("item_altered", "journey.json"),
        ("touchpoint_altered", _event(5)),
    }


def test_a_missing_signature_and_a_missing_manifest() -> None:
    def unsigned(files: dict[str, bytes]) -> None:
        del files["signature.json"]

    def no_manifest(files: dict[str, bytes]) -> None:
        del files["manifest.json"]

    assert _found(_tamper(unsigned)) == {("signature_missing", "signature.json")}
    assert _found(_tamper(no_manifest)) == {("manifest_missing", "manifest.json")}


def test_a_duplicated_zip_entry_is_a_finding() -> None:
    data = build_bundle(_sections(), KEY, MOMENT).data
    buffer = io.BytesIO(data)
    with pytest.warns(UserWarning), zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("journey.json", b"{}")
    assert ("item_duplicated", "journey.json") in _found(buffer.getvalue())


def test_a_file_that_is_no_zip_is_unreadable() -> None:
    with pytest.raises(BundleUnreadable, match="not a readable evidence bundle"):
        verify_bundle(b"PK\x03\x04 but not really")


# --- the offline page -------------------------------------------------------------------------


def _page_data(html: str) -> Any:
    pattern = rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>'
    (embedded,) = re.findall(pattern, html, re.S)
    return json.loads(embedded)


def test_the_page_embeds_the_evidence_so_that_it_reads_back_unchanged() -> None:
    html = _unzip(build_bundle(_sections(), KEY, MOMENT).data)["index.html"].decode()
    data = _page_data(html)
    assert data["touchpoints"] == _sections().journey["touchpoints"]
    assert data["touchpoints"][0]["words"] == "no power since </script><!-- & \u2028"
    assert data["decisions"]["alerts"][0]["rule_id"] == "repeat_request"
    assert data["evaluations"][0]["evaluation_id"] == "V1"
    assert data["chain"]["head"] == chain_of(data["touchpoints"])[-1].link
    assert data["signer"] == fingerprint(KEY.public_key())
    tricky = {"a": "</script><script>alert(1)</script>", "b": "<!--", "c": "&amp; \u2029"}
    escaped = embedded_json(tricky)
    assert "<" not in escaped and ">" not in escaped and "&" not in escaped
    assert json.loads(escaped) == tricky


def test_the_page_needs_no_network_and_reads_without_a_script() -> None:
    html = render_page(
        {
            "customer": {"id": "C0000007", "name": "****ang"},
            "channels": ["phone", "sms"],
            "touchpoints": [_touchpoint(1, "phone", "complaint", words="https://example.com/x")],
            "chain": {"head": "ab" * 32, "length": 1},
            "signer": "cd" * 32,
            "created_at": MOMENT.isoformat(),
            "decisions": {"alerts": [{"rule_id": "sla_overdue", "summary": "no <b>reply</b>"}]},
        }
    )
    without_data = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert not re.search(r"https?://", without_data)
    assert not re.search(r"(src|href)\s*=|@import|url\(", without_data, re.I)
    static = re.sub(r"<script.*?</script>", "", html, flags=re.S)  # what a reader without JS sees
    assert "C0000007" in static and "****ang" in static
    assert "servicetrace verify bundle.zip" in static
    assert "ab" * 32 in static and "cd" * 32 in static
    assert "<noscript>" in static and "complaint" in static
    assert "sla_overdue" in static and "no &lt;b&gt;reply&lt;/b&gt;" in static


# --- keys -------------------------------------------------------------------------------------


def test_the_signing_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "signing-key.pem"
    keys: list[str] = []

    def create() -> None:
        keys.append(fingerprint(load_or_create(path).public_key()))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["signing-key.pem"]  # no temporaries
    assert fingerprint(load_or_create(path).public_key()) == keys[0]


def test_a_trusted_key_from_a_file_or_a_fingerprint(tmp_path: Path) -> None:
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = tmp_path / "key.pub"
    public.write_bytes(
        KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    full = fingerprint(KEY.public_key())
    for spec in (str(pem), str(public), full, f"sha256:{full[:16].upper()}"):
        assert trusted_key(spec).trusts(full), spec
    assert not trusted_key(full[:16]).trusts(fingerprint(OTHER.public_key()))
    with pytest.raises(SigningKeyError, match="neither a key file nor a fingerprint"):
        trusted_key("abc123")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(SigningKeyError, match="holds no Ed25519 key"):
        trusted_key(str(junk))
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        load_or_create(junk)
