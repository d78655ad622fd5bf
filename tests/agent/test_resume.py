"""Killed and interrupted runs: SIGKILL after an applied write, then --resume; Ctrl-C; the apply guard itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from orchestrator_kit.agent.runner import already_applied
from orchestrator_kit.automation import apply_automation, generate_automation, undo_automation
from orchestrator_kit.testing.fake_messages_api import Step, reply, tool_result_text, tool_use

from .scripted import SPEC, calls, ok_requests, result, say, tool_results_of

WAIT = 180  # seconds: a loaded CI machine starts the runner, the MCP server and the validators slowly


# The runner as a person starts it at a terminal: SIGINT handled (Python's default). A process started in the
# background by a non-interactive shell (`cmd &`, as a CI job may run the whole suite) inherits SIGINT ignored, and
# Python keeps it ignored: the Ctrl-C tests then waited the full WAIT for a signal nobody would act on. Its threads'
# stacks are printed on SIGUSR1 (faulthandler), so a run that does not end in time says where it waits (`ended`).
RUNNER = ("import faulthandler, runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "faulthandler.register(signal.SIGUSR1, all_threads=True); "
          "sys.argv[0] = 'orchestrator-kit'; runpy.run_module('orchestrator_kit', run_name='__main__')")


def cli(shop: Path, cwd: Path, api_url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ANTHROPIC_BASE_URL": api_url, "ANTHROPIC_API_KEY": "test-key"}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, "run", "process-orchestrator", str(shop), "--quiet", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def ended(process: subprocess.Popen[str]) -> str:
    """The runner's stderr once it exits; if it has not within WAIT, its threads' stacks in the failure."""
    try:
        return process.communicate(timeout=WAIT)[1]
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(2)
        process.kill()
        _out, err = process.communicate()
        raise AssertionError(f"the runner did not end within {WAIT} s; its stderr and stacks:\n{err[-12000:]}") from None


def recorded(api, step: str):
    """The request a step answered (the fake records it once the answer is sent, after the held step lets go)."""
    for _ in range(WAIT * 10):
        found = api.messages_requests(answered_by=step)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no request answered by {step}")


def apply_again(body) -> object:
    return reply(tool_use("apply_automation", result(body, "generate_automation")["apply_with"]))


def audit(shop: Path) -> list[dict]:
    return [json.loads(line) for line in (shop / ".orchestrator-kit" / "audit.jsonl").read_text().splitlines()]


def test_sigkill_after_an_applied_write_then_resume_never_writes_twice(shop, tmp_path, fake_api) -> None:
    reached, release = threading.Event(), threading.Event()

    def hold(body) -> object:  # the request that carries the apply's result: the runner is killed while it waits
        reached.set()
        release.wait(WAIT)
        return reply("never read")

    api = fake_api([
        calls(("list_roots", {})), say("Discovery done."), say("Assessment done."), say("Design done."),
        calls(("generate_automation", {"kind": "shell-script", "spec": SPEC})),
        Step(respond=apply_again),
        Step(respond=hold, name="held"),
        # after --resume: the model asks to apply the same plan again, then finishes
        Step(respond=apply_again, name="again"),
        say("Implementation: scripts/release.sh is written (apply_automation)."),
        say("## Executive Summary\nProposed State: scripts/release.sh, written by apply_automation.\n"),
    ])
    first = cli(shop, tmp_path, api.base_url, "--allow-writes")
    try:
        assert reached.wait(WAIT), first.stderr.read() if first.poll() is not None else "the runner never applied"
        script = shop / "scripts" / "release.sh"
        written = script.read_bytes()
        assert [e["op"] for e in audit(shop)] == ["apply"]
        first.send_signal(signal.SIGKILL)
        assert first.wait(WAIT) == -signal.SIGKILL
    finally:
        release.set()
        if first.poll() is None:
            first.kill()
        first.communicate()
    [run_dir] = (tmp_path / ".orchestrator-kit" / "runs").iterdir()
    held = recorded(api, "held").body["messages"]

    second = cli(shop, tmp_path, api.base_url, "--allow-writes", "--resume", run_dir.name, "--format", "json")
    out, err = second.communicate(timeout=WAIT)
    assert second.returncode == 0, err
    outcome = json.loads(out)
    assert (outcome["status"], outcome["run_id"], outcome["grounded"], outcome["exit_code"]) == (
        "done", run_dir.name, True, 0)
    assert api.unused_steps() == []
    # the conversation went on from the checkpoint: the first request after the kill is the held one, again
    resumed = api.messages_requests(answered_by="again")[0].body["messages"]
    assert resumed == held
    assert tool_results_of(recorded(api, "held"))[0].get("is_error") is None
    # the second apply was answered from the audit log: one apply, the file as the first apply wrote it
    answered = json.loads(tool_result_text(tool_results_of(ok_requests(api)[-2])[0]))
    assert answered["already_applied"] is True and answered["applied"][0]["path"] == "scripts/release.sh"
    assert [e["op"] for e in audit(shop)] == ["apply"]
    assert script.read_bytes() == written
    events = [json.loads(line) for line in (run_dir / "transcript.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events].count("resumed") == 1


def interrupted(shop: Path, tmp_path: Path, fake_api, interrupt) -> tuple[subprocess.Popen[str], str, object]:
    """Start a run, hold its second model request, call `interrupt(process)` while it waits, and return the runner
    once it ended, its stderr and the fake API."""
    reached, release = threading.Event(), threading.Event()

    def hold(body) -> object:
        reached.set()
        release.wait(WAIT)
        return reply("late")

    api = fake_api([calls(("list_roots", {})), Step(respond=hold, name="held")])
    process = cli(shop, tmp_path, api.base_url)
    try:
        assert reached.wait(WAIT)
        interrupt(process)
        err = ended(process)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    return process, err, api


def test_ctrl_c_saves_the_checkpoint_and_prints_the_resume_command(shop, tmp_path, fake_api) -> None:
    process, err, api = interrupted(shop, tmp_path, fake_api, lambda process: process.send_signal(signal.SIGINT))
    assert process.returncode == 130, err
    [run_dir] = (tmp_path / ".orchestrator-kit" / "runs").iterdir()
    assert f"--resume {run_dir.name}" in err and "Traceback" not in err
    state = json.loads((run_dir / "state.json").read_text())
    assert (state["status"], state["turn"], state["stage"]) == ("interrupted", 1, "discovery")
    assert tool_results_of(recorded(api, "held"))  # interrupted while the second request was waiting


def _signal_thread(pid: int, tid: int, signum: int) -> None:
    """tgkill: a signal to one thread of another process (what the kernel may pick for a process-wide Ctrl-C)."""
    import ctypes
    import platform

    libc = ctypes.CDLL(None, use_errno=True)
    tgkill = getattr(libc, "tgkill", None)  # glibc >= 2.30; else the raw system call
    if tgkill is not None:
        status = tgkill(pid, tid, signum)
    else:
        status = libc.syscall({"x86_64": 234, "aarch64": 131}[platform.machine()], pid, tid, signum)
    assert status == 0, os.strerror(ctypes.get_errno())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tgkill and /proc/PID/task are Linux's")
def test_ctrl_c_delivered_to_another_thread_than_the_main_one_still_interrupts(shop, tmp_path, fake_api) -> None:
    """The kernel hands a process-wide SIGINT to any thread that takes it; asyncio's child watcher is one. Sent
    to that thread only, it must still wake the event loop (before the fix the run slept until the SDK's read
    timeout: a CI run hung 180 s)."""
    def to_another_thread(process: subprocess.Popen[str]) -> None:
        others = sorted(int(t) for t in os.listdir(f"/proc/{process.pid}/task") if int(t) != process.pid)
        assert others, "the runner has threads besides the main one (asyncio's child watcher, the SDK's)"
        _signal_thread(process.pid, others[-1], signal.SIGINT)

    process, err, _api = interrupted(shop, tmp_path, fake_api, to_another_thread)
    assert process.returncode == 130, err
    [run_dir] = (tmp_path / ".orchestrator-kit" / "runs").iterdir()
    assert f"--resume {run_dir.name}" in err and "Traceback" not in err
    assert json.loads((run_dir / "state.json").read_text())["status"] == "interrupted"


def test_the_apply_guard_reads_the_audit_log_by_plan_hash(shop) -> None:
    plan = generate_automation(shop, "shell-script", SPEC)
    arguments = {"repository": ".", "kind": "shell-script", "spec": SPEC, "plan_hash": plan.plan.plan_hash}
    assert already_applied(shop, arguments) is None  # nothing applied yet: the server decides
    apply_automation(shop, "shell-script", SPEC, plan.plan.plan_hash)
    answer = json.loads(already_applied(shop, arguments) or "{}")
    assert answer["already_applied"] and [a["path"] for a in answer["applied"]] == ["scripts/release.sh"]
    assert already_applied(shop, {**arguments, "plan_hash": "0" * 64}) is None
    assert already_applied(shop, {**arguments, "repository": "/"}) is None  # outside the repository: not ours
    assert already_applied(shop, {**arguments, "plan_hash": None}) is None
    undo_automation(shop)
    assert already_applied(shop, arguments) is None  # undone: applying it again is a new write


@pytest.mark.parametrize("line", ["{not json\n", "[1, 2]\n"])
def test_a_broken_audit_log_leaves_the_decision_to_the_server(shop, line) -> None:
    (shop / ".orchestrator-kit").mkdir()
    (shop / ".orchestrator-kit" / "audit.jsonl").write_text(line)
    assert already_applied(shop, {"plan_hash": "abc"}) is None


KILL_BETWEEN_WRITE_AND_CHECKPOINT = """
import os, signal, sys
from pathlib import Path
from orchestrator_kit.agent import Observer, RunOptions, run_agent

class KillAfterApply(Observer):
    applied = False

    def tool(self, name):  # told before each tool runs; the turn is checkpointed after all of them
        if name == "apply_automation":
            self.applied = True
        elif self.applied:
            os.kill(os.getpid(), signal.SIGKILL)

run_agent(RunOptions(agent="process-orchestrator", repository=Path(sys.argv[1]), base_dir=Path(sys.argv[2]),
                     allow_writes=True, observer=KillAfterApply()))
"""


def test_a_kill_between_the_write_and_the_checkpoint_is_resumed_without_a_second_write(shop, tmp_path,
                                                                                      fake_api) -> None:
    from orchestrator_kit.agent import RunOptions, run_agent

    def apply_and_look(body) -> object:  # the apply, then a second call: the kill lands between the two
        arguments = result(body, "generate_automation")["apply_with"]
        return reply(tool_use("apply_automation", arguments), tool_use("list_roots", {}))

    api = fake_api([
        calls(("list_roots", {})), say("Discovery done."), say("Assessment done."), say("Design done."),
        calls(("generate_automation", {"kind": "shell-script", "spec": SPEC})),
        Step(respond=apply_and_look, name="apply", times=2),
        say("Implementation: scripts/release.sh is written."),
        say("## Executive Summary\nProposed State: scripts/release.sh, written by apply_automation.\n"),
    ])
    env = {**os.environ, "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "test-key"}
    killed = subprocess.run([sys.executable, "-c", KILL_BETWEEN_WRITE_AND_CHECKPOINT, str(shop), str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=WAIT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [run_dir] = (tmp_path / ".orchestrator-kit" / "runs").iterdir()
    state = json.loads((run_dir / "state.json").read_text())
    assert state["turn"] == 5 and state["stage"] == "implementation"  # the apply's turn was never checkpointed
    script = shop / "scripts" / "release.sh"
    written = script.read_bytes()
    assert [e["op"] for e in audit(shop)] == ["apply"]

    resumed = run_agent(RunOptions(agent="process-orchestrator", repository=shop, base_dir=tmp_path,
                                   allow_writes=True, resume=run_dir.name))
    assert (resumed.status, resumed.turns) == ("done", 8)
    assert api.unused_steps() == []
    first, again = api.messages_requests(answered_by="apply")
    assert again.body["messages"] == first.body["messages"]  # the same turn, asked again from the checkpoint
    answered = json.loads(tool_result_text(tool_results_of(ok_requests(api)[-2])[0]))
    assert answered["already_applied"] is True
    assert [e["op"] for e in audit(shop)] == ["apply"] and script.read_bytes() == written
