"""The audit commands: score an episode with a QA form, list evaluations, show the form, and
the audit trail of reads. Registered on the ``servicetrace`` group by :mod:`services.cli`.

Bad forms and answers exit 2 naming every offending question; an episode the scene view does
not know exits 1, like ``servicetrace scene``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["register"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    for command in (evaluate, amend_evaluation, evaluations, evaluation, evaluation_form, reads):
        cli.add_command(command)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


def _show_evaluation(data: dict[str, Any], as_json: bool) -> None:
    ui = _ui()
    if as_json:
        ui._emit_json(data)
        return
    from services.render_audit import print_evaluation

    print_evaluation(ui.console, data)


@click.command()
@click.argument("episode_id")
@click.option("--form", "form_path", type=_FILE, default=None, help="QA form (default: shipped).")
@click.option("--answers", "answers_path", type=_FILE, required=True, help="Answers (TOML).")
@click.option("--by", default=None, help="The auditor (default: $SERVICETRACE_USER, OS user).")
@click.option("--json", "as_json", is_flag=True)
def evaluate(
    episode_id: str, form_path: Path | None, answers_path: Path, by: str | None, as_json: bool
) -> None:
    """Score EPISODE with a QA form and record the evaluation."""
    from services.audit import load_answers, load_form, reader
    from services.audit.views import evaluation_json

    ui = _ui()
    with ui._platform() as platform:
        form = load_form(form_path)
        answers = load_answers(form, answers_path)
        auditor = reader(by)
        row = platform.scene_view.get(episode_id)
        if row is None:
            ui.err_console.print(
                f"no episode {episode_id!r} in the scene view "
                "(ingest and `servicetrace project` first; `servicetrace scenes CUSTOMER` "
                "lists a customer's episodes)"
            )
            sys.exit(1)
        found = platform.audit.evaluate(episode_id, row["customer_id"], form, answers, auditor)
        data = evaluation_json(found)
    _show_evaluation(data, as_json)


@click.command("amend-evaluation")
@click.argument("evaluation_id")
@click.option("--answers", "answers_path", type=_FILE, required=True, help="New answers (TOML).")
@click.option("--reason", required=True, help="Why the evaluation changes.")
@click.option("--by", default=None, help="Who amends (default: $SERVICETRACE_USER, OS user).")
@click.option("--json", "as_json", is_flag=True)
def amend_evaluation(
    evaluation_id: str, answers_path: Path, reason: str, by: str | None, as_json: bool
) -> None:
    """Re-answer an evaluation (against the form it was scored with); the history is kept."""
    from services.audit import load_answers, reader
    from services.audit.views import evaluation_json

    ui = _ui()
    with ui._platform() as platform:
        current = platform.audit.evaluation(evaluation_id)
        answers = load_answers(current.form_model, answers_path)
        found = platform.audit.amend(str(current.id), answers, reader(by), reason)
        data = evaluation_json(found)
    _show_evaluation(data, as_json)


@click.command()
@click.option("--customer", default=None, help="Only this customer's evaluations.")
@click.option("--episode", default=None, help="Only this episode's evaluations.")
@click.option("--json", "as_json", is_flag=True)
def evaluations(customer: str | None, episode: str | None, as_json: bool) -> None:
    """List evaluations, newest first."""
    from services.audit.views import evaluation_json

    ui = _ui()
    with ui._platform() as platform:
        rows = [
            evaluation_json(e)
            for e in platform.audit.evaluations(customer_id=customer, episode_id=episode)
        ]
    if as_json:
        ui._emit_json(rows)
        return
    from services.render_audit import print_evaluations

    print_evaluations(ui.console, rows)


@click.command()
@click.argument("evaluation_id")
@click.option("--json", "as_json", is_flag=True)
def evaluation(evaluation_id: str, as_json: bool) -> None:
    """One evaluation's score card (a full id or a unique prefix)."""
    from services.audit.views import evaluation_json

    ui = _ui()
    with ui._platform() as platform:
        data = evaluation_json(platform.audit.evaluation(evaluation_id))
    _show_evaluation(data, as_json)


@click.command("evaluation-form")
@click.option("--form", "form_path", type=_FILE, default=None, help="QA form (default: shipped).")
@click.option("--template", is_flag=True, help="Print an answers TOML skeleton to fill in.")
@click.option("--json", "as_json", is_flag=True)
def evaluation_form(form_path: Path | None, template: bool, as_json: bool) -> None:
    """Show a QA form's questions (the ids to answer) or an answers skeleton."""
    from services.audit import answers_template, load_form
    from services.audit.views import form_json

    ui = _ui()
    with ui._platform():
        form = load_form(form_path)
    if template:
        click.echo(answers_template(form), nl=False)
    elif as_json:
        ui._emit_json(form_json(form))
    else:
        from services.render_audit import print_form

        print_form(ui.console, form_json(form))


@click.command()
@click.option("--customer", default=None, help="Only reads of this customer.")
@click.option("--by", default=None, help="Only reads by this person.")
@click.option("--what", default=None, help="Only this kind: journey, scene, replay, export...")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def reads(
    customer: str | None, by: str | None, what: str | None, limit: int, as_json: bool
) -> None:
    """The audit trail: who read which customer's journey, scenes, replays, exports; newest
    first."""
    from services.audit.views import read_json

    ui = _ui()
    with ui._platform() as platform:
        rows = [
            read_json(r)
            for r in platform.audit.reads(customer_id=customer, by=by, what=what, limit=limit)
        ]
    if as_json:
        ui._emit_json(rows)
        return
    from services.render_audit import print_reads

    print_reads(ui.console, rows)
