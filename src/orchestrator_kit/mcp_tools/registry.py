"""How a capability becomes an MCP tool: one decorator, with annotations, budgets and errors handled in one place.

    @registry.tool(title="Scan a repository", read_only=True)
    def scan_repository(ctx: Context, repository: Repository = ".") -> ScanSummary:
        \"\"\"What the tool does, written for a model.\"\"\"
        return inventory.scan_repository(state_of(ctx), repository, ...)

The decorator records the function with its `ToolAnnotations`; `ToolRegistry.tools(read_only=...)` gives the SDK
tools for `MCPServer(tools=...)`, leaving out the tools that write (`read_only=False`) when the server is read-only.
Each tool is wrapped so that:

* an `OrchestratorError` (bad input, confinement, unreadable file) becomes a tool error with its message, which the
  model can read and act on, instead of the SDK's generic "Error executing tool";
* a pydantic result is sent as compact JSON text (what `budget` measures) plus the same data as `structuredContent`;
  the SDK derives the `outputSchema` from the return annotation and checks the structured content against it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from ..errors import OrchestratorError
from .budget import render

if TYPE_CHECKING:
    from mcp.server.mcpserver.tools import Tool
    from mcp.types import ToolAnnotations

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: the function, its name and title, and what it may do (as MCP annotations)."""

    fn: Callable[..., Any]
    name: str
    title: str
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool

    @property
    def writes(self) -> bool:
        return not self.read_only

    def annotations(self) -> ToolAnnotations:
        from mcp.types import ToolAnnotations

        return ToolAnnotations(
            title=self.title,
            read_only_hint=self.read_only,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=self.open_world,
        )


class ToolRegistry:
    """An ordered collection of tool specs; `server.py` holds the one the product uses."""

    def __init__(self, specs: list[ToolSpec] | None = None) -> None:
        self.specs: list[ToolSpec] = list(specs or [])
        self._built: dict[str, Tool] = {}

    def tool(
        self,
        *,
        title: str,
        read_only: bool = True,
        destructive: bool = False,
        idempotent: bool = True,
        open_world: bool = False,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Record a tool. Defaults describe a tool that only reads local files: read-only, idempotent, closed-world.

        A tool that writes must say `read_only=False` (and `destructive=True` if it can overwrite or delete):
        read-only servers leave it out, and clients use these hints to ask the user before calling it.
        """
        if read_only and destructive:
            raise ValueError("A read-only tool cannot be destructive.")

        def decorator(fn: F) -> F:
            spec = ToolSpec(
                fn=fn, name=name or fn.__name__, title=title, read_only=read_only,
                destructive=destructive, idempotent=idempotent, open_world=open_world,
            )
            if any(s.name == spec.name for s in self.specs):
                raise ValueError(f"Tool '{spec.name}' is registered twice.")
            self.specs.append(spec)
            return fn

        return decorator

    def names(self, *, read_only: bool = False) -> list[str]:
        return [s.name for s in self.specs if not (read_only and s.writes)]

    def tools(self, *, read_only: bool) -> list[Tool]:
        """The SDK `Tool` objects (without the writing ones when `read_only`), for `MCPServer(tools=...)`.

        Built once per spec and shared by every server made from this registry: a tool holds no server state (it
        finds the state through its Context), and building one generates its input and output JSON schemas, which
        is most of a server's start-up work."""
        from mcp.server.mcpserver.tools import Tool

        built: list[Tool] = []
        for spec in self.specs:
            if read_only and spec.writes:
                continue
            tool = self._built.get(spec.name)
            if tool is None or tool.fn.__wrapped__ is not spec.fn:
                tool = Tool.from_function(
                    _wrap(spec.fn), name=spec.name, title=spec.title, annotations=spec.annotations(),
                    description=inspect.cleandoc(spec.fn.__doc__ or ""),
                )
                self._built[spec.name] = tool
            built.append(tool)
        return built


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The tool as the SDK calls it: same signature (via __wrapped__), errors and results translated."""
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import CallToolResult, TextContent

    @functools.wraps(fn)
    def tool(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except OrchestratorError as exc:
            raise ToolError(str(exc)) from None
        if isinstance(result, BaseModel):
            return CallToolResult(
                content=[TextContent(type="text", text=render(result))],
                structured_content=result.model_dump(mode="json"),
            )
        return result

    return tool
