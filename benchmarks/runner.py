"""Benchmark: the runner's own overhead per turn, against a bare SDK call to the same fake Messages API.

    python benchmarks/runner.py [--turns 40] [--runs 3]

The fake answers at once, so everything measured is client-side work plus loopback HTTP:

* **runner turn**: `orchestrator-kit run`'s loop on the acme-shop sample, `--turns` answers that each call
  `list_roots`; the time from one request's arrival at the fake to the next one's. It holds the SDK's request and
  response handling, the tool call through the SDK's MCP helper and our MCP server over stdio, the transcript append
  (fsync) and the atomic `state.json` checkpoint (fsync, rename), usage and cost, the budget check.
* **bare call**: `client.beta.messages.create` with the same bodies the runner sent (system prompt, tools with cache
  markers, the same growing conversation), one after another, each timed from call to return.

Printed: medians and p90 of both, the overhead per turn (runner - bare) and the ratio runner / bare. Start-up (the MCP
server's spawn, the tool list) is printed apart: it is paid once per run, not per turn. Nothing is asserted here.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This folder holds benchmarks/mcp.py, which would shadow the mcp package: import from the project, not from here.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT / "src"))

from orchestrator_kit.agent.budget import Limits  # noqa: E402
from orchestrator_kit.agent.runner import RunOptions, run_agent  # noqa: E402
from orchestrator_kit.samples import build_sample_repo  # noqa: E402
from orchestrator_kit.testing.fake_messages_api import FakeMessagesAPI, Step, reply, tool_use  # noqa: E402


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def runner_turns(repo: Path, work: Path, turns: int) -> tuple[list[float], float, list[dict]]:
    """Seconds between consecutive requests of the tool-calling turns; start-up seconds; the bodies sent."""
    arrivals: list[float] = []

    def timed(body: dict) -> object:
        arrivals.append(time.perf_counter())
        return reply(tool_use("list_roots", {}))

    api = FakeMessagesAPI([Step(respond=timed, times=turns)]).start()
    os.environ.update(ANTHROPIC_BASE_URL=api.base_url, ANTHROPIC_API_KEY="bench")
    started = time.perf_counter()
    try:
        outcome = run_agent(RunOptions(agent="process-orchestrator", repository=repo, base_dir=work,
                             limits=Limits(max_turns=turns)))
    finally:
        api.stop()
    if outcome.status != "stopped" or outcome.turns != turns:
        raise SystemExit(f"the run did not go as scripted: {outcome.status}, {outcome.turns} turns, {outcome.error}")
    bodies = [r.body for r in api.messages_requests() if r.status == 200]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    return gaps, arrivals[0] - started, bodies


async def bare_calls(base_url: str, bodies: list[dict]) -> list[float]:
    from anthropic import AsyncAnthropic

    client = AsyncAnthropic(base_url=base_url, api_key="bench")
    times = []
    for body in bodies:
        started = time.perf_counter()
        await client.beta.messages.create(model=body["model"], max_tokens=body["max_tokens"], system=body["system"],
                                          tools=body["tools"], messages=body["messages"])
        times.append(time.perf_counter() - started)
    await client.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = build_sample_repo(ROOT / "evals" / "repos" / "acme-shop", Path(tmp) / "acme-shop").path
        runner: list[float] = []
        bare: list[float] = []
        startups: list[float] = []
        for run in range(args.runs):
            gaps, startup, bodies = runner_turns(repo, Path(tmp) / f"work{run}", args.turns)
            runner.extend(gaps)
            startups.append(startup)
            api = FakeMessagesAPI([Step(respond=reply("ok"), times=None)]).start()
            try:
                bare.extend(asyncio.run(bare_calls(api.base_url, bodies[1:])))
            finally:
                api.stop()
    r50, b50 = statistics.median(runner), statistics.median(bare)
    print(f"turns measured: {len(runner)} runner, {len(bare)} bare ({args.runs} runs of {args.turns} turns)")
    print(f"runner turn:  p50 {r50 * 1000:7.2f} ms   p90 {quantile(runner, 0.9) * 1000:7.2f} ms")
    print(f"bare call:    p50 {b50 * 1000:7.2f} ms   p90 {quantile(bare, 0.9) * 1000:7.2f} ms")
    print(f"overhead per turn (runner - bare, p50): {(r50 - b50) * 1000:.2f} ms; ratio runner / bare: {r50 / b50:.2f}")
    print(f"start-up (spawn of the MCP server to the first request), median: {statistics.median(startups):.2f} s")


if __name__ == "__main__":
    main()
