"""The server object and what it serves besides tools: the agents as prompts, and resources (report templates, the
last scan of each root, the workflow design schema, rules and examples). `server.build_server` installs them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any, get_args

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import Field, validate_call

from ..errors import OrchestratorError
from . import prompts
from .state import ServerState

DESIGN_SCHEMA_URI = "orchestrator-kit://schemas/workflow-design-v1.json"
DESIGN_EXAMPLES_URI = "orchestrator-kit://designs/{name}"


class OrchestratorServer(MCPServer):
    """An MCPServer that carries the state its tools share (roots, scan cache, read-only flag)."""

    def __init__(self, state: ServerState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        """As MCPServer's, but an unknown prompt or bad arguments are JSON-RPC "invalid params" errors with their
        message (the SDK reports them as an anonymous internal error)."""
        known = [p.name for p in await self.list_prompts()]
        if name not in known:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt '{name}' (known: {', '.join(known)}).")
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None


PromptRepository = Annotated[
    str, Field(description="The repository to work on (a root or a folder inside one); default: the first root.")
]
PromptFocus = Annotated[str, Field(description="What to concentrate on, e.g. 'releases' or 'the nightly backup'.")]


def _prompt_function(name: str) -> Any:
    """The function behind one MCP prompt: its parameters are the prompt's arguments."""

    def render(repository: PromptRepository = ".", focus: PromptFocus = "") -> str:
        try:
            return prompts.render_prompt(name, repository, focus)
        except OrchestratorError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None

    render.__name__ = name.replace("-", "_")
    return render


def install_prompts(server: MCPServer) -> None:
    """One MCP prompt per agent (prompts.PROMPTS), with `repository` and `focus` arguments.

    The prompts are what `server.prompt(...)` would make (`Prompt.from_function`: arguments from the function's
    signature, the function under pydantic's `validate_call`), built without generating a JSON Schema at start-up:
    the arguments are read from the annotations, and the validating wrapper is made on the first render."""
    from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument

    arguments = [
        PromptArgument(name=name, description=_field_description(annotation), required=False)
        for name, annotation in (("repository", PromptRepository), ("focus", PromptFocus))
    ]
    for info in prompts.PROMPTS:
        server.add_prompt(Prompt(name=info.name, title=info.title, description=info.description,
                                 arguments=arguments, fn=_validated_on_first_call(_prompt_function(info.name))))


def _field_description(annotation: Any) -> str | None:
    """The `Field(description=...)` of an `Annotated[type, Field(...)]`."""
    return next((m.description for m in get_args(annotation)[1:] if hasattr(m, "description")), None)


def _validated_on_first_call(fn: Callable[..., str]) -> Callable[..., str]:
    """`validate_call(fn)`, built when first called (it costs a schema) rather than when the server starts."""
    validated: list[Callable[..., str]] = []

    @functools.wraps(fn)
    def call(**arguments: Any) -> str:
        if not validated:
            validated.append(validate_call(fn))
        return validated[0](**arguments)

    return call


def install_resources(server: OrchestratorServer) -> None:
    """Report templates, the last scan of each root, and the workflow design schema, rules and examples."""
    for name in prompts.TEMPLATES:
        server.resource(
            f"template://{name}", name=name, title=f"Report template: {name}", mime_type="text/markdown",
            description="A report template of the orchestrator agents (placeholders in brackets).",
        )(_constant(prompts.template_text, name))

    def inventory_of(root: str) -> str:
        state = server.state
        try:
            found = state.roots.by_name(root)
        except OrchestratorError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        try:
            scan = state.cache.get(found.path)
        except OrchestratorError as exc:
            raise ResourceError(str(exc)) from None
        return scan.inventory.model_dump_json()

    server.resource(
        "scan://{root}/inventory", name="inventory", title="Last scan of a root", mime_type="application/json",
        description="The full inventory of a root (by its name from list_roots) as JSON, from the scan cache; "
        "scanned on first read. Not budgeted: prefer the tools for large repositories.",
    )(inventory_of)
    for root in server.state.roots.roots:
        server.resource(
            f"scan://{root.name}/inventory", name=f"inventory-{root.name}", title=f"Last scan of {root.name}",
            mime_type="application/json", description=f"The inventory of the root {root.path} as JSON.",
        )(_constant(inventory_of, root.name))
    _install_design_resources(server)


def _example_names() -> list[str]:
    """The shipped example designs (package data; listed without importing the design package), valid ones
    before their broken twins."""
    folder = resources.files("orchestrator_kit").joinpath("design", "examples")
    try:
        names = [e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml")]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(names, key=lambda n: (n.removesuffix(".broken"), n.endswith(".broken")))


def _design_text(what: str, name: str = "") -> str:
    from . import design as design_tools

    try:
        if what == "schema":
            return design_tools.schema_text()
        if what == "rules":
            return design_tools.rules_text()
        return design_tools.example_text(name)
    except OrchestratorError as exc:
        raise ResourceError(str(exc)) from None


def _install_design_resources(server: MCPServer) -> None:
    server.resource(
        DESIGN_SCHEMA_URI, name="workflow-design-schema", title="JSON Schema of a workflow design",
        mime_type="application/schema+json",
        description="The JSON Schema (draft 2020-12) of the WorkflowDesign that validate_workflow_design, "
        "simulate_workflow_failures, render_workflow_diagram and the exports take: states (task, human_task, choice, "
        "wait, parallel, map: a step repeated over a set of items with its own failure policy, succeed, fail), "
        "transitions, retries, timeouts, idempotency, side effects and compensations, sagas, human tasks, metrics and "
        "alerts.",
    )(_constant(_design_text, "schema"))
    server.resource(
        "orchestrator-kit://designs/rules", name="workflow-design-rules", title="Workflow design rules",
        mime_type="application/json",
        description="Every rule validate_workflow_design checks: id, default severity, what it checks.",
    )(_constant(_design_text, "rules"))
    for name in _example_names():
        broken = name.endswith(".broken")
        server.resource(
            DESIGN_EXAMPLES_URI.format(name=name), name=f"design-example-{name}",
            title=f"Example design: {name}", mime_type="application/yaml",
            description=(f"A broken twin of {name.removesuffix('.broken')}: what the validator catches."
                         if broken else "A valid example workflow design (YAML) to start from."),
        )(_constant(lambda n: _design_text("example", n), name))


def _constant(fn: Any, argument: str) -> Any:
    """A no-argument function reading `fn(argument)`, for a static resource (the SDK allows no parameters there)."""

    def read() -> str:
        return str(fn(argument))

    read.__name__ = f"read_{argument.replace('-', '_')}"
    return read
