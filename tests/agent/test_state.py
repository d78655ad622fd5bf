"""The run's state machine, checkpoints, budgets, prices and the model setting (no network, no model)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

from orchestrator_kit.agent.budget import Limits, exceeded
from orchestrator_kit.agent.phases import DONE, REPORT, REVISION, kickoff, next_stage, stages
from orchestrator_kit.agent.settings import DEFAULT_MODEL, MODEL_ENV, Usage, price_table, resolve_model, usage_of
from orchestrator_kit.agent.store import RunState, RunStore, check_run_id, new_run_id, tool_result_texts
from orchestrator_kit.errors import InputError


def test_phases_of_each_agent_in_order() -> None:
    assert stages("process-orchestrator") == ["discovery", "assessment", "design", "implementation", REPORT, REVISION]
    assert stages("workflow-orchestrator")[:5] == ["context", "analysis", "design", "reliability", "documentation"]
    assert next_stage("process-orchestrator", "discovery") == "assessment"
    assert next_stage("process-orchestrator", "implementation") == REPORT
    assert next_stage("process-orchestrator", REPORT, grounded=True) == DONE
    assert next_stage("process-orchestrator", REPORT, grounded=False) == REVISION
    assert next_stage("process-orchestrator", REPORT, grounded=False, revised=True) == DONE
    assert next_stage("process-orchestrator", REVISION) == DONE
    with pytest.raises(InputError, match="not a stage"):
        next_stage("process-orchestrator", "reliability")


def test_kickoff_names_the_repository_task_and_write_mode() -> None:
    first = kickoff("process-orchestrator", "discovery", repository="/r", task="Automate releases", allow_writes=False)
    assert "Repository: /r" in first and "Automate releases" in first and "read-only" in first
    assert "opportunity_matrix" in kickoff("process-orchestrator", "assessment", repository="/r", task=None,
                                          allow_writes=True)
    assert "templates" in kickoff("workflow-orchestrator", REPORT, repository="/r", task=None, allow_writes=False)
    with pytest.raises(InputError):
        kickoff("workflow-orchestrator", REVISION, repository="/r", task=None, allow_writes=False)


def _state(run_id: str) -> RunState:
    return RunState(run_id=run_id, agent="process-orchestrator", repository="/r", model="m", stage="discovery",
                    started_at="t", updated_at="t")


def test_checkpoint_and_resume_rebuild_the_conversation_and_drop_the_uncommitted_tail(tmp_path: Path) -> None:
    run_id = new_run_id()
    store = RunStore.create(tmp_path, _state(run_id))
    state = _state(run_id)
    store.append("user", message={"role": "user", "content": "go"})
    store.append("turn", turn=1, response_message={"role": "assistant", "content": [{"type": "text", "text": "a"}]},
                 tool_results={"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]},
                 tool_calls=[{"id": "t", "name": "scan_repository", "result": "{\"pipelines\": 3}"}])
    state.turn = 1
    store.checkpoint(state)
    # a turn appended but never checkpointed (killed), then a torn line
    store.append("turn", turn=2, response_message={"role": "assistant", "content": []}, tool_calls=[])
    with store.transcript.open("a") as fh:
        fh.write('{"seq": 4, "type": "tu')
    store.unlock()
    reopened, loaded = RunStore.open(tmp_path, run_id)
    assert loaded.turn == 1 and loaded.seq == 2
    assert [m["role"] for m in reopened.messages()] == ["user", "assistant", "user"]
    assert len(store.transcript.read_text().splitlines()) == 2
    assert len((store.dir / "transcript.discarded.jsonl").read_text().splitlines()) == 2
    assert tool_result_texts(store.transcript) == ['{"pipelines": 3}']
    assert reopened.append("resumed") == 3  # numbering goes on from the checkpoint
    assert not list(store.dir.glob(".state-*"))  # no temporary file left behind
    assert (tmp_path / ".orchestrator-kit" / ".gitignore").read_text() == "*\n"  # transcripts stay out of commits


def test_a_transcript_line_nested_past_the_recursion_limit_ends_the_reading(tmp_path: Path) -> None:
    # json.loads raised RecursionError, which only ValueError was caught for: check-report said "Internal error"
    transcript = tmp_path / "transcript.jsonl"
    good = {"type": "turn", "tool_calls": [{"id": "t", "name": "scan_repository", "result": "3 pipelines"}]}
    transcript.write_text(json.dumps(good) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n" + json.dumps(good) + "\n")
    assert tool_result_texts(transcript) == ["3 pipelines"]  # nothing after a line that is not an event is trusted


@pytest.mark.parametrize("bad", ["../../etc", "", "x" * 500, "20261206T051700-A1B2C3", "20261206T051700-a1b2c3/.."])
def test_run_ids_are_checked(bad: str) -> None:
    with pytest.raises(InputError, match="not a run id"):
        check_run_id(bad)


def test_a_run_folder_that_cannot_be_made_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / ".orchestrator-kit").write_text("a file where the folder should be")
    with pytest.raises(InputError, match="Cannot create the run folder"):
        RunStore.create(tmp_path, _state("20261206T051700-a1b2c3"))
    (tmp_path / ".orchestrator-kit").unlink()
    (tmp_path / ".orchestrator-kit").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(InputError, match="symbolic link"):
        RunStore.create(tmp_path, _state("20261206T051700-a1b2c3"))
    assert list((tmp_path / "elsewhere").iterdir()) == []  # nothing was created through the link


def test_one_process_drives_a_run_at_a_time(tmp_path: Path) -> None:
    store = RunStore.create(tmp_path, _state("20261206T051700-a1b2c3"))
    store.checkpoint(_state("20261206T051700-a1b2c3"))
    with pytest.raises(InputError, match="another process"):
        RunStore.open(tmp_path, "20261206T051700-a1b2c3")
    store.unlock()
    again, loaded = RunStore.open(tmp_path, "20261206T051700-a1b2c3")
    assert loaded.run_id == again.run_id
    again.unlock()


def test_resume_of_a_missing_or_corrupt_run(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No run"):
        RunStore.open(tmp_path, "20261206T051700-a1b2c3")
    store = RunStore.create(tmp_path, _state("20261206T051700-a1b2c3"))
    store.unlock()
    store.state_file.write_text("{not json")
    with pytest.raises(InputError, match="not a valid run state"):
        RunStore.open(tmp_path, "20261206T051700-a1b2c3")
    store.state_file.write_text(json.dumps(_state("20261206T051700-ffffff").model_dump()))
    with pytest.raises(InputError, match="belongs to run"):
        RunStore.open(tmp_path, "20261206T051700-a1b2c3")


def test_budgets_name_the_first_limit_reached() -> None:
    usage = Usage(input_tokens=900, output_tokens=200, cost_usd=0.02)
    assert exceeded(Limits(), 100, usage) is None
    assert exceeded(Limits(max_turns=3), 2, usage) is None
    stop = exceeded(Limits(max_turns=3), 3, usage)
    assert stop is not None and stop.budget == "max-turns" and "3 of 3 turns" in stop.describe()
    stop = exceeded(Limits(max_tokens_total=1000), 1, usage)
    assert stop is not None and stop.budget == "max-tokens-total" and stop.used == 1100
    stop = exceeded(Limits(max_cost_usd=0.01), 1, usage)
    assert stop is not None and stop.budget == "max-cost-usd" and "estimate" in stop.describe()


def test_cost_from_the_dated_price_table() -> None:
    table = price_table()
    assert table.as_of and "estimate" in table.note.lower()
    price = table.price(DEFAULT_MODEL)
    assert price is not None
    usage = usage_of(type("U", (), {"input_tokens": 1_000_000, "output_tokens": 1_000_000,
                                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1_000_000})(),
                     DEFAULT_MODEL)
    assert usage.cost_usd == pytest.approx(price.input + price.output + price.cache_read)
    assert table.price("claude-haiku-4-5-20251001") == table.price("claude-haiku-4-5")
    assert table.price("some-other-model") is None
    assert usage_of(object(), "some-other-model").cost_usd == 0


def test_model_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert resolve_model() == DEFAULT_MODEL
    monkeypatch.setenv(MODEL_ENV, "claude-opus-5-5")
    assert resolve_model() == "claude-opus-5-5"
    assert resolve_model("claude-haiku-5-5") == "claude-haiku-5-5"


def test_default_model_is_priced_and_not_deprecated_in_the_installed_sdk() -> None:
    from anthropic import AsyncAnthropic

    assert price_table().price(DEFAULT_MODEL) is not None
    client = AsyncAnthropic(api_key="x", base_url="http://127.0.0.1:9")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        client.beta.messages.tool_runner(model=DEFAULT_MODEL, max_tokens=1, messages=[], tools=[], thread=False)


def test_the_live_view_shows_stage_turn_tool_tokens_and_cost() -> None:
    import io

    from rich.console import Console

    from orchestrator_kit.agent.view import LiveView

    def shown(view: LiveView) -> str:
        screen = io.StringIO()
        Console(file=screen, width=200).print(view.live.renderable)
        return screen.getvalue()

    out = io.StringIO()
    state = _state(new_run_id())
    state.usage = Usage(input_tokens=1234, output_tokens=56, cache_read_input_tokens=7890, cost_usd=0.0123)
    with LiveView(Console(file=out, force_terminal=False, width=160)) as view:
        view.stage(state)
        view.tool("scan_repository")
        during = shown(view)
        state.turn = 1
        view.turn(state, "Discovery: 3 pipelines [x].\nmore", ["scan_repository", "list_tasks"])
        after = shown(view)
    text = out.getvalue()
    assert "stage discovery (turn 0)" in text and "turn 1: Discovery: 3 pipelines [x]. -> scan_repository, list_tasks" in text
    assert "more" not in text
    assert "scan_repository" in during and "discovery" in during and "1,234 / 56" in during
    assert "7,890 / 0" in during and "$0.0123 (estimate, prices of" in during
    assert "scan_repository" not in after and re.search(r"turn\s+1\s", after)


def test_the_mcp_server_inherits_our_settings_but_not_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator_kit.agent.runner import server_environment

    monkeypatch.setenv("ORCHESTRATOR_KIT_STATE_DIR", "/state")
    monkeypatch.setenv("XDG_STATE_HOME", "/xdg")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "secret")
    environment = server_environment()
    assert environment["ORCHESTRATOR_KIT_STATE_DIR"] == "/state" and environment["XDG_STATE_HOME"] == "/xdg"
    assert not any(key.startswith("ANTHROPIC") for key in environment)
