"""Validation and simulation reports as rich tables, for a person at a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .service import RuleInfo, ValidationReport
from .simulate import SimulationReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def print_validation(report: ValidationReport, console: Console, source: str) -> None:
    if report.findings:
        table = Table(title=f"Findings in {source}", title_justify="left")
        for column in ("Severity", "Rule", "Where", "Message"):
            table.add_column(column, overflow="fold")
        for f in report.findings:
            where = f.location + (f" (line {f.line})" if f.line else "")
            table.add_row(Text(f.severity, style=_STYLE[f.severity]), f.rule, where, f.message)
        console.print(table)
    verdict = Text("valid", style="bold green") if report.valid else Text("not valid", style="bold red")
    console.print(
        Text.assemble(
            f"{report.design}: ", verdict,
            f" ({report.errors} errors, {report.warnings} warnings, {report.infos} infos; "
            f"{report.states} states, {len(report.rules_checked)} rules)",
        )
    )


def print_simulation(report: SimulationReport, console: Console) -> None:
    happy = report.happy_path
    console.print(Text.assemble(("Without faults: ", "bold"), f"{happy.status} via {' → '.join(happy.path)}"))
    if report.scenarios:
        table = Table(title="Fault scenarios", title_justify="left")
        for column in ("Step", "Fault", "Retries", "Compensations (in order)", "End", "Consistent", "Path / why not"):
            table.add_column(column, overflow="fold")
        for s in report.scenarios:
            end = s.end_state or s.uncaught_error or ""
            verdict = Text("yes", style="green") if s.consistent else Text("NO", style="bold red")
            detail = "; ".join(s.reasons) if s.reasons else " → ".join(s.path)
            fault = f"{s.fault} ({s.error})" + (f", then {s.then.step}: {s.then.fault}" if s.then else "")
            table.add_row(
                s.step or "", fault, str(s.total_retries), " → ".join(s.compensations),
                f"{end} ({s.status})", verdict, detail,
            )
        console.print(table)
    summary = report.summary
    console.print(
        f"{report.design}: {summary.consistent} of {summary.scenarios} single faults consistent "
        f"({summary.inconsistent} inconsistent) over {summary.steps} steps and {summary.paths_explored} "
        "fault-free paths"
        + (
            f"; {summary.second_faults} second faults in recovery steps, {summary.second_faults_inconsistent} of "
            "them leave an effect applied (back those recoveries with a person or a reconciliation)"
            if summary.second_faults else ""
        )
        + (f"; not tested (no fault-free path enters them): {', '.join(summary.not_reached)}"
           if summary.not_reached else "")
        + (f"; {summary.skipped} scenarios not run (--max-total-steps spent)" if summary.skipped else "")
    )
    console.print(Text(f"formula: {summary.formula}", style="dim"))


def print_rules(rules: list[RuleInfo], console: Console) -> None:
    table = Table(title="Design rules", title_justify="left")
    for column in ("Rule", "Severity", "Checks"):
        table.add_column(column, overflow="fold")
    for r in rules:
        table.add_row(r.id, Text(r.severity, style=_STYLE[r.severity]), r.summary)
    console.print(table)
