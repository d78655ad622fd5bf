"""Run the tools on one repository the way `scan` composes them, and score the result against a truth file.

The composition is the library's, `assessment.assess` (scan, history and pipelines, no token counts, the opportunity
matrix on top), with the defaults every face uses, except that every author is listed (`HISTORY_TOP`) so the
history facts can be compared exactly.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import InputError
from .score import Outputs, RepoScore, score_repo
from .truth import Truth, load_truth, sample_dir

HISTORY_TOP = 1000


def tool_outputs(path: str | os.PathLike[str]) -> Outputs:
    """Scan, measure and assess the repository at `path` (nothing in it is executed)."""
    from ..assessment import assess

    result = assess(path, top=HISTORY_TOP)
    return Outputs(inventory=result.inventory, history=result.history, matrix=result.matrix)


def score_checkout(repo: str | os.PathLike[str], truth: Truth) -> RepoScore:
    """Score an existing checkout (a user's own repository) against its truth."""
    if not Path(repo).is_dir():
        raise InputError(f"Repository '{repo}' is not a directory.")
    return score_repo(truth, tool_outputs(repo))


def score_sample(truth_path: str | os.PathLike[str], workdir: str | os.PathLike[str] | None = None) -> RepoScore:
    """Build the sample a truth file describes (into `workdir`, or a temporary folder), scan it, score it."""
    from ..samples import build_sample_repo

    truth = load_truth(truth_path)
    spec = sample_dir(truth, truth_path)
    if workdir is not None:
        built = build_sample_repo(spec, Path(workdir) / truth.repo)
        return score_repo(truth, tool_outputs(built.path))
    with tempfile.TemporaryDirectory(prefix="orchestrator-kit-eval-") as tmp:
        built = build_sample_repo(spec, Path(tmp) / truth.repo)
        return score_repo(truth, tool_outputs(built.path))
