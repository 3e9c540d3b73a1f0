"""``servicetrace serve`` (the HTTP API with the live pipeline) and ``servicetrace token``
(issue, list, revoke API tokens). Registered on the ``servicetrace`` group by
:mod:`services.cli`.

``serve`` is one process on the embedded default: the API, and on a thread the projector,
risk engine and relay following the log (chdb opens a data directory in one process only).
The first time it starts on a data directory with no token at all it issues an ``admin``
token and prints it, once: that is how the first person gets in.
"""

from __future__ import annotations

import signal
import socket
import sys
from typing import Any

import click

from services.security import Role

__all__ = ["register"]

_ROLES = click.Choice([role.value for role in Role])
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(serve)
    cli.add_command(token)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that ``--port 0`` can print the port it got."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _say(line: str) -> None:
    """A line on standard output, flushed at once (a supervisor may be reading the pipe)."""
    click.echo(line)
    sys.stdout.flush()


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="[default: 8000]")
@click.option("--poll", type=float, default=0.5, show_default=True, help="Idle poll (seconds).")
@click.option("--access-log", is_flag=True, help="Log every request on standard error.")
def serve(host: str | None, port: int | None, poll: float, access_log: bool) -> None:
    """Run the HTTP API with the projector, risk engine and relay following the log live
    (unless SERVICETRACE_SERVE_PROJECTOR=false)."""
    import uvicorn

    from services.api import create_app
    from services.settings import Settings

    ui = _ui()
    settings = Settings().for_following()
    host = host or settings.api_host
    port = settings.api_port if port is None else port
    with ui._platform(settings) as platform:
        first = None if platform.tokens.any() else platform.tokens.create("admin", ["admin"])
        # SERVICETRACE_SERVE_PROJECTOR=false: the projector and the relay are processes of
        # their own (the production shape), and this one only answers requests.
        app = create_app(platform, live=settings.serve_projector, poll=poll)
        sock = _bind(host, port)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        _say(f"servicetrace API on http://{shown}:{bound}  (docs: http://{shown}:{bound}/docs)")
        if first is not None:
            _say(f"admin token (shown once, keep it): {first.secret}")
        config = uvicorn.Config(
            app,
            log_level="info" if access_log else "warning",
            access_log=access_log,
            timeout_graceful_shutdown=3,
        )
        _run_until_stopped(uvicorn.Server(config), sock)
        _say("servicetrace API stopped")


class _Stopped(Exception):
    """SIGTERM or SIGINT after the server's graceful shutdown."""


def _stopped(signum: int, frame: Any) -> None:
    raise _Stopped(signum)


def _run_until_stopped(server: Any, sock: socket.socket) -> None:
    """Run uvicorn until SIGTERM/SIGINT, then return normally (exit status 0).

    uvicorn shuts down gracefully on either signal and then raises it again under the
    handlers it found: these handlers turn that into a return, so the platform is closed
    and the process exits 0 instead of dying by the signal."""
    previous = {signum: signal.signal(signum, _stopped) for signum in _SIGNALS}
    try:
        server.run(sockets=[sock])
    except _Stopped:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@click.group()
def token() -> None:
    """API tokens: create (the secret is shown once), list, revoke."""


@token.command("create")
@click.option("--name", required=True, help="Who the token acts as (recorded on reads/actions).")
@click.option("--role", "roles", type=_ROLES, multiple=True, required=True, help="Repeatable.")
@click.option("--json", "as_json", is_flag=True)
def create_token(name: str, roles: tuple[str, ...], as_json: bool) -> None:
    """Issue a token; its secret is printed now and never again."""
    ui = _ui()
    with ui._platform() as platform:
        issued = platform.tokens.create(name, roles)
    if as_json:
        ui._emit_json({**issued.record.to_json(), "token": issued.secret})
        return
    record = issued.record
    ui.err_console.print(
        f"token {record.token_id} for {record.name} "
        f"({', '.join(r.value for r in record.roles)}); the secret is shown once:"
    )
    _say(issued.secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_tokens(as_json: bool) -> None:
    """Every token (ids, names, roles, created, revoked; never a secret)."""
    ui = _ui()
    with ui._platform() as platform:
        rows = [record.to_json() for record in platform.tokens.list()]
    if as_json:
        ui._emit_json(rows)
        return
    from rich.table import Table

    table = Table("id", "name", "roles", "created", "revoked")
    for row in rows:
        table.add_row(
            str(row["token_id"]),
            str(row["name"]),
            ", ".join(row["roles"]),
            str(row["created_at"]),
            str(row["revoked_at"] or ""),
        )
    ui.console.print(table if rows else "no tokens yet (servicetrace token create, or serve)")


@token.command("revoke")
@click.argument("token_id")
def revoke_token(token_id: str) -> None:
    """Revoke TOKEN_ID: it stops working at once."""
    ui = _ui()
    with ui._platform() as platform:
        record = platform.tokens.revoke(token_id)
    ui.console.print(f"token {record.token_id} ({record.name}) revoked at {record.revoked_at}")
