"""Metrics: git history (`history`), pipeline structure (`pipelines`) and token budgets (`tokens`).

`collect_metrics(path, inventory=...)` runs all three over one repository; each is also a function of its own.
Every number in the results states its formula and whether it is a proxy or rests on an assumption.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..limits import DEFAULT_MAX_FILE_BYTES

if TYPE_CHECKING:
    from ..models import Inventory
    from .history import history_metrics as history_metrics
    from .models import HistoryMetrics as HistoryMetrics
    from .models import Metrics as Metrics
    from .models import OpportunityMatrix as OpportunityMatrix
    from .models import PipelineMetrics as PipelineMetrics
    from .models import ScanReport as ScanReport
    from .models import TokenReport as TokenReport
    from .pipelines import pipeline_metrics as pipeline_metrics
    from .tokens import token_report as token_report

# Loaded on first use (PEP 562), so `orchestrator-kit tokens` imports the token pass without the history pass.
_LAZY = {
    "history_metrics": ".history",
    "pipeline_metrics": ".pipelines",
    "token_report": ".tokens",
    **{name: ".models" for name in
       ("HistoryMetrics", "Metrics", "OpportunityMatrix", "PipelineMetrics", "ScanReport", "TokenReport")},
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def collect_metrics(
    path: str | os.PathLike[str],
    *,
    inventory: Inventory,
    since: str | None = None,
    max_commits: int | None = None,
    paths: Sequence[str] = (),
    renames: bool = True,
    tokens: bool = True,
    top: int = 20,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Metrics:
    """History, pipeline and (with `tokens`) token metrics of the repository at `path`, whose scan is `inventory`;
    pipeline deploy jobs tell the history pass whether release tags are corroborated as deploys. The products call
    `assessment.assess`, which composes the same parts with the defaults every face shares."""
    from ..repo import Workspace
    from .history import history_metrics
    from .models import Metrics
    from .pipelines import pipeline_metrics
    from .tokens import token_report

    workspace = Workspace(path, max_file_bytes=max_file_bytes)
    pipelines = pipeline_metrics(inventory)
    history = history_metrics(workspace, since=since, max_commits=max_commits, paths=paths, renames=renames, top=top,
                              deploy_signals=pipelines.deploy_signals, pipelines=inventory.pipelines)
    token_counts = token_report(workspace, top=top) if tokens else None
    return Metrics(root=str(workspace.root), history=history, pipelines=pipelines, tokens=token_counts,
                   diagnostics=[*history.diagnostics, *(token_counts.diagnostics if token_counts else [])])


__all__ = [
    "HistoryMetrics", "Metrics", "OpportunityMatrix", "PipelineMetrics", "ScanReport", "TokenReport",
    "collect_metrics", "history_metrics", "pipeline_metrics", "token_report",
]
