"""What every candidate finder reads: the settings, the git rates, the pipelines' counted runs, and the
repository's text (through `repo.Workspace`, redacted) for evidence lines and a procedure's own warnings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..config import OpportunitySettings
from ..errors import OrchestratorError
from ..metrics.models import PipelineRuns
from ..models import Evidence
from ..repo import Workspace
from .frequency import Rates

MAX_EVIDENCE_LINE = 160
_TOKENS = re.compile(r"""(["'`\s,;()]+)""")


def redact_line(line: str, path: str) -> str:
    """A line with secrets hidden: redacted whole, then word by word (quotes, blanks and commas split words), because a
    secret inside a quoted value can escape detectors that look at the whole line."""
    whole = Workspace.redact(line, path)
    return "".join(part if _TOKENS.fullmatch(part) or not part else Workspace.redact(part, path)
                   for part in _TOKENS.split(whole))
MAX_SECTION_LINES = 200


@dataclass
class Context:
    settings: OpportunitySettings
    rates: Rates
    runs: dict[str, PipelineRuns]
    workspace: Workspace | None = None
    _lines: dict[str, list[str] | None] = field(default_factory=dict)

    def lines(self, path: str) -> list[str] | None:
        """The redacted lines of a repository file (None when it cannot be read)."""
        if path not in self._lines:
            text: list[str] | None = None
            if self.workspace is not None:
                try:
                    raw = self.workspace.read_text(path).text.split("\n")
                    text = [redact_line(line, path) for line in raw]
                except (OrchestratorError, OSError):
                    text = None
            self._lines[path] = text
        return self._lines[path]

    def section_text(self, evidence: Evidence) -> list[str]:
        """The lines an evidence range covers (at most MAX_SECTION_LINES)."""
        lines = self.lines(evidence.path) or []
        end = min(evidence.line_end, evidence.line_start + MAX_SECTION_LINES - 1)
        return lines[evidence.line_start - 1:end]

    def evidence_line(self, evidence: Evidence) -> str:
        """`path:line: text` of the evidence's first line (shortened), or the location alone."""
        lines = self.lines(evidence.path)
        if not lines or evidence.line_start > len(lines):
            return str(evidence)
        text = " ".join(lines[evidence.line_start - 1].split())
        if len(text) > MAX_EVIDENCE_LINE:
            text = text[:MAX_EVIDENCE_LINE - 1] + "…"
        return f"{evidence}: {text}"
