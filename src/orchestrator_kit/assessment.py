"""One composition of scan, metrics and opportunities, with the same defaults and limits for every face.

`assess(path)` scans the repository (unless given its Inventory), measures its pipelines and its git history, and
scores the automation opportunities on top: `scan --metrics --opportunities`, `metrics`, `opportunities`, the MCP
tools `git_metrics` and `opportunity_matrix`, `generate --from-opportunity` and the evals all call it, so the same
repository gives the same numbers on every face. Every result built on history carries the window it read
(`HistoryWindow`: commits, first and last date, the bounds).

Defaults: the newest DEFAULT_MAX_COMMITS commits (a bound that keeps big histories quick; pass `max_commits=None`
for all), DEFAULT_TOP rows per ranked list, no token counts. The limits below are the ones the CLI options and the
MCP arguments declare, and `assess` checks them again for callers of the library.

Hooks (`Hooks`) let a face watch and steer a long run without this module knowing about terminals or MCP:
`progress(done, total)` while scanning files; `phase(label, total)` when a stage starts (total: the units it will
count, or None when unknown); `commits(read)` for every commit read (the history stage's total is the commits `git
rev-list --count` finds within the bounds, counted only when `phase` is set); `check()` is called between stages and
for every commit read, and raises to cancel (the git process is then killed); `memo(key, compute)` caches a stage's
result under a key that names the stage and everything it depends on (the face adds what identifies the repository
state); `run(label, compute)` runs a long stage (the MCP server runs it in a worker thread with heartbeats).

This module imports the capabilities inside `assess` only: the constants are cheap to import (the MCP server's
argument declarations use them at start-up).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import InputError
from .limits import DEFAULT_MAX_COMMITS as DEFAULT_MAX_COMMITS
from .limits import DEFAULT_MAX_FILE_BYTES
from .limits import DEFAULT_TOP as DEFAULT_TOP
from .limits import MAX_COMMITS_LIMIT as MAX_COMMITS_LIMIT
from .limits import MAX_PATHS as MAX_PATHS
from .limits import MAX_SINCE_CHARS as MAX_SINCE_CHARS
from .limits import MAX_TOP as MAX_TOP

if TYPE_CHECKING:
    from pathlib import Path

    from .metrics.models import (
        DeploySignal,
        HistoryMetrics,
        HistoryWindow,
        MetricPart,
        Metrics,
        OpportunityMatrix,
        PipelineMetrics,
    )
    from .models import Inventory, Pipeline
    from .repo import Workspace


T = TypeVar("T")


@dataclass(frozen=True)
class Hooks:
    """How a face watches and steers `assess` (see the module docstring); every hook is optional."""

    progress: Callable[[int, int], None] | None = None
    phase: Callable[[str, int | None], None] | None = None
    commits: Callable[[int], None] | None = None
    check: Callable[[], None] | None = None
    memo: Callable[[Hashable, Callable[[], Any]], Any] | None = None
    run: Callable[[str, Callable[[], Any]], Any] | None = None

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        return self.memo(key, compute) if self.memo is not None else compute()

    def long(self, label: str, compute: Callable[[], T]) -> T:
        return self.run(label, compute) if self.run is not None else compute()

    def checkpoint(self) -> None:
        if self.check is not None:
            self.check()

    def stage(self, label: str, total: int | None = None) -> None:
        if self.phase is not None:
            self.phase(label, total)

    def commit_read(self, read: int) -> None:
        """Report `read` commits and give `check` its chance to cancel."""
        if self.commits is not None:
            self.commits(read)
        self.checkpoint()


def all_excludes(root: str | Path | Workspace, given: Sequence[str]) -> list[str]:
    """The globs given (`--exclude`) and the repository's `[scan] exclude` setting, checked (InputError). Invalid
    settings add nothing here: the opportunity matrix reports them as a diagnostic (one place, as for its own)."""
    from .config import ConfigError, load_config
    from .excludes import check_excludes

    try:
        configured = load_config(root).scan.exclude
    except ConfigError:
        configured = []
    return check_excludes([*given, *configured])


def commit_total(workspace: Workspace, *, since: str | None, max_commits: int | None) -> int | None:
    """How many commits the history stage will read: `git rev-list --count HEAD` within the same bounds (since,
    max_commits); None when git cannot tell (no git, empty repository, a bad date)."""
    from .gitsafe import run_git
    from .metrics.history import parse_since

    args = ["rev-list", "--count"]
    if max_commits is not None:
        args.append(f"--max-count={max_commits}")
    try:
        if since:
            args.append(f"--since={parse_since(since, None).isoformat()}")
        done = run_git(workspace.root, *args, "HEAD", timeout=60)
    except (InputError, OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.decode("ascii", "replace").strip()
    return int(text) if done.returncode == 0 and text.isdigit() else None


NO_HOOKS = Hooks()


def _history(
    workspace: Workspace, hooks: Hooks, *, since: str | None, max_commits: int | None, paths: Sequence[str],
    renames: bool, top: int, exclude: Sequence[str], deploy_signals: Sequence[DeploySignal],
    pipelines: Sequence[Pipeline], include_generated: bool = False, include_fixtures: bool = False,
) -> HistoryMetrics:
    """The history pass with the hooks' stage and per-commit progress (the stage's total only when it is shown)."""
    from .metrics import history_metrics

    if hooks.phase is not None:
        total = None if paths or exclude else commit_total(workspace, since=since, max_commits=max_commits)
        hooks.stage("reading git history", total)
    return history_metrics(
        workspace, since=since, max_commits=max_commits, paths=paths, renames=renames, top=top,
        deploy_signals=deploy_signals, pipelines=pipelines, exclude=exclude, include_generated=include_generated,
        include_fixtures=include_fixtures,
        progress=hooks.commit_read if hooks.check is not None or hooks.commits is not None else None,
    )


@dataclass(frozen=True)
class Assessment:
    """What `assess` built: the inventory, the metrics (history, pipelines, tokens when asked), the opportunity
    matrix and the history window both were read from."""

    inventory: Inventory
    metrics: Metrics
    matrix: OpportunityMatrix
    window: HistoryWindow
    history: HistoryMetrics  # also in `metrics`, where the model allows it to be absent (`metrics --only`)
    pipelines: PipelineMetrics


def check_limits(*, since: str | None, max_commits: int | None, paths: Sequence[str], top: int) -> None:
    """InputError when an option is outside the limits every face declares."""
    if max_commits is not None and not 1 <= max_commits <= MAX_COMMITS_LIMIT:
        raise InputError(f"max_commits must be between 1 and {MAX_COMMITS_LIMIT:,} (got {max_commits}).")
    if not 1 <= top <= MAX_TOP:
        raise InputError(f"top must be between 1 and {MAX_TOP} (got {top}).")
    if since is not None and len(since) > MAX_SINCE_CHARS:
        raise InputError(f"since is over {MAX_SINCE_CHARS} characters.")
    if len(paths) > MAX_PATHS:
        raise InputError(f"At most {MAX_PATHS} paths (got {len(paths)}).")


def window_of(history: HistoryMetrics) -> HistoryWindow:
    """The window `history` was read from. Complete when no bound (since, max_commits, a shallow clone) cut it."""
    from .metrics.models import HistoryWindow

    options = history.options
    cut = (options.since is not None or history.partial
           or (options.max_commits is not None and history.commits >= options.max_commits))
    return HistoryWindow(
        commits=history.commits, first_commit=history.first_commit, last_commit=history.last_commit,
        window_days=history.window_days, since=options.since, max_commits=options.max_commits,
        complete=history.available and not cut,
    )


def assess(
    path: str | os.PathLike[str],
    *,
    inventory: Inventory | None = None,
    since: str | None = None,
    max_commits: int | None = DEFAULT_MAX_COMMITS,
    paths: Sequence[str] = (),
    renames: bool = True,
    top: int = DEFAULT_TOP,
    tokens: bool = False,
    include_fixtures: bool = False,
    include_generated: bool = False,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    exclude: Sequence[str] = (),
    hooks: Hooks = NO_HOOKS,
) -> Assessment:
    """Scan (unless `inventory` is given), measure and assess the repository at `path`. Raises InputError for a
    path that is not a readable folder or options outside the limits; repository problems become diagnostics.
    `exclude` globs (and the repository's `[scan] exclude` setting, see `config`) leave paths out of the scan and
    the history. `include_fixtures` keeps test fixtures in the scan and fixture pairs in coupling; `include_generated`
    keeps generated files (lock files, ...) in hotspots and coupling."""

    from .discovery import discover
    from .metrics import pipeline_metrics, token_report
    from .metrics.models import Metrics
    from .opportunities import opportunity_matrix
    from .repo import Workspace

    check_limits(since=since, max_commits=max_commits, paths=paths, top=top)
    workspace = Workspace(path, max_file_bytes=max_file_bytes)
    exclude = all_excludes(workspace, exclude)
    if inventory is None:
        hooks.stage("scanning files")
        inventory = discover(workspace, progress=hooks.progress, include_fixtures=include_fixtures, exclude=exclude,
                             remember=True)
    hooks.checkpoint()
    pipelines = hooks.cached(("pipelines",), lambda: pipeline_metrics(inventory))
    hooks.checkpoint()

    def read_history() -> HistoryMetrics:
        return _history(workspace, hooks, since=since, max_commits=max_commits, paths=paths, renames=renames,
                        top=top, exclude=exclude, deploy_signals=pipelines.deploy_signals,
                        pipelines=inventory.pipelines, include_generated=include_generated,
                        include_fixtures=include_fixtures)

    history = hooks.cached(("history", since, max_commits, tuple(paths), renames, top, tuple(exclude),
                            include_generated, include_fixtures),
                           lambda: hooks.long("reading git history", read_history))
    window = window_of(history)
    if tokens:
        hooks.stage("counting tokens")
    token_counts = hooks.long("counting tokens", lambda: token_report(workspace, top=top)) if tokens else None
    metrics = Metrics(root=str(workspace.root), history=history, pipelines=pipelines, tokens=token_counts,
                      diagnostics=[*history.diagnostics, *(token_counts.diagnostics if token_counts else [])])
    hooks.checkpoint()
    hooks.stage("scoring opportunities")
    matrix = hooks.cached(
        ("opportunities", since, max_commits, tuple(paths), renames, top, tuple(exclude), include_generated,
         include_fixtures),
        lambda: opportunity_matrix(inventory, pipelines, history).model_copy(update={"window": window}),
    )
    return Assessment(inventory=inventory, metrics=metrics, matrix=matrix, window=window, history=history,
                      pipelines=pipelines)


def measure(
    path: str | os.PathLike[str],
    *,
    parts: Collection[MetricPart],
    since: str | None = None,
    max_commits: int | None = DEFAULT_MAX_COMMITS,
    paths: Sequence[str] = (),
    renames: bool = True,
    top: int = DEFAULT_TOP,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    exclude: Sequence[str] = (),
    hooks: Hooks = NO_HOOKS,
    include_generated: bool = False,
    include_fixtures: bool = False,
) -> Metrics:
    """Only the metric `parts` asked for (`metrics --only`), each doing no other work: `history` reads git (no scan,
    no token count), `pipelines` runs the scan's CI detectors only, `tokens` counts tokens (no history). A part
    left out is null in the result and listed in `not_computed` with the reason, and so is what it would have fed:
    without `pipelines`, the DORA proxies use release tags only (no deploy jobs to corroborate them, no
    first-parent fallback) and no pipeline trigger counts are made; with `pipelines` alone, the schedules are the
    CI ones (crontab and systemd timers need the full scan) and procedure duplicates are not computed (they need the
    task and procedure detectors). InputError for bad options or an empty `parts`."""
    from .discovery import discover
    from .discovery._coverage import CI_DETECTORS
    from .metrics import pipeline_metrics, token_report
    from .metrics.models import METRIC_PARTS, Metrics, NotComputed
    from .repo import Workspace

    wanted = set(parts)
    if not wanted or not wanted <= set(METRIC_PARTS):
        raise InputError(f"parts must be one or more of {', '.join(METRIC_PARTS)} (got {sorted(wanted) or 'none'}).")
    check_limits(since=since, max_commits=max_commits, paths=paths, top=top)
    workspace = Workspace(path, max_file_bytes=max_file_bytes)
    exclude = all_excludes(workspace, exclude)
    asked = " ".join(f"--only {p}" for p in METRIC_PARTS if p in wanted)
    missing = [NotComputed(part=p, reason=f"not asked for ({asked})") for p in METRIC_PARTS if p not in wanted]
    pipelines = None
    inventory = None
    if "pipelines" in wanted:
        hooks.stage("reading CI files")
        inventory = discover(workspace, only=set(CI_DETECTORS), progress=hooks.progress, exclude=exclude)
        pipelines = pipeline_metrics(inventory)
        missing += [
            NotComputed(part="pipelines.procedure_duplicates", reason="needs the task and procedure detectors, which "
                        "--only pipelines does not run (measure without --only)"),
            NotComputed(part="pipelines.schedules (non-CI)", reason="crontab and systemd timers are read by the full "
                        "scan; only the CI pipelines' schedules are listed"),
        ]
    hooks.checkpoint()
    history = None
    if "history" in wanted:
        history = _history(workspace, hooks, since=since, max_commits=max_commits, paths=paths, renames=renames,
                           top=top, exclude=exclude, include_generated=include_generated,
                           include_fixtures=include_fixtures,
                           deploy_signals=pipelines.deploy_signals if pipelines is not None else (),
                           pipelines=inventory.pipelines if inventory is not None else ())
        if pipelines is None:
            note = ("deploy pipelines were not read (--only history): DORA used release tags only, with no deploy "
                    "job to corroborate them and no first-parent fallback")
            history.dora.deployment_frequency.notes.append(note)
            missing += [NotComputed(part="history.dora.corroborated_by", reason=note),
                        NotComputed(part="history.pipeline_runs", reason="needs the pipelines (--only pipelines)")]
    hooks.checkpoint()
    tokens = None
    if "tokens" in wanted:
        hooks.stage("counting tokens")
        tokens = token_report(workspace, top=top)
    return Metrics(root=str(workspace.root), history=history, pipelines=pipelines, tokens=tokens,
                   not_computed=missing,
                   diagnostics=[*(history.diagnostics if history else []), *(tokens.diagnostics if tokens else [])])
