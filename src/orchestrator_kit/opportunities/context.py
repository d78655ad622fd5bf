"""What every candidate finder reads: the settings, the git rates, the pipelines' counted runs, and the
repository's text (through `repo.Workspace`, redacted) for evidence lines and a procedure's own warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import OpportunitySettings
from ..errors import OrchestratorError
from ..metrics.models import PipelineRuns
from ..models import Evidence
from ..repo import Workspace
from .frequency import Rates

MAX_EVIDENCE_LINE = 160
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
                    text = Workspace.redact(self.workspace.read_text(path).text, path).split("\n")
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
