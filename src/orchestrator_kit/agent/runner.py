"""The headless runner: Claude works through an agent's phases with our MCP server's tools, checkpointed and budgeted.

Real parts only, wired as their libraries intend:

* our MCP server runs as a subprocess (`python -m orchestrator_kit mcp --root PATH`, `--read-only` unless writes are
  allowed), reached with the `mcp` client over stdio;
* its tools go to the anthropic SDK's tool runner through the SDK's MCP helper (`anthropic.lib.tools.mcp.
  async_mcp_tool`): the SDK runs the tool loop, turns a tool error into an `is_error` result, and retries 408/409/429/
  5xx/529 with backoff (`max_retries`); nothing here parses SSE or loops over tool calls by hand;
* `thread=False`: every request carries the whole conversation, so a resumed run never depends on a server-side
  thread that may be gone; the system prompt (the agent's prompt, the same text Claude Code gets) and the last tool
  carry `cache_control`, so each turn reads them from the prompt cache.

This module adds what only the runner can: the stages of `phases` (one tool-runner loop per stage), a checkpoint
after every turn (`store`), budgets checked between turns (`budget`), a guard that never applies a reviewed plan twice
(the Writer's audit log, by plan hash), and the report: parsed into the templates, checked for grounding, revised
once when claims fail, saved as Markdown and JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, Field, computed_field

from ..errors import InputError, OrchestratorError
from ..usercache import write_atomically
from .budget import BudgetStop, Limits, exceeded
from .grounding import GroundingResult, check_grounding, revision_request
from .interrupt import signals_wake_the_loop
from .phases import DONE, PHASES, REPORT, REVISION, RunStatus, check_agent, kickoff, next_stage
from .report import AgentReport, parse_report, render_markdown
from .settings import DEFAULT_MAX_TOKENS, KEY_ENV, Usage, price_table, resolve_model, usage_of
from .store import Message, RunState, RunStore, new_run_id, tool_result_texts

if TYPE_CHECKING:
    import httpx2
    from anthropic import AsyncAnthropic
    from anthropic.lib.tools import BetaAsyncFunctionTool, BetaFunctionToolResultType
    from anthropic.types.beta import BetaCacheControlEphemeralParam, BetaMessage, BetaMessageParam, BetaTextBlockParam
    from mcp.client.session import ClientSession

CACHE: BetaCacheControlEphemeralParam = {"type": "ephemeral"}
WRITING_TOOL = "apply_automation"
DEFAULT_MAX_RETRIES = 4
MAX_TASK_CHARS = 20_000
ToolCall = Callable[..., Coroutine[Any, Any, "BetaFunctionToolResultType"]]


class MissingKeyError(OrchestratorError):
    """No API key: nothing was started."""


class Observer:
    """What the live view is told; the default observer shows nothing (--quiet, tests, evals)."""

    def stage(self, state: RunState) -> None: ...
    def tool(self, name: str) -> None: ...
    def turn(self, state: RunState, text: str, tools: list[str]) -> None: ...


@dataclass
class RunOptions:
    """One run (or the resumption of one). `base_dir` holds `.orchestrator-kit/runs/` (default: the working
    directory); `output` is where the report is saved (default: the run's folder)."""

    agent: str
    repository: Path
    task: str | None = None
    model: str | None = None
    limits: Limits = field(default_factory=Limits)
    allow_writes: bool = False
    resume: str | None = None
    output: Path | None = None
    base_dir: Path | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_retries: int = DEFAULT_MAX_RETRIES
    observer: Observer = field(default_factory=Observer)


class RunResult(BaseModel):
    """How a run ended, what it used, and where its files are."""

    run_id: str
    agent: str
    status: RunStatus
    stage: str
    turns: int
    usage: Usage
    cost_note: str = Field(description="The estimate's basis: the price table's date.")
    stopped_by: BudgetStop | None = None
    error: str | None = None
    grounded: bool | None = None
    claims: int | None = None
    unsupported: int | None = None
    report_markdown: str | None = None
    report_json: str | None = None
    run_dir: str
    resume_command: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exit_code(self) -> int:
        """0 a grounded report; 1 a report saved ungrounded or partial (a budget stopped the run); 2 an API error;
        130 interrupted."""
        if self.status == "done":
            return 0 if self.grounded else 1
        return {"stopped": 1, "interrupted": 130}.get(self.status, 2)


# ---------------------------------------------------------------- the entry point


def run_agent(options: RunOptions) -> RunResult:
    """Run `options.agent` on `options.repository` (or resume `options.resume`) and return how it ended.

    Raises MissingKeyError (no ANTHROPIC_API_KEY) and InputError (bad arguments) before anything starts."""
    if not (os.environ.get(KEY_ENV) or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        raise MissingKeyError(f"{KEY_ENV} is not set: export your Anthropic API key as {KEY_ENV} "
                              "(the endpoint comes from ANTHROPIC_BASE_URL when set). Nothing was started.")
    store, state = _start(options)
    try:
        asyncio.run(Run(store, state, options).drive())
    except KeyboardInterrupt:
        _mark(store, "interrupted", None)
    except OrchestratorError:
        raise
    except Exception as exc:  # an API error after the SDK's retries, or the MCP server gone: keep the checkpoint
        if os.environ.get("ORCHESTRATOR_KIT_DEBUG"):
            raise
        _mark(store, "failed", _describe(exc))
    finally:
        store.unlock()
    return _result(store)


async def run_agent_async(options: RunOptions, *, api_key: str | None = None,
                          http_client: httpx2.AsyncClient | None = None) -> RunResult:
    """The same run, awaited in the caller's event loop, with the SDK client's `api_key` and `http_client` given.
    The evals pass an `http_client` whose transport hands each Messages request to inspect-ai's model API (in this
    loop), so no request leaves the process and `api_key` is a placeholder. Raises InputError before anything
    starts."""
    store, state = _start(options)
    try:
        await Run(store, state, options, api_key=api_key, http_client=http_client).drive()
    except OrchestratorError:
        raise
    except Exception as exc:  # as in run_agent: keep the checkpoint, say what failed
        if os.environ.get("ORCHESTRATOR_KIT_DEBUG"):
            raise
        _mark(store, "failed", _describe(exc))
    finally:
        store.unlock()
    return _result(store)


def _start(options: RunOptions) -> tuple[RunStore, RunState]:
    """Check the options and open (or resume) the run's store: nothing is started when they are bad."""
    agent = check_agent(options.agent)
    if options.task is not None and len(options.task) > MAX_TASK_CHARS:
        raise InputError(f"--task is {len(options.task):,} characters; at most {MAX_TASK_CHARS:,}.")
    repository = options.repository.expanduser().resolve()
    if not repository.is_dir():
        raise InputError(f"'{options.repository}' is not a folder.")
    model = resolve_model(options.model)
    if options.limits.max_cost_usd is not None and price_table().price(model) is None:
        raise InputError(f"No price is known for the model '{model}', so --max-cost-usd cannot be enforced; "
                         "use --max-tokens-total instead.")
    base = (options.base_dir or Path.cwd()).resolve()
    for folder, use in ((base, "for the runs"), (options.output, "for the report")):
        try:
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"Cannot use '{folder}' {use}: {exc.strerror or exc}") from None
    if options.resume:
        store, state = RunStore.open(base, options.resume)
        problem = None
        if state.agent != agent or Path(state.repository) != repository:
            problem = (f"Run {state.run_id} is a {state.agent} run on {state.repository}; resume it with the same "
                       "agent and repository.")
        elif state.status == "done":
            problem = f"Run {state.run_id} is done already; its report is in {', '.join(state.report_files)}."
        if problem is not None:
            store.unlock()
            raise InputError(problem)
        state.status, state.error, state.stopped_by = "running", None, None
        state.limits = options.limits if options.limits != Limits() else state.limits
        store.append("resumed", turn=state.turn, stage=state.stage)
        store.checkpoint(state)
    else:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        state = RunState(run_id=new_run_id(), agent=agent, repository=str(repository), task=options.task,
                         model=model, allow_writes=options.allow_writes, limits=options.limits,
                         stage=PHASES[agent][0].name, started_at=now, updated_at=now)
        store = RunStore.create(base, state)
        store.append("run", agent=agent, repository=str(repository), task=options.task, model=model,
                     allow_writes=options.allow_writes, limits=options.limits.model_dump())
        store.checkpoint(state)
    return store, state


def _mark(store: RunStore, status: RunStatus, error: str | None) -> None:
    """Record how the run ended on the last checkpoint (not on a turn cut short: that one is redone on resume)."""
    state = store.load_state()
    state.status, state.error = status, error
    seq = state.seq
    store.append("stop", status=status, error=error)
    store.seq = seq  # the event is informative; the checkpoint still ends at the last complete turn
    store.checkpoint(state)


def _result(store: RunStore) -> RunResult:
    state = store.load_state()
    grounding = _saved_grounding(state)
    resume = None
    if state.status in ("stopped", "interrupted", "failed"):
        resume = f"orchestrator-kit run {state.agent} {state.repository} --resume {state.run_id}"
    files = state.report_files
    return RunResult(
        run_id=state.run_id, agent=state.agent, status=state.status, stage=state.stage, turns=state.turn,
        usage=state.usage, cost_note=f"estimate, prices as of {price_table().as_of}", stopped_by=state.stopped_by,
        error=state.error, grounded=grounding.grounded if grounding else None,
        claims=grounding.claims if grounding else None, unsupported=grounding.unsupported if grounding else None,
        report_markdown=next((f for f in files if f.endswith(".md")), None),
        report_json=next((f for f in files if f.endswith(".json")), None), run_dir=str(store.dir),
        resume_command=resume,
    )


def _saved_grounding(state: RunState) -> GroundingResult | None:
    for name in state.report_files:
        if name.endswith(".json") and Path(name).is_file():
            return AgentReport.model_validate_json(Path(name).read_bytes()).grounding
    return None


# ---------------------------------------------------------------- one run


class Run:
    """The state of one process running one run: the store, the state, the conversation, the clients."""

    def __init__(self, store: RunStore, state: RunState, options: RunOptions, *, api_key: str | None = None,
                 http_client: httpx2.AsyncClient | None = None) -> None:
        self.store, self.state, self.options = store, state, options
        self.api_key, self.http_client = api_key, http_client
        self.view = options.observer
        self.messages: list[Message] = store.messages()
        self.system: list[BetaTextBlockParam] = [{"type": "text", "text": _prompt(state.agent), "cache_control": CACHE}]

    async def drive(self) -> None:
        from anthropic import AsyncAnthropic

        async with AsyncExitStack() as stack:
            stack.enter_context(signals_wake_the_loop(asyncio.get_running_loop()))  # Ctrl-C in any thread
            session = await self._connect(stack)
            tools = await self._tools(session)
            # What every request of this process sends besides the conversation (the turns record the rest).
            self.store.append("session", tools=[tool.name for tool in tools], read_only=not self.state.allow_writes,
                              system_sha256=hashlib.sha256(self.system[0]["text"].encode()).hexdigest(),
                              model=self.state.model, max_tokens=self.options.max_tokens, thread=False)
            client = AsyncAnthropic(max_retries=self.options.max_retries, api_key=self.api_key,
                                    http_client=self.http_client)
            stack.push_async_callback(client.close)
            while self.state.stage != DONE:
                stop = exceeded(self.state.limits, self.state.turn, self.state.usage)
                if stop is None:
                    self.view.stage(self.state)
                    if not self.state.kicked_off:
                        self._kickoff()
                if stop is not None or not await self._stage(client, tools):
                    self._stop(stop or exceeded(self.state.limits, self.state.turn, self.state.usage))
                    return
                self._finish_stage()
            self._save_report()

    # ------------------------------------------------------------ MCP

    async def _connect(self, stack: AsyncExitStack) -> ClientSession:
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client

        args = ["-m", "orchestrator_kit", "mcp", "--root", self.state.repository]
        if not self.state.allow_writes:
            args.append("--read-only")
        errlog = stack.enter_context((self.store.dir / "mcp-server.log").open("a", encoding="utf-8"))
        params = StdioServerParameters(command=sys.executable, args=args, env=server_environment())
        client = await stack.enter_async_context(Client(stdio_client(params, errlog=errlog)))
        return client.session

    async def _tools(self, session: ClientSession) -> list[BetaAsyncFunctionTool[Any]]:
        from anthropic.lib.tools import BetaAsyncFunctionTool
        from anthropic.lib.tools.mcp import async_mcp_tool
        from mcp.types import PaginatedRequestParams

        listed = []
        cursor: str | None = None
        while True:
            page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        tools = []
        for index, tool in enumerate(listed):
            bridged = async_mcp_tool(tool, session)
            tools.append(BetaAsyncFunctionTool(
                self._hooked(tool.name, bridged.func), name=bridged.name, description=bridged.description,
                input_schema=bridged.input_schema, cache_control=CACHE if index == len(listed) - 1 else None,
            ))
        return tools

    def _hooked(self, name: str, call: ToolCall) -> ToolCall:
        """The MCP call, told to the live view; a plan that the audit log shows applied is not applied again."""

        # Annotated with names pydantic can resolve at run time: the SDK validates calls with validate_call.
        async def hooked(**arguments: Any) -> Any:
            self.view.tool(name)
            if name == WRITING_TOOL:
                applied = already_applied(Path(self.state.repository), arguments)
                if applied is not None:
                    return applied
            return await call(**arguments)

        hooked.__name__ = name
        return hooked

    # ------------------------------------------------------------ stages and turns

    def _kickoff(self) -> None:
        state = self.state
        if state.stage == REVISION:
            result = check_grounding(state.report_text or "", tool_result_texts(self.store.transcript))
            text = revision_request(result)
        else:
            text = kickoff(state.agent, state.stage, repository=state.repository, task=state.task,
                           allow_writes=state.allow_writes)
        message: Message = {"role": "user", "content": text}
        self.store.append("user", stage=state.stage, message=message)
        self.messages.append(message)
        state.kicked_off = True
        self.store.checkpoint(state)

    async def _stage(self, client: AsyncAnthropic, tools: list[BetaAsyncFunctionTool[Any]]) -> bool:
        """Run the tool loop until the model answers without a tool call (True) or a budget is reached (False)."""
        runner = client.beta.messages.tool_runner(
            model=self.state.model, max_tokens=self.options.max_tokens, system=self.system, tools=tools,
            messages=cast("list[BetaMessageParam]", list(self.messages)), thread=False,
        )
        async for message in runner:
            # Only a turn that stopped to call tools has calls to run (the SDK's rule too: a turn cut short by
            # max_tokens ends the loop, and its tool_use blocks are never run).
            results = await runner.generate_tool_call_response() if message.stop_reason == "tool_use" else None
            self._record(message, dict(results) if results else None)
            if results is None:
                continue  # the stage's last answer: the runner ends its loop by itself
            self.store.checkpoint(self.state)
            if exceeded(self.state.limits, self.state.turn, self.state.usage) is not None:
                await runner.close()
                return False
        return True

    def _record(self, message: BetaMessage, results: Message | None) -> None:
        state = self.state
        usage = usage_of(message.usage, state.model)
        response_message: Message = {"role": "assistant", "content": [
            block.model_dump(mode="json", exclude_none=True, exclude={"parsed_output"}) for block in message.content]}
        text = "\n".join(block.text for block in message.content if block.type == "text").strip()
        outputs = {str(block.get("tool_use_id")): block for block in (results or {}).get("content", [])}
        calls = [
            {"id": block.id, "name": block.name, "input": block.input,
             "result": _result_text(outputs.get(block.id, {}).get("content")),
             "is_error": bool(outputs.get(block.id, {}).get("is_error", False))}
            for block in message.content if block.type == "tool_use"
        ]
        state.turn += 1
        self.store.append(
            "turn", turn=state.turn, stage=state.stage,
            request={"model": state.model, "max_tokens": self.options.max_tokens, "messages": len(self.messages),
                     "tools": True, "thread": False},
            response={"id": message.id, "model": message.model, "stop_reason": message.stop_reason},
            response_message=response_message, tool_calls=calls, tool_results=results, usage=usage,
        )
        self.messages.append(response_message)
        if results is not None:
            self.messages.append(results)
        state.usage = state.usage.plus(usage)
        if text:
            state.last_text = text
        self.view.turn(state, text, [block.name for block in message.content if block.type == "tool_use"])

    def _finish_stage(self) -> None:
        """The model answered without a tool call: the stage is done. Check a report; move to the next stage."""
        state = self.state
        grounded: bool | None = None
        if state.stage in (REPORT, REVISION):
            state.report_text = state.last_text or ""
            result = check_grounding(state.report_text, tool_result_texts(self.store.transcript))
            self.store.append("grounding", stage=state.stage, claims=result.claims, supported=result.supported,
                              labelled=result.labelled, unsupported=result.unsupported,
                              offending=result.offending_sentences)
            grounded = result.grounded
            if state.stage == REVISION:
                state.revised = True
        following = next_stage(state.agent, state.stage, grounded=grounded, revised=state.revised)
        self.store.append("stage", previous=state.stage, next=following)
        state.stage, state.kicked_off = following, False
        self.store.checkpoint(state)

    def _stop(self, stop: BudgetStop | None) -> None:
        state = self.state
        state.status, state.stopped_by = "stopped", stop
        self.store.append("stop", status="stopped", budget=stop.model_dump() if stop else None)
        self._save_report(partial=True)

    # ------------------------------------------------------------ the report

    def _save_report(self, *, partial: bool = False) -> None:
        state = self.state
        text = (state.report_text if not partial else None) or state.last_text or "(The model gave no answer yet.)"
        stopped = state.stopped_by.describe() if state.stopped_by else None
        report = parse_report(text, agent=state.agent, run_id=state.run_id, model=state.model,
                              status="partial" if partial else "complete", stopped_by=stopped)
        report.grounding = check_grounding(text, tool_result_texts(self.store.transcript))
        report.revised = state.revised
        folder = self.options.output or self.store.dir
        folder.mkdir(parents=True, exist_ok=True)
        name = "report.partial" if partial else "report"
        markdown, data = folder / f"{name}.md", folder / f"{name}.json"
        write_atomically(markdown, render_markdown(report))
        write_atomically(data, report.model_dump_json(indent=2))
        state.report_files = [str(markdown), str(data)]
        if not partial:
            state.status = "done"
        self.store.append("report", files=state.report_files, partial=partial, grounded=report.grounding.grounded)
        self.store.checkpoint(state)


# ---------------------------------------------------------------- helpers


def server_environment() -> dict[str, str]:
    """What the MCP server inherits beyond the mcp client's safe defaults (PATH, HOME, ...): our own settings
    (ORCHESTRATOR_KIT_*: the audit key's folder, the cache) and the XDG folders they default to, so that the server
    signs audit entries with the key the runner verifies them with. Never the API key: the server needs none."""
    wanted = ("ORCHESTRATOR_KIT_", "XDG_")
    return {key: value for key, value in os.environ.items() if key.startswith(wanted) or key in ("LANG", "LC_ALL")}


def _describe(exc: BaseException) -> str:
    """One line for an error, the first real cause of an exception group (anyio wraps task errors in them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def _prompt(agent: str) -> str:
    from ..mcp_tools.prompts import prompt_text

    return prompt_text(agent)


def _result_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def already_applied(root: Path, arguments: dict[str, Any]) -> str | None:
    """When the audit log of the repository shows the plan `arguments["plan_hash"]` applied (and not undone), the
    tool result to give instead of applying it again: a run killed after an apply and resumed must not write twice.
    None when the plan was not applied (or the folder cannot be told): the server then decides."""
    from ..automation import Writer

    plan_hash = arguments.get("plan_hash")
    repository = str(arguments.get("repository") or ".")
    if not isinstance(plan_hash, str) or not plan_hash:
        return None
    folder = Path(repository) if Path(repository).is_absolute() else root / repository
    try:
        if not folder.resolve().is_relative_to(root.resolve()):
            return None
        entries, _ignored = Writer(folder).verified_entries()  # a committed log proves nothing
    except (OrchestratorError, OSError):
        return None
    undone = {e.get("undoes") for e in entries if e.get("op") == "undo"}
    applied = [e for e in entries if e.get("op") == "apply" and e.get("plan_hash") == plan_hash
               and e.get("id") not in undone]
    if not applied:
        return None
    return json.dumps({
        "already_applied": True, "plan_hash": plan_hash, "audit_log": str(folder / ".orchestrator-kit/audit.jsonl"),
        "applied": [{"entry": e.get("id"), "path": e.get("path"), "action": e.get("action"),
                     "new_sha256": e.get("new_sha256"), "time": e.get("time")} for e in applied],
        "note": "This plan was applied before (see the audit log); nothing was written again.",
    })

