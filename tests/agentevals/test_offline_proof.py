"""THE OFFLINE PROOF: `orchestrator-kit eval agents --model scripted` plays every case's good transcript and one bad
transcript per failure mode through the real pipeline (inspect-ai's eval with the mockllm model, our runner over the
bridge, our MCP server on a built sample, the graders on the outcome). Every good one passes every grader; every bad
one fails the grader of its failure mode and no other. One eval run for the whole module (about 45 runs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator_kit.cli import app
from orchestrator_kit.evals.agents.cases import CATCHES, load_cases
from orchestrator_kit.evals.agents.readme import current_block, proof_block
from orchestrator_kit.evals.agents.results import AgentEvalResults, proof

ROOT = Path(__file__).parents[2]
CASES = ROOT / "evals" / "cases" / "agents"

pytest.importorskip("inspect_ai")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("agent-evals")
    saved = os.environ.get("INSPECT_DISABLE_MODEL_API")
    os.environ["INSPECT_DISABLE_MODEL_API"] = "1"  # no real model API may be reached
    try:
        result = CliRunner().invoke(app, ["eval", "agents", "--model", "scripted", "--cases-dir", str(CASES),
                                          "--output-dir", str(out)])
    finally:
        if saved is None:
            os.environ.pop("INSPECT_DISABLE_MODEL_API", None)
        else:
            os.environ["INSPECT_DISABLE_MODEL_API"] = saved
    return result, out


def test_every_grader_separates_good_from_bad_on_every_case(scripted):
    result, out = scripted
    assert result.exit_code == 0, result.output
    results = AgentEvalResults.model_validate_json((out / "results.json").read_bytes())
    rows = proof(results)
    assert all(row.ok for row in rows), [r for r in rows if not r.ok]
    played = {(r.case, r.variant) for r in rows}
    for case in load_cases(CASES):
        assert (case.id, "good") in played
        assert {(case.id, mode) for mode in case.failure_modes} <= played
    # Every failure mode of the issue is played at least once, and caught by its grader.
    assert {r.variant for r in rows} - {"good"} == set(CATCHES)
    for row in rows:
        if row.variant != "good":
            assert row.failed == [CATCHES[row.variant]], row
    good = [c for c in results.cases if c.variant == "good"]
    assert all(c.passed == 1 and c.pass_at_k == 1 and c.pass_hat_k == 1 for c in good)
    assert all(c.input_tokens > 0 and c.cost_usd == 0 for c in results.cases)  # scripted usage, no price for mockllm
    assert "## Offline proof" in (out / "results.md").read_text()


def test_the_logs_are_inspect_logs_with_the_scripted_usage(scripted):
    from inspect_ai.log import list_eval_logs, read_eval_log

    _result, out = scripted
    logs = list_eval_logs(str(out / "logs"))
    assert len(logs) == 2  # the process task and the workflow task: `inspect view --log-dir` lists both
    for info in logs:
        log = read_eval_log(info)
        assert log.status == "success" and log.eval.model == "mockllm/model"
        reducers = {s.reducer for s in log.results.scores} if log.results else set()
        assert {"mean", "pass_at_1", "pass_k_1"} <= reducers
        sample = log.samples[0]
        models = [e for e in sample.events if e.event == "model"]
        assert models and all(e.output.usage and e.output.usage.input_tokens == 1500 for e in models)
        assert sample.metadata["run"]["status"] == "done"


def test_the_readme_shows_the_current_proof(scripted):
    _result, out = scripted
    results = AgentEvalResults.model_validate_json((out / "results.json").read_bytes())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert current_block(readme) == proof_block(results), "run: python -m orchestrator_kit.evals.agents.readme README.md"


def test_a_write_case_writes_its_script_and_nothing_else(scripted):
    _result, out = scripted
    data = json.loads((out / "results.json").read_text())
    writes = next(c for c in data["cases"] if c["case"] == "acme-shop-release-script" and c["variant"] == "good")
    assert writes["graders"]["writes"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "51"], "--epochs"),
    (["--max-samples", "0"], "--max-samples"),
    (["--cases", "no-such-case", "--model", "scripted"], "Unknown case"),
    (["--cases-dir", "/nonexistent", "--model", "scripted"], "No agent cases"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, args, message):
    result = CliRunner().invoke(app, ["eval", "agents", "--output-dir", str(tmp_path), "--cases-dir", str(CASES),
                                      *args])
    assert result.exit_code == 2, result.output
    assert "Error:" in result.output and message in result.output and "Traceback" not in result.output


def test_no_key_is_an_error_before_anything_starts(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["eval", "agents", "--output-dir", str(tmp_path), "--cases-dir", str(CASES)])
    assert result.exit_code == 2 and "ANTHROPIC_API_KEY is not set" in result.output
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"model": 1}', b"\xff\xfe" * 1000])
def test_compare_with_a_bad_previous_file(tmp_path, content):
    previous = tmp_path / "previous.json"
    previous.write_bytes(content)
    result = CliRunner().invoke(app, ["eval", "agents", "--model", "scripted", "--compare", str(previous),
                                      "--output-dir", str(tmp_path)])
    assert result.exit_code == 2 and "is not a results.json" in result.output
