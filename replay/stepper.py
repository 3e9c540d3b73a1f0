"""Step-through of a journey: the state after each touchpoint, in event-time order.

Pure domain code (no I/O, no clock). **Steps** are the customer's touchpoints in event-time
order (:func:`projections.facts.order_key`), the order every fold is defined in; the order in
which they were *recorded* is not the order in which things happened, and an auditor replays
what happened. A touchpoint recorded long after it occurred is marked *late*, with the step at
which the replay's clock passes its recording.

**Step k's state** is the folds over touchpoints 1..k (everything now known that occurred by
then, late arrivals included: this is the replay in hindsight; ``--as-of`` is the view of what
was known at a moment):

* the touchpoint and its episode, as the scene fold over steps 1..k makes it;
* the decisions revealed by step k: those whose triggering touchpoints are all among steps
  1..k and whose event time (``at``) and stream time (``due``: when the engine could emit it,
  i.e. once its triggers were *recorded*) are both reached by step k's event time. So a late
  arrival's decisions appear only once the replay passes the moment it was recorded;
* the flags in force at step k's event time, from the flag changes revealed by then;
* the agent warning shown at this contact, if the rules issue one (the rule itself judges the
  flag "as known when the customer called").

**How it stays fast.** Running the rules over every prefix costs O(n²) (minutes for a customer
with 5,000 touchpoints). The rules are causal in event time: a decision at event time t depends
only on touchpoints that occurred by t (repeat and channel-hopping windows look back; an SLA
deadline looks at what happened until the deadline; flag periods are built forwards; agent
warnings judge what was recorded by the call). So the rules run **once** over the whole
history and each decision is revealed at the first step that satisfies the conditions above;
``tests/unit/test_stepper.py`` holds this equal to :func:`projections.risk.assess` over every
prefix. The one difference is in an agent warning's *text*: its list of open episodes is
computed over the whole history (an episode resolved then reopened later counts as open);
the ids, times and triggers are the same. The scene fold is incremental
(:class:`~projections.scenes.SceneFold` only re-summarises the episode a step touched).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from projections.facts import DAY_US, HOUR_US, Fact, in_event_time_order
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, evaluate_all
from projections.risk.decisions import Decision
from projections.scenes import Scene, SceneFold
from replay.asof import AGENT_WARNING, FlagInForce, flags_in_force

__all__ = ["Step", "Steps", "plan", "step_through"]


@dataclass(frozen=True, slots=True)
class Step:
    """The state after one touchpoint (see the module doc)."""

    #: 1-based position among all the customer's touchpoints.
    number: int
    total: int
    fact: Fact
    #: How much later than it occurred the touchpoint was recorded (µs), when late.
    late_by: int | None
    #: The step at which the replay's clock passes its recording (``None``: after the last).
    known_at_step: int | None
    scene: Scene
    flags: tuple[FlagInForce, ...]
    #: Every decision in reveal order; ``revealed`` of them are revealed by this step.
    decisions: tuple[Decision, ...]
    revealed: int
    #: Those revealed at this very step.
    new: tuple[Decision, ...]
    #: The agent warning for this contact, when the rules issue one.
    warning: Decision | None

    @property
    def moment(self) -> int:
        return self.fact.occurred

    @property
    def so_far(self) -> tuple[Decision, ...]:
        return self.decisions[: self.revealed]

    @property
    def alerts(self) -> tuple[Decision, ...]:
        """Alerts (agent warnings aside) revealed by this step."""
        return tuple(d for d in self.so_far if d.is_alert and d.rule_id != AGENT_WARNING)

    @property
    def warnings(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.so_far if d.rule_id == AGENT_WARNING)


@dataclass(frozen=True, slots=True)
class Steps:
    """A customer's facts in event-time order and every decision, in reveal order."""

    facts: tuple[Fact, ...]
    decisions: tuple[Decision, ...]
    #: The step index (0-based) at which each decision is revealed (``len(facts)``: never).
    reveal: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.facts)


def _reveal_at(decision: Decision, position: dict[str, int], times: Sequence[int]) -> int:
    after_triggers = max((position.get(t, -1) for t in decision.triggers), default=-1)
    after_time = bisect_left(times, max(decision.at, decision.due))
    return max(after_triggers, after_time)


def plan(facts: Iterable[Fact], rules: RuleSet, config: ProjectionConfig) -> Steps:
    """Order the facts and decide once, over the whole history, when each decision shows."""
    ordered = tuple(in_event_time_order(facts))
    times = [fact.occurred for fact in ordered]
    position = {fact.event_id: index for index, fact in enumerate(ordered)}
    decisions = evaluate_all(ordered, rules, config)
    reveal = [_reveal_at(d, position, times) for d in decisions]
    order = sorted(range(len(decisions)), key=lambda i: (reveal[i], decisions[i].at, i))
    return Steps(
        ordered,
        tuple(decisions[i] for i in order),
        tuple(reveal[i] for i in order),
    )


def step_through(
    facts: Iterable[Fact],
    rules: RuleSet,
    config: ProjectionConfig,
    *,
    late_after_us: int = HOUR_US,
) -> Iterator[Step]:
    """The steps of one customer's journey (see the module doc), lazily, first to last."""
    steps = plan(facts, rules, config)
    ordered, decisions, reveal = steps.facts, steps.decisions, steps.reveal
    total = len(ordered)
    times = [fact.occurred for fact in ordered]
    expiry = round(rules.sensitive_customer.expiry_days * DAY_US)
    warnings = {d.triggers[0]: d for d in decisions if d.rule_id == AGENT_WARNING}
    fold = SceneFold(config.scenes, config.costs)
    flag_changes: list[Decision] = []
    revealed = 0
    for index, fact in enumerate(ordered):
        start = revealed
        while revealed < len(decisions) and reveal[revealed] <= index:
            if not decisions[revealed].is_alert:
                flag_changes.append(decisions[revealed])
            revealed += 1
        late = fact.recorded - fact.occurred
        known_at = bisect_left(times, fact.recorded)
        yield Step(
            number=index + 1,
            total=total,
            fact=fact,
            late_by=late if late > late_after_us else None,
            known_at_step=known_at + 1 if known_at < total else None,
            scene=_episode_of(fold.scenes(ordered[: index + 1]), fact),
            flags=flags_in_force(flag_changes, fact.occurred, expiry),
            decisions=decisions,
            revealed=revealed,
            new=decisions[start:revealed],
            warning=warnings.get(fact.event_id),
        )


def _episode_of(scenes: Sequence[Scene], fact: Fact) -> Scene:
    """The scene ``fact`` just joined: it is the latest fact fed, so its episode's last."""
    for scene in reversed(scenes):
        if scene.event_ids[-1] == fact.event_id:
            return scene
    raise LookupError(f"touchpoint {fact.event_id} is in no episode")  # the fold places all
