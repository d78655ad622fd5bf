"""Errors that reach a user: the CLI prints `Error: <message>` and exits 2; MCP turns them into tool errors."""


class OrchestratorError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(OrchestratorError):
    """The input as a whole is unusable: a path that does not exist, a file where a directory is needed, ..."""


class ConfinementError(OrchestratorError):
    """A path points outside the repository root (`..`, an absolute path, or a symlink that leaves the root)."""


class ReadError(OrchestratorError):
    """One file could not be read as text; the scan records it as a Diagnostic and goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop, so that a reason quoted from elsewhere (a validator's message that
    already ends with one) can be followed by the next sentence: "... instead." stays one period, not "instead..".
    Text that ends with "?" or "!" keeps its own mark."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."
