"""Metrics and the opportunity matrix for people: Markdown (with Mermaid charts) and rich tables.

Charts are Mermaid `xychart-beta` blocks (bars of commits per week, and of hotspot scores), which GitHub and
most Markdown viewers render; the numbers behind them are in the tables next to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from ..fit import Col, print_fitted
from ..metrics.models import (
    HistoryMetrics,
    HoursTotal,
    Metrics,
    Opportunity,
    OpportunityMatrix,
    PipelineGraph,
    PipelineMetrics,
    TokenReport,
)
from .mdtable import table

CHART_WEEKS = 26
CHART_BARS = 10


def _hours(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 48:
        return f"{value / 24:.1f} days"
    return f"{value:.1f} h"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _chart_label(text: str, limit: int = 28) -> str:
    clean = text.replace('"', "'").replace("\n", " ")
    return clean if len(clean) <= limit else "…" + clean[-(limit - 1):]


def xychart(
    title: str, labels: Sequence[str], values: Sequence[float], axis: str, *, horizontal: bool = False
) -> list[str]:
    """A Mermaid xychart-beta bar chart (labels quoted, the y axis from 0 to the largest value)."""
    top = max([*values, 1])
    return [
        "```mermaid",
        "xychart-beta" + (" horizontal" if horizontal else ""),
        f'    title "{_chart_label(title, 80)}"',
        "    x-axis [" + ", ".join(f'"{_chart_label(label)}"' for label in labels) + "]",
        f'    y-axis "{axis}" 0 --> {top:g}',
        "    bar [" + ", ".join(f"{v:g}" for v in values) + "]",
        "```",
    ]


# ------------------------------------------------------------------ Markdown


def _span(history: HistoryMetrics, *, short: bool = False) -> str:
    """The dates the commits read span, or why there are none (a window or a --path with no commit in it)."""
    if history.first_commit is None or history.last_commit is None:
        return "(none in the window read: --since, --max-commits, --path)"
    if short:
        return f"({history.first_commit} → {history.last_commit})"
    return f"from {history.first_commit} to {history.last_commit} ({history.window_days:g} days)"


def history_markdown(history: HistoryMetrics, *, summary: bool = False) -> list[str]:
    out = ["## Git history", ""]
    if not history.available:
        reasons = "; ".join(d.reason for d in history.diagnostics) or "no history"
        return [*out, f"No git history was read: {reasons}.", ""]
    out += [
        f"From `{history.query}`: {history.commits} commits ({history.merges} merges) {_span(history)}; "
        f"{history.authors.total} authors{_merged(history)}, "
        f"{history.authors.active_last_90_days} active in the last 90 days of the window. "
        f"Renames: {history.options.rename_handling}.",
        "",
    ]
    if history.partial:
        out += ["**Partial results:** " + "; ".join(history.partial_reasons) + ".", ""]
    weeks = history.commit_frequency.weeks[-CHART_WEEKS:]
    if weeks:
        out += xychart(f"Commits per week (last {len(weeks)} weeks)", [w.week[5:] for w in weeks],
                       [w.commits for w in weeks], "commits")
        out += ["", f"Commit frequency: mean {history.commit_frequency.mean_per_week:g}, median "
                    f"{history.commit_frequency.median_per_week:g} per week ({history.commit_frequency.formula}).", ""]
    out += _dora_markdown(history)
    hotspots = history.hotspots.items[: CHART_BARS if summary else history.options.top]
    if hotspots:
        out += ["### Hotspots", "", f"Formula: {history.hotspots.formula}.", ""]
        out += xychart("Churn hotspots (revisions x lines)", [h.path for h in hotspots[:CHART_BARS]],
                       [h.score for h in hotspots[:CHART_BARS]], "score", horizontal=True)
        out += [""]
        out += table(["File", "Revisions", "Lines", "Score"],
                     ([h.path, h.revisions, h.lines, h.score] for h in hotspots))
        out.append("")
    if history.hotspots.left_out:
        out += [f"Left out of the hotspots: {_counts(history.hotspots.left_out, 'generated files')}; "
                "`--include-generated` keeps them.", ""]
    if summary:
        return out
    churn = history.churn
    out += ["### Churn", "", f"Formula: {churn.formula}. {churn.files_total} files changed; "
                             f"+{churn.lines_added} / -{churn.lines_deleted} lines.", ""]
    out += table(["File", "Revisions", "Added", "Deleted", "Churn", "Authors", "Still exists"],
                 ([f.path + (" (binary)" if f.binary else ""), f.revisions, f.lines_added, f.lines_deleted, f.churn,
                   f.authors, "yes" if f.exists else "no"] for f in churn.files))
    if churn.left_out:
        out += ["", f"Left out of the churn list: {_counts(churn.left_out, 'generated files')}; "
                "`--include-generated` keeps them."]
    out += ["", "By directory:", ""]
    out += table(["Directory", "Files", "Revisions", "Churn"],
                 ([d.path, d.files, d.revisions, d.churn] for d in churn.directories))
    out += ["", "### Change coupling", "", f"Formula: {history.coupling.formula}.", ""]
    if history.coupling.pairs:
        out += table(["File", "Coupled with", "Degree %", "Shared", "Revisions (both)"],
                     ([p.path, p.coupled, p.degree, p.shared_revisions, f"{p.revisions} / {p.coupled_revisions}"]
                      for p in history.coupling.pairs))
    else:
        out.append("No pair of files passes the thresholds.")
    if history.coupling.pairs_left_out:
        out += ["", f"Left out of the coupling: {_counts(history.coupling.pairs_left_out, 'pairs')} "
                    "; `--include-generated`, `--include-fixtures` keep them."]
    out += ["", "### Author fragmentation and bus factor", "", f"Fragmentation: {history.fragmentation.formula}. "
            f"Mean: {history.fragmentation.mean if history.fragmentation.mean is not None else 'n/a'}.", ""]
    if history.fragmentation.files:
        out += table(["File", "Authors", "Revisions", "Fragmentation", "Main author (share)"],
                     ([f.path, f.authors, f.revisions, f.fragmentation, f"{f.main_author} ({f.main_author_share:.0%})"]
                      for f in history.fragmentation.files))
        out.append("")
    out += [f"Bus factor: {history.bus_factor.formula}.", ""]
    out += table(["Directory", "Bus factor", "Authors", "Top authors (share of churn)"],
                 ([d.path, d.bus_factor, d.authors, ", ".join(f"{a.author} {a.share:.0%}" for a in d.top_authors)]
                  for d in history.bus_factor.directories))
    out.append("")
    return out


def _dora_markdown(history: HistoryMetrics) -> list[str]:
    dora = history.dora
    freq = dora.deployment_frequency
    out = ["### DORA proxies (from git only)", ""]
    if freq.source == "none":
        return [*out, "No deploy events: no semver release tag, and no deploy pipeline triggered by pushes.", ""]
    source = "release tags" if freq.source == "release-tags" else "first-parent commits of HEAD"
    if freq.source == "release-tags" and dora.series is not None and dora.series.chosen is not None:
        source += f" of the series '{dora.series.chosen or '(root)'}' ({dora.series.reason})"
    out += [f"Deployments are {source}" + (f", corroborated by {', '.join(dora.corroborated_by)}"
                                           if dora.corroborated_by else "") + ".", ""]
    incidents = dora.time_to_restore.incidents
    out += table(
        ["Key (proxy)", "Value"],
        [
            ["Deployment frequency", f"{freq.category} ({freq.deployments} deployments, {freq.per_week} per week)"],
            ["Lead time for changes", f"median {_hours(dora.lead_time.median_hours)}, p90 "
                                      f"{_hours(dora.lead_time.p90_hours)} ({dora.lead_time.commits_measured} commits; "
                                      f"{dora.lead_time.commits_unreleased} unreleased)"],
            ["Change failure rate", f"{_pct(dora.change_failure.rate)} ({dora.change_failure.failed} of "
                                    f"{dora.change_failure.deployments})"],
            ["Time to restore", f"median {_hours(dora.time_to_restore.median_hours)} ({incidents} "
                                f"{'incident' if incidents == 1 else 'incidents'})"],
        ],
    )
    out += ["", "Formulas:", "",
            f"- Deployment frequency: {freq.formula}.", f"- Lead time: {dora.lead_time.formula}.",
            f"- Change failure rate: {dora.change_failure.formula}.",
            f"- Time to restore: {dora.time_to_restore.formula}.", *(f"- Note: {n}." for n in freq.notes)]
    out.append("")
    if dora.change_failure.failures:
        out += table(["Failed deployment", "When", "Why (proxy)", "Restored by", "After"],
                     ([f.release, f.time, "; ".join(f.reasons), f.restored_by or "", _hours(f.restore_hours)]
                      for f in dora.change_failure.failures))
        out.append("")
    if dora.change_failure.not_counted:
        out += ["Not counted as failures: " + "; ".join(f"`{n.release}` ({n.reason})"
                                                         for n in dora.change_failure.not_counted[:20]) + ".", ""]
    if dora.change_failure.inputs:
        out += ["Change-failure inputs: " + ", ".join(f"{k} {v:g}" for k, v in dora.change_failure.inputs.items())
                + ".", ""]
    if dora.skipped_tags:
        listed = ", ".join(f"`{t.name}` ({t.reason})" for t in dora.skipped_tags[:20])
        more = "" if len(dora.skipped_tags) <= 20 else f" and {len(dora.skipped_tags) - 20} more"
        out += [f"Tags not counted as deployments: {listed}{more}.", ""]
    return out


def critical_path_cells(graph: PipelineGraph) -> tuple[str, str]:
    """The critical path (by jobs) and its minutes as a table shows them: a job that waits for a person is marked,
    and the minutes say that the wait is not in them."""
    marks = {g.job: " (person)" if g.waits == "yes" else " (reviewers?)" for g in graph.critical_path_gates}
    path = " → ".join(job + marks.get(job, "") for job in graph.critical_path)
    minutes = f"{graph.critical_path_minutes:g}"
    if graph.critical_path_waits_for_people != "no":
        minutes += " + a person's wait" if graph.critical_path_waits_for_people == "yes" else " + reviewers?"
    return path, minutes


def pipelines_markdown(pipelines: PipelineMetrics, *, summary: bool = False) -> list[str]:
    out = ["## Pipeline metrics", ""]
    if not pipelines.pipelines:
        return [*out, "No CI pipeline found.", ""]
    assumed = ", ".join(f"{k} {v:g}" for k, v in pipelines.step_minutes_assumed.items())
    out += [f"Durations are estimates from step kinds (assumed minutes: {assumed}), not measurements.", ""]
    out += table(
        ["Pipeline", "Jobs (instances)", "Critical path (jobs)", "Critical path (est. min)", "Max width",
         "Concurrency", "Problems"],
        ([g.name, f"{g.jobs} ({g.instances})", *critical_path_cells(g),
          f"{g.max_parallel_width} ({g.max_parallel_instances})", g.concurrency_control,
          "; ".join([*(f"cycle: {', '.join(g.cycles)}" for _ in [0] if g.cycles),
                     *(f"needs missing job '{d.missing}' ({d.job})" for d in g.dangling_needs)])]
         for g in pipelines.pipelines),
    )
    out.append("")
    rows: list[list[object]] = []
    for missing in pipelines.missing_caches:
        rows.append(["no dependency cache", f"{missing.pipeline}/{missing.job}", "; ".join(missing.install_commands),
                     ", ".join(str(e) for e in missing.evidence)])
    for repeated in pipelines.repeated_steps:
        rows.append([f"repeated {repeated.kind} ({repeated.instances} instances)", ", ".join(repeated.jobs),
                     repeated.command, ", ".join(str(e) for e in repeated.evidence)])
    for job in pipelines.jobs_without_timeout:
        rows.append(["no timeout", f"{job.pipeline}/{job.job}", job.note or "", str(job.evidence)])
    for pipeline in pipelines.pipelines_without_concurrency:
        rows.append(["no concurrency control", pipeline, "overlapping runs are not cancelled or queued", ""])
    for gate in pipelines.manual_gates:
        rows.append([f"manual gate ({gate.kind})", f"{gate.pipeline}/{gate.job}", gate.note, str(gate.evidence)])
    for dup in pipelines.procedure_duplicates:
        what = "duplicates" if dup.same_arguments else "differs from"
        rows.append([f"procedure step {what} CI", dup.automation, f"`{dup.step_command}` vs `{dup.ci_command}`",
                     f"{dup.step_evidence}, {dup.evidence}"])
    if rows:
        out += ["### Findings", ""]
        out += table(["Finding", "Where", "What", "Evidence"], rows[: 15 if summary else len(rows)])
        out.append("")
    if pipelines.schedules and not summary:
        out += ["### Schedules", ""]
        out += table(["Source", "Expression", "When", "Runs/year", "Runs", "Evidence"],
                     ([s.source, f"`{s.expression}`", s.explanation, s.runs_per_year if s.runs_per_year is not None
                       else "n/a", s.target, str(s.evidence)] for s in pipelines.schedules))
        out.append("")
    return out


def tokens_markdown(tokens: TokenReport) -> list[str]:
    out = ["## Token budget", "", f"{tokens.label}", "",
           f"{tokens.total_tokens} tokens in {tokens.files_counted} files ({tokens.total_bytes} bytes; "
           f"{tokens.files_skipped} skipped: " + (", ".join(f"{k} {v}" for k, v in tokens.skipped_by_reason.items())
                                                  or "none") + f"). Formula: {tokens.formula}.", ""]
    out += table(["File", "Tokens", "Bytes"], ([f.path, f.tokens, f.bytes] for f in tokens.top_files))
    out += ["", "By directory:", ""]
    out += table(["Directory", "Files", "Tokens"], ([d.path, d.files, d.tokens] for d in tokens.directories))
    out.append("")
    return out


def render_metrics_markdown(metrics: Metrics, *, summary: bool = False, title: bool = True) -> str:
    out = [f"# Metrics: `{metrics.root}`", ""] if title else []
    if metrics.history is not None:
        out += history_markdown(metrics.history, summary=summary)
    if metrics.pipelines is not None:
        out += pipelines_markdown(metrics.pipelines, summary=summary)
    if metrics.tokens is not None:
        out += tokens_markdown(metrics.tokens)
    if metrics.not_computed:
        out += ["## Not computed", ""]
        out += [f"- {n.part}: {n.reason}" for n in metrics.not_computed]
        out.append("")
    if metrics.diagnostics and not summary:
        out += ["## Metrics diagnostics", ""]
        out += table(["Severity", "Path", "Reason"], ([d.severity, d.path, d.reason] for d in metrics.diagnostics))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def window_line(matrix: OpportunityMatrix) -> str:
    """Which git history the matrix's rates were read from (every output of the matrix says it)."""
    return f"Git history read: {matrix.window.describe()}." if matrix.window is not None else ""


def _range(value: float, low: float, high: float) -> str:
    """`value (low–high)`, or the value alone when the bounds are the value."""
    if low == value == high:
        return f"{value:g}"
    return f"{value:g} ({low:g}–{high:g})"


def _hours_cell(o: Opportunity, saves: str) -> str:
    if o.saves != saves:
        return ""
    return _range(o.hours_saved_per_year, o.hours_saved_low, o.hours_saved_high)


def _total(total: HoursTotal) -> str:
    if total.expected == total.low == total.high:  # nothing of this kind: "0", not "0 (0–0)"
        return f"{total.expected:g}"
    return f"{total.expected:g} ({total.low:g}–{total.high:g})"


def opportunities_markdown(matrix: OpportunityMatrix) -> list[str]:
    out = ["## Automation opportunities", ""]
    if matrix.window is not None:
        out += [window_line(matrix), ""]
    if not matrix.opportunities:
        out += ["No candidate found.", ""]
    else:
        out += [f"{len(matrix.opportunities)} candidates: about {_total(matrix.person_hours_per_year)} person hours "
                f"and, apart, {_total(matrix.ci_hours_per_year)} CI hours a year (expected, with low–high bounds; "
                "estimates, candidates can overlap; person and CI hours are never added). Assumptions from "
                f"{matrix.settings_source}. Formulas and assumptions are listed below the table.", ""]
        out += table(
            ["ID", "Task", "Frequency/yr", "Duration (min)", "Complexity", "Automation potential", "Risk",
             "Person h/yr", "CI h/yr", "Payback (months)", "Priority", "Evidence"],
            ([o.id, o.title + (" (quick win)" if o.quick_win else ""),
              _range(o.frequency_per_year.value, o.frequency_per_year.low, o.frequency_per_year.high)
              + (" (assumed)" if o.frequency_per_year.assumption else ""),
              _range(o.duration_minutes.value, o.duration_minutes.low, o.duration_minutes.high), o.complexity,
              _pct(o.automation_potential), o.risk, _hours_cell(o, "person-time"), _hours_cell(o, "ci-time"),
              "n/a" if o.payback_months is None else f"{o.payback_months:g}", o.priority,
              ", ".join(str(e) for e in o.evidence[:3])]
             for o in matrix.opportunities),
        )
        out += ["", "### Why, what to build, and how each number was computed", ""]
        for o in matrix.opportunities:
            out += [f"#### {o.id}: {o.title}", "", f"{o.why}. Suggested: {o.suggestion}.", "",
                    f"- Frequency: {o.frequency_per_year.basis}.", f"- Duration: {o.duration_minutes.basis}.",
                    f"- Potential: {o.potential_basis}. Complexity: {o.complexity_basis}. Risk: {o.risk_basis}.",
                    f"- Formula: {o.explanation.formula}.", f"- Computed: {o.explanation.computation}.",
                    f"- Priority {o.priority}: {o.priority_basis}.",
                    f"- Generate: `orchestrator-kit generate {'|'.join(o.generate_with)} --from-opportunity {o.id}`."
                    if o.generate_with else f"- Advice only: {o.advice_only}."]
            if o.explanation.evidence_lines:
                out += ["- Evidence:", *(f"  - `{line}`" for line in o.explanation.evidence_lines)]
            out.append("")
    if matrix.excluded:
        out += ["### Looked at and left out", ""]
        out += [f"- {e.title} ({e.kind}): {e.reason}" + (f" [{e.evidence[0]}]" if e.evidence else "")
                for e in matrix.excluded]
        out.append("")
    out += ["Formulas: " + "; ".join(f"{k} = {v}" for k, v in matrix.formulas.items()) + ".", "",
            "Assumptions: " + "; ".join(f"{k}: {v}" for k, v in matrix.assumptions.items()) + ".", ""]
    return out


def render_opportunities_markdown(matrix: OpportunityMatrix, *, title: bool = True) -> str:
    out = [f"# Automation opportunities: `{matrix.root}`", ""] if title else []
    out += opportunities_markdown(matrix)[2:] if title else opportunities_markdown(matrix)
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------ rich tables


Rows = list[list[str | Text]]


def render_metrics_tables(metrics: Metrics, console: Console, *, summary: bool = False, wide: bool = False) -> None:
    """The metrics as tables fitted to the console's width (see `fit`); numbers right-aligned, units in headers."""
    def fit(title: str, columns: list[Col], rows: Rows) -> None:
        print_fitted(console, title, columns, rows, wide=wide)

    history = metrics.history
    if history is None:
        pass  # not asked for: listed under "Not computed" below
    elif not history.available:
        reasons = "; ".join(d.reason for d in history.diagnostics) or "no history"
        console.print(f"No git history was read: {reasons}.", markup=False)
    else:
        console.print(Text.assemble(
            ("Git history: ", "bold"), f"{history.commits:,} commits {_span(history, short=True)}, "
            f"{history.authors.total:,} authors{_merged(history)}; mean {history.commit_frequency.mean_per_week:g} "
            f"commits/week" + (f"  PARTIAL: {'; '.join(history.partial_reasons)}" if history.partial else "")))
        dora = history.dora
        fit("DORA proxies (release tags as deployments)", [Col("Key (proxy)"), Col("Value", "text")], [
            ["Deployment frequency", f"{dora.deployment_frequency.category} "
                                     f"({dora.deployment_frequency.deployments} deployments)"],
            ["Lead time (median)", _hours(dora.lead_time.median_hours)],
            ["Change failure rate", f"{_pct(dora.change_failure.rate)} ({dora.change_failure.failed} of "
                                    f"{dora.change_failure.deployments})"],
            ["Time to restore (median)", _hours(dora.time_to_restore.median_hours)]])
        fit("Hotspots (score = revisions x lines)",
            [Col("File", "id"), Col("Revisions", right=True, drop=1), Col("Lines", right=True, drop=2),
             Col("Score", right=True)],  # a long path keeps the score beside it; its factors go to the detail line
            [[h.path, f"{h.revisions:,}", f"{h.lines:,}", f"{h.score:,}"]
             for h in history.hotspots.items[: CHART_BARS if summary else None]])
        if history.hotspots.left_out:
            console.print(f"Left out of the hotspots: {_counts(history.hotspots.left_out, 'generated files')}; "
                          "--include-generated keeps them.", markup=False)
        if not summary:
            if history.coupling.pairs:
                fit("Change coupling (code-maat degree)",
                    [Col("File", "id"), Col("Coupled with", "id", drop=2), Col("Degree %", right=True),
                     Col("Shared revisions", right=True, drop=1)],
                    [[p.path, p.coupled, str(p.degree), str(p.shared_revisions)] for p in history.coupling.pairs])
            if history.coupling.pairs_left_out:
                console.print(f"Left out of the coupling: {_counts(history.coupling.pairs_left_out, 'pairs')}; "
                              "--include-generated, --include-fixtures keep them.", markup=False)
            fit("Bus factor by directory",
                [Col("Directory", "id"), Col("Bus factor", right=True), Col("Authors", right=True, drop=1),
                 Col("Top authors (share of churn)", "text")],
                [[d.path, str(d.bus_factor), f"{d.authors:,}", ", ".join(f"{a.author} {a.share:.0%}"
                                                                       for a in d.top_authors)]
                 for d in history.bus_factor.directories])
    if metrics.pipelines is not None and metrics.pipelines.pipelines:
        fit("Pipelines (estimated, from step kinds)",
            [Col("Pipeline", "text"), Col("Jobs (inst.)", right=True), Col("Critical path", "detail"),
             Col("Crit. path (min)", right=True), Col("Width (jobs)", right=True, drop=2),
             Col("Concurrency", drop=1)],
            [[g.name, f"{g.jobs} ({g.instances})", *critical_path_cells(g),
              str(g.max_parallel_width), g.concurrency_control] for g in metrics.pipelines.pipelines])
    if metrics.tokens is not None:
        _token_files(metrics.tokens, console, limit=10, wide=wide)
    for missing in metrics.not_computed:
        console.print(Text.assemble(("Not computed: ", "bold"), f"{missing.part}: {missing.reason}"))


def _token_files(tokens: TokenReport, console: Console, *, limit: int, wide: bool) -> None:
    print_fitted(console, f"Tokens: {tokens.total_tokens:,} in {tokens.files_counted:,} files ({tokens.encoder}; "
                 "estimates of Claude's tokens)",
                 [Col("File", "id"), Col("Tokens", right=True), Col("Bytes", right=True, drop=1)],
                 [[f.path, f"{f.tokens:,}", f"{f.bytes:,}"] for f in tokens.top_files[:limit]], wide=wide)


def render_tokens_tables(tokens: TokenReport, console: Console, *, wide: bool = False) -> None:
    """`orchestrator-kit tokens`: the top files, the directories and the cache use, fitted to the console."""
    _token_files(tokens, console, limit=len(tokens.top_files), wide=wide)
    print_fitted(console, "Tokens per directory",
                 [Col("Directory", "id"), Col("Files", right=True, drop=1), Col("Tokens", right=True)],
                 [[d.path, f"{d.files:,}", f"{d.tokens:,}"] for d in tokens.directories], wide=wide)
    skipped = ", ".join(f"{k} {v}" for k, v in tokens.skipped_by_reason.items()) or "none"
    console.print(f"{tokens.total_bytes:,} bytes; skipped: {skipped}; cache: {tokens.cache_hits:,} hits, "
                  f"{tokens.cache_misses:,} misses", markup=False)


def render_opportunities_tables(matrix: OpportunityMatrix, console: Console, *, wide: bool = False) -> None:
    """The opportunity matrix fitted to the console's width (see `fit`): the id and task always shown."""
    from ..fit import Col, print_fitted

    if matrix.window is not None:
        console.print(window_line(matrix), markup=False)
    if not matrix.opportunities:
        console.print("No automation opportunity found.")
        return
    rows: list[list[str | Text]] = []
    for o in matrix.opportunities:
        rows.append([o.id, o.title + (" ★ quick win" if o.quick_win else ""),
                     _range(o.frequency_per_year.value, o.frequency_per_year.low, o.frequency_per_year.high)
                     + ("*" if o.frequency_per_year.assumption else ""),
                     _range(o.duration_minutes.value, o.duration_minutes.low, o.duration_minutes.high),
                     str(o.complexity), _pct(o.automation_potential), str(o.risk), _hours_cell(o, "person-time"),
                     _hours_cell(o, "ci-time"), o.priority, str(o.evidence[0]) if o.evidence else ""])
    columns = [Col("ID", "id"), Col("Task", "text"), Col("Freq/yr", drop=5), Col("Min", drop=6), Col("Cplx", drop=9),
               Col("Potential", drop=7), Col("Risk", drop=8), Col("Person h/yr", drop=3), Col("CI h/yr", drop=4),
               Col("Priority", drop=2), Col("Evidence", "id", drop=10)]
    print_fitted(console, f"Automation opportunities (person h/year {_total(matrix.person_hours_per_year)}; CI h/year "
                 f"{_total(matrix.ci_hours_per_year)}; estimates, never added together)", columns, rows, wide=wide)
    console.print("Values are expected (low–high). * assumed frequency. The basis, inputs and formula of every number, "
                  "and the candidates left out: --format json or markdown.", markup=False)
    console.print(generate_line(matrix), markup=False)


def generate_line(matrix: OpportunityMatrix) -> str:
    """Which opportunities `generate KIND --from-opportunity ID` takes (with their kinds) and which are advice only."""
    made = [f"{o.id} ({'|'.join(o.generate_with)})" for o in matrix.opportunities if o.generate_with]
    advice = [o.id for o in matrix.opportunities if not o.generate_with]
    return (f"Generate with `generate KIND --from-opportunity ID`: {', '.join(made) or 'none'}. Advice only (why: "
            f"--format markdown or json): {', '.join(advice) or 'none'}.")


# ------------------------------------------------------------------ what `scan --metrics --opportunities` adds


def extras_markdown(metrics: Metrics | None, matrix: OpportunityMatrix | None) -> str:
    """The metrics summary and the opportunity matrix as sections of the scan's Markdown report."""
    parts: list[str] = []
    if metrics is not None:
        parts.append(render_metrics_markdown(metrics, summary=True, title=False))
    if matrix is not None:
        parts.append("\n".join(opportunities_markdown(matrix)).rstrip() + "\n")
    return "\n".join(parts)


def extras_tables(metrics: Metrics | None, matrix: OpportunityMatrix | None, console: Console, *,
                  wide: bool = False) -> None:
    """The metrics summary and the opportunity matrix as tables after the scan's."""
    if metrics is not None:
        render_metrics_tables(metrics, console, summary=True, wide=wide)
    if matrix is not None:
        render_opportunities_tables(matrix, console, wide=wide)


def _merged(history: HistoryMetrics) -> str:
    """' (from N identities)' when identities of one person were merged."""
    authors = history.authors
    return f" (from {authors.identities:,} identities)" if authors.identities_merged else ""


def _counts(by_reason: dict[str, int], noun: str) -> str:
    """'27 generated files (lock file 22, vendored path 5)'."""
    return f"{sum(by_reason.values()):,} {noun} ({', '.join(f'{reason} {n:,}' for reason, n in by_reason.items())})"
