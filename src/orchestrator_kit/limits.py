"""The default and maximum sizes every face (CLI, MCP, library) shares, and a count of the times the interpreter's
own limits (recursion, memory) decided a result.

Plain constants in a module that imports nothing but a built-in, so the CLI can build its option help without
importing the scanner, pydantic or git plumbing (`orchestrator-kit --help` stays close to a bare interpreter start).
"""

from __future__ import annotations

from _thread import get_ident

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024  # a file larger than this is skipped, not read
DEFAULT_MAX_FILES = 500_000
DEFAULT_MAX_COMMITS = 5000  # the newest commits read by default, on every face
DEFAULT_TOP = 10  # rows per ranked list (files, hotspots, pairs, authors)
MAX_COMMITS_LIMIT = 10_000_000
MAX_TOP = 1000
MAX_SINCE_CHARS = 100
MAX_PATHS = 100


# Per thread (by its identifier; each thread writes only its own entry, so no count is lost): how many times a
# RecursionError or MemoryError was turned into an ordinary result.
_exhausted: dict[int, int] = {}


def note_exhausted() -> None:
    """Count, for this thread, that RecursionError or MemoryError was just caught and turned into an ordinary result
    (an "invalid" or "nesting too deep" file, a script without its docstring). Such a result depends on how deep the
    call ran (the recursion limit counts the caller's frames: the CLI's main thread and the MCP server's worker
    threads differ) and on the memory left, not on the file alone; the scan memo keeps no call that did this."""
    ident = get_ident()
    _exhausted[ident] = _exhausted.get(ident, 0) + 1


def exhausted() -> int:
    """This thread's count of `note_exhausted` calls: a call whose count differs before and after depended on them."""
    return _exhausted.get(get_ident(), 0)
