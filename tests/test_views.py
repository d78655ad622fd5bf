"""Snapshots of every table view other than the inventory (tests/test_tables.py) at 80, 120 and 200 columns.

The views run on the built sample repositories (`build-sample`: files plus a scripted history, so every number is
the same on every machine) and on the shipped example designs. Each expected file under `snapshots/views/` was
read by hand when written: no line wider than its width (but an id longer than the terminal, alone on its line and
whole), no id or `path:line` broken, no `None`, person hours and CI hours never in one number. Regenerate them with `ORCHESTRATOR_KIT_UPDATE_SNAPSHOTS=1` and read the diff.

A snapshot alone would accept a regenerated bad layout, so `check_properties` asserts those rules on every view at
every width whatever the snapshot says; the ids it checks are found in the same view printed with `--wide` (nothing
wraps there): every word that names a path, a `path:line`, a JSON pointer or an opportunity id must appear whole in
the fitted output too.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from orchestrator_kit.cli import app
from orchestrator_kit.evals.agents.results import AgentEvalResults, render_table
from orchestrator_kit.samples import build_sample_repo

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "views"
WIDTHS = (80, 120, 200)
UPDATE = os.environ.get("ORCHESTRATOR_KIT_UPDATE_SNAPSHOTS") == "1"

# a word that must never be broken: a path (a slash in it), a path:line, an opportunity id
ID_WORD = re.compile(r"^(?:[\w.@#*$-]*/[\w./@#*$-]*(?::\d+(?:-\d+)?)?|[\w.-]+\.\w+:\d+(?:-\d+)?|opp-[0-9a-f]{10})$")
HOURS = re.compile(r"(\w*)\W*h/(?:yr|year)\b", re.IGNORECASE)


@dataclass(frozen=True)
class View:
    """A view: the CLI arguments (placeholders in braces name built samples and files), or a renderer of its own."""

    name: str
    args: tuple[str, ...] = ()
    exit_code: int = 0
    section: str | None = None  # the snapshot keeps the output from this line on (the rest has the tmp path)
    render: Callable[[int, bool], str] | None = field(default=None, compare=False)


def agent_results(width: int, wide: bool) -> str:
    """`eval agents`' table for a hand-written three-epoch result (a real run needs a key or a minute offline)."""
    results = AgentEvalResults.model_validate_json((SNAPSHOTS / "agent-results.json").read_text(encoding="utf-8"))
    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    render_table(results, console, wide=wide)
    return console.export_text()


VIEWS = [
    View("diagnostics", ("scan", "{terraform-by-hand}", "--no-metrics", "--no-opportunities"), section="Diagnostics"),
    View("metrics", ("metrics", "{acme-shop}")),  # DORA, hotspots, bus factor, pipelines, tokens
    View("metrics-coupling", ("metrics", "{gitlab-project}", "--no-tokens")),
    View("tokens", ("tokens", "{acme-shop}", "--no-cache", "--top", "8")),
    View("opportunities", ("opportunities", "{acme-shop}")),
    View("opportunities-gitlab", ("opportunities", "{gitlab-project}")),
    View("design-validate", ("design", "validate", "order-fulfilment.broken.yaml"), exit_code=1),
    View("design-simulate", ("design", "simulate", "order-fulfilment.broken.yaml", "--step", "charge_payment",
                             "--step", "create_shipment"), exit_code=1),
    View("design-rules", ("design", "rules")),
    View("design-examples", ("design", "examples")),
    View("eval-tools", ("eval", "tools", "--cases", str(ROOT / "evals" / "cases" / "acme-shop.yaml"),
                        "--cases", str(ROOT / "evals" / "cases" / "terraform-by-hand.yaml"))),
    View("eval-agents", render=agent_results),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """The built samples the views name, and the broken example design, in one folder (the working directory)."""
    folder = tmp_path_factory.mktemp("views")
    for name in ("acme-shop", "gitlab-project", "terraform-by-hand"):
        build_sample_repo(ROOT / "evals" / "repos" / name, folder / name)
    design = CliRunner().invoke(app, ["design", "examples", "order-fulfilment.broken"])
    assert design.exit_code == 0, design.output
    (folder / "order-fulfilment.broken.yaml").write_text(design.stdout, encoding="utf-8")
    return folder


def show(view: View, width: int, folder: Path, *, wide: bool = False) -> str:
    """The view's standard output at `width` columns, run in `folder` (relative file names stay short and fixed)."""
    if view.render is not None:
        return view.render(width, wide)
    args = [re.sub(r"\{([\w-]+)\}", lambda m: str(folder / m.group(1)), a) for a in view.args]
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner(env={"COLUMNS": str(width)}).invoke(
            app, [*args, *(["--wide"] if wide else [])], prog_name="orchestrator-kit")
    finally:
        os.chdir(cwd)
    assert result.exit_code == view.exit_code, (result.output, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def outputs(workdir):
    """Every view at every width, and with --wide (the ids to look for)."""
    return {(view.name, width): show(view, width, workdir) for view in VIEWS for width in WIDTHS} | {
        (view.name, "wide"): show(view, 80, workdir, wide=True) for view in VIEWS}


def id_words(text: str) -> set[str]:
    words = {w.strip(",;()'\"`") for w in text.split()}
    return {w.rstrip(":.") if w.endswith((":", ".")) and not re.search(r":\d", w) else w for w in words
            if ID_WORD.match(w.rstrip(":.")) and "…" not in w}


def check_properties(text: str, width: int, wide: str) -> None:
    """The rules every fitted view keeps (module docstring)."""
    lines = text.splitlines()
    assert lines, "no output"
    # only an id longer than the terminal passes its edge, alone on its line (the terminal wraps it softly)
    too_wide = [line for line in lines if len(line.rstrip()) > width and not ID_WORD.match(line.strip())]
    assert not too_wide, too_wide
    assert not re.search(r"\bNone\b", text), [line for line in lines if re.search(r"\bNone\b", line)]
    present = {w.strip(",;()'\"`") for w in text.split()}
    present |= {w.rstrip(":.") for w in present}
    broken = sorted(w for w in id_words(wide) if w not in present)
    assert not broken, f"ids broken or cut at {width} columns: {broken}"
    for line in lines:  # hours always say whose: a person's or CI's, never a sum of both
        for qualifier in HOURS.findall(line):
            assert qualifier.lower() in {"person", "ci"}, line


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_view_keeps_the_rules(outputs, view, width):
    check_properties(outputs[view.name, width], width, outputs[view.name, "wide"])


def snapshot_text(view: View, text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    if view.section is not None:
        lines = lines[lines.index(view.section):]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_view_matches_its_snapshot(outputs, view, width):
    expected = SNAPSHOTS / f"{view.name}-{width}.txt"
    actual = snapshot_text(view, outputs[view.name, width])
    if UPDATE:
        expected.write_text(actual, encoding="utf-8")
    assert expected.exists(), f"no snapshot {expected.name}: run with ORCHESTRATOR_KIT_UPDATE_SNAPSHOTS=1, read it"
    assert actual == expected.read_text(encoding="utf-8")


def test_every_snapshot_belongs_to_a_view():
    names = {f"{view.name}-{width}.txt" for view in VIEWS for width in WIDTHS} | {"agent-results.json"}
    assert {p.name for p in SNAPSHOTS.iterdir()} == names


def test_the_cli_in_a_real_process_prints_what_the_runner_does(workdir, outputs):
    """The views above run in-process; a real process at the same COLUMNS prints the same table."""
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", "opportunities", "acme-shop"],
                          capture_output=True, text=True, timeout=120, cwd=workdir,
                          env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == outputs["opportunities", 80]


@pytest.mark.parametrize(("text", "problem"), [
    ("a" * 81, "too_wide"),
    ("Evidence: docs/" + "a" * 80 + ".md", "too_wide"),  # an id past the edge, but not alone on its line
    ("Lead time  None", "None"),
    ("Evidence: .github/workflows/ci.y\nml:39", "broken"),
    ("opp-3ceaf7ec4…  Cache", "broken"),
    ("Total 22.26 h/year", "hours"),
])
def test_the_checks_catch_what_they_are_for(text, problem):
    wide = "Evidence: .github/workflows/ci.yml:39\nopp-3ceaf7ec44  Cache"
    with pytest.raises(AssertionError):
        check_properties(text, 80, wide)
