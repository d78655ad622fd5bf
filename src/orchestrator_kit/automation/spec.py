"""Typed specs: what a caller asks a generator to write. Unknown fields are errors (a typo never passes).

A command is either a list of words (`argv`, each word quoted when rendered) or one string of simple shell
text, which is split with POSIX quoting rules and refused when it holds operators or expansions (see
`shellsafe`). A word may be `{"template": "Release {version}"}` to use a declared parameter.

`parse_spec(kind, data)` turns a mapping (from YAML, JSON or an MCP call) into the right model and reports
every problem with its location in one `InputError`.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ..cron import CronError, parse_cron
from ..errors import InputError
from ..models import Model
from .shellsafe import UnsafeCommand, check_text, split_command, template_parts

OnConflict = Literal["refuse", "rename"]

_IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_JOB_ID = r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$"
_PARAM = r"^[a-z][a-z0-9_]{0,31}$"
_REF_PATTERN = r"^[A-Za-z0-9._/*+-]{1,200}$"  # branch and tag filters: no spaces, quotes or expressions
_ENV_NAME = r"^[A-Za-z0-9][A-Za-z0-9 _./-]{0,63}$"

Name = Annotated[str, Field(pattern=_IDENT, description="Letters, digits, '_', '.', '-'; starts alphanumeric.")]
RefFilter = Annotated[str, Field(pattern=_REF_PATTERN)]
Text = Annotated[str, Field(max_length=500)]


def _text(value: str, what: str) -> str:
    """check_text for validators: pydantic reports a ValueError with the field's location."""
    try:
        return check_text(value, what)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def _parts(template: str) -> list[tuple[str, bool]]:
    try:
        return template_parts(template)
    except InputError as exc:
        raise ValueError(str(exc)) from None



class TemplateArg(Model):
    """One command word built from literal text and `{param}` placeholders (`{{`/`}}` for braces)."""

    template: str = Field(max_length=4096)

    @field_validator("template")
    @classmethod
    def _valid(cls, value: str) -> str:
        _text(value, "A template")
        _parts(value)
        return value


Arg = str | TemplateArg


# A plain string word is written literally (quoted): `${VAR}`, `$VAR` or `{name}` in one is a spec mistake that
# would reach the generated file as text, never as the value the author meant.
_SHELL_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
_LITERAL_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z][a-z0-9_]{0,31})\}(?!\})")


def _check_args(args: list[Arg], what: str) -> None:
    for arg in args:
        if isinstance(arg, str):
            _text(arg, what)
            variable = _SHELL_VARIABLE.search(arg)
            if variable:
                raise ValueError(
                    f"{what} {arg[:80]!r} holds {variable.group()!r}, which would be written literally, not expanded: "
                    "declare a parameter in `params` and write the word as {\"template\": \"...{name}...\"}, or "
                    "set the variable in the command's `env`")
            placeholder = _LITERAL_PLACEHOLDER.search(arg)
            if placeholder:
                raise ValueError(
                    f"{what} {arg[:80]!r} holds {placeholder.group()!r} in a plain string, which is written "
                    f"literally: write {{\"template\": {json.dumps(arg[:80])}}} to substitute the parameter "
                    f"{placeholder.group(1)!r} (declared in `params`), or {{{{ }}}} inside a template for literal "
                    "braces")


def _params_used(args: list[Arg]) -> set[str]:
    used: set[str] = set()
    for arg in args:
        if isinstance(arg, TemplateArg):
            used.update(text for text, is_param in template_parts(arg.template) if is_param)
    return used


class CommandSpec(Model):
    """One command. `argv` words are quoted one by one; `env` sets variables for this command only;
    `unless` is a check command: when it succeeds, the step is already done and is skipped (idempotence)."""

    argv: list[Arg] = Field(min_length=1, max_length=256)
    env: dict[str, Arg] = Field(default_factory=dict)
    unless: list[Arg] | None = Field(default=None, max_length=256)
    source: str | None = Field(default=None, max_length=300, description="Where it came from, e.g. RELEASING.md:12.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            try:
                env, argv = split_command(data)
            except UnsafeCommand as exc:
                raise ValueError(str(exc)) from None
            # In the one-string form a `{name}` placeholder means the parameter (`"git tag v{version}"`): such a
            # word becomes a template, so it is substituted, or refused when `name` is not declared.
            return {"argv": [{"template": w} if _LITERAL_PLACEHOLDER.search(w) else w for w in argv], "env": env}
        return data

    @model_validator(mode="after")
    def _safe(self) -> CommandSpec:
        _check_args(self.argv, "A command word")
        _check_args(list(self.env.values()), "An environment value")
        _check_args(self.unless or [], "An 'unless' check word")
        for name in self.env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"environment name {name!r} is not a valid shell variable name")
        if self.unless is not None and not self.unless:
            raise ValueError("'unless' needs at least one word")
        if self.source is not None:
            _text(self.source, "A command source")
        return self

    def params_used(self) -> set[str]:
        return _params_used([*self.argv, *self.env.values(), *(self.unless or [])])


class ParamSpec(Model):
    """A run-time parameter: a script flag `--name`, a workflow_dispatch input, a make/just variable.

    It reaches commands as the environment variable NAME (upper case), always expanded inside double quotes.
    `pattern` (an extended regular expression) is checked before any step runs.
    """

    name: str = Field(pattern=_PARAM)
    description: Text = ""
    required: bool = True
    default: str | None = Field(default=None, max_length=500)
    pattern: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _check(self) -> ParamSpec:
        _text(self.description, f"The description of parameter {self.name!r}")
        if self.default is not None:
            _text(self.default, f"The default of parameter {self.name!r}")
        if self.pattern is not None:
            _text(self.pattern, f"The pattern of parameter {self.name!r}")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern of parameter {self.name!r} is not a regular expression: {exc}") from None
        return self


class StepSpec(Model):
    """A named step: commands to run, and/or a `manual` instruction a person still has to follow. `only_if` is the
    runbook's condition in words ("the release workflow failed"): a workflow a person starts asks for it as an
    input and runs the step only when it is ticked."""

    name: str = Field(min_length=1, max_length=200)
    commands: list[CommandSpec] = Field(default_factory=list, max_length=100)
    manual: str | None = Field(default=None, max_length=1000)
    source: str | None = Field(default=None, max_length=300)
    only_if: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _check(self) -> StepSpec:
        _text(self.name, "A step name")
        if self.only_if is not None:
            _text(self.only_if, "A step condition")
        if self.manual is not None:
            _text(self.manual, "A manual instruction")
        if self.source is not None:
            _text(self.source, "A step source")
        if not self.commands and not self.manual:
            raise ValueError(f"step {self.name!r} has neither commands nor a manual instruction")
        return self


class _WithParams(Model):
    params: list[ParamSpec] = Field(default_factory=list, max_length=20)

    def _check_params(self, used: set[str]) -> None:
        names = [p.name for p in self.params]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"parameter names repeat: {sorted(dupes)}")
        missing = used - set(names)
        if missing:
            raise ValueError(f"commands use undeclared parameters: {sorted(missing)}")


def _steps_params(steps: list[StepSpec]) -> set[str]:
    return {p for step in steps for command in step.commands for p in command.params_used()}


def _check_cron(expression: str) -> str:
    _text(expression, "A schedule")
    try:
        parse_cron(expression)
    except CronError as exc:
        raise ValueError(f"schedule {expression!r} is not a valid cron expression: {exc}") from None
    return expression


def _check_path(value: str | None) -> str | None:
    if value is None:
        return None
    _text(value, "A file path")
    posix = value.replace("\\", "/")
    if not value or posix.startswith("/") or ".." in posix.split("/") or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f"file path {value!r} must be relative to the repository and stay inside it")
    return value


# ------------------------------------------------------------------ GitHub Actions

PermissionScope = Literal[
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues",
    "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
]


class TriggerSpec(Model):
    """When a workflow runs. `schedule` entries are cron (UTC on GitHub)."""

    push_branches: list[RefFilter] = Field(default_factory=list)
    push_tags: list[RefFilter] = Field(default_factory=list)
    pull_request: bool = False
    pull_request_branches: list[RefFilter] = Field(default_factory=list)
    schedule: list[str] = Field(default_factory=list, max_length=20)
    workflow_dispatch: bool = False

    @field_validator("schedule")
    @classmethod
    def _crons(cls, value: list[str]) -> list[str]:
        return [_check_cron(v) for v in value]

    @model_validator(mode="after")
    def _any(self) -> TriggerSpec:
        if not (self.push_branches or self.push_tags or self.pull_request or self.schedule
                or self.workflow_dispatch):
            raise ValueError("a workflow needs at least one trigger")
        return self


class GitHubJobSpec(Model):
    """A job. `permissions` are granted to this job only (the workflow grants none); `environment` names a
    deployment environment (its required reviewers are set in the repository settings); `branch` limits the
    job to pushes of that branch; `push` says the job pushes commits or tags (checkout keeps credentials)."""

    id: str = Field(pattern=_JOB_ID)
    name: str | None = Field(default=None, max_length=100)
    runs_on: str = Field(default="ubuntu-latest", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    needs: list[str] = Field(default_factory=list)
    steps: list[StepSpec] = Field(min_length=1, max_length=100)
    matrix: dict[str, list[str]] = Field(default_factory=dict)
    timeout_minutes: int = Field(default=30, ge=1, le=360)
    permissions: dict[PermissionScope, Literal["read", "write", "none"]] = Field(
        default_factory=lambda: {"contents": "read"}
    )
    environment: str | None = Field(default=None, pattern=_ENV_NAME)
    branch: RefFilter | None = None
    setup_toolchain: bool = True
    install: bool = True
    cache: bool | None = Field(default=None, description="None: on, except in release/deploy workflows.")
    fetch_depth: int = Field(default=1, ge=0, le=100000)
    push: bool = False

    @model_validator(mode="after")
    def _check(self) -> GitHubJobSpec:
        if self.name is not None:
            _text(self.name, "A job name")
        for key, values in self.matrix.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", key):
                raise ValueError(f"matrix key {key!r} is not a valid name")
            if not values or len(values) > 50:
                raise ValueError(f"matrix key {key!r} needs 1 to 50 values")
            for value in values:
                _text(value, f"A matrix value of {key!r}")
        if self.permissions.get("id-token") == "read":
            raise ValueError("the id-token permission is 'write' or 'none'")
        return self


class GitHubWorkflowSpec(_WithParams):
    """A GitHub Actions workflow file. `params` become workflow_dispatch inputs. `action_pins` maps an action
    (`actions/checkout`) to a full commit SHA to use instead of the built-in pins."""

    kind: Literal["github-workflow"] = "github-workflow"
    name: str = Field(min_length=1, max_length=100)
    file: str | None = None
    triggers: TriggerSpec
    jobs: list[GitHubJobSpec] = Field(min_length=1, max_length=50)
    cancel_in_progress: bool | None = Field(default=None, description="None: cancel only for push/PR checks.")
    action_pins: dict[str, str] = Field(default_factory=dict)
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> GitHubWorkflowSpec:
        _text(self.name, "The workflow name")
        _check_path(self.file)
        ids = [job.id for job in self.jobs]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"job ids repeat: {sorted(dupes)}")
        for job in self.jobs:
            unknown = [n for n in job.needs if n not in ids]
            if unknown:
                raise ValueError(f"job {job.id!r} needs unknown jobs {unknown}")
        _check_acyclic({job.id: job.needs for job in self.jobs})
        for action, sha in self.action_pins.items():
            if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+", action) or not re.fullmatch(r"[0-9a-f]{40}", sha):
                raise ValueError(f"action pin {action!r}: {sha!r} must map owner/name to a 40-hex commit SHA")
        if self.params and not self.triggers.workflow_dispatch:
            raise ValueError("params become workflow_dispatch inputs: set triggers.workflow_dispatch")
        self._check_params({p for job in self.jobs for p in _steps_params(job.steps)})
        return self


def _check_acyclic(graph: dict[str, list[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                raise ValueError(f"jobs depend on each other in a cycle: {' -> '.join([*path, node, nxt])}")
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


# ------------------------------------------------------------------ GitLab CI


class GitLabJobSpec(_WithParams):
    """A GitLab CI job, added to `.gitlab-ci.yml` (or `file`). `when`: `push` runs on branch pipelines,
    `merge_request` on merge request pipelines, `schedule` only in scheduled pipelines, `tag` on tags,
    `manual` waits for a person (and blocks later stages)."""

    kind: Literal["gitlab-ci-job"] = "gitlab-ci-job"
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
    file: str = ".gitlab-ci.yml"
    stage: str = Field(default="test", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    image: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_./:@-]{0,199}$")
    needs: list[str] = Field(default_factory=list)
    steps: list[StepSpec] = Field(min_length=1, max_length=100)
    when: Literal["push", "merge_request", "schedule", "tag", "manual"] = "push"
    branch: RefFilter | None = None
    environment: str | None = Field(default=None, pattern=_ENV_NAME)
    timeout_minutes: int = Field(default=30, ge=1, le=1440)
    cache: bool | None = None
    interruptible: bool = True
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> GitLabJobSpec:
        _check_path(self.file)
        self._check_params(_steps_params(self.steps))
        return self


# ------------------------------------------------------------------ task runners


class MakeTargetSpec(_WithParams):
    """A phony Makefile target appended to `file`. Parameters are make variables given on the command line
    (`make release VERSION=v1.2.3`), read in the recipe from the environment, quoted."""

    kind: Literal["make-target"] = "make-target"
    name: Name
    description: Text = ""
    prerequisites: list[Name] = Field(default_factory=list)
    commands: list[CommandSpec] = Field(min_length=1, max_length=100)
    file: str = "Makefile"
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> MakeTargetSpec:
        _text(self.description, "The description")
        _check_path(self.file)
        self._check_params({p for c in self.commands for p in c.params_used()})
        return self


class JustRecipeSpec(_WithParams):
    """A justfile recipe appended to `file` (default: the repository's justfile). Parameters are recipe
    parameters exported as environment variables (`release $VERSION:`)."""

    kind: Literal["just-recipe"] = "just-recipe"
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
    description: Text = ""
    dependencies: list[str] = Field(default_factory=list)
    commands: list[CommandSpec] = Field(min_length=1, max_length=100)
    file: str | None = None
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> JustRecipeSpec:
        _text(self.description, "The description")
        _check_path(self.file)
        self._check_params({p for c in self.commands for p in c.params_used()})
        return self


class ShellScriptSpec(_WithParams):
    """A bash script: strict mode, `--help`, `--dry-run`, one function per step, `unless` checks that make
    reruns skip finished steps, timestamped logging on stderr. Parameters are `--name VALUE` flags."""

    kind: Literal["shell-script"] = "shell-script"
    name: Name
    description: Text = ""
    steps: list[StepSpec] = Field(min_length=1, max_length=100)
    path: str | None = None
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> ShellScriptSpec:
        _text(self.description, "The description")
        _check_path(self.path)
        self._check_params(_steps_params(self.steps))
        return self


# ------------------------------------------------------------------ schedules and hooks


class CrontabLineSpec(Model):
    """One crontab line appended to `file` (default: the repository's crontab file, else `ops/crontab`).
    `lock_file` wraps the command in `flock -n` so runs never overlap; `log_file` appends its output.
    `directory` is the checkout's absolute path on the host: cron starts in the user's home, so the line runs
    `cd DIRECTORY && command`; without it a relative command cds to a CHANGE-ME placeholder the validator flags."""

    kind: Literal["crontab-line"] = "crontab-line"
    schedule: str
    command: CommandSpec
    comment: Text = ""
    file: str | None = None
    lock_file: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_./-]{1,200}$")
    log_file: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_./-]{1,200}$")
    directory: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_./-]{1,200}$")
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> CrontabLineSpec:
        _check_cron(self.schedule)
        _text(self.comment, "The comment")
        _check_path(self.file)
        if self.command.params_used():
            raise ValueError("a crontab line has no parameters; write the values out")
        return self


class SystemdTimerSpec(Model):
    """A systemd service (Type=oneshot, hardened) and the timer that starts it. Give `schedule` (cron,
    converted to OnCalendar) or `on_calendar` (systemd.time(7)). The command's first word is an absolute path."""

    kind: Literal["systemd-timer"] = "systemd-timer"
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
    description: Text = ""
    command: CommandSpec
    schedule: str | None = None
    on_calendar: str | None = Field(default=None, max_length=200)
    user: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    working_directory: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_./-]{0,200}$")
    directory: str | None = None
    persistent: bool = True
    randomized_delay_sec: int = Field(default=0, ge=0, le=86400)
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> SystemdTimerSpec:
        _text(self.description, "The description")
        _check_path(self.directory)
        if (self.schedule is None) == (self.on_calendar is None):
            raise ValueError("give exactly one of 'schedule' (cron) and 'on_calendar'")
        if self.schedule is not None:
            _check_cron(self.schedule)
        if self.on_calendar is not None:
            _text(self.on_calendar, "on_calendar")
            if not re.fullmatch(r"[A-Za-z0-9 *:,./~+-]+", self.on_calendar):
                raise ValueError(f"on_calendar {self.on_calendar!r} has characters systemd.time(7) does not use")
        first = self.command.argv[0]
        if not isinstance(first, str) or not first.startswith("/"):
            raise ValueError("the command's first word must be an absolute path (systemd does not use a shell)")
        if self.command.params_used() or self.command.env or self.command.unless:
            raise ValueError("a systemd command takes plain words only (no parameters, env or unless)")
        return self


class PreCommitHookSpec(Model):
    """A local pre-commit hook (`repo: local`, `language: system`) added to `.pre-commit-config.yaml`."""

    kind: Literal["pre-commit-hook"] = "pre-commit-hook"
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=100)
    command: CommandSpec
    files: str | None = Field(default=None, max_length=300)
    types: list[str] = Field(default_factory=list)
    pass_filenames: bool = False
    stages: list[Literal["pre-commit", "pre-push", "commit-msg", "manual"]] = Field(
        default_factory=lambda: ["pre-commit"]
    )
    file: str = ".pre-commit-config.yaml"
    on_conflict: OnConflict = "refuse"

    @model_validator(mode="after")
    def _check(self) -> PreCommitHookSpec:
        _text(self.name, "The hook name")
        _check_path(self.file)
        if self.files is not None:
            _text(self.files, "The files pattern")
            try:
                re.compile(self.files)
            except re.error as exc:
                raise ValueError(f"files pattern is not a regular expression: {exc}") from None
        for t in self.types:
            if not re.fullmatch(r"[a-z0-9_-]{1,40}", t):
                raise ValueError(f"file type {t!r} is not an identify tag")
        if self.command.params_used() or self.command.env or self.command.unless:
            raise ValueError("a pre-commit entry takes plain words only (no parameters, env or unless)")
        return self


class CICacheSpec(Model):
    """Add a dependency cache to `jobs` of the existing GitHub workflow `file` (see `cicache`): the change a
    `repeated-ci-work` cache opportunity suggests. The file is edited in place, line by line."""

    kind: Literal["ci-cache"] = "ci-cache"
    file: str
    jobs: list[str] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _check(self) -> CICacheSpec:
        _check_path(self.file)
        for job in self.jobs:
            if not re.fullmatch(_JOB_ID, job):
                raise ValueError(f"job id {job[:80]!r} is not a valid GitHub job id")
        return self


class ProcedureSpec(Model):
    """Turn a ManualProcedure found by `scan` (its id) into a script or a workflow job.

    With `version_param`, the version the runbook uses as its example (`v1.4.0`) becomes the `version`
    parameter everywhere it appears."""

    kind: Literal["procedure"] = "procedure"
    procedure: str = Field(min_length=1, max_length=4096)  # a path and its heading slug, as list_manual_procedures
    target: Literal["shell-script", "github-workflow"] = "shell-script"
    name: Name | None = None
    version_param: bool = True
    skip_unsafe: bool = Field(default=False, description="Keep commands with shell operators, and steps whose text "
                              "cannot be copied, as manual steps.")
    on_conflict: OnConflict = "refuse"


Spec = (
    GitHubWorkflowSpec | GitLabJobSpec | MakeTargetSpec | JustRecipeSpec | ShellScriptSpec | CrontabLineSpec
    | SystemdTimerSpec | PreCommitHookSpec | ProcedureSpec | CICacheSpec
)

SPEC_TYPES: dict[str, type[Model]] = {
    "github-workflow": GitHubWorkflowSpec,
    "gitlab-ci-job": GitLabJobSpec,
    "make-target": MakeTargetSpec,
    "just-recipe": JustRecipeSpec,
    "shell-script": ShellScriptSpec,
    "crontab-line": CrontabLineSpec,
    "systemd-timer": SystemdTimerSpec,
    "pre-commit-hook": PreCommitHookSpec,
    "procedure": ProcedureSpec,
    "ci-cache": CICacheSpec,
}
KINDS = tuple(SPEC_TYPES)
MAX_SPEC_ERRORS = 10


def parse_spec(kind: str, data: Any) -> Spec:
    """The spec model for `kind` built from `data`; InputError listing each problem with its location."""
    model = SPEC_TYPES.get(kind)
    if model is None:
        raise InputError(f"Unknown automation kind {kind!r}; choose one of: {', '.join(KINDS)}.")
    if isinstance(data, Model):
        data = data.model_dump(mode="json", exclude_none=True)
    if not isinstance(data, dict):
        raise InputError(f"A {kind} spec must be a mapping of fields, not {type(data).__name__}.")
    given = data.get("kind")
    if given is not None and given != kind:
        raise InputError(f"The spec says kind {given!r} but {kind!r} was asked for.")
    try:
        return model.model_validate({**data, "kind": kind})  # type: ignore[return-value]
    except ValidationError as exc:
        raise InputError(_describe(kind, exc)) from None
    except InputError as exc:  # raised by shellsafe checks inside validators that pydantic does not wrap
        raise InputError(f"Invalid {kind} spec: {exc}") from None


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at `loc` below `model` (list indexes, dict keys and pydantic's union
    tags skipped): what an unknown field at that place could have been."""
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            continue  # an index, a dict key or a union member's tag: the same model, one level down
        inner = [t for t in _models_in(field.annotation) if t is not model]
        if inner:
            model = inner[0]
    return [name for name in model.model_fields if name != "kind"]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _unknown_field(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    allowed = _fields_at(model, loc[:-1])
    given = str(loc[-1])
    close = difflib.get_close_matches(given, allowed, n=1, cutoff=0.5) or [
        name for name in allowed if given.startswith(name) or name.startswith(given)]  # environment -> env
    hint = f"did you mean `{close[0]}`? " if close else ""
    return f"unknown field; {hint}the fields here are: {', '.join(allowed)}"


def _describe(kind: str, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors()[:MAX_SPEC_ERRORS]:
        where = ".".join(str(part) for part in error["loc"]) or "(top)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = _unknown_field(SPEC_TYPES[kind], error["loc"])
        lines.append(f"  {where}: {message}")
    more = exc.error_count() - MAX_SPEC_ERRORS
    if more > 0:
        lines.append(f"  ... and {more} more")
    return f"Invalid {kind} spec ({exc.error_count()} problem{'s' if exc.error_count() != 1 else ''}):\n" + "\n".join(
        lines
    )
