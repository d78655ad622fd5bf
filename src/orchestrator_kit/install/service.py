"""`install` and `uninstall`: merge our MCP server (and, for Claude Code, the two subagent files) into a client's
configuration, and take out exactly that again.

Rules: the existing file is parsed first and kept as it is apart from our one entry (key order, the other entries,
its indentation and final newline); a second install changes nothing and says so; a dry run returns the diffs and
writes nothing; every check (parse errors, a different entry or agent file already under our name, a folder that
cannot be created) happens before the first write, and writes are atomic (a temp file renamed over the old one, with
the old file's mode), with the files already written restored if a later write fails. `uninstall` removes the
server entry only when it starts our server (`python -m orchestrator_kit mcp`), agent files only when they are
byte-identical to what install writes, drops a servers object it leaves empty, and deletes a config file that held
nothing else; anything else is kept and reported. `force` replaces (or removes) a differing entry or agent file.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ..datatext import load_json
from ..errors import InputError, sentence
from ..plugin.agents import AGENTS, SERVER_NAME, check_server_name, render_agent, server_tool_prefix
from .clients import Client, Scope, Target, default_scope, target

MAX_CONFIG_BYTES = 16 * 1024 * 1024  # ~/.claude.json grows with history; far larger is not a config file
OUR_ARGS = ["-m", "orchestrator_kit", "mcp"]


class FileChange(BaseModel):
    path: str
    action: Literal["create", "update", "delete"]
    diff: str


class InstallResult(BaseModel):
    client: str
    scope: str
    server_name: str
    config: str
    dry_run: bool
    changes: list[FileChange]
    kept: list[str]
    message: str


@dataclass
class Edit:
    path: Path
    before: str | None
    after: str | None


def install(
    client: Client,
    scope: Scope | None = None,
    *,
    server_name: str = SERVER_NAME,
    project: Path | None = None,
    home: Path | None = None,
    roots: list[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> InstallResult:
    """Add our server under `server_name` (and the agents, for Claude Code) to `client`'s config at `scope`."""
    spot = _target(client, scope, server_name, project, home, roots)
    edits: list[Edit] = []
    doc, style, before = _load(spot.config)
    servers = _servers(doc, spot)
    current = servers.get(server_name)
    if current != spot.entry:
        if current is not None and not force:
            raise InputError(
                f"{spot.config} already has a server named '{server_name}' that differs from ours; choose another "
                "--server-name, remove it, or pass --force to replace it. Nothing was changed."
            )
        servers[server_name] = spot.entry
        edits.append(Edit(spot.config, before, _dump(doc, style)))
    if spot.agents_dir is not None:
        for path, content in _agent_files(spot.agents_dir, server_name).items():
            existing = _read_text(path)
            if existing == content:
                continue
            if existing is not None and not force:
                raise InputError(
                    f"{path} exists and differs from the agent install writes; move it away or pass --force. "
                    "Nothing was changed."
                )
            edits.append(Edit(path, existing, content))
    return _finish(spot, server_name, edits, [], dry_run, "installed", "already installed: nothing to change")


def uninstall(
    client: Client,
    scope: Scope | None = None,
    *,
    server_name: str = SERVER_NAME,
    project: Path | None = None,
    home: Path | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> InstallResult:
    """Remove what `install` added for `client` at `scope`; keep (and report) anything that is not ours."""
    spot = _target(client, scope, server_name, project, home, None)
    edits: list[Edit] = []
    kept: list[str] = []
    doc, style, before = _load(spot.config)
    if before is not None:
        servers = _servers(doc, spot)
        current = servers.get(server_name)
        if current is not None and (force or _is_ours(current)):
            del servers[server_name]
            if not servers:
                del doc[spot.servers_key]
            edits.append(Edit(spot.config, before, None if not doc else _dump(doc, style)))
        elif current is not None:
            reason = f"the server '{server_name}' does not start orchestrator-kit (--force removes it)"
            kept.append(f"{spot.config}: {reason}")
    if spot.agents_dir is not None:
        for path, content in _agent_files(spot.agents_dir, server_name).items():
            existing = _read_text(path)
            if existing is None:
                continue
            if existing == content or force:
                edits.append(Edit(path, existing, None))
            else:
                kept.append(f"{path}: changed since install (--force removes it)")
    return _finish(spot, server_name, edits, kept, dry_run, "uninstalled", "not installed: nothing to remove")


# ----------------------------------------------------------------------------------------------- helpers


def _target(
    client: Client,
    scope: Scope | None,
    server_name: str,
    project: Path | None,
    home: Path | None,
    roots: list[str] | None,
) -> Target:
    check_server_name(server_name)
    project = (project or Path.cwd()).resolve()
    if not project.is_dir():
        raise InputError(f"Project folder '{project}' does not exist.")
    return target(
        client, scope or default_scope(client), project=project, home=home or Path.home(), roots=list(roots or [])
    )


def _is_ours(entry: object) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("args"), list) and entry["args"][:3] == OUR_ARGS


def _agent_files(agents_dir: Path, server_name: str) -> dict[Path, str]:
    prefix = server_tool_prefix(server_name)
    return {agents_dir / f"{spec.name}.md": render_agent(spec, prefix) for spec in AGENTS}


def _read_text(path: Path) -> str | None:
    if not path.exists():
        return None
    if not path.is_file():
        raise InputError(f"{path} is not a regular file. Nothing was changed.")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InputError(
                f"{path} is over {MAX_CONFIG_BYTES} bytes: not a config file we edit. Nothing was changed."
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text. Nothing was changed.") from None
    except OSError as error:
        raise InputError(f"Cannot read {path}: {sentence(error.strerror or str(error))} Nothing was changed.") from None


@dataclass(frozen=True)
class Style:
    indent: str | int | None
    newline: bool


def _load(path: Path) -> tuple[dict[str, Any], Style, str | None]:
    """The parsed config (an empty one when the file is missing), its style, and its text."""
    text = _read_text(path)
    if text is None:
        return {}, Style(indent=2, newline=True), None
    if not text.strip():
        return {}, Style(indent=2, newline=True), text
    try:
        doc = load_json(text)  # an integer past Python's digit limit is a JSONDecodeError there, not a ValueError
    except json.JSONDecodeError as error:
        hint = " (comments and trailing commas are not JSON: remove them or edit the file by hand)"
        raise InputError(
            f"{path} is not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}{hint}. "
            "Nothing was changed."
        ) from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to read as JSON. Nothing was changed.") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path} holds a JSON {type(doc).__name__}, not an object. Nothing was changed.")
    return doc, _style(text), text


def _style(text: str) -> Style:
    """The indentation of the file's first indented line (so a rewrite keeps the user's layout)."""
    match = re.search(r"\n([ \t]+)\S", text)
    if match is None:  # one line (or no nesting): written back on one line
        return Style(indent=None, newline=text.endswith("\n"))
    found = match.group(1)
    return Style(indent=found if "\t" in found else len(found), newline=text.endswith("\n"))


def _dump(doc: dict[str, Any], style: Style) -> str:
    text = json.dumps(doc, indent=style.indent, ensure_ascii=False)
    return text + "\n" if style.newline else text


def _servers(doc: dict[str, Any], spot: Target) -> dict[str, Any]:
    servers = doc.setdefault(spot.servers_key, {})
    if not isinstance(servers, dict):
        raise InputError(
            f"{spot.config}: '{spot.servers_key}' is a {type(servers).__name__}, not an object. Nothing was changed."
        )
    return servers


def _diff(edit: Edit) -> str:
    lines = difflib.unified_diff(
        (edit.before or "").splitlines(keepends=True),
        (edit.after or "").splitlines(keepends=True),
        fromfile=str(edit.path) if edit.before is not None else "/dev/null",
        tofile=str(edit.path) if edit.after is not None else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _finish(
    spot: Target, server_name: str, edits: list[Edit], kept: list[str], dry_run: bool, done: str, nothing: str
) -> InstallResult:
    changes = [
        FileChange(
            path=str(e.path),
            action="create" if e.before is None else "delete" if e.after is None else "update",
            diff=_diff(e),
        )
        for e in edits
    ]
    if edits and not dry_run:
        _apply(edits)
    message = f"{'would be ' if dry_run else ''}{done}: {len(edits)} file(s)" if edits else nothing
    return InstallResult(
        client=spot.client.value,
        scope=spot.scope.value,
        server_name=server_name,
        config=str(spot.config),
        dry_run=dry_run,
        changes=changes,
        kept=kept,
        message=message,
    )


def _apply(edits: list[Edit]) -> None:
    """Write every edit; on an OS error restore the ones already written and report the cause."""
    done: list[Edit] = []
    try:
        for edit in edits:
            _write(edit.path, edit.after)
            done.append(edit)
        for edit in edits:  # an agents folder that uninstall emptied goes too
            if edit.after is None and edit.path.parent.name == "agents":
                _remove_empty_dir(edit.path.parent)
    except OSError as error:
        for edit in reversed(done):
            with contextlib.suppress(OSError):  # best effort: the message below names the file that failed
                _write(edit.path, edit.before)
        cause = f"{error.filename or 'a file'}: {error.strerror or error}"
        raise InputError(f"Cannot write {cause}. Nothing was changed.") from None


def _remove_empty_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (the user's own agents): keep it
        folder.rmdir()


def _write(path: Path, text: str | None) -> None:
    real = path.resolve()  # a symlinked config is edited where it points, the link stays
    if text is None:
        real.unlink(missing_ok=True)
        return
    real.parent.mkdir(parents=True, exist_ok=True)
    mode = real.stat().st_mode & 0o7777 if real.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
