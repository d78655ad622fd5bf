"""benchmarks/agent_context.py runs end to end on one sample repository: it builds the sample, drives both jobs
through the real MCP client, and prints a row per job whose numbers come from real calls (calls and tokens above
zero, no error). The numbers themselves are the benchmark's to print, not this test's to pin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "benchmarks" / "agent_context.py"
COLUMNS = ["repository", "job", "calls", "tokens~", "errors", "+pages", "+tokens", "res~", "incomplete"]


def test_agent_context_prints_one_real_row_per_job_on_a_sample():
    run = subprocess.run([sys.executable, str(SCRIPT), "--only", "acme-shop"], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert lines[0].split() == COLUMNS, lines[0]
    rows = [line.split() for line in lines[1:3]]
    assert [row[:2] for row in rows] == [["acme-shop", "process"], ["acme-shop", "workflow"]], lines[:3]
    for _repo, kind, calls, tokens, errors, pages, rest, _resource, *_incomplete in rows:
        assert 10 <= int(calls) <= 60, (kind, calls)  # the fixed sequence: at least its 10 unconditional calls
        assert int(tokens) >= 10 * int(calls), (kind, tokens)  # each result is JSON of ten tokens or more
        assert int(errors) == 0, run.stdout
        assert int(pages) >= 0 and int(rest) >= 0
    assert int(rows[0][7]) == 0 and int(rows[1][7]) > 0  # only the workflow job reads the example design resource
    assert any(line.startswith("tokens~ = cl100k_base estimate") and "Off target:" in line for line in lines)
    heaviest = [line for line in lines if "heaviest:" in line]
    assert [line.split()[1] for line in heaviest] == ["(process)", "(workflow)"], heaviest
    assert "ERROR" not in run.stdout and not [line for line in lines if line.startswith("  acme-shop (") and
                                              "heaviest:" not in line]  # no error message lines
