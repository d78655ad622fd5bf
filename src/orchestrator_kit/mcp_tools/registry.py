"""How a capability becomes an MCP tool: one decorator, with annotations, budgets and errors handled in one place.

    @registry.tool(title="Scan a repository", read_only=True)
    def scan_repository(ctx: Context, repository: Repository = ".") -> ScanSummary:
        \"\"\"What the tool does, written for a model.\"\"\"
        return inventory.scan_repository(state_of(ctx), repository, ...)

The decorator records the function with its `ToolAnnotations`; `ToolRegistry.tools(read_only=...)` gives the SDK
tools for `MCPServer(tools=...)`, leaving out the tools that write (`read_only=False`) when the server is read-only.
Each tool is wrapped so that:

* an `OrchestratorError` (bad input, confinement, unreadable file) becomes a tool error with its message, which the
  model can read and act on, instead of the SDK's generic "Error executing tool"; any other failure (a bug, an OS
  error, the call's time or memory budget running out: see `limits`) becomes a tool error naming the cause and the
  remedy, never a traceback;
* the call runs under the time budget of `limits.budgeted`;
* a pydantic result is sent as compact JSON text (what `budget` measures) plus the same data as `structuredContent`,
  described by the `outputSchema` of its model; the wrapper checks that the result is an instance of that model.

Start-up. Building a tool means generating its input and output JSON Schemas and its argument model with pydantic,
which is most of a server's start-up work. So the first server builds them live and keeps them in the user's cache
(`mcp_tools.schemas`); later servers publish the cached schemas of every tool whose signature is unchanged, and build
the argument model on the tool's first call, when they also compare the cached schemas with what the installed SDK
derives and correct both the tool and the cache if they differ (checked by content, never by a version stamp).
A tool whose result model lives in a module that is slow to import (the metrics,
automation and design tools: their models pull in the whole capability) names it by reference,
`@registry.tool(..., output="module:Model")`, with the return annotation imported under `TYPE_CHECKING` only: a
server then starts without importing those modules, and the tool body imports them on its first call.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
import typing
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from ..errors import OrchestratorError
from .limits import CallTimeout, budgeted, call_seconds, release_memory

if TYPE_CHECKING:
    from mcp.server.mcpserver.tools import Tool
    from mcp.types import ToolAnnotations

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


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
    output: str | None = None

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
        output: str | None = None,
    ) -> Callable[[F], F]:
        """Record a tool. Defaults describe a tool that only reads local files: read-only, idempotent, closed-world.

        A tool that writes must say `read_only=False` (and `destructive=True` if it can overwrite or delete):
        read-only servers leave it out, and clients use these hints to ask the user before calling it.
        `output` ("module:Model") names a result model that is too slow to import at start-up (see above).
        """
        if read_only and destructive:
            raise ValueError("A read-only tool cannot be destructive.")

        def decorator(fn: F) -> F:
            spec = ToolSpec(
                fn=fn, name=name or fn.__name__, title=title, read_only=read_only,
                destructive=destructive, idempotent=idempotent, open_world=open_world, output=output,
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
        finds the state through its Context)."""
        from . import schemas

        built: list[Tool] = []
        cache: dict[str, Any] | None = None
        fresh_inputs: dict[str, dict[str, Any]] = {}
        fresh_outputs: dict[str, dict[str, Any]] = {}
        for spec in self.specs:
            if read_only and spec.writes:
                continue
            tool = self._built.get(spec.name)
            if tool is None or getattr(tool.fn, "__wrapped__", None) is not spec.fn:
                if cache is None:
                    cache = schemas.load()
                tool = build_tool(spec, cache)
                self._built[spec.name] = tool
                if not is_lazy(tool) and not inspect.iscoroutinefunction(spec.fn):  # built live: keep its schemas
                    fresh_inputs[spec.name] = cache_entry(spec, tool)
                    ref = spec_output_ref(spec)
                    if ref is not None and tool.output_schema and ref not in cache["outputs"]:
                        fresh_outputs[ref] = tool.output_schema
            built.append(tool)
        schemas.update(fresh_inputs, fresh_outputs)
        return built


def is_lazy(tool: Tool) -> bool:
    """Whether `tool` was made from cached schemas (its argument model is built on the first call)."""
    return type(tool.fn_metadata).__name__ == "LazyArguments"


def cache_entry(spec: ToolSpec, tool: Tool) -> dict[str, Any]:
    """The cache entry of a built tool: its input schema with the signature and Context parameter it belongs to."""
    return {"signature": signature_key(spec.fn), "context": tool.context_kwarg, "parameters": tool.parameters}


def spec_output_ref(spec: ToolSpec) -> str | None:
    return output_of(spec)[0]


def build_tool(spec: ToolSpec, cache: dict[str, Any]) -> Tool:
    """The SDK tool of `spec`: from the schema cache when it has this tool with this signature, else built live."""
    from mcp.server.mcpserver.tools import Tool

    ref, model = output_of(spec)
    description = inspect.cleandoc(spec.fn.__doc__ or "")
    cached = cache.get("inputs", {}).get(spec.name)
    outputs = cache.get("outputs", {})
    if (
        cached is not None
        and cached["signature"] == signature_key(spec.fn)
        and (ref is None or ref in outputs)
        and not inspect.iscoroutinefunction(spec.fn)
    ):
        fn = _wrap(spec.fn, ref, resolve=False)  # its signature is resolved by the first call (LazyArguments)
        lazy = lazy_metadata_class()
        tool = Tool(
            fn=fn, name=spec.name, title=spec.title, description=description, parameters=cached["parameters"],
            fn_metadata=lazy(arg_model=lazy.placeholder(), output_schema=outputs.get(ref) if ref else None,
                             source=fn, skip=[cached["context"]] if cached["context"] else []),
            is_async=False, context_kwarg=cached["context"], annotations=spec.annotations(),
        )
        tool.fn_metadata.on_ready = functools.partial(verify_cached, spec, tool, ref)  # type: ignore[attr-defined]
        return tool
    fn = _wrap(spec.fn, ref)
    tool = Tool.from_function(fn, name=spec.name, title=spec.title, annotations=spec.annotations(),
                              description=description)
    if ref is not None:
        tool.fn_metadata.output_schema = outputs.get(ref) or live_output_schema(ref, model)
    return tool


def output_of(spec: ToolSpec) -> tuple[str | None, type[BaseModel] | None]:
    """(reference, model) of the tool's result model: the declared `output`, or its return annotation (the model is
    then known; None for a tool that does not return a pydantic model)."""
    if spec.output is not None:
        return spec.output, None
    model = return_model(spec.fn)
    return (model_ref(model), model) if model is not None else (None, None)


def signature_key(fn: Callable[..., Any]) -> str:
    """The signature as written (annotations unevaluated) and the module's name: what the cached input schema of a
    tool was generated from. A change to it makes the server build that tool live instead of trusting the cache."""
    return f"{fn.__module__}.{fn.__qualname__}{inspect.signature(fn)}"


def verify_cached(spec: ToolSpec, tool: Tool, ref: str | None, arg_model: type[BaseModel]) -> None:
    """On the first call of a tool made from cached schemas: compare them with what the installed SDK derives now
    (the argument model was just built; the output model is about to be imported by the tool body anyway). A
    difference, e.g. after upgrading pydantic, corrects the tool and rewrites the cache entry."""
    from . import schemas

    inputs: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    parameters = arg_model.model_json_schema(by_alias=True)
    if parameters != tool.parameters:
        tool.parameters = parameters
        inputs[spec.name] = cache_entry(spec, tool)
    if ref is not None:
        output = live_output_schema(ref)
        if output != tool.fn_metadata.output_schema:
            tool.fn_metadata.output_schema = output
            tool.__dict__.pop("output_schema", None)  # Tool.output_schema is a cached_property of that field
            outputs[ref] = output
    schemas.update(inputs, outputs)


@functools.cache
def lazy_metadata_class() -> Any:
    """A `FuncMetadata` whose argument model is built on the first call (its JSON Schema came from the cache)."""
    from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata, func_metadata
    from pydantic import Field

    class LazyArguments(FuncMetadata):
        source: Any = None
        skip: list[str] = Field(default_factory=list)
        on_ready: Any = None  # called once with the built argument model (registry.verify_cached)

        @staticmethod
        def placeholder() -> type[ArgModelBase]:
            return ArgModelBase

        def _ready(self) -> None:
            if self.arg_model is ArgModelBase:  # two first calls at once both build it: the same model, harmless
                resolve_signature(self.source)
                arg_model = func_metadata(self.source, skip_names=self.skip, structured_output=False).arg_model
                if self.on_ready is not None:
                    self.on_ready(arg_model)
                self.arg_model = arg_model

        def validate_arguments(self, arguments_to_validate: dict[str, Any]) -> dict[str, Any]:
            self._ready()
            return super().validate_arguments(arguments_to_validate)

        def pre_parse_json(self, data: dict[str, Any]) -> dict[str, Any]:
            self._ready()
            return super().pre_parse_json(data)

    return LazyArguments


def _wrap(fn: Callable[..., Any], output: str | None = None, *, resolve: bool = True) -> Callable[..., Any]:
    """The tool as the SDK calls it: same signature (via __wrapped__), errors and results translated.

    With `output`, the signature the SDK reads is the function's with its parameter annotations resolved and the
    return annotation replaced by `CallToolResult` (the named model is not imported here), and the result must be
    an instance of that model. Resolving means evaluating every annotation (a few ms a tool): with `resolve=False`
    it waits for `resolve_signature`, which a tool made from cached schemas calls before its first call."""
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import CallToolResult, TextContent

    @functools.wraps(fn)
    def tool(*args: Any, **kwargs: Any) -> Any:
        # The ToolError is raised outside the `except` blocks: chained to the original exception, it would keep
        # that exception's frames (and a failed call's memory) alive for as long as the SDK holds the error.
        message, low_memory = None, False
        try:
            result = _budgeted_call(fn, args, kwargs)
        except OrchestratorError as exc:
            message = str(exc)
        except (Exception, CallTimeout) as exc:  # every failure is a tool error with a cause and a remedy
            message, low_memory = failure_message(fn.__name__, exc), isinstance(exc, MemoryError)
        if message is not None:
            if low_memory:
                release_memory()
            raise ToolError(message)
        if output is not None and f"{type(result).__module__}:{type(result).__qualname__}" != output:
            wrong = TypeError(f"tool {fn.__name__} returned {type(result).__qualname__}, not {output}")
            raise ToolError(failure_message(fn.__name__, wrong))
        if isinstance(result, BaseModel):
            data = caveats_first(result.model_dump(mode="json"))
            return CallToolResult(
                content=[TextContent(type="text", text=json.dumps(data, ensure_ascii=False, separators=(",", ":")))],
                structured_content=data,
            )
        return result

    if output is not None:
        tool._resolve_signature = True  # type: ignore[attr-defined]
        if resolve:
            resolve_signature(tool)
    return tool


def resolve_signature(tool: Callable[..., Any]) -> None:
    """Give a wrapped tool (`_wrap` with `output`) the signature the SDK reads: the function's parameters with
    their annotations evaluated, and `CallToolResult` as the return annotation. Once; a no-op for anything else."""
    if not getattr(tool, "_resolve_signature", False):
        return
    from mcp.types import CallToolResult

    fn = tool.__wrapped__  # type: ignore[attr-defined]
    hints = parameter_hints(fn)
    signature = inspect.signature(fn)
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    tool.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=CallToolResult
    )
    tool.__annotations__ = {**hints, "return": CallToolResult}
    tool._resolve_signature = False  # type: ignore[attr-defined]


# Keys a model must read before the bulk, in this order: a non-null `next_cursor` says the result is incomplete,
# `partial` and its reasons say the numbers miss something, `diagnostics` what could not be read, `coverage` what
# the scan did not look at, `detail` what this page leaves out until asked (detail levels, continuation pages).
CAVEATS = ("next_cursor", "partial", "partial_reasons", "diagnostics", "coverage", "detail")


def caveats_first(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the CAVEATS keys it has moved to the front: the JSON text starts with them. Same keys, same size,
    so the budget `render` measured still holds."""
    front = {key: data[key] for key in CAVEATS if key in data}
    return {**front, **{key: value for key, value in data.items() if key not in front}} if front else data


def _budgeted_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`fn(*args, **kwargs)` under the call time budget (see `limits`). Separate from the wrapper so that a
    CallTimeout landing while the budget is being released is still caught there."""
    with budgeted(call_seconds()):
        return fn(*args, **kwargs)


def failure_message(name: str, exc: BaseException) -> str:
    """The tool error for an unexpected failure: what happened and what to do, without the exception's own text
    (which may hold paths or content from outside the roots). The traceback goes to the debug log only."""
    import subprocess

    log.debug("tool %s failed", name, exc_info=exc)
    if isinstance(exc, CallTimeout):
        return (f"{name} was stopped after its time budget of {call_seconds():g} s. Narrow the request (a smaller "
                "repository folder, a filter, fewer items) and call again; the server goes on serving.")
    if isinstance(exc, MemoryError):
        return (f"{name} needed more memory than the server's budget allows and was stopped. Narrow the request "
                "(a smaller folder, a filter, a simpler pattern) and call again; the server goes on serving.")
    if isinstance(exc, RecursionError):
        return f"{name} stopped: the input is nested too deeply to process. Flatten or shorten it and call again."
    if isinstance(exc, subprocess.TimeoutExpired):
        return (f"{name} stopped: an external program it ran took longer than {exc.timeout:g} s. Call again on "
                "fewer files.")
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        return f"{name} failed on a file system or process error ({reason}). Check the files involved and call again."
    return (f"{name} failed with an internal error ({type(exc).__name__}); this is a bug in orchestrator-kit, not in "
            "your arguments. Call again with different arguments, or report it with the server's debug log.")


def parameter_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The evaluated annotations of `fn`'s parameters, leaving out its return annotation (which may name a type
    imported only for type checkers)."""
    annotations = {k: v for k, v in getattr(fn, "__annotations__", {}).items() if k != "return"}
    holder = SimpleNamespace(__annotations__=annotations, __globals__=getattr(fn, "__globals__", {}))
    return typing.get_type_hints(holder, include_extras=True)


def model_ref(model: type[BaseModel]) -> str:
    return f"{model.__module__}:{model.__qualname__}"


def return_model(fn: Callable[..., Any]) -> type[BaseModel] | None:
    """The pydantic model `fn` is annotated to return, when its annotation can be evaluated now; else None."""
    annotation = getattr(fn, "__annotations__", {}).get("return")
    holder = SimpleNamespace(__annotations__={"return": annotation}, __globals__=getattr(fn, "__globals__", {}))
    try:
        resolved = typing.get_type_hints(holder)["return"]
    except NameError:
        return None
    return resolved if isinstance(resolved, type) and issubclass(resolved, BaseModel) else None


def resolve_output(ref: str) -> type[BaseModel]:
    """The model a "package.module:Model" reference names (imports the module)."""
    module, _, name = ref.partition(":")
    model = getattr(importlib.import_module(module), name, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{ref} is not a pydantic model")
    return model


def live_output_schema(ref: str, model: type[BaseModel] | None = None) -> dict[str, Any]:
    """The outputSchema the SDK itself derives for a tool returning `model` (or the model `ref` names)."""
    from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata

    schema = FuncMetadata(arg_model=ArgModelBase, output_model=model or resolve_output(ref)).output_schema
    return schema or {}  # a pydantic model always has one
