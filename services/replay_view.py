"""``servicetrace replay``: the step-through of a journey as data, and its interactive browser.

The steps come from :func:`replay.stepper.step_through` over the customer's history read once
through :func:`services.asof.read_history` (the one read of the command). :func:`step_json` is
one step as plain data (one NDJSON line with ``--json``; the screen renders the same dict).

:func:`browse` is the terminal loop, kept free of the terminal: the key source, the prompt and
the screen are passed in, so tests drive it with scripted keys. Keys: ``n``, Enter or space
next; ``b`` back; ``j`` jump (to a step number, or to the last step at or before a moment);
``q`` quit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

from projections.facts import HOUR_US
from replay.stepper import Step, step_through
from services.asof import (
    History,
    Sources,
    decision_json,
    flag_json,
    read_history,
    scene_data,
)
from services.decisions.views import iso_micros
from services.journeys import LATE_AFTER, journey_json
from services.moments import parse_moment

__all__ = ["Browse", "ReplaySteps", "browse", "replay_steps", "step_json"]

_LATE_AFTER_US = round(LATE_AFTER.total_seconds() * 1_000_000)
_NEXT = frozenset({"n", "\r", "\n", " "})
_QUIT = frozenset({"q", "", "\x03", "\x04"})
HELP = "n/Enter next · b back · j jump (step number or moment) · q quit"


@dataclass(frozen=True, slots=True)
class ReplaySteps:
    """The steps shown (``--from``/``--to`` bound them; earlier history still fed them)."""

    customer_id: str
    history: History
    steps: tuple[Step, ...]


def replay_steps(
    sources: Sources,
    customer_id: str,
    since: int | None = None,
    until: int | None = None,
    by: str | None = None,
) -> ReplaySteps:
    """The steps of ``customer_id``'s journey whose event time is within [since, until].

    The whole journey is read (steps are numbered among all of them: "step k of N"); steps
    after ``until`` are never computed.
    """
    history = read_history(sources.journey, customer_id, None, by)
    every = step_through(history.facts, sources.rules, sources.config, late_after_us=_LATE_AFTER_US)
    bounded = takewhile(lambda step: until is None or step.moment <= until, every)
    steps = tuple(step for step in bounded if since is None or step.moment >= since)
    return ReplaySteps(customer_id, history, steps)


def step_json(replay: ReplaySteps, step: Step, sources: Sources) -> dict[str, Any]:
    """One step as plain data: the touchpoint, its episode, and the risk state after it."""
    (touchpoint,) = journey_json(
        replay.customer_id, replay.history.entries_of([step.fact]), sources.vault
    )["touchpoints"]
    episode = scene_data(step.scene)
    del episode["event_ids"]  # the count is ``touchpoints``; the ids would repeat every step
    alerts = step.alerts
    return {
        "step": step.number,
        "of": step.total,
        "at": iso_micros(step.moment),
        "touchpoint": touchpoint,
        "late": None
        if step.late_by is None
        else {
            "late_by_hours": round(step.late_by / HOUR_US, 2),
            "recorded_at": iso_micros(step.fact.recorded),
            "known_at_step": step.known_at_step,
            "note": "recorded after it occurred: not known at this step; decisions it triggers "
            "show once the replay passes its recording",
        },
        "episode": episode,
        "risk": {
            "sensitive": [flag_json(flag) for flag in step.flags],
            "alerts_so_far": len(alerts),
            "alerts_by_rule": dict(sorted(Counter(a.rule_id for a in alerts).items())),
            "warnings_so_far": len(step.warnings),
            "new_decisions": [decision_json(d) for d in step.new],
            "warning_at_this_contact": None
            if step.warning is None
            else decision_json(step.warning),
        },
    }


def iter_step_json(replay: ReplaySteps, sources: Sources) -> Iterator[dict[str, Any]]:
    for step in replay.steps:
        yield step_json(replay, step, sources)


@dataclass(frozen=True, slots=True)
class Browse:
    """What :func:`browse` did: the steps shown, in order (0-based), and messages given."""

    shown: tuple[int, ...]
    messages: tuple[str, ...]


def locate(steps: Sequence[Step], answer: str) -> int | None:
    """The step (0-based) a jump answer names: a step number as the screen shows it (``step k
    of N``), or a moment (the last step at or before it); ``None`` when it names none."""
    text = answer.strip()
    if text.isdigit():
        wanted = int(text)
        return next((i for i, step in enumerate(steps) if step.number == wanted), None)
    try:
        moment = parse_moment(text)
    except ValueError:
        return None
    before = [i for i, step in enumerate(steps) if step.moment <= moment]
    return before[-1] if before else None


def browse(
    steps: Sequence[Step],
    show: Callable[[int], None],
    key: Callable[[], str],
    ask: Callable[[str], str],
    say: Callable[[str], None],
) -> Browse:
    """Show ``steps`` one at a time, moving as the keys say, until ``q`` (or the keys end)."""
    shown: list[int] = []
    messages: list[str] = []

    def tell(message: str) -> None:
        messages.append(message)
        say(message)

    index = 0
    while True:
        shown.append(index)
        show(index)
        while True:
            pressed = key()
            if pressed in _QUIT:
                return Browse(tuple(shown), tuple(messages))
            target = _move(pressed, index, steps, ask, tell)
            if target is not None:
                index = target
                break


def _move(
    pressed: str,
    index: int,
    steps: Sequence[Step],
    ask: Callable[[str], str],
    tell: Callable[[str], None],
) -> int | None:
    """The step to show after ``pressed`` (``None``: stay, having said why)."""
    if pressed in _NEXT:
        if index + 1 < len(steps):
            return index + 1
        tell("this is the last step")
    elif pressed == "b":
        if index > 0:
            return index - 1
        tell("this is the first step")
    elif pressed == "j":
        answer = ask("jump to step number or moment (e.g. 2026-01-07T10:00)")
        found = locate(steps, answer)
        if found is not None:
            return found
        tell(f"no step {answer.strip()!r}: give a step number shown, or an ISO moment")
    else:
        tell(HELP)
    return None
