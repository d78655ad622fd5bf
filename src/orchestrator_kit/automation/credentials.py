"""What a generated job needs to reach the systems its commands change: credentials, and for a deploy the CI
environment, as named placeholders a person fills (`CHANGE_ME_...` secrets, `CHANGE-ME-...` environments) unless
the repository shows the real value. The `unfilled-placeholder` validator flags every one left.

Credentials are found from the words of the commands and of the task recipes they run (`make deploy` reads the
Makefile's `deploy` recipe and its prerequisites, with the Makefile's simple `VAR = value` assignments and the
command's own `VAR=value` words put in; a script task's own commands likewise), at most `MAX_TASKS` tasks deep:

| tool | credential | placeholders (GitHub secrets; GitLab CI/CD variables of the same names) |
|---|---|---|
| kubectl, helm | kubeconfig, written to a file that KUBECONFIG names | CHANGE_ME_KUBECONFIG (GitLab: type File) |
| aws | AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY | CHANGE_ME_AWS_ACCESS_KEY_ID, CHANGE_ME_AWS_SECRET_ACCESS_KEY |
| gcloud, gsutil | a key file (CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE) | CHANGE_ME_GCP_SERVICE_ACCOUNT_KEY |
| terraform, tofu (apply, plan...) | the providers' variables: name and value to fill | CHANGE_ME_PROVIDER_CREDENTIAL |
| ssh, scp, sftp, rsync host: | ~/.ssh/id_ed25519 and ~/.ssh/known_hosts | CHANGE_ME_SSH_PRIVATE_KEY, ..._KNOWN_HOSTS |
| docker/podman push, login | a registry login; ghcr.io on GitHub: the workflow's own token | CHANGE_ME_REGISTRY_* |
| gh | GH_TOKEN (GitHub: the workflow's own token) | GitLab: CHANGE_ME_GH_TOKEN |

A GitHub step gets its credentials in its own `env` and the lines that set them up before its commands; a GitLab
job in its `variables` and `before_script`.

A shell script run by a person gets a check at start for the variables that choose the target (KUBECONFIG; AWS_PROFILE
or AWS_ACCESS_KEY_ID), so it never acts on whatever cluster or account happens to be the default.

The environment of a deploy (`deploy_environment`): an explicit `ENV=name` / `--env name` word, else an environment
the repository's pipelines already use named in the commands, else a common one (production, staging, ...) named in
them, else the one environment the pipelines use, else the placeholder `CHANGE-ME-production`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..errors import OrchestratorError
from ..models import Task
from .context import RepoContext

MAX_TASKS = 20
ENV_PLACEHOLDER = "CHANGE-ME-production"
COMMON_ENVIRONMENTS = ("production", "prod", "staging", "stage", "preprod", "qa", "uat", "test", "dev",
                       "development", "preview", "sandbox")
# Words that say a job changes a running system (a deploy, a rollback, a restore): such a job gets an environment.
_DEPLOY_WORD = re.compile(r"(?<![a-z])(deploy|rollback|roll-back|rollout|promote|restore|pg_restore|migrate)",
                          re.IGNORECASE)
_EXPLICIT_ENV = re.compile(r"^(?:ENV|ENVIRONMENT|DEPLOY_ENV|TARGET_ENV|STAGE)=([A-Za-z0-9_.-]+)$")
_MAKE_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::{1,3}|\?|\+)?=\s*(.*?)\s*$")
_VAR_REF = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]")
_REGISTRY_HOST = re.compile(r"(?<![\w.-])((?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?)/[a-z0-9._/-]+", re.IGNORECASE)


@dataclass(frozen=True)
class Credential:
    """One credential a job needs. `github_env` maps a step's variable to its expression (a secret or the
    workflow's own token); `github_setup` are bash lines run before the step's commands; `gitlab_variables` and
    `gitlab_setup` the same for a GitLab job; `script_any` the variables of which a script needs one set;
    `placeholders` the names a person must fill (empty when the repository gave the real value)."""

    key: str
    purpose: str
    tools: tuple[str, ...]
    github_env: dict[str, str]
    github_setup: tuple[str, ...] = ()
    gitlab_variables: dict[str, str] = field(default_factory=dict)
    gitlab_setup: tuple[str, ...] = ()
    script_any: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    gitlab_placeholders: tuple[str, ...] = ()
    permissions: dict[str, str] = field(default_factory=dict)


def _secret(name: str) -> str:
    return f"${{{{ secrets.{name} }}}}"


def _file_lines(variable: str, path: str, what: str, export: str | None) -> tuple[str, ...]:
    """Bash lines that stop with a clear error when the step's variable is empty, else write it to `path`."""
    lines = [f'if [ -z "${{{variable}:-}}" ]; then echo "::error::{what}: the secret in this step\'s env '
             f'{variable} is empty; add it (Settings > Secrets, or the environment\'s secrets)"; exit 1; fi',
             f'(umask 077 && printf \'%s\\n\' "${{{variable}}}" > "{path}")']
    if export:
        lines.append(f'export {export}="{path}"')
    return tuple(lines)


def _kubeconfig() -> Credential:
    return Credential(
        key="kubeconfig", purpose="the kubeconfig of the cluster the commands change", tools=("kubectl", "helm"),
        github_env={"KUBECONFIG_CONTENT": _secret("CHANGE_ME_KUBECONFIG")},
        github_setup=_file_lines("KUBECONFIG_CONTENT", "${RUNNER_TEMP}/kubeconfig", "kubeconfig", "KUBECONFIG"),
        gitlab_variables={"KUBECONFIG": "$CHANGE_ME_KUBECONFIG"}, script_any=("KUBECONFIG",),
        placeholders=("CHANGE_ME_KUBECONFIG",), gitlab_placeholders=("CHANGE_ME_KUBECONFIG (type File)",))


def _aws() -> Credential:
    names = {"AWS_ACCESS_KEY_ID": "CHANGE_ME_AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY": "CHANGE_ME_AWS_SECRET_ACCESS_KEY"}
    return Credential(
        key="aws", purpose="an AWS access key allowed to do what the commands do", tools=("aws",),
        github_env={env: _secret(name) for env, name in names.items()},
        gitlab_variables={env: f"${name}" for env, name in names.items()},
        script_any=("AWS_PROFILE", "AWS_ACCESS_KEY_ID"), placeholders=tuple(names.values()),
        gitlab_placeholders=tuple(f"{name} (masked)" for name in names.values()))


def _gcloud() -> Credential:
    path = "${RUNNER_TEMP}/gcp-key.json"
    return Credential(
        key="gcloud", purpose="a Google Cloud service account key (JSON)", tools=("gcloud", "gsutil"),
        github_env={"GCP_KEY_CONTENT": _secret("CHANGE_ME_GCP_SERVICE_ACCOUNT_KEY")},
        github_setup=_file_lines("GCP_KEY_CONTENT", path, "Google Cloud key", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"),
        gitlab_variables={"CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE": "$CHANGE_ME_GCP_SERVICE_ACCOUNT_KEY"},
        placeholders=("CHANGE_ME_GCP_SERVICE_ACCOUNT_KEY",),
        gitlab_placeholders=("CHANGE_ME_GCP_SERVICE_ACCOUNT_KEY (type File)",))


def _terraform() -> Credential:
    # Terraform reads its providers' own variables (AWS_ACCESS_KEY_ID, GOOGLE_CREDENTIALS, ARM_CLIENT_SECRET, ...):
    # which ones the repository needs is not in the commands, so the variable's name is a placeholder too.
    return Credential(
        key="terraform", purpose="the credentials terraform's providers read: rename the variable to the one your "
        "provider reads (AWS_ACCESS_KEY_ID, GOOGLE_CREDENTIALS, ARM_CLIENT_SECRET, ...) and name its secret",
        tools=("terraform", "tofu"),
        github_env={"CHANGE_ME_PROVIDER_CREDENTIAL": _secret("CHANGE_ME_PROVIDER_CREDENTIAL")},
        gitlab_variables={"CHANGE_ME_PROVIDER_CREDENTIAL": "$CHANGE_ME_PROVIDER_CREDENTIAL"},
        placeholders=("CHANGE_ME_PROVIDER_CREDENTIAL",),
        gitlab_placeholders=("CHANGE_ME_PROVIDER_CREDENTIAL",))


def _ssh() -> Credential:
    key, hosts = "${HOME}/.ssh/id_ed25519", "${HOME}/.ssh/known_hosts"
    setup = ('install -d -m 700 "${HOME}/.ssh"',
             *_file_lines("SSH_PRIVATE_KEY", key, "SSH key", None),
             *_file_lines("SSH_KNOWN_HOSTS", hosts, "SSH known hosts", None))
    return Credential(
        key="ssh", purpose="an SSH private key for the host, and the host's public key line (known_hosts)",
        tools=("ssh", "scp", "rsync", "sftp"),
        github_env={"SSH_PRIVATE_KEY": _secret("CHANGE_ME_SSH_PRIVATE_KEY"),
                    "SSH_KNOWN_HOSTS": _secret("CHANGE_ME_SSH_KNOWN_HOSTS")},
        github_setup=setup,
        gitlab_variables={"SSH_PRIVATE_KEY_FILE": "$CHANGE_ME_SSH_PRIVATE_KEY",
                          "SSH_KNOWN_HOSTS_FILE": "$CHANGE_ME_SSH_KNOWN_HOSTS"},
        gitlab_setup=('install -d -m 700 "${HOME}/.ssh"',
                      f'install -m 600 "${{SSH_PRIVATE_KEY_FILE:?the SSH key CI/CD variable is not set}}" "{key}"',
                      f'cat "${{SSH_KNOWN_HOSTS_FILE:?the known hosts CI/CD variable is not set}}" >> "{hosts}"'),
        placeholders=("CHANGE_ME_SSH_PRIVATE_KEY", "CHANGE_ME_SSH_KNOWN_HOSTS"),
        gitlab_placeholders=("CHANGE_ME_SSH_PRIVATE_KEY (type File)", "CHANGE_ME_SSH_KNOWN_HOSTS (type File)"))


def _registry(host: str | None) -> Credential:
    where = host or "Docker Hub"
    target = f" {host}" if host else ""
    login = f'printf \'%s\' "${{REGISTRY_PASSWORD}}" | docker login{target} --username "${{REGISTRY_USERNAME}}" ' \
            "--password-stdin"
    gitlab = {"REGISTRY_USERNAME": "$CHANGE_ME_REGISTRY_USERNAME", "REGISTRY_PASSWORD": "$CHANGE_ME_REGISTRY_PASSWORD"}
    common = {"key": "registry", "tools": ("docker", "podman"), "gitlab_variables": gitlab, "gitlab_setup": (login,),
              "gitlab_placeholders": ("CHANGE_ME_REGISTRY_USERNAME", "CHANGE_ME_REGISTRY_PASSWORD (masked)")}
    if host == "ghcr.io":  # the workflow's own token can push to GitHub's registry: no secret to create
        return Credential(purpose="a login to ghcr.io with the workflow's own token (packages: write)",
                          github_env={"REGISTRY_USERNAME": "${{ github.actor }}",
                                      "REGISTRY_PASSWORD": "${{ github.token }}"},
                          github_setup=(login,), permissions={"packages": "write"}, **common)  # type: ignore[arg-type]
    names = ("CHANGE_ME_REGISTRY_USERNAME", "CHANGE_ME_REGISTRY_PASSWORD")
    return Credential(purpose=f"a login to the container registry ({where})",
                      github_env={"REGISTRY_USERNAME": _secret(names[0]), "REGISTRY_PASSWORD": _secret(names[1])},
                      github_setup=(login,), placeholders=names, **common)  # type: ignore[arg-type]


def _gh() -> Credential:
    return Credential(key="gh", purpose="a GitHub token for the gh command line", tools=("gh",),
                      github_env={"GH_TOKEN": "${{ github.token }}"},
                      gitlab_variables={"GH_TOKEN": "$CHANGE_ME_GH_TOKEN"},
                      gitlab_placeholders=("CHANGE_ME_GH_TOKEN (masked)",))


@dataclass
class Needs:
    """What a set of commands needs: credentials (in first-use order), each with the tool words that asked for it,
    and whether the commands change a running system (a deploy)."""

    credentials: list[Credential] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)
    deploys: bool = False
    words: list[str] = field(default_factory=list)

    def add(self, credential: Credential, reason: str) -> None:
        if credential.key not in self.why:
            self.credentials.append(credential)
            self.why[credential.key] = reason


def command_texts(ctx: RepoContext, argv: Sequence[str]) -> list[str]:
    """The command itself and the recipe lines of the tasks it runs (prerequisites too), variables put in."""
    texts = [" ".join(argv)]
    words = list(argv)
    task = _task_for(ctx, words)
    if task is None:
        return texts
    overrides: dict[str, str] = {}
    for word in words:
        assignment = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", word)
        if assignment:
            overrides[assignment.group(1)] = assignment.group(2)
    seen: set[str] = set()
    queue: list[Task] = [task]
    while queue and len(seen) < MAX_TASKS:
        current = queue.pop(0)
        if current.id in seen:
            continue
        seen.add(current.id)
        variables = {**_make_variables(ctx, current), **overrides}
        for command in current.commands:
            text = _resolve(command.text, variables)
            texts.append(text)
            inner = _task_for(ctx, _words(text))
            if inner is not None:
                queue.append(inner)
        queue.extend(t for t in ctx.inventory.tasks if t.runner == current.runner and t.path == current.path
                     and t.name in current.depends_on)
    return texts


def _resolve(text: str, variables: dict[str, str]) -> str:
    """`$(VAR)` and `${VAR}` replaced by their values where known (once: values hold no references)."""
    return _VAR_REF.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def _task_for(ctx: RepoContext, words: Sequence[str]) -> Task | None:
    """The task whose invocation the words start with (the longest one)."""
    best: Task | None = None
    for task in ctx.inventory.tasks:
        invocation = task.invocation.split()
        if invocation and list(words[: len(invocation)]) == invocation and (
                best is None or len(invocation) > len(best.invocation.split())):
            best = task
    return best


def _make_variables(ctx: RepoContext, task: Task) -> dict[str, str]:
    """The simple `VAR = value` assignments of a Makefile (values without references), for resolving recipes."""
    if task.runner != "make":
        return {}
    try:
        text = ctx.read(task.path) or ""
    except OrchestratorError:
        return {}
    variables: dict[str, str] = {}
    for line in text.splitlines():
        match = _MAKE_ASSIGN.match(line)
        if match and "$" not in match.group(2) and not line.startswith("\t"):
            variables.setdefault(match.group(1), match.group(2))
    return variables


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def _simple_commands(text: str) -> Iterable[list[str]]:
    """The simple commands of a line (split on && || ; |), each without leading assignments, env, sudo, @ or -."""
    for part in re.split(r"&&|\|\||;|\|", text):
        words = _words(part)
        while words and (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]) or words[0] in ("env", "sudo", "exec")):
            words = words[1:]
        if words:
            words[0] = words[0].lstrip("@-+")
            yield words


def needs(ctx: RepoContext, commands: Iterable[Sequence[str]]) -> Needs:
    """The credentials and deploy flag for commands given as word lists (see the module docstring)."""
    found = Needs()
    for argv in commands:
        for text in command_texts(ctx, argv):
            found.words.extend(_words(text))
            if _DEPLOY_WORD.search(text):
                found.deploys = True
            for words in _simple_commands(text):
                _detect(found, words, text)
    return found


def _detect(found: Needs, words: list[str], text: str) -> None:
    tool = words[0].rsplit("/", 1)[-1]
    line = " ".join(words)[:120]
    if tool in ("kubectl", "helm"):
        found.add(_kubeconfig(), f"{tool} (`{line}`)")
        found.deploys = True
    elif tool == "aws":
        found.add(_aws(), f"aws (`{line}`)")
    elif tool in ("gcloud", "gsutil"):
        found.add(_gcloud(), f"{tool} (`{line}`)")
    elif tool in ("terraform", "tofu") and any(w in ("apply", "destroy", "plan", "import") for w in words[1:]):
        found.add(_terraform(), f"{tool} (`{line}`)")
        found.deploys = True
    elif tool in ("ssh", "scp", "sftp") or (tool == "rsync" and any(re.match(r"[^/]*:", w) for w in words[1:])):
        found.add(_ssh(), f"{tool} (`{line}`)")
    elif tool in ("docker", "podman") and len(words) > 1 and (
            words[1] in ("push", "login") or (words[1] in ("buildx", "build") and "--push" in words)):
        host = next((m.group(1) for w in words[2:] if (m := _REGISTRY_HOST.match(w))), None)
        if host is None and words[1] != "login":
            host = next((m.group(1) for m in _REGISTRY_HOST.finditer(text)), None)
        found.add(_registry(host), f"{tool} {words[1]} (`{line}`)")
    elif tool == "gh":
        found.add(_gh(), f"gh (`{line}`)")


def deploy_environment(ctx: RepoContext, found: Needs) -> tuple[str, str, bool]:
    """(environment, why, placeholder) for a job that deploys (see the module docstring for the order)."""
    known: dict[str, str] = {}
    for pipeline in ctx.inventory.pipelines:
        for job in pipeline.jobs:
            if job.environment and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _./-]{0,63}", job.environment):
                known.setdefault(job.environment, str(job.evidence))
    explicit = next((m.group(1) for w in found.words if (m := _EXPLICIT_ENV.match(w))), None)
    if explicit:
        return explicit, f"the commands say {explicit!r} ({_used(known, explicit)})", False
    tokens = {t.lower() for w in found.words for t in re.split(r"[^A-Za-z0-9]+", w) if t}
    named = [name for name in known if name.lower() in tokens]
    if named:
        return named[0], f"the commands (or the recipes they run) name {named[0]!r}, an environment the pipelines " \
                         f"use ({known[named[0]]})", False
    common = [name for name in COMMON_ENVIRONMENTS if name in tokens]
    if common:
        return common[0], f"the commands (or the recipes they run) name {common[0]!r} ({_used(known, common[0])})", \
            False
    if len(known) == 1:
        [(name, where)] = known.items()
        return name, f"the only environment the repository's pipelines use ({where}); change it if this job " \
                     "targets another", False
    listed = f"; the pipelines use: {', '.join(sorted(known))}" if known else ""
    return ENV_PLACEHOLDER, f"the commands do not say which environment{listed}", True


def _used(known: dict[str, str], name: str) -> str:
    if name in known:
        return f"the pipelines use it too: {known[name]}"
    if known:
        return f"the pipelines use {', '.join(sorted(known))}; create '{name}' in the CI settings"
    return f"create '{name}' in the CI settings"
