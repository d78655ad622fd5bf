"""The README's shell examples run as written.

Every command in a fenced `bash`/`sh`/`shell`/`console` block that runs `orchestrator-kit` (or
`.venv/bin/orchestrator-kit`), and every inline code span that is such a whole command (arguments beyond the command
name, no placeholder in capitals, brackets or `...`), is either run here by `bash -c`, in README order, with exit
code and output checked (RUNS), or listed in CANNOT_RUN with the reason. A new example fails
`test_every_example_is_run_or_listed` until it is one or the other; an entry whose example left the README fails too.

The sandbox that lets the examples run unchanged (documented substitutions, nothing else is rewritten):
- the working directory and HOME are one temporary folder holding `evals/` (a link to this repository's, which the
  examples name relative to a clone) and `.venv/bin/orchestrator-kit` (a link to this environment's command, which
  is also first on PATH);
- the repository placeholders are built copies of the acme-shop sample (`build-sample`): `~/src/my-service`,
  `~/src/our-service`, `repo`, and `$D/acme-shop` (`D` is the quick start's folder; its shell set it, so here it is
  exported); `~/src/a` and `~/src/b` are empty folders; `mktemp -d` makes its folder in the sandbox (TMPDIR);
- the quick start's install steps before `D=$(mktemp -d)` are not run: they built the environment this test runs in
  (CI runs the second quick-start command verbatim);
- `<hash shown with the diff>` is the plan hash the same command prints without `--apply`, as the README says;
  `release.yaml` is the README's own spec block; `our-service.truth.yaml` and `ours.yaml`, a team's own truth and
  thresholds, are the sample's (`evals/cases/acme-shop.yaml`, `evals/thresholds.yaml`);
- an `mcp` example on stdio is started by the real MCP client (the example is its command, through bash), which asks
  for the tools.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from orchestrator_kit.cli import app
from orchestrator_kit.samples import build_sample_repo

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMAND = re.compile(r"(?:^|&&|\|\||;|\|)\s*(?:[A-Z_]+=\S*\s+)*(?:\.venv/bin/)?orchestrator-kit\s")


def fenced_commands() -> list[str]:
    """Commands of the README's shell blocks that run orchestrator-kit (continuation lines joined)."""
    found: list[str] = []
    for block in re.findall(r"^```(?:bash|sh|shell|console)\n(.*?)^```", README, re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if COMMAND.search(line) and not line.lstrip().startswith("#"):
                found.append(" ".join(line.split()))
    return found


def _command_names() -> set[str]:
    group = typer.main.get_command(app)
    names = set(group.commands)  # type: ignore[attr-defined]
    for command in group.commands.values():  # type: ignore[attr-defined]
        names |= set(getattr(command, "commands", {}))
    return names


def inline_commands() -> list[str]:
    """Inline code spans that are whole orchestrator-kit commands, not a command's name or a usage pattern."""
    names = _command_names()
    found = []
    for span in re.findall(r"`((?:\.venv/bin/)?orchestrator-kit [^`\n]+)`", README):
        words = span.split()[1:]
        while words and words[0] in names:
            words = words[1:]
        if words and not re.search(r"\b[A-Z]{2,}\b|[\[\]|<>]|\.\.\.", span):
            found.append(span)
    return found


def examples() -> list[str]:
    return fenced_commands() + inline_commands()


# ------------------------------------------------------------------ the examples that cannot run here

CANNOT_RUN = {
    "orchestrator-kit mcp --transport http --port 8000 # streamable HTTP at http://127.0.0.1:8000/mcp":
        "an HTTP server that runs until stopped, on a fixed port other programs on a machine may hold; "
        "tests/mcp_server/test_stdio_http.py serves HTTP on a free port",
    "ORCHESTRATOR_KIT_MCP_TOKEN=... orchestrator-kit mcp --transport http --host 0.0.0.0 --allow-remote "
    "--allowed-host build-box": "listens on every network interface until stopped",
    "orchestrator-kit eval agents --epochs 3 # pass@3 and pass^3 per case": "needs ANTHROPIC_API_KEY and the network",
    "orchestrator-kit eval agents --model anthropic/claude-sonnet-5-5 --epochs 3 --output-dir runs/sonnet":
        "needs ANTHROPIC_API_KEY and the network",
    "orchestrator-kit eval agents --model anthropic/claude-opus-5-5 --epochs 3 --output-dir runs/opus "
    "--compare runs/sonnet/results.json # exit 1 and a list when a case's pass@k, pass^k or a grader got worse":
        "needs ANTHROPIC_API_KEY and the network",
    'orchestrator-kit run process-orchestrator ./my-repo --task "Automate the release runbook" --max-cost-usd 2':
        "needs ANTHROPIC_API_KEY and the network",
    "orchestrator-kit run workflow-orchestrator ./my-repo --quiet --format json --max-turns 60":
        "needs ANTHROPIC_API_KEY and the network",
    "orchestrator-kit check-report .orchestrator-kit/runs/<run id>/report.md --transcript "
    ".orchestrator-kit/runs/<run id>/transcript.jsonl":
        "needs a run saved by `orchestrator-kit run` (an API key); tests/agent/test_grounding.py checks reports",
    "orchestrator-kit eval agents --model scripted":
        "offline, but plays every agent case's transcripts through inspect-ai (minutes on two cores); "
        "tests/agentevals/test_offline_proof.py runs this command",
}


# ------------------------------------------------------------------ the examples run here, in README order

@dataclass(frozen=True)
class Run:
    check: Callable[[subprocess.CompletedProcess[str], Path], None]
    exit_codes: tuple[int, ...] = (0,)
    mcp: bool = False  # a stdio server: its standard output, to check, is the names of its tools


def out(*texts: str) -> Callable[[subprocess.CompletedProcess[str], Path], None]:
    def check(proc: subprocess.CompletedProcess[str], _: Path) -> None:
        for text in texts:
            assert text in proc.stdout, (text, proc.stdout[-3000:])
    return check


def file_has(name: str, *texts: str) -> Callable[[subprocess.CompletedProcess[str], Path], None]:
    def check(_: subprocess.CompletedProcess[str], sandbox: Path) -> None:
        content = (sandbox / name).read_text(encoding="utf-8")
        for text in texts:
            assert text in content, (name, text)
    return check


def makefile_without_target(proc: subprocess.CompletedProcess[str], sandbox: Path) -> None:
    assert "tag-release:" not in (sandbox / "repo" / "Makefile").read_text(encoding="utf-8"), proc.stdout


def mcp_tools(*, writes: bool) -> Callable[[subprocess.CompletedProcess[str], Path], None]:
    def check(proc: subprocess.CompletedProcess[str], _: Path) -> None:
        tools = set(proc.stdout.split())
        assert "scan_repository" in tools and ("apply_automation" in tools) is writes, sorted(tools)
    return check


def server_removed(proc: subprocess.CompletedProcess[str], sandbox: Path) -> None:
    """install made .mcp.json for our server alone; uninstall takes the entry out (and the file it leaves empty)."""
    config = sandbox / ".mcp.json"
    assert not config.exists() or '"orchestrator-kit"' not in config.read_text(encoding="utf-8"), proc.stdout


QUICK_START = ('D=$(mktemp -d) && .venv/bin/orchestrator-kit build-sample evals/repos/acme-shop "$D/acme-shop" && '
               '.venv/bin/orchestrator-kit scan "$D/acme-shop"')
RUNS: dict[str, Run] = {
    QUICK_START: Run(out("Pipelines", "push (tags: v*)", "RELEASING.md#releasing-acme-shop/cutting-a-release",
                         "Automation opportunities")),
    "orchestrator-kit generate shell-script --from-procedure 'RELEASING.md#releasing-acme-shop/cutting-a-release' "
    '-C "$D/acme-shop"': Run(out("scripts/cutting-a-release.sh", "plan hash: ", "Nothing written")),
    "orchestrator-kit generate make-target --spec release.yaml -C repo --apply --plan-hash <hash shown with the diff>":
        Run(file_has("repo/Makefile", "tag-release: ## Tag the release and push the tag",
                     'git tag -a "$${VERSION}"')),
    # exit 1: the sample's workflows use actions by tag, which zizmor reports (the findings gate of `validate`)
    "orchestrator-kit validate '.github/workflows/*.yml' Makefile 'scripts/*.sh' -C repo":
        Run(out(".github/workflows/release.yml (github-workflow)", "Makefile (makefile): ok",
                "scripts/backup-db.sh (shell): ok", "6 file(s)"), exit_codes=(0, 1)),
    "orchestrator-kit undo -C repo --last 1": Run(makefile_without_target),
    "orchestrator-kit mcp --root ~/src/my-service # stdio; default root: the working directory":
        Run(mcp_tools(writes=True), mcp=True),
    "orchestrator-kit mcp --root ~/src/a --root ~/src/b --read-only # several roots; no tool that writes":
        Run(mcp_tools(writes=False), mcp=True),
    "orchestrator-kit design examples # the shipped designs and their broken twins":
        Run(out("order-fulfilment.broken", "deployment-pipeline")),
    "orchestrator-kit design examples order-fulfilment > order.yaml": Run(file_has("order.yaml",
                                                                                   "name: order-fulfilment")),
    "orchestrator-kit design validate order.yaml # exit 1 when a rule finds an error":
        Run(out("order-fulfilment: valid (0 errors, 0 warnings")),
    "orchestrator-kit design simulate order.yaml # exit 1 when a fault leaves an inconsistent state":
        Run(out("Fault scenarios", "single faults consistent (0 inconsistent)")),
    "orchestrator-kit design render order.yaml --kind saga -f markdown # Mermaid sequence diagram with compensations":
        Run(out("```mermaid", "sequenceDiagram")),
    "orchestrator-kit design export order.yaml -o order.asl.json # AWS Step Functions ASL (--target xstate: XState v5)":
        Run(file_has("order.asl.json", '"StartAt"', '"States"')),
    'D=$(mktemp -d) && orchestrator-kit build-sample evals/repos/acme-shop "$D/acme" && '
    'orchestrator-kit opportunities "$D/acme"': Run(out("opp-", "quick win", "person h/year")),
    "orchestrator-kit eval tools --repo ~/src/our-service --truth our-service.truth.yaml --thresholds ours.yaml":
        Run(out("\nacme-shop ", "Every threshold is met.")),  # the truth file names the repository
    ".venv/bin/orchestrator-kit scan ~/src/my-service --format markdown -o inventory.md":
        Run(file_has("inventory.md", "```mermaid", "RELEASING.md#releasing-acme-shop/cutting-a-release")),
    "orchestrator-kit --help": Run(out("Usage: orchestrator-kit [OPTIONS] COMMAND [ARGS]...", "Commands:")),
    "orchestrator-kit install --client claude-code": Run(file_has(".mcp.json", '"orchestrator-kit"')),
    "orchestrator-kit uninstall --client claude-code": Run(server_removed),
}


def as_run(example: str) -> str:
    """The text run for an example: the quick start from `D=$(mktemp -d)` on (see the module docstring)."""
    if example.startswith("python3 -m venv .venv && .venv/bin/python -m pip install -q . && "):
        return example.split(" && ", 2)[2]
    return example


def readme_spec(name: str) -> str:
    """The YAML block the README introduces with `name`."""
    match = re.search(rf"`{re.escape(name)}`[^\n]*:\n\n```yaml\n(.*?)^```", README, re.M | re.S)
    assert match is not None, f"no YAML block for {name} in README.md"
    return match.group(1)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    (folder / "evals").symlink_to(ROOT / "evals")
    command = Path(sys.executable).parent / "orchestrator-kit"
    assert command.exists(), "the orchestrator-kit console script of this environment"
    (folder / ".venv" / "bin").mkdir(parents=True)
    (folder / ".venv" / "bin" / "orchestrator-kit").symlink_to(command)
    for place in ("src/my-service", "src/our-service", "repo", "d/acme-shop"):
        build_sample_repo(ROOT / "evals" / "repos" / "acme-shop", folder / place)
    (folder / "src" / "a").mkdir()
    (folder / "src" / "b").mkdir()
    (folder / "tmp").mkdir()
    (folder / "release.yaml").write_text(readme_spec("release.yaml"), encoding="utf-8")
    shutil.copy(ROOT / "evals" / "cases" / "acme-shop.yaml", folder / "our-service.truth.yaml")
    shutil.copy(ROOT / "evals" / "thresholds.yaml", folder / "ours.yaml")
    return folder


def environment(sandbox: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(sandbox), "D": str(sandbox / "d"), "TMPDIR": str(sandbox / "tmp"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "80"}


def bash(text: str, sandbox: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", text], cwd=sandbox, env=environment(sandbox), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300)


def mcp_server(text: str, sandbox: Path) -> subprocess.CompletedProcess[str]:
    """The example started as a stdio server by the real MCP client, which lists its tools."""
    import anyio
    import mcp
    from mcp import StdioServerParameters

    async def tools() -> list[str]:
        params = StdioServerParameters(command="bash", args=["-c", text], env=environment(sandbox), cwd=sandbox)
        async with mcp.Client(params) as client:
            return [t.name for t in (await client.list_tools()).tools]

    return subprocess.CompletedProcess(["bash", "-c", text], 0, "\n".join(anyio.run(tools)), "")


def test_every_example_is_run_or_listed():
    found = [as_run(e) for e in examples()]
    assert len(found) == len(set(found)), "an example appears twice; give the second its own entry"
    unknown = [e for e in found if e not in RUNS and e not in CANNOT_RUN]
    assert not unknown, f"README examples neither run here nor listed in CANNOT_RUN: {unknown}"
    stale = [e for e in [*RUNS, *CANNOT_RUN] if e not in found]
    assert not stale, f"entries whose example is no longer in README.md: {stale}"


def test_the_extraction_finds_fenced_and_inline_examples():
    found = examples()
    assert any(e.startswith("python3 -m venv .venv") for e in found)  # the quick start
    assert ".venv/bin/orchestrator-kit scan ~/src/my-service --format markdown -o inventory.md" in found
    assert not any(e.startswith("claude plugin") for e in found)  # names the plugin, does not run orchestrator-kit
    assert "orchestrator-kit scan" not in found and "orchestrator-kit mcp --root PATH" not in found


def test_the_examples_run_as_written(sandbox):
    """In README order (later examples use what earlier ones made: order.yaml, the applied target)."""
    for example in (as_run(e) for e in examples()):
        if example in CANNOT_RUN:
            continue
        run = RUNS[example]
        text = example
        if "<hash shown with the diff>" in text:
            dry = bash(text.replace(" --apply --plan-hash <hash shown with the diff>", ""), sandbox)
            hash_ = re.search(r"^plan hash: ([0-9a-f]{64})$", dry.stdout, re.M)
            assert hash_ is not None, dry.stdout + dry.stderr
            text = text.replace("<hash shown with the diff>", hash_.group(1))
        proc = mcp_server(text, sandbox) if run.mcp else bash(text, sandbox)
        assert proc.returncode in run.exit_codes, (example, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr, (example, proc.stderr)
        run.check(proc, sandbox)
