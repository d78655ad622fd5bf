"""`orchestrator-kit check-report`: the grounding check on saved files (a report and a run's transcript)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from .grounding import MAX_REPORT_CHARS, GroundingResult, check_grounding
from .store import tool_result_texts


def report_markdown(path: Path) -> str:
    """The report text of `path`: a Markdown file, or the `markdown` field of a report JSON saved by a run."""
    try:
        if path.stat().st_size > MAX_REPORT_CHARS * 4:
            raise InputError(f"'{path}' is too large to be a report ({path.stat().st_size:,} bytes).")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"'{path}' is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"Cannot read '{path}': {exc.strerror or exc}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"'{path}' is not valid JSON: {exc}") from None
        except RecursionError:  # it was "Internal error"
            raise InputError(f"'{path}' is not valid JSON: nested too deeply to read") from None
        if not isinstance(data, dict) or not isinstance(data.get("markdown"), str):
            raise InputError(f"'{path}' is not a report saved by `orchestrator-kit run` (no `markdown` field).")
        return str(data["markdown"])
    return text


def check_report_file(report: str | Path, transcript: str | Path) -> GroundingResult:
    """Check the report at `report` against the tool results of the transcript at `transcript`."""
    transcript_path = Path(transcript)
    if not transcript_path.is_file():
        raise InputError(f"'{transcript}' is not a file (pass a run's transcript.jsonl).")
    try:
        texts = tool_result_texts(transcript_path)
    except OSError as exc:
        raise InputError(f"Cannot read '{transcript}': {exc.strerror or exc}") from None
    return check_grounding(report_markdown(Path(report)), texts)
