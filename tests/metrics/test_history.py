"""History metrics on real git repositories with scripted history; every expected number is worked out by hand
from the history in `conftest.build_h1` (its docstring lists the commits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator_kit.errors import ConfinementError, InputError
from orchestrator_kit.metrics.history import history_metrics, parse_since
from orchestrator_kit.repo import Workspace

from ..conftest import git
from .conftest import Scripted, Stop, lines, stopping_at


@pytest.fixture(scope="module")
def m(h1_template):
    return history_metrics(h1_template.root)


def test_counts_window_and_query(m):
    assert m.available and not m.partial
    assert m.commits == 12  # c1..c11 and c14
    assert m.merges == 1  # c11
    assert m.first_commit == "2026-01-05T10:00:00Z"
    assert m.last_commit == "2026-02-02T10:00:00Z"
    assert m.window_days == 28.0
    assert m.query == "git log --numstat -M --diff-merges=off HEAD"
    assert m.diagnostics == []


def test_commit_frequency_per_iso_week(m):
    weeks = [(w.week, w.start, w.commits, w.authors) for w in m.commit_frequency.weeks]
    assert weeks == [
        ("2026-W02", "2026-01-05", 3, 2),  # c1 alice, c2 bob, c3 alice
        ("2026-W03", "2026-01-12", 5, 3),  # c4 carol, c5 bob, c6 alice, c7 carol, c8 alice
        ("2026-W04", "2026-01-19", 3, 2),  # c9 bob, c10 alice, c11 alice
        ("2026-W05", "2026-01-26", 0, 0),
        ("2026-W06", "2026-02-02", 1, 1),  # c14 bob
    ]
    assert m.commit_frequency.mean_per_week == 2.4  # 12 / 5
    assert m.commit_frequency.median_per_week == 3  # median of 3, 5, 3, 0, 1
    assert m.commit_frequency.active_weeks == 4
    assert "ISO week" in m.commit_frequency.formula


def test_authors(m):
    assert m.authors.total == 3
    assert m.authors.active_last_90_days == 3
    top = {(a.email, a.commits, a.lines_added, a.lines_deleted) for a in m.authors.top}
    assert top == {
        ("alice@example.com", 6, 10 + 4 + 2 + 1 + 1 + 1 + 3, 0),  # c1 16, c3, c6, c8 CHANGELOG 1 each, c10 guide 3
        ("bob@example.com", 4, 5 + 3 + 1 + 3, 0),  # c2 app 5 + guide 3, c5 1, c9 3; c14 binary adds no lines
        ("carol@example.com", 2, 0, 1),  # c4 rename 0/0, c7 revert -1
    }
    assert [a.email for a in m.authors.top] == ["alice@example.com", "bob@example.com", "carol@example.com"]


def test_churn_per_file_follows_the_rename(m):
    files = {f.path: (f.revisions, f.lines_added, f.lines_deleted, f.churn, f.authors, f.binary, f.exists)
             for f in m.churn.files}
    assert files == {
        "src/app.py": (3, 18, 0, 18, 2, False, True),  # c1 10, c2 5, c9 3
        "src/helpers.py": (4, 5, 1, 6, 3, False, True),  # c1 (as util.py) 4, c4 rename 0/0, c5 +1, c7 -1
        "docs/guide.md": (2, 6, 0, 6, 2, False, True),  # c2 3, c10 3
        "CHANGELOG.md": (3, 3, 0, 3, 1, False, True),
        "README.md": (1, 2, 0, 2, 1, False, True),
        "logo.png": (2, 0, 0, 0, 2, True, True),  # c1, c14: binary, no lines
    }
    # Ranked by churn, then revisions (helpers 4 before guide 2), then path.
    assert [f.path for f in m.churn.files] == [
        "src/app.py", "src/helpers.py", "docs/guide.md", "CHANGELOG.md", "README.md", "logo.png"]
    assert (m.churn.files_total, m.churn.lines_added, m.churn.lines_deleted) == (6, 34, 1)
    dirs = {d.path: (d.files, d.revisions, d.churn) for d in m.churn.directories}
    assert dirs == {"src": (2, 6, 24), ".": (3, 5, 5), "docs": (1, 2, 6)}  # src: c1 c2 c4 c5 c7 c9


def test_no_renames_counts_a_rename_as_delete_plus_add(h1_template, m):
    plain = history_metrics(h1_template.root, renames=False)
    files = {f.path: (f.revisions, f.lines_added, f.lines_deleted) for f in plain.churn.files}
    assert files["src/util.py"] == (2, 4, 4)  # c1 +4, c4 -4
    assert files["src/helpers.py"] == (3, 5, 1)  # c4 +4, c5 +1, c7 -1
    assert plain.churn.files_total == 7
    # Renaming a 4-line file adds 4 deleted + 4 added lines of churn.
    total = plain.churn.lines_added + plain.churn.lines_deleted
    assert total - (m.churn.lines_added + m.churn.lines_deleted) == 8
    assert "--no-renames" in plain.options.rename_handling and "-M" in m.options.rename_handling


def test_hotspots_are_revisions_times_current_lines(m):
    assert [(h.path, h.revisions, h.lines, h.score) for h in m.hotspots.items] == [
        ("src/app.py", 3, 18, 54),
        ("src/helpers.py", 4, 4, 16),  # the revert left 4 lines
        ("docs/guide.md", 2, 6, 12),
        ("CHANGELOG.md", 3, 3, 9),
        ("README.md", 1, 2, 2),
    ]  # logo.png is binary: no lines, not a hotspot


def test_fragmentation(m):
    files = [(f.path, f.authors, f.revisions, f.fragmentation, f.main_author, f.main_author_share)
             for f in m.fragmentation.files]
    assert files == [
        ("src/helpers.py", 3, 4, 0.625, "Carol Example", 0.5),  # 1 - (1/16 + 4/16 + 1/16)
        ("docs/guide.md", 2, 2, 0.5, "Bob Example", 0.5),  # tie on share: the later email sorts first
        ("logo.png", 2, 2, 0.5, "Bob Example", 0.5),
        ("src/app.py", 2, 3, 0.4444, "Bob Example", 0.6667),  # 1 - (1/9 + 4/9)
    ]
    assert m.fragmentation.mean == round((0.625 + 0.5 + 0.5 + 4 / 9) / 6, 4)


def test_bus_factor(m):
    found = {d.path: (d.bus_factor, d.authors, d.measure, [(a.author, a.share) for a in d.top_authors])
             for d in m.bus_factor.directories}
    assert found["src"] == (1, 3, "lines", [("Alice Example", round(14 / 24, 4)), ("Bob Example", round(9 / 24, 4)),
                                            ("Carol Example", round(1 / 24, 4))])
    assert found["docs"][:2] == (2, 2)  # 3 lines each: one author alone has exactly half, not more
    assert found["."][:2] == (1, 2)  # alice 5 lines; bob only changed the binary logo (0 lines)
    assert [d.path for d in m.bus_factor.directories] == ["src", "docs", "."]  # by churn 24, 6, 5


def test_dora_release_tags(m, h1_template):
    dora = m.dora
    shas = h1_template.shas
    assert [(r.name, r.commit, r.time, r.patch_release, r.commits_shipped) for r in dora.releases] == [
        ("v1.0.0", shas["c3"], "2026-01-09T10:00:00Z", False, 3),  # c1 c2 c3
        ("v1.1.0", shas["c6"], "2026-01-14T12:00:00Z", False, 3),  # c4 c5 c6; annotated: the tagger date
        ("v1.1.1", shas["c8"], "2026-01-15T15:00:00Z", True, 2),  # c7 c8
    ]
    assert sorted((t.name, t.reason) for t in dora.skipped_tags) == [
        ("nightly-build", "not a version (2 to 4 numeric parts, optional prefix and v)"), ("v2.0.0-rc.1", "pre-release (rc.1)")]
    assert (dora.series.chosen, dora.series.reason) == ("", "the root series (tags without a module prefix)")
    assert [(r.commit, r.reverts) for r in dora.reverts] == [(shas["c7"], shas["c5"])]
    freq = dora.deployment_frequency
    assert freq.proxy and freq.source == "release-tags" and freq.deployments == 3
    # deploy days per ISO week W02..W06: 1, 2, 0, 0, 0 (median 0); per month Jan 3, Feb 0 (median 1.5)
    assert (freq.median_deploy_days_per_week, freq.median_deploy_days_per_month, freq.category) == (0, 1.5, "monthly")
    assert freq.per_week == round(3 / (29 / 7), 3)  # 29 calendar days from Jan 5 to Feb 2
    lead = dora.lead_time
    # c1 96 h, c2 48, c3 0, c4 50, c5 26, c6 2, c7 6, c8 0 -> sorted 0 0 2 6 26 48 50 96
    assert (lead.commits_measured, lead.commits_unreleased) == (8, 4)  # c9 c10 c11 c14 unreleased
    assert lead.median_hours == 16.0 and lead.p90_hours == 96.0
    failure = dora.change_failure
    assert (failure.failed, failure.deployments, failure.rate) == (1, 3, 0.3333)
    [failed] = failure.failures
    assert failed.release == "v1.1.0"
    # v1.1.1 (1.1 days later) changes src/helpers.py, which v1.1.0 changed (c5); CHANGELOG.md is bookkeeping.
    assert failed.reasons[0] == "patch release v1.1.1 1.1 days later changes what it changed (src/helpers.py)"
    assert failed.reasons[1].startswith(f"its commit {shas['c5'][:12]} was reverted by {shas['c7'][:12]}")
    assert (failed.restored_by, failed.restore_hours) == ("v1.1.1", 27.0)  # 01-14 12:00 -> 01-15 15:00
    assert (dora.time_to_restore.incidents, dora.time_to_restore.median_hours) == (1, 27.0)
    for metric in (freq, lead, failure, dora.time_to_restore):
        assert metric.proxy and metric.formula


def test_since_max_commits_and_path_filters(h1_template):
    since = history_metrics(h1_template.root, since="2026-01-12")
    assert since.commits == 9  # c4..c11 and c14 (committer date on or after Jan 12)
    assert since.options.since == "2026-01-12T00:00:00Z"
    assert "--since=2026-01-12T00:00:00+00:00" in since.query
    # Only releases inside the window count: v1.1.0 and v1.1.1; v1.0.0 is listed with the reason.
    assert [r.name for r in since.dora.releases] == ["v1.1.0", "v1.1.1"]
    assert ("v1.0.0", "before the history window") in [(t.name, t.reason) for t in since.dora.skipped_tags]
    # The first release in the window counts only commits after the window's start: c4 c5 c6.
    assert since.dora.lead_time.first_release_start == "2026-01-12T10:00:00Z"
    assert since.dora.releases[0].commits_shipped == 3
    newest = history_metrics(h1_template.root, max_commits=2)
    assert newest.commits == 2 and newest.merges == 1  # c14 and the merge c11
    docs = history_metrics(h1_template.root, paths=["docs"])
    assert docs.commits == 2 and [f.path for f in docs.churn.files] == ["docs/guide.md"]
    assert docs.query.endswith("-- :(literal)docs")
    globbed = history_metrics(h1_template.root, paths=["src/*.py"])
    assert globbed.commits == 6 and {f.path for f in globbed.churn.files} == {"src/app.py", "src/helpers.py"}
    # With a path filter the releases' containment comes from `git rev-list` over the tags.
    assert (globbed.dora.lead_time.commits_measured, globbed.dora.lead_time.commits_unreleased) == (5, 1)  # c9


def test_a_subfolder_workspace_reads_only_that_folder(h1_template):
    sub = history_metrics(h1_template.root / "src")
    assert sub.commits == 6  # c1 c2 c4 c5 c7 c9 touch src/
    assert "--relative" in sub.query
    assert {f.path for f in sub.churn.files} == {"app.py", "helpers.py"}  # relative to the workspace
    assert [h.path for h in sub.hotspots.items] == ["app.py", "helpers.py"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_commits": 0}, "--max-commits must be at least 1"),
        ({"since": "last tuesday-ish"}, "is neither a date"),
        ({"paths": ["../outside"]}, "is outside the repository"),
        ({"paths": ["/etc"]}, "is outside the repository"),
        ({"paths": [":(top)src"]}, "pathspec magic"),
        ({"paths": ["--all"]}, "could be read as an option"),
        ({"paths": [""]}, "empty"),
        ({"paths": ["a\x00b"]}, "NUL"),
        ({"top": 0}, "at least 1"),
    ],
)
def test_bad_options_are_input_errors(h1_template, kwargs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        history_metrics(h1_template.root, **kwargs)


def test_a_path_filter_through_a_symlink_that_leaves_the_root_is_refused(h1, tmp_path):
    (h1.root / "escape").symlink_to(tmp_path)
    with pytest.raises(ConfinementError, match="outside the repository"):
        history_metrics(h1.root, paths=["escape"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-12", datetime(2026, 1, 12, tzinfo=UTC)),
        ("2026-01-12T08:30:00+02:00", datetime(2026, 1, 12, 6, 30, tzinfo=UTC)),
        ("2026-01-12T08:30:00Z", datetime(2026, 1, 12, 8, 30, tzinfo=UTC)),
        ("90 days", datetime(2026, 3, 3, tzinfo=UTC)),
        ("12w", datetime(2026, 3, 9, tzinfo=UTC)),  # 84 days
        ("6 months ago", datetime(2025, 12, 3, tzinfo=UTC)),  # 180 days
        ("1y", datetime(2025, 6, 1, tzinfo=UTC)),  # 365 days
    ],
)
def test_parse_since(text, expected):
    assert parse_since(text, now=datetime(2026, 6, 1, tzinfo=UTC)) == expected


def test_empty_repository(make_repo):
    root = make_repo({}, git_repo=True)
    result = history_metrics(root)
    assert not result.available and result.commits == 0
    assert [d.reason for d in result.diagnostics] == ["empty repository: HEAD has no commit yet"]
    assert result.dora.deployment_frequency.category == "none"


def test_a_folder_without_git(tmp_path):
    (tmp_path / "x.txt").write_text("x\n")
    result = history_metrics(tmp_path)
    assert not result.available
    assert "not a git work tree" in result.diagnostics[0].reason


def test_shallow_clone_is_partial_and_skips_the_boundary_diff(h1_template, tmp_path):
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{h1_template.root}", str(clone))
    result = history_metrics(clone)
    assert result.partial and result.commits == 1  # only c14, which is the shallow boundary
    assert result.churn.files_total == 0  # its diff would list the whole tree as added; not counted
    assert any("shallow clone" in reason for reason in result.partial_reasons)
    assert any("git fetch --unshallow" in d.reason for d in result.diagnostics)


def test_shallow_clone_of_three_generations(h1_template, tmp_path):
    clone = tmp_path / "shallow3"
    git(tmp_path, "clone", "-q", "--depth", "3", f"file://{h1_template.root}", str(clone))
    boundary = set((clone / ".git" / "shallow").read_text().split())
    result = history_metrics(clone)
    # --depth 3 from c14 reaches c11 and its two parents c10 and c9, which are the boundary.
    assert boundary == {h1_template.shas["c10"], h1_template.shas["c9"]}
    assert result.commits == 4 and result.partial
    assert [(f.path, f.revisions, f.churn) for f in result.churn.files] == [("logo.png", 1, 0)]  # c14 only


def _delete_blob(repo: Scripted, spec: str) -> str:
    blob = git(repo.root, "rev-parse", spec).strip()
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return blob


def test_a_missing_blob_gives_partial_results_and_the_walk_goes_on(h1):
    blob = _delete_blob(h1, f"{h1.shas['c5']}:src/helpers.py")  # the 5-line version: only c5 and c6 have it
    result = history_metrics(h1.root)
    assert result.partial and result.commits == 12  # nothing lost: c5 and c7 are counted without their changes
    gaps = [d.reason for d in result.diagnostics if "could not be read" in d.reason]
    assert len(gaps) == 2
    assert gaps[0].startswith(f"commit {h1.shas['c7'][:12]}") and gaps[1].startswith(f"commit {h1.shas['c5'][:12]}")
    assert blob[:7] in gaps[0] or "unable to read" in gaps[0]
    helpers = next(f for f in result.churn.files if f.path == "src/helpers.py")
    assert (helpers.revisions, helpers.lines_added, helpers.lines_deleted) == (2, 4, 0)  # c1 and the rename c4
    app = next(f for f in result.churn.files if f.path == "src/app.py")
    assert app.churn == 18  # commits read after the gaps still count


def test_a_partial_clone_never_fetches_and_reports_the_gaps(h1_template, tmp_path):
    git(h1_template.root, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{h1_template.root}", str(clone))
    before = git(clone, "count-objects", "-v")
    result = history_metrics(clone)
    assert git(clone, "count-objects", "-v") == before  # GIT_NO_LAZY_FETCH: no blob was fetched
    assert result.partial and result.commits == 12
    assert any("promisor" in d.reason or "unable to read" in d.reason for d in result.diagnostics)
    assert any(d.reason.startswith("partial clone:") for d in result.diagnostics)


def test_an_inherited_git_dir_cannot_redirect_the_pass(h1_template, make_repo, monkeypatch):
    other = make_repo({"other.txt": "x\n"}, git_repo=True)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    result = history_metrics(h1_template.root)
    assert result.commits == 12 and "other.txt" not in {f.path for f in result.churn.files}


def test_hostile_git_config_runs_nothing(h1, tmp_path):
    marker = tmp_path / "pwned"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat \"$1\" 2>/dev/null\n")
    script.chmod(0o755)
    for key, value in [("diff.external", str(script)), ("gpg.program", str(script)), ("log.showSignature", "true"),
                       ("diff.py.textconv", str(script)), ("core.fsmonitor", str(script)), ("core.pager", str(script)),
                       ("diff.renames", "false"), ("log.follow", "true")]:
        git(h1.root, "config", key, value)
    (h1.root / ".gitattributes").write_text("*.py diff=py\n")
    result = history_metrics(h1.root)
    assert not marker.exists()
    assert result.commits == 12
    helpers = next(f for f in result.churn.files if f.path == "src/helpers.py")
    assert helpers.revisions == 4  # diff.renames=false in the config did not turn rename following off


def test_odd_file_names_and_messages_with_separator_bytes(tmp_path):
    repo = Scripted(tmp_path / "odd")
    names = ["tab\tname.txt", "new\nline.txt", "ünïcödé.md", "a => b.txt", "{x}.txt", "sp ace/f.txt"]
    repo.commit("o1", "2026-03-02T10:00:00+00:00", "alice", "odd \x1e\x1f names %x1e",
                files={n: lines(2) for n in names})
    repo.commit("o2", "2026-03-03T10:00:00+00:00", "bob", "rename {x}", rename={"{x}.txt": "dir/{y} => z.txt"})
    result = history_metrics(repo.root)
    assert result.commits == 2 and not result.diagnostics
    files = {f.path: (f.revisions, f.churn) for f in result.churn.files}
    assert files == {**{n: (1, 2) for n in names if n != "{x}.txt"}, "dir/{y} => z.txt": (2, 2)}


def test_records_split_across_read_chunks_parse_the_same(h1_template, m, monkeypatch):
    from orchestrator_kit.metrics import gitlog

    monkeypatch.setattr(gitlog, "READ_CHUNK", 7)
    small = history_metrics(h1_template.root)
    assert small.churn == m.churn and small.commits == m.commits and small.dora == m.dora


def test_coupling_uses_code_maat_degree_and_thresholds(tmp_path):
    repo = Scripted(tmp_path / "coupled")
    hour = iter(range(1, 200))

    def when() -> str:  # one commit an hour from 2026-01-01 01:00
        n = next(hour)
        return f"2026-01-{1 + n // 24:02d}T{n % 24:02d}:00:00+00:00"

    counter = iter(range(10_000))

    def touch(*names: str) -> None:
        repo.commit(f"k{next(counter)}", when(), files={n: f"{next(counter)}\n" for n in names})

    for _ in range(6):
        touch("a.py", "b.py")  # shared 6
    for _ in range(2):
        touch("a.py")  # a: 8 revisions, b: 6 -> degree 6 / 7 x 100 = 85.7 -> 85
    for _ in range(5):
        touch("d.py", "e.py")  # shared 5 ...
    for _ in range(15):
        touch("d.py")
        touch("e.py")  # ... but 20 revisions each: degree 25 < 30
    for _ in range(4):
        touch("f.py", "g.py")  # degree 100 but only 4 shared < 5 and mean revisions 4 < 5
    touch("a.py", "b.py", *(f"bulk/{i}.txt" for i in range(30)))  # 32 files > 30: left out entirely
    result = history_metrics(repo.root)
    coupling = result.coupling
    assert coupling.commits_skipped_as_too_large == 1
    assert [(p.path, p.coupled, p.degree, p.shared_revisions, p.revisions, p.coupled_revisions, p.average_revisions)
            for p in coupling.pairs] == [("a.py", "b.py", 85, 6, 8, 6, 7.0)]
    assert (coupling.min_revisions, coupling.min_shared_revisions, coupling.min_degree,
            coupling.max_changeset_size) == (5, 5, 30, 30)


def test_without_tags_a_deploy_on_push_pipeline_makes_first_parent_commits_the_deploys(h1_template):
    from orchestrator_kit.metrics.models import DeploySignal
    from orchestrator_kit.models import Evidence

    no_tags = h1_template.root.parent / "no-tags"
    git(h1_template.root.parent, "clone", "-q", "--no-tags", f"file://{h1_template.root}", str(no_tags))
    signal = DeploySignal(pipeline="github-actions:.github/workflows/deploy.yml", job="deploy",
                          on_push_branches=["main"], evidence=Evidence(path="x", line_start=1, line_end=1))
    result = history_metrics(no_tags, deploy_signals=[signal])
    dora = result.dora
    assert dora.deployment_frequency.source == "first-parent-pushes"
    # first parents of HEAD: c14, c11, c10, c8, c7, c6, c5, c4, c3, c2, c1 (c9 came in through the merge)
    assert dora.deployment_frequency.deployments == 11
    assert dora.lead_time.commits_measured == 12 and dora.lead_time.commits_unreleased == 0
    # c9 (01-20 10:00) shipped with the merge c11 (01-22 10:00): 48 h; every other commit is its own deploy (0 h)
    assert dora.lead_time.p90_hours == 0.0 and dora.lead_time.median_hours == 0.0
    assert dora.corroborated_by == [signal.pipeline]
    # The revert c7 of c5 came after c5 was deployed: c5's deploy (01-13 10:00) failed; c7's deploy (01-15 09:00) restored it: 47 h.
    assert dora.change_failure.failed == 1
    assert dora.change_failure.failures[0].restore_hours == 47.0
    without = history_metrics(no_tags)
    assert without.dora.deployment_frequency.source == "none" and without.dora.releases == []


def test_workspace_instance_is_accepted(h1_template):
    assert history_metrics(Workspace(h1_template.root), max_commits=3).commits == 3


def test_hotspots_fall_back_to_the_working_tree_when_git_cannot_count(h1_template, m, monkeypatch):
    from orchestrator_kit.metrics import history

    monkeypatch.setattr(history, "head_lines", lambda *args: None)
    fallback = history_metrics(h1_template.root)
    assert fallback.hotspots.items == m.hotspots.items  # the working tree is HEAD here
    assert "working tree" in fallback.hotspots.formula and "at HEAD" in m.hotspots.formula


def test_progress_hook_sees_every_commit_and_can_stop_the_pass(tmp_path):
    import os
    import subprocess

    from orchestrator_kit.metrics.history import history_metrics

    root = tmp_path / "many"
    root.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@example.com", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "-C", str(root), "init", "-q", "-b", "main"], check=True, env=env)
    for number in range(30):
        (root / "f.txt").write_text(f"{number}\n")
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", f"c{number}"], check=True, env=env)

    counts: list[int] = []
    history_metrics(root, progress=counts.append)
    assert counts == list(range(1, 31))

    stop_after_three, calls = stopping_at(3)
    with pytest.raises(Stop):
        history_metrics(root, progress=stop_after_three)
    assert calls == [1, 2, 3]  # the pass stopped at once; git was killed rather than drained


def test_a_file_name_that_is_not_utf8_exists_and_is_a_hotspot(tmp_path, monkeypatch):
    # git log prints the name's bytes (read here as U+FFFD); the workspace lists it with surrogates: the same file.
    import os

    from orchestrator_kit.metrics import history

    root = tmp_path / "latin1"
    root.mkdir()
    git(root, "init", "-q")
    name = b"caf\xe9.txt"
    with open(os.path.join(os.fsencode(root), name), "wb") as fh:
        fh.write(b"1\n2\n3\n")
    (root / "gone.txt").write_text("x\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    git(root, "rm", "-q", "gone.txt")
    git(root, "commit", "-qm", "two")
    shown = "caf\ufffd.txt"
    result = history_metrics(root)
    exists = {f.path: f.exists for f in result.churn.files}
    assert exists == {shown: True, "gone.txt": False}
    assert [(h.path, h.lines) for h in result.hotspots.items] == [(shown, 3)]
    monkeypatch.setattr(history, "head_lines", lambda *args: None)  # the working-tree fallback reads it too
    assert [(h.path, h.lines) for h in history_metrics(root).hotspots.items] == [(shown, 3)]


def test_separator_bytes_in_author_names_and_emails_shift_no_field(tmp_path):
    # `git commit` keeps control characters in an identity: a US in the email moved the name into the email and
    # the name into the message (a name ending 'This reverts commit <sha>.' would have made a revert).
    import os
    import subprocess

    root = tmp_path / "idents"
    root.mkdir()
    git(root, "init", "-q")
    idents = [("Ev\x1fil\x1e Name", "e\x1fv@x"), ("x\x1fThis reverts commit " + "a" * 40 + ".", "r@x")]
    for number, (name, email) in enumerate(idents):
        (root / "a.txt").write_text(f"{number}\n" * (number + 1))
        git(root, "add", "a.txt")
        subprocess.run(["git", "-C", str(root), "commit", "-qm", f"change {number}"], check=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                            "GIT_COMMITTER_NAME": "c", "GIT_COMMITTER_EMAIL": "c@x", "HOME": str(tmp_path)})
    # The reference: git's own identities, NUL-separated (names and emails cannot hold NUL).
    printed = git(root, "log", "--format=%aN%x00%aE%x00").split("\x00")[:-1]
    expected = {(n.strip("\n"), e) for n, e in zip(printed[::2], printed[1::2], strict=True)}
    assert all("\x1f" in n + e for n, e in expected) and len(expected) == 2  # git kept the separators
    result = history_metrics(root)
    assert {(a.name, a.email) for a in result.authors.top} == expected
    assert result.dora.reverts == []  # no message says 'This reverts commit'


def test_an_address_is_named_by_its_most_frequent_name_even_when_the_log_stops_early(tmp_path, monkeypatch):
    from orchestrator_kit.metrics import gitlog

    from . import conftest as metrics_conftest

    monkeypatch.setitem(metrics_conftest.AUTHORS, "ann", ("Ann Lee", "ann@example.com"))
    monkeypatch.setitem(metrics_conftest.AUTHORS, "ann2", ("A. Lee", "ann@example.com"))
    repo = Scripted(tmp_path / "names")
    for day in (1, 2, 3):
        repo.commit(f"c{day}", f"2026-03-0{day}T10:00:00+00:00", "ann", files={f"f{day}.txt": lines(2)})
    repo.commit("c4", "2026-03-04T10:00:00+00:00", "ann2", files={"f4.txt": lines(2)})
    full = history_metrics(repo.root)  # the names counted as the log streamed: 3 commits as Ann Lee, 1 as A. Lee
    assert [(a.name, a.commits) for a in full.authors.top] == [("Ann Lee", 4)]

    real = gitlog._stream

    def newest_commit_then_fail(root, args, env, nonce, stdin, sink):
        records: list[bytes] = []
        real(root, args, env, nonce, stdin, records.extend)
        sink([r for r in records if r][:1])
        return 1, "fatal: the disk went away", b""

    monkeypatch.setattr(gitlog, "_stream", newest_commit_then_fail)
    cut = history_metrics(repo.root)
    assert cut.partial and cut.commits == 1  # only c4, by A. Lee, was read
    # Named from git's own count over the whole window, not from the one commit read.
    assert [(a.name, a.commits) for a in cut.authors.top] == [("Ann Lee", 1)]
