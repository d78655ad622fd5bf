"""GitLab CI job generator: one job appended to `.gitlab-ci.yml` (or created with it).

The job gets `rules` for when it runs, `timeout`, `interruptible`, an `environment` for deploys (protect it
in Settings > CI/CD > Protected environments to require approval), a dependency cache keyed by the lock file
for the detected toolchain (off for tag and deploy jobs), and parameters as job variables holding their defaults
(plain values: GitLab's schema allows `description` only on top-level variables), read in the script as `"${NAME}"`.

A manual step (a runbook's hand step) is a manual job of its own, `NAME:confirm-N` (`when: manual` in its rules,
`allow_failure: false`): a person runs it once the step is done, and the steps after it are a job `NAME:K` that
needs it, so they wait; a blocking manual job also holds the later stages. A step done only `if ...` stays in the
script behind the pipeline variable `RUN_STEP_N`.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..yamlsrc import YamlError, load_yaml_documents
from .artifact import HEADER, Artifact, Generated, append_block
from .context import RepoContext, Toolchain, unique_name
from .credentials import Needs, needs
from .shellsafe import env_name, quote_word, render_command
from .spec import GitLabJobSpec, StepSpec
from .tasks import _param_checks
from .yamlout import dump

DEFAULT_STAGES = [".pre", "build", "test", "deploy", ".post"]  # GitLab's stages when a file declares none


def generate_gitlab_job(ctx: RepoContext, spec: GitLabJobSpec) -> Generated:
    notes: list[str] = []
    existing = ctx.read(spec.file) or ""
    top_keys: set[str] = set()
    declared_stages: list[str] = []
    if existing.strip():
        try:
            documents = load_yaml_documents(existing)
        except YamlError as exc:
            raise InputError(f"{spec.file} is not valid YAML ({exc}); fix it before adding a job.") from None
        documents = [d for d in documents if d is not None]
        if len(documents) != 1 or not isinstance(documents[0], dict):
            raise InputError(f"{spec.file} is not one YAML mapping; a job cannot be appended to it safely.")
        top_keys = {str(k) for k in documents[0]}
        stages = documents[0].get("stages")
        if isinstance(stages, list):
            declared_stages = [str(s) for s in stages]
    taken = top_keys | ctx.gitlab_jobs(spec.file)
    name, note = unique_name(spec.name, taken, spec.on_conflict, f"Job of {spec.file}")
    suffixes = _part_suffixes(_pieces(spec.steps))
    blocked = set(taken)
    while spec.on_conflict == "rename" and any(name + suffix in taken for suffix in suffixes):
        # A part's name is taken (the file has `ship:2`): with rename, the whole job takes the next free name,
        # as when its own name is taken (it was refused even with on_conflict: rename).
        part = next(name + suffix for suffix in suffixes if name + suffix in taken)
        blocked.add(name)
        name, _ = unique_name(spec.name, blocked, "rename", f"Job of {spec.file}")
        note = f"Job of {spec.file} {part!r} (a part of job {spec.name!r}) already exists; this one is named {name!r}."
    if note:
        notes.append(note)
    allowed = declared_stages or DEFAULT_STAGES
    if spec.stage not in allowed:
        raise InputError(f"Stage {spec.stage!r} is not one of the stages of {spec.file}: {', '.join(allowed)}.")
    jobs = ctx.gitlab_jobs(spec.file) | (top_keys - {"stages", "variables", "default", "include", "workflow"})
    unknown = [n for n in spec.needs if n not in jobs]
    if unknown:
        raise InputError(f"Job {name!r} needs {unknown}, which are not jobs of {spec.file}.")
    if spec.branch and "*" in spec.branch:
        raise InputError("A GitLab job's branch must be an exact name (rules compare with ==).")

    tc = ctx.toolchain
    image = _image(tc)
    rules = _rules(spec)
    if spec.environment:
        notes.append(f"Job {name!r} deploys to {spec.environment!r}: make it a protected environment with "
                     "required approvals (Settings > CI/CD) so the job waits for a person.")
    variables: dict[str, Any] = {}
    # A job's variables are plain values in GitLab's schema: `value`/`description` objects are only valid in the
    # top-level `variables`, which an appended job must not rewrite. A parameter with a default gets it here; one
    # without is checked in before_script and must be set when the pipeline is run.
    for p in spec.params:
        if p.default is not None:
            variables[env_name(p.name)] = p.default
    if spec.params:
        notes.append(f"Job {name!r} reads {', '.join(env_name(p.name) for p in spec.params)} from pipeline variables: "
                     "set them in Run pipeline (or a schedule's variables) to override the defaults.")
    cache_on = spec.cache if spec.cache is not None else not (spec.environment or spec.when == "tag")
    cache_vars, cache, install = _cache(tc)
    if cache_on and cache:
        variables.update(cache_vars)
    found = needs(ctx, [[w if isinstance(w, str) else w.template for w in c.argv] for s in spec.steps
                        for c in s.commands])
    for credential in found.credentials:
        variables.update(credential.gitlab_variables)
    params = [p.name for p in spec.params]
    before = _param_checks(spec.params, lambda p: f"run the pipeline with the variable {env_name(p.name)} set")
    before.extend(_credential_lines(found, name, notes))
    if install:
        before.append(" ".join(quote_word(w) for w in install))

    def automated(steps: list[StepSpec], after: str | None, runs: int) -> tuple[dict[str, Any], list[str], int]:
        """The job that runs `steps`: the first job keeps the spec's needs and rules; a later one needs the job
        before it and runs once that is done (a manual spec's person started the first job already)."""
        job: dict[str, Any] = {"stage": spec.stage}
        if image:
            job["image"] = image
        if after or spec.needs:
            job["needs"] = [after] if after else list(spec.needs)
        job["rules"] = _then(rules, "on_success") if after else rules
        if spec.when == "manual" and not after:
            job["allow_failure"] = False  # a manual job that blocks the later stages until someone runs it
        if spec.environment:
            job["environment"] = {"name": spec.environment}
        job["timeout"] = f"{spec.timeout_minutes} minutes"
        job["interruptible"] = spec.interruptible and not spec.environment
        if cache_on and cache:
            job["cache"] = cache
        if variables:
            job["variables"] = variables
        if before:
            job["before_script"] = before
        job["script"], asked, runs = _script(steps, params, runs)
        return job, asked, runs

    out: dict[str, dict[str, Any]] = {}
    asked: list[str] = []
    runs = 0
    confirmed: list[str] = []
    for piece in _pieces(spec.steps):
        after = list(out)[-1] if out else None
        if isinstance(piece, str):
            # The whole name, never a prefix: a cut name could name the job itself (an 82-character name ending
            # in ':2' named its own third part). At most 100 + 13 characters, under GitLab's 255.
            job_name = f"{name}:confirm-{len(confirmed) + 1}"
            confirmed.append(job_name)
            out[job_name] = _confirm_job(spec, piece, after, rules)
            continue
        automated_jobs = len(out) - len(confirmed)
        job_name = name if automated_jobs == 0 else f"{name}:{automated_jobs + 1}"
        out[job_name], more, runs = automated(piece, after, runs)
        asked += more
    clash = sorted((set(out) - {name}) & taken)
    if clash:
        raise InputError(f"Job {clash[0]!r} (a part of job {name!r}) is already in {spec.file}; choose another "
                         "name, or pass on_conflict: rename.")
    if asked:
        notes.append(f"Job {name!r} keeps the runbook's conditional steps: set {', '.join(asked)} to true in Run "
                     "pipeline to run them (a conditional step runs only when asked).")
    if confirmed:
        notes.append(f"The runbook's manual steps are manual jobs ({', '.join(confirmed)}): a person runs each one "
                     "once the step is done, and the jobs after it wait (allow_failure: false, so later stages "
                     "wait too). Each job starts from a fresh checkout: a change a job makes to its files is not "
                     "seen by the next.")
    header = f"job {name}" if len(out) == 1 else f"jobs {', '.join(out)}"
    block = f"# {HEADER}: {header}.\n" + dump(out)
    content = append_block(existing, block)
    if not existing:
        notes.append(f"{spec.file} does not exist yet; it is created with this job.")
    effective = spec.model_copy(update={"name": name})
    return Generated([Artifact(spec.file, "gitlab-ci", "append" if existing else "create", content, block,
                               base=existing or None)], effective, notes + list(tc.notes))


def _pieces(steps: list[StepSpec]) -> list[list[StepSpec] | str]:
    """The steps in order as runs of automated steps and manual instructions (a step with commands and an
    instruction gives both: its commands run first, as in the runbook)."""
    pieces: list[list[StepSpec] | str] = []
    for step in steps:
        if step.commands:
            run = step.model_copy(update={"manual": None})
            if pieces and not isinstance(pieces[-1], str):
                pieces[-1].append(run)
            else:
                pieces.append([run])
        if step.manual and step.only_if:
            # A job cannot be left out of the pipeline by a variable without breaking the `needs` after it, so the
            # hand step of a conditional step stays a job to run either way, and says when it is to be done (the
            # condition was dropped: the job read as a step to do every time).
            pieces.append(f"only if {step.only_if}: {step.manual} (if not, run this job to go on)")
        elif step.manual:
            pieces.append(step.manual)
    return pieces


def _part_suffixes(pieces: list[list[StepSpec] | str]) -> list[str]:
    """The suffixes the job's parts add to its name, as the loop in generate_gitlab_job names them."""
    suffixes: list[str] = []
    confirms = automated = 0
    for piece in pieces:
        if isinstance(piece, str):
            confirms += 1
            suffixes.append(f":confirm-{confirms}")
        else:
            automated += 1
            if automated > 1:
                suffixes.append(f":{automated}")
    return suffixes


def _then(rules: list[dict[str, Any]], when: str) -> list[dict[str, Any]]:
    """The rules with their `when` replaced: a part of the job runs in the same pipelines as its first part."""
    return [{**{k: v for k, v in rule.items() if k != "when"}, "when": when} for rule in rules]


def _confirm_job(spec: GitLabJobSpec, instruction: str, after: str | None, rules: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    """A manual job for a hand step: a person runs it once the step is done. `allow_failure: false` makes it
    blocking (the jobs that need it, and later stages, wait); it needs no checkout, it only records the step."""
    job: dict[str, Any] = {"stage": spec.stage}
    if after or spec.needs:
        job["needs"] = [after] if after else list(spec.needs)
    job["rules"] = _then(rules, "manual")
    job["allow_failure"] = False
    job["variables"] = {"GIT_STRATEGY": "none"}
    job["script"] = [f"echo {quote_word('Confirmed by hand: ' + instruction)}"]
    return job


def _credential_lines(found: Needs, job: str, notes: list[str]) -> list[str]:
    """before_script lines that stop with a clear message when a credential variable is empty, then set it up;
    a note per CI/CD variable to create (the names in `variables` are placeholders until filled)."""
    lines: list[str] = []
    for credential in found.credentials:
        for variable in credential.gitlab_variables:
            message = (f"{variable} is empty: create the CI/CD variable it is set from in the variables of this job "
                       f"({credential.purpose}; Settings > CI/CD > Variables)")
            lines.append(f'if [ -z "${{{variable}:-}}" ]; then echo {quote_word(message)}; exit 1; fi')
        lines.extend(credential.gitlab_setup)
        for name in credential.gitlab_placeholders:
            notes.append(f"Fill in: CI/CD variable {name} for job {job!r}: {credential.purpose}, for "
                         f"{found.why[credential.key]}.")
    return lines


def _script(steps: list[StepSpec], params: list[str], runs: int) -> tuple[list[str], list[str], int]:
    """The job's script lines, the pipeline variables a person sets, and the count of conditional steps so far: a
    step done only `if ...` is RUN_STEP_N (its commands run only when it is `true`, never by default), N counted
    over the whole spec, as the GitHub workflow's inputs are. Manual steps are jobs of their own (`_confirm_job`)."""
    script: list[str] = []
    asked: list[str] = []
    for step in steps:
        guard = ""
        if step.only_if:
            runs += 1
            guard = f"RUN_STEP_{runs}"
            asked.append(guard)
        for command in step.commands:
            text = render_command(command.argv, params, command.env)
            if command.unless is not None:
                check = render_command(command.unless, params)
                text = (f"if {check} >/dev/null 2>&1; then echo {quote_word('skip: already done')}; "
                        f"else {text}; fi")
            if guard:
                skip = f"skip: {step.name} runs only if {step.only_if} (set {guard}=true)"
                text = f'if [ "${{{guard}:-}}" = "true" ]; then {text}; else echo {quote_word(skip)}; fi'
            script.append(text)
    return script, asked, runs


def _rules(spec: GitLabJobSpec) -> list[dict[str, Any]]:
    branch = f' && $CI_COMMIT_BRANCH == "{spec.branch}"' if spec.branch else ""
    if spec.when == "push":
        return [{"if": f'$CI_PIPELINE_SOURCE == "push"{branch}'}]
    if spec.when == "merge_request":
        return [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    if spec.when == "schedule":
        return [{"if": f'$CI_PIPELINE_SOURCE == "schedule"{branch}'}]
    if spec.when == "tag":
        return [{"if": "$CI_COMMIT_TAG"}]
    condition = {"if": f'$CI_COMMIT_BRANCH == "{spec.branch}"', "when": "manual"} if spec.branch else {
        "when": "manual"}
    return [condition]


def _image(tc: Toolchain) -> str | None:
    return {
        "python": f"python:{tc.version}-slim",
        "node": f"node:{tc.version}",
        "go": "golang:1",
        "rust": "rust:1",
        "java": "maven:3-eclipse-temurin-21" if tc.package_manager == "maven" else "gradle:8-jdk21",
    }.get(tc.language)


def _cache(tc: Toolchain) -> tuple[dict[str, str], dict[str, Any] | None, tuple[str, ...] | None]:
    """(variables, cache, install argv) for the toolchain; cache keys follow the lock file."""
    key_file = tc.lockfile or tc.evidence
    key = {"files": [key_file]} if key_file else "$CI_JOB_NAME"
    install = tc.install
    if tc.language == "python":
        return ({"PIP_CACHE_DIR": "$CI_PROJECT_DIR/.cache/pip"},
                {"key": key, "paths": [".cache/pip"]}, install)
    if tc.language == "node":
        if tc.package_manager == "npm" and install == ("npm", "ci"):
            install = ("npm", "ci", "--cache", ".npm", "--prefer-offline")
        return {}, {"key": key, "paths": [".npm/"]}, install
    if tc.language == "go":
        return {"GOPATH": "$CI_PROJECT_DIR/.go"}, {"key": key, "paths": [".go/pkg/mod/"]}, install
    if tc.language == "rust":
        return {"CARGO_HOME": "$CI_PROJECT_DIR/.cargo"}, {"key": key, "paths": [".cargo/", "target/"]}, install
    return {}, None, install
