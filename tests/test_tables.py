"""The table views at 80, 120 and 200 columns on the built acme-shop sample.

The expected lines below were read off the sample's files (RELEASING.md, the workflows, the Makefile) and checked by
hand, not copied from the renderer: ids whole on one line, tag-only release shown with its filter, procedure ids in
the table and the Markdown, nothing wider than the terminal unless --wide.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text

from orchestrator_kit.fit import Col, fitted
from orchestrator_kit.samples import build_sample_repo

SAMPLE = Path(__file__).resolve().parents[1] / "evals" / "repos" / "acme-shop"
PROCEDURE_IDS = ["RELEASING.md#releasing-acme-shop/cutting-a-release", "RELEASING.md#releasing-acme-shop/hotfix",
                 "docs/runbooks/restore-database.md#restore-the-production-database/steps"]
OPPORTUNITY_ROW = re.compile(r"^opp-[0-9a-f]{10}  ", re.MULTILINE)


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("tables") / "acme-shop").path


def run(width: int, *args: str) -> str:
    env = {**os.environ, "COLUMNS": str(width)}
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", *args, "--quiet"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def views(acme):
    return {width: (run(width, "scan", str(acme), "--no-metrics", "--no-opportunities"),
                    run(width, "opportunities", str(acme))) for width in (80, 120, 200)}


@pytest.mark.parametrize("width", [80, 120, 200])
def test_nothing_is_wider_than_the_terminal(views, width):
    for text in views[width]:
        assert max(len(line.rstrip()) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", [80, 120, 200])
def test_ids_are_never_broken(views, width):
    scan, opportunities = views[width]
    assert len(OPPORTUNITY_ROW.findall(opportunities)) == 7  # the sample's seven opportunities, one row each
    for procedure in PROCEDURE_IDS:  # each id whole at the start of its row
        assert re.search(rf"^{re.escape(procedure)}( |$)", scan, re.MULTILINE), procedure
    for evidence in (".github/workflows/release.yml:1-18", ".github/workflows/nightly.yml:9-14", "Makefile:37-38"):
        assert evidence in scan


@pytest.mark.parametrize("width", [80, 120, 200])
def test_tag_only_release_shows_its_filter(views, width):
    release = next(line for line in views[width][0].splitlines() if line.startswith("Release "))
    assert "push (tags: v*)" in release
    ci = next(line for line in views[width][0].splitlines() if line.startswith("CI "))
    assert "push (branches: main)" in ci


def test_80_columns_moves_long_text_to_detail_lines(views):
    scan, opportunities = views[80]
    lines = [line.rstrip() for line in scan.splitlines()]
    assert "Task              Run with                  Evidence" in lines
    assert "    Runner: make; Description: Roll the deployment back to the previous revision" in lines
    assert "ID              Task                  Person h/yr    CI h/yr            Priority" in [
        line.rstrip() for line in opportunities.splitlines()]
    assert "    Freq/yr: 365; Min: 2 (1–4); Cplx: 1; Potential: 75%; Risk: 1; Evidence:" in [
        line.rstrip() for line in opportunities.splitlines()]


def test_200_columns_shows_every_pipeline_column_on_one_line(views):
    lines = [line.rstrip() for line in views[200][0].splitlines()]
    assert ("Release              GitHub Actions  push (tags: v*)                        1     publish"
            "                                     .github/workflows/release.yml:1-18") in lines


def test_120_columns_keeps_the_numbers_and_the_procedure_title(views):
    scan, opportunities = views[120]
    header = next(line for line in opportunities.splitlines() if line.startswith("ID "))
    assert header.split() == ["ID", "Task", "Freq/yr", "Min", "Person", "h/yr", "CI", "h/yr", "Priority"]
    assert ("RELEASING.md#releasing-acme-shop/hotfix                                  Releasing Acme Shop › Hotfix"
            in scan)


def test_wide_keeps_every_column(acme):
    text = run(80, "opportunities", str(acme), "--wide")
    header = next(line for line in text.splitlines() if line.startswith("ID "))
    assert header.split()[-2:] == ["Priority", "Evidence"] and "Cplx" in header and "Risk" in header


def test_markdown_names_procedure_ids(acme):
    text = run(80, "scan", str(acme), "--format", "markdown", "--no-metrics", "--no-opportunities")
    for procedure in PROCEDURE_IDS:
        assert f"ID (for `generate --from-procedure`): `{procedure}`" in text


def test_fit_on_hostile_and_huge_cells():
    """Rich markup in cells stays text; a huge cell or a very narrow terminal still lays out."""
    from rich.console import Console

    console = Console(width=40, record=True, color_system=None)
    rows: list[list[str | Text]] = [["[bold]x[/bold]", "y" * 5000, "z"]] * 3
    console.print(fitted("T", [Col("ID", "id"), Col("Text", "text"), Col("More", "detail")], rows, 40))
    out = console.export_text()
    assert "[bold]x[/bold]" in out and "More: z" in out
    console = Console(width=10, record=True, color_system=None)
    console.print(fitted("T", [Col("A", "id"), Col("B", drop=1)], [["a" * 30, "b"]], 10))
    assert "B: b" in console.export_text()


def test_an_id_longer_than_the_terminal_stays_on_one_line():
    """Stacked layout: the id passes the edge whole (the terminal wraps it softly); two ids that do not fit together
    get a line each; the rest of the row wraps on its detail line within the width."""
    from io import StringIO

    from rich.console import Console

    from orchestrator_kit.fit import print_fitted

    console = Console(file=StringIO(), width=30, color_system=None, record=True)
    long_id = "docs/runbooks/" + "x" * 40 + ".md#steps"
    print_fitted(console, "T", [Col("ID", "id"), Col("Evidence", "id"), Col("Text", "text")],
                 [[long_id, "docs/runbooks/a.md:5-16", "words " * 20]])
    lines = console.export_text().splitlines()
    assert lines[1] == long_id and lines[2] == "docs/runbooks/a.md:5-16"
    assert all(len(line.rstrip()) <= 30 for line in lines[3:]) and lines[3].startswith("    Text: words")


def test_a_path_in_text_wraps_whole_and_an_empty_column_leaves():
    """Helm's `Run ./scripts/release-notes.sh from CI` was cut as `release-notes.s` / `h` at 80 columns."""
    from io import StringIO

    from rich.console import Console

    from orchestrator_kit.fit import print_fitted

    console = Console(file=StringIO(), width=80, color_system=None, record=True)
    columns = [Col("ID", "id"), Col("Task", "text"), Col("Person h/yr"), Col("CI h/yr"), Col("Priority", drop=1)]
    task = "Run `./scripts/release-notes.sh` from CI ★ quick win"
    print_fitted(console, "T", columns, [["opp-d6c392f555", task, "9.41 (3.87–22.15)", "", "high"]] * 2)
    text = console.export_text()
    assert "`./scripts/release-notes.sh`" in text
    assert "CI h/yr" not in text  # no row has CI hours
    assert text.splitlines()[1].split() == ["ID", "Task", "Person", "h/yr", "Priority"]
    # a word longer than any room left is still folded rather than the table stacked
    console = Console(file=StringIO(), width=40, color_system=None, record=True)
    print_fitted(console, "T", [Col("ID", "id"), Col("Task", "text")], [["opp-1", "x" * 60]])
    assert all(len(line.rstrip()) <= 40 for line in console.export_text().splitlines())


def test_a_long_trigger_filter_shows_its_first_values_and_how_many_more():
    """gitlab-runner's merge_request_event came from the rules of 60+ jobs: 60 lines of one table cell."""
    from orchestrator_kit.models import Evidence, Pipeline, Trigger
    from orchestrator_kit.report.table import trigger_text

    jobs = [f"rules of job 'job {n}'" for n in range(64)]
    where = Evidence(path=".gitlab-ci.yml", line_start=1, line_end=1)
    pipeline = Pipeline(id="p", system="gitlab-ci", name="p", path=".gitlab-ci.yml", evidence=where,
                        triggers=[Trigger(kind="pull_request", event="merge_request_event", filters={"from": jobs},
                                          evidence=where),
                                  Trigger(kind="push", event="push", filters={"tags": ["v*"]}, evidence=where)])
    assert trigger_text(pipeline) == ("merge_request_event (from: rules of job 'job 0', rules of job 'job 1', "
                                      "rules of job 'job 2', +61 more), push (tags: v*)")
