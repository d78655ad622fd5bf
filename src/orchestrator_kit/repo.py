"""`Workspace`: the one door to a repository's files and its git metadata.

Everything that reads a repository goes through here, so that these hold everywhere:

* **confinement**: the root is held open as a directory descriptor (opened without following links, or beneath
  a trusted folder with `within`), and every file is opened relative to it (`beneath.open_beneath`: openat2
  RESOLVE_BENEATH, or a component walk with O_NOFOLLOW), so a symlink swapped in mid-read cannot lead out; `..`,
  absolute paths and symlinks that leave the root are refused with `ConfinementError` (never naming the target);
* **listing**: `git ls-files --cached --others --exclude-standard` where the root is in a git work tree (tracked
  plus untracked-not-ignored files); elsewhere a walk that honours every `.gitignore` on the way down, never
  follows a directory symlink (so a symlink loop cannot trap it) and skips dependency/cache folders;
* **reading**: regular files only (never a FIFO or device), a size cap, binary detection (a NUL byte in the
  first 8 KiB), and an encoding fallback (UTF-8, UTF-8/16 with BOM, then Latin-1, which always decodes);
* **no execution of repository content**: git runs only through `gitsafe` (read-only commands that never reach
  a filter, hook, textconv, pager, helper or transport a hostile `.git/config` names);
* **redaction**: `Workspace.redact` hides secrets in any text about to leave.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .background import Background
from .beneath import open_beneath, open_dir_nofollow
from .errors import ConfinementError, InputError, ReadError
from .gitsafe import git_command as git_command
from .gitsafe import git_env as git_env
from .gitsafe import refusal
from .gitsafe import run_git as run_git
from .limits import DEFAULT_MAX_FILE_BYTES as DEFAULT_MAX_FILE_BYTES
from .limits import DEFAULT_MAX_FILES as DEFAULT_MAX_FILES

if TYPE_CHECKING:
    import pathspec

    from .models import GitInfo  # the pydantic models load only when a caller asks for GitInfo (`tokens` never does)

BINARY_SNIFF_BYTES = 8192

# Folders a walk (no git) never enters: package caches and virtualenvs hold thousands of files nobody wrote.
WALK_SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox", ".mypy_cache",
        ".pytest_cache", ".ruff_cache", ".terraform", ".orchestrator-kit",
    }
)

@dataclass(frozen=True)
class FileText:
    """A file read as text. `text` has `\\n` line ends; `note` says when a fallback encoding was used."""

    path: str
    text: str
    encoding: str
    size: int
    note: str | None = None
    _lines: list[str] = field(default_factory=list, repr=False, compare=False)
    # sha256 of the bytes the text was decoded from, when the reader asked for it (`read_text(digest=True)`)
    digest: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def line_count(self) -> int:
        """The number of the last line (a final newline does not start another line); at least 1."""
        return max(1, self.text.count("\n") + (0 if self.text.endswith("\n") else 1))

    @property
    def lines(self) -> list[str]:
        """The text split on newlines; index i holds line i+1."""
        if not self._lines:
            self._lines.extend(self.text.split("\n"))
        return self._lines


@dataclass
class Listing:
    """The files of a workspace, as POSIX paths relative to the root, and what went wrong while listing."""

    files: list[str]
    source: str  # "git" or "walk"
    problems: list[tuple[str, str]] = field(default_factory=list)


class Workspace:
    """A repository root, confined and read safely. Create one per scan; it caches the listing."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_files: int = DEFAULT_MAX_FILES,
        within: str | os.PathLike[str] | None = None,
    ) -> None:
        given = os.fspath(root)
        if "\x00" in given:
            raise InputError("The path contains a NUL character.")
        try:
            resolved = Path(os.path.realpath(given))
        except (OSError, ValueError) as exc:
            raise InputError(f"Cannot resolve path '{given}': {exc}") from exc
        if not resolved.exists():
            raise InputError(f"Path '{given}' does not exist.")
        if not resolved.is_dir():
            raise InputError(f"Path '{given}' is not a directory.")
        if not os.access(resolved, os.R_OK | os.X_OK):
            raise InputError(f"Directory '{given}' is not readable.")
        self._root_fd = _open_root(given, resolved, within)
        weakref.finalize(self, os.close, self._root_fd)
        self.root = resolved
        self._root_str = str(resolved)
        self._root_prefix = self._root_str.rstrip(os.sep) + os.sep
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self._listing: Listing | None = None
        # Listed name -> the name on disk, for names that are not UTF-8 (see `_shown_names`); nearly always empty.
        self._disk_names: dict[str, str] = {}
        self._git_info: GitInfo | None = None
        self._git_lines: list[str] | None = None  # what `rev-parse` printed; None: not a git work tree
        self._git_checked = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------ confinement

    @staticmethod
    def _relative(rel: str) -> str:
        """`rel` as a `/`-separated relative path, or ConfinementError (checked before any file-system call)."""
        if not rel or "\x00" in rel:
            raise ConfinementError(f"Path '{rel}' is not a valid relative path.")
        if rel.startswith("-"):
            raise ConfinementError(f"Path '{rel}' starts with '-' and could be read as an option.")
        posix = rel.replace("\\", "/")
        if posix.startswith("/") or ".." in posix.split("/"):
            raise ConfinementError(f"Path '{rel}' is outside the repository.")
        # An ASCII path (nearly every one) has no other spelling of `.git` than its case: NFKC leaves ASCII as it
        # is and casefold lowers it, so one lower-casing of the whole path decides without a call per part.
        if posix.isascii():
            in_git = ".git" in posix.lower().split("/")
        else:
            in_git = any(is_git_dir_name(part) for part in posix.split("/"))
        if in_git:
            raise ConfinementError(f"Path '{rel}' is inside .git, which no tool reads (it holds the repository's "
                                   "configuration and credentials); read the work tree instead.")
        return posix

    def resolve(self, rel: str) -> Path:
        """The real path of `rel`, which must be relative and stay inside the root once symlinks are followed.
        For deciding, not for opening: reads go through `open` (descriptor-relative, race-free)."""
        posix = self.disk_name(self._relative(rel))
        # String operations rather than pathlib: this runs for every file a scan reads.
        real = os.path.realpath(os.path.join(self._root_str, posix))
        if real != self._root_str and not real.startswith(self._root_prefix):
            # The target is not named: it lies outside the root, and the message may leave the machine.
            raise ConfinementError(f"Path '{rel}' is outside the repository (a symlink on it leads out); refused.")
        return Path(real)

    def is_executable(self, rel: str) -> bool:
        """Whether `rel` is a regular file with an executable bit (a stat of its resolved path; nothing is run).
        False when it cannot be looked at or lies outside the root."""
        try:
            mode = os.stat(self.resolve(rel)).st_mode
        except (OSError, ConfinementError):
            return False
        return stat.S_ISREG(mode) and bool(mode & 0o111)

    def relative(self, given: str | os.PathLike[str]) -> str:
        """The repository-relative POSIX path of a path a person typed: absolute, or relative to the repository
        when it names something there, else to the working directory. ConfinementError unless it resolves (symlinks
        followed) inside the root."""
        path = Path(given)
        if path.is_absolute():
            candidate = path
        else:
            inside = self.root / path
            candidate = inside if os.path.lexists(inside) else Path.cwd() / path
        real = os.path.realpath(candidate)
        if real != self._root_str and not real.startswith(self._root_prefix):
            raise ConfinementError(f"Path '{given}' is outside the repository '{self.root}'.")
        rel = Path(os.path.relpath(real, self._root_str)).as_posix()
        if self._all_utf8(rel):
            return rel
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # as listed (`_shown_names`)
        self._disk_names.setdefault(shown, rel)
        return shown

    def open(self, rel: str, flags: int = os.O_RDONLY) -> int:
        """A descriptor for `rel`, opened relative to the root's descriptor so that no symlink (not even one
        swapped in while we open) leads outside (see `beneath`). Raises ConfinementError or ReadError."""
        posix = self.disk_name(self._relative(rel))
        try:
            return open_beneath(self._root_fd, posix, flags | getattr(os, "O_NOCTTY", 0))
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                raise ConfinementError(f"Path '{rel}' is outside the repository (a symlink on it leads out); refused."
                ) from None
            if exc.errno == errno.ENXIO:  # a socket (or a device without a driver): open() cannot read it
                raise ReadError(rel, "not a regular file (FIFO, socket or device); not read") from None
            raise ReadError(rel, _os_reason(exc)) from None

    # ------------------------------------------------------------ git

    def git_info(self) -> GitInfo | None:
        """HEAD, branch, shallow and empty flags; None when the root is not inside a git work tree."""
        lines = self._git_probe()
        if lines is None:
            return None
        with self._lock:
            if self._git_info is None:
                from .models import GitInfo

                shallow = len(lines) > 1 and lines[1].strip() == "true"
                if len(lines) >= 4 and lines[2].strip():
                    head, ref = lines[2].strip(), lines[3].strip()
                    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
                    self._git_info = GitInfo(head=head, branch=branch, shallow=shallow, empty=False)
                else:
                    self._git_info = GitInfo(head=None, branch=None, shallow=shallow, empty=True)
            return self._git_info

    def in_git(self) -> bool:
        """Whether the root is inside a git work tree (the same one `rev-parse` as `git_info`, without building
        its model: the warm `tokens` path loads no pydantic)."""
        return self._git_probe() is not None

    def _git_probe(self) -> list[str] | None:
        """The lines `git rev-parse` printed for the root (run once), or None outside a git work tree."""
        with self._lock:
            if self._git_checked:
                return self._git_lines
            self._git_checked = True
            try:
                # One call in the common case: top level, shallow flag, the branch ref and the commit of HEAD.
                proc = run_git(self.root, "rev-parse", "--show-toplevel", "--is-shallow-repository", "HEAD",
                               "--symbolic-full-name", "HEAD")
                if proc.returncode != 0:  # no work tree, or an empty repository (HEAD names no commit yet)
                    proc = run_git(self.root, "rev-parse", "--show-toplevel", "--is-shallow-repository")
                    if proc.returncode != 0:
                        return None
            except (OSError, subprocess.SubprocessError):
                return None
            self._git_lines = proc.stdout.decode("utf-8", "replace").split("\n")
            return self._git_lines

    # ------------------------------------------------------------ listing

    def listing(self) -> Listing:
        """All files of the workspace (cached). Git's view where there is git, a .gitignore-aware walk otherwise."""
        if self._listing is None:
            # The first time, git is asked whether the root is a work tree and for the listing at once (the
            # listing in a thread): the first answer decides whether the second is used, as when they ran in turn.
            early = None
            if not self._git_checked:
                refusal(self.root)  # asked once here (and cached), so that the two commands need not both ask it
                early = Background("workspace-ls-files", self._ls_files)
            listing = self._list_with_git(early) if self.in_git() else None
            if early is not None and listing is None:
                early.result()  # not a work tree: that listing is dropped
            if listing is None:
                listing = self._walk()
                refused = refusal(self.root)
                if refused:
                    listing.problems.append((".", f"git not used: {refused}; listed files with a directory walk"))
            if len(listing.files) > self.max_files:
                listing.problems.append(
                    (".", f"{len(listing.files)} files listed; only the first {self.max_files} are scanned")
                )
                listing.files = listing.files[: self.max_files]
            self._listing = listing
        return self._listing

    def files(self) -> list[str]:
        return self.listing().files

    def disk_name(self, rel: str) -> str:
        """The name on disk of a listed path: itself, except for a name that is not UTF-8 (see `_shown_names`).
        A name shown so (with U+FFFD) that this workspace has not listed yet is looked up in its listing."""
        if "\ufffd" in rel and rel not in self._disk_names and self._listing is None:
            self.listing()
        return self._disk_names.get(rel, rel) if self._disk_names else rel

    def _shown_names(self, files: list[str]) -> list[str]:
        """`files` with each name that is not UTF-8 shown as text: its bytes decoded with U+FFFD for those that are
        not UTF-8, as git's output is everywhere else (the history's paths). Python lists such a name with
        surrogates (surrogateescape), which opens the file but no JSON can hold: a repository with one file named
        in Latin-1 made `scan`, `metrics` and `tokens --format json` and most MCP tools fail with a
        PydanticSerializationError ("Internal error"; found by a hostile-input hunt). The listed name opens the file
        through `disk_name`. Two names that differ only in such bytes show alike: the first is kept."""
        shown: dict[str, str] = {}
        for name in files:
            if name.isascii():
                shown.setdefault(name, name)
                continue
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                if text not in shown:
                    shown[text] = name
                    self._disk_names[text] = name
            else:
                shown.setdefault(name, name)
        return sorted(shown)

    @staticmethod
    def _all_utf8(text: str) -> bool:
        if text.isascii():  # nearly every repository: one pass in C
            return True
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True

    def _ls_files(self) -> subprocess.CompletedProcess[bytes] | None:
        try:
            return run_git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        except (OSError, subprocess.SubprocessError):
            return None

    def _list_with_git(self, early: Background[subprocess.CompletedProcess[bytes] | None] | None = None
                       ) -> Listing | None:
        proc = early.result() if early is not None else self._ls_files()
        if proc is None:
            return None
        if proc.returncode != 0:
            listing = self._walk()
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            listing.problems.append((".", f"git ls-files failed ({reason[-1] if reason else 'no message'}); "
                                          "listed files with a directory walk instead"))
            return listing
        # One decode for the whole listing (the same result as os.fsdecode per path, without 20,000 calls);
        # a set drops the repeats git prints for a path with a merge conflict (once per stage).
        text = proc.stdout.decode(sys.getfilesystemencoding(), "surrogateescape")
        files = sorted({rel for rel in text.split("\x00") if rel})
        if not self._all_utf8(text):
            files = self._shown_names(files)
        return Listing(files=files, source="git")

    def _walk(self) -> Listing:
        files: list[str] = []
        problems: list[tuple[str, str]] = []
        # Each entry: (directory relative to root, its .gitignore spec or None).
        stack: list[tuple[str, list[tuple[str, pathspec.PathSpec]]]] = [("", [])]
        while stack:
            rel_dir, specs = stack.pop()
            # Listed through a descriptor opened beneath the root: a folder swapped for a symlink meanwhile is
            # refused, never followed outside.
            try:
                dir_fd = self.open(rel_dir or ".", os.O_RDONLY | os.O_DIRECTORY)
            except (ConfinementError, ReadError) as exc:
                problems.append((rel_dir or ".", f"cannot list directory: {getattr(exc, 'reason', exc)}"))
                continue
            try:
                with os.scandir(dir_fd) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                problems.append((rel_dir or ".", f"cannot list directory: {exc.strerror or exc}"))
                continue
            finally:
                os.close(dir_fd)
            ignore = next((e for e in entries if e.name == ".gitignore"), None)
            if ignore is not None and ignore.is_file(follow_symlinks=False):
                ignore_rel = f"{rel_dir}/.gitignore".lstrip("/")
                try:
                    lines = decode(self.read_bytes(ignore_rel))[0] or ""
                    specs = [*specs, (rel_dir, _gitignore_spec(lines.splitlines(), ignore_rel, problems))]
                except (ReadError, ConfinementError) as exc:
                    problems.append((ignore_rel, f"cannot read: {getattr(exc, 'reason', exc)}"))
            subdirs: list[str] = []
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir and entry.name in WALK_SKIP_DIRS:
                    continue
                if _ignored(specs, rel, is_dir):
                    continue
                if is_dir:
                    subdirs.append(rel)
                else:
                    files.append(rel)
            stack.extend((d, specs) for d in reversed(subdirs))
        files.sort()
        if not self._all_utf8("".join(files)):
            files = self._shown_names(files)
        return Listing(files=files, source="walk", problems=problems)

    # ------------------------------------------------------------ reading

    def read_bytes(self, rel: str) -> bytes:
        """A regular file inside the root, at most `max_file_bytes`. Raises ReadError or ConfinementError.
        Opened without blocking (a FIFO swapped in cannot hang the read) and checked on the open descriptor."""
        fd = self.open(rel, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise ReadError(rel, "is a directory")
            if not stat.S_ISREG(st.st_mode):
                raise ReadError(rel, "not a regular file (FIFO, socket or device); not read")
            if st.st_size > self.max_file_bytes:
                raise ReadError(rel, f"file is {st.st_size} bytes, over the {self.max_file_bytes}-byte cap; not read")
            data = _read_upto(fd, self.max_file_bytes + 1, st.st_size)
        except OSError as exc:
            raise ReadError(rel, _os_reason(exc)) from None
        finally:
            os.close(fd)
        if len(data) > self.max_file_bytes:
            raise ReadError(rel, f"file grew over the {self.max_file_bytes}-byte cap while being read; not read")
        return data

    def read_text(self, rel: str, *, digest: bool = False) -> FileText:
        """A text file inside the root, decoded. Binary files raise ReadError; odd encodings fall back with a note.
        `digest`: with the sha256 of its bytes (the scan memo keys files by it: the text is a function of them)."""
        data = self.read_bytes(rel)
        text, encoding, note = decode(data)
        if text is None:
            raise ReadError(rel, "binary file (contains NUL bytes); not read as text")
        if not digest:
            return FileText(path=rel, text=text, encoding=encoding, size=len(data), note=note)
        import hashlib  # here: --help and the MCP server's start import this module, not OpenSSL's bindings

        return FileText(path=rel, text=text, encoding=encoding, size=len(data), note=note,
                        digest=hashlib.sha256(data).digest())

    # ------------------------------------------------------------ redaction

    @staticmethod
    def redact(text: str, path: str = "") -> str:
        """`text` with secrets replaced by `[REDACTED:<type>]` (see `redaction`)."""
        redact_text = _redactor[0]
        if redact_text is None:
            # Its rules compile ~25 patterns: loaded by the first text that leaves. A scan redacts thousands of
            # texts: the import statement runs once, not for each.
            from .redaction import redact_text as loaded

            redact_text = _redactor[0] = loaded
        return redact_text(text, path)


def _read_upto(fd: int, limit: int, size: int) -> bytes:
    """At most `limit` bytes from `fd`, up to its end: `os.read` calls until one returns nothing, the first asking
    for the `size` the file had (plus one byte, to see the end at once), the next ones for what a file that grew
    since may still hold. (A buffered file object around the descriptor did the same reads, at the cost of building
    it for every file of a scan.)"""
    data = os.read(fd, min(limit, size + 1))
    if not data or len(data) >= limit:
        return data
    chunks = [data]
    total = len(data)
    while total < limit:
        chunk = os.read(fd, min(limit - total, max(size, 1 << 16)))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks) if len(chunks) > 1 else data


_redactor: list[Callable[[str, str], str] | None] = [None]  # `redaction.redact_text`, once imported


def is_git_dir_name(part: str) -> bool:
    """Whether a path part names git's folder, in any case or Unicode spelling a file system may equate with it."""
    import unicodedata

    return unicodedata.normalize("NFKC", part).casefold() == ".git"


def decode(data: bytes) -> tuple[str | None, str, str | None]:
    """(text, encoding, note) for raw bytes; text is None for binary data.

    Order: a BOM decides (UTF-8, UTF-16 LE/BE); then strict UTF-8; then Latin-1, which decodes any bytes,
    with a note naming the first byte that was not UTF-8. Line ends are normalized to `\\n`.
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec.replace("-sig", ""))
            except UnicodeDecodeError:
                break
            return _normalize_newlines(text), codec, f"decoded as {codec} (byte order mark)"
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return None, "binary", None
    try:
        return _normalize_newlines(data.decode("utf-8")), "utf-8", None
    except UnicodeDecodeError as exc:
        note = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); decoded as Latin-1"
        return _normalize_newlines(data.decode("latin-1")), "latin-1", note


def _normalize_newlines(text: str) -> str:
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _gitignore_spec(lines: list[str], path: str, problems: list[tuple[str, str]]) -> pathspec.GitIgnoreSpec:
    """A .gitignore's patterns; a line git cannot use either (e.g. a lone `!`) is skipped and reported."""
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError):
        pass  # find the bad lines one by one
    usable: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except (ValueError, TypeError) as exc:  # pathspec's pattern errors are ValueErrors
            problems.append((path, f"line {number}: invalid pattern {line!r} ignored ({exc})"))
            continue
        usable.append(line)
    return pathspec.GitIgnoreSpec.from_lines(usable)


def _ignored(specs: Sequence[tuple[str, object]], rel: str, is_dir: bool) -> bool:
    """Whether any .gitignore on the way down ignores `rel` (the deepest one that matches decides)."""
    decision = False
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        if is_dir:
            sub += "/"
        result = spec.check_file(sub)  # type: ignore[attr-defined]
        if result.include is not None:
            decision = bool(result.include)
    return decision


def _open_root(given: str, resolved: Path, within: str | os.PathLike[str] | None) -> int:
    """The root's directory descriptor. Without `within`: the resolved path opened with no symlink followed (a
    component swapped for a link since `realpath` makes this fail). With `within` (a trusted folder, such as an MCP
    server's root): the folder is opened beneath `within`'s descriptor, so it cannot have been redirected outside."""
    try:
        if within is None:
            return open_dir_nofollow(str(resolved))
        base = os.path.realpath(os.fspath(within))
        rel = os.path.relpath(str(resolved), base)
        if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
            raise ConfinementError(f"Path '{given}' is outside '{base}'.")
        base_fd = open_dir_nofollow(base)
        try:
            return open_beneath(base_fd, rel, os.O_RDONLY | os.O_DIRECTORY)
        finally:
            os.close(base_fd)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.ELOOP):
            raise ConfinementError(f"Path '{given}' changed into a symlink while it was opened; refused.") from None
        raise InputError(f"Cannot open directory '{given}': {exc.strerror or exc}") from None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "file vanished or is a dangling symlink"
    if exc.errno == errno.ENXIO:
        return "not a readable file (no such device or address)"
    return exc.strerror or str(exc)
