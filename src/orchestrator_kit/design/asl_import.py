"""Import from AWS Step Functions' Amazon States Language (ASL) into a `WorkflowDesign`, so an existing state
machine can be validated, simulated and drawn like a design written here.

The mapping is the export's (`asl.py`) read backwards, and it also reads what other tools write:

* `Task` -> task; `arn:aws:states:::lambda:invoke` takes its action from `Parameters.FunctionName`, any other
  `Resource` is the action itself; `.waitForTaskToken` makes a callback task (or, when the export noted "worker
  reports with a task token", long work). Our export's `human-task-inbox` and `event-subscription` token tasks come
  back as a human task and a wait for events.
* `Choice` -> choice, each rule's comparison read back (`StringEquals` -> `eq`, `Or` of equalities on one variable
  -> `in`, `Not` of an equality -> `ne`, `IsPresent` -> `present`/`absent`, ...); a comparison we cannot say
  (`...Path` operands, type tests, JSONata `{% %}`) becomes an `expression`. A routing `Choice` the export generated
  ("routes the outcome of 'X'") folds back into X's transitions, with events and guards.
* `Wait` -> wait (`Seconds`, `TimestampPath`); `Parallel` -> parallel (branch names from their `Comment`);
  `Map` -> map: `ItemProcessor` (or the older `Iterator`) as its processor, `ItemsPath`, `MaxConcurrency`,
  `ToleratedFailureCount` / `ToleratedFailurePercentage`; literal items, `max_items` and the compensation from the
  export's `Comment`; a JSONata `Items`, an `ItemReader` (S3) or `...Path` variants are noted and approximated;
  `Pass` -> a choice with only a default (noted); `Succeed` / `Fail` as they are.
* `End: true` on a state that is not terminal -> a transition to a generated succeed state `End`.
* `Comment`s the export writes (side effect, compensation, idempotency, metrics, declared errors, sagas) are read
  back; any other comment becomes the description.

What ASL cannot hold is absent after a round trip: alerts, metric kinds and descriptions, a side effect's resource,
idempotency notes, a task's service name. `notes` says what else was approximated. Input limits are the design
loader's (size, depth, number of states).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from ..datatext import load_json
from .asl import LAMBDA_INVOKE, WAIT_FOR_TOKEN
from .load import MAX_DESIGN_BYTES, MAX_STATES, DesignInputError, LoadProblem, load_design

_ROUTE_COMMENT = re.compile(r"^routes the outcome of '(.+)'$", re.S)
_UNROUTED_COMMENT = re.compile(r"^no transition of '(.+)' matched its outcome$", re.S)
_SIDE_EFFECT = re.compile(
    r"^side effect: (.*?)(?: \(compensation: (.*?)\))?((?: \((?:failure path|irreversible|partial)\))*)$", re.S
)
_SAGA = re.compile(r"^saga (.+?) \((.*?)(?:, pivot (.+))?\)$", re.S)
_EVENT_VARIABLE = re.compile(r"^\$\.results\.[^.]+\.event$")
_COMPARATORS = {
    "Equals": "eq", "LessThan": "lt", "LessThanEquals": "le", "GreaterThan": "gt", "GreaterThanEquals": "ge",
}
_KINDS = ("String", "Numeric", "Boolean", "Timestamp")


class AslImport(BaseModel):
    """A design read from an ASL definition, as YAML, and what the import approximated."""

    design: str
    yaml: str = Field(description="The design, ready for validate, simulate, render and export.")
    states: int
    notes: list[str] = Field(default_factory=list)


class _Importer:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.states = 0  # states read so far, nested ones included: a parsed definition has no byte limit
        self.names: set[str] = set()  # every state name of the definition, in branches too
        self.taken: set[str] = set()  # those and the generated end states' names

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- machine and scopes --------------------------------------------------------------------------------------

    def machine(self, asl: Mapping[str, Any], name: str | None) -> dict[str, Any]:
        design: dict[str, Any] = {}
        comment = asl.get("Comment")
        sagas: list[dict[str, Any]] = []
        title = name
        description = None
        if isinstance(comment, str) and comment:
            parts = comment.split("; ")
            head = parts[0]
            for part in parts[1:]:
                match = _SAGA.match(part)
                if part.startswith("inputs: ["):
                    try:
                        inputs = json.loads(part[len("inputs: "):])
                    except (ValueError, RecursionError):  # not JSON, too deep, or a number past int()'s limit
                        head += "; " + part
                    else:
                        design["inputs"] = inputs
                elif match:
                    saga: dict[str, Any] = {"name": match.group(1), "steps": match.group(2).split(", ")}
                    if match.group(3):
                        saga["pivot"] = match.group(3)
                    sagas.append(saga)
                else:
                    head += "; " + part
            first, sep, rest = head.partition(": ")
            if title is None and sep and first and " " not in first:
                title, description = first, rest
            elif title is None and " " not in head and len(head) <= 80:
                title = head
            else:
                description = head
        self.names = _all_names(asl)
        self.taken = self.names | {"End"}  # "End" is the top level's; a branch's end state gets another name
        design["name"] = title or "imported-state-machine"
        if description:
            design["description"] = description
        scope = self.scope(asl, "")
        design["start_at"] = scope["start_at"]
        if isinstance(asl.get("TimeoutSeconds"), int | float):
            design["timeout_seconds"] = asl["TimeoutSeconds"]
        design["states"] = scope["states"]
        if sagas:
            design["sagas"] = sagas
        return design

    def scope(self, asl: Mapping[str, Any], where: str) -> dict[str, Any]:
        states = asl.get("States")
        start = asl.get("StartAt")
        if not isinstance(states, Mapping) or not isinstance(start, str):
            raise DesignInputError(
                "not an ASL state machine",
                [LoadProblem(location=where or "/", message="needs StartAt (a state name) and States (an object)")],
            )
        self.states += len(states)
        if self.states > MAX_STATES:
            raise DesignInputError(f"the definition has more than {MAX_STATES} states (the design limit)")
        routes: dict[str, tuple[str, Mapping[str, Any]]] = {}  # state -> (its route's name, the route)
        dropped: set[str] = set()
        for name, body in states.items():
            if not isinstance(body, Mapping):
                raise DesignInputError(
                    "not an ASL state machine",
                    [LoadProblem(location=f"{where}/States/{name}", message="a state is an object")],
                )
            match = _ROUTE_COMMENT.match(str(body.get("Comment", "")))
            owner = states.get(match.group(1)) if match else None
            if match and body.get("Type") == "Choice" and isinstance(owner, Mapping) and owner.get("Next") == name:
                routes[match.group(1)] = (name, body)
                dropped.add(name)
                default = body.get("Default")
                target = states.get(default) if isinstance(default, str) else None
                if isinstance(target, Mapping) and _UNROUTED_COMMENT.match(str(target.get("Comment", ""))):
                    dropped.add(default)
        out: list[dict[str, Any]] = []
        needs_end = False
        for name, body in states.items():
            if name in dropped:
                continue
            state, ends = self.state(str(name), body, routes.get(str(name)), f"{where}/States/{name}", dropped)
            needs_end = needs_end or ends
            out.append(state)
        if needs_end:  # names are unique across branches too: each scope's end state gets a fresh one
            end = "End"
            while end in states or end in (self.taken if where else self.names):
                end += "_"
            self.taken.add(end)
            for state in out:
                for t in state.get("transitions", []):
                    if t["target"] is _END:
                        t["target"] = end
                if state.get("default") is _END:
                    state["default"] = end
            out.append({"name": end, "type": "succeed"})
        return {"start_at": start, "states": out}

    # -- states -------------------------------------------------------------------------------------------------

    def state(
        self,
        name: str,
        body: Mapping[str, Any],
        route: tuple[str, Mapping[str, Any]] | None,
        where: str,
        dropped: set[str],
    ) -> tuple[dict[str, Any], bool]:
        kind = body.get("Type")
        out: dict[str, Any] = {"name": name}
        facts = self.comment_facts(body.get("Comment"))
        if facts.get("description"):
            out["description"] = facts["description"]
        if kind == "Succeed":
            out["type"] = "succeed"
            return out, False
        if kind == "Fail":
            out["type"] = "fail"
            for key, field in (("Error", "error"), ("Cause", "cause")):
                if isinstance(body.get(key), str):
                    out[field] = body[key]
            if "ErrorPath" in body or "CausePath" in body:
                self.note(f"fail '{name}': ErrorPath/CausePath read the data at run time; kept out")
            return out, False
        if kind == "Choice":
            out["type"] = "choice"
            out["choices"] = [
                {"condition": self.condition(rule, f"{where}/Choices/{i}"), "target": rule.get("Next")}
                for i, rule in enumerate(_items(body, "Choices", where))
                if isinstance(rule, Mapping)
            ]
            if isinstance(body.get("Default"), str):
                out["default"] = body["Default"]
            return out, False
        if kind == "Pass":
            out["type"] = "choice"
            out["choices"] = []
            self.note(f"pass '{name}' imported as a choice with only a default (its Result/Parameters are data only)")
            if body.get("End") is True:
                out["default"] = _END
                return out, True
            out["default"] = body.get("Next")
            return out, False
        if kind == "Wait":
            out["type"] = "wait"
            if "Seconds" in body:
                out["seconds"] = body["Seconds"]
            elif "TimestampPath" in body:
                out["until"] = body["TimestampPath"]
            elif "Timestamp" in body:
                out["until"] = str(body["Timestamp"])
                self.note(f"wait '{name}' until the fixed time {body['Timestamp']}: kept as `until`")
            else:
                out["until"] = str(body.get("SecondsPath", "$"))
                self.note(f"wait '{name}': SecondsPath {body.get('SecondsPath')} kept as `until` (a path)")
        elif kind == "Parallel":
            out["type"] = "parallel"
            out["branches"] = [
                self.branch(b, f"{where}/Branches/{i}", i) for i, b in enumerate(_items(body, "Branches", where))
            ]
        elif kind == "Map":
            out.update(self.map(name, body, facts, where))
        elif kind == "Task":
            out.update(self.task(name, body, facts))
        else:
            raise DesignInputError(
                "not an ASL state machine",
                [LoadProblem(location=f"{where}/Type", message=f"unknown state type {kind!r}")],
            )
        self.retry_catch(out, body, where)
        if facts.get("metrics"):
            out["metrics"] = [{"name": m} for m in facts["metrics"]]
        ends = False
        if "Next" in body and not isinstance(body["Next"], str):
            raise DesignInputError(
                "not an ASL state machine", [LoadProblem(location=f"{where}/Next", message="Next is a state name")]
            )
        if route is not None:
            out["transitions"] = self.route_transitions(route[1], f"{where}/../{route[0]}", dropped)
        elif isinstance(body.get("Next"), str):
            out["transitions"] = [{"event": self.single_event(out), "target": body["Next"]}]
        elif body.get("End") is True:
            out["transitions"] = [{"event": self.single_event(out), "target": _END}]
            ends = True
        return out, ends

    @staticmethod
    def single_event(state: Mapping[str, Any]) -> str:
        events = state.get("events")
        return events[0] if state.get("type") == "wait" and events else "done"

    def branch(self, asl: Any, where: str, index: int) -> dict[str, Any]:
        if not isinstance(asl, Mapping):
            raise DesignInputError(
                "not an ASL state machine", [LoadProblem(location=where, message="a branch is an object")]
            )
        scope = self.scope(asl, where)
        comment = asl.get("Comment")
        name = comment[len("branch "):] if isinstance(comment, str) and comment.startswith("branch ") else None
        return {"name": name or f"branch-{index + 1}", **scope}

    def map(self, name: str, body: Mapping[str, Any], facts: dict[str, Any], where: str) -> dict[str, Any]:
        key = "ItemProcessor" if "ItemProcessor" in body else "Iterator"
        processor = body.get(key)
        if not isinstance(processor, Mapping):
            raise DesignInputError(
                "not an ASL state machine",
                [LoadProblem(location=f"{where}/ItemProcessor", message="a Map needs an ItemProcessor (an object)")],
            )
        scope = self.scope(processor, f"{where}/{key}")
        out: dict[str, Any] = {"type": "map"}
        items_path = body.get("ItemsPath")
        if isinstance(facts.get("items"), list):
            out["items"] = facts["items"]
        elif isinstance(items_path, str):
            out["items_path"] = items_path
        else:
            source = next((k for k in ("ItemsPath", "ItemReader", "Items") if k in body), None)
            out["items_path"] = "$"
            if source:
                self.note(f"map '{name}' reads its items from {source} ({json.dumps(body[source])[:80]}): imported "
                          "as items_path $ (the whole input)")
        if isinstance(facts.get("max_items"), int):
            out["max_items"] = facts["max_items"]
        for asl_key, field in (
            ("MaxConcurrency", "max_concurrency"),
            ("ToleratedFailureCount", "tolerated_failure_count"),
            ("ToleratedFailurePercentage", "tolerated_failure_percentage"),
        ):
            value = body.get(asl_key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                if asl_key == "MaxConcurrency" and value == 0:
                    continue  # 0 is ASL's "no limit", the design's default
                out[field] = value
            elif f"{asl_key}Path" in body:
                self.note(f"map '{name}': {asl_key}Path reads the data at run time; kept out")
        if facts.get("map_compensation"):
            out["compensation"] = facts["map_compensation"]
        out["processor"] = scope
        return out

    def task(self, name: str, body: Mapping[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
        resource = str(body.get("Resource", ""))
        params = body.get("Parameters") if isinstance(body.get("Parameters"), Mapping) else {}
        payload = params.get("Payload") if isinstance(params.get("Payload"), Mapping) else {}
        token = resource.endswith(WAIT_FOR_TOKEN)
        base = resource[: -len(WAIT_FOR_TOKEN)] if token else resource
        function = params.get("FunctionName") if base == LAMBDA_INVOKE else None
        out: dict[str, Any] = {}
        if function == "human-task-inbox" and token:
            out["type"] = "human_task"
            if payload.get("owner"):
                out["owner"] = payload["owner"]
            if payload.get("instructions"):
                out["instructions"] = payload["instructions"]
            if isinstance(payload.get("escalation"), Mapping):
                out["escalation"] = dict(payload["escalation"])
            if isinstance(payload.get("approval"), Mapping):
                out["approval"] = dict(payload["approval"])
            for flag in ("audit", "fix_forward"):
                if payload.get(flag) is True:
                    out[flag] = True
            if "TimeoutSeconds" in body:
                out["deadline_seconds"] = body["TimeoutSeconds"]
            return out
        if function == "event-subscription" and token and isinstance(payload.get("events"), list):
            out.update({"type": "wait", "events": list(payload["events"])})
            if isinstance(payload.get("correlation_key.$"), str):
                out["correlation_key"] = payload["correlation_key.$"]
            if "TimeoutSeconds" in body:
                out["timeout_seconds"] = body["TimeoutSeconds"]
            return out
        out["type"] = "task"
        out["action"] = str(function) if isinstance(function, str) else base or "unknown"
        if token and not facts.get("long_work"):
            out["callback"] = True
            if facts.get("worker_callback"):
                out["callback_from"] = "worker"
        if facts.get("long_running"):
            out["long_running"] = True
        for key, field in (("TimeoutSeconds", "timeout_seconds"), ("HeartbeatSeconds", "heartbeat_seconds")):
            if key in body:
                out[field] = body[key]
        if facts.get("side_effect"):
            out["side_effect"] = facts["side_effect"]
        key = payload.get("idempotency_key.$", payload.get("idempotency_key"))
        if isinstance(key, str):
            out["idempotency"] = {"key": key}
        elif facts.get("natural"):
            out["idempotency"] = {"natural": True}
        if facts.get("errors"):
            out["errors"] = facts["errors"]
        for flag in ("audit", "fix_forward"):
            if facts.get(flag):
                out[flag] = True
        return out

    def retry_catch(self, out: dict[str, Any], body: Mapping[str, Any], where: str) -> None:
        if out["type"] in ("wait", "choice") and out.get("events") is None and body.get("Type") != "Task":
            return
        retry = []
        for i, policy in enumerate(_items(body, "Retry", where)):
            if not isinstance(policy, Mapping):
                continue
            entry: dict[str, Any] = {
                "errors": _items(policy, "ErrorEquals", f"{where}/Retry/{i}"),
                "max_attempts": policy.get("MaxAttempts", 3),
                "interval_seconds": policy.get("IntervalSeconds", 1),
                "backoff_rate": policy.get("BackoffRate", 2.0),
            }
            if "MaxDelaySeconds" in policy:
                entry["max_interval_seconds"] = policy["MaxDelaySeconds"]
            if policy.get("JitterStrategy") == "FULL":
                entry["jitter"] = True
            retry.append(entry)
        if retry and out["type"] != "wait":
            out["retry"] = retry
        catch = [
            {"errors": _items(c, "ErrorEquals", f"{where}/Catch/{i}"), "target": c.get("Next")}
            for i, c in enumerate(_items(body, "Catch", where))
            if isinstance(c, Mapping)
        ]
        if catch:
            out["catch"] = catch

    # -- comments -----------------------------------------------------------------------------------------------

    def comment_facts(self, comment: Any) -> dict[str, Any]:
        """What the export wrote into a state's Comment, read back; anything else is the description."""
        facts: dict[str, Any] = {}
        if not isinstance(comment, str) or not comment:
            return facts
        free: list[str] = []
        errors: dict[str, list[str]] = {}
        for part in comment.split("; "):
            effect = _SIDE_EFFECT.match(part)
            if effect:
                side: dict[str, Any] = {"description": effect.group(1)}
                if effect.group(2):
                    side["compensation"] = effect.group(2)
                for flag in re.findall(r"\((failure path|irreversible|partial)\)", effect.group(3) or ""):
                    side[flag.replace(" ", "_")] = True
                facts["side_effect"] = side
            elif part.startswith("idempotency key "):
                pass  # the key itself is read from the payload
            elif part.startswith("items: ["):
                try:
                    facts["items"] = json.loads(part[len("items: "):])
                except (ValueError, RecursionError):  # not JSON, too deep, or a number past int()'s limit
                    free.append(part)
            elif re.fullmatch(r"at most \d+ items", part) and _digits_fit(part.split()[2]):
                facts["max_items"] = int(part.split()[2])
            elif part.startswith("undoes committed items: "):
                facts["map_compensation"] = part[len("undoes committed items: "):]
            elif part == "naturally idempotent":
                facts["natural"] = True
            elif part.startswith("metrics: "):
                facts["metrics"] = part[len("metrics: "):].split(", ")
            elif part.startswith(("transient errors: ", "permanent errors: ")):
                kind, _, names = part.partition(" errors: ")
                errors[kind] = names.split(", ")
            elif part == "worker reports with a task token":
                facts["long_work"] = True
            elif part == "callback from its worker":
                facts["worker_callback"] = True
            elif part == "long running":
                facts["long_running"] = True
            elif part == "audited":
                facts["audit"] = True
            elif part == "fixes forward":
                facts["fix_forward"] = True
            else:
                free.append(part)
        if errors:
            facts["errors"] = errors
        if free:
            facts["description"] = "; ".join(free)
        return facts

    # -- conditions ---------------------------------------------------------------------------------------------

    def route_transitions(self, route: Mapping[str, Any], where: str, dropped: set[str]) -> list[dict[str, Any]]:
        transitions = []
        for i, rule in enumerate(_items(route, "Choices", where)):
            if not isinstance(rule, Mapping):
                continue
            event, guard = "done", None
            if _is_event_test(rule):
                event = rule["StringEquals"]
            elif isinstance(rule.get("And"), list) and rule["And"] and _is_event_test(rule["And"][0]):
                event = rule["And"][0]["StringEquals"]
                rest = rule["And"][1:]
                guard = self.condition(rest[0] if len(rest) == 1 else {"And": rest}, f"{where}/Choices/{i}")
            elif rule == {**_ALWAYS, "Next": rule.get("Next")} and rule.get("Next") == route.get("Default"):
                continue  # the always-true rule the export writes when every transition goes to the default
                # (one to another state is a transition whose guard always holds: kept)
            else:
                guard = self.condition(rule, f"{where}/Choices/{i}")
            transition: dict[str, Any] = {"event": event, "target": rule.get("Next")}
            if guard is not None:
                transition["guard"] = guard
            transitions.append(transition)
        default = route.get("Default")
        if isinstance(default, str) and default not in dropped:  # not the generated "<name>-unrouted" Fail state
            transitions.append({"event": "done", "target": default})
        return transitions

    def condition(self, rule: Mapping[str, Any], where: str) -> dict[str, Any]:
        """An ASL choice rule (JSONPath or JSONata) as a design condition."""
        if "Condition" in rule:
            text = str(rule["Condition"]).strip()
            if text.startswith("{%") and text.endswith("%}"):
                text = text[2:-2].strip()
            return {"expression": text}
        if isinstance(rule.get("And"), list):
            return {"all": [self.condition(r, where) for r in rule["And"] if isinstance(r, Mapping)]}
        if isinstance(rule.get("Or"), list):
            parts = [r for r in rule["Or"] if isinstance(r, Mapping)]
            values = [_equality(r) for r in parts]
            if parts and all(v is not None for v in values) and len({v[0] for v in values if v}) == 1:
                return {"variable": values[0][0], "op": "in", "value": [v[1] for v in values if v]}  # type: ignore[index]
            return {"any": [self.condition(r, where) for r in parts]}
        if isinstance(rule.get("Not"), Mapping):
            inner = _equality(rule["Not"])
            if inner is not None:
                return {"variable": inner[0], "op": "ne", "value": inner[1]}
            if rule["Not"] == _ALWAYS:
                return {"any": []}
            if set(rule["Not"]) == {"Variable", "IsPresent"} and isinstance(rule["Not"]["Variable"], str):
                present = bool(rule["Not"]["IsPresent"])
                return {"variable": rule["Not"]["Variable"], "op": "absent" if present else "present"}
            return {"not": self.condition(rule["Not"], where)}
        if rule == _ALWAYS or {k: v for k, v in rule.items() if k != "Next"} == _ALWAYS:
            return {"all": []}
        variable = rule.get("Variable")
        if not isinstance(variable, str):
            raise DesignInputError(
                "not an ASL state machine",
                [LoadProblem(location=where, message="a choice rule needs Variable, And, Or, Not or Condition")],
            )
        if "IsPresent" in rule:
            return {"variable": variable, "op": "present" if rule["IsPresent"] else "absent"}
        if rule.get("IsNull") is True:
            return {"variable": variable, "op": "eq", "value": None}
        if "StringMatches" in rule:
            return {"variable": variable, "op": "matches", "value": rule["StringMatches"]}
        for kind in _KINDS:
            for suffix, op in _COMPARATORS.items():
                key = kind + suffix
                if key in rule and not isinstance(rule[key], Mapping | list):
                    return {"variable": variable, "op": op, "value": rule[key]}
        rest = {k: v for k, v in rule.items() if k not in ("Variable", "Next")}
        text = f"{variable} " + " ".join(f"{k} {json.dumps(v)}" for k, v in rest.items())
        self.note(f"{where}: {', '.join(rest) or 'a rule'} has no design comparison; kept as an expression")
        return {"expression": text}


class _EndMarker(str):
    """A placeholder target for `End: true`, replaced by the generated succeed state's name."""


_END = _EndMarker("End")
_ALWAYS: dict[str, Any] = {"Variable": "$", "IsPresent": True}


def _items(body: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """`body[key]` when it is a list (absent or null: empty). A string or object there is refused, never iterated:
    `"ErrorEquals": "States.ALL"` read as a list would be ten one-letter error names."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DesignInputError(
            "not an ASL state machine", [LoadProblem(location=f"{where}/{key}", message=f"{key} is a list")]
        )
    return value


def _all_names(asl: Mapping[str, Any]) -> set[str]:
    """The names of every state of a definition, in branches and item processors too."""
    names: set[str] = set()
    stack: list[Any] = [asl]
    while stack:
        scope = stack.pop()
        states = scope.get("States") if isinstance(scope, Mapping) else None
        if not isinstance(states, Mapping):
            continue
        for name, body in states.items():
            names.add(str(name))
            if isinstance(body, Mapping):
                branches = body.get("Branches")
                stack.extend(branches if isinstance(branches, list) else [])
                stack.extend(body.get(k) for k in ("ItemProcessor", "Iterator"))
    return names


def _is_event_test(rule: Any) -> bool:
    return (
        isinstance(rule, Mapping)
        and isinstance(rule.get("Variable"), str)
        and bool(_EVENT_VARIABLE.match(rule["Variable"]))
        and isinstance(rule.get("StringEquals"), str)
        and set(rule) <= {"Variable", "StringEquals", "Next"}
    )


def _equality(rule: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(variable, value) when `rule` is one plain equality test, else None."""
    keys = set(rule) - {"Next"}
    if len(keys) != 2 or not isinstance(rule.get("Variable"), str):
        return None
    (key,) = keys - {"Variable"}
    if key in ("StringEquals", "NumericEquals", "BooleanEquals"):
        return rule["Variable"], rule[key]
    return None


def import_asl(definition: Mapping[str, Any] | str, *, name: str | None = None) -> AslImport:
    """Read an ASL definition (JSON text or parsed) into a design. Raises DesignInputError (with locations) when it
    is not an ASL state machine or the result is not a loadable design; never anything else."""
    if isinstance(definition, str):
        if len(definition.encode("utf-8", "replace")) > MAX_DESIGN_BYTES:
            raise DesignInputError(f"the definition is larger than {MAX_DESIGN_BYTES} bytes")
        try:
            parsed = load_json(definition)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise DesignInputError(f"not JSON: {exc}") from None
    else:
        parsed = definition
    if not isinstance(parsed, Mapping):
        raise DesignInputError("not an ASL state machine: the definition is not a JSON object")
    importer = _Importer()
    try:
        raw = importer.machine(parsed, name)
    except RecursionError:
        raise DesignInputError("the definition nests too deeply") from None
    loaded = load_design(raw, source="imported ASL")
    text = loaded.design.to_yaml()
    return AslImport(
        design=loaded.design.name,
        yaml=text,
        states=_count(raw["states"]),
        notes=importer.notes,
    )


def _count(states: list[dict[str, Any]]) -> int:
    total = 0
    stack = list(states)
    while stack:
        state = stack.pop()
        total += 1
        for branch in state.get("branches", []):
            stack.extend(branch.get("states", []))
        stack.extend(state.get("processor", {}).get("states", []))
    return total


def _digits_fit(digits: str) -> bool:
    """Whether int() reads `digits` (a `\\d+` match): not past its digit limit (sys.get_int_max_str_digits)."""
    try:
        int(digits)
    except ValueError:
        return False
    return True
