"""The metrics tools through the protocol: git_metrics, pipeline_metrics, token_budget and opportunity_matrix, with
values worked out by hand from repositories built here, their budgets, caching, staleness and bad input."""

from __future__ import annotations

import os
import time

import pytest
from mcp import Client

from orchestrator_kit.server import build_server

from ..conftest import GIT_ENV, write_files
from .capability import all_pages, at, commit, error, ok, run_git, smallest_budget

pytestmark = pytest.mark.anyio

APP_V1 = "".join(f"line{i}\n" for i in range(1, 11))  # 10 lines
APP_V2 = "LINE1\n" + "".join(f"line{i}\n" for i in range(2, 11)) + "extra1\nextra2\n"  # -1 +3: 12 lines
APP_V3 = APP_V2 + "more1\nmore2\n"  # +2: 14 lines


@pytest.fixture(scope="module")
def history_repo(tmp_path_factory):
    """Four commits over two ISO weeks by three authors, two release tags and a revert:

    c1 alice 2026-01-05 (Mon, W02): app.py 10 lines, README.md 2 lines     <- tag v1.0.0
    c2 bob   2026-01-07 (W02):      app.py -1 +3 (12 lines)
    c3 alice 2026-01-13 (W03):      app.py +2 (14 lines)                    <- tag v1.1.0
    c4 carol 2026-01-15 (W03):      git revert c3: app.py -2 (12 lines)
    """
    root = tmp_path_factory.mktemp("history") / "svc"
    root.mkdir()
    run_git(root, "init", "-q", "-b", "main")
    c1 = commit(root, "Start", "alice", "2026-01-05T10:00:00+00:00", {"app.py": APP_V1, "README.md": "# svc\nhi\n"})
    run_git(root, "tag", "v1.0.0", c1)
    c2 = commit(root, "Tweak", "bob", "2026-01-07T10:00:00+00:00", {"app.py": APP_V2})
    c3 = commit(root, "More", "alice", "2026-01-13T10:00:00+00:00", {"app.py": APP_V3})
    run_git(root, "tag", "v1.1.0", c3)
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_NAME": "Carol", "GIT_AUTHOR_EMAIL": "carol@example.com",
           "GIT_COMMITTER_NAME": "Carol", "GIT_COMMITTER_EMAIL": "carol@example.com",
           "GIT_AUTHOR_DATE": "2026-01-15T10:00:00+00:00", "GIT_COMMITTER_DATE": "2026-01-15T10:00:00+00:00"}
    run_git(root, "revert", "--no-edit", c3, env=env)
    c4 = run_git(root, "rev-parse", "HEAD").strip()
    return root, {"c1": c1, "c2": c2, "c3": c3, "c4": c4}


async def test_git_metrics_worked_out_by_hand(history_repo):
    root, sha = history_repo
    async with Client(build_server([root])) as client:
        data = await ok(client, "git_metrics", max_tokens=20_000, detail="detailed")
    h = data["history"]
    assert data["repository"] == str(root.resolve()) and data["next_cursor"] is None
    assert h["available"] and not h["partial"]
    assert (h["commits"], h["merges"]) == (4, 0)
    assert h["first_commit"] == "2026-01-05T10:00:00Z" and h["last_commit"] == "2026-01-15T10:00:00Z"
    assert h["window_days"] == 10.0
    assert [(w["week"], w["commits"], w["authors"]) for w in h["commit_frequency"]["weeks"]] == [
        ("2026-W02", 2, 2), ("2026-W03", 2, 2),  # c1 alice + c2 bob; c3 alice + c4 carol
    ]
    assert h["commit_frequency"]["mean_per_week"] == 2.0
    assert h["authors"]["total"] == 3
    files = {f["path"]: (f["revisions"], f["lines_added"], f["lines_deleted"], f["authors"]) for f in h["churn"]["files"]}
    assert files == {"app.py": (4, 10 + 3 + 2 + 0, 0 + 1 + 0 + 2, 3), "README.md": (1, 2, 0, 1)}
    # hotspot = revisions x lines at HEAD: app.py 4 x 12, README.md 1 x 2
    assert [(x["path"], x["revisions"], x["lines"], x["score"]) for x in h["hotspots"]["items"]] == [
        ("app.py", 4, 12, 48), ("README.md", 1, 2, 2),
    ]
    assert h["hotspots"]["formula"]
    dora = h["dora"]
    assert [(r["name"], r["commit"], r["commits_shipped"]) for r in dora["releases"]] == [
        ("v1.0.0", sha["c1"], 1), ("v1.1.0", sha["c3"], 2),  # v1.1.0 ships c2 and c3
    ]
    assert [(r["commit"], r["reverts"]) for r in dora["reverts"]] == [(sha["c4"], sha["c3"])]
    assert dora["deployment_frequency"]["source"] == "release-tags" and dora["deployment_frequency"]["proxy"]
    assert dora["deployment_frequency"]["deployments"] == 2
    # lead time: c1 -> v1.0.0 0 h, c2 -> v1.1.0 (c3, six days later) 144 h, c3 0 h; c4 is not released
    lead = dora["lead_time"]
    assert (lead["commits_measured"], lead["commits_unreleased"], lead["median_hours"]) == (3, 1, 0.0)
    # caveats first: the lists of what the numbers miss come before any bulk list (empty here)
    assert [s["name"] for s in data["sections"][:3]] == ["partial_reasons", "diagnostics", "hotspots.items"]
    assert data["sections"][2] == {"name": "hotspots.items", "total": 2, "offset": 0, "returned": 2,
                                "omitted": 0}


OPTIONS = [({"since": "2026-01-10"}, 2), ({"max_commits": 1}, 1), ({"paths": ["README.md"]}, 1), ({"paths": ["*.py"]}, 4)]


async def test_git_metrics_options(history_repo):
    root, _ = history_repo
    async with Client(build_server([root])) as client:
        for arguments, commits in OPTIONS:  # c3 and c4 are after Jan 10; only c1 touches the README
            data = await ok(client, "git_metrics", **arguments)
            assert data["history"]["commits"] == commits, arguments


async def test_git_metrics_without_history_is_a_result_not_an_error(make_repo):
    root = make_repo({"a.txt": "x\n"})  # not a git repository
    async with Client(build_server([root])) as client:
        data = await ok(client, "git_metrics")
    assert data["history"]["available"] is False
    assert "not a git work tree" in data["history"]["diagnostics"][0]["reason"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"since": "last tuesday"}, "--since 'last tuesday' is neither a date"),
        ({"paths": ["../outside"]}, "is outside the repository"),
        ({"paths": [":(top)x"]}, "git pathspec magic is not accepted"),
        ({"paths": ["-p"]}, "could be read as an option"),
        ({"max_commits": 0}, "max_commits"),
        ({"top": 0}, "top"),
    ],
)
async def test_git_metrics_bad_options(history_repo, arguments, message):
    root, _ = history_repo
    async with Client(build_server([root])) as client:
        assert message in await error(client, "git_metrics", **arguments)


async def test_git_metrics_is_cached_until_a_commit_and_old_cursors_go_stale(history_repo, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(history_repo[0], root, symlinks=True)
    server = build_server([root])
    async with Client(server) as client:
        budget = await smallest_budget(client, "git_metrics", {})
        first = await ok(client, "git_metrics", max_tokens=budget)
        computed = server.state.results.computed
        again = await ok(client, "git_metrics", max_tokens=budget)
        assert server.state.results.computed == computed  # the later calls computed nothing
        assert again == first and first["next_cursor"] is not None
        commit(root, "Later", "dave", "2026-02-02T10:00:00+00:00", {"app.py": APP_V1})
        stale = await error(client, "git_metrics", max_tokens=budget, cursor=first["next_cursor"])
        fresh = await ok(client, "git_metrics", max_tokens=20_000)
    assert "stale" in stale
    assert fresh["history"]["commits"] == 5


async def test_git_metrics_pages_fit_and_lose_nothing(make_repo):
    root = make_repo({f"pkg{i % 4}/m{i:02}.py": f"v = {i}\n" for i in range(24)}, git_repo=True)
    for week in range(1, 7):
        commit(root, f"w{week}", ["alice", "bob"][week % 2], f"2026-01-{week * 4:02}T09:00:00Z",
               {f"pkg{week % 4}/m{j:02}.py": f"v = {week}\n" for j in range(week % 4, 24, 4)})
    async with Client(build_server([root])) as client:
        whole = await ok(client, "git_metrics", top=50, max_tokens=100_000, detail="detailed")
        smallest = await smallest_budget(client, "git_metrics", {"top": 50, "detail": "detailed"})
        joined = await all_pages(client, "git_metrics", {"top": 50, "detail": "detailed"}, smallest, inside="history")
    for section in whole["sections"]:
        assert joined[section["name"]] == at(whole["history"], section["name"]), section["name"]
    assert whole["history"]["churn"]["files_total"] == 24 and len(joined["churn.files"]) == 24


async def test_a_slow_history_pass_sends_heartbeats_and_a_cancelled_call_returns(history_repo, monkeypatch):
    import threading

    import anyio

    from orchestrator_kit import metrics
    from orchestrator_kit.mcp_tools import progress

    real = metrics.history_metrics
    two_beats = threading.Event()

    def slow(*args, **kwargs):
        if kwargs["top"] == 4:
            time.sleep(3.0)  # the call cancelled below would take 3 s
        else:
            # The pass lasts until the client has seen two heartbeats (a fixed sleep made the count depend on how
            # busy the machine was: CI once saw one beat in 0.45 s); if heartbeats stop coming, the wait ends after
            # 30 s and the count below fails.
            two_beats.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(metrics, "history_metrics", slow)
    monkeypatch.setattr(progress, "HEARTBEAT", 0.1)
    root, _ = history_repo
    events: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress, total, message):
        events.append((progress, total, message))
        if sum(1 for *_, text in events if text and text.startswith("reading git history: ")) >= 2:
            two_beats.set()

    async with Client(build_server([root])) as client:
        data = (await client.call_tool("git_metrics", {"top": 3}, progress_callback=on_progress)).structured_content
        assert data["history"]["commits"] == 4
        beats = [(p, total, message) for p, total, message in events if message.startswith("reading git history: ")]
        assert len(beats) >= 2 and all(total is None for _, total, _ in beats)  # seconds elapsed, no total
        assert [p for p, _, _ in beats] == sorted(p for p, _, _ in beats)
        started = time.monotonic()
        with anyio.CancelScope() as scope:

            async def cancel_on_first(progress, total, message):
                scope.cancel()

            await client.call_tool("git_metrics", {"top": 4}, progress_callback=cancel_on_first)
        assert scope.cancelled_caught and time.monotonic() - started < 2.0  # long before the pass would end
        after = await ok(client, "list_roots")  # the server goes on serving
    assert after["roots"][0]["path"] == str(root.resolve())


# ---------------------------------------------------------------- pipeline metrics (the shop of conftest.py)

CI = "github-actions:.github/workflows/ci.yml"
GITLAB = "gitlab-ci:.gitlab-ci.yml"


async def test_pipeline_metrics_of_the_shop(build):
    async with Client(build()) as client:
        data = await ok(client, "pipeline_metrics", max_tokens=20_000)
        one = await ok(client, "pipeline_metrics", pipeline_id=CI, max_tokens=20_000)
        unknown = await error(client, "pipeline_metrics", pipeline_id="github-actions:.github/workflows/cl.yml")
    m = data["metrics"]
    graphs = {g["pipeline"]: g for g in m["pipelines"]}
    assert sorted(graphs) == [CI, GITLAB]
    ci = graphs[CI]
    # build -> deploy; each job: 0.5 overhead + one `make build` (build, 3) or `make deploy` (deploy, 3)
    assert ci["critical_path"] == ["build", "deploy"] and ci["max_parallel_width"] == 1
    assert ci["critical_path_minutes"] == 7.0
    assert sorted((j["pipeline"], j["job"]) for j in m["jobs_without_timeout"]) == [
        (CI, "build"), (CI, "deploy"), (GITLAB, "build"),  # deploy_prod is manual: no timeout needed
    ]
    assert sorted((g["pipeline"], g["job"], g["kind"]) for g in m["manual_gates"]) == [
        (CI, "deploy", "environment"), (GITLAB, "deploy_prod", "manual-job"),
    ]
    assert [(r["command"], r["kind"], len(r["jobs"])) for r in m["repeated_steps"]] == [("make build", "build", 2)]
    assert m["missing_caches"] == []  # no install command anywhere
    crontab = [s for s in m["schedules"] if s["source"] == "crontab"]
    assert [(s["expression"], s["runs_per_year"]) for s in crontab] == [("0 3 * * *", 365)]
    assert CI in m["pipelines_without_concurrency"]
    assert "step_minutes_assumed" in m and m["formulas"]["critical_path_minutes"]
    assert [g["pipeline"] for g in one["metrics"]["pipelines"]] == [CI] and one["pipeline_id"] == CI
    assert "No pipeline with id" in unknown and f"Did you mean: {CI}" in unknown


# ---------------------------------------------------------------- token budget


async def test_token_budget_counted_by_hand(make_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))
    root = make_repo({"a.txt": "hello world\n", "docs/b.md": "hello\n", "img.bin": b"\x89PNG\x00\x01\x02"})
    async with Client(build_server([root])) as client:
        data = await ok(client, "token_budget")
        again = await ok(client, "token_budget", top=1)
    t = data["tokens"]
    # cl100k: "hello world\n" = hello, " world", "\n" (3); "hello\n" = hello, "\n" (2)
    assert (t["total_tokens"], t["files_counted"], t["files_skipped"]) == (5, 2, 1)
    assert [(f["path"], f["tokens"]) for f in t["top_files"]] == [("a.txt", 3), ("docs/b.md", 2)]
    assert [(d["path"], d["files"], d["tokens"]) for d in t["directories"]] == [(".", 1, 3), ("docs", 1, 2)]
    assert t["skipped"] == [{"path": "img.bin", "reason": "binary"}]
    assert "estimate" in t["label"].lower() or "Estimated" in t["label"]
    assert [f["path"] for f in again["tokens"]["top_files"]] == ["a.txt"]
    assert again["tokens"]["cache_hits"] == 3  # the second count read every file's blob id from the cache
    assert again["tokens"]["cache_misses"] == 0


async def test_token_budget_pages(make_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))
    root = make_repo({f"d{i % 7}/f{i:03}.txt": "word " * (i + 1) for i in range(60)})
    async with Client(build_server([root])) as client:
        whole = await ok(client, "token_budget", top=60, max_tokens=100_000)
        budget = await smallest_budget(client, "token_budget", {"top": 60})
        joined = await all_pages(client, "token_budget", {"top": 60}, budget, inside="tokens")
    assert joined["top_files"] == whole["tokens"]["top_files"] and len(joined["top_files"]) == 60
    assert joined["directories"] == whole["tokens"]["directories"]


# ---------------------------------------------------------------- opportunity matrix


async def test_opportunity_matrix_of_the_shop(build, shop):
    async with Client(build()) as client:
        data = await ok(client, "opportunity_matrix", max_tokens=30_000)
        procedures = await ok(client, "opportunity_matrix", kind="manual-procedure", max_tokens=30_000)
    matrix = data["matrix"]
    kinds = {o["kind"] for o in matrix["opportunities"]}
    assert "manual-procedure" in kinds and "manual-gate" in kinds
    runbook = procedures["matrix"]["opportunities"]
    assert [o["related"] for o in runbook] == [["docs/runbooks/release.md#releasing"]]
    assert runbook[0]["evidence"][0]["path"] == "docs/runbooks/release.md"
    assert runbook[0]["id"].startswith("opp-") and procedures["total"] == 1
    assert data["total"] == len(matrix["opportunities"])
    assert matrix["formulas"]["hours_saved_per_year"].startswith(
        "frequency_per_year x duration_minutes / 60 x automation_potential (expected values)"
    )
    for o in matrix["opportunities"]:  # the stated formula holds for every row
        expected = o["frequency_per_year"]["value"] * o["duration_minutes"]["value"] / 60 * o["automation_potential"]
        assert abs(o["hours_saved_per_year"] - expected) <= 0.01 + 0.01 * expected
    assert data["generate_with"]["manual-procedure"] == ["shell-script", "github-workflow"]
    # one commit of history: too short a window to annualize, so frequencies are labelled assumptions
    assert all(o["frequency_per_year"]["assumption"] for o in runbook)


async def test_every_metrics_result_stays_in_budget_with_many_items(build, shop):
    write_files(shop, {f"docs/runbooks/r{i:02}.md": f"# Restore {i}\n\n1. `ssh db{i}`\n2. `pg_restore -d x{i} d`\n"
                       for i in range(25)})
    async with Client(build()) as client:
        for tool in ("pipeline_metrics", "opportunity_matrix"):
            inside = {"pipeline_metrics": "metrics", "opportunity_matrix": "matrix"}[tool]
            whole = await ok(client, tool, max_tokens=100_000)
            budget = await smallest_budget(client, tool, {})
            joined = await all_pages(client, tool, {}, budget, inside=inside)
            for section in whole["sections"]:
                assert joined[section["name"]] == at(whole[inside], section["name"]), (tool, section["name"])
    assert len(joined["opportunities"]) >= 25


async def test_git_metrics_leaves_out_generated_files_unless_asked(tmp_path):
    """Six commits change app.go (3 lines) and go.sum (30 lines) together, and two testdata files: go.sum would be
    the first hotspot (6 x 30) and every pair is coupled at 100%."""
    root = tmp_path / "mod"
    root.mkdir()
    run_git(root, "init", "-q", "-b", "main")
    for n in range(6):
        commit(root, f"c{n}", "alice", f"2026-02-{n + 2:02d}T10:00:00+00:00", {
            "app.go": f"a{n}\nb\nc\n", "go.sum": "".join(f"s{n} {i}\n" for i in range(30)),
            "testdata/in.txt": f"in {n}\n", "testdata/out.txt": f"out {n}\n"})
    async with Client(build_server([root])) as client:
        default = (await ok(client, "git_metrics", max_tokens=20_000, detail="detailed"))["history"]
        kept = (await ok(client, "git_metrics", max_tokens=20_000, detail="detailed", include_generated=True,
                         include_fixtures=True))["history"]
    assert [x["path"] for x in default["hotspots"]["items"]] == ["app.go", "testdata/in.txt", "testdata/out.txt"]
    assert default["hotspots"]["left_out"] == {"lock file": 1}
    assert [(x["path"], x["score"]) for x in default["hotspots"]["left_out_items"]] == [("go.sum", 180)]
    # 4 files, 6 pairs: 3 with go.sum, 1 of two fixtures, 2 kept (app.go with each fixture)
    assert default["coupling"]["pairs_left_out"] == {"a generated file": 3, "both test fixtures": 1}
    assert len(default["coupling"]["pairs"]) == 2
    assert kept["hotspots"]["items"][0]["path"] == "go.sum" and kept["hotspots"]["left_out"] == {}
    assert kept["coupling"]["pairs_left_out"] == {} and len(kept["coupling"]["pairs"]) == 6
