"""The shipped sample repository: built deterministically as a real git repo, and scanned to the expected inventory.

The expectations below were read off evals/repos/acme-shop/files by hand (line numbers counted in the files).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator_kit import InputError, scan
from orchestrator_kit.samples import build_sample_repo

from .conftest import git

SAMPLE = Path(__file__).resolve().parent.parent / "evals" / "repos" / "acme-shop"


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("acme") / "acme-shop")


def test_history_is_real_and_deterministic(acme, tmp_path):
    again = build_sample_repo(SAMPLE, tmp_path / "again")
    assert (acme.commits, acme.tags) == (13, 3)
    assert git(acme.path, "rev-parse", "HEAD") == git(again.path, "rev-parse", "HEAD")
    assert git(acme.path, "tag", "--list").split() == ["v1.0.0", "v1.0.1", "v1.1.0"]
    log = git(acme.path, "log", "--format=%an|%aI|%s").splitlines()
    assert log[0] == "Alice Martin|2026-09-28T16:10:00+00:00|Release v1.1.0"
    assert any(line.startswith('Carol Diaz|2026-08-19T08:15:00+00:00|Revert "Cache carts in memory"') for line in log)
    assert git(acme.path, "status", "--porcelain") == ""


def test_scan_finds_what_is_in_the_sample(acme):
    inventory = scan(acme.path)
    assert inventory.diagnostics == []
    assert inventory.git is not None and inventory.git.branch == "main"

    pipelines = {p.name: p for p in inventory.pipelines}
    assert set(pipelines) == {"CI", "Nightly integration", "Release"}
    ci = pipelines["CI"]
    assert [(j.id, j.needs) for j in ci.jobs] == [
        ("lint", []), ("test", ["lint"]), ("build-image", ["test"]), ("deploy-staging", ["build-image"])
    ]
    assert ci.jobs[1].matrix is not None and ci.jobs[1].matrix.fan_out == 2
    assert ci.jobs[3].environment == "staging"
    assert [t.kind for t in pipelines["Release"].triggers] == ["tag"]

    assert sorted((s.source, s.expression) for s in inventory.schedules) == [
        ("crontab", "*/10 * * * *"), ("crontab", "0 3 * * *"), ("crontab", "30 4 * * 1"),
        ("github-actions", "0 2 * * *"), ("kubernetes-cronjob", "15 1 * * *"),
    ]
    assert {s.timezone for s in inventory.schedules if s.source == "crontab"} == {"Europe/Berlin"}

    make = {t.name: t for t in inventory.tasks if t.runner == "make"}
    assert set(make) == {"help", "install", "lint", "test", "integration-test", "docker-build", "docker-push",
                         "deploy", "rollback", "backup-db", "clean"}
    assert make["deploy"].description == "Deploy the current image to an environment (ENV=staging|production)."
    assert (make["deploy"].evidence.line_start, make["deploy"].evidence.line_end) == (32, 35)
    assert make["deploy"].commands[0].text == "kubectl config use-context acme-$(ENV)"
    assert make["docker-push"].depends_on == ["docker-build"]
    scripts = sorted(t.invocation for t in inventory.tasks if t.runner == "script")
    assert scripts == ["./scripts/backup-db.sh", "./scripts/rotate-logs.sh"]

    procedures = {p.title: p for p in inventory.procedures}
    assert set(procedures) == {"Cutting a release", "Hotfix", "Steps"}
    release = procedures["Cutting a release"]
    assert (release.path, release.evidence.line_start) == ("RELEASING.md", 5)
    # 6 commands: 3 git commands (not automated), make docker-build, make docker-push, make deploy (all are targets).
    assert release.automation_coverage == 0.5
    assert [r.ref for r in release.steps[4].automated_by] == ["make:Makefile#deploy"]
    assert "ssh" in procedures["Steps"].markers and procedures["Steps"].automation_coverage == 0.0

    infra = sorted((i.kind, i.name) for i in inventory.infrastructure)
    assert infra == [
        ("compose-service", "app"), ("compose-service", "db"), ("dockerfile", "Dockerfile"),
        ("kubernetes", "CronJob/cleanup-carts"), ("kubernetes", "Deployment/shop"), ("kubernetes", "Service/shop"),
    ]


def test_build_refuses_a_non_empty_destination_and_a_bad_spec(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InputError, match="exists and is not an empty directory"):
        build_sample_repo(SAMPLE, tmp_path / "full")
    with pytest.raises(InputError, match=r"needs files/ and history\.yaml"):
        build_sample_repo(tmp_path, tmp_path / "out")
    spec = tmp_path / "spec"
    (spec / "files").mkdir(parents=True)
    (spec / "history.yaml").write_text("commits:\n  - add: ['../../etc/passwd']\n")
    with pytest.raises(InputError, match="matches nothing"):
        build_sample_repo(spec, tmp_path / "out2")
    (spec / "history.yaml").write_text("commits:\n  - write: {'../escape.txt': 'x'}\n")
    with pytest.raises(InputError, match="must be a relative path inside the repository"):
        build_sample_repo(spec, tmp_path / "out3")
    assert not (tmp_path / "escape.txt").exists()


def test_branches_and_merge_commits_are_built_deterministically(tmp_path):
    spec = tmp_path / "spec"
    (spec / "files").mkdir(parents=True)
    (spec / "files" / "a.txt").write_text("a\n")
    (spec / "files" / "b.txt").write_text("b\n")
    (spec / "history.yaml").write_text(
        "commits:\n"
        "  - {message: one, add: [a.txt], date: '2026-01-01T10:00:00+00:00'}\n"
        "  - {branch: feature/b, message: two, add: [b.txt], date: '2026-01-02T10:00:00+00:00'}\n"
        "  - {message: three, append: {a.txt: more}, date: '2026-01-03T10:00:00+00:00'}\n"
        "  - {merge: feature/b, date: '2026-01-04T10:00:00+00:00', tag: v1.0.0}\n"
    )
    one = build_sample_repo(spec, tmp_path / "one")
    two = build_sample_repo(spec, tmp_path / "two")
    assert git(one.path, "rev-parse", "HEAD") == git(two.path, "rev-parse", "HEAD")
    assert git(one.path, "log", "--merges", "--format=%s|%P").strip().startswith("Merge branch 'feature/b'|")
    assert len(git(one.path, "log", "--merges", "--format=%P").split()) == 2
    assert git(one.path, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert sorted(p.name for p in one.path.iterdir() if p.name != ".git") == ["a.txt", "b.txt"]
    (spec / "history.yaml").write_text("commits:\n  - {merge: nowhere}\n")
    with pytest.raises(InputError, match="merges unknown branch 'nowhere'"):
        build_sample_repo(spec, tmp_path / "three")
    (spec / "history.yaml").write_text("commits:\n  - {branch: '--force', message: x}\n")
    with pytest.raises(InputError, match="not a usable branch name"):
        build_sample_repo(spec, tmp_path / "four")
