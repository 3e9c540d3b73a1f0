"""Rich renderings of QA forms, evaluations and the audit trail of reads for the terminal."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table

__all__ = ["print_evaluation", "print_evaluations", "print_form", "print_reads"]

_RESULT = {"pass": "bold green", "fail": "bold red"}
_TYPE = {"critical": "yellow", "fatal": "bold red", "standard": ""}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}%"


def _when(iso: str | None) -> str:
    return (iso or "")[:19].replace("T", " ")


def _result(result: str) -> str:
    return f"[{_RESULT.get(result, '')}]{result.upper()}[/]"


def print_evaluation(console: Console, data: Mapping[str, Any]) -> None:
    """The score card: result, standard and critical scores, each dimension, what failed,
    then every question with its answer."""
    score = data["score"]
    form = data["form"]
    console.print(
        f"[bold]evaluation {data['evaluation_id']}[/]  {_result(data['result'])}\n"
        f"episode {data['episode_id']} · customer {data['customer_id']} · "
        f"form {form['id']} v{form['version']} · by {data['by']} · {_when(data['when'])} UTC\n"
        f"standard score {_percent(score['standard'])} (pass mark {score['pass_mark']:g}%) · "
        f"critical {_percent(score['critical'])}"
    )
    dimensions = Table("dimension", "score", title="SERVQUAL dimensions", title_justify="left")
    for name, value in score["dimensions"].items():
        dimensions.add_row(name, _percent(value))
    console.print(dimensions)
    for reason in score["reasons"]:
        console.print(f"  [red]✗[/] {reason}", soft_wrap=True)
    questions = Table()
    for heading in ("question", "type", "answer"):
        questions.add_column(heading, no_wrap=True)
    questions.add_column("note", ratio=1)
    for question in data["questions"]:
        style = _TYPE.get(question["type"], "")
        questions.add_row(
            question["id"],
            f"[{style}]{question['type']}[/]" if style else question["type"],
            str(question["answer"]),
            question["note"] or "",
        )
    console.print(questions)
    if data["comment"]:
        console.print(f"comment: {data['comment']}")
    for step in data["history"][1:]:
        console.print(
            f"amended by {step['by']} at {_when(step['when'])} UTC: {step['reason']} "
            f"(now {step['result']})"
        )


#: Columns of the evaluation list: (heading, cell); a terminal narrower than 120 columns
#: keeps the first set (ids are shortened to 8 characters like alert ids; ``--json`` has them
#: whole).
_EVALUATION_COLUMNS: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("evaluation", lambda row: row["evaluation_id"][:8]),
    ("episode", lambda row: row["episode_id"][:8]),
    ("customer", lambda row: row["customer_id"]),
    ("by", lambda row: row["by"]),
    ("when (UTC)", lambda row: _when(row["when"])[:16]),
    ("score", lambda row: _percent(row["score"]["standard"])),
    ("result", lambda row: _result(row["result"])),
)
_WIDE_EVALUATION_COLUMNS: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("critical", lambda row: _percent(row["score"]["critical"])),
    ("form", lambda row: f"{row['form']['id']} v{row['form']['version']}"),
)
_WIDE = 120


def print_evaluations(console: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = _EVALUATION_COLUMNS + (_WIDE_EVALUATION_COLUMNS if console.width >= _WIDE else ())
    table = Table(title=f"{len(rows)} evaluation(s), newest first", title_justify="left")
    for heading, _ in columns:
        table.add_column(heading, no_wrap=True)
    for row in rows:
        table.add_row(*(cell(row) for _, cell in columns))
    console.print(table)


def print_form(console: Console, form: Mapping[str, Any]) -> None:
    """Each question as a heading line (id, dimension, type, weight, what it accepts) with its
    text below: readable at any terminal width."""
    console.print(
        f"[bold]{form['title']}[/]  ({form['id']} v{form['version']}, "
        f"pass mark {form['pass_mark']:g}%, scale 0..{form['scale']})"
    )
    for question in form["questions"]:
        style = _TYPE.get(question["type"], "") or "default"
        console.print(
            f"\n[bold]{question['id']}[/]  {question['dimension']} · "
            f"[{style}]{question['type']}[/] · weight {question['weight']:g} · "
            f"{' | '.join(question['accepts'])}",
            soft_wrap=True,
        )
        console.print(Padding(question["text"], (0, 0, 0, 4)))


def print_reads(console: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    table = Table(title=f"{len(rows)} read(s), newest first", title_justify="left")
    for heading in ("when (UTC)", "by", "what", "customer"):
        table.add_column(heading, no_wrap=True)
    table.add_column("subject", ratio=1)
    for row in rows:
        subject = ", ".join(f"{k}={v}" for k, v in sorted(row["subject"].items()))
        table.add_row(
            _when(row["when"]), row["by"], row["what"], row["customer_id"] or "(many)", subject
        )
    console.print(table)
