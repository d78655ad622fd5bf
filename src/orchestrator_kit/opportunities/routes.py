"""What `generate --from-opportunity` can make of each opportunity kind, or why it is advice only.

Every kind the matrix emits (`OpportunityKind`) has an entry: a new kind cannot land without deciding (a test walks
them). `repeated-ci-work` has two variants, told apart by the candidate's anchor: a missing dependency cache (an
edit of the workflow: `ci-cache`) and one command repeated across jobs (advice only).

| kind | generate with | or advice only, because |
|---|---|---|
| manual-procedure | shell-script, github-workflow | |
| unautomated-task | github-workflow, gitlab-ci-job | |
| unscheduled-recurring-work | github-workflow, gitlab-ci-job | |
| repeated-ci-work (a cache) | ci-cache (GitHub workflows) | other CI systems: advice only |
| repeated-ci-work (a repeated command) | | sharing a build means choosing an artifact, image or composite action |
| missing-ci-stage | | where the stage goes in the existing pipeline, and what it needs, is a design choice |
| slow-ci | | shortening a critical path means restructuring jobs |
| manual-gate | | removing a person's approval is a decision about risk, not a file to write |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """`generate_with`: the `generate` kinds that accept the opportunity; `advice_only`: why there is none, and
    what to do instead (exactly one of the two is set)."""

    generate_with: tuple[str, ...] = ()
    advice_only: str | None = None


ROUTES: dict[str, Route] = {
    "manual-procedure": Route(("shell-script", "github-workflow")),
    "unautomated-task": Route(("github-workflow", "gitlab-ci-job")),
    "unscheduled-recurring-work": Route(("github-workflow", "gitlab-ci-job")),
    "repeated-ci-work": Route(("ci-cache",)),
    "missing-ci-stage": Route(advice_only=(
        "where a new stage goes in the existing pipelines, and the credentials or services it needs, is a design "
        "choice: write a github-workflow or gitlab-ci-job spec for it (generate KIND --spec), starting from the "
        "task in the evidence")),
    "slow-ci": Route(advice_only=(
        "shortening a critical path means restructuring jobs (splitting, parallelizing, caching or dropping work); "
        "no file can be written without that decision: see the evidence and the suggestion")),
    "manual-gate": Route(advice_only=(
        "a manual gate is a person's approval; removing or automating it is a decision about risk, not a file to "
        "write: see the suggestion")),
}
REPEATED_COMMAND = Route(advice_only=(
    "running a command once for several jobs means choosing how to share its result (an artifact, a prebuilt CI "
    "image or a composite action): see the suggestion"))
CACHE_ELSEWHERE = Route(advice_only=(
    "the cache edit is generated for GitHub workflows only; add the CI system's own cache (e.g. GitLab `cache:` "
    "keyed on the lock file) by hand"))


def route(kind: str, anchor: str) -> Route:
    """The route of a candidate of `kind` with this anchor (see the module docstring)."""
    if kind == "repeated-ci-work":
        if not anchor.startswith("cache\x00"):
            return REPEATED_COMMAND
        if not anchor.startswith("cache\x00github-actions:"):
            return CACHE_ELSEWHERE
    return ROUTES[kind]
