"""`--exclude GLOB` and the team config's `[scan] exclude`: paths left out of the scan and of the git history.

A glob is relative to the repository root, with `/` separators; `*` and `?` match within and across folders
(fnmatch), and a glob that matches a folder leaves out everything under it (`vendor` or `vendor/*` both drop
`vendor/a/b.py`). Globs are checked like path filters: no pathspec magic (`:`), no absolute path, no `..`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from .errors import InputError

MAX_EXCLUDES = 100
MAX_GLOB_CHARS = 300


def check_excludes(globs: Sequence[str]) -> list[str]:
    """The globs normalized (`\\` to `/`, no trailing `/`), or InputError naming the first bad one."""
    if len(globs) > MAX_EXCLUDES:
        raise InputError(f"At most {MAX_EXCLUDES} exclude globs (got {len(globs)}).")
    clean: list[str] = []
    for raw in globs:
        glob = raw.replace("\\", "/").strip().rstrip("/")
        if "\x00" in raw:
            raise InputError(f"Exclude glob {raw[:60]!r} contains a NUL character.")
        if len(raw) > MAX_GLOB_CHARS:
            raise InputError(f"Exclude glob {raw[:60]!r}... is too long (over {MAX_GLOB_CHARS} characters).")
        if not glob:
            # `\` is a separator here (Windows paths are accepted): `\` or `/` alone names no file or folder
            raise InputError(f"Exclude glob '{raw}' names nothing: it is empty, or only separators ('/' or '\\') "
                             "and spaces.")
        if glob.startswith((":", "-", "/")) or ".." in glob.split("/"):
            raise InputError(f"Exclude glob '{raw}' must be relative to the repository (no leading ':', '-' or '/', "
                             "no '..').")
        clean.append(glob)
    return clean


def excluded(path: str, globs: Iterable[str]) -> bool:
    """Whether `path` (relative, `/` separators) or one of its folders matches a glob."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatchcase(prefix, glob) for glob in globs for prefix in prefixes)


def exclude_pathspecs(globs: Iterable[str]) -> list[str]:
    """Git pathspecs leaving the globs (and everything under a matching folder) out of `git log`."""
    specs: list[str] = []
    for glob in globs:
        specs += [f":(exclude,glob){glob}", f":(exclude,glob){glob}/**"]
    return specs
