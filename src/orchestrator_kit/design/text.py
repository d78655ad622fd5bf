"""Validation and simulation reports, the rules and the example designs as tables fitted to the terminal (see `fit`),
for a person at a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from ..fit import Col, print_fitted
from .service import DesignExample, RuleInfo, ValidationReport
from .simulate import Scenario, SimulationReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def print_validation(report: ValidationReport, console: Console, source: str, *, wide: bool = False) -> None:
    if report.findings:
        print_fitted(console, f"Findings in {source}",
                     [Col("Line", right=True, drop=2), Col("Severity", drop=1), Col("Rule", "id"),
                      Col("Message", "text"), Col("Where", "detail")],
                     [[str(f.line or ""), Text(f.severity, style=_STYLE[f.severity]), f.rule, f.message, f.location]
                      for f in report.findings], wide=wide)
    verdict = Text("valid", style="bold green") if report.valid else Text("not valid", style="bold red")
    console.print(
        Text.assemble(
            f"{report.design}: ", verdict,
            f" ({_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}, "
            f"{_count(report.infos, 'info')}; "
            f"{_count(report.states, 'state')}, {_count(len(report.rules_checked), 'rule')})",
        )
    )


def _path(scenario: Scenario) -> str:
    more = scenario.omitted.get("path")
    return " → ".join(scenario.path) + (f" → ... ({more:,} more states)" if more else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def print_simulation(report: SimulationReport, console: Console, *, wide: bool = False) -> None:
    happy = report.happy_path
    console.print(Text.assemble(("Without faults: ", "bold"), f"{happy.status} via {_path(happy)}"))
    if report.scenarios:
        rows: list[list[str | Text]] = []
        for s in report.scenarios:
            end = s.end_state or s.uncaught_error or ""
            verdict = Text("yes", style="green") if s.consistent else Text("NO", style="bold red")
            detail = "; ".join(s.reasons) if s.reasons else _path(s)
            fault = f"{s.fault} ({s.error})" + (f", then {s.then.step}: {s.then.fault}" if s.then else "")
            rows.append([s.step or "", fault, verdict, str(s.total_retries), f"{end} ({s.status})" if end else s.status,
                         " → ".join(s.compensations), detail])
        print_fitted(console, "Fault scenarios",
                     [Col("Step", "id"), Col("Fault", "text"), Col("Consistent"), Col("Retries", right=True, drop=2),
                      Col("End", drop=3), Col("Compensations (in order)", "detail"), Col("Path / why not", "detail")],
                     rows, wide=wide)
    summary = report.summary
    console.print(
        f"{report.design}: {summary.consistent} of {summary.scenarios} single faults consistent "
        f"({summary.inconsistent} inconsistent) over {_count(summary.steps, 'step')} and "
        f"{_count(summary.paths_explored, 'fault-free path')}"
        + (
            f"; {summary.second_faults} second faults in recovery steps, {summary.second_faults_inconsistent} of "
            "them leave an effect applied (back those recoveries with a person or a reconciliation)"
            if summary.second_faults else ""
        )
        + (f"; not tested (no fault-free path enters them): {', '.join(summary.not_reached)}"
           if summary.not_reached else "")
        + (f"; {summary.skipped} scenarios not run (--max-total-steps spent)" if summary.skipped else ""),
        markup=False,  # the design's and its states' names are the file's text: '[link=URL]' in one is no markup
    )
    console.print(Text(f"formula: {summary.formula}", style="dim"))


def print_rules(rules: list[RuleInfo], console: Console, *, wide: bool = False) -> None:
    print_fitted(console, "Design rules", [Col("Rule", "id"), Col("Severity", drop=1), Col("Checks", "text")],
                 [[r.id, Text(r.severity, style=_STYLE[r.severity]), r.summary] for r in rules], wide=wide)


def print_examples(examples: list[DesignExample], console: Console, *, wide: bool = False) -> None:
    print_fitted(console, "Example designs (print one: design examples NAME)",
                 [Col("Name", "id"), Col("Kind", drop=1), Col("Description", "text")],
                 [[e.name, "valid" if e.valid else "broken", e.description] for e in examples], wide=wide)
