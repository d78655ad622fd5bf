"""Scripted model answers for runner tests: the fake Messages API's steps, and readers of what the runner sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator_kit.testing.fake_messages_api import (
    ApiError,
    FakeMessagesAPI,
    RecordedRequest,
    Reply,
    Step,
    Usage,
    reply,
    tool_result_text,
    tool_use,
)

SPEC = {"name": "release", "description": "Cut a release", "steps": [
    {"name": "Build", "commands": [{"argv": ["make", "build"]}]},
    {"name": "Tag", "commands": ["git tag v1.2.3"]},
]}
DESIGN = (Path(__file__).parents[2] / "src/orchestrator_kit/design/examples/deployment-pipeline.yaml").read_text()
TURN_USAGE = Usage(input_tokens=1200, output_tokens=80, cache_creation_input_tokens=0, cache_read_input_tokens=6000)


def calls(*tools: tuple[str, Mapping[str, Any]]) -> Step:
    """One answer calling these tools."""
    return Step(respond=reply(*(tool_use(name, args) for name, args in tools), usage=TURN_USAGE))


def say(text: str) -> Step:
    return Step(respond=reply(text, usage=TURN_USAGE))


def answer(build: Callable[[Mapping[str, Any]], str]) -> Step:
    """An answer written from the request (the tool results so far)."""
    return Step(respond=lambda body: reply(build(body), usage=TURN_USAGE))


def error(status: int) -> Step:
    return Step(respond=ApiError(status, retry_after=0.01))


def result(body: Mapping[str, Any], tool: str, index: int = 0) -> Any:
    """The JSON result of the `index`-th call of `tool` in the conversation of a request."""
    ids = [block["id"] for message in body["messages"] if message["role"] == "assistant"
           for block in message["content"] if block.get("type") == "tool_use" and block["name"] == tool]
    texts = {block["tool_use_id"]: tool_result_text(block) for message in body["messages"]
             if message["role"] == "user" and isinstance(message["content"], list)
             for block in message["content"] if block.get("type") == "tool_result"}
    return json.loads(texts[ids[index]])


def tool_results_of(request: RecordedRequest) -> list[dict[str, Any]]:
    last = request.body["messages"][-1]
    return [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_result"] \
        if isinstance(last["content"], list) else []


def ok_requests(api: FakeMessagesAPI) -> list[RecordedRequest]:
    return [r for r in api.messages_requests() if r.status == 200]


def _span(evidence: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """A listing's evidence: 'path:start-end' (detail='concise', the default) or the object (detailed)."""
    if not isinstance(evidence, str):
        return evidence
    path, _, lines = evidence.rpartition(":")
    start, _, end = lines.partition("-")
    return {"path": path, "line_start": int(start), "line_end": int(end or start)}


def grounded_plan(body: Mapping[str, Any]) -> str:
    """A process automation plan whose every number and path:line comes from the tool results of the run."""
    counts = result(body, "scan_repository")["counts"]
    procedure = result(body, "list_manual_procedures")["items"][0]
    pipeline = result(body, "list_pipelines")["items"][0]
    evidence = _span(procedure["evidence"])
    plan = result(body, "generate_automation")
    best = result(body, "opportunity_matrix")["matrix"]["opportunities"][0]
    return f"""## Executive Summary
Current State: {counts['pipelines']} pipelines, {counts['tasks']} tasks, {counts['schedules']} schedules and \
{counts['procedures']} manual procedures (scan_repository).
Proposed State: the release runbook runs as scripts/release.sh.
Expected Benefits: not measured.

## Current Process Analysis
### Workflow: {procedure['title']}
1. **Step 1**: follow the runbook (Manual) - Evidence: {evidence['path']}:{evidence['line_start']}-{evidence['line_end']}\
 - Duration: not measured
2. **Step 2**: build and test in {pipeline['name']} (Automated) - Evidence: {pipeline['path']}:{_span(pipeline['evidence'])['line_start']}

### Pain Points
- 🔴 {procedure['commands'] - procedure['commands_automated']} of {procedure['commands']} commands are run by hand \
- Evidence: {evidence['path']}:{evidence['line_start']}
- 🟡 {best['title']}: {best['frequency_per_year']['value']:g} runs a year ({best['frequency_per_year']['basis']}), \
{best['hours_saved_per_year']} hours saved per year (opportunity_matrix)

## Automation Opportunity Matrix
| Task | Evidence | Tool's priority | Judgement | Id |
|------|----------|-----------------|-----------|----|
| {best['title']} | {evidence['path']} | {best['priority']} | agree | {best['id']} |

## Automation Recommendations

### Quick Wins (rows with quick_win true)
None recommended in this run.

### Medium-term (other rows the tool ranks high or medium)
1. **Release script**
   - What: the runbook's commands as {plan['plan']['changes'][0]['path']}
   - Script/Config:
```diff
{chr(10).join(plan['diff_lines'][:6])}
```

## Sources
- scan_repository (repository=.): the counts
- list_manual_procedures, list_pipelines: the workflow and its evidence
- generate_automation (kind=shell-script): the diff
"""


def process_phases(report: Step, *, first: list[Step] | None = None) -> list[Step]:
    """Every phase of the process-orchestrator with tool calls, then `report`."""
    return [
        *(first or []),
        calls(("list_roots", {})),
        calls(("scan_repository", {}), ("list_pipelines", {})),
        calls(("read_file", {"path": "missing.txt"})),  # a tool error
        say("Discovery: the scan found the pipelines and procedures above."),
        calls(("list_manual_procedures", {}), ("opportunity_matrix", {"max_tokens": 4000})),
        say("Assessment: the release runbook is the best candidate."),
        calls(("read_file", {"path": "RELEASING.md", "line_start": 1, "line_end": 40})),
        say("Design: a script for the runbook."),
        calls(("generate_automation", {"kind": "shell-script", "spec": SPEC})),
        say("Implementation: the plan is generated."),
        report,
    ]


__all__ = ["DESIGN", "SPEC", "Reply", "Step"]
