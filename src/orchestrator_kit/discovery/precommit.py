"""pre-commit: `.pre-commit-config.yaml`, one Task per hook.

Read as pre-commit's configuration reference ("Adding pre-commit plugins to your project") describes it:
top-level `repos` (each with `repo`: a URL, `local` or `meta`, `rev` for remote repositories, and `hooks`),
`default_stages`, `files`/`exclude`, `fail_fast`, and the pre-commit.ci `ci: {skip: [...]}` list. A hook has
`id`, and may override `name`, `alias`, `stages`, `files`, `exclude`, `types`, `args`, `always_run`,
`pass_filenames` and `language`; local hooks also give `entry` (the command they run).

Invocation: `pre-commit run <id> --all-files` (`--hook-stage manual` for hooks only in the manual stage).
A `rev` that YAML reads as a number (`rev: 1.10` is the float 1.1) is reported: pre-commit would fail on it.
"""

from __future__ import annotations

import re
from typing import Any

from ..models import Command, Task
from ..repo import FileText
from ..yamlsrc import YMap, YSeq, scalar_text, string_list, yaml11_bool
from .base import DetectContext, Wants, detector

CONFIG_NAMES = (".pre-commit-config.yaml", ".pre-commit-config.yml")


CONFIGS = Wants(names=frozenset(CONFIG_NAMES))


@detector("pre-commit", wants=CONFIGS)
def detect_precommit(ctx: DetectContext, file: FileText) -> None:
    """One pre-commit configuration (remembered across scans: what it holds depends on its path and text alone)."""
    ctx.remembered((file,), lambda: _read_config(ctx, file))


def _read_config(ctx: DetectContext, file: FileText) -> None:
    docs = ctx.yaml_documents(file)
    if not docs:
        return
    path = file.path
    doc = docs[0]
    if not isinstance(doc, YMap):
        ctx.diagnostic(path, "not a pre-commit configuration: the top level is not a mapping", line=1)
        return
    repos = doc.get("repos")
    if not isinstance(repos, YSeq):
        ctx.diagnostic(path, "'repos' is missing or is not a list of repositories",
                       line=doc.key_line("repos") if "repos" in doc else 1)
        return
    default_stages = string_list(doc.get("default_stages"))
    ci = doc.get("ci")
    ci_skip = set(string_list(ci.get("skip"))) if isinstance(ci, YMap) else set()
    seen: dict[str, int] = {}
    for index, repo in enumerate(repos):
        line = repos.item_span(index)[0]
        if not isinstance(repo, YMap):
            ctx.diagnostic(path, f"repos item {index + 1} is not a mapping", line=line)
            continue
        url = scalar_text(repo.get("repo"))
        if not url:
            ctx.diagnostic(path, f"repos item {index + 1} has no 'repo'", line=line)
            continue
        rev = _rev(ctx, file, repo, url)
        hooks = repo.get("hooks")
        if not isinstance(hooks, YSeq):
            ctx.diagnostic(path, f"repo '{url}' has no list of hooks", line=repo.key_line("hooks") if "hooks" in repo
                           else line)
            continue
        for hook_index, hook in enumerate(hooks):
            hook_span = hooks.item_span(hook_index)
            task = _hook_task(ctx, path, url, rev, hook, hook_span, default_stages, ci_skip, seen)
            if task is not None:
                ctx.add_task(task)


def _rev(ctx: DetectContext, file: FileText, repo: YMap, url: str) -> str | None:
    value = repo.get("rev")
    if value is None:
        if url not in ("local", "meta"):
            ctx.diagnostic(file.path, f"repo '{url}' has no 'rev'; pre-commit needs one for a remote repository",
                           line=repo.span[0])
        return None
    # pre-commit loads its config with PyYAML (YAML 1.1): a plain `rev: yes` or `rev: off` is a boolean there
    # (`yaml11_bool`), which its schema refuses as a rev, as it refuses a number.
    as_bool = yaml11_bool(value)
    if as_bool is not None or not isinstance(value, str):
        line = repo.key_line("rev")
        written = re.sub(r"^\s*-?\s*rev\s*:\s*", "", file.lines[line - 1]).split("#", 1)[0].strip()
        kind = "bool" if as_bool is not None else type(value).__name__
        ctx.diagnostic(file.path, f"rev '{written}' is read by YAML as a {kind}, not text; quote it", line=line)
        return written or scalar_text(value)
    return value


def _hook_task(
    ctx: DetectContext,
    path: str,
    url: str,
    rev: str | None,
    hook: Any,
    span: tuple[int, int],
    default_stages: list[str],
    ci_skip: set[str],
    seen: dict[str, int],
) -> Task | None:
    if not isinstance(hook, YMap):
        ctx.diagnostic(path, f"a hook of '{url}' is not a mapping", line=span[0])
        return None
    hook_id = scalar_text(hook.get("id"))
    if not hook_id:
        ctx.diagnostic(path, f"a hook of '{url}' has no 'id'", line=span[0])
        return None
    alias = scalar_text(hook.get("alias"))
    key = alias or hook_id
    seen[key] = seen.get(key, 0) + 1
    task_key = key if seen[key] == 1 else f"{key}[{seen[key]}]"
    stages = string_list(hook.get("stages")) or default_stages
    attributes: dict[str, str] = {"repo": url}
    if rev:
        attributes["rev"] = rev
    for field in ("language", "files", "exclude", "alias"):
        value = scalar_text(hook.get(field))
        if value:
            attributes[field] = value
    for field in ("types", "types_or", "exclude_types", "args", "additional_dependencies"):
        values = string_list(hook.get(field))
        if values:
            attributes[field] = " ".join(values) if field == "args" else ", ".join(values)
    if stages:
        attributes["stages"] = ", ".join(stages)
    for field in ("always_run", "pass_filenames", "verbose"):
        if isinstance(hook.get(field), bool):
            attributes[field] = "true" if hook[field] else "false"
    if hook_id in ci_skip or key in ci_skip:
        attributes["ci_skip"] = "true"
    commands: list[Command] = []
    entry = scalar_text(hook.get("entry"))
    if entry:  # local hooks always have one; a remote hook may override its repository's entry
        args = string_list(hook.get("args"))
        text = " ".join([entry.strip(), *args])
        commands.append(ctx.command(text, path, *hook.key_span("entry")))
    manual_only = bool(stages) and set(stages) == {"manual"}
    invocation = f"pre-commit run {key}" + (" --hook-stage manual" if manual_only else "") + " --all-files"
    name = scalar_text(hook.get("name"))
    return ctx.task(
        "pre-commit", path, key,
        key=task_key,
        invocation=invocation,
        description=name,
        commands=commands,
        attributes=attributes,
        evidence=ctx.evidence(path, *span),
    )
