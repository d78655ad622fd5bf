"""Findings kept from one scan to the next: a detector call whose inputs did not change is not run again.

A detector opts in by wrapping the costly part of its work in `DetectContext.remembered(inputs, run)`, where
`inputs` are all it reads: its file's path and text, and the path and text of any other file it reads (the
Terraform detector reads a whole folder). The call is keyed by

    key = sha256(detector name, then each input as its length and its UTF-8 bytes)

inside a store whose `fingerprint` names the code that made it: the package's folder and every `.py` file in it
(path, size, modification time), the Python version, the parsers', redaction's and pydantic's installed files,
and the interpreter's integer digit limit (the parsers' results depend on it). A change to any of them starts an empty
store. What the call added to the findings (pipelines, tasks, schedules, infrastructure, procedures, diagnostics)
is kept as JSON right after it returns, before finalizers link findings to each other, and a later scan that makes
the same call appends new models validated from it instead of running the detector. A call that raises or runs
over its time budget stores nothing, so the next scan runs it again; so does a call during which a RecursionError
or MemoryError was turned into a result (a file "nested too deep": how deep the caller's stack was, or how much
memory was left, decided it; `limits.note_exhausted`).

The store of a folder is one file, `<cache_dir>/scan-memo/<sha256 of the folder's resolved path>.pickle`, holding
the entries of its last scan only (the store never outgrows the findings of one scan), and that scan's record
(`RECORD_KEY`: what it depended on and its Inventory, for `_unchanged`). At most `MAX_STORES`
folders are kept, the least recently scanned dropped first. A store is never kept inside the scanned folder.
Loading checks the file before unpickling: it must be a regular file owned by this user and writable by no one else
(the cache folder is shared by nothing of the repository's, but the home folder may be). The envelope is unpickled
by an unpickler that builds no class at all (bytes, strings, numbers, a dict), and each entry is JSON read through
the finding models' validation, so even a forged store cannot run code or yield anything but valid findings.
Anything wrong with a store or an entry (truncated, another format, a value the models refuse) makes it count as
absent: the scan, or that call, is then cold, never wrong. What is stored is what the scan reports (redacted
already), no file text.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import logging
import os
import pickle
import stat
import sys
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..repo import FileText
from ..usercache import cache_dir, write_atomically

log = logging.getLogger(__name__)

FORMAT = 3  # 3: with the last scan's record (`_unchanged`); 2: entries are JSON (1 pickled the models)
STORE_FOLDER = "scan-memo"
RECORD_KEY = b"scan"  # the entry holding the last scan's record (`_unchanged`); the calls' keys are 32-byte digests
MAX_STORES = 64
STALE_SECONDS = 3600  # a temporary store file older than this was left by a writer that was killed
MAX_STORE_BYTES = 256 * 1024 * 1024  # a store past this is not loaded (a scan's findings are a few MB)
# Installed modules whose code decides what a remembered call finds, besides ours: the parsers, detect-secrets
# (what redaction hides) and pydantic (it validates what is replayed).
DEPENDENCIES = ("markdown_it", "yaml", "detect_secrets", "pydantic", "pydantic_core")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of the code that decides a remembered call's findings (see the module doc); once per process. The
    package's folder counts too: installs that give every file one modification time (Nix's 1, reproducible
    images' SOURCE_DATE_EPOCH) leave sizes alone to tell two versions apart, and a change that keeps a file's size
    (a constant, a word) then kept the other version's findings; such installs put each version in its own folder."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{FORMAT}\x00{sys.version}\x00{package}\x00".encode())
    entries: list[tuple[str, int, int]] = []
    for folder, _dirs, names in os.walk(package):
        for name in names:
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                entries.append((os.path.relpath(os.path.join(folder, name), package), info.st_size, info.st_mtime_ns))
    for module in DEPENDENCIES:
        spec = importlib.util.find_spec(module)
        origin = spec.origin if spec is not None else None
        if origin and os.path.exists(origin):
            info = os.stat(origin)
            entries.append((f"<{module}>{origin}", info.st_size, info.st_mtime_ns))
        else:
            entries.append((f"<{module}>", 0, 0))
    entries.extend((f"<installed>{name}", 0, 0) for name in installed_distributions())
    for entry in sorted(entries):
        digest.update(repr(entry).encode())
    return digest.hexdigest()


def installed_distributions() -> list[str]:
    """The names of the `*.dist-info` and `*.egg-info` folders on `sys.path` (a name carries its version:
    `mdurl-0.1.2.dist-info`): what the parsers named in DEPENDENCIES import in turn (markdown-it's mdurl, PyYAML's
    C loader, detect-secrets' plugins' libraries) changes with them, and listing those folders costs a directory
    read each, not a walk through every installed file."""
    names: set[str] = set()
    for entry in sys.path:
        with contextlib.suppress(OSError):
            for item in os.scandir(entry or "."):
                if item.name.endswith((".dist-info", ".egg-info")):
                    names.add(f"{entry}\x00{item.name}")
    return sorted(names)


def store_fingerprint() -> str:
    """What a store must have been written under: the code (`code_fingerprint`) and the interpreter's integer
    digit limit (`sys.get_int_max_str_digits`, set by PYTHONINTMAXSTRDIGITS or -X int_max_str_digits, changeable
    while running): past it, the YAML, JSON and TOML readers report an integer as invalid, under it they read it, so
    one file's findings depend on it."""
    return f"{code_fingerprint()}:{sys.get_int_max_str_digits()}"


def call_key(detector: str, inputs: Iterable[str | FileText]) -> bytes:
    """The key of one detector call: its name and its inputs, each tagged and length-prefixed so no two lists
    collide. A file counts as its path and the sha256 of the bytes it was read from when it has it (its text is
    decoded from them: hashing them spares encoding the text again), else as its path and its text."""
    digest = hashlib.sha256(detector.encode())
    for part in inputs:
        if isinstance(part, str):
            _update(digest, b"s", part.encode("utf-8", "surrogatepass"))
        else:
            _update(digest, b"p", part.path.encode("utf-8", "surrogatepass"))
            if part.digest is not None:
                _update(digest, b"b", part.digest)
            else:
                _update(digest, b"t", part.text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def read_outcome(read: FileText | Exception) -> str:
    """What reading a file gave, as a short text to compare: the sha256 of its bytes, or the error and its reason."""
    if isinstance(read, Exception):
        return f"{type(read).__name__}: {read}"
    if read.digest is not None:
        return read.digest.hex()
    return "text " + hashlib.sha256(read.text.encode("utf-8", "surrogatepass")).hexdigest()


def _update(digest: Any, tag: bytes, data: bytes) -> None:
    digest.update(tag + len(data).to_bytes(8, "little"))
    digest.update(data)


def stack_headroom() -> int:
    """How many more nested Python calls the current thread can make from its caller's frame before RecursionError:
    found by nesting calls until it is raised (about `sys.getrecursionlimit()` calls, some 0.1 ms; once per scan).
    What a detector call finds may depend on it (a file nested too deep for the parser to read, see
    `limits.note_exhausted`), and it depends on the caller: the CLI's main thread and an MCP worker thread start a
    scan at different depths. A call that met no limit finds the same with more headroom, not always with less."""

    def deeper(depth: int) -> int:
        try:
            return deeper(depth + 1)
        except RecursionError:
            return depth

    return deeper(0)


def store_path(root: Path) -> Path:
    """Where the memo of the folder `root` is kept."""
    name = hashlib.sha256(os.fsencode(str(root.resolve()))).hexdigest()[:32]
    return cache_dir() / STORE_FOLDER / f"{name}.pickle"


class ScanMemo:
    """The remembered calls of one folder: those loaded from its store, and those this scan made or used."""

    def __init__(self, path: Path | None = None, stored: dict[bytes, bytes] | None = None,
                 headroom: int | None = None) -> None:
        self.path = path
        self.stored = stored or {}
        self.kept: dict[bytes, bytes] = {}
        self.hits = 0
        self.misses = 0
        # The record of the last scan (`_unchanged`), as loaded, and the one this scan leaves (None: none).
        self.record = self.stored.get(RECORD_KEY)
        self.new_record: bytes | None = None
        # The calls this thread can still nest where the scan starts (`stack_headroom`): the recursion limit left to
        # the detectors. An entry is replayed only in a scan with at least the headroom it was made with.
        self.headroom = stack_headroom() if headroom is None else headroom

    @classmethod
    def load(cls, root: Path) -> ScanMemo:
        """The memo of `root` from its store; an empty one when there is none or it cannot be trusted or read.
        When the store would lie inside `root` (the cache folder is in the scanned folder, or the scanned folder
        holds the cache folder), the memo neither reads nor writes: a store there would be one of the files the scan
        lists (a repeat scan would differ from a scan without the memo), and the repository could ship one."""
        path = store_path(root)
        # os.path.realpath, not Path.resolve: a symlink loop in the cache folder's path made resolve() raise
        # RuntimeError and the scan fail; realpath leaves the loop unresolved (the store then cannot be opened).
        if Path(os.path.realpath(path.parent)).is_relative_to(os.path.realpath(root)):
            log.debug("scan memo of %s not used: its store %s would lie inside it", root, path)
            return cls(headroom=stack_headroom())
        return cls(path, _read_store(path), stack_headroom())

    def get(self, key: bytes) -> bytes | None:
        found = self.stored.get(key)
        if found is not None:
            self.kept[key] = found
            self.hits += 1
        return found

    def put(self, key: bytes, value: bytes) -> None:
        self.kept[key] = value
        self.misses += 1

    def save(self) -> None:
        """Write this scan's entries to the store when they differ from what was loaded (a failure is logged: the
        next scan is then cold, nothing else)."""
        entries = dict(self.kept)
        if self.new_record is not None:
            entries[RECORD_KEY] = self.new_record
        if self.path is None or entries == self.stored:  # values too: a call may have replaced its entry
            return
        try:
            _write_store(self.path, entries)
            _prune(self.path.parent)
        except OSError as exc:
            log.debug("scan memo not saved to %s: %s", self.path, exc)


def _read_store(path: Path) -> dict[bytes, bytes]:
    try:
        # O_NONBLOCK: opening a FIFO for reading waits for a writer (a FIFO at the store's path hung the scan for
        # good); it is then refused as not a regular file. Reading a regular file ignores the flag.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not _trusted(info):
            log.debug("scan memo %s ignored: not a private regular file of this user", path)
            return {}
        if info.st_size > MAX_STORE_BYTES:  # not read at all: reading it up to the limit cost 256 MiB and a second
            return {}
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_STORE_BYTES + 1)
    except OSError:
        return {}
    finally:
        os.close(fd)
    if len(data) > MAX_STORE_BYTES:
        return {}
    try:
        # The envelope holds only built-in types: a plain unpickler that may build no class at all.
        loaded = _NoClasses(io.BytesIO(data)).load()
    except Exception:  # any damage to the file means a cold scan, never a failed one
        log.debug("scan memo %s ignored: unreadable", path, exc_info=True)
        return {}
    if (not isinstance(loaded, dict) or loaded.get("format") != FORMAT
            or loaded.get("fingerprint") != store_fingerprint() or not isinstance(loaded.get("entries"), dict)):
        return {}
    entries = loaded["entries"]
    if not all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in entries.items()):
        return {}
    return entries


class _NoClasses(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a scan memo's envelope may not build {module}.{name}")


def _trusted(info: os.stat_result) -> bool:
    if not stat.S_ISREG(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


def _write_store(path: Path, entries: dict[bytes, bytes]) -> None:
    data = pickle.dumps({"format": FORMAT, "fingerprint": store_fingerprint(), "entries": entries},
                        protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > MAX_STORE_BYTES:
        # Never loaded (`_read_store`): written anyway, it only filled the disk (up to MAX_STORES such files).
        log.debug("scan memo %s not written: %d bytes, over the %d-byte limit", path, len(data), MAX_STORE_BYTES)
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # private: write_atomically's own mkdir is not
    write_atomically(path, data)  # its temporary files (`.<name>.*.tmp`) are what `_prune` removes when left


def _prune(folder: Path) -> None:
    """Keep the `MAX_STORES` most recently written stores, and remove what writers killed before their rename left
    (`_write_store`'s temporary files, as large as a store: nothing else ever removed them) once older than
    `STALE_SECONDS` (a running writer's is not touched)."""
    stores: list[os.DirEntry[str]] = []
    stale = time.time() - STALE_SECONDS
    for entry in os.scandir(folder):
        if entry.name.endswith(".pickle") and entry.is_file():
            stores.append(entry)
        elif entry.name.startswith(".") and entry.name.endswith(".tmp"):
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                if entry.stat(follow_symlinks=False).st_mtime < stale:
                    os.unlink(entry.path)
    if len(stores) <= MAX_STORES:
        return
    stores.sort(key=lambda entry: entry.stat().st_mtime_ns, reverse=True)
    for entry in stores[MAX_STORES:]:
        with contextlib.suppress(OSError):  # another process pruned it first
            os.unlink(entry.path)
