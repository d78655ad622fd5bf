"""How often each pipeline's triggers fired in the history window, from ONE `git log` pass over the branches.

What is counted, per trigger (the result's `basis` repeats it):

* **push to branches** (`branches`, `branches-ignore`; none: every branch): the commits on the first-parent chain
  of each matching branch (one push per commit: `expected`), touching a matching path (`paths`: at least one
  changed file matches, `!pattern` lines negate, the last match wins; `paths-ignore`: not every changed file
  is ignored). A merge counts with its changes against its first parent. `low` counts the distinct UTC days among
  them, as if a day's commits went in one push; `high` counts every matching commit reachable from a matching
  branch, as if each had been pushed on its own.
* **push of tags** (`tags`, `tags-ignore`): the tags matching them, by tag date, in the window. Path filters do
  not apply to tags (as in GitHub Actions).
* **pull request** (`branches`: the base branch): from git alone a pull request is seen once it is merged: a
  merge into a matching base brings its side commits (one push each: `expected`; `low` = one run per merge); a
  commit whose subject ends in `(#N)` (a squash merge) is one. Other commits on the base may have been pushed
  directly: they count only in `high`. Requests never merged and re-runs are not in git, and the basis says so.
* **schedule**: the cron's firing times in a year (`cron.runs_per_year`, the day-of-month / day-of-week OR rule).
* **manual dispatch, API, other events**: unknown (no count): git does not record them.
* **called by other pipelines** (`workflow_call`): the callers' runs, listed in `called_by`.
* **a job that waits for a person** (a manual job, or a deploy to a production environment): the runs that
  reach it. Its condition (or the nearest condition among the jobs it needs) is read for branch names
  (`refs/heads/X`, `github.ref_name == 'X'`, `$CI_COMMIT_BRANCH == "X"`, GitLab `only: X`; the default branch
  for `$CI_DEFAULT_BRANCH`), tags (`refs/tags`, `$CI_COMMIT_TAG`) and event names (GitLab rules that end in
  `-> never` are left out: they keep runs away); only the triggers it lets
  through count, restricted to those branches. A condition not understood lets every trigger through, and the
  basis says so.

Branch names come from `refs/heads/*` and, for branches without a local ref, `refs/remotes/<remote>/*`. Globs
follow GitHub Actions' filter syntax: `*` within a path segment, `**` across segments, `?` one character,
`[...]` a class.

The pass: `git log --name-only -z --diff-merges=first-parent --format=<sha, parents, committer time>` over every
matching branch tip, with the window's `--since`, and the same safety options as the history pass.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..cron import CronError, parse_cron, runs_per_year
from ..gitsafe import git_command, git_env, run_git
from ..models import Diagnostic, Job, Pipeline, Trigger
from .models import GateRuns, PipelineRuns, TriggerRuns

DETECTOR = "metrics.triggers"
MAX_BRANCHES = 500  # a repository with more refs is read through its first 500 (sorted), and says so
DAY = 86400
SQUASH_SUBJECT = re.compile(r"\(#\d+\)\s*$")


@dataclass(frozen=True)
class CommitPaths:
    sha: str
    parents: tuple[str, ...]
    time: int
    files: tuple[str, ...]
    squashed: bool = False


@lru_cache(maxsize=2048)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """GitHub Actions' filter glob as a regular expression (see the module docstring)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            if pattern.startswith("/", i):  # `**/x` also matches `x` at the top
                out[-1] = "(?:.*/)?"
                i += 1
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                out.append("[" + pattern[i + 1:end].replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error:  # e.g. an empty class `[]`: the pattern then matches only itself, literally
        return re.compile(re.escape(pattern) + r"\Z")


def matches(name: str, patterns: Sequence[str]) -> bool:
    """Whether `name` matches the list: each pattern includes, `!pattern` excludes; the last match wins."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        if glob_regex(pattern[1:] if negate else pattern).match(name):
            result = not negate
    return result


def ref_selected(name: str, include: Sequence[str] | None, ignore: Sequence[str] | None) -> bool:
    """A branch or tag name against an include list (None: all) and an ignore list."""
    if include is not None and not matches(name, include):
        return False
    return not (ignore and matches(name, ignore))


def paths_selected(files: Sequence[str], include: Sequence[str] | None, ignore: Sequence[str] | None) -> bool:
    """A commit's changed files against `paths` (some file matches) and `paths-ignore` (not all ignored).
    A commit with no changed file (empty, or a merge without changes) never matches a path filter."""
    if include is None and ignore is None:
        return True
    if not files:
        return False
    if include is not None and not any(matches(f, include) for f in files):
        return False
    return not (ignore is not None and all(matches(f, ignore) for f in files))


# ------------------------------------------------------------------ reading git


def branch_tips(root: Path) -> tuple[dict[str, str], Diagnostic | None]:
    """branch name -> tip commit: local branches, and remote-tracking branches without a local one."""
    proc = run_git(root, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)", "refs/heads",
                   "refs/remotes")
    if proc.returncode != 0:
        return {}, Diagnostic(path=".", detector=DETECTOR, reason="cannot list branches; run counts use HEAD only")
    local: dict[str, str] = {}
    remote: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\x00")
        if len(parts) != 3 or parts[2] != "commit":
            continue
        ref, sha = parts[0], parts[1]
        if ref.startswith("refs/heads/"):
            local[ref[len("refs/heads/"):]] = sha
        elif ref.startswith("refs/remotes/"):
            name = ref[len("refs/remotes/"):].partition("/")[2]
            if name and name != "HEAD":
                remote.setdefault(name, sha)
    tips = {**remote, **local}
    problem = None
    if len(tips) > MAX_BRANCHES:
        problem = Diagnostic(path=".", detector=DETECTOR,
                             reason=f"{len(tips)} branches: run counts read the first {MAX_BRANCHES} by name")
        tips = dict(sorted(tips.items())[:MAX_BRANCHES])
    return tips, problem


def read_commits(root: Path, tips: Iterable[str], since: int | None) -> tuple[dict[str, CommitPaths], str | None]:
    """Every commit reachable from `tips` (within `since`), with the files it changed against its first parent
    and whether its subject ends in `(#N)`."""
    shas = sorted(set(tips))
    if not shas:
        return {}, None
    # File names and subjects may hold RS and US: a random nonce after each separator keeps them from forging a
    # record or shifting a field (a name 'x<RS><sha><US>...' made a commit that does not exist).
    nonce = secrets.token_hex(8)
    record_mark, field_mark = f"\x1e{nonce}", f"\x1f{nonce}"
    args = ["log", "-z", "--name-only", "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv",
            "--no-show-signature", "--diff-merges=first-parent",
            f"--format=%x1e{nonce}%H %P%x1f{nonce}%ct%x1f{nonce}%s%x1f{nonce}",
            *([f"--since={since}"] if since is not None else []), "--stdin", "--"]
    try:
        proc = subprocess.run(git_command(root, *args), input=("\n".join(shas) + "\n").encode(), capture_output=True,
                              env=git_env(), timeout=600, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return {}, f"git log over the branches failed: {exc}"
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return {}, f"git log over the branches failed ({lines[-1] if lines else 'no message'})"
    commits: dict[str, CommitPaths] = {}
    for record in proc.stdout.decode("utf-8", "replace").split(record_mark):
        head, sep, rest = record.partition(field_mark)
        if not sep:
            continue
        ids = head.split()
        when, _, rest = rest.partition(field_mark)
        subject, _, names = rest.partition(field_mark)
        if not ids or not when.strip().isdigit():
            continue
        files = tuple(n.strip("\n") for n in names.split("\x00") if n.strip("\n"))
        commits[ids[0]] = CommitPaths(ids[0], tuple(ids[1:]), int(when), files,
                                      bool(SQUASH_SUBJECT.search(subject)))
    return commits, None


# ------------------------------------------------------------------ counting


def _filters(trigger: Trigger, key: str) -> list[str] | None:
    return trigger.filters.get(key)


def first_parent_chain(tip: str, commits: Mapping[str, CommitPaths]) -> list[CommitPaths]:
    chain: list[CommitPaths] = []
    current: str | None = tip
    seen: set[str] = set()
    while current and current in commits and current not in seen:
        seen.add(current)
        record = commits[current]
        chain.append(record)
        current = record.parents[0] if record.parents else None
    return chain


def reachable(tips: Iterable[str], commits: Mapping[str, CommitPaths]) -> set[str]:
    """Every commit read that one of `tips` reaches (one walk for all of them)."""
    seen: set[str] = set()
    stack = list(tips)
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in commits:
            continue
        seen.add(sha)
        stack.extend(commits[sha].parents)
    return seen


def side_commits(merge: CommitPaths, base_line: set[str], commits: Mapping[str, CommitPaths]) -> set[str]:
    """The commits a merge brings in: reachable from its other parents without crossing the first-parent line it
    was merged into (`base_line`). Each merge's walk stops at that line, so all merges cost O(commits) together."""
    side: set[str] = set()
    stack = list(merge.parents[1:])
    while stack:
        sha = stack.pop()
        if sha in side or sha in base_line or sha not in commits:
            continue
        side.add(sha)
        stack.extend(commits[sha].parents)
    return side


@dataclass
class History:
    """The branches and commits of one pass, the window they cover, and walks shared by every trigger."""

    tips: dict[str, str]
    commits: dict[str, CommitPaths]
    tags: Sequence[tuple[str, int]]  # (name, time) of every tag
    window: tuple[int, int] | None
    default_branch: str | None = None
    squashed: frozenset[str] = frozenset()  # commits whose subject ends in (#N): squash-merged pull requests
    _chains: dict[str, list[CommitPaths]] = field(default_factory=dict, repr=False)
    _reach: dict[frozenset[str], set[str]] = field(default_factory=dict, repr=False)
    _sides: dict[tuple[str, str], set[str]] = field(default_factory=dict, repr=False)
    _touching: dict[tuple[tuple[str, ...] | None, tuple[str, ...] | None], frozenset[str]] = field(
        default_factory=dict, repr=False)

    @property
    def window_days(self) -> float | None:
        if self.window is None:
            return None
        return round((self.window[1] - self.window[0]) / DAY, 2)

    def touching(self, include: Sequence[str] | None, ignore: Sequence[str] | None) -> frozenset[str]:
        """The commits whose changes pass these path filters (computed once per pair of filters)."""
        key = (tuple(include) if include is not None else None, tuple(ignore) if ignore is not None else None)
        if key not in self._touching:
            self._touching[key] = frozenset(sha for sha, c in self.commits.items()
                                            if paths_selected(c.files, include, ignore))
        return self._touching[key]

    def chain(self, branch: str) -> list[CommitPaths]:
        """The first-parent chain of a branch (walked once)."""
        if branch not in self._chains:
            self._chains[branch] = first_parent_chain(self.tips[branch], self.commits)
        return self._chains[branch]

    def reachable(self, branches: Sequence[str]) -> set[str]:
        """Every commit the branches reach (one walk per set of branches)."""
        key = frozenset(branches)
        if key not in self._reach:
            self._reach[key] = reachable((self.tips[b] for b in branches), self.commits)
        return self._reach[key]

    def side(self, branch: str, merge: CommitPaths) -> set[str]:
        """What a merge on a branch's first-parent chain brought in (walked once per merge)."""
        key = (branch, merge.sha)
        if key not in self._sides:
            line = {r.sha for r in self.chain(branch)}
            self._sides[key] = side_commits(merge, line, self.commits)
        return self._sides[key]


def _branches(trigger: Trigger, history: History) -> list[str]:
    include = _filters(trigger, "branches")
    ignore = _filters(trigger, "branches-ignore")
    return sorted(b for b in history.tips if ref_selected(b, include, ignore))


def _path_filter_text(trigger: Trigger) -> str:
    parts = [f"{key} {trigger.filters[key]}" for key in ("paths", "paths-ignore") if trigger.filters.get(key)]
    return (", touching " + "; ".join(parts)) if parts else ""


def push_runs(trigger: Trigger, history: History) -> tuple[int, int, int, str]:
    """(low, expected, high, basis) of branch pushes in the window (see the module docstring)."""
    branches = _branches(trigger, history)
    include, ignore = _filters(trigger, "paths"), _filters(trigger, "paths-ignore")
    touching = history.touching(include, ignore)
    first_parent = {r.sha for branch in branches for r in history.chain(branch) if r.sha in touching}
    every = history.reachable(branches) & touching
    days = {history.commits[sha].time // DAY for sha in first_parent}
    names = ", ".join(branches[:5]) + (f" and {len(branches) - 5} more" if len(branches) > 5 else "")
    basis = (f"git: {len(first_parent)} first-parent commits on matching branches ({names or 'none'})"
             f"{_path_filter_text(trigger)}; low {len(days)} distinct days, high {len(every)} commits "
             "reachable from those branches")
    return len(days), len(first_parent), max(len(every), len(first_parent)), basis


def tag_runs(trigger: Trigger, history: History) -> tuple[int, str]:
    include = _filters(trigger, "tags")
    ignore = _filters(trigger, "tags-ignore")
    start = history.window[0] if history.window else None
    names = [name for name, when in history.tags if ref_selected(name, include, ignore)
             and (start is None or when >= start)]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return len(names), f"git: {len(names)} tags matching {include or 'any'} in the window ({shown or 'none'})"


def pull_request_runs(trigger: Trigger, history: History) -> tuple[int, int, int, str]:
    """(low, expected, high, basis): runs of pull requests later merged into a matching base branch."""
    branches = _branches(trigger, history)
    include, ignore = _filters(trigger, "paths"), _filters(trigger, "paths-ignore")
    touching = history.touching(include, ignore)
    merges = side_total = squashed = direct = 0
    seen: set[str] = set()
    for branch in branches:
        for record in history.chain(branch):
            if record.sha in seen:
                continue
            seen.add(record.sha)
            if len(record.parents) > 1:
                touched = history.side(branch, record) & touching
                if touched or record.sha in touching:
                    merges += 1
                    side_total += max(1, len(touched))
            elif record.sha in touching:
                if record.sha in history.squashed:
                    squashed += 1
                else:
                    direct += 1
    basis = (f"git: {merges} merges into matching base branches ({', '.join(branches[:5]) or 'none'}) bringing "
             f"{side_total} commits (one run per pushed commit), and {squashed} squash-merged pull requests "
             f"(subject ending in '(#N)', one run each){_path_filter_text(trigger)}; low: one run per merge; "
             f"high adds the {direct} other commits on those branches as if each came from a pull request "
             "(requests never merged and re-runs are not in git)")
    return merges + squashed, side_total + squashed, side_total + squashed + direct, basis


def trigger_runs(pipeline: Pipeline, trigger: Trigger, history: History | None) -> TriggerRuns:
    """How often one trigger fired (see the module docstring)."""
    common = {"pipeline": pipeline.id, "event": trigger.event, "kind": trigger.kind, "filters": trigger.filters,
              "evidence": trigger.evidence}
    if trigger.kind == "schedule":
        try:
            runs = runs_per_year(trigger.cron) if trigger.cron else None
        except CronError:
            runs = None
        if runs is None:
            return TriggerRuns(**common, measure="unknown", basis=f"cron '{trigger.cron}' has no yearly count")
        spec = parse_cron(trigger.cron or "")
        either = " (day of month and day of week both restricted: either one matching fires it)" if not (
            spec.day.any or spec.weekday.any) else ""
        return TriggerRuns(**common, measure="cron", per_year=True, low=runs, expected=runs, high=runs,
                           basis=f"cron '{trigger.cron}': {runs} firing times in a 365-day year{either}")
    if trigger.kind == "reusable":
        return TriggerRuns(**common, measure="called", basis="runs when another pipeline calls it (see called_by)")
    if history is None or history.window is None:
        return TriggerRuns(**common, measure="unknown", basis="no git history to count from")
    window = history.window_days
    if trigger.kind in ("push", "tag"):
        has_tags = trigger.kind == "tag" or bool(_filters(trigger, "tags") or _filters(trigger, "tags-ignore"))
        has_branches = trigger.kind == "push" and (
            not has_tags or bool(_filters(trigger, "branches") or _filters(trigger, "branches-ignore")))
        low = expected = high = 0
        parts: list[str] = []
        if has_branches:
            b_low, b_expected, b_high, basis = push_runs(trigger, history)
            low, expected, high = low + b_low, expected + b_expected, high + b_high
            parts.append(basis)
        if has_tags:
            count, basis = tag_runs(trigger, history)
            low, expected, high = low + count, expected + count, high + count
            parts.append(basis)
        return TriggerRuns(**common, measure="git", low=low, expected=expected, high=high, window_days=window,
                           basis="; ".join(parts))
    if trigger.kind == "release":
        count, basis = tag_runs(trigger, history)
        return TriggerRuns(**common, measure="git", low=count, expected=count, high=count, window_days=window,
                           basis=basis + " (a release is published from a tag)")
    if trigger.kind == "pull_request":
        low, expected, high, basis = pull_request_runs(trigger, history)
        return TriggerRuns(**common, measure="git", low=low, expected=expected, high=high, window_days=window,
                           basis=basis)
    return TriggerRuns(**common, measure="unknown",
                       basis=f"'{trigger.event}' runs are started by a person or another system: git does not "
                             "record them")


_BRANCH_REF = re.compile(r"refs/heads/([A-Za-z0-9._/*-]+)")
_BRANCH_EQ = re.compile(
    r"(?:github\.ref_name|CI_COMMIT_BRANCH|CI_COMMIT_REF_NAME|BRANCH_NAME|GIT_BRANCH)\s*==\s*[\"']([^\"']+)[\"']")
_DEFAULT_BRANCH = re.compile(r"CI_DEFAULT_BRANCH|default_branch")
_TAGS = re.compile(r"refs/tags|CI_COMMIT_TAG\b(?!\s*==\s*(?:null|\"\"|''))|\bbuildingTag\b|only: tags")
_EVENT = re.compile(r"github\.event_name\s*==\s*'([a-z_]+)'|CI_PIPELINE_SOURCE\s*==\s*[\"']([a-z_]+)[\"']")
_ONLY = re.compile(r"only: ([^;]+)")
_EVENT_KINDS = {"push": "push", "pull_request": "pull_request", "pull_request_target": "pull_request",
                "schedule": "schedule", "workflow_dispatch": "manual", "release": "release",
                "merge_request_event": "pull_request", "web": "manual", "api": "api", "trigger": "api"}


@dataclass(frozen=True)
class Reach:
    """What a job's condition lets through: branch names (None: any), whether it requires a tag, event kinds
    (None: any), and whether the condition was understood at all."""

    branches: tuple[str, ...] | None
    tags: bool
    kinds: frozenset[str] | None
    understood: bool


def condition_reach(condition: str | None, default_branch: str | None) -> Reach:
    """Read a job condition for the branches, tags and events it requires (see the module docstring)."""
    if not condition:
        return Reach(None, False, None, True)
    # GitLab rules: a rule that ends in `-> never` keeps those runs out; read only the rules that let runs in.
    condition = " | ".join(part for part in condition.split(" | ") if not part.split(";")[0].rstrip().endswith(
        "-> never"))
    branches = [*_BRANCH_REF.findall(condition), *_BRANCH_EQ.findall(condition)]
    if _DEFAULT_BRANCH.search(condition) and default_branch:
        branches.append(default_branch)
    only = _ONLY.search(condition)
    if only:
        words = [w.strip() for w in only.group(1).split(",") if w.strip()]
        branches.extend(w for w in words if w not in ("tags", "branches", "merge_requests", "schedules", "web",
                                                      "api", "triggers", "pipelines", "pushes"))
    kinds = {_EVENT_KINDS.get(a or b, "other") for a, b in _EVENT.findall(condition)}
    tags = bool(_TAGS.search(condition)) or bool(only and "tags" in only.group(1).replace(",", " ").split())
    understood = bool(branches or kinds or tags)
    if not understood:
        return Reach(None, False, None, False)
    if branches and not kinds:
        kinds = {"push", "schedule", "manual"} | ({"tag", "release"} if tags else set())
    if tags and not branches:
        kinds = (kinds or set()) | {"tag", "release", "push"}
    return Reach(tuple(dict.fromkeys(branches)) or None, tags, frozenset(kinds) if kinds else None, True)


def _restricted(trigger: Trigger, reach: Reach) -> Trigger | None:
    """The trigger as the job sees it: None when the condition excludes it, else with its branch filter narrowed
    (and without its tag part when the condition requires a branch)."""
    if reach.kinds is not None and trigger.kind not in reach.kinds and not (
            trigger.kind == "tag" and "push" in reach.kinds and reach.tags):
        return None
    filters = dict(trigger.filters)
    if reach.branches is not None:
        include = filters.get("branches")
        narrowed = [b for b in reach.branches if include is None or matches(b, include)]
        if not narrowed and trigger.kind in ("push", "pull_request"):
            return None
        filters["branches"] = narrowed
        if not reach.tags:
            filters.pop("tags", None)
            filters.pop("tags-ignore", None)
    elif reach.tags and trigger.kind == "push":  # the job runs for tag pushes only
        filters.pop("branches", None)
        filters.pop("branches-ignore", None)
        return trigger.model_copy(update={"kind": "tag", "filters": filters})
    return trigger.model_copy(update={"filters": filters})


def _gate_condition(job: Job, jobs: Mapping[str, Job]) -> str | None:
    """The job's own condition, else the nearest one among the jobs it needs (a skipped job skips its needers)."""
    seen: set[str] = set()
    queue = [job.id]
    while queue:
        current = jobs.get(queue.pop(0))
        if current is None or current.id in seen:
            continue
        seen.add(current.id)
        text = (current.condition or "").replace("when: manual", "").strip("; ")
        if text:
            return current.condition
        queue.extend(current.needs)
    return None


def gate_runs(pipeline: Pipeline, job: Job, history: History | None, default_branch: str | None) -> GateRuns:
    condition = _gate_condition(job, {j.id: j for j in pipeline.jobs})
    reach = condition_reach(condition, default_branch)
    counted: list[TriggerRuns] = []
    for trigger in pipeline.triggers:
        narrowed = _restricted(trigger, reach)
        if narrowed is not None:
            counted.append(trigger_runs(pipeline, narrowed, history))
    if not condition:
        basis = "no condition: every run of the pipeline reaches it"
    elif not reach.understood:
        basis = f"condition '{condition}' not understood: every run counted (an upper bound)"
    else:
        basis = (f"condition '{condition}': branches {list(reach.branches) if reach.branches else 'any'}"
                 f"{', tags' if reach.tags else ''}; events {sorted(reach.kinds) if reach.kinds else 'any'}")
    return GateRuns(job=job.id, condition=condition, triggers=counted, basis=basis)


def _callee(uses: str, by_path: Mapping[str, str]) -> str | None:
    """The pipeline a job's `uses: ./.github/workflows/x.yml` calls (local reusable workflows only)."""
    ref = uses.split("@", 1)[0]
    if ref.startswith("./"):
        return by_path.get(ref[2:])
    return None


def _gated(job: Job) -> bool:
    return job.manual or bool(job.environment and re.search(r"\bprod", job.environment, re.IGNORECASE))


def pipeline_runs(pipelines: Sequence[Pipeline], history: History | None) -> list[PipelineRuns]:
    """Each pipeline's triggers with their counts, the runs that reach its gated jobs, and its callers."""
    by_path = {p.path: p.id for p in pipelines if p.kind == "pipeline"}
    callers: dict[str, set[str]] = defaultdict(set)
    for pipeline in pipelines:
        for job in pipeline.jobs:
            callee = _callee(job.uses, by_path) if job.uses else None
            if callee and callee != pipeline.id:
                callers[callee].add(pipeline.id)
    result: list[PipelineRuns] = []
    default_branch = history.default_branch if history else None
    for pipeline in pipelines:
        if pipeline.kind != "pipeline":
            continue
        calls_only = bool(pipeline.jobs) and all(job.uses and not job.steps for job in pipeline.jobs)
        result.append(PipelineRuns(
            pipeline=pipeline.id, triggers=[trigger_runs(pipeline, t, history) for t in pipeline.triggers],
            gates=[gate_runs(pipeline, job, history, default_branch) for job in pipeline.jobs if _gated(job)],
            called_by=sorted(callers.get(pipeline.id, ())), only_calls_others=calls_only))
    return result


def read_history(root: Path, pipelines: Sequence[Pipeline], tags: Sequence[tuple[str, int]], since: int | None,
                 head: str | None) -> tuple[History | None, list[Diagnostic]]:
    """The one pass over the branches that any pipeline's triggers can match."""
    diagnostics: list[Diagnostic] = []
    if not any(t.kind in ("push", "pull_request", "tag", "release") for p in pipelines for t in p.triggers):
        return None, diagnostics
    tips, problem = branch_tips(root)
    if problem:
        diagnostics.append(problem)
    if not tips and head:
        tips = {"HEAD": head}
    commits, failure = read_commits(root, tips.values(), since)
    if failure:
        diagnostics.append(Diagnostic(path=".", detector=DETECTOR, reason=failure + "; run counts are unknown"))
        return None, diagnostics
    times = [c.time for c in commits.values()]
    window = (min(times), max(times)) if times else None
    tips = {name: sha for name, sha in tips.items() if sha in commits}
    at_head = sorted((name not in ("main", "master"), name) for name, sha in tips.items() if sha == head)
    return History(tips=tips, commits=commits, tags=list(tags), window=window,
                   default_branch=at_head[0][1] if at_head else None,
                   squashed=frozenset(sha for sha, c in commits.items() if c.squashed)), diagnostics
