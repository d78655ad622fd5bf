"""Benchmark: the context a process-orchestrator job and a workflow-orchestrator job cost a model, through the real
MCP client.

    python benchmarks/agent_context.py [--repos evals/repos] [--only NAME]
    python benchmarks/agent_context.py --repo DIR [--repo DIR ...]      (any local clone, used as it is)

For every sample repository of `evals/repos` (built with `build_sample_repo` into a temporary folder), or for each
`--repo` folder, an in-process server (`build_server`) is driven by the MCP SDK's `Client` through two fixed,
realistic call sequences. The process-orchestrator job, the calls its prompt asks for in its order:

 0. list_roots
 1. scan_repository; list_pipelines; list_tasks; list_schedules; list_infrastructure; list_manual_procedures
 2. get_pipeline (the first pipeline); get_manual_procedure (the first procedure)
 3. git_metrics; pipeline_metrics; opportunity_matrix
 4. generate_automation for the first three opportunities that offer `generate_with` (its first kind)
 5. validate_automation on the CI files of up to three pipelines of kinds it reads (one call; a Jenkinsfile or
    bitbucket-pipelines.yml has no validator, which the tool says, so a model that read it leaves them out)
 6. read_file: the first 60 lines of the top opportunity's evidence file

The workflow-orchestrator job (a release to design, as its prompt's steps go):

 1. list_roots; scan_repository; list_pipelines; list_manual_procedures
 2. get_pipeline (the first pipeline with a deploy job, else the first); get_manual_procedure (the first procedure
    whose title names a release, deploy, rollback or restore, else the first); search_repository for existing
    error handling (retry, rollback, timeout, lock); read_file of the first hit (60 lines); pipeline_metrics of that
    pipeline; git_metrics
 3. the example design read as the resource `orchestrator-kit://designs/deployment-pipeline` (counted apart, as
    resource tokens); validate_workflow_design on its broken twin (the findings a first draft gets), then on the
    design in full (a fix is sent in full once); every later call passes the `design_handle` it returned
 4. simulate_workflow_failures; render_workflow_diagram (state, then saga); export_workflow_asl (the design has a
    decision, so it has no CI form: the prompt sends such a design to ASL or XState)

Each call uses the default page size (no `max_tokens`) and the default detail level; a result with a `next_cursor`
is counted as incomplete, and paged to its end apart (`+pages`, `+tokens`: what finishing it would cost, not in the
job's calls and tokens, since a model may stop at the first page). Reported per repository and in total: calls,
tokens of tool output (the JSON text of each result counted with cl100k_base: an ESTIMATE of Claude's count, whose
tokenizer differs), errors (with their messages) and incomplete results. Targets (issue 20): <= 30 calls, <= 30k
tokens and 0 errors per job. Nothing is asserted: the numbers are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/mcp.py would shadow the MCP SDK: this folder leaves the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
TARGET_CALLS = 30
TARGET_TOKENS = 30_000


@dataclass
class Job:
    repo: str
    kind: str = "process"
    calls: int = 0
    tokens: int = 0
    errors: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    per_tool: dict[str, int] = field(default_factory=dict)
    rest_calls: int = 0  # continuation pages that would finish every incomplete result
    rest_tokens: int = 0
    resource_tokens: int = 0  # resources read (an example design): context, but not tool output
    log: list[str] = field(default_factory=list)  # one line per call: tool, tokens, and what was left incomplete


async def call(client: Any, job: Job, tool: str, **arguments: Any) -> dict[str, Any] | None:
    from orchestrator_kit.mcp_tools.budget import count_tokens

    result = await client.call_tool(tool, arguments)
    text = "".join(getattr(c, "text", "") for c in result.content)
    job.calls += 1
    cost = count_tokens(text)
    job.tokens += cost
    job.per_tool[tool] = job.per_tool.get(tool, 0) + cost
    if result.is_error:
        job.errors.append(f"{tool}: {text[:300]}")
        job.log.append(f"{tool:<28} {cost:>6}  ERROR")
        return None
    data = result.structured_content or {}
    job.log.append(f"{tool:<28} {cost:>6}" + ("  incomplete" if data.get("next_cursor") else ""))
    if data.get("next_cursor"):
        job.incomplete.append(tool)
        await rest(client, job, tool, arguments, data["next_cursor"])
    return data


async def rest(client: Any, job: Job, tool: str, arguments: dict[str, Any], cursor: str) -> None:
    """Page an incomplete result to its end, counted apart (`rest_*`): what finishing it would cost a model."""
    from orchestrator_kit.mcp_tools.budget import count_tokens

    for _ in range(50):
        result = await client.call_tool(tool, arguments | {"cursor": cursor})
        job.rest_calls += 1
        job.rest_tokens += count_tokens("".join(getattr(c, "text", "") for c in result.content))
        cursor = None if result.is_error else (result.structured_content or {}).get("next_cursor")
        if not cursor:
            return


async def process_job(repo: Path, name: str) -> Job:
    from mcp import Client

    from orchestrator_kit.server import build_server

    job = Job(name)
    async with Client(build_server([repo])) as client:
        await call(client, job, "list_roots")
        await call(client, job, "scan_repository")
        pipelines = await call(client, job, "list_pipelines") or {}
        await call(client, job, "list_tasks")
        await call(client, job, "list_schedules")
        await call(client, job, "list_infrastructure")
        procedures = await call(client, job, "list_manual_procedures") or {}
        if pipelines.get("items"):
            await call(client, job, "get_pipeline", pipeline_id=pipelines["items"][0]["id"])
        if procedures.get("items"):
            await call(client, job, "get_manual_procedure", procedure_id=procedures["items"][0]["id"])
        await call(client, job, "git_metrics")
        await call(client, job, "pipeline_metrics")
        matrix = await call(client, job, "opportunity_matrix") or {}
        opportunities = (matrix.get("matrix") or {}).get("opportunities", [])
        generate_with = matrix.get("generate_with", {})
        offered = [o for o in opportunities if generate_with.get(o["kind"])][:3]
        for opportunity in offered:
            await call(client, job, "generate_automation", kind=generate_with[opportunity["kind"]][0],
                       opportunity=opportunity["id"])
        from orchestrator_kit.automation.validate import detect_kind

        ci_paths = sorted({p["path"] for p in pipelines.get("items", []) if detect_kind(p.get("path", ""))})[:3]
        if ci_paths:
            await call(client, job, "validate_automation", paths=ci_paths)
        evidence = next((e for o in opportunities for e in o.get("evidence", []) if isinstance(e, dict)), None)
        if evidence and evidence.get("path"):
            await call(client, job, "read_file", path=evidence["path"], line_start=1, line_end=60)
    return job


RELEASE_WORDS = ("release", "deploy", "rollback", "roll back", "restore")
ERROR_HANDLING = r"retry|rollback|roll back|timeout|lock"


async def read_resource(client: Any, job: Job, uri: str) -> str:
    from orchestrator_kit.mcp_tools.budget import count_tokens

    result = await client.read_resource(uri)
    text = "".join(getattr(c, "text", "") for c in getattr(result, "contents", result))
    job.resource_tokens += count_tokens(text)
    return text


async def workflow_job(repo: Path, name: str) -> Job:
    """The workflow-orchestrator's sequence: read the process, validate a design, simulate, render, export."""
    from importlib import resources

    from mcp import Client

    from orchestrator_kit.server import build_server

    job = Job(name, kind="workflow")
    async with Client(build_server([repo])) as client:
        await call(client, job, "list_roots")
        await call(client, job, "scan_repository")
        pipelines = (await call(client, job, "list_pipelines") or {}).get("items", [])
        procedures = (await call(client, job, "list_manual_procedures") or {}).get("items", [])
        pipeline = next((p for p in pipelines if p.get("deploy_jobs") or "deploy" in str(p.get("jobs", ""))),
                        pipelines[0] if pipelines else None)
        if pipeline:
            await call(client, job, "get_pipeline", pipeline_id=pipeline["id"])
        procedure = next((p for p in procedures if any(w in p.get("title", "").lower() for w in RELEASE_WORDS)),
                         procedures[0] if procedures else None)
        if procedure:
            await call(client, job, "get_manual_procedure", procedure_id=procedure["id"])
        hits = (await call(client, job, "search_repository", pattern=ERROR_HANDLING, ignore_case=True) or {})
        first = next((h for h in hits.get("items", []) if isinstance(h, dict) and h.get("path")), None)
        if first:
            await call(client, job, "read_file", path=first["path"], line_start=1, line_end=60)
        if pipeline:
            await call(client, job, "pipeline_metrics", pipeline_id=pipeline["id"])
        else:
            await call(client, job, "pipeline_metrics")
        await call(client, job, "git_metrics")
        design = await read_resource(client, job, "orchestrator-kit://designs/deployment-pipeline")
        broken = (resources.files("orchestrator_kit.design") / "examples" / "deployment-pipeline.broken.yaml"
                  ).read_text(encoding="utf-8")
        await call(client, job, "validate_workflow_design", design=broken)
        validated = await call(client, job, "validate_workflow_design", design=design) or {}
        handle = validated.get("design_handle", design)
        await call(client, job, "simulate_workflow_failures", design=handle)
        await call(client, job, "render_workflow_diagram", design=handle)
        await call(client, job, "render_workflow_diagram", design=handle, kind="saga")
        # The design decides (canary_healthy is a choice): it has no CI form, so the prompt sends it to ASL.
        await call(client, job, "export_workflow_asl", design=handle)
    return job


def run_both(repo: Path, name: str) -> list[Job]:
    return [asyncio.run(process_job(repo, name)), asyncio.run(workflow_job(repo, name))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repos", default=str(ROOT / "evals" / "repos"))
    parser.add_argument("--only", default=None)
    parser.add_argument("--repo", action="append", default=[], help="a local clone to measure as it is (repeatable)")
    parser.add_argument("--calls", action="store_true", help="also print every call with its tokens")
    args = parser.parse_args()
    from orchestrator_kit.samples import build_sample_repo

    jobs: list[Job] = []
    if args.repo:
        for folder in args.repo:
            path = Path(folder).resolve()
            if not path.is_dir():
                parser.error(f"--repo {folder}: not a folder")
            jobs += run_both(path, path.name)
    else:
        specs = sorted(p for p in Path(args.repos).iterdir() if (p / "history.yaml").is_file())
        if args.only:
            specs = [p for p in specs if p.name == args.only]
        with tempfile.TemporaryDirectory(prefix="agent-context-") as tmp:
            for spec in specs:
                dest = Path(tmp) / spec.name
                build_sample_repo(spec, dest)
                jobs += run_both(dest, spec.name)
    report(jobs, calls=args.calls)
    sys.exit(0)


def report(jobs: list[Job], *, calls: bool = False) -> None:
    print(f"{'repository':<24} {'job':<8} {'calls':>5} {'tokens~':>8} {'errors':>6} {'+pages':>6} {'+tokens':>7} "
          f"{'res~':>5}  incomplete")
    for job in jobs:
        print(f"{job.repo:<24} {job.kind:<8} {job.calls:>5} {job.tokens:>8} {len(job.errors):>6} {job.rest_calls:>6} "
              f"{job.rest_tokens:>7} {job.resource_tokens:>5}  {', '.join(job.incomplete)}")
    over = [f"{j.repo} ({j.kind})" for j in jobs if j.calls > TARGET_CALLS or j.tokens > TARGET_TOKENS or j.errors]
    print(f"\ntokens~ = cl100k_base estimate of the tool output text (Claude's tokenizer differs); res~ = resources "
          f"read (not tool output). Targets: <= {TARGET_CALLS} calls, <= {TARGET_TOKENS} tokens, 0 errors. "
          f"Off target: {', '.join(over) or 'none'}")
    for job in jobs:
        for message in job.errors:
            print(f"  {job.repo} ({job.kind}): {message}")
        heavy = sorted(job.per_tool.items(), key=lambda kv: -kv[1])[:3]
        print(f"  {job.repo} ({job.kind}) heaviest: " + ", ".join(f"{tool} {tokens}" for tool, tokens in heavy))
        if calls:
            print("\n".join(f"    {line}" for line in job.log))


if __name__ == "__main__":
    main()
