"""Benchmark: the MCP server over stdio, against a bare MCPServer with as many trivial tools, in the same process.

    python benchmarks/mcp.py [--runs 7] [--calls 300] [--load 1000] [--concurrency 4] [--cold-only] [--compare SRC]

What is measured (each side spawned as a real process):

* cold start: from spawning the process to the answer to `initialize`, through the real MCP client
  (`mcp.Client(StdioServerParameters(...))`, whose own cost is the same on both sides), and the same again including
  `tools/list`; ours is `python -m orchestrator_kit mcp --root SAMPLE` (the console command's path: typer, the CLI,
  the server's tools, prompts and resources) with its schema cache warm (as from the second start on; the first start
  after an install or upgrade builds and caches the schemas, shown on its own line), the anchor a bare `MCPServer`
  from the same SDK with BARE_TOOLS trivial tools. Runs interleave the two. Target: ours <= bare + 0.1 s.
  `--cold-only` stops after this part; `--compare SRC` adds a third side, the server of another checkout's `src`
  (PYTHONPATH=SRC, its own schema cache), for paired before/after figures.

The rest drives each process with raw JSON-RPC lines on its stdin/stdout, so the client adds as little as possible:
* a trivial tool: `list_roots` (ours) and `ping` (bare), p50 and p99 over `--calls` sequential calls.
  Target: p50 <= 3 ms.
* a warm `scan_repository` on the acme-shop sample (built with `build-sample` into benchmarks/.cache/), p50 and p99,
  after one cold call: the fingerprint check (`git status`) plus the cached summary. Target: p50 <= 20 ms.
* the first call of a capability tool (`pipeline_metrics`, `validate_workflow_design`), which imports its module and
  builds its argument model, against its later (cached) calls: the cost the lazy start moves to first use.
* a load run: `--load` calls of a mix of tools (discovery, files, and the metrics and design tools) with
  `--concurrency` requests in flight on one connection; every answer must arrive and none may be an error.

Figures are printed with their ratio to the baseline; nothing is asserted here (tests never assert times).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named mcp.py: its folder, first on sys.path when run as a script, would hide the SDK from the client.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
CACHE = Path(__file__).resolve().parent / ".cache"

BARE_TOOLS = 24
BARE = f"""\
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare")


@server.tool()
def ping() -> str:
    \"\"\"Answer pong.\"\"\"
    return "pong"


def make(i: int):
    def echo(text: str, times: int = 1) -> str:
        \"\"\"Echo the text.\"\"\"
        return text * times
    server.tool(name=f"echo_{{i}}")(echo)


for i in range({BARE_TOOLS - 1}):
    make(i)
server.run()
"""

INITIALIZE = {
    "jsonrpc": "2.0", "id": 0, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}


class Connection:
    """A server process spoken to in JSON-RPC lines; a reader thread hands each answer to the request waiting for it."""

    def __init__(self, argv: list[str]) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.waiting: dict[int, tuple[threading.Event, list[dict]]] = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            entry = self.waiting.get(message.get("id"))
            if entry is not None:
                entry[1].append(message)
                entry[0].set()

    def _send(self, message: dict) -> None:
        assert self.proc.stdin is not None
        with self.lock:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()

    def request(self, method: str, params: dict, request_id: int | None = None) -> dict:
        request_id = next(self.ids) if request_id is None else request_id
        event, box = threading.Event(), []
        self.waiting[request_id] = (event, box)
        self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        if not event.wait(120):
            raise TimeoutError(f"no answer to {method}")
        del self.waiting[request_id]
        return box[0]

    def initialize(self) -> float:
        """Send initialize at once; the seconds from spawn to its answer."""
        self.waiting[0] = (event := threading.Event(), box := [])
        self._send(INITIALIZE)
        if not event.wait(120):
            raise TimeoutError("no answer to initialize")
        elapsed = time.perf_counter() - self.started
        assert "result" in box[0], box[0]
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return elapsed

    def call(self, tool: str, arguments: dict | None = None) -> dict:
        return self.request("tools/call", {"name": tool, "arguments": arguments or {}})

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def failed(answer: dict) -> bool:
    return "error" in answer or bool(answer.get("result", {}).get("isError"))


def latencies(fn: Callable[[], dict], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        answer = fn()
        times.append(time.perf_counter() - started)
        assert not failed(answer), answer
    return times


def p(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (p50 = median of an odd count, p99 = the 99th percentile)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def client_start(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """Spawn `argv` through the real MCP client: (seconds to the initialize answer, seconds to the tools/list
    answer, number of tools, CPU seconds of the server process from spawn to exit)."""
    import anyio
    from mcp import Client, StdioServerParameters

    async def run() -> tuple[float, float, int]:
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=env)
        started = time.perf_counter()
        async with Client(params) as client:
            initialized = time.perf_counter() - started
            tools = (await client.list_tools()).tools
            listed = time.perf_counter() - started
        return initialized, listed, len(tools)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    initialized, listed, count = anyio.run(run)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the client waited for the server to exit
    return initialized, listed, count, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def sample_repo() -> Path:
    dest = CACHE / "acme-shop"
    if not (dest / ".git").exists():
        from orchestrator_kit.samples import build_sample_repo

        CACHE.mkdir(exist_ok=True)
        build_sample_repo(ROOT / "evals" / "repos" / "acme-shop", dest)
    return dest


def load_run(conn: Connection, calls: int, concurrency: int) -> tuple[float, int, list[float]]:
    """`calls` calls of a mix of tools, `concurrency` in flight at once; (seconds, errors, latencies)."""
    design = (ROOT / "src" / "orchestrator_kit" / "design" / "examples" / "order-fulfilment.yaml").read_text()
    mix = [
        ("list_roots", {}), ("scan_repository", {}), ("list_tasks", {"max_tokens": 2000}),
        ("list_pipelines", {}), ("read_file", {"path": "Makefile", "line_end": 20}),
        ("get_pipeline", {"pipeline_id": "github-actions:.github/workflows/ci.yml"}),
        ("search_repository", {"pattern": "kubectl", "max_matches": 10}),
        # the capability tools: their results are cached per repository state, so these are warm after the first
        ("git_metrics", {"top": 5}), ("pipeline_metrics", {"max_tokens": 2000}), ("opportunity_matrix", {}),
        ("validate_workflow_design", {"design": design}),
    ]
    jobs = iter(range(calls))
    lock = threading.Lock()
    errors: list[dict] = []
    times: list[float] = []

    def worker() -> None:
        while True:
            with lock:
                index = next(jobs, None)
            if index is None:
                return
            tool, arguments = mix[index % len(mix)]
            started = time.perf_counter()
            try:
                answer = conn.call(tool, arguments)
            except TimeoutError as exc:
                answer = {"error": str(exc)}
            elapsed = time.perf_counter() - started
            with lock:
                times.append(elapsed)
                if failed(answer):
                    errors.append(answer)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, len(errors), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts of each server")
    parser.add_argument("--calls", type=int, default=300, help="sequential calls per latency measure")
    parser.add_argument("--load", type=int, default=1000, help="calls in the load run")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight during the load run")
    parser.add_argument("--cold-only", action="store_true", help="only the cold start comparison")
    parser.add_argument("--compare", type=Path, metavar="SRC",
                        help="also start the server with PYTHONPATH=SRC (another checkout's src), interleaved")
    args = parser.parse_args()

    repo = sample_repo()
    ours = [sys.executable, "-m", "orchestrator_kit", "mcp", "--root", str(repo)]
    with tempfile.TemporaryDirectory() as tmp:
        bare_script = Path(tmp) / "bare_server.py"
        bare_script.write_text(BARE)
        bare = [sys.executable, str(bare_script)]
        env = {**os.environ, "ORCHESTRATOR_KIT_CACHE_DIR": str(Path(tmp) / "cache")}
        sides: dict[str, tuple[list[str], dict[str, str]]] = {"bare": (bare, env), "ours": (ours, env)}
        if args.compare is not None:  # another checkout's code, with a schema cache of its own
            sides["compared"] = (ours, {**env, "PYTHONPATH": str(args.compare.resolve()),
                                        "ORCHESTRATOR_KIT_CACHE_DIR": str(Path(tmp) / "compared-cache")})

        # The first start after an install (no schema cache yet) builds and caches every tool's schemas.
        first_start, first_listed, tools, _ = client_start(ours, env)
        if "compared" in sides:
            client_start(*sides["compared"])  # fills its schema cache
        # Cold start, interleaved so that both sides see the same machine load.
        cold: dict[str, list[float]] = {name: [] for name in sides}
        listed: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        counts: dict[str, int] = {}
        for _ in range(args.runs):
            for name, (argv, side_env) in sides.items():
                initialized, with_list, counts[name], seconds = client_start(argv, side_env)
                cold[name].append(initialized)
                listed[name].append(with_list)
                cpu[name].append(seconds)
        cold_bare, list_bare = statistics.median(cold["bare"]), statistics.median(listed["bare"])
        cpu_bare = statistics.median(cpu["bare"])
        print(f"cold start through the real MCP client (spawn -> initialize answer), median of {args.runs}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}:")
        print(f"  bare MCPServer, {counts['bare']} trivial tools : {cold_bare:.3f} s (server CPU, spawn to exit: "
              f"{cpu_bare:.3f} s)")
        for name in sides:
            if name == "bare":
                continue
            cold_side, list_side = statistics.median(cold[name]), statistics.median(listed[name])
            label = "orchestrator-kit mcp" if name == "ours" else f"compared ({args.compare})"
            print(f"  {label}, {counts[name]} tools : {cold_side:.3f} s   ratio {cold_side / cold_bare:.2f}, "
                  f"difference {cold_side - cold_bare:+.3f} s (target <= +0.100 s: "
                  f"{'met' if cold_side - cold_bare <= 0.1 else 'NOT met'}); with tools/list answered: "
                  f"{list_side:.3f} s vs bare {list_bare:.3f} s ({list_side - list_bare:+.3f} s); server CPU "
                  f"{statistics.median(cpu[name]):.3f} s vs bare {cpu_bare:.3f} s "
                  f"({statistics.median(cpu[name]) - cpu_bare:+.3f} s)")
        print(f"  first start after an install (empty schema cache, {tools} tools): initialize {first_start:.3f} s, "
              f"tools/list {first_listed:.3f} s (one run)")
        if args.cold_only:
            return

        bare_conn = Connection(bare)
        bare_conn.initialize()
        bare_times = latencies(lambda: bare_conn.call("ping"), args.calls)
        bare_conn.close()

    conn = Connection(ours)
    conn.initialize()
    tools = len(conn.request("tools/list", {})["result"]["tools"])
    trivial = latencies(lambda: conn.call("list_roots"), args.calls)
    first = latencies(lambda: conn.call("scan_repository"), 1)[0]
    warm = latencies(lambda: conn.call("scan_repository"), args.calls)
    # The capability tools import their modules (and build their argument model) on their first call.
    design = (ROOT / "src" / "orchestrator_kit" / "design" / "examples" / "order-fulfilment.yaml").read_text()
    firsts = {}
    for tool, arguments in (("pipeline_metrics", {}), ("validate_workflow_design", {"design": design})):
        first_call = latencies(lambda t=tool, a=arguments: conn.call(t, a), 1)[0]
        warm_calls = latencies(lambda t=tool, a=arguments: conn.call(t, a), 50)
        firsts[tool] = (first_call, p(warm_calls, 0.5))
    seconds, errors, load_times = load_run(conn, args.load, args.concurrency)
    conn.close()

    print(f"sample repository: {repo}")
    print(f"trivial tool over stdio, {args.calls} calls:")
    print(f"  bare ping     : p50 {ms(p(bare_times, 0.5))}  p99 {ms(p(bare_times, 0.99))}")
    print(f"  list_roots    : p50 {ms(p(trivial, 0.5))}  p99 {ms(p(trivial, 0.99))}   "
          f"ratio p50 {p(trivial, 0.5) / p(bare_times, 0.5):.2f} (target p50 <= 3 ms)")
    print(f"scan_repository on the sample: first (cold) {ms(first)}; warm, {args.calls} calls:")
    print(f"  warm scan     : p50 {ms(p(warm, 0.5))}  p99 {ms(p(warm, 0.99))}   "
          f"ratio p50 to bare ping {p(warm, 0.5) / p(bare_times, 0.5):.1f} (target p50 <= 20 ms)")
    for tool, (first_call, warm_p50) in firsts.items():
        print(f"{tool}: first call {ms(first_call)} (imports its capability), then p50 {ms(warm_p50)} (cached)")
    print(f"load: {args.load} calls, {args.concurrency} in flight: {seconds:.2f} s "
          f"({args.load / seconds:.0f} calls/s), p50 {ms(p(load_times, 0.5))}, p99 {ms(p(load_times, 0.99))}, "
          f"errors {errors} (target 0)")


if __name__ == "__main__":
    main()
