"""The suite's result for people: one row per repository (recall/precision per family of items, history, forbidden
items, secrets), then detectors x repositories, then the failures (known ones with their reasons).

A cell reads `recall/precision`; `-` means nothing was expected and nothing reported there; `!` marks a value
under its threshold.
"""

from __future__ import annotations

from rich.console import Console

from ..fit import Col, print_fitted
from .match import Counts
from .score import Rates
from .suite import SuiteResult, Thresholds

# Families of item kinds shown as one column each in the repository table.
FAMILIES: dict[str, tuple[str, ...]] = {
    "CI": ("pipeline", "job", "need", "trigger", "gate"),
    "schedules": ("schedule",),
    "tasks": ("task",),
    "procedures": ("procedure", "command", "automation-link"),
    "infra": ("infrastructure",),
    "diagnostics": ("diagnostic",),
    "opportunities": ("opportunity",),
}


def cell(rates: Rates | None, thresholds: Thresholds) -> str:
    """`recall/precision` with `!` after a value under its threshold; `-` for an empty group."""
    if rates is None or (rates.recall is None and rates.precision is None):
        return "-"
    recall = _value(rates.recall, thresholds.recall)
    precision = _value(rates.precision, thresholds.precision)
    return f"{recall}/{precision}"


def repo_rows(result: SuiteResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the repository table."""
    header = ["repository", "all items", *FAMILIES, "lines", "details", "history", "forbidden", "secrets", "status"]
    rows = []
    for score in result.repos:
        failures = [f for f in result.failures if f.repo == score.repo]
        status = "FAIL" if any(f.known is None for f in failures) else "known" if failures else "ok"
        history = "-" if not score.history else "ok" if all(f.ok for f in score.history) else "WRONG"
        rows.append([
            score.repo, cell(score.discovery, result.thresholds),
            *(cell(_sum(score.by_kind, kinds), result.thresholds) for kinds in FAMILIES.values()),
            "-" if score.evidence_lines is None else _value(score.evidence_lines, result.thresholds.evidence_lines),
            "-" if score.details is None else _value(score.details, result.thresholds.details),
            history, str(score.forbidden + score.forbidden_texts), str(score.secrets), status,
        ])
    rows.append(["all", cell(result.total, result.thresholds),
                 *(cell(_sum(result.by_kind, kinds), result.thresholds) for kinds in FAMILIES.values()),
                 "", "", "", str(sum(s.forbidden + s.forbidden_texts for s in result.repos)),
                 str(sum(s.secrets for s in result.repos)), result.status.upper()])
    return header, rows


def detector_rows(result: SuiteResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the detectors x repositories table (with the detector's total last)."""
    header = ["detector", *(s.repo for s in result.repos), "all"]
    rows = []
    for detector, total in result.by_detector.items():
        rows.append([detector, *(cell(s.by_detector.get(detector), result.thresholds) for s in result.repos),
                     cell(total, result.thresholds)])
    return header, rows


def render_markdown(result: SuiteResult) -> str:
    """The tables and failures as Markdown (what the README shows)."""
    t = result.thresholds
    lines = [f"Cells are recall/precision (`!` under the threshold: recall {t.recall:g}, precision {t.precision:g}, "
             f"evidence lines {t.evidence_lines:g}, details {t.details:g}; {t.forbidden} forbidden items, "
             f"{t.secrets} secrets).", ""]
    for header, rows in (repo_rows(result), detector_rows(result)):
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines.extend("| " + " | ".join(row) + " |" for row in rows)
        lines.append("")
    lines.extend(_failure_lines(result))
    return "\n".join(lines).rstrip() + "\n"


def render_tables(result: SuiteResult, console: Console, *, wide: bool = False) -> None:
    """The same tables fitted to the console (see `fit`): the repository or detector and the status always shown,
    the families that do not fit on each row's detail line."""
    for title, (header, rows) in (("Repositories", repo_rows(result)), ("Detectors", detector_rows(result))):
        last = len(header) - 1
        columns = [Col(name, "id") if n == 0 else Col(name, right=True, drop=0 if n in (1, last) else n)
                   for n, name in enumerate(header)]
        print_fitted(console, title, columns, rows, wide=wide)
    for line in _failure_lines(result):
        console.print(line, markup=False, highlight=False)


def _failure_lines(result: SuiteResult) -> list[str]:
    lines = []
    for failure in result.failures:
        label = f"known failing ({failure.known})" if failure.known else "FAIL"
        lines.append(f"- {failure.repo}: {failure.what}: {label}")
    if not lines:
        lines.append("Every threshold is met.")
    return lines


def _sum(table: dict[str, Rates], kinds: tuple[str, ...]) -> Rates | None:
    total = Counts()
    for kind in kinds:
        if kind in table:
            total = total.add(Counts(tp=table[kind].tp, fp=table[kind].fp, fn=table[kind].fn))
    return Rates.of(total) if total.tp + total.fp + total.fn else None


def _value(value: float | None, threshold: float) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" + ("!" if value < threshold else "")
