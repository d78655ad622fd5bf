"""pre-commit hook generator: a `repo: local` entry with one `language: system` hook, added at the end of the
`repos:` list of `.pre-commit-config.yaml` (or a new file). pre-commit splits `entry` with shlex and runs it
without a shell, so the quoted command text means exactly its words."""

from __future__ import annotations

from typing import Any, Literal

from ..errors import InputError
from ..yamlsrc import YamlError, YMap, YSeq, load_yaml_documents
from .artifact import HEADER, Artifact, Generated
from .context import RepoContext, unique_name
from .shellsafe import render_command
from .spec import PreCommitHookSpec
from .yamlout import dump


def generate_precommit_hook(ctx: RepoContext, spec: PreCommitHookSpec) -> Generated:
    notes: list[str] = []
    existing = ctx.read(spec.file)
    taken: set[str] = set()
    doc: Any = None
    if existing and existing.strip():
        try:
            documents = [d for d in load_yaml_documents(existing) if d is not None]
        except YamlError as exc:
            raise InputError(f"{spec.file} is not valid YAML ({exc}); fix it before adding a hook.") from None
        if len(documents) != 1 or not isinstance(documents[0], YMap):
            raise InputError(f"{spec.file} is not one YAML mapping; a hook cannot be added to it safely.")
        doc = documents[0]
        repos = doc.get("repos")
        if not isinstance(repos, YSeq) or not repos:
            raise InputError(f"{spec.file} has no non-empty 'repos:' list to add the hook to.")
        for repo in repos:
            for existing_hook in (repo.get("hooks") or []) if isinstance(repo, dict) else []:
                if isinstance(existing_hook, dict) and existing_hook.get("id") is not None:
                    taken.add(str(existing_hook["id"]))
    hook_id, note = unique_name(spec.id, taken, spec.on_conflict, f"Hook id in {spec.file}")
    if note:
        notes.append(note)
    hook: dict[str, Any] = {"id": hook_id, "name": spec.name, "entry": render_command(spec.command.argv),
                            "language": "system", "pass_filenames": spec.pass_filenames}
    if spec.files:
        hook["files"] = spec.files
    if spec.types:
        hook["types"] = list(spec.types)
    hook["stages"] = list(spec.stages)
    item = {"repo": "local", "hooks": [hook]}
    action: Literal["create", "append"]
    if doc is None:
        content = f"# {HEADER}.\n" + dump({"repos": [item]})
        text = content
        action = "create"
    else:
        content, text = _insert(existing or "", doc, item)
        action = "append"
    effective = spec.model_copy(update={"id": hook_id})
    return Generated([Artifact(spec.file, "pre-commit-config", action, content, text, base=existing)], effective,
                     notes)


def _insert(existing: str, doc: YMap, item: dict[str, Any]) -> tuple[str, str]:
    """Insert `item` after the last entry of `repos:`, with the indentation the file already uses."""
    repos: YSeq = doc["repos"]
    lines = existing.split("\n")
    first_line = lines[repos.item_span(0)[0] - 1]
    indent = len(first_line) - len(first_line.lstrip(" "))
    if not first_line.lstrip().startswith("-"):
        raise InputError("The 'repos:' list is written in flow style ([...]); add the hook by hand.")
    end = repos.item_span(len(repos) - 1)[1]
    # The span ends on the last line with content; blank or comment lines after it stay where they are.
    rendered = dump({"repos": [item]}).split("\n", 1)[1]  # drop the "repos:" line
    block_lines = [(" " * (indent - 2) + line if indent >= 2 else line[2 - indent:] if line.startswith("  ") else line)
                   for line in rendered.rstrip("\n").split("\n")]
    comment = " " * indent + f"# {HEADER}."
    block = "\n".join([comment, *block_lines]) + "\n"
    new_lines = lines[:end] + block.rstrip("\n").split("\n") + lines[end:]
    content = "\n".join(new_lines)
    if not content.endswith("\n"):
        content += "\n"
    return content, block
