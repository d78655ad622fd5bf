"""The shared vocabulary: every capability speaks in these pydantic models.

The `Inventory` is versioned (`schema_version`): a field is only ever added with a default, and a change in
meaning bumps the version. Every item that describes something found in a repository carries `Evidence`,
a path relative to the repository root and a 1-based, inclusive line range.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Final = "1"


class Model(BaseModel):
    """Base for every model here: unknown fields are refused so that a typo in a spec is an error."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Evidence(Model):
    """Where something was found: `path` (relative, POSIX separators) and lines `line_start..line_end` (1-based)."""

    path: str
    line_start: int = Field(ge=1)
    line_end: int = Field(ge=1)

    def __str__(self) -> str:
        if self.line_start == self.line_end:
            return f"{self.path}:{self.line_start}"
        return f"{self.path}:{self.line_start}-{self.line_end}"


Severity = Literal["info", "warning", "error"]


class Diagnostic(Model):
    """A problem met while reading the repository: the scan went on, and this says what was skipped and why."""

    path: str
    reason: str
    severity: Severity = "warning"
    line: int | None = None
    detector: str | None = None


# ---------------------------------------------------------------- CI pipelines

CISystem = Literal[
    "github-actions", "gitlab-ci", "circleci", "jenkins", "azure-pipelines", "bitbucket-pipelines"
]

TriggerKind = Literal[
    "push", "pull_request", "tag", "schedule", "manual", "release", "api", "pipeline", "reusable", "other"
]


class Trigger(Model):
    """What starts a pipeline. `event` is the CI system's own name; `kind` the normalized one.

    `cron` is set for schedules; `filters` holds branch/tag/path filters as written.
    """

    kind: TriggerKind
    event: str
    cron: str | None = None
    cron_explained: str | None = None
    filters: dict[str, list[str]] = Field(default_factory=dict)
    evidence: Evidence


StepKind = Literal["run", "uses", "checkout", "cache", "script", "approval", "template", "other"]


class Step(Model):
    """One step of a job: a shell command (`run`), a reusable action/orb/task (`uses`), or another kind."""

    kind: StepKind
    name: str | None = None
    command: str | None = Field(default=None, description="Shell text, redacted, for run/script steps.")
    uses: str | None = Field(default=None, description="Action, orb command, task or template reference.")
    shell: str | None = None
    evidence: Evidence


class Cache(Model):
    """Dependency caching configured for a job: an explicit cache step/keyword or a setup action's cache input."""

    via: str
    key: str | None = None
    paths: list[str] = Field(default_factory=list)
    evidence: Evidence


class Matrix(Model):
    """A job matrix: dimensions as written; `fan_out` is the number of job instances, None when it is dynamic.

    fan_out = product of the dimension sizes - excluded combinations + include entries that add a combination.
    """

    dimensions: dict[str, list[str]] = Field(default_factory=dict)
    include: int = 0
    exclude: int = 0
    fan_out: int | None = None
    dynamic: bool = False


NeedsSource = Literal["declared", "stage-order", "sequence", "none"]


class Job(Model):
    """A unit of a pipeline that runs on one agent.

    `needs` holds the job ids this job waits for, effective in the CI system's semantics: declared dependencies
    where given (`needs_source="declared"`), else what stage order or step sequence implies.
    """

    id: str
    name: str | None = None
    stage: str | None = None
    needs: list[str] = Field(default_factory=list)
    needs_source: NeedsSource = "none"
    runs_on: list[str] = Field(default_factory=list)
    image: str | None = None
    environment: str | None = None
    timeout_minutes: float | None = None
    matrix: Matrix | None = None
    condition: str | None = Field(default=None, description="if/rules/only/when condition as written.")
    manual: bool = Field(default=False, description="A person must start or approve this job.")
    blocking: bool | None = Field(
        default=None, description="For manual jobs: whether later work waits for it (GitLab allow_failure: false)."
    )
    allow_failure: bool = False
    concurrency: str | None = None
    permissions: dict[str, str] | str | None = None
    caches: list[Cache] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    uses: str | None = Field(default=None, description="Reusable workflow or trigger of a child pipeline.")
    extends: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(
        default_factory=dict, description="System-specific facts (CircleCI context, parallelism; Bitbucket services)."
    )
    evidence: Evidence


class Pipeline(Model):
    """One CI pipeline (a workflow file, a CircleCI workflow, a Jenkinsfile, ...), with its job graph."""

    id: str = Field(description="Stable id: system:path[#name].")
    system: CISystem
    kind: Literal["pipeline", "composite-action", "template"] = "pipeline"
    name: str
    path: str
    triggers: list[Trigger] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    jobs: list[Job] = Field(default_factory=list)
    concurrency: str | None = None
    permissions: dict[str, str] | str | None = None
    includes: list[str] = Field(default_factory=list)
    evidence: Evidence


# ---------------------------------------------------------------- task runners

TaskRunner = Literal[
    "make", "just", "task", "npm", "pyproject", "poe", "hatch", "pdm", "tox", "nox", "pre-commit", "script",
    "gradle", "maven", "cargo", "rake", "composer", "dotnet",
]


class Command(Model):
    """One shell command of a task or procedure, redacted, with its own line."""

    text: str
    evidence: Evidence


class Task(Model):
    """A named, runnable unit of a task runner: a Makefile target, an npm script, a tox env, a script file, ...

    `invocation` is how a person runs it (`make deploy`, `npm run build`, `./scripts/release.sh`).
    """

    id: str = Field(description="Stable id: runner:path#name.")
    runner: TaskRunner
    name: str
    path: str
    invocation: str
    description: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    commands: list[Command] = Field(default_factory=list)
    phony: bool | None = None
    hooks: list[str] = Field(default_factory=list, description="Names of pre/post hooks that run with this task.")
    attributes: dict[str, str] = Field(default_factory=dict)
    evidence: Evidence


# ---------------------------------------------------------------- schedules

ScheduleSource = Literal[
    "crontab", "systemd-timer", "github-actions", "gitlab-ci", "circleci", "jenkins", "azure-pipelines",
    "bitbucket-pipelines", "kubernetes-cronjob"
]


class Schedule(Model):
    """Recurring work from any source, unified. `expression` is as written (cron, OnCalendar, ...).

    `explanation` says in words when it runs; `target` is what it runs (a command, a job, a pipeline).
    """

    source: ScheduleSource
    expression: str
    explanation: str
    timezone: str | None = None
    target: str
    evidence: Evidence


# ---------------------------------------------------------------- infrastructure


InfraKind = Literal[
    "dockerfile", "compose-service", "kubernetes", "helm-chart", "kustomization", "terraform-backend",
    "terraform-module", "terraform-provider", "ansible-playbook"
]


class InfraItem(Model):
    """A container, deployment or infrastructure definition. `attributes` holds the kind's own facts
    (base images and stages for a Dockerfile, image for a compose service, kind for a manifest, ...)."""

    kind: InfraKind
    name: str
    path: str
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    evidence: Evidence


# ---------------------------------------------------------------- manual procedures


class AutomationRef(Model):
    """Existing automation that already runs a command: a task, a CI job, or a script."""

    kind: Literal["task", "job", "script", "pipeline"]
    ref: str = Field(description="Task id, pipeline id, or pipeline id + '/' + job id.")
    match: Literal["same-command", "invokes"] = Field(
        description="same-command: the automation runs this very command; invokes: the command runs the automation."
    )
    evidence: Evidence


class ProcedureStep(Model):
    """A numbered step, checklist item, or fenced command block of a procedure."""

    text: str
    kind: Literal["numbered", "checklist", "bullet", "code", "sentence"] = Field(
        description="sentence: an instruction in running text (\"Create the release and upload the artifacts.\")"
    )
    commands: list[Command] = Field(default_factory=list)
    automated_by: list[AutomationRef] = Field(default_factory=list)
    evidence: Evidence


class ManualProcedure(Model):
    """A section of a Markdown document that a person follows by hand.

    `markers` are the words that mark hand work (manually, ssh, kubectl, ...). `automation_coverage` is
    (commands with at least one AutomationRef) / (all commands), None when the procedure has no command.
    """

    id: str
    title: str
    path: str
    heading_path: list[str] = Field(default_factory=list)
    steps: list[ProcedureStep] = Field(default_factory=list)
    markers: list[str] = Field(default_factory=list)
    automation_coverage: float | None = None
    evidence: Evidence


# ---------------------------------------------------------------- the whole


class GitInfo(Model):
    """What git says about the scanned tree (absent when the root is not in a git work tree)."""

    head: str | None = None
    branch: str | None = None
    shallow: bool = False
    empty: bool = False


class SkippedFixtures(Model):
    """What came from test fixtures and copies of other projects (see `discovery._fixtures`): counted, and left out
    of the inventory unless the scan was asked to include them (`included`)."""

    included: bool = False
    items: int = Field(default=0, description="Pipelines, tasks, schedules, infrastructure items and procedures.")
    files: int = Field(default=0, description="Files those items (and diagnostics) came from.")
    by_kind: dict[str, int] = Field(default_factory=dict, description="Counts per inventory list, diagnostics too.")
    folders: list[str] = Field(default_factory=list, description="The fixture folders with the most items (up to 10).")

    def note(self) -> str | None:
        """One line for reports: how much was left out, and how to see it (None when nothing was)."""
        if self.items == 0 and not self.by_kind:
            return None
        items = f"{self.items:,} item" + ("" if self.items == 1 else "s")
        if self.included:
            verb = "comes" if self.items == 1 else "come"
            return f"{items} {verb} from test fixtures and copies of other projects (included on request)"
        files = f"{self.files:,} file" + ("" if self.files == 1 else "s")
        return f"{items} in test fixtures and copies of other projects skipped ({files}; --include-fixtures shows them)"


InventoryList = Literal["pipelines", "tasks", "schedules", "infrastructure", "procedures"]
INVENTORY_NOUNS: Final[dict[str, str]] = {
    "pipelines": "pipelines", "tasks": "tasks", "schedules": "schedules", "infrastructure": "infrastructure items",
    "procedures": "manual procedures",
}


class CoverageNote(Model):
    """What the scan did not look at, for the inventory `lists` it concerns (see `discovery._coverage`): files of a
    kind no detector reads (`unread`), reads only in part (`partial`), candidates that gave nothing (`no-findings`),
    and files that could not be read or parsed (`unreadable`). Found by file names, nothing else."""

    kind: Literal["unread", "partial", "no-findings", "unreadable"]
    lists: list[InventoryList]
    files: int = Field(description="Files of this note.")
    paths: list[str] = Field(description="Up to three of them.")
    note: str = Field(description="One line for a person or a model.")


class Inventory(Model):
    """Everything discovery found in one repository. Lists are sorted by path then line for stable output."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    root: str
    git: GitInfo | None = None
    files_listed: int = 0
    files_read: int = 0
    detectors: list[str] = Field(default_factory=list)
    pipelines: list[Pipeline] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    infrastructure: list[InfraItem] = Field(default_factory=list)
    procedures: list[ManualProcedure] = Field(default_factory=list)
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    skipped_fixtures: SkippedFixtures = Field(default_factory=SkippedFixtures)
    coverage: list[CoverageNote] = Field(
        default_factory=list, description="What the scan did not look at: an empty list is not proof of absence."
    )

    def coverage_of(self, name: InventoryList) -> list[str]:
        """The coverage notes that concern one list, as lines."""
        return [c.note for c in self.coverage if name in c.lists]
