"""GitLab CI job generator: one job appended to `.gitlab-ci.yml` (or created with it).

The job gets `rules` for when it runs, `timeout`, `interruptible`, an `environment` for deploys (protect it
in Settings > CI/CD > Protected environments to require approval), a dependency cache keyed by the lock file
for the detected toolchain (off for tag and deploy jobs), and parameters as job variables holding their defaults
(plain values: GitLab's schema allows `description` only on top-level variables), read in the script as `"${NAME}"`.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..yamlsrc import YamlError, load_yaml_documents
from .artifact import HEADER, Artifact, Generated, append_block
from .context import RepoContext, Toolchain, unique_name
from .credentials import Needs, needs
from .shellsafe import env_name, quote_word, render_command
from .spec import GitLabJobSpec
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

    job: dict[str, Any] = {"stage": spec.stage}
    tc = ctx.toolchain
    image = _image(tc)
    if image:
        job["image"] = image
    if spec.needs:
        job["needs"] = list(spec.needs)
    job["rules"] = _rules(spec)
    if spec.when == "manual":
        job["allow_failure"] = False  # a manual job that blocks the later stages until someone runs it
    if spec.environment:
        job["environment"] = {"name": spec.environment}
        notes.append(f"Job {name!r} deploys to {spec.environment!r}: make it a protected environment with "
                     "required approvals (Settings > CI/CD) so the job waits for a person.")
    job["timeout"] = f"{spec.timeout_minutes} minutes"
    job["interruptible"] = spec.interruptible and not spec.environment
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
        job["cache"] = cache
    found = needs(ctx, [[w if isinstance(w, str) else w.template for w in c.argv] for s in spec.steps
                        for c in s.commands])
    for credential in found.credentials:
        variables.update(credential.gitlab_variables)
    if variables:
        job["variables"] = variables
    params = [p.name for p in spec.params]
    before = _param_checks(spec.params, lambda p: f"run the pipeline with the variable {env_name(p.name)} set")
    before.extend(_credential_lines(found, name, notes))
    if install:
        before.append(" ".join(quote_word(w) for w in install))
    if before:
        job["before_script"] = before
    script, asked = _script(spec, params)
    job["script"] = script
    if asked:
        notes.append(f"Job {name!r} keeps the runbook's manual and conditional steps: set "
                     f"{', '.join(asked)} to true in Run pipeline (a manual step stops the job until confirmed; a "
                     "conditional step runs only when asked).")
    block = f"# {HEADER}: job {name}.\n" + dump({name: job})
    content = append_block(existing, block)
    if not existing:
        notes.append(f"{spec.file} does not exist yet; it is created with this job.")
    effective = spec.model_copy(update={"name": name})
    return Generated([Artifact(spec.file, "gitlab-ci", "append" if existing else "create", content, block,
                               base=existing or None)], effective, notes + list(tc.notes))


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


def _script(spec: GitLabJobSpec, params: list[str]) -> tuple[list[str], list[str]]:
    """The job's script lines and the pipeline variables a person sets: a manual step is CONFIRM_STEP_N (the job
    fails unless it is `true`, so the hand step is never skipped); a step done only `if ...` is RUN_STEP_N (its
    commands run only when it is `true`, never by default). N counts manual and conditional steps separately, as
    the GitHub workflow's inputs do."""
    script: list[str] = []
    asked: list[str] = []
    confirms = runs = 0
    for step in spec.steps:
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
        if step.manual:
            confirms += 1
            var = f"CONFIRM_STEP_{confirms}"
            asked.append(var)
            stop = f"Manual step not confirmed (set {var}=true once done): {step.manual}"
            script.append(f'if [ "${{{var}:-}}" != "true" ]; then echo {quote_word(stop)}; exit 1; fi')
            script.append(f"echo {quote_word('Confirmed by hand: ' + step.manual)}")
    return script, asked


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
