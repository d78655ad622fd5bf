"""The whole tool catalog: annotations as declared, the schema cache (checked by content) equal to what the SDK derives,
a light start (no capability module imported), argument vocabularies equal to the libraries', and confinement of the
`repository` argument of every tool that takes one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import get_args

import pytest
from mcp import Client
from mcp.server.mcpserver import Context

from orchestrator_kit import server
from orchestrator_kit.mcp_tools import registry as registry_module
from orchestrator_kit.mcp_tools import schemas
from orchestrator_kit.mcp_tools.registry import ToolRegistry, build_tool, is_lazy
from orchestrator_kit.mcp_tools.roots import RootList
from orchestrator_kit.mcp_tools.roots import list_roots as roots_of

from .capability import error

pytestmark = pytest.mark.anyio

READS = (True, False, True, False)  # read-only, destructive, idempotent, open-world
WRITES = (False, True, False, False)  # writes, may overwrite or delete, a second call does something else
ANNOTATIONS = {
    "list_roots": READS, "scan_repository": READS, "list_pipelines": READS, "get_pipeline": READS,
    "list_tasks": READS, "list_schedules": READS, "list_infrastructure": READS, "list_manual_procedures": READS,
    "get_manual_procedure": READS, "read_file": READS, "search_repository": READS,
    "git_metrics": READS, "pipeline_metrics": READS, "token_budget": READS, "opportunity_matrix": READS,
    "generate_automation": READS, "validate_automation": READS,
    "apply_automation": WRITES, "undo_automation": WRITES,
    "validate_workflow_design": READS, "simulate_workflow_failures": READS, "render_workflow_diagram": READS,
    "export_workflow_asl": READS, "export_workflow_ci": READS, "import_workflow_asl": READS, "export_workflow_xstate": READS,
}


async def test_every_tool_is_annotated_as_it_behaves(build):
    async with Client(build()) as client:
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == list(ANNOTATIONS)
    for tool in listed:
        hints = tool.annotations
        got = (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint)
        assert got == ANNOTATIONS[tool.name], tool.name
        assert hints.title == tool.title and tool.output_schema["type"] == "object"
        assert tool.description and len(tool.description) > 150, tool.name  # when to call it, what it returns
        assert "\n    " not in tool.description


def test_only_apply_and_undo_write():
    assert [s.name for s in server.registry.specs if s.writes] == ["apply_automation", "undo_automation"]
    assert server.registry.names(read_only=True) == [n for n, a in ANNOTATIONS.items() if a == READS]


def test_the_first_server_writes_the_schema_cache_and_the_next_one_uses_it(own_cache):
    first = ToolRegistry(server.registry.specs).tools(read_only=False)
    assert not any(is_lazy(t) for t in first)  # nothing cached yet: every tool built live
    assert schemas.cache_path().parent == own_cache
    assert schemas.load() == schemas.current(server.registry)  # what the installed SDK derives, whatever its version

    second = ToolRegistry(server.registry.specs).tools(read_only=False)
    assert all(is_lazy(t) for t in second)  # argument models built on the first call
    for cached, live in zip(second, first, strict=True):
        assert (cached.parameters, cached.output_schema, cached.context_kwarg, cached.description) == (
            live.parameters, live.output_schema, live.context_kwarg, live.description), cached.name


def test_cached_and_live_tools_are_the_same(own_cache):
    schemas.write(server.registry)
    cache = schemas.load()
    for spec in server.registry.specs:
        cached, live = build_tool(spec, cache), build_tool(spec, {})
        assert is_lazy(cached)
        assert (cached.parameters, cached.output_schema, cached.context_kwarg, cached.description) == (
            live.parameters, live.output_schema, live.context_kwarg, live.description), spec.name


async def test_a_cache_that_differs_from_the_sdk_is_corrected_on_the_first_call(own_cache, build, shop):
    """A cache written by other versions of pydantic or mcp (same signatures, other schemas) is checked by content:
    the first call of a tool compares and corrects the tool and the file."""
    schemas.write(server.registry)
    live = schemas.load()
    stale = json.loads(json.dumps(live))
    stale["inputs"]["read_file"]["parameters"]["properties"]["path"]["description"] = "stale"
    ref = "orchestrator_kit.mcp_tools.roots:RootList"
    stale["outputs"][ref]["description"] = "stale"
    schemas.cache_path().write_text(json.dumps({"key": schemas.source_key(), **stale}), encoding="utf-8")

    tools = ToolRegistry(server.registry.specs)
    async with Client(build(tools=tools)) as client:
        before = {t.name: t for t in (await client.list_tools()).tools}
        read = await client.call_tool("read_file", {"path": "Makefile"})
        roots = await client.call_tool("list_roots", {})
        after = {t.name: t for t in (await client.list_tools()).tools}
    assert before["read_file"].input_schema["properties"]["path"]["description"] == "stale"
    assert not read.is_error and not roots.is_error
    assert after["read_file"].input_schema == live["inputs"]["read_file"]["parameters"]
    assert after["list_roots"].output_schema == live["outputs"][ref]
    assert schemas.load() == live


async def test_a_cache_written_from_other_sources_is_not_used(own_cache, build):
    """After installing, upgrading or editing orchestrator-kit, pydantic or mcp (another source_key), the cache is
    rebuilt before anything is published: a client never lists a schema that the code no longer has."""
    schemas.write(server.registry)
    live = schemas.load()
    other = json.loads(json.dumps(live))
    other["outputs"]["orchestrator_kit.mcp_tools.roots:RootList"]["description"] = "from older code"
    schemas.cache_path().write_text(json.dumps({"key": "another installation", **other}), encoding="utf-8")
    async with Client(build(tools=ToolRegistry(server.registry.specs))) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert "description" not in listed["list_roots"].output_schema
    assert json.loads(schemas.cache_path().read_text(encoding="utf-8"))["key"] == schemas.source_key()
    assert schemas.load() == live


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"inputs": 3, "outputs": []}',
                                     '{"inputs": {"read_file": {"signature": 1}}, "outputs": {}}'])
async def test_a_broken_cache_file_is_rebuilt(own_cache, build, content):
    own_cache.mkdir()
    schemas.cache_path().write_text(content, encoding="utf-8")
    async with Client(build(tools=ToolRegistry(server.registry.specs))) as client:
        result = await client.call_tool("read_file", {"path": "Makefile"})
    assert not result.is_error
    assert schemas.load() == schemas.current(server.registry)


async def test_an_unwritable_cache_only_costs_the_light_start(tmp_path, monkeypatch, build):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(blocker / "cache"))
    async with Client(build(tools=ToolRegistry(server.registry.specs))) as client:
        result = await client.call_tool("read_file", {"path": "Makefile"})
    assert not result.is_error and schemas.load() == {"inputs": {}, "outputs": {}}


async def test_a_tool_whose_signature_changed_is_built_live(build, shop):
    """A cached input schema is only used for the signature it was made from (a stale cache never lies)."""
    tools = ToolRegistry([s for s in server.registry.specs if s.name != "list_roots"])

    @tools.tool(title="List the roots")
    def list_roots(ctx: Context, verbose: bool = False) -> RootList:
        """List the roots (a changed signature: one more argument than the cached one)."""
        state = server.state_of(ctx)
        return roots_of(state.roots, read_only=state.read_only)

    async with Client(build(tools=tools)) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        result = await client.call_tool("list_roots", {"verbose": True})
    assert "verbose" in listed["list_roots"].input_schema["properties"]
    assert not result.is_error and result.structured_content["roots"][0]["path"] == str(shop.resolve())


def test_a_server_starts_without_the_capability_modules(shop, own_cache):
    """The first server (no cache) builds every schema, importing the capability modules once; the next one starts
    from the cache without them."""
    code = (
        "import sys\n"
        "from orchestrator_kit.server import build_server\n"
        f"build_server([{str(shop)!r}])\n"
        "heavy = ('orchestrator_kit.metrics', 'orchestrator_kit.automation', 'orchestrator_kit.design', "
        "'orchestrator_kit.opportunities', 'tiktoken', 'git')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert "orchestrator_kit.metrics" in first.stdout
    assert second.stdout.strip() == "[]", second.stdout


def test_the_argument_vocabularies_are_the_libraries():
    from orchestrator_kit.automation import KINDS
    from orchestrator_kit.automation.results import ArtifactKind
    from orchestrator_kit.design.service import SCHEMA_URI
    from orchestrator_kit.design.simulate import FAULT_KINDS
    from orchestrator_kit.design.validate import Severity
    from orchestrator_kit.mcp_tools.metrics import GENERATORS
    from orchestrator_kit.metrics.models import OpportunityKind

    assert get_args(server.AutomationKind) == KINDS
    assert get_args(server.ArtifactKind) == get_args(ArtifactKind)
    assert get_args(server.OpportunityKindArg) == get_args(OpportunityKind)
    assert get_args(server.FaultKindArg) == FAULT_KINDS
    assert set(get_args(Severity)) == {"error", "warning", "info"}
    assert server.DESIGN_SCHEMA_URI == SCHEMA_URI
    assert set(GENERATORS) <= set(get_args(OpportunityKind))
    assert all(set(kinds) <= set(KINDS) for kinds in GENERATORS.values())


def test_a_result_of_another_model_is_an_internal_error_not_a_wrong_schema():
    from pydantic import BaseModel

    class Other(BaseModel):
        x: int = 1

    def tool() -> Other:
        return Other()

    wrapped = registry_module._wrap(tool, "orchestrator_kit.mcp_tools.metrics:GitMetrics")
    from mcp.server.mcpserver.exceptions import ToolError

    with pytest.raises(ToolError, match=r"tool failed with an internal error \(TypeError\); this is a bug"):
        wrapped()


# ---------------------------------------------------------------- confinement of every repository argument

REQUIRED = {  # the smallest valid value of each required argument
    "pipeline_id": "github-actions:.github/workflows/ci.yml",
    "procedure_id": "docs/runbooks/release.md#releasing",
    "path": "Makefile",
    "pattern": "make",
    "kind": "shell-script",
    "paths": ["Makefile"],
    "plan_hash": "0" * 64,
}


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "Makefile").write_text("secret:\n\techo not yours\n")
    return folder


async def _repository_tools(client) -> dict[str, dict]:
    tools = (await client.list_tools()).tools
    return {t.name: t.input_schema for t in tools if "repository" in t.input_schema["properties"]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("OUTSIDE", "is outside the configured roots"),
        ("escape", "Repository 'escape' is outside the configured roots"),
        ("../outside", "Repository '../outside' contains a '..' component"),
        ("--upload-pack=x", "starts with '-'"),
        ("/", "Repository '/' is outside the configured roots"),
    ],
)
async def test_every_repository_argument_is_confined(build, shop, outside, value, message):
    os.symlink(outside, shop / "escape")
    value = str(outside) if value == "OUTSIDE" else value
    async with Client(build()) as client:
        tools = await _repository_tools(client)
        assert {"git_metrics", "pipeline_metrics", "token_budget", "opportunity_matrix", "generate_automation",
                "validate_automation", "apply_automation", "undo_automation"} <= set(tools)
        for name, schema in tools.items():
            arguments = {k: REQUIRED[k] for k in schema.get("required", [])} | {"repository": value}
            text = await error(client, name, **arguments)
            assert message in text, (name, text)
            assert "not yours" not in text
    assert sorted(p.name for p in outside.iterdir()) == ["Makefile"]  # nothing written outside


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["../outside/Makefile"], "Path '../outside/Makefile' contains a '..' component"),
        (["/etc/passwd"], "outside the repository"),
        (["escape/Makefile"], "outside the repository"),
        (["-n"], "Path '-n' starts with '-'"),
    ],
)
async def test_validate_automation_reads_only_inside_the_repository(build, shop, outside, paths, message):
    os.symlink(outside, shop / "escape")
    async with Client(build()) as client:
        text = await error(client, "validate_automation", paths=paths, kind="makefile")
    assert message in text and "not yours" not in text


async def test_generated_files_never_land_outside(build, shop, outside):
    os.symlink(outside, shop / "escape")
    spec = {"name": "evil", "path": "escape/evil.sh", "steps": [{"name": "s", "commands": ["ls"]}]}
    async with Client(build()) as client:
        generated = await error(client, "generate_automation", kind="shell-script", spec=spec)
        applied = await error(client, "apply_automation", kind="shell-script", spec=spec, plan_hash="0" * 64)
    # a path through a symlink counts as taken (automation.context.exists), so the generator refuses it
    assert "Script 'escape/evil.sh' already exists" in generated
    assert "Script 'escape/evil.sh' already exists" in applied
    assert sorted(p.name for p in outside.iterdir()) == ["Makefile"]


async def test_the_capability_tools_load_on_first_call_in_a_real_server_process(shop):
    """Over stdio, in a fresh process: the argument model and the capability modules are built on the first call."""
    from mcp import StdioServerParameters

    from .conftest import spawn_command

    command = spawn_command(shop)
    design = {"name": "one", "start_at": "done", "states": [{"name": "done", "type": "succeed"}]}
    async with Client(StdioServerParameters(command=command[0], args=command[1:])) as client:
        metrics = await client.call_tool("pipeline_metrics", {"max_tokens": 20_000})
        checked = await client.call_tool("validate_workflow_design", {"design": design, "min_severity": "error"})
        bad = await client.call_tool("validate_workflow_design", {"design": design, "min_severity": "fatal"})
    assert not metrics.is_error and len(metrics.structured_content["metrics"]["pipelines"]) == 2
    assert not checked.is_error and checked.structured_content["valid"] and checked.structured_content["states"] == 1
    assert bad.is_error and "min_severity" in bad.content[0].text  # the lazily built argument model validates
