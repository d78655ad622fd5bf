"""GitHub Actions workflow generator.

What every generated workflow has, and why:

* `permissions: {}` at the top and each job's own grants (least privilege; zizmor `excessive-permissions`);
* actions pinned to full commit SHAs with the version as a comment (zizmor `unpinned-uses`); pins come from
  the spec's `action_pins`, else a SHA pin the repository already uses, else the table below;
* `persist-credentials: false` on checkout unless the job pushes (zizmor `artipacked`);
* no dependency cache in workflows that run on tags or deploy to an environment (zizmor `cache-poisoning`);
* `concurrency` per workflow and ref; `timeout-minutes` on every job; `defaults.run.shell: bash` (which
  GitHub runs as `bash --noprofile --norc -eo pipefail {0}`);
* parameters are workflow_dispatch inputs passed through `env:` and read as `"${NAME}"`: no `${{ }}`
  expression ever appears inside a `run:` script (zizmor `template-injection`).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InputError
from .artifact import HEADER, Artifact, Generated
from .context import RepoContext, unique_name, unique_path
from .credentials import needs
from .shellsafe import env_name, quote_word, render_command
from .spec import CommandSpec, GitHubJobSpec, GitHubWorkflowSpec, ParamSpec, StepSpec
from .yamlout import Quoted, dump

# Pins checked against the upstream tags (2026-11): checkout v4.3.1 and setup-python v5.6.0 were matched by
# `git ls-remote` in public reviews; the others are the SHAs that many public workflows pin for these tags.
# Re-check with `git ls-remote https://github.com/<action> refs/tags/<version>` before trusting a new one.
ACTION_PINS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("34e114876b0b11c390a56381ad16ebd13914f8d5", "v4.3.1"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/setup-node": ("49933ea5288caeca8642d1e84afbd3f7d6820020", "v4.4.0"),
    "actions/setup-go": ("0a12ed9d6a96ab950c8f026ed9f722fe0da7ef32", "v5.0.2"),
    "actions/setup-java": ("c5195efecf7bdfc987ee8bae7a71cb8b11521c00", "v4.7.1"),
    "actions/cache": ("0c45773b623bea8c8e75f6c82b208c3cf94ea4f9", "v4.0.2"),
}
_SHA_USE = re.compile(r"^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)@([0-9a-f]{40})$")


def slug(text: str) -> str:
    """A file-name-safe lower-case slug: 'Cutting a release' -> 'cutting-a-release'."""
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:60].strip("-") or "automation"


class _Pins:
    """Resolves `owner/action` to `owner/action@sha` and remembers the version comment to add."""

    def __init__(self, ctx: RepoContext, spec: GitHubWorkflowSpec) -> None:
        self.spec_pins = spec.action_pins
        self.repo_pins: dict[str, str] = {}
        for pipeline in ctx.inventory.pipelines:
            for job in pipeline.jobs:
                for step in job.steps:
                    match = _SHA_USE.match(step.uses or "")
                    if match:
                        self.repo_pins.setdefault(match.group(1), match.group(2))
        self.comments: dict[str, str] = {}
        self.sources: dict[str, str] = {}

    def use(self, action: str) -> str:
        if action in self.spec_pins:
            sha, comment, source = self.spec_pins[action], "pinned by the spec", "spec"
        elif action in self.repo_pins:
            sha, comment, source = self.repo_pins[action], "pin already used in this repository", "repository"
        else:
            sha, version = ACTION_PINS[action]
            comment, source = version, "built-in"
        ref = f"{action}@{sha}"
        self.comments[ref] = comment
        self.sources[action] = source
        return ref


def generate_github_workflow(ctx: RepoContext, spec: GitHubWorkflowSpec) -> Generated:
    notes: list[str] = []
    name, note = unique_name(spec.name, ctx.workflow_names(), spec.on_conflict, "Workflow name", sep=" ")
    if note:
        notes.append(note)
    path, note = unique_path(ctx, spec.file or f".github/workflows/{slug(spec.name)}.yml", spec.on_conflict,
                             "Workflow file")
    if note:
        notes.append(note)
    if not re.match(r"^\.github/workflows/[^/]+\.ya?ml$", path):
        raise InputError(f"Workflow file '{path}' must be .github/workflows/<name>.yml for GitHub to run it.")
    existing_jobs = ctx.github_job_ids()
    for job in spec.jobs:
        if job.id in existing_jobs:
            notes.append(f"Job id '{job.id}' also exists in {existing_jobs[job.id]}; both show up as checks.")
    release_like = bool(spec.triggers.push_tags) or any(job.environment for job in spec.jobs)
    pins = _Pins(ctx, spec)

    workflow: dict[str, Any] = {"name": name, "on": _triggers(spec)}
    workflow["permissions"] = {}
    checks_only = not release_like and (spec.triggers.pull_request or bool(spec.triggers.push_branches))
    cancel = spec.cancel_in_progress if spec.cancel_in_progress is not None else checks_only
    workflow["concurrency"] = {"group": f"{slug(name)}-${{{{ github.ref }}}}", "cancel-in-progress": cancel}
    workflow["defaults"] = {"run": {"shell": "bash"}}
    jobs: dict[str, Any] = {}
    for job in spec.jobs:
        jobs[job.id] = _job(ctx, spec, job, pins, release_like, notes)
    workflow["jobs"] = jobs

    tc = ctx.toolchain
    header = [f"{HEADER}: {name}.", "Review it before committing; re-run `orchestrator-kit validate` after edits."]
    if tc.evidence:
        header.append(f"Toolchain: {tc.language} ({tc.package_manager}), detected from {tc.evidence}.")
    manual = [step for job in spec.jobs for step in job.steps if step.manual]
    for step in manual:
        same = (step.manual or "").rstrip(".") == step.name.rstrip(".")
        header.append(f"Manual: {step.manual}" if same else f"Manual: {step.name}: {step.manual}")
    body = dump(workflow, spaced_keys=("jobs",))
    for ref, comment in pins.comments.items():
        body = body.replace(f"uses: {ref}\n", f"uses: {ref} # {comment}\n")
    content = "".join(f"# {line}\n" for line in header) + "\n" + body
    if "built-in" in pins.sources.values():
        notes.append("Actions are pinned to commit SHAs from orchestrator-kit's table (checked 2026-11); "
                     "Dependabot or Renovate can keep them current.")
    effective = spec.model_copy(update={"name": name, "file": path})
    return Generated([Artifact(path, "github-workflow", "create", content, content)], effective, notes + list(tc.notes))


def _triggers(spec: GitHubWorkflowSpec) -> dict[str, Any]:
    t = spec.triggers
    on: dict[str, Any] = {}
    push: dict[str, Any] = {}
    if t.push_branches:
        push["branches"] = list(t.push_branches)
    if t.push_tags:
        push["tags"] = list(t.push_tags)
    if push:
        on["push"] = push
    if t.pull_request:
        on["pull_request"] = {"branches": list(t.pull_request_branches)} if t.pull_request_branches else None
    if t.schedule:
        on["schedule"] = [{"cron": Quoted(c)} for c in t.schedule]
    if t.workflow_dispatch:
        inputs = {p.name: _input(p) for p in spec.params}
        for name, step in conditions(spec).items():
            inputs[name] = {"description": _short("Run this step only if: " + (step.only_if or ""), 200),
                            "required": False, "type": "boolean", "default": False}
        for name, step in confirmations(spec).items():
            inputs[name] = {"description": _short("Done by hand: " + (step.manual or ""), 200), "required": True,
                            "type": "boolean", "default": False}
        on["workflow_dispatch"] = {"inputs": inputs} if inputs else None
    return on


def approved(spec: GitHubWorkflowSpec) -> dict[int, tuple[int, str]]:
    """id(step) -> (the approvals the run must have recorded, the environment) for each hand step confirmed by an
    environment approval: the leading hand steps of a job that waits for other jobs and runs in an environment (its
    reviewers approve once the step is done). The k-th job of a chain of jobs in the environment needs k approvals."""
    out: dict[int, tuple[int, str]] = {}
    for job in spec.jobs:
        if not (job.environment and job.needs):
            continue
        count = 1 + _depth(spec, job)
        for step in job.steps:
            if step.commands or not step.manual:
                break
            out[id(step)] = (count, job.environment)
    return out


def _depth(spec: GitHubWorkflowSpec, job: GitHubJobSpec) -> int:
    """How many jobs in `job`'s environment come before it along its `needs` (each waited for an approval)."""
    by_id = {j.id: j for j in spec.jobs}
    seen: set[str] = set()
    stack = list(job.needs)
    while stack:
        current = stack.pop()
        if current not in seen and current in by_id:
            seen.add(current)
            stack.extend(by_id[current].needs)
    return sum(1 for j in seen if by_id[j].environment == job.environment)


def confirmations(spec: GitHubWorkflowSpec) -> dict[str, StepSpec]:
    """The required confirmation input of every manual step of a workflow a person starts (workflow_dispatch):
    `confirm_step_N` in order. The step fails unless the person ticked it, so a manual step is never skipped. A hand
    step an environment approval confirms (`approved`) needs no input."""
    if not spec.triggers.workflow_dispatch:
        return {}
    gated = approved(spec)
    manual = [step for job in spec.jobs for step in job.steps if step.manual and id(step) not in gated]
    return {f"confirm_step_{n}": step for n, step in enumerate(manual, start=1)}


def conditions(spec: GitHubWorkflowSpec) -> dict[str, StepSpec]:
    """The `run_step_N` input of every conditional step (`only_if`) of a workflow a person starts."""
    if not spec.triggers.workflow_dispatch:
        return {}
    conditional = [step for job in spec.jobs for step in job.steps if step.only_if]
    return {f"run_step_{n}": step for n, step in enumerate(conditional, start=1)}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _input(param: ParamSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"description": param.description or param.name, "required": param.required,
                           "type": "string"}
    if param.default is not None:
        out["default"] = param.default
    return out


def _job(ctx: RepoContext, spec: GitHubWorkflowSpec, job: GitHubJobSpec, pins: _Pins, release_like: bool,
         notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if job.name:
        out["name"] = job.name
    out["runs-on"] = job.runs_on
    if job.needs:
        out["needs"] = list(job.needs)
    if job.branch:
        out["if"] = f"github.ref == 'refs/heads/{job.branch}'"
    if job.environment:
        out["environment"] = job.environment
        notes.append(f"Job '{job.id}' deploys to environment '{job.environment}': add required reviewers to it "
                     "in Settings > Environments so the job waits for approval.")
    out["timeout-minutes"] = job.timeout_minutes
    out["permissions"] = dict(job.permissions)
    if job.matrix:
        out["strategy"] = {"fail-fast": False,
                           "matrix": {k: [Quoted(x) for x in v] for k, v in job.matrix.items()}}
    params = [p.name for p in spec.params]
    confirm = {id(step): name for name, step in confirmations(spec).items() if step in job.steps}
    only = {id(step): name for name, step in conditions(spec).items() if step in job.steps}
    if params or confirm:
        ref_fallback = bool(spec.triggers.push_tags)
        out["env"] = {
            env_name(p): (f"${{{{ inputs.{p} || github.ref_name }}}}" if p == "version" and ref_fallback
                          else f"${{{{ inputs.{p} }}}}")
            for p in params
        } | {env_name(name): f"${{{{ inputs.{name} }}}}" for name in confirm.values()}
    steps: list[dict[str, Any]] = []
    checkout: dict[str, Any] = {"name": "Check out", "uses": pins.use("actions/checkout")}
    with_: dict[str, Any] = {"persist-credentials": job.push}
    if job.fetch_depth != 1:
        with_["fetch-depth"] = job.fetch_depth
    checkout["with"] = with_
    steps.append(checkout)
    if job.push:
        notes.append(f"Job '{job.id}' pushes, so its checkout keeps the token in .git/config (persist-credentials).")
    cache = job.cache if job.cache is not None else not release_like
    if job.cache is None and release_like and job.setup_toolchain:
        notes.append(f"Job '{job.id}': dependency caching is off because the workflow runs on tags or deploys "
                     "(a poisoned cache could reach a release; zizmor cache-poisoning).")
    if job.setup_toolchain:
        steps.extend(_setup(ctx, job, pins, cache))
    if spec.params:
        check = _param_check(spec.params)
        if check:
            steps.append({"name": "Check parameters", "run": check})
    if job.install and ctx.toolchain.install:
        steps.append({"name": "Install dependencies", "run": " ".join(quote_word(w) for w in ctx.toolchain.install)})
    if job.push:
        steps.append({"name": "Set the git identity", "run": (
            "git config user.name 'github-actions[bot]'\n"
            "git config user.email '41898282+github-actions[bot]@users.noreply.github.com'\n")})
    filled: dict[str, list[str]] = {}
    gates = approved(spec)
    if any(id(step) in gates for step in job.steps):
        out["permissions"]["actions"] = "read"  # to read the run's approvals (the check below)
    for step in job.steps:
        rendered = _step(step, params, confirm.get(id(step))) if id(step) not in gates else \
            _approved_step(step, *gates[id(step)])
        if rendered:
            rendered = _with_credentials(ctx, job, step, rendered, out["permissions"], filled, notes)
        if rendered and id(step) in only:
            rendered = {"name": rendered["name"], "if": f"${{{{ inputs.{only[id(step)]} }}}}",
                        **{k: v for k, v in rendered.items() if k != "name"}}
        elif rendered and step.only_if:
            notes.append(f"Step '{step.name}' runs only if {step.only_if} in the runbook: with no workflow_dispatch "
                         "input to ask for it, it runs every time; review it.")
        if rendered:
            steps.append(rendered)
    out["steps"] = steps
    for name, uses in filled.items():
        where = f"a secret of the environment '{job.environment}' (Settings > Environments)" if job.environment \
            else "a repository secret (Settings > Secrets and variables > Actions)"
        notes.append(f"Fill in: {name} in job '{job.id}', {where}: {uses[0]}; needed by {'; '.join(uses[1:])}.")
    return out


def _with_credentials(ctx: RepoContext, job: GitHubJobSpec, step: StepSpec, rendered: dict[str, Any],
                      permissions: dict[str, str], filled: dict[str, list[str]], notes: list[str]) -> dict[str, Any]:
    """The step with the credentials its commands need (see `credentials`): their variables in the step's own
    `env` (never the job's: only the step that uses a secret sees it) and the lines that set them up first."""
    found = needs(ctx, [[w if isinstance(w, str) else w.template for w in c.argv] for c in step.commands])
    if not found.credentials:
        return rendered
    env: dict[str, str] = {}
    setup: list[str] = []
    for credential in found.credentials:
        env.update(credential.github_env)
        setup.extend(credential.github_setup)
        for name in credential.placeholders:
            uses = filled.setdefault(name, [credential.purpose])
            uses.append(f"{found.why[credential.key]} in step '{_short(step.name, 60)}'")
        for scope, level in credential.permissions.items():
            if permissions.get(scope) not in (level, "write"):
                permissions[scope] = level
                notes.append(f"Job '{job.id}' gets {scope}: {level} for {found.why[credential.key]}.")
    run = str(rendered["run"])
    head, _, rest = run.partition("\n") if run.startswith("# from ") else ("", "", run)
    body = "\n".join([*([head] if head else []), *(["# credentials (see the step's env)", *setup] if setup else []),
                      rest])
    return {"name": rendered["name"], "env": env, "run": body}


def _setup(ctx: RepoContext, job: GitHubJobSpec, pins: _Pins, cache: bool) -> list[dict[str, Any]]:
    tc = ctx.toolchain
    matrix_key = next((k for k in job.matrix if k in (tc.language, f"{tc.language}-version")), None)
    version: str | None = f"${{{{ matrix.{matrix_key} }}}}" if matrix_key else tc.version
    if tc.language == "python":
        with_: dict[str, Any] = {}
        if tc.version_file and not matrix_key:
            with_["python-version-file"] = tc.version_file
        else:
            with_["python-version"] = Quoted(version) if version and not matrix_key else version
        if cache and tc.package_manager in ("pip", "pipenv", "poetry"):
            with_["cache"] = tc.package_manager
        steps = [{"name": "Set up Python", "uses": pins.use("actions/setup-python"), "with": with_}]
        if tc.package_manager in ("uv", "poetry", "pipenv"):
            steps.append({"name": f"Install {tc.package_manager}", "run": f"pipx install {tc.package_manager}"})
        return steps
    if tc.language == "node":
        with_ = {}
        if tc.version_file and not matrix_key:
            with_["node-version-file"] = tc.version_file
        else:
            with_["node-version"] = version
        if cache and tc.lockfile:
            with_["cache"] = tc.package_manager
        steps = [{"name": "Set up Node.js", "uses": pins.use("actions/setup-node"), "with": with_}]
        if tc.package_manager in ("pnpm", "yarn"):
            steps.insert(0, {"name": "Enable corepack", "run": "corepack enable"})
        return steps
    if tc.language == "go":
        return [{"name": "Set up Go", "uses": pins.use("actions/setup-go"),
                 "with": {"go-version-file": "go.mod", "cache": cache}}]
    if tc.language == "java":
        with_ = {"distribution": "temurin", "java-version": version or "21"}
        if cache:
            with_["cache"] = tc.package_manager
        return [{"name": "Set up Java", "uses": pins.use("actions/setup-java"), "with": with_}]
    if tc.language == "rust" and cache:
        return [{"name": "Cache cargo", "uses": pins.use("actions/cache"), "with": {
            "path": "~/.cargo/registry\n~/.cargo/git\ntarget\n",
            "key": "${{ runner.os }}-cargo-${{ hashFiles('**/Cargo.lock') }}"}}]
    return []


def _param_check(params: list[ParamSpec]) -> str:
    lines: list[str] = []
    for p in params:
        var = env_name(p.name)
        if p.required:
            lines.append(f'if [ -z "${{{var}}}" ]; then echo "::error::input {p.name} is required"; exit 1; fi')
        if p.pattern:
            lines.append(f"pattern={quote_word(p.pattern)}")
            lines.append(f'if [[ -n "${{{var}}}" && ! "${{{var}}}" =~ $pattern ]]; then')
            lines.append(f'  echo "::error::input {p.name} does not match $pattern"; exit 1')
            lines.append("fi")
    return "\n".join(lines) + "\n" if lines else ""


def _step(step: StepSpec, params: list[str], confirm: str | None = None) -> dict[str, Any] | None:
    lines: list[str] = []
    if step.source:
        lines.append(f"# from {step.source}")
    for command in step.commands:
        lines.extend(command_lines(command, params))
    if step.manual and confirm:  # a required input the person ticks when starting the run; else the run stops
        var = env_name(confirm)
        lines.append(f'if [ "${{{var}}}" != "true" ]; then')
        message = f"::error::Manual step not confirmed (input {confirm}): {step.manual}"
        lines.append(f"  echo {quote_word(message)}")
        lines.append("  exit 1")
        lines.append("fi")
        lines.append(f"echo {quote_word('::notice::Confirmed by hand: ' + step.manual)}")
    elif step.manual:
        lines.append(f"echo {quote_word('::notice::Manual step: ' + step.manual)}")
    if not lines:
        return None
    return {"name": step.name, "run": "\n".join(lines) + "\n"}


def _approved_step(step: StepSpec, approvals: int, environment: str) -> dict[str, Any]:
    """A hand step confirmed by the environment's approval of this job: the job checks that the run has recorded
    `approvals` approvals of the environment (the jobs before it waited for theirs), so an environment without
    required reviewers, which starts the job at once, stops it instead of skipping the hand step."""
    query = (f'[.[] | select(.state == "approved") | select(any(.environments[]; .name == "{environment}"))] '
             "| length")
    stop = (f"::error::No approval of the environment {environment} recorded for this job: give it required "
            f"reviewers (Settings > Environments) and approve once this is done by hand: {step.manual}")
    lines = [f"# from {step.source}"] if step.source else []
    lines += ['approvals=$(gh api "repos/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/approvals" '
              f"--jq {quote_word(query)})",
              f'if [ "${{approvals:-0}}" -lt {approvals} ]; then',
              f"  echo {quote_word(stop)}",
              "  exit 1",
              "fi",
              f"echo {quote_word('::notice::Done by hand, approved before this job: ' + (step.manual or ''))}"]
    return {"name": step.name, "env": {"GH_TOKEN": "${{ github.token }}"}, "run": "\n".join(lines) + "\n"}


def command_lines(command: CommandSpec, params: list[str]) -> list[str]:
    """A command as shell lines; with `unless`, it runs only when the check command fails."""
    text = render_command(command.argv, params, command.env)
    if command.unless is None:
        return [text]
    check = render_command(command.unless, params)
    return [f"if {check} >/dev/null 2>&1; then", "  echo 'skip: already done'", "else", f"  {text}", "fi"]
