"""npm scripts: the `scripts` object of every `package.json` outside `node_modules`, one Task per script.

Read as npm's "scripts" documentation describes them: `prefoo` and `postfoo` run around `foo` (they are listed
as the hooks of `foo` and are still tasks themselves, with attribute `hook_of`); install/publish/pack/version
lifecycle scripts run on their own during those commands (attribute `lifecycle`); keys starting with `//` are
the comment idiom and are skipped. `npm test`, `npm start`, `npm stop` and `npm restart` need no `run`.

The package manager decides the invocation: the `packageManager` field (Corepack), else the nearest lock file
(`pnpm-lock.yaml` -> `pnpm x`, `yarn.lock` -> `yarn x`, `bun.lock`/`bun.lockb` -> `bun run x`,
`package-lock.json` -> npm), looking in the package's folder first and then upward (workspaces share the
lock file at the root). A script whose name is also a built-in command of yarn or pnpm runs with `run`.
Yarn 2+ runs no pre/post scripts of user scripts, and pnpm only with `enable-pre-post-scripts`: the hooks are
still listed, with a `hooks_run` note.

A script that runs another script of the same package (`npm run x`, `yarn x`, `pnpm x`, `bun run x`,
`run-s`/`run-p`/`npm-run-all` with globs, `concurrently "npm:x"`) depends on it.

JSON has no line numbers: each key's line is found by scanning the text with the standard JSON scanner, so
any formatting works and a key of the same name elsewhere in the file is never mistaken for the script.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import weakref
from json.decoder import scanstring
from typing import Any

from .. import shellwords
from ..datatext import load_json
from ..models import Task
from ..repo import FileText
from .base import DetectContext, Wants, basename, detector

LOCK_FILES = (
    ("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("bun.lock", "bun"), ("bun.lockb", "bun"),
    ("package-lock.json", "npm"), ("npm-shrinkwrap.json", "npm"),
)
NPM_DIRECT = {"test", "start", "stop", "restart"}
# npm's lifecycle events (npm docs, "scripts": life cycle operation order).
LIFECYCLE_EVENTS = {"install", "uninstall", "publish", "pack", "version", "test", "start", "stop", "restart",
                    "shrinkwrap", "prepare", "dependencies"}
LIFECYCLE_SCRIPTS = {
    "preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare", "prepublishOnly",
    "prepack", "postpack", "publish", "postpublish", "preversion", "version", "postversion", "dependencies",
    "preshrinkwrap", "shrinkwrap", "postshrinkwrap",
}
# Built-in commands that shadow a script name in `yarn <name>` / `pnpm <name>` (their CLI references).
YARN_BUILTINS = {
    "add", "audit", "autoclean", "bin", "cache", "check", "config", "constraints", "create", "dedupe", "dlx", "exec",
    "explain", "generate-lock-entry", "global", "help", "import", "info", "init", "install", "licenses", "link",
    "list", "login", "logout", "node", "npm", "outdated", "owner", "pack", "patch", "patch-commit", "plugin",
    "policies", "publish", "rebuild", "remove", "run", "search", "set", "stage", "tag", "team", "unlink", "unplug",
    "up", "upgrade", "upgrade-interactive", "version", "versions", "why", "workspace", "workspaces",
}
PNPM_BUILTINS = {
    "add", "approve-builds", "audit", "bin", "cat-file", "cat-index", "config", "create", "dedupe", "deploy", "dlx",
    "doctor", "env", "exec", "fetch", "find-hash", "i", "ignored-builds", "import", "init", "install",
    "install-test", "it", "licenses", "link", "list", "ln", "ls", "outdated", "pack", "patch", "patch-commit",
    "patch-remove", "prune", "publish", "rb", "rebuild", "recursive", "remove", "rm", "root", "run", "self-update",
    "server", "setup", "store", "un", "uninstall", "unlink", "up", "update", "why",
}
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = {"cross-env", "env", "time", "npx", "dotenv", "cross-env-shell"}
_CONCURRENTLY_OPTS_WITH_ARG = {"-n", "--names", "-c", "--prefix-colors", "-p", "--prefix", "-m", "--max-processes",
                               "-s", "--success", "-t", "--timestamp-format", "--restart-tries", "--restart-after",
                               "-l", "--prefix-length", "--default-input-target", "--name-separator"}
_OTHER_PACKAGE_FLAGS = {"-w", "--workspace", "--prefix", "-C", "--dir", "--filter", "-F", "-r", "--recursive",
                        "--workspaces", "-ws", "--cwd"}


PACKAGE_JSON = Wants(names=frozenset({"package.json"}), refine=lambda p: "bower_components" not in p.split("/"))


@detector("npm-scripts", wants=PACKAGE_JSON)
def detect_package_json(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    data = _load(ctx, file)
    if data is None:
        return
    if "scripts" not in data:
        return
    top = _members(file.text, _first_value_start(file.text))
    scripts_line = _line_of(file.text, top["scripts"][0]) if "scripts" in top else 1
    scripts = data["scripts"]
    if not isinstance(scripts, dict):
        ctx.diagnostic(path, f"'scripts' is {_json_type(scripts)}, not an object of script names to commands",
                       line=scripts_line)
        return
    places = _members(file.text, top["scripts"][1]) if "scripts" in top else {}
    manager = _package_manager(ctx, path, data)
    names = {n for n, v in scripts.items() if isinstance(v, str) and not n.startswith("//")}
    for name, command in scripts.items():
        if name.startswith("//"):
            continue  # the `"//": "comment"` idiom
        key_offset, _, value_end = places.get(name, (top["scripts"][0], 0, top["scripts"][0]))
        start, end = _line_of(file.text, key_offset), _line_of(file.text, max(key_offset, value_end - 1))
        if not isinstance(command, str):
            ctx.diagnostic(path, f"script '{name}' is {_json_type(command)}, not a command string", line=start)
            continue
        ctx.add_task(_task(ctx, path, name, command, names, manager, data, (start, end)))


def _task(
    ctx: DetectContext,
    path: str,
    name: str,
    command: str,
    names: set[str],
    manager: tuple[str, str | None, str],
    data: dict[str, Any],
    span: tuple[int, int],
) -> Task:
    tool, version, source = manager
    attributes: dict[str, str] = {"package_manager": tool, "package_manager_source": source}
    if version:
        attributes["package_manager_version"] = version
    if isinstance(data.get("name"), str):
        attributes["package"] = data["name"]
    hooks = [h for h in (f"pre{name}", f"post{name}") if h in names]
    hook_of = _hook_of(name, names)
    if hook_of:
        attributes["hook_of"] = hook_of
    if name in LIFECYCLE_SCRIPTS:
        attributes["lifecycle"] = "true"
    note = _hooks_note(tool, version, ctx, path)
    if note and (hooks or hook_of):
        attributes["hooks_run"] = note
    depends = [d for d in _script_calls(command, names) if d != name]
    return ctx.task(
        "npm", path, name,
        invocation=_invocation(tool, posixpath.dirname(path), name),
        depends_on=list(dict.fromkeys(depends)),
        commands=[ctx.command(command, path, *span)],
        hooks=hooks,
        attributes=attributes,
        evidence=ctx.evidence(path, *span),
    )


def _load(ctx: DetectContext, file: FileText) -> dict[str, Any] | None:
    try:
        data = load_json(file.text)
    except json.JSONDecodeError as exc:
        ctx.diagnostic(file.path, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                       line=exc.lineno)
        return None
    except RecursionError:
        ctx.diagnostic(file.path, "invalid JSON: nesting too deep to read")
        return None
    if not isinstance(data, dict):
        ctx.diagnostic(file.path, f"package.json is {_json_type(data)}, not an object", line=1)
        return None
    return data


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value, with its article: 'an array', 'a number', 'null'."""
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    names = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), "a value")


def _hook_of(name: str, names: set[str]) -> str | None:
    for prefix in ("pre", "post"):
        if name.startswith(prefix) and len(name) > len(prefix):
            base = name[len(prefix) :]
            if base in names or base in LIFECYCLE_EVENTS:
                return base
    return None


# -------------------------------------------------------------------- where each key is written

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _first_value_start(text: str) -> int:
    return _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]


def _members(text: str, start: int) -> dict[str, tuple[int, int, int]]:
    """Key -> (key offset, value start, value end) for the JSON object at `start`; the last duplicate wins,
    as in `json.loads`. The text is known to be valid JSON."""
    found: dict[str, tuple[int, int, int]] = {}
    if start >= len(text) or text[start] != "{":
        return found
    index = _WHITESPACE.match(text, start + 1).end()  # type: ignore[union-attr]
    if index < len(text) and text[index] == "}":
        return found
    while index < len(text):
        key_offset = index
        key, index = scanstring(text, index + 1)
        index = _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]
        index = _WHITESPACE.match(text, index + 1).end()  # type: ignore[union-attr]  # past ':'
        value_start = index
        _, index = _DECODER.raw_decode(text, index)
        found[key] = (key_offset, value_start, index)
        index = _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]
        if index >= len(text) or text[index] == "}":
            break
        index = _WHITESPACE.match(text, index + 1).end()  # type: ignore[union-attr]  # past ','
    return found


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# -------------------------------------------------------------------- package manager and invocation

_pm_cache: weakref.WeakKeyDictionary[DetectContext, dict[str, str | None]] = weakref.WeakKeyDictionary()


def _package_manager(ctx: DetectContext, path: str, data: dict[str, Any]) -> tuple[str, str | None, str]:
    """(tool, version or None, where it was seen): own packageManager, then lock files and the packageManager
    of package.json files in the folders above."""
    own = _parse_package_manager(data.get("packageManager"))
    if own is not None:
        return own[0], own[1], f"{path} packageManager"
    directory = posixpath.dirname(path)
    while True:
        if directory != posixpath.dirname(path):
            manifest = posixpath.join(directory, "package.json") if directory else "package.json"
            declared = _declared_manager(ctx, manifest)
            if declared is not None:
                parsed = _parse_package_manager(declared)
                if parsed is not None:
                    return parsed[0], parsed[1], f"{manifest} packageManager"
        for lock, tool in LOCK_FILES:
            candidate = posixpath.join(directory, lock) if directory else lock
            if ctx.exists(candidate):
                version = None
                if tool == "yarn":
                    berry = ctx.exists(posixpath.join(directory, ".yarnrc.yml") if directory else ".yarnrc.yml")
                    version = "2+" if berry else None
                return tool, version, candidate
        if not directory:
            return "npm", None, "default"
        directory = posixpath.dirname(directory)


def _declared_manager(ctx: DetectContext, manifest: str) -> str | None:
    cache = _pm_cache.setdefault(ctx, {})
    if manifest not in cache:
        value: str | None = None
        if ctx.exists(manifest):
            file = ctx.read(manifest)
            try:
                data = load_json(file.text) if file is not None else None
            except (json.JSONDecodeError, RecursionError):
                data = None  # that file's own scan reports it
            if isinstance(data, dict) and isinstance(data.get("packageManager"), str):
                value = data["packageManager"]
        cache[manifest] = value
    return cache[manifest]


def _parse_package_manager(value: Any) -> tuple[str, str | None] | None:
    """Corepack's `name@version[+sha...]` -> (name, version)."""
    if not isinstance(value, str):
        return None
    match = re.match(r"^\s*(npm|yarn|pnpm|bun)(?:@([^+\s]+))?", value)
    if not match:
        return None
    return match.group(1), match.group(2)


def _hooks_note(tool: str, version: str | None, ctx: DetectContext, path: str) -> str | None:
    if tool == "yarn" and version and not version.startswith("1"):
        return "no: yarn 2+ runs no pre/post scripts for user scripts"
    if tool == "pnpm":
        directory = posixpath.dirname(path)
        for npmrc in {posixpath.join(directory, ".npmrc") if directory else ".npmrc", ".npmrc"}:
            file = ctx.read(npmrc) if ctx.exists(npmrc) else None
            if file is not None and re.search(r"^\s*enable-pre-post-scripts\s*=\s*true", file.text, re.M):
                return None
        return "only when pnpm's enable-pre-post-scripts setting is true"
    return None


def _invocation(tool: str, directory: str, name: str) -> str:
    quoted = shlex.quote(name)
    if tool == "yarn":
        where = f" --cwd {directory}" if directory else ""
        return f"yarn{where} run {quoted}" if name in YARN_BUILTINS else f"yarn{where} {quoted}"
    if tool == "pnpm":
        where = f" -C {directory}" if directory else ""
        return f"pnpm{where} run {quoted}" if name in PNPM_BUILTINS else f"pnpm{where} {quoted}"
    if tool == "bun":
        where = f" --cwd {directory}" if directory else ""
        return f"bun run{where} {quoted}"
    where = f" --prefix {directory}" if directory else ""
    return f"npm{where} {quoted}" if name in NPM_DIRECT else f"npm{where} run {quoted}"


# -------------------------------------------------------------------- scripts that call scripts


def _script_calls(command: str, names: set[str], depth: int = 0) -> list[str]:
    """Scripts of this package that `command` runs, in order."""
    found: list[str] = []
    for words in _segments(command):
        found.extend(_segment_calls(words, names, depth))
    return found


def _segments(command: str) -> list[list[str]]:
    """Simple commands of a shell line, split at `&&`, `||`, `;`, `|` and `&`, quotes respected."""
    segments: list[list[str]] = [[]]
    try:
        for token in shellwords.split(command, operators=";&|", comments=True):
            if token and set(token) <= set(";&|"):
                segments.append([])
            else:
                segments[-1].append(token)
    except ValueError:  # an unclosed quote: fall back to plain words
        return [re.split(r"\s+", part.strip()) for part in re.split(r"&&|\|\||[;|&]", command)]
    return [s for s in segments if s]


def _segment_calls(words: list[str], names: set[str], depth: int) -> list[str]:
    words = _unwrap(words)
    if not words:
        return []
    program, args = basename(words[0]), words[1:]
    if program in ("npm", "pnpm", "yarn", "bun"):
        return _package_manager_call(program, args, names)
    if program in ("run-s", "run-p", "npm-run-all", "npm-run-all2"):
        patterns = [a for a in _until_double_dash(args) if not a.startswith("-")]
        return [n for pattern in patterns for n in _glob_scripts(pattern, names)]
    if program == "concurrently" and depth < 3:
        return _concurrently_calls(args, names, depth)
    return []


def _unwrap(words: list[str]) -> list[str]:
    """Drop `VAR=value` prefixes and wrappers such as `cross-env`, `env -i`, `npx --yes`, `dotenv -e x --`."""
    while words:
        first = words[0]
        if _ENV_ASSIGNMENT.match(first) or first == "--":
            words = words[1:]
        elif first in _WRAPPERS:
            words = words[1:]
            if first == "dotenv" and "--" in words:
                words = words[words.index("--") + 1 :]
            while words and words[0].startswith("-") and words[0] != "--":
                words = words[1:]
        else:
            break
    return words


def _package_manager_call(program: str, args: list[str], names: set[str]) -> list[str]:
    if any(a in _OTHER_PACKAGE_FLAGS or a.split("=", 1)[0] in _OTHER_PACKAGE_FLAGS for a in args):
        return []  # runs a script of another package
    positional = [a for a in _until_double_dash(args) if not a.startswith("-")]
    if not positional:
        return []
    verb = positional[0]
    if verb in ("run", "run-script", "rum", "urn"):
        return [positional[1]] if len(positional) > 1 and positional[1] in names else []
    if program == "npm":
        direct = {"t": "test", "tst": "test", "test": "test", "start": "start", "stop": "stop", "restart": "restart"}
        return [direct[verb]] if verb in direct and direct[verb] in names else []
    if program in ("yarn", "pnpm", "bun") and verb in names:
        builtins = YARN_BUILTINS if program == "yarn" else PNPM_BUILTINS if program == "pnpm" else {"test", "x"}
        return [verb] if verb not in builtins else []
    return []


def _concurrently_calls(args: list[str], names: set[str], depth: int) -> list[str]:
    found: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _CONCURRENTLY_OPTS_WITH_ARG:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        shortcut = re.match(r"^(npm|yarn|pnpm|bun):(.+)$", arg)
        if shortcut:
            found.extend(_glob_scripts(shortcut.group(2), names, any_depth=True))
        else:
            found.extend(_script_calls(arg, names, depth + 1))
    return found


def _until_double_dash(args: list[str]) -> list[str]:
    return args[: args.index("--")] if "--" in args else args


def _glob_scripts(pattern: str, names: set[str], *, any_depth: bool = False) -> list[str]:
    """npm-run-all globs: `*` stays within one `:`-separated part, `**` crosses them."""
    pattern = pattern.split(" ", 1)[0]
    if "*" not in pattern:
        return [pattern] if pattern in names else []
    if pattern.count("*") > 8:
        return []  # nobody writes that; a regex with that many wildcards could take very long to match
    parts = re.split(r"(\*\*|\*)", pattern)
    single = ".*" if any_depth else "[^:]*"
    regex = "".join(".*" if p == "**" else single if p == "*" else re.escape(p) for p in parts)
    return sorted(n for n in names if re.fullmatch(regex, n))
