"""The Writer: the only code that writes into a repository. Plan, review the diff, apply, undo.

Rules, each enforced here and tested:

* **confined**: a path is relative, has no `..`, `.` or empty part, no NUL or control character, no `.git`
  part (any case) and does not touch `.orchestrator-kit/` (the audit log's folder). Directories are walked
  from the root with `openat(O_DIRECTORY | O_NOFOLLOW)`, so a symlink anywhere on the way (even one that
  points back inside) is refused, and a directory swapped for a symlink mid-way cannot redirect a write.
  The realpath of the target must also stay `relative_to` the root.
* **no surprise overwrites**: a plan records each file's current sha256 (None: must not exist). `apply`
  re-reads the file without following symlinks and refuses when anything changed, including a file
  replaced by a symlink. A create is exclusive (`O_CREAT | O_EXCL | O_NOFOLLOW`); an update writes a
  temporary file in the same directory and `os.replace`s it over the old one (atomic; a hard-linked twin
  keeps its content). Modes are kept on update; scripts get their execute bits.
* **reviewed**: `apply` takes the plan hash the reviewer saw; a different hash is refused.
* **audited**: every applied change is appended to `.orchestrator-kit/audit.jsonl` with the previous content
  (base64) and an HMAC keyed by a secret outside the repository (`auditkey`); `undo` acts only on entries whose HMAC
  verifies for this repository (a committed, copied or edited log is ignored), restores the previous content (or
  removes a created file) only while the file still holds what was written, and never sets a setuid, setgid or
  sticky bit (every mode the Writer sets is masked with 0o777).
* **serialized**: `apply` and `undo` hold an exclusive `flock` on `.orchestrator-kit/lock` from the first check of
  a file's hash to the last audit entry, so two applies on one file (threads or processes) cannot both pass the
  check and the second overwrite the first: the second sees the changed hash and is refused.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ConfinementError, InputError
from ..redaction import redact_text
from .auditkey import audit_key, sign, verified
from .results import AppliedChange, ApplyResult, FileChange, PlanView, UndoneChange, UndoResult

AUDIT_DIR = ".orchestrator-kit"
AUDIT_LOG = f"{AUDIT_DIR}/audit.jsonl"
MAX_WRITE_BYTES = 1024 * 1024
MAX_FILES_PER_PLAN = 100
MAX_AUDIT_BYTES = 64 * 1024 * 1024
MAX_DIFF_CHARS = 200_000
_PATH_MAX, _NAME_MAX = 1024, 255
_BAD_CHARS = re.compile("[\x00-\x1f\x7f\\\\]")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_PERMISSION_BITS = 0o777  # never setuid, setgid or sticky


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ProposedFile:
    """A file's complete new content. `mode` None keeps an existing file's mode (0o644 for a new file);
    an update only ever adds execute bits from `mode`, never removes bits."""

    path: str
    content: str
    mode: int | None = None


@dataclass
class PlannedChange:
    path: str
    action: str  # "create" | "update"
    old_sha256: str | None
    new_sha256: str
    mode: int
    content: bytes
    old_text: str | None


@dataclass
class Plan:
    """What apply will do. Build it with `Writer.plan`; show `view()` to the reviewer."""

    root: str
    changes: list[PlannedChange]
    diff: str = ""
    diff_truncated: bool = False
    hash: str = field(default="")

    def compute_hash(self) -> str:
        canonical = [self.root, [[c.path, c.action, c.old_sha256, c.new_sha256, c.mode] for c in self.changes]]
        return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()

    def view(self) -> PlanView:
        return PlanView(
            root=self.root,
            changes=[FileChange(path=c.path, action=c.action, old_sha256=c.old_sha256,  # type: ignore[arg-type]
                                new_sha256=c.new_sha256, mode=c.mode, size=len(c.content)) for c in self.changes],
            diff=self.diff, diff_truncated=self.diff_truncated, plan_hash=self.hash,
        )


class Writer:
    """Writes into one repository root, under the rules in the module docstring."""

    def __init__(self, root: str | os.PathLike[str], *, max_bytes: int = MAX_WRITE_BYTES) -> None:
        given = os.fspath(root)
        if "\x00" in given:
            raise InputError("The repository path contains a NUL character.")
        real = os.path.realpath(given)
        if not os.path.isdir(real):
            raise InputError(f"Repository '{given}' is not a directory.")
        if any(part.lower() == ".git" for part in Path(real).parts):
            raise ConfinementError(f"Repository '{given}' is inside a .git directory; nothing is written there.")
        self.root = Path(real)
        self.max_bytes = max_bytes

    # ------------------------------------------------------------ paths

    def check_path(self, rel: str) -> tuple[str, ...]:
        """The parts of a safe relative path, or ConfinementError saying what is wrong with it."""
        if not isinstance(rel, str) or not rel:
            raise ConfinementError("An empty path is not a file in the repository.")
        if len(rel) > _PATH_MAX:
            raise ConfinementError(f"Path is {len(rel)} characters long; the limit is {_PATH_MAX}.")
        if _BAD_CHARS.search(rel):
            raise ConfinementError(f"Path {rel!r} contains a control character or a backslash.")
        if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
            raise ConfinementError(f"Path {rel!r} is absolute; give a path relative to the repository.")
        parts = tuple(rel.split("/"))
        for part in parts:
            if part in ("", ".", ".."):
                raise ConfinementError(f"Path {rel!r} is outside the repository '{self.root}' or not normalized "
                                       "(no '..', '.' or empty parts).")
            if len(part.encode("utf-8", "surrogatepass")) > _NAME_MAX:
                raise ConfinementError(f"Path {rel!r} has a part longer than {_NAME_MAX} bytes.")
            # NFKC and case folding: '.GIT', '.gıt' lookalikes on case-insensitive file systems.
            if unicodedata.normalize("NFKC", part).casefold() == ".git":
                raise ConfinementError(f"Path {rel!r} is inside .git; the Writer never writes there.")
        if unicodedata.normalize("NFKC", parts[0]).casefold() == AUDIT_DIR:
            raise ConfinementError(f"Path {rel!r} is inside {AUDIT_DIR}/, which holds the audit log.")
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfinementError(f"Path {rel!r} is not valid Unicode text.") from None
        real = os.path.realpath(os.path.join(self.root, *parts))
        try:
            Path(real).relative_to(self.root)
        except ValueError:
            raise ConfinementError(f"Path {rel!r} is outside the repository '{self.root}' "
                                   f"(it resolves to '{real}').") from None
        return parts

    def _open_dir(self, parts: tuple[str, ...], *, create: bool, created: list[str] | None = None) -> int | None:
        """A descriptor of the directory holding parts[-1], walked without following symlinks. None when a
        directory is missing and `create` is false."""
        fd = os.open(self.root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        try:
            for index, name in enumerate(parts[:-1]):
                where = "/".join(parts[: index + 1])
                try:
                    child = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        os.close(fd)
                        return None
                    os.mkdir(name, 0o755, dir_fd=fd)
                    if created is not None:
                        created.append(where)
                    child = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                        raise ConfinementError(f"'{where}' is a symlink or not a directory; the Writer does not "
                                               "follow symlinks.") from None
                    raise InputError(f"Cannot open directory '{where}': {exc.strerror}") from None
                os.close(fd)
                fd = child
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _read_current(self, dir_fd: int | None, name: str, rel: str) -> tuple[bytes, int] | None:
        """(content, mode) of the file `name` in `dir_fd`; None when absent. Refuses symlinks and non-files."""
        if dir_fd is None:
            return None
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            raise ConfinementError(f"'{rel}' is a symlink; the Writer never writes through a symlink.")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"'{rel}' exists and is not a regular file.")
        if st.st_size > self.max_bytes:
            raise InputError(f"'{rel}' is {st.st_size} bytes, over the {self.max_bytes}-byte limit for edits.")
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0), dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ConfinementError(f"'{rel}' became a symlink; not written.") from None
            raise InputError(f"Cannot read '{rel}': {exc.strerror}") from None
        try:
            fst = os.fstat(fd)
            if not stat.S_ISREG(fst.st_mode):
                raise InputError(f"'{rel}' is not a regular file.")
            chunks, total = [], 0
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:
                    raise InputError(f"'{rel}' grew over the {self.max_bytes}-byte limit while being read.")
                chunks.append(chunk)
            return b"".join(chunks), stat.S_IMODE(fst.st_mode)
        finally:
            os.close(fd)

    # ------------------------------------------------------------ plan

    def plan(self, files: list[ProposedFile], *, expected: dict[str, str | None] | None = None) -> Plan:
        """Compare each proposed file with what is there now and build the plan and its diff. Writes nothing.

        `expected` maps a path to the sha256 its content must have now (None: it must not exist), e.g. the
        base a generator appended to; a mismatch is refused.
        """
        if not files:
            raise InputError("Nothing to write: the plan is empty.")
        if len(files) > MAX_FILES_PER_PLAN:
            raise InputError(f"A plan writes at most {MAX_FILES_PER_PLAN} files; this one has {len(files)}.")
        seen: set[str] = set()
        changes: list[PlannedChange] = []
        diffs: list[str] = []
        for proposed in files:
            parts = self.check_path(proposed.path)
            rel = "/".join(parts)
            if rel in seen:
                raise InputError(f"'{rel}' appears twice in one plan.")
            seen.add(rel)
            data = proposed.content.encode("utf-8")
            if len(data) > self.max_bytes:
                raise InputError(f"The content for '{rel}' is {len(data)} bytes, over the {self.max_bytes}-byte limit.")
            dir_fd = self._open_dir(parts, create=False)
            try:
                current = self._read_current(dir_fd, parts[-1], rel)
            finally:
                if dir_fd is not None:
                    os.close(dir_fd)
            old_sha = hashlib.sha256(current[0]).hexdigest() if current else None
            if expected is not None and rel in expected and expected[rel] != old_sha:
                raise InputError(f"'{rel}' changed since the automation was generated from it; generate again.")
            if current is None:
                mode = (proposed.mode if proposed.mode is not None else 0o644) & _PERMISSION_BITS
                old_text = None
            else:
                mode = (current[1] | ((proposed.mode or 0) & 0o111)) & _PERMISSION_BITS
                old_text = current[0].decode("utf-8", "replace")
            new_sha = hashlib.sha256(data).hexdigest()
            if old_sha == new_sha and current is not None and mode == current[1]:
                continue  # already exactly so: nothing to write
            changes.append(PlannedChange(rel, "update" if current else "create", old_sha, new_sha, mode, data,
                                         old_text))
            diffs.append(_diff(rel, old_text, proposed.content, mode, current[1] if current else None))
        if not changes:
            raise InputError("Nothing to write: every file already has exactly this content.")
        plan = Plan(root=str(self.root), changes=changes)
        diff = redact_text("".join(diffs))
        plan.diff_truncated = len(diff) > MAX_DIFF_CHARS
        plan.diff = diff[:MAX_DIFF_CHARS] + ("\n... (diff truncated)\n" if plan.diff_truncated else "")
        plan.hash = plan.compute_hash()
        return plan

    # ------------------------------------------------------------ apply

    def apply(self, plan: Plan, plan_hash: str, *, forced: bool = False, validation_errors: int = 0) -> ApplyResult:
        """Write the plan, if `plan_hash` is its hash and every file is still as planned."""
        if not plan_hash:
            raise InputError("apply needs the plan hash shown with the diff (refusing to write unreviewed changes).")
        if plan.root != str(self.root) or plan.compute_hash() != plan.hash or plan_hash != plan.hash:
            raise InputError("The plan hash does not match this plan: the repository or the generated content "
                             "changed since the diff was shown. Generate again and review the new diff.")
        key = audit_key()  # before anything is written: no entry may go unsigned
        with self._locked():
            return self._apply_locked(plan, key, forced=forced, validation_errors=validation_errors)

    def _apply_locked(self, plan: Plan, key: bytes, *, forced: bool, validation_errors: int) -> ApplyResult:
        # Check every precondition before the first write, so a refusal leaves the repository untouched.
        for change in plan.changes:
            self._check_state(change)
        applied: list[AppliedChange] = []
        written: list[dict[str, object]] = []
        try:
            for change in plan.changes:
                entry = self._write(change, plan.hash)
                written.append(entry)
                self._audit(entry, key)
                applied.append(AppliedChange(entry=str(entry["id"]), path=change.path,
                                             action=change.action, new_sha256=change.new_sha256))  # type: ignore[arg-type]
        except BaseException:
            for entry in reversed(written):  # put back what this apply already wrote
                try:
                    self._reverse(entry)
                    self._audit({**_undo_entry(entry), "reason": "apply failed; rolled back"}, key)
                except Exception:  # noqa: S110 - best effort: the original error is the one to report
                    pass
            raise
        return ApplyResult(applied=applied, audit_log=str(self.root / AUDIT_LOG), plan_hash=plan.hash,
                           forced=forced, validation_errors=validation_errors)

    def _check_state(self, change: PlannedChange) -> None:
        parts = self.check_path(change.path)
        dir_fd = self._open_dir(parts, create=False)
        try:
            current = self._read_current(dir_fd, parts[-1], change.path)
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        now = hashlib.sha256(current[0]).hexdigest() if current else None
        if now != change.old_sha256:
            state = "was created" if change.old_sha256 is None else ("was deleted" if now is None else "changed")
            raise InputError(f"'{change.path}' {state} since the plan was made (expected sha256 "
                             f"{change.old_sha256 or 'none: absent'}, found {now or 'none: absent'}); not written.")

    def _write(self, change: PlannedChange, plan_hash: str) -> dict[str, object]:
        parts = self.check_path(change.path)
        created: list[str] = []
        dir_fd = self._open_dir(parts, create=True, created=created)
        if dir_fd is None:  # create=True makes every missing directory
            raise InputError(f"Cannot create the directories of '{change.path}'.")
        try:
            name = parts[-1]
            old: tuple[bytes, int] | None = None
            if change.action == "create":
                _exclusive_write(dir_fd, name, change.content, change.mode, change.path)
            else:
                old = self._read_current(dir_fd, name, change.path)
                if old is None or hashlib.sha256(old[0]).hexdigest() != change.old_sha256:
                    raise InputError(f"'{change.path}' changed while the plan was being applied; not written.")
                _atomic_replace(dir_fd, name, change.content, change.mode)
        finally:
            os.close(dir_fd)
        return {
            "id": f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}",
            "op": "apply", "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "path": change.path, "action": change.action,
            "old_sha256": change.old_sha256, "new_sha256": change.new_sha256,
            "old_mode": old[1] if old else None, "new_mode": change.mode,
            "old_content_b64": base64.b64encode(old[0]).decode() if old else None,
            "created_dirs": created, "plan_hash": plan_hash,
        }

    # ------------------------------------------------------------ audit and undo

    def _audit_fd(self) -> int:
        root_fd = os.open(self.root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        try:
            try:
                os.mkdir(AUDIT_DIR, 0o755, dir_fd=root_fd)
                fresh = True
            except FileExistsError:
                fresh = False
            try:
                dir_fd = os.open(AUDIT_DIR, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=root_fd)
            except OSError as exc:
                raise ConfinementError(f"'{AUDIT_DIR}' is a symlink or not a directory; no audit log "
                                       "can be kept, so nothing is written.") from exc
        finally:
            os.close(root_fd)
        if fresh:  # keep the audit log (it holds old file contents) out of commits
            with contextlib.suppress(InputError):
                _exclusive_write(dir_fd, ".gitignore", b"*\n", 0o644, f"{AUDIT_DIR}/.gitignore")
        return dir_fd

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the repository's write lock (`flock` on .orchestrator-kit/lock) for the body."""
        dir_fd = self._audit_fd()
        try:
            fd = os.open("lock", os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd)
        except OSError as exc:
            raise ConfinementError(f"Cannot open the lock {AUDIT_DIR}/lock: {exc.strerror}; nothing is "
                                   "written.") from None
        finally:
            os.close(dir_fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _audit(self, entry: dict[str, object], key: bytes) -> None:
        entry["mac"] = sign(entry, str(self.root), key)
        dir_fd = self._audit_fd()
        try:
            fd = os.open("audit.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600,
                         dir_fd=dir_fd)
        except OSError as exc:
            os.close(dir_fd)
            raise ConfinementError(f"Cannot open the audit log {AUDIT_LOG}: {exc.strerror}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfinementError(f"{AUDIT_LOG} is not a regular file.")
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
            os.close(dir_fd)

    def audit_entries(self) -> list[dict[str, object]]:
        """Every entry of the audit log, oldest first ([] when there is none), signed or not: use
        `verified_entries` for anything that acts on them."""
        parts = (AUDIT_DIR, "audit.jsonl")
        dir_fd = self._open_dir(parts, create=False)
        if dir_fd is None:
            return []
        try:
            saved_max, self.max_bytes = self.max_bytes, MAX_AUDIT_BYTES
            try:
                current = self._read_current(dir_fd, parts[-1], AUDIT_LOG)
            finally:
                self.max_bytes = saved_max
        finally:
            os.close(dir_fd)
        if current is None:
            return []
        entries: list[dict[str, object]] = []
        for line in current[0].decode("utf-8", "replace").splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):  # not JSON, a number past int()'s limit, nesting past the stack's
                entry = None
            # A line that is not an entry is kept as one that can never verify: counted as ignored, never acted on.
            entries.append(entry if isinstance(entry, dict) else {"op": "invalid"})
        return entries

    def verified_entries(self) -> tuple[list[dict[str, object]], int]:
        """(the audit entries signed for this repository with this machine's key, how many others were ignored)."""
        key = audit_key()
        every = self.audit_entries()
        entries = [e for e in every if verified(e, str(self.root), key)]
        return entries, len(every) - len(entries)

    def undo(self, last: int = 1, *, dry_run: bool = False) -> UndoResult:
        """Reverse the newest `last` applied changes that are not undone yet (newest first)."""
        if last < 1:
            raise InputError("--last must be 1 or more.")
        key = audit_key()
        with self._locked():
            entries, ignored = self.verified_entries()
            undone_ids = {e.get("undoes") for e in entries if e.get("op") == "undo"}
            pending = [e for e in entries if e.get("op") == "apply" and e.get("id") not in undone_ids]
            if not pending:
                why = (f"; {ignored} entries were ignored because they are not signed by orchestrator-kit on this "
                       "machine for this repository (a committed, copied or edited log)") if ignored else ""
                raise InputError(f"Nothing to undo: {AUDIT_LOG} has no applied change that is not undone yet{why}.")
            chosen = list(reversed(pending))[:last]
            for entry in chosen:  # check all before changing anything
                self._check_undoable(entry)
            result: list[UndoneChange] = []
            for entry in chosen:
                if not dry_run:
                    self._reverse(entry)
                    self._audit(_undo_entry(entry), key)
                result.append(UndoneChange(entry=str(entry["id"]), path=str(entry["path"]),
                                           action="removed" if entry["action"] == "create" else "restored"))
        return UndoResult(undone=result, dry_run=dry_run, audit_log=str(self.root / AUDIT_LOG),
                          ignored_entries=ignored)

    def _check_undoable(self, entry: dict[str, object]) -> None:
        path = str(entry.get("path", ""))
        parts = self.check_path(path)
        dir_fd = self._open_dir(parts, create=False)
        try:
            current = self._read_current(dir_fd, parts[-1], path)
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        now = hashlib.sha256(current[0]).hexdigest() if current else None
        if now != entry.get("new_sha256"):
            raise InputError(f"'{path}' changed after orchestrator-kit wrote it (audit entry {entry.get('id')}); "
                             "not undone, so those edits are not lost. Restore it by hand.")
        if entry.get("action") == "update" and not isinstance(entry.get("old_content_b64"), str):
            raise InputError(f"Audit entry {entry.get('id')} has no previous content to restore.")

    def _reverse(self, entry: dict[str, object]) -> None:
        parts = self.check_path(str(entry["path"]))
        dir_fd = self._open_dir(parts, create=False)
        if dir_fd is None:
            raise InputError(f"'{entry['path']}' is gone; nothing to undo.")
        try:
            if entry["action"] == "create":
                os.unlink(parts[-1], dir_fd=dir_fd)
            else:
                old = base64.b64decode(str(entry["old_content_b64"]), validate=True)
                mode = entry.get("old_mode")
                _atomic_replace(dir_fd, parts[-1], old, int(mode) if isinstance(mode, int) else 0o644)
        finally:
            os.close(dir_fd)
        if entry["action"] == "create":
            for directory in reversed([str(d) for d in entry.get("created_dirs") or []]):  # type: ignore[union-attr]
                self._remove_empty_dir(directory)

    def _remove_empty_dir(self, rel: str) -> None:
        try:
            parts = self.check_path(rel)
        except ConfinementError:
            return
        dir_fd = self._open_dir(parts, create=False)
        if dir_fd is None:
            return
        try:
            os.rmdir(parts[-1], dir_fd=dir_fd)
        except OSError:
            pass  # not empty (someone added files) or already gone: leave it
        finally:
            os.close(dir_fd)


def _undo_entry(entry: dict[str, object]) -> dict[str, object]:
    return {"id": f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}", "op": "undo",
            "time": datetime.now(UTC).isoformat(timespec="seconds"), "undoes": entry["id"], "path": entry["path"],
            "action": "removed" if entry["action"] == "create" else "restored"}


def _exclusive_write(dir_fd: int, name: str, data: bytes, mode: int, rel: str) -> None:
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd)
    except FileExistsError:
        raise InputError(f"'{rel}' appeared since the plan was made; not overwritten.") from None
    try:
        _write_all(fd, data)
        os.fchmod(fd, mode & _PERMISSION_BITS)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(name, dir_fd=dir_fd)
        raise
    os.close(fd)


def _atomic_replace(dir_fd: int, name: str, data: bytes, mode: int) -> None:
    temp = f".{name[:200]}.orchestrator-kit-{secrets.token_hex(6)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd)
    try:
        _write_all(fd, data)
        os.fchmod(fd, mode & _PERMISSION_BITS)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        # rename(2) replaces the directory entry itself: if `name` was swapped for a symlink, the symlink is
        # replaced, its target is never written.
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _diff(rel: str, old: str | None, new: str, mode: int, old_mode: int | None) -> str:
    header = ""
    if old is None:
        header = f"new file mode {0o100000 | mode:o}\n"
    elif old_mode is not None and old_mode != mode:
        header = f"old mode {0o100000 | old_mode:o}\nnew mode {0o100000 | mode:o}\n"
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{rel}", tofile=f"b/{rel}",
    )
    body = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return f"diff --orchestrator-kit a/{rel} b/{rel}\n{header}{body}"
