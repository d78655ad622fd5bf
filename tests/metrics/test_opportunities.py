"""The opportunity matrix on the shipped sample repository (history in evals/repos/acme-shop/history.yaml) and on
a small repository with a manual gate, a missing CI stage and unscheduled upkeep. Expected values are worked
out by hand from the files, the history and the stated formulas and assumptions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from orchestrator_kit import scan
from orchestrator_kit.errors import InputError
from orchestrator_kit.metrics import collect_metrics
from orchestrator_kit.opportunities import opportunities, opportunity_by_id, opportunity_id, opportunity_matrix
from orchestrator_kit.samples import build_sample_repo

from .conftest import Scripted

SAMPLE = Path(__file__).resolve().parents[2] / "evals" / "repos" / "acme-shop"
# The sample's history: first commit 2026-08-03 09:12, last 2026-09-28 16:10 -> 56.29 days (author time).
YEAR = 365 / 56.29


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    root = build_sample_repo(SAMPLE, tmp_path_factory.mktemp("acme") / "acme-shop").path
    return opportunities(str(root))


def by_title(matrix, start):
    return next(o for o in matrix.opportunities if o.title.startswith(start))


def test_the_release_procedure(acme):
    release = by_title(acme, "Automate 'Releasing Acme Shop › Cutting a release'")
    assert release.kind == "manual-procedure"
    anchor = b"manual-procedure\x00RELEASING.md#releasing-acme-shop/cutting-a-release"
    assert release.id == "opp-" + hashlib.sha1(anchor).hexdigest()[:10]  # noqa: S324 - an id, not security
    # 3 release tags (v1.0.0, v1.0.1, v1.1.0) in 56.29 days.
    assert release.frequency_per_year.value == round(3 * YEAR, 2) and not release.frequency_per_year.assumption
    assert "3 release tags of series '(root)' in 56.29 days" in release.frequency_per_year.basis
    # Bounds: 3 -/+ 2 sqrt(3) releases in the window.
    assert release.frequency_per_year.low == 0 and release.frequency_per_year.high == round((3 + 2 * 3 ** 0.5) * YEAR, 2)
    assert release.frequency_per_year.window_days == 56.29
    assert release.git_query == "git log --numstat -M --diff-merges=off HEAD"
    # Step 4 (build and push the image) is what the Release workflow runs: left out. The 5 remaining steps:
    # 1 check (5 min), 2 bump (5), 3 three git commands (6), 5 one deploy command (2), 6 announce (5) = 23 min.
    assert (release.duration_minutes.low, release.duration_minutes.value, release.duration_minutes.high) == (11.5, 23, 46)
    assert release.complexity == 3  # 1 + ceil(2 tools (git, make) / 2) + 1 production
    assert release.automation_potential == 0.7  # (2 steps with commands + 0.5 x 3) / 5
    assert release.risk == 3  # production, and pushed tags cannot be taken back
    assert release.risk_basis == ("1 base, touches production (+1), irreversible step: 'git push origin main --tags' "
                                  "(+1)")
    hours = 3 * YEAR * 23 / 60 * 0.7
    assert release.hours_saved_per_year == round(hours, 2) == release.person_hours_per_year
    assert release.ci_hours_per_year is None
    assert release.hours_saved_low == 0
    assert release.hours_saved_high == round(release.frequency_per_year.high * 46 / 60 * 0.7, 2)  # shown values
    assert release.effort_hours == 6  # 2 h x complexity 3
    assert release.payback_months == round(6 / (hours / 12), 1)
    assert release.priority == "medium" and not release.quick_win  # payback 13.8 months
    # The priority comes from the expected value; the basis shows what the bounds would make of it.
    assert release.priority_basis.startswith(f"payback 13.8 months on the expected {hours:.2f} h/year")
    assert "the priority would be low at the low bound and high at the high bound" in release.priority_basis
    explained = release.explanation
    assert [i.name for i in explained.inputs][:3] == ["frequency_per_year", "duration_minutes", "automation_potential"]
    assert explained.computation.startswith(f"19.45 x 23 / 60 x 0.70 = {hours:.2f} person hours/year")
    assert explained.evidence_lines[0].startswith("RELEASING.md:")
    assert "already automated" in release.why and "ENV: 'production' by hand, 'staging' in CI" in release.why
    assert release.evidence[0].path == "RELEASING.md"


def test_the_other_candidates(acme):
    kinds = sorted((o.kind, o.title) for o in acme.opportunities)
    assert kinds == [
        ("manual-procedure", "Automate 'Releasing Acme Shop › Cutting a release'"),
        ("manual-procedure", "Automate 'Releasing Acme Shop › Hotfix'"),
        ("manual-procedure", "Automate 'Restore the production database › Steps'"),
        ("repeated-ci-work", "Cache dependencies in 'CI'"),
        ("repeated-ci-work", "Cache dependencies in 'Nightly integration'"),
        ("repeated-ci-work", "Run `pip install -e .[dev]` once per 'CI' run"),
        ("unautomated-task", "Run `make rollback` from CI"),
    ]  # backup-db and rotate-logs are scheduled by ops/crontab; docker-build/push and deploy run in CI
    nightly = by_title(acme, "Cache dependencies in 'Nightly integration'")
    assert nightly.frequency_per_year.value == 365  # cron 0 2 * * *
    assert nightly.duration_minutes.value == 2  # one install
    assert nightly.hours_saved_per_year == round(365 * 2 / 60 * 0.75, 2)
    assert nightly.saves == "ci-time" and nightly.quick_win and nightly.priority == "high"
    assert nightly.ci_hours_per_year == nightly.hours_saved_per_year and nightly.person_hours_per_year is None
    assert nightly.frequency_per_year.basis == (
        "schedule: cron '0 2 * * *': 365 firing times in a 365-day year; not counted: workflow_dispatch (git does "
        "not record these runs)")  # manual runs: unknown
    ci = by_title(acme, "Cache dependencies in 'CI'")
    # push: 13 first-parent commits of main; pull_request: no merge and no squash-merged '(#N)' commit, so none
    # expected, and the 13 commits only in the high bound.
    assert ci.frequency_per_year.value == round(13 * YEAR, 2)
    assert (ci.frequency_per_year.low, ci.frequency_per_year.high) == (round(13 * YEAR, 2), round(26 * YEAR, 2))
    assert ci.duration_minutes.value == 4  # the test job's install, matrix of 2
    restore = by_title(acme, "Automate 'Restore the production database")
    assert restore.frequency_per_year.assumption and restore.frequency_per_year.value == 2
    assert restore.duration_minutes.value == 12  # 6 commands x 2 min
    assert restore.complexity == 4  # 1 + ceil(4 tools (kubectl, ssh, aws, pg_restore) / 2) + 1 production
    assert restore.risk == 5  # production + destructive + ssh
    assert restore.priority == "medium"  # payback 240 months, raised by risk 5
    # v1.0.1 is a routine patch release (it changes nothing v1.0.0 changed; the cart cache was reverted before it
    # shipped), so no release failed: the assumptions apply, capped by the rule of three (3 in 56.29 days).
    hotfix = by_title(acme, "Automate 'Releasing Acme Shop › Hotfix'")
    assert hotfix.frequency_per_year.value == 4 and hotfix.frequency_per_year.high == round(3 * YEAR, 2)
    rollback = by_title(acme, "Run `make rollback`")
    assert rollback.frequency_per_year.value == 2 and rollback.frequency_per_year.low == 0
    assert rollback.risk == 3  # `rollout undo`
    assert [o.priority for o in acme.opportunities] == sorted(
        (o.priority for o in acme.opportunities), key=["high", "medium", "low"].index)
    person = [o for o in acme.opportunities if o.saves == "person-time"]
    ci_time = [o for o in acme.opportunities if o.saves == "ci-time"]
    assert acme.person_hours_per_year.expected == round(sum(o.hours_saved_per_year for o in person), 2)
    assert acme.ci_hours_per_year.expected == round(sum(o.hours_saved_per_year for o in ci_time), 2)
    assert acme.ci_hours_per_year.high == round(sum(o.hours_saved_high for o in ci_time), 2)
    for o in acme.opportunities:
        assert o.evidence and o.id == opportunity_id(o.kind, _anchor(o))


def _anchor(o):
    if o.kind == "manual-procedure" or o.kind in ("unautomated-task", "unscheduled-recurring-work"):
        return o.related[0]
    pipeline = o.related[0]
    if o.title.startswith("Cache"):
        return f"cache\x00{pipeline}"
    command = o.title.split("`")[1]
    return f"repeat\x00{pipeline}\x00{command}"


def test_ids_are_stable_and_can_be_looked_up(acme, tmp_path):
    again = opportunities(str(build_sample_repo(SAMPLE, tmp_path / "again").path))
    assert [o.id for o in again.opportunities] == [o.id for o in acme.opportunities]
    first = acme.opportunities[0]
    assert opportunity_by_id(acme, first.id) == first
    with pytest.raises(InputError, match="No opportunity 'opp-0000000000'"):
        opportunity_by_id(acme, "opp-0000000000")


def test_formulas_and_assumptions_are_stated(acme):
    assert set(acme.formulas) >= {"hours_saved_per_year", "payback_months", "priority", "quick_win", "risk"}
    assert acme.assumptions["effort_hours_per_complexity"].startswith("2 (")
    assert acme.settings_source == "defaults"


GITLAB = """\
stages: [build, deploy]
build:
  stage: build
  script:
    - make build
deploy:
  stage: deploy
  when: manual
  allow_failure: false
  script:
    - make deploy
"""
MAKEFILE = """\
build:
\tdocker build -t app .
test:
\tpytest -q
deploy:
\tkubectl apply -f k8s/
backup:
\t./scripts/backup.sh
"""


def test_gate_missing_stage_and_unscheduled_upkeep(tmp_path):
    repo = Scripted(tmp_path / "gl")
    for week in range(6):  # 6 commits, one a week: a 35-day window
        repo.commit(f"w{week}", f"2026-03-{2 + 7 * week:02d}T10:00:00+00:00" if week < 5 else
                    "2026-04-06T10:00:00+00:00", files={".gitlab-ci.yml": GITLAB, "Makefile": MAKEFILE,
                                                        "notes.txt": f"{week}\n"})
    inventory = scan(repo.root)
    metrics = collect_metrics(repo.root, inventory=inventory, tokens=False)
    matrix = opportunity_matrix(inventory, metrics.pipelines, metrics.history)
    found = {o.kind: o for o in matrix.opportunities}
    gate = found["manual-gate"]
    # Pushes start the pipeline: 6 commits in 35 days -> 6 x 365 / 35 runs a year; 5 min of attention each.
    assert gate.frequency_per_year.value == round(6 * 365 / 35, 2)
    assert gate.hours_saved_per_year == round(6 * 365 / 35 * 5 / 60 * 0.5, 2) and gate.risk == 3
    stage = found["missing-ci-stage"]
    assert stage.title == "Add a test stage to CI"  # build and deploy run in CI, `make test` does not
    assert stage.evidence[0].path == "Makefile"
    upkeep = found["unscheduled-recurring-work"]
    assert upkeep.title == "Schedule `make backup`" and upkeep.frequency_per_year.assumption
    assert upkeep.frequency_per_year.value == 52


def test_no_history_means_labelled_assumptions(make_repo):
    root = make_repo({"RELEASING.md": "# Release\n\n1. Tag it:\n\n   ```bash\n   git tag v1\n   ```\n"})
    matrix = opportunities(str(root))
    [release] = matrix.opportunities
    assert release.frequency_per_year.assumption and release.frequency_per_year.value == 12
    assert release.git_query is None


def test_an_empty_folder_has_no_candidates(tmp_path):
    matrix = opportunities(str(tmp_path))
    assert matrix.opportunities == [] and matrix.person_hours_per_year.expected == 0
    assert matrix.ci_hours_per_year.expected == 0
    assert any("not a git work tree" in d.reason for d in matrix.diagnostics)
