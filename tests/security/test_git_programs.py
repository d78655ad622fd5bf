"""A hostile `.git/config` never makes git run a program: every program key, hook and include is planted in a
real repository, every public entry point that runs git is called, and no payload may leave its marker.

`test_every_git_call_site_is_listed` keeps the battery complete: a new git call site fails it until it is listed
here (and so exercised by the entry points below)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import orchestrator_kit
from orchestrator_kit.gitsafe import UnsafeGitCommand, check_command, git_command

from ..conftest import git, write_files
from ..mcp_server.conftest import SHOP
from .hostile import dirty, plain_git, plant_git_config, ran

PACKAGE = Path(orchestrator_kit.__file__).parent
RUNNERS = {"run_git", "git_command", "builder_command"}

# Every function of the package that starts git, and the entry points below that reach it.
CALL_SITES = {
    "repo.Workspace._git_probe": "scan, every tool",
    "repo.Workspace._ls_files": "scan, every tool",
    "metrics/tokens._index_blobs": "metrics, token_budget",
    "metrics/history._layout": "metrics, git_metrics",
    "metrics/history._tags": "metrics, git_metrics",
    "metrics/history._graph": "metrics (tags outside the window)",
    "metrics/history._unrelated": "metrics (tags off HEAD's history)",
    "metrics/history._peel": "metrics, git_metrics (tags of tags)",
    "metrics/history.head_lines": "metrics, git_metrics",
    "metrics/identities.author_names": "metrics on a damaged repository (the log stopped early)",
    "metrics/generated.attribute_marks": "metrics, git_metrics (a repository with .gitattributes)",
    "metrics/gitlog.stream_env": "metrics with GIT_DIR set",
    "metrics/gitlog._stream": "metrics, git_metrics",
    "metrics/gitlog._partial_clone": "metrics on a damaged repository",
    "metrics/gitlog._rev_list_command": "metrics on a damaged repository",
    "metrics/gitlog._header_only": "metrics on a damaged repository",
    "metrics/gitlog._Prefetcher.__init__": "metrics on a long history that keeps git busy (runs in parallel)",
    "metrics/triggers.branch_tips": "metrics, pipeline_metrics, opportunities",
    "metrics/triggers.read_commits": "metrics, pipeline_metrics, opportunities",
    "mcp_tools/cache.ScanCache._toplevel": "every MCP tool",
    "mcp_tools/cache._git_state": "every MCP tool",
    "mcp_tools/metrics._tags": "git_metrics, opportunity_matrix",
    "samples._git": "build-sample (a repository it creates itself)",
    "assessment.commit_total": "scan, opportunities, opportunity_matrix (the window the matrix reports)",
}
# git argv that the package writes into generated automation as text and never runs.
NOT_RUN = {"automation/procedure._unless (builds its own git argv)"}


def _call_sites() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "gitsafe.py":
            continue
        module = path.relative_to(PACKAGE).with_suffix("").as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope in _scopes(tree):
            for node in ast.walk(scope["node"]):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in RUNNERS:
                    found.add(f"{module}.{scope['name']}")
                if isinstance(node, ast.List) and node.elts and isinstance(node.elts[0], ast.Constant) and \
                        node.elts[0].value == "git":
                    found.add(f"{module}.{scope['name']} (builds its own git argv)")
    return found


def _scopes(tree: ast.Module) -> list[dict]:
    """The innermost function of each call: (qualified name, node), outer functions first."""
    scopes: list[dict] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                body = ast.Module(body=[c for c in child.body if not isinstance(c, ast.FunctionDef)], type_ignores=[])
                scopes.append({"name": name, "node": body})
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
    visit(tree, "")
    return scopes


def test_every_git_call_site_is_listed():
    assert _call_sites() == set(CALL_SITES) | NOT_RUN, "a git call site was added or removed: list it in CALL_SITES and " \
        "make sure an entry point of this battery reaches it"


@pytest.mark.parametrize(
    "args",
    [("status",), ("diff", "HEAD"), ("add", "-A"), ("checkout", "."), ("ls-files", "-m"), ("ls-files", "--modified"),
     ("log", "-p", "--no-ext-diff", "--no-textconv", "--no-show-signature"), ("log", "--numstat"),
     ("log", "--format=%G?", "--no-ext-diff", "--no-textconv", "--no-show-signature"),
     ("for-each-ref", "--format=%(signature)"), ("hash-object", "--path=x", "-t", "tree", "--stdin"),
     ("hash-object", "-w", "x"), ("config", "core.pager", "x"), ("fetch",), ("cat-file", "--textconv", "HEAD:x"), ()],
)
def test_commands_that_could_run_a_program_are_refused(args):
    with pytest.raises(UnsafeGitCommand):
        git_command("/tmp", *args)


def test_the_commands_the_package_runs_are_allowed():
    check_command(("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."))
    check_command(("log", "-z", "--numstat", "--no-ext-diff", "--no-textconv", "--no-show-signature", "HEAD", "--"))
    check_command(("hash-object", "-t", "tree", "--stdin"))


@pytest.fixture
def hostile(tmp_path) -> tuple[Path, Path, list[str]]:
    root = tmp_path / "repo"
    root.mkdir()
    write_files(root, {**SHOP, "notes.md": "# notes\n", "ci/deploy.sh": "#!/bin/sh\necho deploy\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "tag", "v1.0.0")
    (root / "Makefile").write_text((root / "Makefile").read_text() + "\ntest:\n\tpytest\n")
    git(root, "commit", "-q", "-am", "add test target")
    git(root, "tag", "v1.1.0")
    markers = tmp_path / "markers"
    names = plant_git_config(root, markers)
    dirty(root)
    return root, markers, names


def test_the_planted_payloads_are_live(hostile):
    """Control: plain git runs the planted programs, so the assertions below could fail."""
    root, markers, _ = hostile
    plain_git(root, "status")
    plain_git(root, "log", "-1", "-p")
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", "x")
    seen = ran(markers)
    for expected in ("filter.evil.clean", "core.fsmonitor", "include.path", "includeIf.gitdir:_.path",
                     "hooksPath-pre-commit", "diff.evil.textconv", "filter.evilproc.process"):
        assert expected in seen, (expected, seen)


def test_library_entry_points_run_no_repository_program(hostile):
    from orchestrator_kit.mcp_tools.cache import ScanCache
    from orchestrator_kit.metrics import collect_metrics, history_metrics, token_report
    from orchestrator_kit.opportunities import opportunity_matrix
    from orchestrator_kit.repo import Workspace
    from orchestrator_kit.service import scan

    root, markers, names = hostile
    workspace = Workspace(root)
    assert workspace.git_info() is not None and "untracked.yml" in workspace.files()
    inventory = scan(root)
    history = history_metrics(root)
    assert history.available and history.commits == 2 and len(history.dora.releases) == 2
    token_report(root, use_cache=False)
    metrics = collect_metrics(root, inventory=inventory)
    assert opportunity_matrix(inventory, metrics.pipelines, metrics.history).opportunities
    ScanCache().get(root)
    assert inventory.pipelines
    assert ran(markers) == [], f"repository programs ran: {ran(markers)} (of {len(names)} planted)"


def test_a_repeat_scan_answered_from_the_scan_record_runs_no_repository_program(hostile, tmp_path, monkeypatch):
    """The scan record's check (`discovery._unchanged.reuse`) reads files, stats executable bits and asks git for
    HEAD (`git_info`) without any detector running: none of it may start what the repository's config plants."""
    import orchestrator_kit.discovery as discovery
    from orchestrator_kit.service import scan

    root, markers, names = hostile
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))
    first = scan(root)

    def detectors_ran(*args, **kwargs):
        raise AssertionError("the record was not reused: detectors ran")

    monkeypatch.setattr(discovery, "_read_all", detectors_ran)
    again = scan(root)  # answered from the record (it would raise otherwise)
    assert again.git is not None and again.git == first.git and again.pipelines == first.pipelines
    assert ran(markers) == [], f"repository programs ran: {ran(markers)} (of {len(names)} planted)"


def _stage_without_filters(root: Path, name: str, text: str) -> None:
    """Put `text` in the index as `name` without running anything planted (no clean filter, fsmonitor or hook)."""
    quiet = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-C", str(root)]
    blob = subprocess.run([*quiet, "hash-object", "-w", "--no-filters", "--stdin"], input=text,
                          capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([*quiet, "update-index", "--add", "--cacheinfo", f"100644,{blob},{name}"],
                   check=True, capture_output=True)


def test_the_attribute_and_identity_reads_run_no_repository_program(hostile):
    """The two git calls the history pass added for generated files and identities answer from the repository as
    data: the index's linguist attributes and the authors' names, while every filter, textconv, fsmonitor and hook
    planted in the repository stays unrun."""
    from orchestrator_kit.metrics.generated import ATTRIBUTE_GENERATED, attribute_marks
    from orchestrator_kit.metrics.gitlog import LogRequest
    from orchestrator_kit.metrics.identities import author_names

    root, markers, names = hostile
    _stage_without_filters(root, ".gitattributes",
                           "* filter=evil diff=evil merge=evil\nMakefile linguist-generated\nnotes.md -linguist-generated\n")
    assert ran(markers) == []  # staging it ran nothing either
    marks = attribute_marks(root, ["Makefile", "notes.md", "ci/deploy.sh"])
    assert marks == {"Makefile": ATTRIBUTE_GENERATED, "notes.md": None}
    found = author_names(root, LogRequest(revisions=("HEAD",)))
    assert found is not None and sum(sum(c.values()) for c in found.values()) == 2  # the fixture's two commits
    assert ran(markers) == [], f"repository programs ran: {ran(markers)} (of {len(names)} planted)"


def test_the_history_runs_run_no_repository_program(hostile, monkeypatch):
    """The git processes that read a long history in runs (`gitlog._Prefetcher`), forced here on the fixture's two
    commits (one run each), run none of the planted programs and count what the one walk counts."""
    from orchestrator_kit.metrics import gitlog
    from orchestrator_kit.metrics.history import history_metrics

    root, markers, names = hostile
    one = history_metrics(root, jobs=1)
    for name, value in [("SPLIT_AFTER", 0.0), ("SPLIT_WORTH", 0.0), ("GIT_BOUND", 10.0), ("PARALLEL_MIN_COMMITS", 1),
                        ("MIN_CHUNK", 1), ("READ_CHUNK", 7)]:
        monkeypatch.setattr(gitlog, name, value)
    monkeypatch.setattr(gitlog, "spare_jobs", lambda jobs, since: jobs)
    started: list[int] = []
    real = gitlog._Prefetcher._start

    def counted(self: gitlog._Prefetcher, index: int, commits: list[str]) -> None:
        started.append(index)
        real(self, index, commits)

    monkeypatch.setattr(gitlog._Prefetcher, "_start", counted)
    runs = history_metrics(root, jobs=2)
    assert started == [0, 1]  # both commits were read by runs, not by the walk
    assert runs.commits == one.commits == 2 and runs.churn == one.churn
    assert ran(markers) == [], f"repository programs ran: {ran(markers)} (of {len(names)} planted)"


def test_the_tags_graph_and_the_rev_list_started_ahead_run_no_repository_program(tmp_path, monkeypatch):
    """The git processes a pass starts off its main path: the tags' `rev-list --parents`, which writes into a
    temporary file while the summaries run (history._graph, reached only by a tag off HEAD's history), the check of
    such tags for a history unrelated to HEAD's (history._unrelated, in a thread meanwhile), and the split's
    `rev-list` started in a thread before the walk is weighed (gitlog._Reader._list_ahead). All are forced here on a
    hostile repository and run none of the planted programs."""
    import threading

    from orchestrator_kit.metrics import gitlog, history
    from orchestrator_kit.metrics.history import history_metrics

    root = tmp_path / "repo"
    write_files(root, {**SHOP, "notes.md": "# notes\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "tag", "v1.0.0")
    git(root, "checkout", "-q", "-b", "release-2")
    (root / "notes.md").write_text("# notes\nfix\n")
    git(root, "commit", "-q", "-am", "fix on the release branch")
    git(root, "tag", "v2.0.0")  # never merged: only history._graph places it
    git(root, "checkout", "-q", "main")
    (root / "Makefile").write_text((root / "Makefile").read_text() + "\ntest:\n\tpytest\n")
    git(root, "commit", "-q", "-am", "add test target")
    git(root, "tag", "v2.1.0")
    markers = tmp_path / "markers"
    names = plant_git_config(root, markers)
    dirty(root)

    graphs: list[tuple[str, ...]] = []  # the git commands history's own calls built
    real_command = history.git_command
    monkeypatch.setattr(history, "git_command", lambda *a: graphs.append(a[1:]) or real_command(*a))
    real_run_git = history.run_git  # and those history runs itself (the unrelated-history check among them)
    monkeypatch.setattr(history, "run_git", lambda *a, **kw: graphs.append(a[1:]) or real_run_git(*a, **kw))
    listed_by: list[str] = []  # who built a rev-list command: the rev-list started ahead, or one asked in passing
    real_rev_list_command, real_list_ahead = gitlog._rev_list_command, gitlog._Reader._list_ahead
    ahead = threading.local()

    def recording(*args):
        listed_by.append("ahead" if getattr(ahead, "on", False) else "foreground")
        return real_rev_list_command(*args)

    def listing_ahead(self):
        ahead.on = True
        try:
            real_list_ahead(self)
        finally:
            ahead.on = False

    monkeypatch.setattr(gitlog, "_rev_list_command", recording)
    monkeypatch.setattr(gitlog._Reader, "_list_ahead", listing_ahead)
    for name, value in [("PRELIST_AFTER", 0.0), ("SPLIT_AFTER", 10.0**9), ("GIT_BOUND", 10.0), ("READ_CHUNK", 7)]:
        monkeypatch.setattr(gitlog, name, value)  # listed ahead at the walk's first look; never split
    monkeypatch.setattr(gitlog, "spare_jobs", lambda jobs, since: jobs)
    result = history_metrics(root, jobs=2)
    assert ("rev-list", "--parents", "--stdin") in graphs and listed_by == ["ahead"]
    # with a path filter the tags' graph does not tell an unrelated history: git is asked (history._unrelated)
    history_metrics(root, jobs=2, paths=["notes.md"])
    assert ("rev-list", "--parents", "--boundary", "--stdin") in graphs
    assert {r.name for r in result.dora.releases} >= {"v1.0.0", "v2.0.0", "v2.1.0"}
    assert ran(markers) == [], f"repository programs ran: {ran(markers)} (of {len(names)} planted)"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator_kit", *args], capture_output=True, text=True,
                          timeout=300, check=False, cwd=cwd, stdin=subprocess.DEVNULL)


def test_cli_commands_run_no_repository_program(hostile, tmp_path):
    root, markers, _ = hostile
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "release", "description": "Cut a release",
                                "commands": [{"argv": ["./ci/deploy.sh"]}]}))
    for args in (["scan", str(root)], ["scan", str(root), "--format", "json"], ["metrics", str(root)],
                 ["metrics", str(root), "--only", "history"], ["metrics", str(root), "--only", "pipelines"],
                 ["metrics", str(root), "--only", "tokens"], ["tokens", str(root)],
                 ["tokens", str(root), "--format", "json"],  # runs in cli/fasttokens, without Typer
                 ["metrics", str(root), "--only", "history", "--include-generated", "--include-fixtures"],
                 ["opportunities", str(root)], ["generate", "make-target", "--spec", str(spec), "--repo", str(root)],
                 ["validate", "ci/deploy.sh", ".github/workflows/ci.yml", "--repo", str(root)],
                 ["generate", "make-target", "--spec", str(spec), "--repo", str(root), "--apply", "--force",
                  "--plan-hash", "PLAN"],
                 ["undo", "--repo", str(root)]):
        if "PLAN" in args:  # --apply writes only the reviewed plan: take its hash from the diff run
            shown = _cli("generate", "make-target", "--spec", str(spec), "--repo", str(root), cwd=tmp_path)
            args = [shown.stdout.split("plan hash: ")[1].split()[0] if a == "PLAN" else a for a in args]
        proc = _cli(*args, cwd=tmp_path)
        assert proc.returncode in (0, 1), (args, proc.stderr[-2000:])
        assert ran(markers) == [], (args, ran(markers))


@pytest.mark.anyio
async def test_every_mcp_tool_over_the_real_client_runs_no_repository_program(hostile):
    from mcp import Client, StdioServerParameters

    from ..mcp_server.conftest import spawn_command

    root, markers, _ = hostile
    command = spawn_command(root)
    calls = [
        ("list_roots", {}), ("scan_repository", {}), ("list_pipelines", {}), ("list_tasks", {}),
        ("list_schedules", {}), ("list_infrastructure", {}), ("list_manual_procedures", {}),
        ("read_file", {"path": "Makefile"}), ("search_repository", {"pattern": "deploy"}),
        ("git_metrics", {}), ("pipeline_metrics", {}), ("token_budget", {}), ("opportunity_matrix", {}),
        ("validate_automation", {"paths": ["ci/deploy.sh", ".github/workflows/ci.yml"]}),
    ]
    spec = {"name": "release", "description": "Cut a release", "commands": [{"argv": ["./ci/deploy.sh"]}]}
    errors: list[tuple[str, object]] = []  # asserted after the session closes, so a failure reads plainly
    async with Client(StdioServerParameters(command=command[0], args=command[1:])) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            if result.is_error:
                errors.append((name, result.content))
        pipelines = await client.call_tool("list_pipelines", {})
        procedures = await client.call_tool("list_manual_procedures", {})
        for name, arguments in (("get_pipeline", {"pipeline_id": pipelines.structured_content["items"][0]["id"]}),
                                ("get_manual_procedure",
                                 {"procedure_id": procedures.structured_content["items"][0]["id"]})):
            result = await client.call_tool(name, arguments)
            if result.is_error:
                errors.append((name, result.content))
            calls.append((name, arguments))
        plan = await client.call_tool("generate_automation", {"kind": "make-target", "spec": spec})
        if plan.is_error:
            errors.append(("generate_automation", plan.content))
        else:
            applied = await client.call_tool("apply_automation", {
                "kind": "make-target", "spec": spec, "force": True, "plan_hash": plan.structured_content["plan_hash"]})
            undone = await client.call_tool("undo_automation", {})
            errors += [(n, r.content) for n, r in (("apply_automation", applied), ("undo_automation", undone))
                       if r.is_error]
    assert errors == []
    assert {n for n, _ in calls} | {"generate_automation", "apply_automation", "undo_automation"} >= \
        {n for n in names if "workflow" not in n}  # every repository tool was called (design tools take no repo)
    assert ran(markers) == [], ran(markers)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
