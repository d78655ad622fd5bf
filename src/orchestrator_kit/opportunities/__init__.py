"""The automation opportunity matrix: every candidate found in the Inventory, scored with stated formulas.

Candidates (one kind each; the finders live in `procedures` and `ci`):

* `manual-procedure`: a documented procedure a person follows (one whose commands CI already runs is left out
  as already automated; steps CI runs are left out of the duration);
* `unautomated-task`: an operational Makefile/justfile/script/... task that no CI job, schedule or documented
  procedure runs; `unscheduled-recurring-work`: a task named for recurring upkeep that nothing schedules;
* `missing-ci-stage`: test, lint, build or deploy work the repository has and no CI job does;
* `slow-ci`: a long critical path of automated jobs (human approvals are not CI time);
* `repeated-ci-work`: dependency installs without a cache (where a cache saves something), and one install/build
  command run by several jobs of one run;
* `manual-gate`: a CI job that waits for a person, counted for the runs that reach it.

Numbers (`FORMULAS`, repeated in every result; `scoring` and `frequency` say how): every frequency and duration
has low / expected / high bounds and a basis (git counts with their window, cron schedules, or a labelled
assumption); priority and quick win use the expected value, and `priority_basis` shows the bounds; person hours
and CI hours are separate columns and totals. The assumptions come from the repository's settings
(`config.OpportunitySettings`: `.orchestrator-kit.toml` or `[tool.orchestrator-kit]` in pyproject.toml).
"""

from __future__ import annotations

from ..config import ConfigError, OpportunitySettings, load_config
from ..errors import InputError, OrchestratorError
from ..metrics.models import (
    HistoryMetrics,
    HoursTotal,
    Metrics,
    Opportunity,
    OpportunityMatrix,
    PipelineMetrics,
)
from ..models import Diagnostic, Inventory
from ..repo import Workspace
from .ci import cache_candidates, gate_candidates, missing_stage_candidates, repeated_candidates, slow_candidates
from .context import Context
from .frequency import Rates
from .procedures import procedure_candidates, task_candidates
from .scoring import QUICK_WIN_RULE, opportunity_id, score

FORMULAS = {
    "hours_saved_per_year": "frequency_per_year x duration_minutes / 60 x automation_potential (expected values); "
                            "hours_saved_low / hours_saved_high use the low / high frequency and duration",
    "effort_hours": "effort_hours_per_complexity x complexity (assumption)",
    "payback_months": "effort_hours / (hours_saved_per_year / 12); none when nothing is saved",
    "priority_score": "hours_saved_per_year / effort_hours (hours saved per hour invested, per year)",
    "priority": "from the expected payback: high when <= 6 months, medium when <= 18 months, else low; risk >= 4 "
                "with potential >= 0.5 raises low to medium; priority_basis shows the payback at the bounds",
    "quick_win": QUICK_WIN_RULE,
    "person_and_ci_hours": "an opportunity saves person hours or CI hours (`saves`); the columns and the totals "
                           "are kept apart and never added together",
    "complexity": "1 + ceil(distinct tools / 2) + 1 if it touches production, clamped to 1..5 (procedures); "
                  "stated per candidate otherwise",
    "automation_potential": "(steps with commands + 0.5 x steps without) / steps (procedures); stated per candidate "
                            "otherwise",
    "risk": "1 + 1 if production + 2 if destructive (restore, delete, drop, --force, scale to 0, rollout undo) + 1 "
            "for remote shell access (ssh/scp) + 1 for an irreversible step the procedure warns about or a publish "
            "that cannot be withdrawn, clamped to 1..5",
    "frequency_from_git": "events in the history window x 365 / window days, bounds n -/+ 2 sqrt(n) (0..3 for no "
                          "event); windows under min_window_days are not annualized",
    "pipeline_runs": "the sum over a pipeline's triggers of the runs metrics.triggers counted (branch, tag and "
                     "path filters over the branches' history, annualized over its window; cron firing times; "
                     "callers' runs for a reusable workflow); manual and API triggers are unknown to git",
    "assumed_bounds": "an assumed number's low / high = value x low_factor / high_factor (settings)",
}
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
MAX_EVIDENCE_LINES = 8


def _settings(inventory: Inventory, diagnostics: list[Diagnostic]) -> tuple[OpportunitySettings, str]:
    try:
        config = load_config(inventory.root)
    except ConfigError as exc:
        diagnostics.append(Diagnostic(path=".", severity="warning", detector="opportunities",
                                      reason=f"{exc} The default assumptions were used."))
        return OpportunitySettings(), "defaults (the repository's settings are invalid)"
    except OrchestratorError:
        return OpportunitySettings(), "defaults"
    return config.opportunities, config.source


def _workspace(root: str) -> Workspace | None:
    try:
        return Workspace(root)
    except OrchestratorError:
        return None


def _total(items: list[Opportunity], saves: str) -> HoursTotal:
    chosen = [o for o in items if o.saves == saves]
    return HoursTotal(low=round(sum(o.hours_saved_low for o in chosen), 2),
                      expected=round(sum(o.hours_saved_per_year for o in chosen), 2),
                      high=round(sum(o.hours_saved_high for o in chosen), 2))


def opportunity_matrix(
    inventory: Inventory, pipelines: PipelineMetrics, history: HistoryMetrics | None = None, *,
    settings: OpportunitySettings | None = None,
) -> OpportunityMatrix:
    """Every candidate, scored (see the module docstring and `FORMULAS`), best first: priority, then score.
    `settings` default to the repository's own (`config.load_config`); invalid settings give a Diagnostic."""
    diagnostics: list[Diagnostic] = list(history.diagnostics) if history is not None else []
    source = "given"
    if settings is None:
        settings, source = _settings(inventory, diagnostics)
    rates = Rates.from_history(history, settings)
    runs = {r.pipeline: r for r in history.pipeline_runs} if history is not None else {}
    ctx = Context(settings=settings, rates=rates, runs=runs, workspace=_workspace(inventory.root))
    procedures, excluded = procedure_candidates(inventory, pipelines, ctx)
    caches, no_cache = cache_candidates(inventory, pipelines, ctx)
    slow, not_slow = slow_candidates(inventory, pipelines, ctx)
    candidates = [
        *procedures, *task_candidates(inventory, ctx), *caches, *repeated_candidates(inventory, pipelines, ctx),
        *slow, *gate_candidates(inventory, pipelines, ctx), *missing_stage_candidates(inventory, pipelines, ctx),
    ]
    unique: dict[str, Opportunity] = {}
    for candidate in candidates:
        opportunity = score(candidate, settings)
        opportunity.explanation.evidence_lines = [ctx.evidence_line(ev)
                                                  for ev in opportunity.evidence[:MAX_EVIDENCE_LINES]]
        unique.setdefault(opportunity.id, opportunity)
    ordered = sorted(unique.values(), key=lambda o: (PRIORITY_ORDER[o.priority], -o.priority_score, o.title))
    assumptions = settings.labelled()
    if rates.window_days is not None and rates.per_year_factor is None:
        assumptions["history_window"] = (f"only {rates.window_days:g} days of history: git counts were not "
                                         "annualized; assumptions used instead")
    return OpportunityMatrix(
        root=inventory.root, formulas=dict(FORMULAS), assumptions=assumptions, settings_source=source,
        opportunities=ordered, person_hours_per_year=_total(ordered, "person-time"),
        ci_hours_per_year=_total(ordered, "ci-time"), excluded=[*excluded, *no_cache, *not_slow],
        diagnostics=diagnostics,
    )


def opportunities(
    path: str, *, since: str | None = None, max_commits: int | None = None, metrics: Metrics | None = None,
    inventory: Inventory | None = None,
) -> OpportunityMatrix:
    """Scan `path` (or use the given inventory and metrics) and score its automation opportunities."""
    from ..metrics import collect_metrics
    from ..service import scan

    inventory = inventory or scan(path)
    metrics = metrics or collect_metrics(path, inventory=inventory, since=since, max_commits=max_commits, tokens=False)
    if metrics.pipelines is None or metrics.history is None:
        raise InputError("The opportunity matrix needs the history and pipeline metrics (measured without --only).")
    return opportunity_matrix(inventory, metrics.pipelines, metrics.history)


def opportunity_by_id(matrix: OpportunityMatrix, opportunity: str) -> Opportunity:
    """The opportunity with this id (e.g. for `generate --from-opportunity ID`); InputError naming the known ids."""
    for item in matrix.opportunities:
        if item.id == opportunity:
            return item
    known = ", ".join(o.id for o in matrix.opportunities) or "none"
    raise InputError(f"No opportunity '{opportunity}' in {matrix.root} (known: {known}).")


__all__ = ["FORMULAS", "opportunities", "opportunity_by_id", "opportunity_id", "opportunity_matrix"]
