"""Dependency caching added to jobs of an existing GitHub workflow: the edit that a `repeated-ci-work` cache
opportunity suggests. The file is edited line by line (comments, order and quoting stay as the team wrote them):

* a job with a setup action that caches (`actions/setup-python`, `setup-node`, `setup-go`, `setup-java`) gets
  `cache: <package manager>` in that step's `with:` (for pip without a requirements file, plus
  `cache-dependency-path: <the file that lists the dependencies>`, which setup-python needs to key the cache);
* a job that installs without a setup action gets an `actions/cache` step (pinned to a commit SHA) right before its
  first install, keyed on the hash of the lock or manifest file, caching the package manager's download folder.

Refused, with the reason: a workflow that runs on tags or releases (a poisoned cache could reach a release:
zizmor `cache-poisoning`), a job that already caches, a job with no install step, a step written in flow style.
"""

from __future__ import annotations

import re

from ..errors import InputError
from ..models import Job, Pipeline
from .artifact import Artifact, Generated
from .context import RepoContext
from .github import ACTION_PINS
from .spec import CICacheSpec

SETUP_CACHE = {"actions/setup-python": "python", "actions/setup-node": "node", "actions/setup-go": "go",
               "actions/setup-java": "java"}
# The download folder each package manager reuses (`actions/cache` paths), by toolchain package manager.
CACHE_PATHS = {"pip": "~/.cache/pip", "uv": "~/.cache/uv", "poetry": "~/.cache/pypoetry", "pipenv": "~/.cache/pipenv",
               "npm": "~/.npm", "yarn": "~/.cache/yarn", "pnpm": "~/.local/share/pnpm/store", "go": "~/go/pkg/mod",
               "cargo": "~/.cargo/registry", "maven": "~/.m2/repository", "gradle": "~/.gradle/caches"}
_INSTALL = re.compile(r"\b(?:pip3?\s+install|uv\s+(?:sync|pip\s+install)|poetry\s+install|pipenv\s+(?:install|sync)|"
                      r"npm\s+(?:ci|install|i)\b|yarn\b|pnpm\s+(?:i|install)\b|go\s+mod\s+download|cargo\s+fetch|"
                      r"make\s+(?:install|deps|bootstrap)\b|mvn\b|gradle\b)")


def generate_ci_cache(ctx: RepoContext, spec: CICacheSpec) -> Generated:
    pipeline = next((p for p in ctx.inventory.pipelines if p.system == "github-actions" and p.path == spec.file), None)
    if pipeline is None:
        raise InputError(f"'{spec.file}' is not a GitHub workflow of this repository; a cache is added to an "
                         "existing workflow's jobs.")
    if any(t.kind in ("tag", "release") or t.filters.get("tags") for t in pipeline.triggers):
        raise InputError(f"'{spec.file}' runs on tags or releases: a dependency cache there could carry a poisoned "
                         "cache into a release (zizmor cache-poisoning); add caching to the test workflows instead.")
    base = ctx.read(spec.file)
    if base is None:
        raise InputError(f"'{spec.file}' cannot be read.")
    tc = ctx.toolchain
    if tc.package_manager not in CACHE_PATHS:
        raise InputError(f"No dependency cache is known for this toolchain ({tc.language}); add one by hand.")
    lines = base.splitlines(keepends=True)
    notes: list[str] = []
    edits: list[tuple[int, list[str]]] = []  # (0-based line to insert before, lines)
    for job_id in spec.jobs:
        job = next((j for j in pipeline.jobs if j.id == job_id), None)
        if job is None:
            raise InputError(f"Job '{job_id}' is not in {spec.file} (jobs: {', '.join(j.id for j in pipeline.jobs)}).")
        if job.caches:
            raise InputError(f"Job '{job_id}' already caches ({job.caches[0].via}, {job.caches[0].evidence}).")
        edits.append(_edit(ctx, pipeline, job, lines, notes))
    for index, block in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[index:index] = block
    content = "".join(lines)
    notes.append(f"The cache is keyed on {_key_file(ctx)}: a change to it starts a fresh cache.")
    return Generated([Artifact(spec.file, "github-workflow", "edit", content, _added(edits), base=base)], spec, notes)


def _added(edits: list[tuple[int, list[str]]]) -> str:
    return "".join(f"@@ before line {index + 1}\n" + "".join(block) for index, block in sorted(edits))


def _key_file(ctx: RepoContext) -> str:
    return ctx.toolchain.lockfile or ctx.toolchain.evidence or "the lock file"


def _edit(ctx: RepoContext, pipeline: Pipeline, job: Job, lines: list[str], notes: list[str]) -> tuple[int, list[str]]:
    tc = ctx.toolchain
    setup = next((s for s in job.steps if s.uses and s.uses.split("@")[0] in SETUP_CACHE
                  and SETUP_CACHE[s.uses.split("@")[0]] == tc.language), None)
    if setup is not None:
        start = setup.evidence.line_start - 1
        item = _item_indent(lines, start)
        end = _item_end(lines, start, item)
        with_line = next((n for n in range(start, end) if re.match(rf"^\s{{{item + 2}}}with:\s*$", lines[n])), None)
        entries = {"cache": tc.package_manager or ""}
        if tc.language == "python" and tc.package_manager == "pip" and not (tc.lockfile or "").startswith("require"):
            entries["cache-dependency-path"] = _key_file(ctx)
        if with_line is None:
            block = [" " * (item + 2) + "with:\n"] + [" " * (item + 4) + f"{k}: {v}\n" for k, v in entries.items()]
            notes.append(f"Job '{job.id}': `with: cache: {tc.package_manager}` added to {setup.uses} "
                         f"({setup.evidence}).")
            return end, block
        indent = _child_indent(lines, with_line, end, item + 4)
        notes.append(f"Job '{job.id}': `cache: {tc.package_manager}` added to {setup.uses} ({setup.evidence}).")
        return with_line + 1, [" " * indent + f"{k}: {v}\n" for k, v in entries.items()]
    install = next((s for s in job.steps if s.command and _INSTALL.search(s.command)), None)
    if install is None:
        raise InputError(f"Job '{job.id}' of {pipeline.path} has no install step to cache.")
    start = install.evidence.line_start - 1
    item = _item_indent(lines, start)
    sha, version = ACTION_PINS["actions/cache"]
    pad = " " * item
    key = "${{ runner.os }}-" + f"{tc.package_manager}-${{{{ hashFiles('{_key_file(ctx)}') }}}}"
    block = [f"{pad}- name: Cache {tc.package_manager} downloads\n",
             f"{pad}  uses: actions/cache@{sha} # {version}\n",
             f"{pad}  with:\n",
             f"{pad}    path: {CACHE_PATHS[tc.package_manager or '']}\n",
             f"{pad}    key: {key}\n",
             f"{pad}    restore-keys: |\n",
             f"{pad}      " + "${{ runner.os }}-" + f"{tc.package_manager}-\n"]
    notes.append(f"Job '{job.id}': an actions/cache step added before `{install.command}` ({install.evidence}).")
    return start, block


def _item_indent(lines: list[str], index: int) -> int:
    """The column of the `-` of the sequence item on line `index`; InputError for what a line edit cannot do."""
    if index < 0 or index >= len(lines):
        raise InputError("The workflow changed since the scan; scan again.")
    match = re.match(r"^(\s*)- ", lines[index])
    if match is None or "{" in lines[index]:
        raise InputError(f"Line {index + 1} is not a block-style step ('- uses: ...'); add the cache by hand.")
    return len(match.group(1))


def _item_end(lines: list[str], start: int, item: int) -> int:
    """The index after the last line of the sequence item starting at `start` (blank lines at its end excluded)."""
    end = start + 1
    last = end
    while end < len(lines):
        line = lines[end]
        if line.strip() and (len(line) - len(line.lstrip(" ")) <= item):
            break
        end += 1
        if line.strip():
            last = end
    return last


def _child_indent(lines: list[str], with_line: int, end: int, default: int) -> int:
    for n in range(with_line + 1, end):
        if lines[n].strip():
            return len(lines[n]) - len(lines[n].lstrip(" "))
    return default
