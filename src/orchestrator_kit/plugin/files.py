"""The repository's Claude Code plugin files, generated: `agents/*.md` and `.claude-plugin/{plugin,marketplace}.json`.

Regenerate after changing a prompt, an agent's tools or the package version: `python -m orchestrator_kit.plugin`
(`--check` only reports files that differ, exit 1; a test runs it). The plugin's MCP server is declared in plugin.json
and started by `bootstrap.py` (standard library only), which prepares a virtual environment on first use.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from .agents import AGENTS, PLUGIN_NAME, SERVER_NAME, plugin_tool_prefix, render_agent

MARKETPLACE_NAME = "orchestrator-kit"
DESCRIPTION = (
    "Two subagents (process-orchestrator, workflow-orchestrator) and the orchestrator-kit MCP server: map how a "
    "repository is built, tested, released and operated, with file and line evidence, find what to automate, and "
    "design the orchestration."
)
AUTHOR = {"name": "orchestrator-kit maintainers"}
KEYWORDS = ["ci-cd", "devops", "automation", "workflow", "mcp", "subagents", "state-machine"]
BOOTSTRAP = "${CLAUDE_PLUGIN_ROOT}/src/orchestrator_kit/plugin/bootstrap.py"


def server_definition() -> dict[str, object]:
    """How Claude Code starts the plugin's server: the machine's Python 3 runs the stdlib-only bootstrap."""
    return {"command": "python3", "args": [BOOTSTRAP]}


def plugin_manifest() -> dict[str, object]:
    return {
        "name": PLUGIN_NAME,
        "version": __version__,
        "description": DESCRIPTION,
        "author": AUTHOR,
        "license": "MIT",
        "keywords": KEYWORDS,
        "mcpServers": {SERVER_NAME: server_definition()},
    }


def marketplace_manifest() -> dict[str, object]:
    return {
        "name": MARKETPLACE_NAME,
        "owner": AUTHOR,
        "metadata": {"description": "The orchestrator-kit Claude Code plugin, served from its own repository."},
        "plugins": [
            {
                "name": PLUGIN_NAME,
                "source": "./",
                "description": DESCRIPTION,
                "version": __version__,
                "author": AUTHOR,
                "license": "MIT",
                "keywords": KEYWORDS,
            }
        ],
    }


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def plugin_files() -> dict[str, str]:
    """Relative path -> content of every generated plugin file."""
    files = {f"agents/{spec.name}.md": render_agent(spec, plugin_tool_prefix()) for spec in AGENTS}
    files[".claude-plugin/plugin.json"] = _json(plugin_manifest())
    files[".claude-plugin/marketplace.json"] = _json(marketplace_manifest())
    return files


def stale_files(root: Path) -> list[str]:
    """Generated files that are missing or differ under `root`."""
    stale = []
    for rel, content in plugin_files().items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(rel)
    return stale


def write_plugin_files(root: Path) -> list[str]:
    """Write the generated files under `root` (the repository); returns those that changed."""
    changed = stale_files(root)
    contents = plugin_files()
    for rel in changed:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(contents[rel], encoding="utf-8")
    return changed
