"""The job graph of a pipeline: edges from `Job.needs`, layered in topological order.

`levels(pipeline)` puts each job at 1 + the deepest level among the jobs it needs (level 0: needs nothing);
jobs on a cycle, or needing one, are returned separately so a caller can report them rather than loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Pipeline


@dataclass(frozen=True)
class Layering:
    levels: list[list[str]]
    cyclic: list[str]
    dangling: list[tuple[str, str]]  # (job, missing need)


def layering(pipeline: Pipeline) -> Layering:
    """Topological levels (Kahn's algorithm) of the pipeline's jobs; see the module docstring."""
    ids = [job.id for job in pipeline.jobs]
    known = set(ids)
    needs = {job.id: [n for n in job.needs if n in known] for job in pipeline.jobs}
    dangling = [(job.id, n) for job in pipeline.jobs for n in job.needs if n not in known]
    level: dict[str, int] = {}
    remaining = set(ids)
    while remaining:
        ready = sorted(j for j in remaining if all(n in level for n in needs[j]))
        if not ready:
            break
        for job_id in ready:
            level[job_id] = 1 + max((level[n] for n in needs[job_id]), default=-1)
            remaining.discard(job_id)
    depth = 1 + max(level.values(), default=-1)
    levels: list[list[str]] = [[] for _ in range(depth)]
    for job_id in ids:
        if job_id in level:
            levels[level[job_id]].append(job_id)
    return Layering(levels=levels, cyclic=[j for j in ids if j in remaining], dangling=dangling)
