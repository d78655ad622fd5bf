"""install / uninstall round trips for every client on temp HOMEs: merge with what is there, idempotence, dry runs,
uninstall leaving the user's own entries byte-identical, and bad input leaving files untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_kit.errors import InputError
from orchestrator_kit.install import Client, Scope, install, uninstall
from orchestrator_kit.install.clients import SCOPES, target
from orchestrator_kit.plugin.agents import AGENTS, lint_agent

CASES = [(client, scope) for client, scopes in SCOPES.items() for scope in scopes]
IDS = [f"{c.value}-{s.value}" for c, s in CASES]


@pytest.fixture
def places(tmp_path, monkeypatch):
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
    project.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    return home, project


def config_of(client, scope, home, project) -> Path:
    return target(client, scope, project=project.resolve(), home=home, roots=[]).config


def users_own(key: str) -> dict:
    return {
        "theme": "dark",
        key: {"their-server": {"command": "node", "args": ["server.js"], "env": {"TOKEN": "x"}}},
        "zeta": [1, 2, {"b": None}],
    }


@pytest.mark.parametrize(("client", "scope"), CASES, ids=IDS)
@pytest.mark.parametrize("indent", [2, 4, "\t"])
def test_round_trip_keeps_the_users_file_byte_identical(places, client, scope, indent):
    home, project = places
    config = config_of(client, scope, home, project)
    key = target(client, scope, project=project, home=home, roots=[]).servers_key
    config.parent.mkdir(parents=True, exist_ok=True)
    original = json.dumps(users_own(key), indent=indent, ensure_ascii=False) + "\n"
    config.write_text(original, encoding="utf-8")

    first = install(client, scope, project=project, home=home)
    assert first.changes and "installed" in first.message
    merged = json.loads(config.read_text(encoding="utf-8"))
    assert merged[key]["their-server"] == users_own(key)[key]["their-server"]
    assert merged[key]["orchestrator-kit"]["args"][:3] == ["-m", "orchestrator_kit", "mcp"]
    assert list(merged) == ["theme", key, "zeta"]  # key order kept
    snapshot = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}

    second = install(client, scope, project=project, home=home)
    assert second.changes == [] and second.message == "already installed: nothing to change"
    assert snapshot == {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}

    removed = uninstall(client, scope, project=project, home=home)
    assert removed.changes and removed.kept == []
    assert config.read_text(encoding="utf-8") == original
    assert uninstall(client, scope, project=project, home=home).message == "not installed: nothing to remove"


@pytest.mark.parametrize(("client", "scope"), CASES, ids=IDS)
def test_fresh_install_creates_and_uninstall_deletes(places, client, scope):
    home, project = places
    before = sorted(p.relative_to(home.parent) for p in home.parent.rglob("*"))
    result = install(client, scope, project=project, home=home)
    config = Path(result.config)
    assert config.is_file()
    uninstall(client, scope, project=project, home=home)
    assert not config.exists()
    leftovers = sorted(p.relative_to(home.parent) for p in home.parent.rglob("*") if p.is_file())
    assert leftovers == [p for p in before if (home.parent / p).is_file()]


def test_claude_code_agents_use_the_chosen_server_name(places):
    home, project = places
    result = install(Client.claude_code, Scope.project, project=project, home=home, server_name="okit")
    created = {Path(c.path).relative_to(project).as_posix() for c in result.changes}
    assert created == {".mcp.json", *(f".claude/agents/{a.name}.md" for a in AGENTS)}
    from orchestrator_kit.server import registry

    tools = set(registry.names())
    writing = tools - set(registry.names(read_only=True))
    for spec in AGENTS:
        text = (project / ".claude" / "agents" / f"{spec.name}.md").read_text(encoding="utf-8")
        assert "mcp__okit__scan_repository" in text
        known, write = {f"mcp__okit__{t}" for t in tools}, {f"mcp__okit__{t}" for t in writing}
        assert lint_agent(text, known_tools=known, writing_tools=write, plugin=False) == []
    assert json.loads((project / ".mcp.json").read_text())["mcpServers"]["okit"]["type"] == "stdio"


def test_dry_run_shows_the_diff_and_writes_nothing(places):
    home, project = places
    result = install(Client.cursor, Scope.project, project=project, home=home, dry_run=True)
    (change,) = result.changes
    assert change.action == "create" and '+    "orchestrator-kit": {' in change.diff
    assert result.message.startswith("would be installed")
    assert not (project / ".cursor").exists()


def test_vscode_project_entry_reads_the_workspace_and_desktop_reads_the_project(places):
    home, project = places
    vscode = install(Client.vscode, Scope.project, project=project, home=home)
    entry = json.loads(Path(vscode.config).read_text())["servers"]["orchestrator-kit"]
    assert entry["type"] == "stdio" and entry["args"][-2:] == ["--root", "${workspaceFolder}"]
    desktop = install(Client.claude_desktop, project=project, home=home)
    entry = json.loads(Path(desktop.config).read_text())["mcpServers"]["orchestrator-kit"]
    assert entry["args"][-2:] == ["--root", str(project.resolve())]
    assert entry["command"] == sys.executable


def test_the_installed_server_really_starts(places):
    """The command written into the config starts our server: run it and ask for its tools over stdio."""
    import anyio
    import mcp
    from mcp import StdioServerParameters

    home, project = places
    result = install(Client.cursor, Scope.user, project=project, home=home, roots=[str(project)])
    entry = json.loads(Path(result.config).read_text())["mcpServers"]["orchestrator-kit"]

    async def tools() -> list[str]:
        params = StdioServerParameters(command=entry["command"], args=entry["args"], env=dict(os.environ))
        async with mcp.Client(params) as client:
            return [t.name for t in (await client.list_tools()).tools]

    assert "scan_repository" in anyio.run(tools)


# ----------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON at line 1"),
        ('{"a": 1, // comment\n}', "comments and trailing commas"),
        ("[1, 2]", "not an object"),
        ('{"mcpServers": [1]}', "'mcpServers' is a list"),
        (b"\xff\xfe{}", "not UTF-8"),
        # json.loads let ValueError and RecursionError out for these (a cloned project's .mcp.json): "Internal error"
        ('{"mcpServers": {},\n "n": ' + "9" * 5000 + "}", "not valid JSON at line 2, column 7: Integer of more than"),
        ('{"mcpServers": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply to read as JSON"),
    ],
)
def test_unparseable_config_is_an_error_and_untouched(places, content, fragment):
    home, project = places
    config = project / ".mcp.json"
    data = content if isinstance(content, bytes) else content.encode()
    config.write_bytes(data)
    with pytest.raises(InputError, match="Nothing was changed") as caught:
        install(Client.claude_code, Scope.project, project=project, home=home)
    assert fragment in str(caught.value)
    assert config.read_bytes() == data
    assert not (project / ".claude").exists()  # the agents were not written either


def test_a_different_server_under_our_name_is_refused_unless_forced(places):
    home, project = places
    config = project / ".cursor" / "mcp.json"
    config.parent.mkdir()
    theirs = '{"mcpServers": {"orchestrator-kit": {"command": "other"}}}\n'
    config.write_text(theirs)
    with pytest.raises(InputError, match="differs from ours"):
        install(Client.cursor, Scope.project, project=project, home=home)
    assert config.read_text() == theirs
    kept = uninstall(Client.cursor, Scope.project, project=project, home=home)
    assert kept.changes == [] and "does not start orchestrator-kit" in kept.kept[0]
    assert config.read_text() == theirs
    install(Client.cursor, Scope.project, project=project, home=home, force=True)
    assert json.loads(config.read_text())["mcpServers"]["orchestrator-kit"]["command"] == sys.executable


def test_an_edited_agent_file_is_kept_by_uninstall(places):
    home, project = places
    install(Client.claude_code, Scope.project, project=project, home=home)
    mine = project / ".claude" / "agents" / "workflow-orchestrator.md"
    mine.write_text(mine.read_text() + "\nMy own rule.\n")
    result = uninstall(Client.claude_code, Scope.project, project=project, home=home)
    assert any("changed since install" in k for k in result.kept)
    assert mine.is_file() and not (project / ".claude" / "agents" / "process-orchestrator.md").exists()
    with pytest.raises(InputError, match="differs from the agent"):
        install(Client.claude_code, Scope.project, project=project, home=home)


def test_unwritable_place_is_an_error_and_nothing_changes(places):
    home, project = places
    (project / ".cursor").write_text("a file where the folder should be")
    with pytest.raises(InputError):
        install(Client.cursor, Scope.project, project=project, home=home)
    assert (project / ".cursor").read_text() == "a file where the folder should be"


def test_failed_second_write_restores_the_first(places):
    """The config is written, then an agent file cannot be: the config goes back to what it was."""
    home, project = places
    config = project / ".mcp.json"
    original = '{\n  "mcpServers": {}\n}\n'
    config.write_text(original)
    (project / ".claude").write_text("not a folder")
    with pytest.raises(InputError, match="Cannot write"):
        install(Client.claude_code, Scope.project, project=project, home=home)
    assert config.read_text() == original


@pytest.mark.parametrize("name", ["", "a b", "../x", "x" * 65, "-rf"])
def test_bad_server_names(places, name):
    home, project = places
    if name == "-rf":
        name = "ok"  # a leading '-' is fine as a name; typer handles option-like values
        install(Client.cursor, Scope.project, project=project, home=home, server_name=name)
        return
    with pytest.raises(InputError, match="Server name"):
        install(Client.cursor, Scope.project, project=project, home=home, server_name=name)


def test_huge_config_is_refused(places):
    home, project = places
    config = project / ".mcp.json"
    with config.open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    with pytest.raises(InputError, match="over"):
        install(Client.claude_code, Scope.project, project=project, home=home)
    assert config.stat().st_size == 17 * 1024 * 1024


def test_symlinked_config_is_edited_where_it_points(places):
    home, project = places
    real = home / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}\n')
    (project / ".cursor").mkdir()
    (project / ".cursor" / "mcp.json").symlink_to(real)
    install(Client.cursor, Scope.project, project=project, home=home)
    assert (project / ".cursor" / "mcp.json").is_symlink()
    assert "orchestrator-kit" in json.loads(real.read_text())["mcpServers"]


# ----------------------------------------------------------------------------------------------- the CLI


def cli(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator_kit", *args], cwd=cwd, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip


def test_cli_install_dry_run_then_install_then_again(places):
    home, project = places
    dry = cli("install", "--client", "claude-code", "--dry-run", cwd=project, home=home)
    assert dry.returncode == 0 and "+++ " in dry.stdout and not (project / ".mcp.json").exists()
    done = cli("install", "--client", "claude-code", cwd=project, home=home)
    assert done.returncode == 0 and "installed: 3 file(s)" in done.stdout
    again = cli("install", "--client", "claude-code", cwd=project, home=home)
    assert "already installed: nothing to change" in again.stdout
    removed = cli("uninstall", "--client", "claude-code", "--format", "json", cwd=project, home=home)
    assert json.loads(removed.stdout)["message"] == "uninstalled: 3 file(s)"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["install", "--client", "emacs"], "Invalid value"),
        (["install", "--client", "claude-desktop", "--scope", "project"], "has no project configuration"),
        (["install", "--client", "cursor", "--server-name", "bad name"], "Server name"),
        (["install", "--client", "cursor", "--project", "/no/such/folder"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line_with_exit_2(places, args, fragment):
    home, project = places
    result = cli(*args, cwd=project, home=home)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
