"""The two Claude Code subagent files, rendered from the canonical prompts (one source, no copy to keep by hand).

A subagent file is YAML front matter (`name`, `description`, `tools`, `model`, `color`) and the prompt, unchanged, as
its body (Claude Code uses the body as the subagent's system prompt). The `tools` line lists Read, Grep and Glob and
exactly the MCP tools the agent needs, each under the name Claude Code gives it:

- `mcp__plugin_<plugin>_<server>__<tool>` for a server shipped inside a plugin (`plugin_tool_prefix`);
- `mcp__<server>__<tool>` for a server configured by name, as `orchestrator-kit install` does (`server_tool_prefix`).

Least privilege: the workflow-orchestrator designs and gets no tool that writes (no Write, no Edit, no
`apply_automation`); the process-orchestrator may apply a reviewed plan, as its prompt's ground rule 6 describes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from ..errors import InputError
from ..mcp_tools.prompts import prompt_text

PLUGIN_NAME = "orchestrator-kit"
SERVER_NAME = "orchestrator-kit"
BUILTIN_TOOLS = ("Read", "Grep", "Glob")

# Front-matter fields Claude Code reads for a subagent; any other key is silently ignored by it, so a lint refuses it.
KNOWN_FIELDS = frozenset(
    {
        "name", "description", "tools", "disallowedTools", "model", "color", "maxTurns", "skills", "memory",
        "effort", "initialPrompt", "mcpServers", "hooks", "permissionMode",
    }
)  # fmt: skip
PLUGIN_FORBIDDEN_FIELDS = frozenset({"mcpServers", "hooks", "permissionMode"})  # not honoured for plugin agents
MODEL_ALIASES = frozenset({"sonnet", "opus", "haiku", "inherit"})
COLORS = frozenset({"red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan"})
MAX_AGENT_CHARS = 512 * 1024  # our prompts are about 20 KB; far more is not an agent file we wrote
SERVER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class AgentSpec:
    """One subagent: its name (also the prompt's name), when to delegate to it, its MCP tools, its colour."""

    name: str
    description: str
    mcp_tools: tuple[str, ...]
    color: str


# What both agents read the repository with: the inventory, files, and the measured history and pipelines.
DISCOVERY_TOOLS = (
    "list_roots", "scan_repository", "list_pipelines", "get_pipeline", "list_tasks", "list_schedules",
    "list_infrastructure", "list_manual_procedures", "get_manual_procedure", "read_file", "search_repository",
    "git_metrics", "pipeline_metrics",
)  # fmt: skip

AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec(
        name="process-orchestrator",
        description=(
            "Maps how a repository is really built, tested, released, scheduled and operated, finds the manual work "
            "worth automating, and writes an evidence-backed automation plan, calling the orchestrator-kit MCP tools "
            "for every fact (pipelines, tasks, schedules, procedures, git and pipeline metrics, the opportunity "
            "matrix, validated automation diffs). Use it proactively when the user asks what a repository's "
            "CI/CD, release or operations processes are, what to automate, or for an automation plan. Examples: "
            '"Use the process-orchestrator to map how this repo gets released", '
            '"What should we automate in this repository?"'
        ),
        mcp_tools=(
            *DISCOVERY_TOOLS, "token_budget", "opportunity_matrix",
            "generate_automation", "validate_automation", "apply_automation", "undo_automation",
        ),
        color="blue",
    ),
    AgentSpec(
        name="workflow-orchestrator",
        description=(
            "Designs an end-to-end workflow as an explicit state machine (states, transitions, saga compensation, "
            "approvals, timeouts, recovery, monitoring, tests) from the repository's real pipelines and procedures, "
            "validates and simulates it with the orchestrator-kit MCP tools and exports a diagram, AWS Step "
            "Functions ASL or XState. Read-only: it designs, it writes no file. Use it when the user asks to design "
            "or harden a release, deployment or operations workflow. Examples: "
            '"Use the workflow-orchestrator to design a safe release workflow with rollback", '
            '"Turn our deploy runbook into a state machine with compensation"'
        ),
        mcp_tools=(
            *DISCOVERY_TOOLS, "validate_workflow_design", "simulate_workflow_failures", "render_workflow_diagram",
            "export_workflow_asl", "export_workflow_ci", "import_workflow_asl", "export_workflow_xstate",
        ),
        color="purple",
    ),
)


def agent(name: str) -> AgentSpec:
    for spec in AGENTS:
        if spec.name == name:
            return spec
    raise InputError(f"Unknown agent '{name}' (known: {', '.join(a.name for a in AGENTS)}).")


def plugin_tool_prefix(plugin: str = PLUGIN_NAME, server: str = SERVER_NAME) -> str:
    """How Claude Code names the tools of a server shipped inside a plugin: `mcp__plugin_<plugin>_<server>__`."""
    return f"mcp__plugin_{plugin}_{server}__"


def server_tool_prefix(server: str) -> str:
    """How Claude Code names the tools of a server configured as `server`: `mcp__<server>__`."""
    check_server_name(server)
    return f"mcp__{server}__"


def check_server_name(server: str) -> None:
    if not SERVER_NAME_PATTERN.fullmatch(server):
        raise InputError(
            f"Server name {server[:80]!r} is not valid: use 1-64 letters, digits, '-' or '_' "
            "(it becomes part of every tool name, mcp__<server>__<tool>)."
        )


def tool_names(spec: AgentSpec, prefix: str) -> list[str]:
    """The agent's `tools` allowlist: the built-in read tools, then its MCP tools under `prefix`."""
    return [*BUILTIN_TOOLS, *(prefix + tool for tool in spec.mcp_tools)]


def render_agent(spec: AgentSpec, prefix: str) -> str:
    """The subagent file: front matter, then the prompt exactly as the package ships it."""
    front = {
        "name": spec.name,
        "description": spec.description,
        "tools": ", ".join(tool_names(spec, prefix)),
        "model": "inherit",
        "color": spec.color,
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{header}---\n\n{prompt_text(spec.name)}"


def split_agent_file(text: str) -> tuple[dict[str, object], str]:
    """The front matter (parsed) and the body of a subagent file; InputError when it has no parseable front matter."""
    match = re.match(r"\A---\n(.*?)\n---\n\n?(.*)\Z", text, re.S)
    if match is None:
        raise InputError("The agent file does not start with a '---' front matter block.")
    try:
        front = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise InputError(f"The agent file's front matter is not valid YAML: {error}") from error
    if not isinstance(front, dict):
        raise InputError("The agent file's front matter is not a mapping.")
    return {str(k): v for k, v in front.items()}, match.group(2)


def lint_agent(text: str, *, known_tools: set[str], writing_tools: set[str], plugin: bool) -> list[str]:
    """Problems Claude Code would not report (it skips or ignores them silently), one line each; [] when clean.

    Checks: front matter parses; only known fields (and none that plugin agents may not use); `name` and
    `description` present; `model` an alias or a model id; `color` a known colour; every tool either built in or an
    MCP tool of our server under the expected naming (`known_tools` holds the full names); the workflow-orchestrator
    has no writing tool (`writing_tools`, full names, plus Write/Edit/NotebookEdit/Bash); the body is the prompt."""
    if len(text) > MAX_AGENT_CHARS:
        return [f"the agent file has {len(text)} characters, over the {MAX_AGENT_CHARS} a subagent file may have"]
    try:
        front, body = split_agent_file(text)
    except InputError as error:
        return [str(error)]
    problems = [f"unknown front-matter field '{key}'" for key in front if key not in KNOWN_FIELDS]
    if plugin:
        problems += [f"field '{key}' is ignored for plugin agents" for key in front if key in PLUGIN_FORBIDDEN_FIELDS]
    name = front.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        return [*problems, f"'name' must be lowercase letters, digits and hyphens, got {name!r}"]
    if not isinstance(front.get("description"), str) or not str(front["description"]).strip():
        problems.append("'description' is missing")
    model = front.get("model", "inherit")
    if not isinstance(model, str) or not (model in MODEL_ALIASES or re.fullmatch(r"claude-[a-z0-9.-]+", model)):
        problems.append(f"'model' must be one of {sorted(MODEL_ALIASES)} or a claude-* model id, got {model!r}")
    if "color" in front and front["color"] not in COLORS:
        problems.append(f"'color' must be one of {sorted(COLORS)}, got {front['color']!r}")
    tools = [t.strip() for t in str(front.get("tools", "")).split(",") if t.strip()]
    for tool in tools:
        if tool not in BUILTIN_TOOLS and tool not in known_tools:
            problems.append(f"tool '{tool}' is neither {'/'.join(BUILTIN_TOOLS)} nor a tool of our server")
    if name == "workflow-orchestrator":
        writing = writing_tools | {"Write", "Edit", "NotebookEdit", "Bash"}
        problems += [f"the workflow-orchestrator must not have the writing tool '{t}'" for t in tools if t in writing]
    try:
        if body != prompt_text(name):
            problems.append(f"the body differs from the package prompt '{name}' (regenerate the agent files)")
    except InputError:
        problems.append(f"no package prompt is named '{name}'")
    return problems
