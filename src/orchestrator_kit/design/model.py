"""`WorkflowDesign`: a state machine or saga as data, read by the validator, simulator, renderers and exporters.

The model only checks shapes and types (a wrong type or an unknown field is a load error with its location). Whether
the design is *sound* (reachable states, sane retries, compensations in reverse order, ...) is the job of the named
rules in `validate.py`, so that a model filling this schema gets every problem back at once, each with a location.

Vocabulary, borrowed from AWS Step Functions' Amazon States Language (ASL) where one exists so that the export is
direct: error names such as `States.ALL` (catch-all), `States.Timeout`, `States.TaskFailed`; a retry's `max_attempts`
counts retries after the first try, as ASL's `MaxAttempts` does. Durations are seconds, or text such as `90s`, `15m`,
`2h`, `3d`. Every state has a `name`, unique in the whole design (branches included). Transitions leave a state on an
`event` (`done` when a task or wait completes; outcomes such as `approved` for human tasks), optionally with a `guard`.
Terminal states are `succeed` and `fail`; every other state must say where it goes next. A `parallel` state runs
branches side by side; a `map` state runs its processor once per item of a set, with its own failure policy.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

SCHEMA_VERSION: Final = "1"

# The catch-all error name and the timeout error, as ASL spells them (docs.aws.amazon.com/step-functions,
# "Error names"). States.TaskFailed matches every error except States.Timeout.
CATCH_ALL = "States.ALL"
TIMEOUT_ERROR = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
# What a map with a failure policy raises when more items fail than it tolerates (ASL, Distributed Map).
EXCEEDED_TOLERANCE = "States.ExceedToleratedFailureThreshold"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def _parse_duration(value: Any) -> Any:
    """`90`, `90s`, `1.5m`, `2h`, `3d`, `500ms` -> seconds. Anything else is left for pydantic to refuse."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("a duration is a number of seconds or text like '90s', '15m', '2h', '3d'")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


Duration = Annotated[
    float,
    Field(allow_inf_nan=False),
    BeforeValidator(_parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"},
            ],
            "description": "Seconds, or text such as '90s', '15m', '2h', '3d'.",
        }
    ),
]

Scalar = str | int | float | bool | None


class Model(BaseModel):
    """Base of every design model: unknown fields are refused, so a typo is an error with its location."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Condition(Model):
    """A decision over the workflow's data, in exactly one of five forms.

    * a comparison: `variable` (a JSONPath into the workflow data, such as `$.order.total`), `op` and `value`;
    * `all` / `any`: a list of conditions, every one or at least one true;
    * `not`: a condition that must be false;
    * `expression`: a JSONata expression (the language of Step Functions' `Condition`), for what the forms above
      cannot say.

    Decisions must be deterministic: no clock, randomness or I/O (rule `deterministic-decisions`).
    """

    variable: str | None = None
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "present", "absent", "matches", "in"] | None = None
    value: Scalar | list[Scalar] = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    expression: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [
            name
            for name, used in (
                ("variable/op", self.variable is not None or self.op is not None),
                ("all", self.all is not None),
                ("any", self.any is not None),
                ("not", self.not_ is not None),
                ("expression", self.expression is not None),
            )
            if used
        ]
        if len(forms) != 1:
            raise ValueError(
                "a condition is exactly one of: variable with op, all, any, not, expression"
                + (f" (found {', '.join(forms)})" if forms else " (found none)")
            )
        if forms == ["variable/op"]:
            if self.variable is None or self.op is None:
                raise ValueError("a comparison needs both 'variable' and 'op'")
            if self.op == "in" and not isinstance(self.value, list):
                raise ValueError("op 'in' needs a list 'value'")
            if self.op not in ("in",) and isinstance(self.value, list):
                raise ValueError(f"op '{self.op}' compares with one value, not a list")
        return self

    def describe(self) -> str:
        """A short human reading of the condition, for diagrams and messages."""
        if self.expression is not None:
            return self.expression
        if self.all is not None:
            return " and ".join(f"({c.describe()})" for c in self.all)
        if self.any is not None:
            return " or ".join(f"({c.describe()})" for c in self.any)
        if self.not_ is not None:
            return f"not ({self.not_.describe()})"
        if self.op in ("present", "absent"):
            return f"{self.variable} {self.op}"
        symbols = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
        return f"{self.variable} {symbols.get(self.op or '', self.op)} {_show(self.value)}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


class Transition(Model):
    """Leave the state on `event` for `target`, when `guard` holds (no guard: always). Guarded transitions of one
    event are tried in the order written; the unguarded one, if any, is the fallback."""

    event: str = "done"
    target: str
    guard: Condition | None = None


class RetryPolicy(Model):
    """Retry the step when it fails with one of `errors` (`States.ALL` matches every error and must stand alone, in
    the last policy). Delay before retry i (1-based) = min(interval_seconds * backoff_rate^(i-1), max_interval_seconds),
    as in ASL."""

    errors: list[str] = Field(min_length=1)
    max_attempts: int | None = Field(
        description="Retries after the first try (ASL MaxAttempts; 0 = never retry). null means unbounded."
    )
    interval_seconds: Duration = 1.0
    backoff_rate: float = Field(default=2.0, allow_inf_nan=False)
    max_interval_seconds: Duration | None = None
    jitter: bool = Field(
        default=False, description="Full jitter (ASL JitterStrategy FULL): random delays up to the computed one."
    )


class Catch(Model):
    """When the step fails with one of `errors` (after its retries), go to `target`."""

    errors: list[str] = Field(min_length=1)
    target: str


class SideEffect(Model):
    """A change outside the workflow (money moved, stock reserved, a release deployed) and the state that undoes it."""

    description: str
    resource: str | None = Field(default=None, description="What is changed, e.g. 'payments-db' or 'stripe'.")
    compensation: str | None = Field(
        default=None,
        description=(
            "Name of the state that undoes this effect: a task, or a human task when a person undoes it. It may be "
            "in the step's own scope or an enclosing one (a parallel state's catch undoing what its branches did)."
        ),
    )
    failure_path: bool = Field(
        default=False,
        description=(
            "An intended effect of the failure path (a dead-letter copy, a page to the owner): never compensated "
            "and not part of any saga."
        ),
    )
    irreversible: bool = Field(
        default=False,
        description=(
            "Cannot be undone (a pushed tag others fetched, a published package, a sent email): after it the only "
            "way on is to fix forward. It is its saga's pivot or comes after it."
        ),
    )
    partial: bool = Field(
        default=False,
        description="Can fail part-way and leave some of the effect (a push of several refs, a batch write).",
    )


class Idempotency(Model):
    """How a repeated call is made harmless: an idempotency `key` (an expression over the data, e.g. `$.order_id`)
    sent with the request, or a declared `natural` idempotency (e.g. a PUT of a whole resource)."""

    key: str | None = None
    natural: bool = False
    note: str | None = None

    @property
    def declared(self) -> bool:
        return bool(self.key) or self.natural


class StepErrors(Model):
    """The errors a step is known to raise; the simulator injects each of them."""

    transient: list[str] = Field(default_factory=list, description="Errors that go away on a retry (throttling, 503).")
    permanent: list[str] = Field(default_factory=list, description="Errors that a retry does not fix (card declined).")


class Metric(Model):
    """A metric the step emits."""

    name: str
    kind: Literal["counter", "gauge", "histogram"] = "counter"
    description: str | None = None


class Alert(Model):
    """An alert on the step. `condition` is a goal the team sets (e.g. 'failure rate > 5% over 15m'), not a
    measurement."""

    name: str
    condition: str
    severity: Literal["page", "ticket", "info"] = "ticket"


class Escalation(Model):
    """What happens when a person has not acted after `after_seconds`: the task goes `to` someone else."""

    after_seconds: Duration
    to: str
    action: Literal["notify", "reassign"] = "notify"


class _StateBase(Model):
    name: str = Field(min_length=1, max_length=80, description="Unique in the whole design (ASL allows 80 characters).")
    type: str  # each state class narrows this to its Literal tag; declared here so dumps put it after the name
    description: str | None = None
    metrics: list[Metric] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)


class _Activity(_StateBase):
    """A state that does work and can fail: it has transitions, retry policies and catchers."""

    transitions: list[Transition] = Field(default_factory=list)
    retry: list[RetryPolicy] = Field(default_factory=list)
    catch: list[Catch] = Field(default_factory=list)


class TaskState(_Activity):
    """Calls `action` on a service. `callback` tasks wait for the service to call back (ASL `.waitForTaskToken`)."""

    type: Literal["task"]
    action: str = Field(description="What is called, e.g. 'payments.charge' or an ARN.")
    service: str | None = Field(
        default=None, description="The participant in the saga diagram (default: `action` up to its first '.')."
    )
    timeout_seconds: Duration | None = None
    heartbeat_seconds: Duration | None = None
    callback: bool = False
    callback_from: Literal["external", "worker"] = Field(
        default="external",
        description=(
            "Who calls back a callback task: an external system or person (an e-signature webhook: it cannot "
            "heartbeat) or our own worker doing long work with the task token (it must heartbeat)."
        ),
    )
    long_running: bool = False
    side_effect: SideEffect | None = None
    idempotency: Idempotency | None = None
    errors: StepErrors | None = None
    fix_forward: bool = Field(
        default=False,
        description="This task repairs forward after a failure past the point of no return (see human_task).",
    )
    audit: bool = Field(default=False, description="The step writes an audit record (who, what, when).")
    settles: str | None = Field(
        default=None,
        description=(
            "A status check (reconciliation): the name of a step whose outcome is unknown after a timeout. When "
            "this task succeeds, whether that step's effect happened is known, so running it again is safe."
        ),
    )

    @property
    def participant(self) -> str:
        return self.service or self.action.split(".", 1)[0] or self.action


class ApprovalPolicy(Model):
    """Who may approve a human task: how many approvers, from which roles, and whether the person who started the
    run may approve it (separation of duties)."""

    approvers: int = Field(default=1, ge=1, le=100)
    roles: list[str] = Field(default_factory=list, description="Roles an approver must hold (any of them).")
    separation_of_duties: bool = Field(
        default=False, description="The person who started the run may not approve it."
    )


class HumanTaskState(_Activity):
    """A person decides or acts; `transitions` name the outcomes (e.g. `approved`, `rejected`)."""

    type: Literal["human_task"]
    owner: str | None = Field(default=None, description="The team or role that must act.")
    deadline_seconds: Duration | None = None
    escalation: Escalation | None = None
    instructions: str | None = None
    approval: ApprovalPolicy | None = None
    fix_forward: bool = Field(
        default=False,
        description="A person repairs forward here after a failure past the point of no return (an irreversible "
        "effect or a saga's pivot): the simulator accepts effects left applied on a path through it.",
    )
    audit: bool = Field(default=False, description="The decision is written to an audit record (who, what, when).")


class ChoiceRule(Model):
    condition: Condition
    target: str


class ChoiceState(_StateBase):
    """Branches on the data: the first rule whose condition holds wins, otherwise `default`."""

    type: Literal["choice"]
    choices: list[ChoiceRule] = Field(default_factory=list)
    default: str | None = None


class WaitState(_StateBase):
    """Waits a number of `seconds`, `until` the timestamp at a data path, or for one of `events` from outside
    (then `timeout_seconds` bounds the wait and a timeout raises States.Timeout to `catch`)."""

    type: Literal["wait"]
    seconds: Duration | None = None
    until: str | None = Field(default=None, description="A JSONPath to a timestamp in the data, e.g. $.release_at.")
    events: list[str] | None = None
    timeout_seconds: Duration | None = None
    correlation_key: str | None = Field(
        default=None,
        description="For events: the value (a JSONPath into the data, e.g. $.release_id) that ties an event to "
        "this run, so one run never takes another's event.",
    )
    transitions: list[Transition] = Field(default_factory=list)
    catch: list[Catch] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> WaitState:
        kinds = [k for k in ("seconds", "until", "events") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a wait state has exactly one of: seconds, until, events")
        return self

    @property
    def emits(self) -> list[str]:
        """The events this wait can end on: each awaited event, or `done` for a timer."""
        return list(self.events) if self.events is not None else ["done"]


class Branch(Model):
    """One branch of a parallel state: its own little machine. Targets stay inside the branch."""

    name: str
    start_at: str
    states: list[State] = Field(default_factory=list)


class ParallelState(_Activity):
    """Runs every branch; `done` when all have succeeded, fails with the first branch error."""

    type: Literal["parallel"]
    branches: list[Branch] = Field(default_factory=list)


class Processor(Model):
    """What a map state runs for each item: its own little machine, like a parallel branch. Inside it, `$.item` is
    the current item and `$.index` its position (0-based)."""

    start_at: str
    states: list[State] = Field(default_factory=list)


class MapState(_Activity):
    """Runs `processor` once for each item of a set (per module, per account, per region), at most
    `max_concurrency` items at once, and is `done` when the items have finished.

    The items are `items_path` (a JSONPath into the data; `$.inputs.<name>` names a run input of type list) or a
    literal `items` list; `max_items` declares a bound on their count. Items are independent of each other: their
    commits are not ordered against each other, whatever the concurrency (as parallel branches).

    Failure policy: without `tolerated_failure_count` and `tolerated_failure_percentage`, one failing item fails the
    map with that item's error (ASL inline Map). With either, failed items are tolerated while their number is at
    most the count and their share at most the percentage (failed / items x 100 <= percentage); past either, the
    map fails with `States.ExceedToleratedFailureThreshold` (ASL Distributed Map), which the map's `catch` can
    route. `retry` on the map runs every item again. A tolerated failure leaves the map successful, so an item
    that failed part-way must undo its own effects inside the processor (per-item compensation).

    `compensation` names the state that undoes every item that committed, in reverse order of commit and only
    those (it receives the map's commit log): run on the map's failure path or a later failure, like a task's
    `side_effect.compensation`."""

    type: Literal["map"]
    items_path: str | None = Field(
        default=None, description="JSONPath to the list of items, e.g. $.inputs.accounts or $.results.discover.ids."
    )
    items: list[Scalar] | None = Field(default=None, description="A literal list of items, e.g. regions.")
    max_items: int | None = Field(
        default=None, ge=0, description="A declared bound on how many items there can be (the design's promise)."
    )
    max_concurrency: int | None = Field(
        default=None, ge=0, description="Items in flight at once; null or 0 means no limit (ASL MaxConcurrency 0)."
    )
    tolerated_failure_count: int | None = Field(default=None, ge=0)
    tolerated_failure_percentage: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    processor: Processor
    compensation: str | None = Field(
        default=None,
        description=(
            "The state that undoes every item that committed, latest commit first, and only those (a task or human "
            "task in this scope or an enclosing one)."
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> MapState:
        if (self.items_path is None) == (self.items is None):
            raise ValueError("a map state has exactly one of: items_path, items")
        return self

    @property
    def has_tolerance(self) -> bool:
        """Whether a failure policy is declared (ASL Distributed Map: past it, ExceedToleratedFailureThreshold)."""
        return self.tolerated_failure_count is not None or self.tolerated_failure_percentage is not None

    def tolerated(self, items: int) -> int:
        """How many of `items` failed items the map tolerates: min(count, floor(percentage x items / 100)) over the
        thresholds declared; 0 without a policy."""
        allowed = [
            *([self.tolerated_failure_count] if self.tolerated_failure_count is not None else []),
            *([math.floor(self.tolerated_failure_percentage * items / 100 + 1e-9)]
              if self.tolerated_failure_percentage is not None else []),
        ]
        return min(allowed) if allowed else 0

    @property
    def bound(self) -> int | None:
        """The most items there can be: the literal list's length, else `max_items`, else unknown (None)."""
        return len(self.items) if self.items is not None else self.max_items


class SucceedState(_StateBase):
    """Terminal: the workflow (or branch) succeeded."""

    type: Literal["succeed"]


class FailState(_StateBase):
    """Terminal: the workflow (or branch) failed with `error`."""

    type: Literal["fail"]
    error: str | None = None
    cause: str | None = None


State = Annotated[
    TaskState | HumanTaskState | ChoiceState | WaitState | ParallelState | MapState | SucceedState | FailState,
    Field(discriminator="type"),
]
STATE_TYPES = ("task", "human_task", "choice", "wait", "parallel", "map", "succeed", "fail")
TERMINAL_TYPES = ("succeed", "fail")


class Saga(Model):
    """A saga boundary: the `steps` (state names) that form one distributed transaction. Steps before the `pivot`
    (the point of no return) must be compensatable; steps after it must be retriable until they succeed."""

    name: str
    steps: list[str] = Field(min_length=1)
    pivot: str | None = None
    compensation_chain: Literal["declared", "generated"] = Field(
        default="declared",
        description=(
            "generated: the loader writes the failure path from the steps' `side_effect.compensation`: each "
            "compensation goes to the one of the step before it (reverse order, scoped to this saga), the last to "
            "`on_compensated`, and each step up to the pivot without a catch-all gets one into the chain where its "
            "own effect (or, without one, the latest before it) is undone."
        ),
    )
    on_compensated: str | None = Field(
        default=None,
        description="Where a generated chain ends (default: a generated fail state '<saga>-compensated').",
    )


class RunInput(Model):
    """A value the workflow is started with; conditions read it as `$.inputs.<name>`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)
    type: Literal["string", "number", "boolean", "choice", "list"] = Field(
        default="string", description="list: a set of items a map state runs over (JSON array text in CI inputs)."
    )
    required: bool = True
    options: list[str] = Field(default_factory=list, description="For type choice: the allowed values.")
    description: str | None = None


class Concurrency(Model):
    """How many runs may be in flight at once for one `key` (a JSONPath such as $.inputs.service, or a fixed
    name), and what a run that would exceed it does: wait in a queue, or be rejected."""

    key: str = "workflow"
    limit: int = Field(default=1, ge=1)
    on_conflict: Literal["queue", "reject"] = "queue"


class WorkflowDesign(Model):
    """A workflow: a state machine that starts at `start_at`, with optional saga boundaries."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    name: str
    description: str | None = None
    start_at: str
    timeout_seconds: Duration | None = Field(default=None, description="Limit for the whole workflow.")
    states: list[State] = Field(default_factory=list)
    sagas: list[Saga] = Field(default_factory=list)
    inputs: list[RunInput] = Field(default_factory=list, description="The values a run is started with.")
    concurrency: Concurrency | None = None
    not_a_saga: bool = Field(
        default=False,
        description=(
            "The workflow is not a distributed transaction: its side effects are not undone on failure (an incident "
            "runbook paging on-call, a notification fan-out). Without declared sagas, side effects are reported as "
            "information only."
        ),
    )

    def to_dict(self) -> dict[str, Any]:
        """Plain data, without defaulted fields, with the YAML/JSON field names (`not`)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_yaml(self) -> str:
        from ..yamltext import dump

        return dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=120)


Branch.model_rebuild()
ParallelState.model_rebuild()
Processor.model_rebuild()
MapState.model_rebuild()
WorkflowDesign.model_rebuild()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a design (draft 2020-12, as pydantic writes it), for models that fill a design in."""
    schema = WorkflowDesign.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:orchestrator-kit:workflow-design:{SCHEMA_VERSION}"
    return schema
