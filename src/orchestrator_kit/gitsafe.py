"""The one way this package runs git: read-only commands that cannot start a program a repository names.

A repository's own configuration (`.git/config`, its `include.path`/`includeIf` files, `.git/info/attributes`,
`.gitattributes`) can name programs for git to run: `filter.<driver>.clean/smudge/process`,
`diff.<driver>.textconv/command`, `diff.external`, `core.fsmonitor`, `core.hooksPath` hooks, `core.pager`,
`core.sshCommand`, `credential.helper`, `core.askPass`, `gpg.program` (through `log.showSignature`),
`core.alternateRefsCommand`, `uploadpack.*` and `remote.*` settings. The driver names are the repository's choice,
so no list of `-c` overrides can reach all of them. Safety therefore rests on three layers, strongest first:

1. **Only commands that never reach those keys** (`check_command`, enforced on every call): git runs a clean filter
   only when it reads work-tree content into git (`add`, `status`, `diff` against the work tree, `ls-files -m`,
   `hash-object --path`), a smudge filter only when it writes the work tree, textconv and external diff only for
   patch output, gpg only for signature output, hooks only for commands that change the repository, and ssh,
   credential and upload-pack programs only for transport. The allow-list below holds none of those: `rev-parse`,
   `ls-files` (listing options only), `for-each-ref` and `rev-list` (no signature placeholders), `log` and
   `diff-tree` (numstat between commits, with `--no-ext-diff --no-textconv --no-show-signature` required),
   `hash-object -t tree --stdin` (stdin without `--path` is never filtered) and `config --get*`. Anything else
   raises `UnsafeGitCommand` before a process starts.
2. **Configuration overrides** (`SAFE_CONFIG`, passed with `-c`, which beats repository config): fsmonitor off,
   hooks pointed at an empty path, no pager, no signatures, no transports at all (`protocol.allow=never`, so no
   fetch, ssh command, credential helper or upload-pack), credential helpers reset.
3. **A clean environment**: no system config (`GIT_CONFIG_NOSYSTEM`), no user config (`GIT_CONFIG_GLOBAL` is the
   null device; only the user's `safe.directory` trust entries are carried over as `-c`), no inherited `GIT_*`
   variable, no prompt, no optional locks (a read never rewrites the index), no lazy fetch of a partial clone.

4. **History from the folder's own git directory only** (`gitlocation`): a `.git` file or symlink, a `commondir`
   or an `objects/info/alternates` entry can make git read another repository's history; such a repository is
   read as a folder without git, and the reason is reported.

`builder_command` is the one exception, for a repository this package creates itself (`build-sample`): a fresh
`git init` in an empty folder, with hooks off and no user or system config, so nothing in it names a program.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from .gitlocation import refusal_reason

# Layer 2: `-c` settings that override the repository's own configuration for every command.
SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),  # a hook program git would run to ask which files changed
    ("core.untrackedCache", "false"),
    ("core.hooksPath", os.devnull),  # hooks are looked up in a folder that cannot hold any
    ("core.pager", "cat"),  # "cat" means: no pager (and --no-pager is passed as well)
    ("core.quotePath", "false"),
    ("log.showSignature", "false"),  # signature checks run gpg.program
    ("protocol.allow", "never"),  # no transport: no fetch, core.sshCommand, credential or upload-pack program
    ("credential.helper", ""),  # an empty value resets the list of helpers
)

# Layer 1: the commands this package may run on a repository it reads, and the options each may take.
# `None` means any option (the command has none that run a program); a tuple lists the allowed option prefixes.
_ALLOWED: dict[str, tuple[str, ...] | None] = {
    "rev-parse": None,
    "ls-files": ("-z", "--cached", "--others", "--exclude-standard", "-s", "--stage", "--full-name", "--debug"),
    "for-each-ref": ("--format=", "--sort=", "--count="),
    "rev-list": ("--parents", "--stdin", "--all", "--first-parent", "--no-walk", "--max-count=", "-n", "--since=",
                 "--until=", "--date-order", "--topo-order", "--reverse", "--count", "--no-merges", "--merges",
                 "--tags", "--branches", "--remotes", "--full-history", "--simplify-merges", "--boundary"),
    "log": None,  # checked by _check_diff_command
    "diff-tree": None,  # checked by _check_diff_command
    "hash-object": ("-t", "--stdin"),
    "config": ("--get", "--get-all", "--get-regexp", "-z", "--null"),
    "check-attr": ("--cached", "-z", "--stdin"),  # reads attribute files as data
}
# Options that would let `log`/`diff-tree` run a configured program; and the ones they must carry.
_DIFF_FORBIDDEN = ("-p", "-u", "--patch", "--ext-diff", "--textconv", "--show-signature", "-W", "--function-context",
                   "--word-diff", "--color-words", "--stat", "--dirstat", "--check")
_DIFF_REQUIRED = ("--no-ext-diff", "--no-textconv", "--no-show-signature")

_USER_TRUST: tuple[str, ...] | None = None
_USER_TRUST_LOCK = threading.Lock()


class UnsafeGitCommand(ValueError):
    """A git command outside the allow-list: a bug in this package, refused before any process starts."""


def check_command(args: tuple[str, ...] | list[str]) -> None:
    """Raise UnsafeGitCommand unless `args` (subcommand first) is on the read-only allow-list above."""
    if not args:
        raise UnsafeGitCommand("no git subcommand given")
    sub, rest = args[0], list(args[1:])
    if sub not in _ALLOWED:
        raise UnsafeGitCommand(f"git {sub} is not on the read-only allow-list (it could run a repository's program)")
    options = rest[: rest.index("--")] if "--" in rest else rest
    allowed = _ALLOWED[sub]
    for option in options:
        if "%G" in option or "%(signature" in option:
            raise UnsafeGitCommand(f"git {sub} {option!r}: signature placeholders run gpg")
        if allowed is not None and option.startswith("-") and not option.startswith(allowed):
            raise UnsafeGitCommand(f"git {sub} {option!r} is not an allowed option")
    if sub in ("log", "diff-tree"):
        _check_diff_command(sub, options)
    if sub == "hash-object" and [o for o in options if o.startswith("-")] != ["-t", "--stdin"]:
        raise UnsafeGitCommand("git hash-object is allowed only as `hash-object -t tree --stdin` (never filtered)")
    if sub == "config" and not any(o.startswith("--get") for o in options):
        raise UnsafeGitCommand("git config is allowed only to read a value (--get, --get-all, --get-regexp)")
    if sub == "ls-files" and any(o in ("-m", "--modified") for o in options):  # belt: not in the list anyway
        raise UnsafeGitCommand("git ls-files -m reads work-tree files through clean filters")


def _check_diff_command(sub: str, options: list[str]) -> None:
    for option in options:
        if option in _DIFF_FORBIDDEN or option.startswith(("--ext-diff", "--textconv", "--show-signature",
                                                           "--stat=", "--dirstat=", "--output")):
            raise UnsafeGitCommand(f"git {sub} {option!r} could run a configured program or write a file")
    missing = [flag for flag in _DIFF_REQUIRED if flag not in options]
    if missing:
        raise UnsafeGitCommand(f"git {sub} needs {', '.join(missing)}")


def user_trust() -> tuple[str, ...]:
    """The user's own `safe.directory` entries (from their global config, read once): carried over as `-c` so
    that a repository the user already trusts still opens with GIT_CONFIG_GLOBAL emptied."""
    global _USER_TRUST
    with _USER_TRUST_LOCK:
        if _USER_TRUST is None:
            try:
                env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
                proc = subprocess.run(["git", "config", "--global", "-z", "--get-all", "safe.directory"],
                                      capture_output=True, env={**env, "GIT_CONFIG_NOSYSTEM": "1"}, timeout=30,
                                      check=False, cwd=os.path.expanduser("~") if os.path.isdir(
                                          os.path.expanduser("~")) else "/", stdin=subprocess.DEVNULL)
                values = proc.stdout.decode("utf-8", "surrogateescape").split("\x00") if proc.returncode == 0 else []
            except (OSError, subprocess.SubprocessError):
                values = []
            _USER_TRUST = tuple(v for v in values if v)
        return _USER_TRUST


def _config_args(extra: tuple[tuple[str, str], ...] = ()) -> list[str]:
    args: list[str] = []
    for key, value in (*SAFE_CONFIG, *extra, *(("safe.directory", v) for v in user_trust())):
        args += ["-c", f"{key}={value}"]
    return args


def git_command(root: Path | str, *args: str) -> list[str]:
    """The argv of an allowed read-only git command run in `root` (raises UnsafeGitCommand otherwise).

    When the repository's git directory lies where the folder's own content should not reach (see
    `gitlocation.refusal`), the command is pointed at the null device as its git directory: git then fails exactly
    as in a folder without git, so every caller takes its no-git path; they say why with `refusal(root)`."""
    check_command(args)
    pinned = ["--git-dir=" + os.devnull] if refusal(root) else []
    return ["git", "--no-pager", *_config_args(), "-C", str(root), *pinned, *args]


_LOCATIONS: dict[tuple[str, tuple[int, int, int] | None], tuple[str | None, str | None]] = {}
_LOCATIONS_LOCK = threading.Lock()
_LOCATIONS_MAX = 256


def _dot_git_stamp(folder: str) -> tuple[int, int, int] | None:
    try:
        st = os.lstat(os.path.join(folder, ".git"))
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def refusal(root: Path | str) -> str | None:
    """Why git must not read `root`'s history (see `gitlocation`), or None. Asks git where the repository's git
    directories are (`rev-parse`, which reads the `.git` file and config and runs nothing); the answer is kept
    until the folder's `.git` entry changes. A folder git does not see as a repository is not refused: git fails
    there by itself."""
    return _location(root)[0]


def git_dir(root: Path | str) -> str | None:
    """The absolute git directory of `root`, from the same `rev-parse` (and cache) as `refusal`: None when git sees
    no repository there or `refusal` refuses it. Its `index` file is the one git reads for `root` (git's
    `GIT_INDEX_FILE` is never passed on, see `git_env`), so no second process is needed to ask `--git-path index`."""
    reason, directory = _location(root)
    return None if reason else directory


def _location(root: Path | str) -> tuple[str | None, str | None]:
    """(refusal reason, absolute git directory) of `root`, cached until its `.git` entry changes."""
    folder = os.path.realpath(root)
    key = (folder, _dot_git_stamp(folder))
    with _LOCATIONS_LOCK:
        if key in _LOCATIONS:
            return _LOCATIONS[key]
    try:
        proc = subprocess.run(
            ["git", "--no-pager", *_config_args(), "-C", folder, "rev-parse", "--absolute-git-dir",
             "--git-common-dir"], capture_output=True, env=git_env(), timeout=30, check=False,
            stdin=subprocess.DEVNULL)
        lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
        found = proc.returncode == 0 and len(lines) >= 2 and bool(lines[0]) and bool(lines[1])
    except (OSError, subprocess.SubprocessError):
        found = False
    # The common directory comes relative to the folder git ran in when it is not absolute.
    reason = refusal_reason(folder, lines[0], os.path.join(folder, lines[1])) if found else None
    answer = (reason, lines[0] if found else None)
    with _LOCATIONS_LOCK:
        if len(_LOCATIONS) >= _LOCATIONS_MAX:
            _LOCATIONS.clear()
        _LOCATIONS[key] = answer
    return answer


def git_env() -> dict[str, str]:
    """The environment for git: no inherited `GIT_*` variable, no system or user config, no prompts, no optional
    locks (a read never writes the index), no lazy fetch (a partial clone stays offline), the C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0", "GIT_NO_LAZY_FETCH": "1", "GIT_NO_REPLACE_OBJECTS": "1", "LC_ALL": "C",
    })
    return env


def run_git(root: Path | str, *args: str, timeout: float = 120,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run an allowed git command in `root` and return the finished process (never raises for a non-zero exit)."""
    return subprocess.run(git_command(root, *args), capture_output=True, env=git_env(), timeout=timeout,
                          check=False, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


# Commands that build a repository this package created itself (never one it was given to read).
_BUILDER_ALLOWED = frozenset({"init", "add", "commit", "revert", "tag", "rev-parse", "switch", "merge"})
_BUILDER_CONFIG = (("commit.gpgSign", "false"), ("tag.gpgSign", "false"), ("init.templateDir", ""))


def builder_command(dest: Path | str, *args: str) -> list[str]:
    """The argv of a git command that builds a fresh repository in `dest`, an empty folder this package created:
    its config is git's default (no user or system config, no template), so it names no program; hooks are off."""
    if not args or args[0] not in _BUILDER_ALLOWED:
        raise UnsafeGitCommand(f"git {args[0] if args else ''} is not a repository-building command")
    return ["git", "--no-pager", *_config_args(_BUILDER_CONFIG), "-C", str(dest), *args]
