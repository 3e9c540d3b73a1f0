"""The evidence commands: ``export`` a customer's signed bundle, ``verify`` one.
Registered on the ``servicetrace`` group by :mod:`services.cli`.

Exit codes of ``verify``: 0 intact, 1 any finding (each printed), 2 a file that is no bundle
at all or a ``--key`` that cannot be read.

Whom ``verify`` trusts: the key named by ``--key``; else, when this deployment has a signing
key, that key (a bundle of this deployment re-signed by anyone else is then a finding); else
nobody, and the report says the signer was not checked. A bundle carries its own public key, so
without a trusted key a valid signature proves only that the bundle is unchanged since *some*
key signed it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from services.moments import MOMENT, from_micros

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    for command in (export, verify):
        cli.add_command(command)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


@click.command()
@click.argument("customer")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the bundle (a zip).",
)
@click.option(
    "--created-at",
    "created_at",
    type=MOMENT,
    default=None,
    help="The export moment recorded in the bundle (default: now); the same state and moment "
    "give a byte-identical bundle.",
)
@click.option("--by", default=None, help="Who exports (default: $SERVICETRACE_USER, OS user).")
@click.option("--json", "as_json", is_flag=True)
def export(customer: str, out: Path, created_at: int | None, by: str | None, as_json: bool) -> None:
    """Write CUSTOMER's signed evidence bundle: journey, hash chain, scenes, decisions,
    evaluations and an offline HTML page."""
    from services.evidence import NoSuchCustomer, export_bundle, record_export

    ui = _ui()
    moment = from_micros(created_at) if created_at is not None else datetime.now(UTC)
    with ui._platform() as platform:
        who = _reader(by)
        try:
            bundle = export_bundle(platform, customer, moment)
        except NoSuchCustomer as exc:
            ui.err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            raise SystemExit(1) from None
        # Recorded before the file exists: an audit trail may over-report a read that then
        # failed to write, never miss one that succeeded.
        record_export(platform, customer, who, bundle)
        _write(out, bundle.data)
    summary = {
        "out": str(out),
        "customer_id": customer,
        "bytes": len(bundle.data),
        "counts": bundle.counts(),
        "chain_head": bundle.chain_head,
        "fingerprint": bundle.fingerprint,
        "created_at": bundle.manifest["created_at"],
        "log": bundle.manifest["log"],
    }
    if as_json:
        ui._emit_json(summary)
        return
    counts = ", ".join(
        f"{n:,} {name.replace('_', ' ').removesuffix('s') if n == 1 else name.replace('_', ' ')}"
        for name, n in bundle.counts().items()
    )
    ui.console.print(f"wrote {out} ({len(bundle.data):,} bytes): {counts}", soft_wrap=True)
    ui.console.print(f"chain head  {bundle.chain_head}", soft_wrap=True)
    ui.console.print(f"signed by   {bundle.fingerprint}", soft_wrap=True)
    ui.console.print(f"check it with: servicetrace verify {out}", soft_wrap=True)


def _reader(explicit: str | None) -> str:
    from services.audit.who import reader

    return reader(explicit)


def _write(out: Path, data: bytes) -> None:
    """Write atomically: a reader never sees half a bundle under the final name."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        os.replace(partial, out)
    except OSError as exc:
        _ui().err_console.print(f"[bold red]error:[/] cannot write {out}: {exc.strerror}")
        raise SystemExit(2) from None


@click.command()
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    default=None,
    help="The trusted signer: a key file (PEM public/private key) or a fingerprint (hex, "
    "16+ characters). Default: this deployment's signing key, if it has one.",
)
@click.option("--json", "as_json", is_flag=True)
def verify(bundle: Path, key: str | None, as_json: bool) -> None:
    """Check BUNDLE: signature, signer, every file, and the touchpoint chain (altered, missing,
    added or reordered touchpoints). Exit 0 intact, 1 findings, 2 unreadable."""
    from events.errors import ServicetraceError
    from replay.bundle import verify_bundle

    ui = _ui()
    try:
        trusted = _trusted(key)
        report = verify_bundle(_read(bundle), trusted)
    except ServicetraceError as exc:
        ui.err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise SystemExit(2) from None
    if as_json:
        ui._emit_json(report.to_json())
    else:
        _print_report(ui.console, report.to_json(), bundle)
    raise SystemExit(0 if report.intact else 1)


_TRUST = {
    "trusted": "the trusted key",
    "untrusted": "[bold red]an untrusted key[/]",
    "unchecked": "[yellow]a key not checked against a trusted one[/] (give --key to check it)",
}


def _print_report(console: Any, report: dict[str, Any], bundle: Path) -> None:
    from rich.markup import escape

    signer = (report["signer"] or "?")[:16]
    console.print(
        f"bundle {escape(str(bundle))}: customer {escape(str(report['customer_id']))}, "
        f"exported {report['created_at']}, {report['touchpoints']} touchpoint(s); "
        f"signed by {signer}… ({_TRUST[report['trust']]})",
        soft_wrap=True,
    )
    findings = report["findings"]
    if not findings:
        console.print(f"[green]intact[/]: chain head {report['chain_head']}", soft_wrap=True)
        return
    console.print(f"[bold red]{len(findings)} finding(s)[/]:")
    for finding in findings:
        console.print(
            f"  [red]✗[/] {finding['code']:<22} {escape(finding['message'])}", soft_wrap=True
        )


def _read(bundle: Path) -> bytes:
    from replay.bundle import BundleUnreadable

    try:
        return bundle.read_bytes()
    except OSError as exc:
        raise BundleUnreadable(f"cannot read {bundle}: {exc.strerror}") from None


def _trusted(key: str | None) -> Any:
    """The ``--key`` given, else this deployment's key when it exists, else None."""
    from replay.signing import TrustedKey, fingerprint, load_signing_key, trusted_key
    from services.evidence import signing_key_path
    from services.settings import Settings

    if key is not None:
        return trusted_key(key)
    own = signing_key_path(Settings())
    if not own.is_file():
        return None
    return TrustedKey(fingerprint(load_signing_key(own).public_key()), f"this deployment: {own}")
