"""A run on disk: `.orchestrator-kit/runs/<run id>/` with `transcript.jsonl` (append-only events) and `state.json`.

Every event has a sequence number `seq`. A turn is written to the transcript first (flushed and fsynced), then
`state.json` is replaced atomically (write a temporary file, fsync, rename) with the `seq` of the last event it
covers: that is the checkpoint. On resume, the conversation is rebuilt from the events up to the checkpoint's `seq`;
events after it (a turn cut short by a kill, or a torn last line) are moved to `transcript.discarded.jsonl`, so the
transcript always ends at the checkpoint before the run goes on.

Events: `run` (the configuration), `session` (what each request sends besides the conversation: the tool names, the
system prompt's sha256, the model, max_tokens; one per process, so a resumed run shows what it sent too), `user` (a
stage's kickoff or the revision request: a message), `turn` (one model answer: the request's shape, the response,
each tool call with its arguments, result and error flag, the tool results message, usage and estimated cost),
`stage` (a transition), `report`, `grounding`, `stop`, `resumed`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..errors import InputError
from .budget import BudgetStop, Limits
from .phases import RunStatus
from .report import AgentName
from .settings import Usage

RUNS_DIR = Path(".orchestrator-kit") / "runs"
RUN_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")
STATE_VERSION = 1
MAX_STATE_BYTES = 16 * 1024 * 1024
MAX_TRANSCRIPT_BYTES = 1024 * 1024 * 1024

Message = dict[str, Any]


class RunState(BaseModel):
    """state.json: where the run is (stage, turn), what it used, and how it ended."""

    version: int = STATE_VERSION
    run_id: str
    agent: AgentName
    repository: str
    task: str | None = None
    model: str
    allow_writes: bool = False
    limits: Limits = Field(default_factory=Limits)
    status: RunStatus = "running"
    stage: str
    kicked_off: bool = Field(default=False, description="The current stage's first message is in the conversation.")
    turn: int = 0
    seq: int = 0
    usage: Usage = Field(default_factory=Usage)
    stopped_by: BudgetStop | None = None
    error: str | None = None
    revised: bool = False
    report_text: str | None = Field(default=None, description="The last report the model wrote (report stages).")
    last_text: str | None = Field(default=None, description="The last text answer of any stage (partial reports).")
    report_files: list[str] = Field(default_factory=list)
    started_at: str
    updated_at: str


def new_run_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    if not RUN_ID.match(run_id):
        raise InputError(f"'{run_id[:80]}' is not a run id (they look like 20261206T051700-a1b2c3).")
    return run_id


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _safe_dir(base: Path, path: Path) -> Path:
    """Create `path` under `base` one folder at a time, refusing a symbolic link at every step (checked before
    anything is created through it). A fresh `.orchestrator-kit/` gets a `.gitignore` of `*`, as the Writer's audit
    folder does: transcripts hold repository text and stay out of commits when the runs live in the repository."""
    current = base
    for part in path.relative_to(base).parts:
        current = current / part
        if current.is_symlink():
            raise InputError(f"'{current}' is a symbolic link; the runner keeps its runs only in real folders.")
        fresh = not current.exists()
        current.mkdir(exist_ok=True)
        if fresh and current == base / RUNS_DIR.parts[0]:
            with contextlib.suppress(FileExistsError), (current / ".gitignore").open("x", encoding="utf-8") as fh:
                fh.write("*\n")
    return path


class RunStore:
    """One run's folder: append events, write the checkpoint, read them back."""

    def __init__(self, base: Path, run_id: str) -> None:
        self.run_id = check_run_id(run_id)
        self.dir = base / RUNS_DIR / run_id
        self.transcript = self.dir / "transcript.jsonl"
        self.state_file = self.dir / "state.json"
        self.seq = 0
        self._lock_fd: int | None = None

    @classmethod
    def create(cls, base: Path, state: RunState) -> RunStore:
        store = cls(base, state.run_id)
        if store.dir.exists():
            raise InputError(f"The run folder {store.dir} exists already.")
        try:
            _safe_dir(base, store.dir)
            store.lock()
        except OSError as exc:
            raise InputError(f"Cannot create the run folder {store.dir}: {exc.strerror or exc}") from None
        return store

    @classmethod
    def open(cls, base: Path, run_id: str) -> tuple[RunStore, RunState]:
        """An existing run and its checkpoint; the transcript is cut back to the checkpoint."""
        store = cls(base, run_id)
        if not store.state_file.is_file():
            raise InputError(f"No run '{run_id}' in {base / RUNS_DIR} (no state.json there).")
        store.lock()
        try:
            state = store.load_state()
            store.seq = state.seq
            store._discard_after(state.seq)
        except BaseException:
            store.unlock()
            raise
        return store, state

    def lock(self) -> None:
        """Hold the run's lock (`lock` in its folder) until `unlock`, so that two processes never drive one run;
        the system releases it when the process ends, killed or not."""
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(f"Run {self.run_id} is being driven by another process right now.") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    # ------------------------------------------------------------ writing

    def append(self, event_type: str, **fields: Any) -> int:
        """Append one event (flushed and fsynced); returns its seq."""
        self.seq += 1
        line = json.dumps({"seq": self.seq, "type": event_type, "time": _now(), **fields}, default=_json_default)
        with self.transcript.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return self.seq

    def checkpoint(self, state: RunState) -> None:
        """Write state.json atomically, covering every event appended so far."""
        state.seq = self.seq
        state.updated_at = _now()
        data = state.model_dump_json(indent=2).encode()
        fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".json", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.state_file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        # The folder is not fsynced: a rename lost to a power cut leaves the previous state.json, which is consistent
        # with the transcript (it ends at an earlier seq; the later events are discarded and redone on resume).

    # ------------------------------------------------------------ reading

    def load_state(self) -> RunState:
        try:
            if self.state_file.stat().st_size > MAX_STATE_BYTES:
                raise InputError(f"{self.state_file} is larger than {MAX_STATE_BYTES:,} bytes; not a run state.")
            state = RunState.model_validate_json(self.state_file.read_bytes())
        except (OSError, ValidationError, ValueError) as exc:
            raise InputError(f"{self.state_file} is not a valid run state: {str(exc).splitlines()[0]}") from None
        if state.run_id != self.run_id:
            raise InputError(f"{self.state_file} belongs to run '{state.run_id}', not '{self.run_id}'.")
        return state

    def events(self) -> Iterator[dict[str, Any]]:
        """The transcript's events (a torn or invalid line ends the reading: nothing after it is trusted)."""
        yield from read_events(self.transcript)

    def _discard_after(self, seq: int) -> None:
        if not self.transcript.exists():
            return
        kept: list[str] = []
        discarded: list[str] = []
        with self.transcript.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    event = json.loads(line)
                    keep = isinstance(event, dict) and int(event.get("seq", 0)) <= seq and not discarded
                except (ValueError, TypeError, RecursionError):
                    keep = False
                (kept if keep else discarded).append(line if line.endswith("\n") else line + "\n")
        if not discarded:
            return
        with (self.dir / "transcript.discarded.jsonl").open("a", encoding="utf-8") as fh:
            fh.writelines(discarded)
        tmp = self.transcript.with_suffix(".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, self.transcript)

    def messages(self) -> list[Message]:
        """The conversation up to the checkpoint: kickoff messages, answers and tool results, in order."""
        return conversation(self.events())


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Events of a transcript file, stopping at the first line that is not a JSON object."""
    if path.stat().st_size > MAX_TRANSCRIPT_BYTES:
        raise InputError(f"{path} is larger than {MAX_TRANSCRIPT_BYTES:,} bytes; not a transcript.")
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):  # RecursionError: a line nested past the recursion limit
                return
            if not isinstance(event, dict):
                return
            yield event


def conversation(events: Iterator[dict[str, Any]]) -> list[Message]:
    messages: list[Message] = []
    for event in events:
        if event.get("type") == "user" and isinstance(event.get("message"), dict):
            messages.append(event["message"])
        elif event.get("type") == "turn":
            messages.append(event["response_message"])
            if isinstance(event.get("tool_results"), dict):
                messages.append(event["tool_results"])
    return messages


def tool_result_texts(path: Path) -> list[str]:
    """The text of every tool result in a transcript (what the grounding check accepts as evidence)."""
    texts: list[str] = []
    for event in read_events(path):
        if event.get("type") != "turn":
            continue
        for call in event.get("tool_calls") or []:
            if isinstance(call, dict) and isinstance(call.get("result"), str):
                texts.append(call["result"])
    return texts


def _json_default(value: object) -> object:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return str(value)
