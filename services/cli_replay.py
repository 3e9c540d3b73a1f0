"""The replay commands, registered on the ``servicetrace`` group by :mod:`services.cli`.

``replay CUSTOMER`` steps through a journey; ``journey --as-of`` and ``scene --as-of`` (options
of the commands in :mod:`services.cli`) land in :func:`journey_as_of_command` and
:func:`scene_as_of_command` here. Each command reads the journey in one place
(:func:`services.asof.read_history`) and passes ``--by`` along to it for the audit trail of
reads.
"""

from __future__ import annotations

import os
import sys
import termios
import tty
from typing import Any

import click
import orjson

from services.moments import MOMENT, from_micros
from services.reads import record_read

__all__ = ["journey_as_of_command", "register", "scene_as_of_command"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(replay)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


def journey_as_of_command(
    customer: str, moment: int, as_json: bool, limit: int | None, by: str | None
) -> None:
    """``journey CUSTOMER --as-of MOMENT``."""
    from services.asof import Sources, journey_as_of

    if limit is not None:
        raise click.UsageError("--limit does not apply with --as-of (every known touchpoint)")
    ui = _ui()
    with ui._platform() as platform:
        platform.projector.run_once()
        data = journey_as_of(Sources.of(platform), customer, moment, by)
        if data is not None:
            record_read(platform, by, "journey", customer, as_of=moment)
    if data is None:
        when = from_micros(moment).isoformat()
        ui.err_console.print(f"no touchpoints for customer {customer!r} occurred by {when}")
        sys.exit(1)
    if as_json:
        ui._emit_json(data)
    else:
        from services.render_replay import print_asof_journey

        print_asof_journey(ui.console, data)


def scene_as_of_command(episode_id: str, moment: int, as_json: bool, by: str | None) -> None:
    """``scene EPISODE --as-of MOMENT``: the episode (as stored today) as it stood then."""
    from services.asof import Sources, scene_as_of

    ui = _ui()
    with ui._platform() as platform:
        platform.projector.run_once()
        row = platform.scene_view.get(episode_id)
        if row is None:
            ui.err_console.print(f"no episode {episode_id!r}")
            sys.exit(1)
        data = scene_as_of(Sources.of(platform), row, moment, by)
        record_read(platform, by, "scene", row["customer_id"], episode_id=episode_id, as_of=moment)
    if as_json:
        ui._emit_json(data)
    else:
        from services.render_replay import print_asof_scene

        print_asof_scene(ui.console, data)


@click.command()
@click.argument("customer")
@click.option("--from", "since", type=MOMENT, default=None, help="First moment shown.")
@click.option("--to", "until", type=MOMENT, default=None, help="Last moment shown.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per step (NDJSON).")
@click.option("--by", default=None, help="Who replays (for the audit trail of reads).")
def replay(
    customer: str, since: int | None, until: int | None, as_json: bool, by: str | None
) -> None:
    """Step through CUSTOMER's journey touchpoint by touchpoint (event-time order), showing the
    episode and the risk state after each step. On a terminal: n/Enter next, b back, j jump,
    q quit. History before --from still feeds the state."""
    from services.asof import Sources
    from services.replay_view import iter_step_json, replay_steps

    if since is not None and until is not None and since > until:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    ui = _ui()
    with ui._platform() as platform:
        platform.projector.run_once()
        sources = Sources.of(platform)
        steps = replay_steps(sources, customer, since, until, by)
        if not steps.steps:
            bounds = " in that period" if since is not None or until is not None else ""
            ui.err_console.print(f"no touchpoints for customer {customer!r}{bounds}")
            sys.exit(1)
        record_read(platform, by, "replay", customer, since=since, until=until)
        if as_json:
            out = sys.stdout
            for data in iter_step_json(steps, sources):
                out.write(orjson.dumps(data).decode() + "\n")
            out.flush()
        elif sys.stdin.isatty() and sys.stdout.isatty():
            _interactive(steps, sources)
        else:
            from services.render_replay import print_step

            for data in iter_step_json(steps, sources):
                print_step(ui.console, data)


def _interactive(steps: Any, sources: Any) -> None:
    from services.render_replay import print_step
    from services.replay_view import HELP, browse, step_json

    console = _ui().console

    def show(index: int) -> None:
        print_step(console, step_json(steps, steps.steps[index], sources))
        console.print(f"[dim]{HELP}[/]")

    with _Keys() as keys:
        browse(
            steps.steps,
            show,
            keys.key,
            keys.ask,
            lambda message: console.print(f"[yellow]{message}[/]"),
        )


class _Keys:
    """Single key presses from the terminal on stdin.

    The terminal stays in cbreak mode (no echo, no line buffering) for the whole session,
    switched with ``TCSANOW``: keys typed while a step is still printing are kept, not
    flushed (click's ``getchar`` flushes them). A jump prompt reads one line in the terminal's
    own mode.
    """

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno()
        self.saved = termios.tcgetattr(self.fd)

    def __enter__(self) -> _Keys:
        tty.setcbreak(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: object) -> None:
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def key(self) -> str:
        try:
            data = os.read(self.fd, 1)
        except KeyboardInterrupt:
            return "q"
        return data.decode(errors="replace") if data else "q"  # end of input quits

    def ask(self, prompt: str) -> str:
        termios.tcsetattr(self.fd, termios.TCSANOW, self.saved)
        try:
            click.echo(f"{prompt}: ", nl=False)
            return os.read(self.fd, 1024).decode(errors="replace").strip()
        except KeyboardInterrupt:
            return ""
        finally:
            tty.setcbreak(self.fd, termios.TCSANOW)
