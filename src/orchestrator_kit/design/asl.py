"""Export to AWS Step Functions' Amazon States Language (ASL), a second, independent check of the machine.

The mapping (field names from the ASL specification, states-language.net, and the Step Functions developer guide):

* task -> `Task`; an `action` that is an ARN is the `Resource`, anything else is called through
  `arn:aws:states:::lambda:invoke` with the action as `FunctionName`; `callback` tasks use `.waitForTaskToken` and
  pass `$$.Task.Token`, and so does long work (long_running, a heartbeat, or a timeout over Lambda's 15 minutes),
  which a worker reports with the token. Results go to `$.results.<state>`, so the workflow's input is kept.
* human_task -> a `.waitForTaskToken` task whose payload names the owner, deadline and escalation (ASL has no people:
  the inbox service that receives the token must escalate); its `TimeoutSeconds` is the deadline.
* wait on `events` -> a `.waitForTaskToken` task bounded by `timeout_seconds`.
* several transitions (events, guards) -> the task's `Next` is a generated `Choice` state "<name>-route" that reads
  `$.results.<state>.event`; when no transition is unguarded its `Default` is a generated `Fail` state
  "<name>-unrouted" (error `States.NoChoiceMatched`), so no outcome is left without a next state.
* conditions -> `StringEquals`, `NumericLessThan`, `IsPresent`, `And`/`Or`/`Not`, ...; a choice that uses a JSONata
  `expression` becomes a JSONata state (`QueryLanguage: JSONata`), with every condition translated.
* map -> `Map` with `ItemProcessor` (the processor's states), `ItemsPath` and `MaxConcurrency`; a failure policy
  makes it a Distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`, the only mode that has `ToleratedFailureCount`
  and `ToleratedFailurePercentage`), else it stays `INLINE`. `ItemSelector` gives each item `$.item` and `$.index`,
  as the design reads them. `max_items` and the map's compensation go in its `Comment`; so do literal `items`
  (JSONPath ASL reads items from the data only): the map reads them from `$.map_items.<state>`, which the run's
  input must hold (noted).
* sagas, compensation links, idempotency and metrics have no ASL field: they are written into `Comment`s.

Durations are whole seconds in ASL: fractions are rounded up, and each rounding is listed in `notes`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel, Field

from .graph import DesignGraph, Node, Scope
from .model import (
    ChoiceState,
    Condition,
    FailState,
    HumanTaskState,
    MapState,
    ParallelState,
    RetryPolicy,
    SucceedState,
    TaskState,
    Transition,
    WaitState,
)

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
WAIT_FOR_TOKEN = ".waitForTaskToken"  # noqa: S105 -- an ASL resource suffix, not a password
# ASL has no "forever". Step Functions documents 99,999,999 as MaxAttempts' ceiling, but statelint (and so some
# tooling) reads that ceiling as exclusive; one less is accepted by both.
ASL_UNBOUNDED_ATTEMPTS = 99_999_998
# A Lambda invocation stops after 15 minutes: work that may run longer, or that heartbeats, is started with a task
# token (`.waitForTaskToken`) and reported by the worker (SendTaskHeartbeat / SendTaskSuccess).
LAMBDA_MAX_SECONDS = 15 * 60


class AslExport(BaseModel):
    """An ASL state machine definition, what the export could not say exactly, and statelint's opinion."""

    design: str
    definition: dict[str, Any]
    notes: list[str] = Field(default_factory=list, description="What ASL cannot express, and roundings.")
    statelint: list[str] | None = Field(
        default=None,
        description="Problems statelint (PyPI) reports in the definition; null when statelint is not installed.",
    )

    def json_text(self) -> str:
        return json.dumps(self.definition, indent=2, ensure_ascii=False) + "\n"


class _Exporter:
    def __init__(self, graph: DesignGraph) -> None:
        self.graph = graph
        self.notes: list[str] = []
        self.names = {n.name for n in graph.all_nodes}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def seconds(self, value: float | None, where: str) -> int | None:
        if value is None:
            return None
        whole = math.ceil(value)
        if whole != value:
            self.note(f"{where}: {value:g}s rounded up to {whole}s (ASL takes whole seconds)")
        return whole

    def fresh_name(self, base: str, suffix: str = "route") -> str:
        """`<base>-<suffix>`, within ASL's 80 characters and unused by any state."""
        name = f"{base[:78 - len(suffix)]}-{suffix}"
        counter = 2
        while name in self.names:
            name = f"{base[:74 - len(suffix)]}-{suffix}{counter}"
            counter += 1
        self.names.add(name)
        return name

    # -- machine ------------------------------------------------------------------------------------------------

    def machine(self) -> dict[str, Any]:
        design = self.graph.design
        out: dict[str, Any] = {"Comment": self.top_comment()}
        out.update(self.scope(self.graph.root))
        timeout = self.seconds(design.timeout_seconds, "workflow timeout_seconds")
        if timeout is not None:
            out["TimeoutSeconds"] = timeout
        return out

    def top_comment(self) -> str:
        design = self.graph.design
        parts = [design.name + (f": {design.description}" if design.description else "")]
        for saga in design.sagas:
            pivot = f", pivot {saga.pivot}" if saga.pivot else ""
            parts.append(f"saga {saga.name} ({', '.join(saga.steps)}{pivot})")
        if design.sagas:
            self.note("sagas have no ASL field: they are listed in the top-level Comment")
        if design.inputs:
            inputs = [i.model_dump(mode="json", exclude_defaults=True) for i in design.inputs]
            parts.append("inputs: " + comment_json(inputs))
            self.note("run inputs have no ASL field: they are listed in the top-level Comment")
        return "; ".join(parts)

    def scope(self, scope: Scope) -> dict[str, Any]:
        states: dict[str, Any] = {}
        for node in scope.all_nodes:
            for name, body in self.state(node):
                states[name] = body
        return {"StartAt": scope.start_at, "States": states}

    def state(self, node: Node) -> list[tuple[str, dict[str, Any]]]:
        state = node.state
        if isinstance(state, SucceedState):
            return [(state.name, self.with_comment({"Type": "Succeed"}, node))]
        if isinstance(state, FailState):
            body: dict[str, Any] = {"Type": "Fail", "Error": state.error or state.name}
            if state.cause:
                body["Cause"] = state.cause
            return [(state.name, self.with_comment(body, node))]
        if isinstance(state, ChoiceState):
            return [(state.name, self.with_comment(self.choice(state.choices, state.default, None), node))]
        if isinstance(state, WaitState) and state.events is None:
            body = {"Type": "Wait"}
            if state.seconds is not None:
                body["Seconds"] = self.seconds(state.seconds, f"wait '{state.name}'")
            else:
                body["TimestampPath"] = state.until
            return self.link(node, self.with_comment(body, node), state.transitions)
        if isinstance(state, ParallelState):
            body = {
                "Type": "Parallel",
                "Branches": [
                    {"Comment": f"branch {b.name}", **self.scope(s)}
                    for b, s in zip(state.branches, [s for s in self.graph.scopes if s.parent is node], strict=True)
                ],
                "ResultPath": f"$.results.{_key(state.name)}",
            }
            self.retry_catch(body, state)
            return self.link(node, self.with_comment(body, node), state.transitions)
        if isinstance(state, MapState):
            return self.link(node, self.with_comment(self.map(node, state), node), state.transitions)
        return self.link(node, self.with_comment(self.task(node), node), getattr(state, "transitions", []))

    def map(self, node: Node, state: MapState) -> dict[str, Any]:
        scope = next(s for s in self.graph.scopes if s.parent is node)
        mode = "DISTRIBUTED" if state.has_tolerance else "INLINE"
        config: dict[str, Any] = {"Mode": mode}
        if mode == "DISTRIBUTED":
            config["ExecutionType"] = "STANDARD"
            self.note(
                f"map '{state.name}' has a failure policy: exported as a Distributed Map (ASL has tolerated failures "
                "only there); each item runs as a child execution"
            )
        items_path = state.items_path
        if items_path is None:
            items_path = f"$.map_items.{_key(state.name)}"
            self.note(
                f"map '{state.name}': JSONPath ASL reads items from the data, so its literal items (in its Comment) "
                f"must be in the input at {items_path}"
            )
        body: dict[str, Any] = {
            "Type": "Map",
            "ItemsPath": items_path,
            "ItemSelector": {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
            "ItemProcessor": {"ProcessorConfig": config, **self.scope(scope)},
            "MaxConcurrency": state.max_concurrency or 0,
        }
        if state.tolerated_failure_count is not None:
            body["ToleratedFailureCount"] = state.tolerated_failure_count
        if state.tolerated_failure_percentage is not None:
            body["ToleratedFailurePercentage"] = state.tolerated_failure_percentage
        body["ResultPath"] = f"$.results.{_key(state.name)}"
        self.retry_catch(body, state)
        return body

    def task(self, node: Node) -> dict[str, Any]:
        state = node.state
        key = _key(state.name)
        body: dict[str, Any] = {"Type": "Task"}
        if isinstance(state, TaskState):
            if state.action.startswith("arn:"):
                resource = state.action
                if state.callback and not resource.endswith(WAIT_FOR_TOKEN):
                    resource += WAIT_FOR_TOKEN
                body["Resource"] = resource
                if state.callback:
                    body["Parameters"] = {"input.$": "$", "task_token.$": "$$.Task.Token"}
            else:
                payload: dict[str, Any] = {"input.$": "$"}
                if state.idempotency and state.idempotency.key:
                    k = state.idempotency.key
                    payload["idempotency_key.$" if k.startswith("$") else "idempotency_key"] = k
                long_work = _long_work(state)
                if long_work:
                    self.note(
                        f"task '{state.name}' runs long or heartbeats: started with a task token (.waitForTaskToken); "
                        "its worker must send heartbeats and the result with that token (a plain Lambda invoke stops "
                        "after 15 minutes)"
                    )
                if state.callback or long_work:
                    payload["task_token.$"] = "$$.Task.Token"
                body["Resource"] = LAMBDA_INVOKE + (WAIT_FOR_TOKEN if state.callback or long_work else "")
                body["Parameters"] = {"FunctionName": state.action, "Payload": payload}
                if not state.callback and len({t.event for t in state.transitions}) > 1:
                    body["ResultSelector"] = {"event.$": "$.Payload.event", "output.$": "$.Payload"}
            timeout = self.seconds(state.timeout_seconds, f"task '{state.name}' timeout_seconds")
            heartbeat = self.seconds(state.heartbeat_seconds, f"task '{state.name}' heartbeat_seconds")
        elif isinstance(state, HumanTaskState):
            payload = {"task": state.name, "owner": state.owner, "input.$": "$", "task_token.$": "$$.Task.Token"}
            if state.instructions:
                payload["instructions"] = state.instructions
            if state.approval is not None:
                payload["approval"] = state.approval.model_dump(mode="json")
            for flag in ("audit", "fix_forward"):
                if getattr(state, flag):
                    payload[flag] = True
            if state.escalation:
                payload["escalation"] = state.escalation.model_dump(mode="json")
                self.note(
                    f"human task '{state.name}': ASL cannot escalate; the escalation is passed to the inbox service "
                    "in the task payload"
                )
            body["Resource"] = LAMBDA_INVOKE + WAIT_FOR_TOKEN
            body["Parameters"] = {"FunctionName": "human-task-inbox", "Payload": payload}
            timeout = self.seconds(state.deadline_seconds, f"human task '{state.name}' deadline_seconds")
            heartbeat = None
        elif isinstance(state, WaitState):  # a wait for events
            body["Resource"] = LAMBDA_INVOKE + WAIT_FOR_TOKEN
            body["Parameters"] = {
                "FunctionName": "event-subscription",
                "Payload": {
                    "events": state.events, "input.$": "$", "task_token.$": "$$.Task.Token",
                    **({"correlation_key.$": state.correlation_key} if state.correlation_key else {}),
                },
            }
            self.note(f"wait '{state.name}' for events becomes a task that waits for a task token")
            timeout = self.seconds(state.timeout_seconds, f"wait '{state.name}' timeout_seconds")
            heartbeat = None
        else:
            raise TypeError(f"not a task-like state: {state.type}")
        if timeout is not None:
            body["TimeoutSeconds"] = timeout
        if heartbeat is not None:
            body["HeartbeatSeconds"] = heartbeat
        body["ResultPath"] = f"$.results.{key}"
        self.retry_catch(body, state)
        return body

    def retry_catch(self, body: dict[str, Any], state: Any) -> None:
        retry = [self.retrier(p, state.name, i) for i, p in enumerate(getattr(state, "retry", []))]
        if retry:
            body["Retry"] = retry
        catch = [
            {"ErrorEquals": list(c.errors), "Next": c.target, "ResultPath": "$.error"}
            for c in getattr(state, "catch", [])
        ]
        if catch:
            body["Catch"] = catch

    def retrier(self, policy: RetryPolicy, state: str, index: int) -> dict[str, Any]:
        where = f"'{state}' retry {index}"
        attempts = policy.max_attempts
        if attempts is None:
            attempts = ASL_UNBOUNDED_ATTEMPTS
            self.note(f"{where}: unbounded retries written as MaxAttempts {ASL_UNBOUNDED_ATTEMPTS}")
        elif attempts > ASL_UNBOUNDED_ATTEMPTS:
            self.note(f"{where}: max_attempts {attempts} written as MaxAttempts {ASL_UNBOUNDED_ATTEMPTS}, ASL's limit")
            attempts = ASL_UNBOUNDED_ATTEMPTS
        out: dict[str, Any] = {
            "ErrorEquals": list(policy.errors),
            "IntervalSeconds": self.seconds(policy.interval_seconds, f"{where} interval_seconds"),
            "MaxAttempts": attempts,
            "BackoffRate": float(policy.backoff_rate),
        }
        if policy.max_interval_seconds is not None:
            out["MaxDelaySeconds"] = self.seconds(policy.max_interval_seconds, f"{where} max_interval_seconds")
        if policy.jitter:
            out["JitterStrategy"] = "FULL"
        return out

    def with_comment(self, body: dict[str, Any], node: Node) -> dict[str, Any]:
        state = node.state
        parts = [state.description] if state.description else []
        if isinstance(state, TaskState):
            if state.side_effect:
                effect = f"side effect: {state.side_effect.description}"
                if state.side_effect.compensation:
                    effect += f" (compensation: {state.side_effect.compensation})"
                for flag in ("failure_path", "irreversible", "partial"):
                    if getattr(state.side_effect, flag):
                        effect += f" ({flag.replace('_', ' ')})"
                parts.append(effect)
            if state.idempotency and state.idempotency.declared:
                parts.append(
                    f"idempotency key {state.idempotency.key}" if state.idempotency.key else "naturally idempotent"
                )
            if state.errors is not None:
                for kind in ("transient", "permanent"):
                    names = getattr(state.errors, kind)
                    if names:
                        parts.append(f"{kind} errors: {', '.join(names)}")
            if state.long_running:
                parts.append("long running")
            if state.audit:
                parts.append("audited")
            if state.fix_forward:
                parts.append("fixes forward")
            if state.callback and state.callback_from == "worker":
                parts.append("callback from its worker")
            elif _long_work(state):
                parts.append("worker reports with a task token")
        if isinstance(state, MapState):
            if state.items is not None:
                parts.append("items: " + comment_json(state.items))
            if state.max_items is not None:
                parts.append(f"at most {state.max_items} items")
            if state.compensation:
                parts.append(f"undoes committed items: {state.compensation}")
        metrics = [m.name for m in getattr(state, "metrics", [])]
        if metrics:
            parts.append("metrics: " + ", ".join(metrics))
        if parts:
            return {"Comment": "; ".join(parts), **body}
        return body

    # -- transitions --------------------------------------------------------------------------------------------

    def link(self, node: Node, body: dict[str, Any], transitions: list[Transition]) -> list[tuple[str, dict[str, Any]]]:
        """Set Next (or a generated routing Choice) from the state's transitions."""
        name = node.name
        if len(transitions) == 1 and transitions[0].guard is None:
            body["Next"] = transitions[0].target
            return [(name, body)]
        if not transitions:
            body["End"] = True
            self.note(f"'{name}' has no transition: exported with End: true")
            return [(name, body)]
        route = self.fresh_name(name)
        body["Next"] = route
        events = {t.event for t in transitions}
        variable = f"$.results.{_key(name)}.event"
        rules: list[tuple[Condition | None, str, str | None]] = []
        default: str | None = None
        for t in transitions:
            event = t.event if len(events) > 1 else None
            if t.guard is None and default is None and (event is None or t.event == "done"):
                default = t.target
                continue
            rules.append((t.guard, t.target, event))
        extra: list[tuple[str, dict[str, Any]]] = []
        if default is None:
            unrouted = self.fresh_name(name, "unrouted")
            default = unrouted
            extra.append((unrouted, {
                "Type": "Fail", "Error": "States.NoChoiceMatched",
                "Comment": f"no transition of '{name}' matched its outcome",
            }))
            self.note(f"'{name}': no unguarded transition; unmatched outcomes go to the Fail state '{unrouted}'")
        choice = self.choice_rules(rules, default, variable)
        choice["Comment"] = f"routes the outcome of '{name}'"
        return [(name, body), (route, choice), *extra]

    def choice(self, choices: list[Any], default: str | None, variable: str | None) -> dict[str, Any]:
        return self.choice_rules([(c.condition, c.target, None) for c in choices], default, variable)

    def choice_rules(
        self, rules: list[tuple[Condition | None, str, str | None]], default: str | None, variable: str | None
    ) -> dict[str, Any]:
        jsonata = any(c is not None and _uses_expression(c) for c, _, _ in rules)
        body: dict[str, Any] = {"Type": "Choice"}
        if jsonata:
            body["QueryLanguage"] = "JSONata"
        out = []
        for condition, target, event in rules:
            if jsonata:
                parts = []
                if event is not None:
                    parts.append(f"{_jsonata_path(variable or '$')} = {json.dumps(event)}")
                if condition is not None:
                    parts.append(f"({_jsonata(condition)})" if parts else _jsonata(condition))
                out.append({"Condition": "{% " + (" and ".join(parts) or "true") + " %}", "Next": target})
                continue
            tests = []
            if event is not None:
                tests.append({"Variable": variable, "StringEquals": event})
            if condition is not None:
                tests.append(self.condition(condition))
            rule = tests[0] if len(tests) == 1 else {"And": tests} if tests else _ALWAYS
            out.append({**rule, "Next": target})
        if out:
            body["Choices"] = out
        else:  # ASL needs at least one rule: one that always holds, to the default
            body["Choices"] = [{**_ALWAYS, "Next": default}] if default else []
        if default is not None:
            body["Default"] = default
        return body

    def condition(self, c: Condition) -> dict[str, Any]:
        """A structured condition as an ASL JSONPath choice rule (without Next)."""
        if c.all is not None:
            return {"And": [self.condition(x) for x in c.all]} if c.all else dict(_ALWAYS)
        if c.any is not None:
            return {"Or": [self.condition(x) for x in c.any]} if c.any else {"Not": dict(_ALWAYS)}
        if c.not_ is not None:
            return {"Not": self.condition(c.not_)}
        variable = c.variable or "$"
        if c.op == "present":
            return {"Variable": variable, "IsPresent": True}
        if c.op == "absent":
            return {"Variable": variable, "IsPresent": False}
        if c.op == "in":
            values = c.value if isinstance(c.value, list) else [c.value]
            return {"Or": [self.compare(variable, "eq", v) for v in values]} if values else {"Not": dict(_ALWAYS)}
        if c.op == "ne":
            return {"Not": self.compare(variable, "eq", c.value)}
        return self.compare(variable, c.op or "eq", c.value)

    def compare(self, variable: str, op: str, value: Any) -> dict[str, Any]:
        if op == "matches":
            return {"Variable": variable, "StringMatches": str(value)}
        if value is None:
            return {"Variable": variable, "IsNull": True}
        if isinstance(value, bool):
            if op != "eq":
                self.note(f"'{variable} {op} {value}': an order on booleans has no ASL test; compared as equality")
            return {"Variable": variable, "BooleanEquals": value}
        suffix = {"eq": "Equals", "lt": "LessThan", "le": "LessThanEquals", "gt": "GreaterThan",
                  "ge": "GreaterThanEquals"}[op]
        if isinstance(value, int | float):
            return {"Variable": variable, f"Numeric{suffix}": value}
        return {"Variable": variable, f"String{suffix}": str(value)}


# Always true: the whole input is always present.
_ALWAYS: dict[str, Any] = {"Variable": "$", "IsPresent": True}


def comment_json(value: Any) -> str:
    """Compact JSON for a `Comment` part: parts are joined with "; ", so a ';' inside a string is escaped (JSON
    never has one outside a string)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace(";", "\\u003b")


def _long_work(state: TaskState) -> bool:
    """Work a plain Lambda invoke cannot hold: long, heartbeating, or over Lambda's 15 minutes (not a callback)."""
    return not state.callback and not state.action.startswith("arn:") and (
        state.long_running or state.heartbeat_seconds is not None or (state.timeout_seconds or 0) > LAMBDA_MAX_SECONDS
    )


def _key(name: str) -> str:
    """A state name as a JSONPath field name."""
    return re.sub(r"\W", "_", name) or "_"


def _uses_expression(c: Condition) -> bool:
    stack = [c]
    while stack:
        cur = stack.pop()
        if cur.expression is not None:
            return True
        stack.extend(cur.all or [])
        stack.extend(cur.any or [])
        if cur.not_ is not None:
            stack.append(cur.not_)
    return False


def _jsonata_path(path: str) -> str:
    """A JSONPath such as `$.order.total` as JSONata over the state input (`$states.input.order.total`)."""
    rest = path[1:] if path.startswith("$") else "." + path
    return "$states.input" + rest


def _jsonata(c: Condition) -> str:
    if c.expression is not None:
        return c.expression
    if c.all is not None:
        return " and ".join(f"({_jsonata(x)})" for x in c.all) or "true"
    if c.any is not None:
        return " or ".join(f"({_jsonata(x)})" for x in c.any) or "false"
    if c.not_ is not None:
        return f"$not({_jsonata(c.not_)})"
    path = _jsonata_path(c.variable or "$")
    if c.op == "present":
        return f"$exists({path})"
    if c.op == "absent":
        return f"$not($exists({path}))"
    if c.op == "in":
        return f"{path} in {json.dumps(c.value)}"
    if c.op == "matches":
        regex = re.escape(str(c.value)).replace(r"\*", ".*").replace("/", r"\/")
        return f"$contains({path}, /^{regex}$/)"
    symbol = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[c.op or "eq"]
    return f"{path} {symbol} {json.dumps(c.value)}"


def export(graph: DesignGraph, *, lint: bool = True) -> AslExport:
    """The ASL definition of a design; with `lint`, statelint's problems when statelint is installed."""
    exporter = _Exporter(graph)
    definition = exporter.machine()
    return AslExport(
        design=graph.design.name,
        definition=definition,
        notes=exporter.notes,
        statelint=run_statelint(definition) if lint else None,
    )


def run_statelint(definition: dict[str, Any]) -> list[str] | None:
    """statelint's problems with `definition` ([] when it finds none), or None when statelint is not installed."""
    try:
        from statelint.linter import Linter
    except ImportError:
        return None
    try:
        return [str(p) for p in Linter.validate(definition)]
    except Exception as exc:  # a crash in the linter is its opinion too, not a reason to lose the export
        return [f"statelint failed: {type(exc).__name__}: {exc}"]
