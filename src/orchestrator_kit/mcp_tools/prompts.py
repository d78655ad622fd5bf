"""The agents' system prompts and report templates, as the MCP server serves them.

The canonical files are package data in `orchestrator_kit/prompts/` (so an installed package has them); the
repository's top-level `prompts/` holds identical copies for people and for `agents/` (a test keeps them equal).
Each report template also appears verbatim inside the prompt that uses it (another test checks that), so an agent
given only the prompt and a client reading the template resource see the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from ..errors import InputError

MAX_ARGUMENT_CHARS = 2000


@dataclass(frozen=True)
class PromptInfo:
    name: str
    title: str
    description: str


PROMPTS: tuple[PromptInfo, ...] = (
    PromptInfo(
        name="process-orchestrator",
        title="Process orchestrator",
        description=(
            "Map how a repository is built, tested, released and operated with this server's tools, find what is "
            "worth automating, and write an evidence-backed automation plan (every number from a tool result)."
        ),
    ),
    PromptInfo(
        name="workflow-orchestrator",
        title="Workflow orchestrator",
        description=(
            "Design a workflow as a state machine with compensation, approvals, timeouts, recovery, monitoring and "
            "tests, starting from the repository's real pipelines and procedures as this server's tools report them."
        ),
    ),
)

# Template name -> the prompt that embeds it.
TEMPLATES: dict[str, str] = {
    "process-automation-plan": "process-orchestrator",
    "orchestration-architecture": "process-orchestrator",
    "implementation-script": "process-orchestrator",
    "workflow-design": "workflow-orchestrator",
}


@cache
def prompt_text(name: str) -> str:
    """The system prompt `name` (a key of PROMPTS), read from the package."""
    if name not in {p.name for p in PROMPTS}:
        raise InputError(f"Unknown prompt '{name}'.")
    return _read(f"{name}.md")


@cache
def template_text(name: str) -> str:
    """The report template `name` (a key of TEMPLATES), read from the package."""
    if name not in TEMPLATES:
        raise InputError(f"Unknown template '{name}' (known: {', '.join(TEMPLATES)}).")
    return _read(f"templates/{name}.md")


def _read(rel: str) -> str:
    """A prompt file: the package's copy, else (a source checkout built without package data) the top-level one."""
    packaged = resources.files("orchestrator_kit").joinpath("prompts", *rel.split("/"))
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "prompts" / rel
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise InputError(f"The prompt file '{rel}' is missing from this installation (package data: prompts/).")


def render_prompt(name: str, repository: str = ".", focus: str = "") -> str:
    """The prompt with a closing section naming this session's repository and focus (the prompt's arguments)."""
    for value, what in ((repository, "repository"), (focus, "focus")):
        if len(value) > MAX_ARGUMENT_CHARS:
            raise InputError(f"The {what} argument is {len(value)} characters long; the limit is {MAX_ARGUMENT_CHARS}.")
    session = [
        "## This session",
        "",
        f"- Repository: `{repository or '.'}` (pass it as the `repository` argument of the tools; "
        "relative paths are taken from the server's first root).",
    ]
    if focus.strip():
        session.append(f"- Focus requested by the user: {focus.strip()}")
    session.append("- Start with phase 1: call `list_roots`, then `scan_repository`.")
    return prompt_text(name).rstrip("\n") + "\n\n" + "\n".join(session) + "\n"
