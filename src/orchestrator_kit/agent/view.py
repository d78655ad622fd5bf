"""The live view of a run (rich, on stderr): stage, turn, the tool being called, tokens and the estimated cost."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..terminal import printable, safe_console
from .runner import Observer
from .settings import price_table
from .store import RunState


class LiveView(Observer):
    """A small table redrawn in place while the run goes on; each finished turn is printed above it."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or safe_console(stderr=True)
        self.state: RunState | None = None
        self.current_tool = ""
        self.live = Live(self._table(), console=self.console, transient=True, refresh_per_second=8)

    def __enter__(self) -> LiveView:
        self.live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.live.stop()

    def stage(self, state: RunState) -> None:
        self.state = state
        self.console.print(f"[bold]{state.agent}[/] stage [cyan]{state.stage}[/] (turn {state.turn})")
        self.live.update(self._table())

    def tool(self, name: str) -> None:
        self.current_tool = name
        self.live.update(self._table())

    def turn(self, state: RunState, text: str, tools: list[str]) -> None:
        self.state = state
        first = text.splitlines()[0][:100] if text else ""
        line = f"  turn {state.turn}:" + (f" {escape(first)}" if first else "")
        # The tool names are the model's own text (a tool_use block may name anything): markup in them, such as
        # [link=URL], would become a hyperlink escape sequence, so they are escaped like the answer.
        self.console.print(line + (f" [dim]-> {escape(', '.join(tools))}[/]" if tools else ""))
        self.current_tool = ""
        self.live.update(self._table())

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        state = self.state
        if state is None:
            table.add_row("starting the MCP server ...")
            return table
        usage = state.usage
        # Cells are Text, never markup: the tool is the name a model's tool_use block gave, which may be anything
        # ('[/x]' made rich raise MarkupError at each redraw and ended the run; '[reverse]' restyled the view).
        rows = [
            ("run", state.run_id, "model", state.model),
            ("stage", state.stage, "turn", str(state.turn)),
            ("tool", self.current_tool or "-", "tokens in/out", f"{usage.input_tokens:,} / {usage.output_tokens:,}"),
            ("cached read/write", f"{usage.cache_read_input_tokens:,} / {usage.cache_creation_input_tokens:,}",
             "cost", f"${usage.cost_usd:.4f} (estimate, prices of {price_table().as_of})"),
        ]
        for row in rows:
            table.add_row(*(Text(printable(cell)) for cell in row))  # printable: Text would drop BEL, not show it
        return table
