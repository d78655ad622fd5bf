"""Redacted copies of repository files, for search: a pattern only ever sees text with secrets already hidden.

`search_repository` matches a client's pattern against these lines and nothing else, so no pattern can tell one
secret character from another (the oracle attack `=AKIA8|=\\[REDACTED:AWS` finds the same lines whatever the key).
Search matches only the first `max_line_chars` characters of a line, so only those are redacted (a minified file's
megabyte-long line would otherwise cost seconds): each line is cut there, and further back to the end of the token
the cut falls in, so that redaction always sees whole tokens and a secret is never half-shown by a cut. Redaction
costs about 0.1 ms a line, so redacted files are kept, keyed by path and a digest of the content (an
edited file is redacted again), least recently used first out, up to `MAX_CHARS` characters in all: the cache never
pins more memory than that, whatever the repository.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..repo import Workspace  # loaded by the first read, not with the server

MAX_CHARS = 64_000_000
MAX_LINE_CHARS = 10_000
_TOKEN_TAIL = re.compile(r"[^\s\"'`,;=:()\[\]{}<>|&]+$")


def cut_line(line: str, limit: int) -> str:
    """`line` cut to at most `limit` characters, and back to a token boundary when the cut falls inside a token."""
    if len(line) <= limit:
        return line
    head = line[:limit]
    tail = _TOKEN_TAIL.search(head)
    return head[: tail.start()] if tail else head


class RedactedFiles:
    """Thread-safe, size-bounded cache of redacted file lines."""

    def __init__(self, max_chars: int = MAX_CHARS, max_line_chars: int = MAX_LINE_CHARS) -> None:
        self.max_chars = max_chars
        self.max_line_chars = max_line_chars
        self._entries: OrderedDict[tuple[str, str, bytes], tuple[list[str], int]] = OrderedDict()
        self._chars = 0
        self._guard = threading.Lock()

    def lines(self, workspace: Workspace, rel: str) -> list[str]:
        """The lines of `rel`, each cut to `max_line_chars` (see `cut_line`), redacted as one text (so a private-key
        block is hidden whole). Raises what `Workspace.read_text` raises."""
        file = workspace.read_text(rel)
        key = (str(workspace.root), rel, hashlib.blake2b(file.text.encode("utf-8", "surrogatepass"),
                                                         digest_size=16).digest())
        with self._guard:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit[0]
        text = file.text
        if any(len(line) > self.max_line_chars for line in file.lines):
            text = "\n".join(cut_line(line, self.max_line_chars) for line in file.lines)
        from ..repo import Workspace

        lines = Workspace.redact(text, rel).split("\n")
        size = len(file.text)
        if size > self.max_chars:
            return lines  # too big to keep: redacted again next time
        with self._guard:
            if key not in self._entries:
                self._entries[key] = (lines, size)
                self._chars += size
            while self._chars > self.max_chars:
                _key, (_lines, dropped) = self._entries.popitem(last=False)
                self._chars -= dropped
        return lines
