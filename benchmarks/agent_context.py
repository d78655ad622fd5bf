"""Benchmark: the context a process-orchestrator job costs a model, through the real MCP client.

    python benchmarks/agent_context.py [--repos evals/repos] [--only NAME]

For every sample repository of `evals/repos` (built with `build_sample_repo` into a temporary folder) an in-process
server (`build_server`) is driven by the MCP SDK's `Client` through a fixed, realistic call sequence of a full
process-orchestrator job, the calls the prompt asks for in its order:

 1. scan_repository; list_pipelines; list_tasks; list_schedules; list_infrastructure; list_manual_procedures
 2. get_pipeline (the first pipeline); get_manual_procedure (the first procedure)
 3. git_metrics; pipeline_metrics; opportunity_matrix
 4. generate_automation for the first three opportunities that offer `generate_with` (its first kind)
 5. validate_automation on the CI files of up to three pipelines of kinds it reads (one call; a Jenkinsfile or
    bitbucket-pipelines.yml has no validator, which the tool says, so a model that read it leaves them out)
 6. read_file: the first 60 lines of the top opportunity's evidence file

Each call uses the default page size (no `max_tokens`) and the default detail level; a result with a `next_cursor`
is counted as incomplete, and paged to its end apart (`+pages`, `+tokens`: what finishing it would cost, not in the
job's calls and tokens, since a model may stop at the first page). Reported per repository and in total: calls,
tokens of tool output (the JSON text of each result counted with cl100k_base: an ESTIMATE of Claude's count, whose
tokenizer differs), errors (with their messages) and incomplete results. Targets (issue 20): <= 30 calls, <= 30k
tokens and 0 errors per job. Nothing is asserted: the numbers are printed.

Not covered yet: a workflow-orchestrator sequence (design validate, simulate, render, export).
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
    calls: int = 0
    tokens: int = 0
    errors: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    per_tool: dict[str, int] = field(default_factory=dict)
    rest_calls: int = 0  # continuation pages that would finish every incomplete result
    rest_tokens: int = 0


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
        return None
    data = result.structured_content or {}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repos", default=str(ROOT / "evals" / "repos"))
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    from orchestrator_kit.samples import build_sample_repo

    specs = sorted(p for p in Path(args.repos).iterdir() if (p / "history.yaml").is_file())
    if args.only:
        specs = [p for p in specs if p.name == args.only]
    jobs: list[Job] = []
    with tempfile.TemporaryDirectory(prefix="agent-context-") as tmp:
        for spec in specs:
            dest = Path(tmp) / spec.name
            build_sample_repo(spec, dest)
            jobs.append(asyncio.run(process_job(dest, spec.name)))
    print(f"{'repository':<20} {'calls':>5} {'tokens~':>8} {'errors':>6} {'+pages':>6} {'+tokens':>7}  incomplete")
    for job in jobs:
        print(f"{job.repo:<20} {job.calls:>5} {job.tokens:>8} {len(job.errors):>6} {job.rest_calls:>6} "
              f"{job.rest_tokens:>7}  {', '.join(job.incomplete)}")
    over = [j.repo for j in jobs if j.calls > TARGET_CALLS or j.tokens > TARGET_TOKENS or j.errors]
    print(f"\ntokens~ = cl100k_base estimate of the tool output text (Claude's tokenizer differs). Targets: <= "
          f"{TARGET_CALLS} calls, <= {TARGET_TOKENS} tokens, 0 errors. Off target: {', '.join(over) or 'none'}")
    for job in jobs:
        for message in job.errors:
            print(f"  {job.repo}: {message}")
        heavy = sorted(job.per_tool.items(), key=lambda kv: -kv[1])[:3]
        print(f"  {job.repo} heaviest: " + ", ".join(f"{tool} {tokens}" for tool, tokens in heavy))
    sys.exit(0)


if __name__ == "__main__":
    main()
