"""Automation benchmark: our validators and Writer against the bare work they wrap, in the same process.

Prints three ratios (median of 5 runs each):
* validate: `validate_text` on a generated workflow / running check-jsonschema, zizmor and shellcheck on it directly
  (the overhead of temp copies, YAML line mapping and finding conversion);
* writer: `Writer.plan` + `apply` of 100 new files (confinement walk, exclusive create, fsync, audit log) /
  `Path.write_text` of the same files;
* generate: building a workflow from the acme-shop inventory (no validation) / scanning acme-shop.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from orchestrator_kit.automation.generate import build, load_context
from orchestrator_kit.automation.validate import _env, find_tool, validate_text
from orchestrator_kit.automation.writer import ProposedFile, Writer
from orchestrator_kit.samples import build_sample_repo

ROOT = Path(__file__).resolve().parent.parent
SPEC = {"name": "Bench", "triggers": {"push_branches": ["main"], "schedule": ["0 3 * * *"]},
        "jobs": [{"id": "lint", "steps": [{"name": "Lint", "commands": ["make lint"]}]},
                 {"id": "test", "needs": ["lint"], "matrix": {"python": ["3.11", "3.12"]},
                  "steps": [{"name": "Test", "commands": ["make test"]}]}]}


def median(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "acme"
        build_sample_repo(ROOT / "evals" / "repos" / "acme-shop", repo)
        ctx = load_context(repo)
        artifact = build(ctx, "github-workflow", SPEC).artifacts[0]
        wf = Path(tmp) / "wf" / ".github" / "workflows" / "bench.yml"
        wf.parent.mkdir(parents=True)
        wf.write_text(artifact.content)
        run = wf.parent / "run.sh"
        run.write_text("#!/usr/bin/env bash\nmake lint\nmake test\n")

        def bare() -> None:
            env = _env(tmp)
            subprocess.run([find_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(wf)],
                           capture_output=True, env=env, check=False)
            subprocess.run([find_tool("zizmor"), "--offline", "--no-config", "--format", "json", str(wf)],
                           capture_output=True, env=env, check=False)
            subprocess.run([find_tool("shellcheck"), "--format", "json1", str(run)], capture_output=True, env=env,
                           check=False)

        ours = median(lambda: validate_text(artifact.path, artifact.content, "github-workflow"))
        base = median(bare)
        print(f"validate: {ours:.3f} s vs bare tools {base:.3f} s, ratio {ours / base:.2f}")

        counter = iter(range(10_000))

        def writer_run() -> None:
            n = next(counter)
            root = Path(tmp) / f"w{n}"
            root.mkdir()
            writer = Writer(root)
            plan = writer.plan([ProposedFile(f"d{i % 10}/f{i}.txt", f"content {i}\n") for i in range(100)])
            writer.apply(plan, plan.hash)

        def plain_run() -> None:
            n = next(counter)
            root = Path(tmp) / f"p{n}"
            for i in range(100):
                path = root / f"d{i % 10}" / f"f{i}.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"content {i}\n")

        ours, base = median(writer_run), median(plain_run)
        print(f"writer (100 files): {ours:.3f} s vs plain writes {base:.3f} s, ratio {ours / base:.2f}")

        ours = median(lambda: build(ctx, "github-workflow", SPEC))
        base = median(lambda: load_context(repo))
        print(f"generate (no validation): {ours * 1000:.1f} ms vs scan {base * 1000:.1f} ms, ratio {ours / base:.3f}")


if __name__ == "__main__":
    main()
