"""Text for a terminal that a repository cannot take over: control characters shown, never sent.

Repository text reaches the terminal in every report (a Makefile target, an npm script, a file name, a git author,
a runbook's heading, a model's answer that quotes them). Sent raw, an escape sequence in it acts on the terminal:
it sets the window title (OSC 0), writes a hyperlink whose text hides its target (OSC 8), moves the cursor or erases
lines (CSI) so that a warning printed before it disappears, or, in some terminals, reads back or rewrites the
clipboard (OSC 52). A lone carriage return overwrites the start of its line, and bidirectional overrides (the
"Trojan Source" characters) show a line in another order than it is.

`printable(text)` writes each such character as its `\\uXXXX` escape: the C0 controls but tab and line feed (and
carriage return before a line feed), DEL, the C1 controls and the bidirectional embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069). The escape is valid inside a JSON string, where it reads back as the same
character, so JSON output keeps its data. `SafeConsole` is a rich Console that does the same to every piece of
text it renders (`safe_console`), before its own styles are added. `printable_logs()` does it to what the log
handlers of the process write: the MCP server's log quotes what a client sent (a Host or Origin header it refuses).
`printable_warnings()` does it to the warnings Python prints: parsing a repository's Python file warns about an
invalid escape sequence by quoting it ('\\<ESC>'), a SyntaxWarning shown by default from Python 3.12.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterable

    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.segment import Segment
    from rich.text import Text

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: str) -> str:
    """`text` with every character that would act on a terminal written as its `\\uXXXX` escape (see the module)."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) is not None else text


_console_class: type[Console] | None = None


def safe_console(**options: Any) -> Console:
    """A rich Console (made with `options`) whose rendered text is `printable`: the text the renderables hold, never
    rich's own control segments (the cursor moves of a live display) or the styles it adds. It writes no hyperlink
    (OSC 8): none of ours has one, and repository text printed as markup ('[link=URL]docs') would make one whose
    text hides its target. rich is imported here, when a caller first needs a console."""
    return _safe_class()(**options)


def _safe_console_class() -> type[Console]:
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def render_str(self, text: str, **options: Any) -> Text:
            # Before rich lays the text out, so that widths are measured on what is shown.
            return super().render_str(printable(text), **options)

        def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
            for segment in super().render(renderable, options):
                if segment.control:
                    yield segment
                    continue
                text, style = segment.text, segment.style
                if style is not None and style.link:  # no part of ours links; markup in repository text would
                    style = style.update_link(None)
                if _UNSAFE.search(text) is not None:
                    text = printable(text)
                yield segment if text is segment.text and style is segment.style else Segment(text, style)

    return SafeConsole


def _printable_record(record: logging.LogRecord) -> bool:
    """A logging filter that keeps every record, its message (and traceback text) made `printable`. Its format and
    its text arguments are made printable in place, which keeps the arguments for a formatter that reads them
    (uvicorn's request lines); when the message formatted from them is still not printable (an argument that is no
    text), it is formatted once and kept without arguments, so that no argument brings a control character back."""
    message = record.getMessage()
    if printable(message) is not message:
        if isinstance(record.msg, str) and isinstance(record.args, tuple):
            record.msg = printable(record.msg)
            record.args = tuple(printable(arg) if isinstance(arg, str) else arg for arg in record.args)
            message = record.getMessage()
        shown = printable(message)
        if shown is not message:
            record.msg, record.args = shown, None
    if record.exc_info and not record.exc_text:  # a Formatter reuses exc_text; rich draws exc_info itself (below)
        import logging

        record.exc_text = printable(logging.Formatter().formatException(record.exc_info))
    return True


def printable_logs() -> None:
    """Every handler of the root logger (those a library set up with `logging.basicConfig`, such as the MCP server's
    rich handler on stderr) and of any other logger (uvicorn's own, which its records stop at: they do not propagate
    to the root) shows control characters instead of sending them: a filter makes each record's text `printable`,
    and a rich handler draws through a `safe_console` (its tracebacks too). Call it once the handlers exist; calling
    it again changes nothing."""
    import logging

    from rich.logging import RichHandler

    loggers = [logging.getLogger(), *(item for item in list(logging.Logger.manager.loggerDict.values())
                                      if isinstance(item, logging.Logger))]
    for handler in dict.fromkeys(handler for logger in loggers for handler in logger.handlers):
        if _printable_record not in handler.filters:
            handler.addFilter(_printable_record)
        if isinstance(handler, RichHandler) and not isinstance(handler.console, _safe_class()):
            handler.console = safe_console(stderr=True)


def _safe_class() -> type[Console]:
    global _console_class
    if _console_class is None:
        _console_class = _safe_console_class()
    return _console_class


def printable_warnings() -> None:
    """Every warning Python prints (`warnings.formatwarning`, which the default `showwarning` uses once replaced) is
    `printable`: its message, and the source line it reads back. Calling it again changes nothing."""
    import warnings

    original = warnings.formatwarning
    if getattr(original, "printable", False):
        return

    def formatwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      line: str | None = None) -> str:
        return printable(original(message, category, filename, lineno, line))

    formatwarning.printable = True  # type: ignore[attr-defined]
    warnings.formatwarning = formatwarning
