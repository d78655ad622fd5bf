"""The workflow design tools and resources through the protocol, on a small saga written here with its expected
simulation worked out by hand, the shipped examples, paging, and bad designs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from mcp import Client

from orchestrator_kit.server import DESIGN_SCHEMA_URI

from .capability import all_pages, error, ok, smallest_budget

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "orchestrator_kit" / "design" / "examples"


def task(name: str, target: str, compensation: str | None = None, *, retry_all: bool = False,
         catch: str | None = None) -> dict:
    state = {
        "name": name, "type": "task", "action": f"svc.{name}", "timeout_seconds": 30,
        "idempotency": {"key": f"$.{name}_id"},
        "retry": [{"errors": ["States.ALL" if retry_all else "States.Timeout"], "max_attempts": 2,
                   "interval_seconds": 1, "backoff_rate": 2}],
        "transitions": [{"target": target}], "metrics": [{"name": f"{name}_total"}],
    }
    if compensation:
        state["side_effect"] = {"description": f"{name} done", "compensation": compensation}
    if catch:
        state["catch"] = [{"errors": ["States.ALL"], "target": catch}]
    return state


# reserve -> charge -> done; charge fails -> refund -> release -> failed; reserve fails -> release -> failed
SAGA = {
    "name": "mini-saga",
    "start_at": "reserve",
    "timeout_seconds": 3600,
    "states": [
        task("reserve", "charge", "release", catch="release"),
        task("charge", "done", "refund", retry_all=True, catch="refund"),
        task("refund", "release", retry_all=True),
        task("release", "failed", retry_all=True),
        {"name": "done", "type": "succeed"},
        {"name": "failed", "type": "fail", "error": "OrderFailed"},
    ],
    "sagas": [{"name": "order", "steps": ["reserve", "charge"], "pivot": "charge"}],
}


async def test_the_saga_is_valid_and_its_failures_are_what_we_worked_out(build):
    async with Client(build()) as client:
        report = await ok(client, "validate_workflow_design", design=SAGA, min_severity="warning")
        sim = await ok(client, "simulate_workflow_failures", design=SAGA, max_tokens=30_000)
    assert report["valid"] and report["errors"] == 0 and report["states"] == 6, report["findings"]
    assert sim["happy_path"]["path"] == ["reserve", "charge", "done"]
    summary = sim["summary"]
    # four tasks can fail; refund and release are only entered after a fault, so 2 steps x 3 faults are run
    assert (summary["steps"], summary["scenarios"], summary["inconsistent"]) == (4, 6, 0)
    assert summary["not_reached"] == []  # refund and release are compensations: failed as second faults
    # Second faults in the recovery steps: reserve's three faults reach release (its retry only takes timeouts);
    # charge's permanent fault and timeout reach refund and release (its transient fault is retried away);
    # each recovery step fails permanently and by timeout: (3 x 1 + 2 x 2) x 2 = 14.
    assert summary["second_faults"] == 14
    runs = {(s["step"], s["fault"]): s for s in sim["scenarios"] if s["then"] is None}
    assert sorted(runs) == [(step, fault) for step in ("charge", "reserve")
                            for fault in ("permanent", "timeout", "transient")]
    transient = runs[("charge", "transient")]  # first attempt fails, one retry after 1 s succeeds
    assert (transient["path"], transient["total_retries"], transient["status"]) == (
        ["reserve", "charge", "done"], 1, "succeeded")
    assert transient["retries"] == [{"step": "charge", "error": "States.TaskFailed", "retries": 1,
                                     "delay_seconds": 1.0}]
    permanent = runs[("charge", "permanent")]  # 2 retries (1 s + 2 s), caught: refund then release
    assert permanent["path"] == ["reserve", "charge", "refund", "release", "failed"]
    assert (permanent["total_retries"], permanent["committed"]) == (2, ["reserve"])  # the charge never happened
    assert permanent["compensations"] == ["refund", "release"] and permanent["compensated"] == ["reserve"]
    timeout = runs[("charge", "timeout")]  # may have charged: refunded first, then the reservation released
    assert timeout["committed"] == ["reserve", "charge"] and timeout["uncertain"] == ["charge"]
    assert timeout["compensated"] == ["charge", "reserve"] and timeout["compensation_order_ok"]
    assert timeout["elapsed_seconds"] == 3 * 30 + 1 + 2  # three attempts time out, two waits
    reserve = runs[("reserve", "permanent")]  # not retried (only timeouts are): straight to release
    assert reserve["path"] == ["reserve", "release", "failed"] and reserve["compensated"] == []
    assert all(s["consistent"] for s in runs.values()) and all(s["trace"] == [] for s in sim["scenarios"])
    assert "consistent =" in summary["formula"]


async def test_an_uncompensated_saga_is_reported_inconsistent(build):
    broken = copy.deepcopy(SAGA)
    broken["states"][1]["catch"] = [{"errors": ["States.ALL"], "target": "failed"}]  # charge fails: no release
    async with Client(build()) as client:
        report = await ok(client, "validate_workflow_design", design=broken)
        sim = await ok(client, "simulate_workflow_failures", design=broken, only_inconsistent=True,
                       faults=["permanent"], include_trace=True)
    assert not report["valid"]
    assert [s["step"] for s in sim["scenarios"]] == ["charge"] and sim["total_scenarios"] == 1
    [scenario] = sim["scenarios"]
    assert scenario["uncompensated"] == ["reserve"] and not scenario["consistent"]
    assert "side effects still applied: reserve" in scenario["reasons"][0]
    assert scenario["trace"]  # asked for


async def test_the_broken_examples_fail_the_rules_their_comments_name(build):
    text = (EXAMPLES / "document-approval.broken.yaml").read_text()
    async with Client(build()) as client:
        report = await ok(client, "validate_workflow_design", design=text, max_tokens=30_000)
        errors_only = await ok(client, "validate_workflow_design", design=text, min_severity="error",
                               max_tokens=30_000)
    rules = {f["rule"] for f in report["findings"]}
    assert {"start-state", "single-unguarded-transition", "human-task-complete", "no-dead-end",
            "saga-valid"} <= rules
    start = next(f for f in report["findings"] if f["rule"] == "start-state")
    assert start["line"] == 14  # `start_at: register_submision`, line 14 of the file (a text design has lines)
    assert not report["valid"]
    assert {f["severity"] for f in errors_only["findings"]} == {"error"}
    assert errors_only["total_findings"] == report["errors"]


async def test_render_and_export(build):
    async with Client(build()) as client:
        state = await ok(client, "render_workflow_diagram", design=SAGA)
        saga = await ok(client, "render_workflow_diagram", design=SAGA, kind="saga")
        asl = await ok(client, "export_workflow_asl", design=SAGA, max_tokens=20_000)
        xstate = await ok(client, "export_workflow_xstate", design=SAGA, max_tokens=20_000)
    assert state["format"] == "mermaid-state" and state["lines"][0] == "stateDiagram-v2"
    assert '    state "reserve (undo: release)" as s0' in state["lines"]  # states numbered in design order
    assert "    s0 --> s1 : done" in state["lines"] and "    s1 --> s2 : catch States.ALL" in state["lines"]
    assert saga["format"] == "mermaid-saga" and saga["lines"][0] == "sequenceDiagram"
    definition = json.loads("\n".join(asl["lines"]))
    assert definition["StartAt"] == "reserve"
    assert definition["States"]["charge"]["Catch"][0]["Next"] == "refund"
    assert asl["statelint"] == []  # statelint ran and found nothing
    assert asl["next_cursor"] is None and xstate["next_cursor"] is None
    machine = json.loads("\n".join(xstate["lines"]))
    assert machine["initial"] == "reserve"


async def test_long_texts_page_by_lines(build):
    design = (EXAMPLES / "order-fulfilment.yaml").read_text()
    async with Client(build()) as client:
        whole = await ok(client, "export_workflow_asl", design=design, max_tokens=100_000)
        budget = await smallest_budget(client, "export_workflow_asl", {"design": design})
        joined = await all_pages(client, "export_workflow_asl", {"design": design}, budget, None)
        scenarios = await ok(client, "simulate_workflow_failures", design=design, max_tokens=100_000)
        small = await smallest_budget(client, "simulate_workflow_failures", {"design": design})
        paged = await all_pages(client, "simulate_workflow_failures", {"design": design}, small, None)
    assert joined["lines"] == whole["lines"] and len(whole["lines"]) > 100
    assert json.loads("\n".join(joined["lines"]))["StartAt"] == "validate_order"
    assert paged["scenarios"] == scenarios["scenarios"] and len(paged["scenarios"]) == scenarios["total_scenarios"]


async def test_a_cursor_belongs_to_its_design(build):
    design = (EXAMPLES / "order-fulfilment.yaml").read_text()
    async with Client(build()) as client:
        budget = await smallest_budget(client, "export_workflow_asl", {"design": design})
        first = await ok(client, "export_workflow_asl", design=design, max_tokens=budget)
        other = await error(client, "export_workflow_asl", design=SAGA, max_tokens=budget,
                            cursor=first["next_cursor"])
        wrong_tool = await error(client, "export_workflow_xstate", design=design, cursor=first["next_cursor"])
    assert "stale" in other
    assert "belongs to another listing" in wrong_tool


@pytest.mark.parametrize(
    ("design", "message"),
    [
        ("states: [unclosed", "line"),
        ("- just\n- a list\n", "a design is a mapping (a JSON object) at the top, not a list"),
        ({"name": "x", "start_at": "a", "states": [{"name": "a", "type": "teleport"}]}, "/states/0"),
        ({"name": "x", "start_at": "a", "states": [], "surprise": 1}, "surprise"),
        ("a: &a [*a, *a]\n", "invalid YAML: found unconstructable recursive node (line 1)"),
    ],
)
async def test_unreadable_designs_are_tool_errors_with_a_location(build, design, message):
    async with Client(build()) as client:
        text = await error(client, "validate_workflow_design", design=design)
        served = await ok(client, "list_roots")
    assert message in text
    assert served["roots"]  # and the server goes on


async def test_simulation_arguments_are_checked(build):
    async with Client(build()) as client:
        unknown = await error(client, "simulate_workflow_failures", design=SAGA, steps=["teleport"])
        not_a_task = await error(client, "simulate_workflow_failures", design=SAGA, steps=["done"])
        bad_fault = await error(client, "simulate_workflow_failures", design=SAGA, faults=["meteor"])
    assert "no state named 'teleport'" in unknown
    assert "only tasks, human tasks and waits for events can fail" in not_a_task
    assert "faults" in bad_fault


async def test_the_schema_rules_and_examples_are_resources(build):
    async with Client(build()) as client:
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        schema = json.loads((await client.read_resource(DESIGN_SCHEMA_URI)).contents[0].text)
        rules = json.loads((await client.read_resource("orchestrator-kit://designs/rules")).contents[0].text)
        example = (await client.read_resource("orchestrator-kit://designs/order-fulfilment")).contents[0]
        report = await ok(client, "validate_workflow_design", design=example.text)
    names = sorted(p.name.removesuffix(".yaml") for p in EXAMPLES.glob("*.yaml"))
    assert sorted(u.removeprefix("orchestrator-kit://designs/") for u in listed
                  if u.startswith("orchestrator-kit://designs/") and not u.endswith("/rules")) == names
    assert listed[DESIGN_SCHEMA_URI].mime_type == "application/schema+json"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"name", "start_at", "states"} <= set(schema["properties"])
    assert {r["id"] for r in rules} >= {"start-state", "saga-valid"} and report["rules_checked"] == [
        r["id"] for r in rules]
    assert example.mime_type == "application/yaml" and example.text == (EXAMPLES / "order-fulfilment.yaml").read_text()
    assert yaml.safe_load(example.text)["name"] == "order-fulfilment"
    assert report["valid"]


async def test_fail_on_warning_makes_a_warning_fail_the_gate(build):
    design = copy.deepcopy(SAGA)
    design["timeout_seconds"] = 60  # (2 + 1) x 30 s + delays > 60 s: retry-budget warnings, no error
    async with Client(build()) as client:
        default = await ok(client, "validate_workflow_design", design=design)
        strict = await ok(client, "validate_workflow_design", design=design, fail_on="warning")
    assert default["valid"] and default["passed"] and default["warnings"] >= 1
    assert strict["valid"] and not strict["passed"] and strict["fail_on"] == "warning"


async def test_an_asl_definition_imports_and_validates_through_the_protocol(build):
    async with Client(build()) as client:
        asl = await ok(client, "export_workflow_asl", design=SAGA, max_tokens=20_000)
        definition = "\n".join(asl["lines"])
        imported = await ok(client, "import_workflow_asl", definition=definition, max_tokens=20_000)
        assert imported["format"] == "design-yaml" and imported["next_cursor"] is None
        design = "\n".join(imported["lines"])
        report = await ok(client, "validate_workflow_design", design=design)
        bad = await error(client, "import_workflow_asl", definition='{"StartAt": "a"}')
    assert yaml.safe_load(design)["sagas"] == SAGA["sagas"]
    assert report["valid"] and report["states"] == 6
    assert "needs StartAt" in bad


async def test_ci_export_through_the_protocol(build):
    async with Client(build()) as client:
        github = await ok(client, "export_workflow_ci", design=SAGA, max_tokens=20_000)
        gitlab = await ok(client, "export_workflow_ci", design=SAGA, target="gitlab-ci", max_tokens=20_000)
        refused = await error(client, "export_workflow_ci", design=example_text_of("deployment-pipeline"))
    assert github["valid"] and github["path"] == ".github/workflows/mini-saga.yml"
    assert list(yaml.safe_load("\n".join(github["lines"]))["jobs"]) == ["reserve", "charge", "refund", "release"]
    assert gitlab["valid"] and gitlab["path"] == ".gitlab-ci.yml"
    assert "'canary_healthy' (a decision)" in refused


def example_text_of(name: str) -> str:
    return (EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8")


async def test_a_design_is_sent_once_and_then_named_by_its_handle(build):
    async with Client(build()) as client:
        validated = await ok(client, "validate_workflow_design", design=SAGA)
        handle = validated["design_handle"]
        by_handle = await ok(client, "simulate_workflow_failures", design=handle, max_tokens=30_000)
        in_full = await ok(client, "simulate_workflow_failures", design=SAGA, max_tokens=30_000)
        diagram = await ok(client, "render_workflow_diagram", design=handle)
        ci = await ok(client, "export_workflow_ci", design=handle, max_tokens=20_000)
        unknown = await error(client, "render_workflow_diagram", design="design:0123456789abcdef")
    assert handle.startswith("design:") and len(handle) == len("design:") + 16
    assert by_handle["summary"] == in_full["summary"] and by_handle["design_handle"] == handle
    assert diagram["lines"][0] == "stateDiagram-v2" and ci["design_handle"] == handle
    assert "unknown design handle 'design:0123456789abcdef'" in unknown and "send the design itself" in unknown


async def test_an_imported_design_has_a_handle_too(build):
    definition = {"StartAt": "a", "States": {"a": {"Type": "Pass", "End": True}}}
    async with Client(build()) as client:
        imported = await ok(client, "import_workflow_asl", definition=definition)
        report = await ok(client, "validate_workflow_design", design=imported["design_handle"])
    assert report["states"] == 2  # the pass state (a choice) and the generated End


async def test_the_design_argument_describes_the_schema_and_its_example_is_valid(build):
    """The tool text alone is enough to write a first design: it names the key fields, and the example it gives
    passes validation (so the text cannot drift from the model unnoticed)."""
    async with Client(build()) as client:
        tool = {t.name: t for t in (await client.list_tools()).tools}["validate_workflow_design"]
        text = tool.input_schema["properties"]["design"]["description"]
        for field in ("start_at", "states", "transitions", "compensation", "deadline_seconds", DESIGN_SCHEMA_URI):
            assert field in text, field
        example = json.loads(text.split("Example: ", 1)[1].rstrip("."))
        report = await ok(client, "validate_workflow_design", design=example, min_severity="error")
    assert report["valid"] and report["errors"] == 0, report["findings"]


async def test_inconsistent_scenarios_lead_the_first_page(build):
    """The deployment example ends consistent on every single fault, and not on some second faults (a failed
    rollback): those lead the first page, so a model that reads one page sees every problem the simulator found."""
    from orchestrator_kit.design.service import simulate_workflow_failures

    design = (EXAMPLES / "deployment-pipeline.yaml").read_text()
    every = simulate_workflow_failures(design, include_trace=False, limit=None)
    runs = [s.model_dump(mode="json") for s in every.scenarios]
    bad = [(s["step"], s["fault"], s["then"]) for s in runs if not s["consistent"]]
    assert 0 < len(bad) < every.total_scenarios  # the example has both kinds, so the order is a real check
    async with Client(build()) as client:
        first = await ok(client, "simulate_workflow_failures", design=design)
        whole = await ok(client, "simulate_workflow_failures", design=design, max_tokens=100_000)
    assert first["next_cursor"] is not None
    flags = [s["consistent"] for s in first["scenarios"]]
    assert flags == sorted(flags) and not flags[0]
    # Across the whole result: the inconsistent ones first, in run order; then the rest, in run order.
    got = [(s["step"], s["fault"], s["then"]) for s in whole["scenarios"]]
    assert got[:len(bad)] == bad
    assert got[len(bad):] == [(s["step"], s["fault"], s["then"]) for s in runs if s["consistent"]]
