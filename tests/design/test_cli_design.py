"""`orchestrator-kit design ...`: exit codes (0 ok, 1 findings gate, 2 input), outputs and bad input.

The exit-code contract runs as a user runs it (a real process); the other cases run the same Typer app in-process
(typer's CliRunner), which keeps this file fast; both check that no traceback ever escapes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from orchestrator_kit.cli import app

from .helpers import EXAMPLES, base

ORDER = str(EXAMPLES / "order-fulfilment.yaml")
BROKEN = str(EXAMPLES / "order-fulfilment.broken.yaml")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def process(*args: str, stdin: str | None = None) -> Run:
    proc = subprocess.run([sys.executable, "-m", "orchestrator_kit", "design", *args], capture_output=True, text=True,
                          input=stdin, timeout=120)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def cli(*args: str, stdin: str | None = None) -> Run:
    result = CliRunner().invoke(app, ["design", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return Run(result.exit_code, result.stdout, result.stderr)


def no_traceback(proc: Run) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "code", "text"),
    [
        (["validate", ORDER], None, 0, "order-fulfilment: valid (0 errors, 0 warnings, 0 infos"),
        (["validate", BROKEN], None, 1, "order-fulfilment-broken: not valid (10 errors"),
        (["simulate", BROKEN, "--step", "charge_payment"], None, 1, "inconsistent"),
        (["validate", "-"], "name: [unclosed\n", 2, "Error: <stdin>: invalid YAML"),
    ],
)
def test_exit_codes_of_the_real_command(args, stdin, code, text):
    proc = process(*args, stdin=stdin)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert text in proc.stdout + proc.stderr
    no_traceback(proc)


def test_validate_gate_exits_1_with_json_findings():
    proc = cli("validate", BROKEN, "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["valid"] is False and report["errors"] == 10
    typo = next(f for f in report["findings"] if f["rule"] == "target-exists")
    assert typo["location"] == "/states/3/catch/0/target" and typo["line"] == 66


def test_min_severity_filters_the_listing_not_the_gate():
    proc = cli("validate", str(EXAMPLES / "document-approval.broken.yaml"), "-f", "json", "--min-severity", "warning")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["warnings"] == 3
    assert {f["severity"] for f in report["findings"]} == {"error", "warning"}


def test_validate_reads_stdin():
    proc = cli("validate", "-", "-f", "json", stdin=json.dumps(base()))
    assert proc.returncode == 0 and json.loads(proc.stdout)["design"] == "mini"


def test_simulate_exits_1_when_a_scenario_is_inconsistent():
    ok = cli("simulate", ORDER, "--fault", "timeout", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["summary"]["scenarios"] == 5
    bad = cli("simulate", BROKEN, "--only-inconsistent")
    assert bad.returncode == 1 and "NO" in bad.stdout and "formula:" in bad.stdout


def test_simulate_step_and_decision_options():
    proc = cli("simulate", str(EXAMPLES / "deployment-pipeline.yaml"), "--step", "promote", "--fault", "permanent",
               "--decide", "approval=deploy_canary", "-f", "json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert [(s["step"], s["fault"]) for s in report["scenarios"] if s["then"] is None] == [("promote", "permanent")]
    assert report["scenarios"][0]["compensations"] == ["rollback_release", "rollback_canary"]
    assert report["summary"]["second_faults"] == 0  # --step promote: recovery steps are not failed unless named


def test_render_and_export(tmp_path):
    proc = cli("render", ORDER, "--kind", "saga", "--format", "markdown")
    assert proc.returncode == 0 and proc.stdout.startswith("```mermaid\nsequenceDiagram\n")
    out = tmp_path / "machine.asl.json"
    proc = cli("export", ORDER, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["StartAt"] == "validate_order"
    assert "note: sagas have no ASL field" in proc.stderr
    xstate = cli("export", ORDER, "--target", "xstate")
    assert xstate.returncode == 0 and json.loads(xstate.stdout)["initial"] == "validate_order"


def test_export_gate_exits_1_on_statelint_problems():
    proc = cli("export", BROKEN)
    assert proc.returncode == 1
    assert 'statelint: No state found named "manual_fulfillment"' in proc.stderr
    json.loads(proc.stdout)  # the definition is still written


def test_schema_rules_and_examples():
    schema = json.loads(cli("schema").stdout)
    assert schema["title"] == "WorkflowDesign" and "states" in schema["properties"]
    rules = json.loads(cli("rules", "-f", "json").stdout)
    assert {"id": "compensation-order", "severity": "error",
            "summary": "On every failure path, compensations run in reverse order of the commits they undo (across "
                       "parallel scopes)."} in rules
    listing = cli("examples").stdout
    assert "order-fulfilment.broken" in listing and "broken" in listing
    assert cli("examples", "order-fulfilment").stdout == (EXAMPLES / "order-fulfilment.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["validate", "/definitely/not/here.yaml"], None, "Error: Path '/definitely/not/here.yaml' does not exist."),
        (["validate", "-"], "states: [unclosed\n", "invalid YAML"),
        (["validate", "-"], "name: x\nstart_at: !!int first\n", "invalid YAML: a value tagged !!int is not an integer (line 2)"),
        (["validate", "-"], "name: x\nstates: !!seq x\n", "invalid YAML: a value tagged !!seq is not a sequence (line 2)"),
        (["simulate", "-"], "name: x\ntimeout_seconds: !!int ''\n", "invalid YAML: a value tagged !!int is not an integer (line 2)"),
        (["validate", "-"], '{"name": "x",\n "start_at": ' + "9" * 5000 + "}",
         "invalid JSON: Integer of more than 4300 digits: line 2 column 14"),
        (["validate", "-"], '{"name": 1, "start_at": "a", "colour": "x"}',
         "/colour: unknown field"),
        (["validate", "-"], "- just\n- a list\n", "a design is a mapping"),
        (["simulate", ORDER, "--step", "ghost"], None, "no state named 'ghost'"),
        (["simulate", ORDER, "--decide", "nonsense"], None, "--decide takes STATE=TARGET"),
        (["simulate", ORDER, "--fault", "meteor"], None, "Invalid value for '--fault'"),
        (["render", ORDER, "--kind", "gantt"], None, "Invalid value for '--kind'"),
        (["examples", "nope"], None, "no example design named 'nope'"),
        (["validate"], None, "Missing argument 'FILE'"),
    ],
)
def test_bad_input_exits_2_without_traceback(args, stdin, message):
    proc = cli(*args, stdin=stdin)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    no_traceback(proc)


def test_a_directory_and_binary_data(tmp_path):
    proc = cli("validate", str(tmp_path))
    assert proc.returncode == 2 and "is not a regular file" in proc.stderr
    blob = tmp_path / "blob.yaml"
    blob.write_bytes(b"\xff\xfe\x00\x01" * 100)
    proc = cli("validate", str(blob))
    assert proc.returncode == 2 and "not UTF-8 text" in proc.stderr
    no_traceback(proc)


def test_a_huge_file_is_refused(tmp_path):
    huge = tmp_path / "huge.yaml"
    huge.write_text("name: x\n" + "# padding\n" * 120_000, encoding="utf-8")
    proc = cli("validate", str(huge))
    assert proc.returncode == 2 and "is larger than the limit of 1048576 bytes" in proc.stderr


def test_location_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "design.yaml"
    path.write_text("name: x\nstart_at: a\nstates:\n  - name: a\n    type: task\n    action: [1]\n", encoding="utf-8")
    proc = cli("validate", str(path))
    assert proc.returncode == 2
    assert f"Error: {path}: 1 problem with the design's fields" in proc.stderr
    assert "/states/0/action: Input should be a valid string (line 6)" in proc.stderr


def test_unwritable_output(tmp_path):
    proc = cli("render", ORDER, "-o", str(tmp_path / "missing" / "x.mmd"))
    assert proc.returncode == 2 and proc.stderr.startswith("Error: cannot write")


def test_design_commands_stay_light():
    """`design --help` imports none of the heavy optional parts."""
    code = (
        "import sys\n"
        "from orchestrator_kit.cli import app\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(app, ['design', '--help'])\n"
        "print([m for m in ('mcp', 'anthropic', 'tiktoken', 'statelint', 'orchestrator_kit.design') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "[]", proc.stderr


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("error", 0), ("warning", 1), ("info", 1), ("never", 0)],
)
def test_fail_on_gates_warnings_too(tmp_path, fail_on, code):
    # The clean base design with a workflow timeout shorter than charge's worst retry: one warning (retry-budget).
    design = base()
    design["timeout_seconds"] = 60
    path = tmp_path / "d.json"
    path.write_text(json.dumps(design))
    proc = cli("validate", str(path), "--fail-on", fail_on, "--format", "json")
    report = json.loads(proc.stdout)
    assert report["errors"] == 0 and report["warnings"] >= 1 and report["fail_on"] == fail_on
    assert proc.returncode == code and report["passed"] is (code == 0)


def test_fail_on_never_still_exits_0_on_errors():
    assert cli("validate", BROKEN, "--fail-on", "never").returncode == 0
    assert cli("validate", BROKEN, "--fail-on", "bogus").returncode == 2


def test_import_asl_writes_a_design_and_notes(tmp_path):
    asl = tmp_path / "machine.asl.json"
    asl.write_text(json.dumps({"Comment": "tiny", "StartAt": "go", "States": {
        "go": {"Type": "Pass", "Next": "done"}, "done": {"Type": "Succeed"}}}))
    proc = process("import", "asl", str(asl), "-o", str(tmp_path / "d.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert "note: pass 'go' imported as a choice with only a default" in proc.stderr
    assert cli("validate", str(tmp_path / "d.yaml"), "--format", "json").returncode == 0
    bad = process("import", "asl", "-", stdin="{not json")
    assert bad.returncode == 2 and bad.stderr.startswith("Error: ") and "not JSON" in bad.stderr
    assert process("import", "yaml", str(asl)).returncode == 2
