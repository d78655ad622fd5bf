"""Metrics tools: git history, pipeline structure, token budgets and the opportunity matrix, each budgeted.

Each function calls the metrics capability (`metrics.history`, `metrics.pipelines`, `metrics.tokens`,
`opportunities`) as the CLI does and pages its result with `budget.pack_model`: the scalars, formulas and
assumptions come on every page, the lists fill the room left, in the order of the `*_LISTS` constants (the most
useful first). Results are kept in the server's `ResultCache` under a key that changes with the repository (its
scan fingerprint; for history also its tags), so paging does not compute them again.

This module imports the whole metrics capability: `server.py` imports it inside the tool bodies only, and names
its result models by reference (see `registry`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from pydantic import Field

from ..assessment import DEFAULT_MAX_COMMITS, DEFAULT_TOP, Assessment, Hooks, assess
from ..automation.opportunity import GENERATORS
from ..gitsafe import run_git
from ..metrics.models import (
    HistoryMetrics,
    Opportunity,
    OpportunityKind,
    OpportunityMatrix,
    PipelineMetrics,
    TokenReport,
)
from ..metrics.pipelines import pipeline_metrics as compute_pipeline_metrics
from ..metrics.tokens import token_report
from ..models import Inventory
from .budget import SectionPage, pack_model
from .detail import Detail, caps, detail_line
from .inventory import Out, _find
from .progress import in_background
from .state import NO_WORK, ServerState, Work

# Caveats first (issue 20): `partial_reasons` and `diagnostics` fill a page before any bulk list, so the first page
# always says what the numbers are missing.
HISTORY_LISTS = (
    "partial_reasons", "diagnostics", "hotspots.items", "churn.files", "churn.directories", "coupling.pairs",
    "bus_factor.directories", "fragmentation.files", "authors.top", "dora.releases", "dora.change_failure.failures",
    "dora.reverts", "dora.skipped_tags", "commit_frequency.weeks",
    # Runs per pipeline with their gates' triggers: about 3k tokens for 8 pipelines of a real CircleCI service,
    # more than a default page once the rest is in, so it pages like the others instead of failing the call.
    "pipeline_runs",
)
CAVEAT_LISTS = ("partial_reasons", "diagnostics")  # never capped: what the numbers miss
PIPELINE_LISTS = (
    "pipelines", "jobs_without_timeout", "missing_caches", "repeated_steps", "manual_gates", "matrices",
    "procedure_duplicates", "deploy_signals", "schedules", "pipelines_without_concurrency",
)
TOKEN_LISTS = ("diagnostics", "skipped", "top_files", "directories")
OPPORTUNITY_LISTS = ("diagnostics", "opportunities")

DETAIL_DOC = ("What this page leaves out: with detail='concise' (the default) the rows past the first few of each "
              "list and the long series (counted in `sections[].omitted`); on a continuation page the formulas and "
              "caveats, which the first page holds.")
PAGED = "Lists hold this page's part of each list (see `sections`); scalars, formulas and assumptions are whole."


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, separators=(",", ":")).encode()).hexdigest()[:16]


def _tags(folder: Path) -> str:
    """A digest of the repository's tags (release tags are deploys for the DORA proxies; a new tag changes them)."""
    try:
        proc = run_git(folder, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags", timeout=30)
    except OSError:
        return "no-git"
    return hashlib.sha256(proc.stdout).hexdigest()[:16] if proc.returncode == 0 else "no-tags"


# ---------------------------------------------------------------- git history


class GitMetrics(Out):
    """History metrics of a repository from one `git log --numstat` pass, one page of their lists at a time."""

    repository: str
    detail: str = Field(description=DETAIL_DOC)
    history: HistoryMetrics = Field(
        description="The metrics. Each section states its `formula`; `proxy: true` marks a stand-in (the DORA "
        "keys come from git: release tags as deploys, reverts and patch releases as failures). " + PAGED
    )
    sections: list[SectionPage]
    next_cursor: str | None = Field(description="Pass as `cursor` for the rest of the lists; null on the last page.")


class HistoryCancelledError(Exception):
    """Raised inside the history pass once its MCP call was cancelled, to stop reading and kill git."""


def assessed(
    state: ServerState, repository: str, *, since: str | None, max_commits: int | None, paths: list[str],
    renames: bool, top: int, work: Work = NO_WORK, include_generated: bool = False, include_fixtures: bool = False,
) -> tuple[Path, Assessment, str]:
    """(folder, assessment, version): `assessment.assess` over the server's cached scan, each stage kept in the
    server's ResultCache under the repository state (scan version and tags) and the options, so paging computes
    nothing again. The history pass runs in a worker thread with heartbeats; a cancelled call stops it."""
    _root, folder, scan = state.scan(repository, work=work)
    version = _digest(scan.version, _tags(folder), since, max_commits, paths, renames, top,
                      *(["include_generated"] if include_generated else []),
                      *(["include_fixtures"] if include_fixtures else []))
    stop = threading.Event()

    def check() -> None:
        if stop.is_set():
            raise HistoryCancelledError("the client cancelled the history pass")

    def run(label: str, compute: Callable[[], Any]) -> Any:
        try:
            return in_background(work, compute, label)
        except BaseException:
            stop.set()  # the helper thread stops at its next commit and history_metrics kills git
            raise

    hooks = Hooks(check=check, run=run,
                  memo=lambda key, compute: state.results.get((folder, scan.version, version, key), compute))
    result = assess(folder, inventory=scan.inventory, since=since, max_commits=max_commits, paths=paths,
                    renames=renames, top=top, max_file_bytes=state.max_file_bytes,
                    include_generated=include_generated, include_fixtures=include_fixtures, hooks=hooks)
    return folder, result, version


def git_metrics(
    state: ServerState, repository: str = ".", *, since: str | None = None,
    max_commits: int | None = DEFAULT_MAX_COMMITS, paths: list[str] | None = None, renames: bool = True,
    top: int = DEFAULT_TOP, max_tokens: int, cursor: str | None = None, work: Work = NO_WORK,
    detail: Detail = "concise", include_generated: bool = False, include_fixtures: bool = False,
) -> GitMetrics:
    folder, assessment, version = assessed(state, repository, since=since, max_commits=max_commits,
                                           paths=paths or [], renames=renames, top=top, work=work,
                                           include_generated=include_generated, include_fixtures=include_fixtures)
    limits = caps(HISTORY_LISTS, detail, whole=CAVEAT_LISTS)
    if limits:
        limits["commit_frequency.weeks"] = 0  # the weekly series: its mean and median stay
    return pack_model(
        assessment.history, HISTORY_LISTS, kind=f"git_metrics:{detail}", version=version,
        max_tokens=max_tokens, cursor=cursor, caps=limits, lean_continuation=True,
        wrap=lambda page, sections, next_cursor: GitMetrics(
            repository=str(folder), detail=_detail(detail, cursor, sections), history=page, sections=sections,
            next_cursor=next_cursor),
    )


def _detail(detail: Detail, cursor: str | None, sections: list[SectionPage], trimmed: str = "") -> str:
    return detail_line(detail, bool(cursor), sum(s.omitted for s in sections), trimmed)


TRIMMED_ESTIMATES = "the job estimates of jobs off each critical path by minutes"
TRIMMED_EXPLANATIONS = ("each opportunity's explanation.inputs and explanation.formula (the same numbers are in the "
                        "opportunity, the formula in `formulas`)")


# ---------------------------------------------------------------- pipelines


class PipelineMetricsPage(Out):
    """Static pipeline metrics from the scan, one page of their lists at a time."""

    repository: str
    scan_version: str
    pipeline_id: str | None = Field(description="The pipeline the metrics are limited to; null for all.")
    detail: str = Field(description=DETAIL_DOC)
    metrics: PipelineMetrics = Field(
        description="Job graphs (critical path by job count and by estimated minutes, parallel width), matrix "
        "fan-out, jobs without timeout, missing caches, repeated install/build steps, manual gates, schedules, "
        "deploy jobs, steps that duplicate a manual procedure. Minutes are estimates from step kinds "
        "(`step_minutes_assumed`), never measured run times. " + PAGED
    )
    sections: list[SectionPage]
    next_cursor: str | None


def _inventory_for(inventory: Inventory, pipeline_id: str | None) -> Inventory:
    if pipeline_id is None:
        return inventory
    pipeline = _find(inventory.pipelines, pipeline_id, "pipeline", "list_pipelines")
    return inventory.model_copy(update={"pipelines": [pipeline]})


def pipeline_metrics(
    state: ServerState, repository: str = ".", *, pipeline_id: str | None = None, max_tokens: int,
    cursor: str | None = None, work: Work = NO_WORK, detail: Detail = "concise",
) -> PipelineMetricsPage:
    _root, folder, scan = state.scan(repository, work=work)
    inventory = _inventory_for(scan.inventory, pipeline_id)
    result = state.results.get(("pipelines", folder, scan.version, pipeline_id),
                               lambda: compute_pipeline_metrics(inventory))
    trimmed = False
    if detail == "concise":  # job estimates of the jobs on each critical path by minutes only
        graphs = [graph.model_copy(update={"job_estimates": [
            e for e in graph.job_estimates if e.id in set(graph.critical_path_by_minutes)]})
            for graph in result.pipelines]
        trimmed = any(len(a.job_estimates) != len(b.job_estimates) for a, b in zip(graphs, result.pipelines,
                                                                                    strict=True))
        result = result.model_copy(update={"pipelines": graphs})
    return pack_model(
        result, PIPELINE_LISTS, kind=f"pipeline_metrics:{pipeline_id or ''}:{detail}", version=scan.version,
        max_tokens=max_tokens, cursor=cursor, caps=caps(PIPELINE_LISTS, detail, whole=("pipelines",)),
        lean_continuation=True,
        wrap=lambda page, sections, next_cursor: PipelineMetricsPage(
            repository=str(folder), scan_version=scan.version, pipeline_id=pipeline_id,
            detail=_detail(detail, cursor, sections, TRIMMED_ESTIMATES if trimmed else ""), metrics=page,
            sections=sections, next_cursor=next_cursor),
    )


# ---------------------------------------------------------------- tokens


class TokenBudget(Out):
    """Token counts of the repository's text files, one page of the lists at a time."""

    repository: str
    tokens: TokenReport = Field(description="Totals, top files, directories and skipped files; every count is an "
                                "estimate of Claude's tokens (see `label` and `formula`). " + PAGED)
    sections: list[SectionPage]
    next_cursor: str | None


def token_budget(
    state: ServerState, repository: str = ".", *, top: int = 20, dir_depth: int = 2, max_tokens: int,
    cursor: str | None = None, work: Work = NO_WORK,
) -> TokenBudget:
    _root, workspace = state.workspace(repository)
    folder = workspace.root
    version = _digest(state.cache.fingerprint(folder), top, dir_depth)

    def compute() -> TokenReport:
        return in_background(work, lambda: token_report(workspace, top=top, dir_depth=dir_depth,
                                                        max_file_bytes=state.max_file_bytes), "counting tokens")

    result = state.results.get(("tokens", folder, version), compute)
    return pack_model(
        result, TOKEN_LISTS, kind="token_budget", version=version, max_tokens=max_tokens, cursor=cursor,
        lean_continuation=True,
        wrap=lambda page, sections, next_cursor: TokenBudget(
            repository=str(folder), tokens=page, sections=sections, next_cursor=next_cursor),
    )


# ---------------------------------------------------------------- opportunities


class OpportunityPage(Out):
    """The automation opportunity matrix, best first, one page of opportunities at a time."""

    repository: str
    detail: str = Field(description=DETAIL_DOC)
    matrix: OpportunityMatrix = Field(
        description="Every candidate scored with the stated `formulas`; `assumptions` lists the values chosen, not "
        "measured (an estimate whose `assumption` is true rests on one). " + PAGED
    )
    kind: OpportunityKind | None = Field(description="The kind the list was limited to; null for every kind.")
    total: int = Field(description="Opportunities (of `kind`) over all pages.")
    generate_with: dict[str, list[str]] = Field(
        description="For each opportunity kind, the `kind` values generate_automation accepts with "
        "`opportunity=<id>`; an empty list: advice only. Each opportunity's own `generate_with` and `advice_only` "
        "decide (repeated-ci-work: a cache is generated, a repeated command is advice only)."
    )
    sections: list[SectionPage]
    next_cursor: str | None


def opportunity_matrix(
    state: ServerState, repository: str = ".", *, since: str | None = None,
    max_commits: int | None = DEFAULT_MAX_COMMITS, kind: str | None = None, max_tokens: int, cursor: str | None = None,
    work: Work = NO_WORK, detail: Detail = "concise",
) -> OpportunityPage:
    folder, assessment, version = assessed(state, repository, since=since, max_commits=max_commits, paths=[],
                                           renames=True, top=DEFAULT_TOP, work=work)
    matrix = assessment.matrix
    if kind is not None:
        matrix = matrix.model_copy(update={"opportunities": [o for o in matrix.opportunities if o.kind == kind]})
    if detail == "concise":
        matrix = matrix.model_copy(update={"opportunities": [_concise(o) for o in matrix.opportunities]})
    total = len(matrix.opportunities)
    return pack_model(
        matrix, OPPORTUNITY_LISTS, kind=f"opportunity_matrix:{kind or ''}:{detail}", version=version,
        max_tokens=max_tokens, cursor=cursor, lean_continuation=True,
        wrap=lambda page, sections, next_cursor: OpportunityPage(
            repository=str(folder),
            detail=_detail(detail, cursor, sections, TRIMMED_EXPLANATIONS if detail == "concise" and total else ""),
            matrix=page,
            kind=cast("OpportunityKind | None", kind), total=total, generate_with=GENERATORS, sections=sections,
            next_cursor=next_cursor),
    )


def _concise(opportunity: Opportunity) -> Opportunity:
    """The opportunity without its explanation's inputs (its own estimates and scores, already in it) and formula
    (the matrix's `formulas` holds it once); the evidence lines and the computation with its values stay."""
    explanation = opportunity.explanation.model_copy(update={"inputs": [], "formula": ""})
    return opportunity.model_copy(update={"explanation": explanation})
