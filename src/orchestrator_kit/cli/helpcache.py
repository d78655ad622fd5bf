"""`--help` answered from what Typer printed last time, so that asking for help does not load Typer and Rich.

Typer, Rich and the command modules take about 0.15 s to import and render a help screen; the screen itself only
changes when the code that renders it, the terminal or the environment does. So the first `orchestrator-kit
[COMMAND...] --help` (and the bare `orchestrator-kit`, which prints the same help) runs Typer as always, records the
exact bytes it wrote to stdout and stderr and its exit code, and stores them in `<cache_dir>/help-v1/` with:

* the key it was made under: the arguments, the interpreter, the package version and where the package lives (two
  copies of one version, e.g. two checkouts run with one interpreter, render their own help), whether each
  standard stream is a terminal and its encoding, the terminal size Rich would see (the first of stdin, stdout,
  stderr that has one), and every environment variable whose name contains one of ENV_WORDS (what Rich, Typer
  and Click read: COLUMNS, TERM, NO_COLOR, FORCE_COLOR, TTY_COMPATIBLE, TYPER_USE_RICH, ..., and our own
  ORCHESTRATOR_KIT_*);
* the sources it was made from: (size, mtime, path) of the file of every module loaded by then (Typer, Rich, Click,
  this package's commands, the standard library), a few hundred stats.

A later run with the same key replays the bytes when every recorded source still has its size and mtime; anything
else (another width, an edited command, an upgraded Typer, an unreadable or malformed entry) runs Typer again and
rewrites the entry. Only runs that exit 0 are kept (plus the bare command, whose help exits 2 as Typer's does), so a
mistyped command is never cached. A replay imports nothing but `os`, `sys` and `zlib`: not even `typing`, `re` or
`json` (together 10 ms), hence the line-based entry format below and the key as a `repr`.

Entry (bytes): `MAGIC`, the key, the exit code, the number of sources and one `size mtime_ns path` line each, the
number of chunks and for each a `fd length` line followed by that many bytes; every line ends with `\n`.
"""

from __future__ import annotations

import os
import sys
import zlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads any name TYPE_CHECKING so)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO, TextIO

VERSION = 1
FOLDER = f"help-v{VERSION}"
MAGIC = b"orchestrator-kit help 1"
MAX_WORDS = 3  # `design rules --help` is the deepest command path
MAX_ENTRIES = 64  # kept in the folder, newest first (about 50 KB each)
ENV_WORDS = ("ORCHESTRATOR_KIT", "TYPER", "RICH", "CLICK", "COLOR", "TERM", "TTY", "COLUMNS", "LINES", "JUPYTER",
             "GITHUB_ACTIONS", "DATABRICKS", "XDG_CONFIG_HOME", "UNICODE", "PYDANTIC", "LANG", "LC_", "PYTHON",
             "COMP_")


def wants_help(args: list[str]) -> bool:
    """Whether `args` only ask for a help screen: nothing, or up to MAX_WORDS command names followed by --help."""
    if not args:
        return True
    *words, last = args
    return last == "--help" and len(words) <= MAX_WORDS and all(_is_word(w) for w in words)


def _is_word(word: str) -> bool:
    return 0 < len(word) <= 40 and word[0].isalpha() and all(c.isalnum() or c == "-" for c in word) and word.isascii()


def _cache_folder() -> str:
    # The same folder as usercache.cache_dir(), computed without pathlib (its import is half of a replay's cost).
    base = os.environ.get("ORCHESTRATOR_KIT_CACHE_DIR")
    if base:
        return os.path.join(base, FOLDER)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "orchestrator-kit", FOLDER)


def _terminal_size() -> tuple[int, int] | None:
    for fd in (0, 1, 2):  # Rich's order on POSIX
        try:
            size = os.get_terminal_size(fd)
        except (OSError, ValueError):
            continue
        return size.columns, size.lines
    return None


def _stream_facts(stream: Any) -> tuple[bool, str | None, str | None]:
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # no stream (pythonw), or a closed one
        tty = False
    return tty, getattr(stream, "encoding", None), getattr(stream, "errors", None)


def key(args: list[str], version: str) -> bytes:
    """The circumstances a help screen depends on (`repr` of plain values is canonical)."""
    env = sorted((name, value) for name, value in os.environ.items() if any(word in name for word in ENV_WORDS))
    streams = [_stream_facts(s) for s in (sys.stdin, sys.stdout, sys.stderr)]
    facts = (args, version, __file__, sys.executable, sys.version, streams, _terminal_size(), env)
    return repr(facts).encode("utf-8", "surrogateescape")


def entry_path(circumstances: bytes) -> str:
    return os.path.join(_cache_folder(), f"{zlib.crc32(circumstances):08x}")


def replay(args: list[str], version: str) -> int | None:
    """Write the recorded help for `args` and return its exit code; None (nothing written) when there is no
    entry for these circumstances, it is malformed, or one of its sources changed."""
    if sys.stdout is None or sys.stderr is None:
        return None
    circumstances = key(args, version)
    try:
        with open(entry_path(circumstances), "rb") as fh:
            data = fh.read()
        parsed = parse(data, circumstances)
    except (OSError, ValueError, IndexError):
        return None  # no entry, or one this version cannot read: Typer answers instead
    if parsed is None:
        return None
    code, sources, chunks = parsed
    for size, mtime_ns, path in sources:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            return None
    streams = {1: sys.stdout, 2: sys.stderr}
    try:
        for fd, chunk in chunks:
            stream = streams[fd]
            stream.flush()
            stream.buffer.write(chunk)
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        return None  # a full disk or a closed stream: Typer answers, so the outcome is an uncached run's
    return code


def parse(data: bytes, circumstances: bytes) -> tuple[int, list[tuple[int, int, str]], list[tuple[int, bytes]]] | None:
    """(exit code, sources, chunks) of an entry made under `circumstances`; None for another key. Raises ValueError
    or IndexError when the entry is malformed."""
    magic, key_line, code_line, rest = data.split(b"\n", 3)
    if magic != MAGIC:
        raise ValueError("not a help entry")
    if key_line != circumstances:
        return None  # another key with the same crc32
    count, rest = rest.split(b"\n", 1)
    lines = rest.split(b"\n", int(count))
    rest = lines.pop()
    sources: list[tuple[int, int, str]] = []
    for line in lines:
        size, mtime_ns, path = line.split(b" ", 2)
        sources.append((int(size), int(mtime_ns), path.decode("utf-8", "surrogateescape")))
    count, rest = rest.split(b"\n", 1)
    chunks: list[tuple[int, bytes]] = []
    for _ in range(int(count)):
        header, rest = rest.split(b"\n", 1)
        fd, length = (int(v) for v in header.split(b" "))
        if fd not in (1, 2) or not 0 <= length <= len(rest):
            raise ValueError("bad chunk")
        chunks.append((fd, rest[:length]))
        rest = rest[length:]
    if rest:
        raise ValueError("trailing bytes")
    return int(code_line), sources, chunks


def serialize(circumstances: bytes, code: int, sources: list[tuple[int, int, str]],
              chunks: list[tuple[int, bytes]]) -> bytes:
    """The entry `parse` reads back."""
    out = [MAGIC, circumstances, str(code).encode(), str(len(sources)).encode()]
    out += [f"{size} {mtime_ns} {path}".encode("utf-8", "surrogateescape") for size, mtime_ns, path in sources]
    out.append(str(len(chunks)).encode())
    body = b"".join(b"%d %d\n" % (fd, len(chunk)) + chunk for fd, chunk in chunks)
    return b"\n".join(out) + b"\n" + body


class _Recorder:
    """Everything written to stdout and stderr, as (fd, bytes) in order, whichever layer it was written through."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int, bytes]] = []

    def add(self, fd: int, data: bytes) -> None:
        if data:
            self.chunks.append((fd, data))


class _BinaryTee:
    def __init__(self, real: BinaryIO, fd: int, recorder: _Recorder) -> None:
        self._real, self._fd, self._recorder = real, fd, recorder

    def write(self, data: bytes) -> int:
        written = self._real.write(data)
        self._recorder.add(self._fd, bytes(data))
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _TextTee:
    """A text stream that records what passes through it and is otherwise the real stream (isatty, fileno,
    encoding: Rich and Click decide colours and width from them)."""

    def __init__(self, real: TextIO, fd: int, recorder: _Recorder) -> None:
        self._real, self._fd, self._recorder = real, fd, recorder
        self.buffer = _BinaryTee(real.buffer, fd, recorder)

    def write(self, text: str) -> int:
        written = self._real.write(text)  # first: what the real stream refuses is not recorded either
        self._recorder.add(self._fd, text.encode(self._real.encoding, self._real.errors or "strict"))
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def record(args: list[str], version: str, run: Callable[[], None]) -> None:
    """Call `run()` (Typer) with stdout and stderr recorded, and keep the result when it is worth replaying: exit 0,
    or the bare command. Whatever `run` raises (SystemExit with the exit code, above all) is raised unchanged."""
    real_out, real_err = sys.stdout, sys.stderr
    if not all(hasattr(s, "buffer") and isinstance(getattr(s, "encoding", None), str) for s in (real_out, real_err)):
        run()
        return
    circumstances = key(args, version)  # before the run: what a replay will compute
    recorder = _Recorder()
    sys.stdout, sys.stderr = _TextTee(real_out, 1, recorder), _TextTee(real_err, 2, recorder)  # type: ignore[assignment]
    code: int | None = None  # None: the run failed or exited with a message: never cached
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else None
        raise
    finally:
        sys.stdout, sys.stderr = real_out, real_err
        if code is not None and (code == 0 or not args):
            _store(circumstances, code, recorder.chunks)


def _sources() -> list[tuple[int, int, str]] | None:
    """(size, mtime_ns, path) of the file of every loaded module: the code that rendered the help. None when a path
    cannot be written on one line (then nothing is cached)."""
    found: dict[str, tuple[int, int, str]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path not in found:
            if "\n" in path:
                return None
            try:
                st = os.stat(path)
            except OSError:
                continue
            found[path] = (st.st_size, st.st_mtime_ns, path)
    return sorted(found.values(), key=lambda row: row[2])


def _store(circumstances: bytes, code: int, chunks: list[tuple[int, bytes]]) -> None:
    """Write the entry atomically; a cache that cannot be written only means Typer answers next time too."""
    import contextlib
    import tempfile

    sources = _sources()
    if sources is None:
        return
    path = entry_path(circumstances)
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".entry.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(serialize(circumstances, code, sources, chunks))
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _prune(os.path.dirname(path))


def _prune(folder: str) -> None:
    """Keep the MAX_ENTRIES newest entries (each terminal size or setting makes one): the folder stays small."""
    import contextlib

    entries = []
    with os.scandir(folder) as it:
        for item in it:
            if not item.name.startswith("."):
                with contextlib.suppress(OSError):
                    entries.append((item.stat().st_mtime_ns, item.path))
    for _, path in sorted(entries, reverse=True)[MAX_ENTRIES:]:
        with contextlib.suppress(OSError):
            os.unlink(path)
