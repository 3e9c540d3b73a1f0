"""The Ed25519 key that signs evidence bundles, and the keys a verifier trusts.

An evidence bundle is only as good as the key behind it, so a deployment keeps one signing key
beside its data (``$SERVICETRACE_HOME/secrets/signing-key.pem`` unless configured), created on
the first export and never regenerated: a new key would make every earlier bundle look as if a
stranger had signed it. It is written the way the identifier pepper is (mode 0600) but
atomically, because two exports may race to create it: each writes a private temporary file and
hard-links it into place, which fails for the loser, who then reads the winner's key. A reader
therefore never sees a half-written key.

A verifier names whom it trusts by a public key (a PEM file, or the private key file itself) or
by a fingerprint: the hex SHA-256 of the raw 32-byte public key, as ``export`` prints it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events.errors import ConfigurationError

__all__ = [
    "SigningKeyError",
    "TrustedKey",
    "fingerprint",
    "load_or_create",
    "load_signing_key",
    "public_bytes",
    "trusted_key",
]

#: A fingerprint given on the command line must be at least this long (64 bits) to mean one key.
MIN_FINGERPRINT_CHARS = 16
_HEX = re.compile(r"[0-9a-f]+")


class SigningKeyError(ConfigurationError):
    """A signing or trusted key that cannot be read or is not an Ed25519 key."""


def public_bytes(key: Ed25519PublicKey) -> bytes:
    """The raw 32 bytes of a public key (what a bundle carries, base64-encoded)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """The hex SHA-256 of the raw public key: how people and manifests name a signer."""
    return hashlib.sha256(public_bytes(key)).hexdigest()


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key stored at ``path`` (unencrypted PKCS#8 PEM)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the signing key {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_or_create(path: Path) -> Ed25519PrivateKey:
    """The key at ``path``, created (mode 0600, atomically) when there is none yet."""
    if path.exists():
        return load_signing_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        # Atomic, and refuses to replace a key another process made first (then it is used).
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return load_signing_key(path)


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A signer a verifier trusts: a full fingerprint, or a prefix of one typed by a person."""

    fingerprint: str
    source: str

    def trusts(self, signer_fingerprint: str) -> bool:
        return signer_fingerprint.startswith(self.fingerprint)


def trusted_key(spec: str) -> TrustedKey:
    """What ``verify --key`` names: a key file (PEM public or private key, or the base64 raw
    public key a bundle carries) when such a file exists, else a fingerprint (hex, at least
    16 characters, optionally prefixed ``sha256:``)."""
    path = Path(spec).expanduser()
    if path.is_file():
        return TrustedKey(fingerprint(_public_key_in(path)), str(path))
    text = spec.strip().lower().removeprefix("sha256:").replace(":", "")
    if len(text) < MIN_FINGERPRINT_CHARS or len(text) > 64 or not _HEX.fullmatch(text):
        raise SigningKeyError(
            f"--key {spec!r} is neither a key file nor a fingerprint (a hex SHA-256 of at least "
            f"{MIN_FINGERPRINT_CHARS} characters, as `servicetrace export` prints it)"
        )
    return TrustedKey(text, "fingerprint")


def _public_key_in(path: Path) -> Ed25519PublicKey:
    data = path.read_bytes()
    for load in (_pem_public, _pem_private, _raw_base64):
        key = load(data)
        if key is not None:
            return key
    raise SigningKeyError(
        f"{path} holds no Ed25519 key (expected a PEM public or private key, or the base64 "
        "raw public key of a bundle's signature.json)"
    )


def _pem_public(data: bytes) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def _pem_private(data: bytes) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else None


def _raw_base64(data: bytes) -> Ed25519PublicKey | None:
    try:
        raw = base64.b64decode(data.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        return None
