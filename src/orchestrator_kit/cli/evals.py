"""`orchestrator-kit eval tools`: build each sample repository, scan it, score it against its truth file.

Exit codes: 0 every threshold met (known failures listed), 1 a threshold failed, 2 usage or input error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import OrchestratorError
from ..terminal import printable, safe_console
from .common import FormatOption, OutputFormat, OutputOption, QuietOption, WideOption, fail
from .progress import LiveProgress, wanted

if TYPE_CHECKING:
    from ..evals.suite import SuiteResult

DEFAULT_CASES = Path("evals") / "cases"
DEFAULT_THRESHOLDS = Path("evals") / "thresholds.yaml"

eval_app = typer.Typer(name="eval", help="Measure the tools and the agents against sample repositories with ground "
                       "truth.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


@eval_app.command("tools")
def tools_command(
    cases: Annotated[
        list[Path] | None,
        typer.Option("--cases", help="A truth file, or a folder of them (repeatable). Default: evals/cases."),
    ] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", help="Score this checkout instead of the samples (needs --truth).")
    ] = None,
    truth: Annotated[Path | None, typer.Option("--truth", help="The truth file of --repo.")] = None,
    thresholds: Annotated[
        Path | None,
        typer.Option("--thresholds", help="Thresholds file. Default: evals/thresholds.yaml if present, "
                     "else recall 0.95, precision 0.90, evidence lines 0.90, 0 forbidden, 0 secrets."),
    ] = None,
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    quiet: QuietOption = False,
    wide: WideOption = False,
) -> None:
    """Score discovery, history facts and opportunities on sample repositories (or --repo with --truth)."""
    from ..evals.run import score_checkout
    from ..evals.suite import load_thresholds, run_suite, summarize
    from ..evals.truth import load_truth

    if (repo is None) != (truth is None):
        fail("--repo and --truth go together: the checkout to score and its truth file.")
    if repo is not None and cases:
        fail("use either --cases or --repo/--truth, not both.")
    with LiveProgress(wanted(None, quiet)) as live:
        try:
            limits = load_thresholds(thresholds or (DEFAULT_THRESHOLDS if DEFAULT_THRESHOLDS.is_file() else None))
            if repo is not None and truth is not None:
                live.hooks.stage("scanning and scoring the checkout")
                result = summarize([score_checkout(repo, load_truth(truth))], limits)
            else:
                live.hooks.stage("building, scanning and scoring sample repositories")
                result = run_suite(cases or [DEFAULT_CASES], limits, progress=live.hooks.progress)
        except OrchestratorError as exc:
            live.close()
            fail(str(exc))
    _write(result, output_format, output, wide=wide)
    if result.status == "fail":
        raise typer.Exit(1)


def _write(result: SuiteResult, output_format: OutputFormat, output: Path | None, *, wide: bool) -> None:
    from ..evals.report import render_markdown, render_tables

    try:
        stream = sys.stdout if output is None else output.open("w", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write '{output}': {exc.strerror or exc}")
    try:
        if output_format is OutputFormat.json:
            stream.write(printable(result.model_dump_json(indent=2)) + "\n")
        elif output_format is OutputFormat.markdown:
            stream.write(printable(render_markdown(result)))
        else:
            # A file gets a page wide enough for every column; standard output is fitted to its width (COLUMNS)
            console = safe_console(file=stream, width=200, color_system=None) if output is not None else safe_console()
            render_tables(result, console, wide=wide)
    finally:
        if output is not None:
            stream.close()


@eval_app.command("agents")
def agents_command(
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="An inspect-ai model id (default: anthropic/ + the runner's default "
                     "model), or 'scripted': the offline proof (each case's good and bad transcripts, no key)."),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", "-k", help="Runs per case; pass@k and pass^k use k = epochs.")] = 1,
    cases: Annotated[
        list[str] | None, typer.Option("--cases", help="Case ids (repeatable). Default: every case.")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A previous results.json: flag what got worse (exit 1).")
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="Where results.json, results.md and inspect's logs/ go.")
    ] = Path(".orchestrator-kit") / "evals" / "agents",
    max_samples: Annotated[
        int | None, typer.Option("--max-samples", help="Samples run at once (inspect's own concurrency).")
    ] = None,
    batch: Annotated[
        bool, typer.Option("--batch", help="Send requests through the provider's batch API (Anthropic Message "
                           "Batches: half the price, slower).")
    ] = False,
    cases_dir: Annotated[
        Path, typer.Option("--cases-dir", help="The folder of agent cases.")
    ] = Path("evals") / "cases" / "agents",
    wide: WideOption = False,
) -> None:
    """Evaluate the agents on inspect-ai: every case's run scored by the code graders, with pass@k and pass^k.

    Exit codes: 0 done (scripted: the proof holds), 1 the scripted proof failed or --compare found a regression,
    2 usage or input error (a missing key included)."""
    try:
        from ..evals.agents.results import AgentEvalResults, proof, proof_markdown, render_markdown, render_table
        from ..evals.agents.results import compare as compare_results
        from ..evals.agents.run import DEFAULT_EVAL_MODEL, run_agent_evals
    except ImportError as exc:
        fail(f"the agent evals need inspect-ai: pip install 'orchestrator-kit[evals]' ({exc.name} is missing).")
    previous = None
    if compare is not None:
        try:
            previous = AgentEvalResults.model_validate_json(compare.read_bytes())
        except (OSError, ValueError) as exc:
            fail(f"'{compare}' is not a results.json of `eval agents`: {str(exc).splitlines()[0]}")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        results = run_agent_evals(model=model or DEFAULT_EVAL_MODEL, epochs=epochs, only=cases, cases_dir=cases_dir,
                                  log_dir=output_dir / "logs", max_samples=max_samples, batch=batch)
    except OrchestratorError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write to '{output_dir}': {exc.strerror or exc}")
    regressions = compare_results(previous, results) if previous is not None else None
    markdown = render_markdown(results, regressions)
    rows = proof(results) if results.scripted else []
    if rows:
        markdown += "\n## Offline proof\n\n" + proof_markdown(rows)
    (output_dir / "results.json").write_text(results.model_dump_json(indent=2), encoding="utf-8")
    (output_dir / "results.md").write_text(markdown, encoding="utf-8")
    console = safe_console()  # fitted to the terminal, or to $COLUMNS (80 when unset) in a pipe, like `eval tools`
    render_table(results, console, regressions, wide=wide)
    for row in rows:
        if not row.ok:
            console.print(f"PROOF FAILED {row.case} {row.variant}: must {row.expected}, failed {row.failed}: {row.why}")
    console.print(f"Results: {output_dir / 'results.json'}, {output_dir / 'results.md'}")
    if regressions or any(not r.ok for r in rows):
        raise typer.Exit(1)
