"""A generated crontab line runs in the checkout: cron starts in the home folder, so a relative command (the
sample's `./scripts/backup-db.sh`) gets `cd DIRECTORY &&`, or a CHANGE-ME placeholder that the validator flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator_kit.automation import generate_automation
from orchestrator_kit.errors import InputError
from orchestrator_kit.samples import build_sample_repo

SAMPLE = Path(__file__).resolve().parents[2] / "evals" / "repos" / "acme-shop"


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("cron") / "acme-shop").path


def line_of(result) -> str:
    [artifact] = result.artifacts
    return [line for line in artifact.text.splitlines() if line.startswith("0 4 ")][-1]


def test_relative_command_without_directory_cds_to_a_flagged_placeholder(acme):
    result = generate_automation(acme, "crontab-line", {"schedule": "0 4 * * *",
                                                        "command": {"argv": ["./scripts/backup-db.sh", "production"]}})
    assert line_of(result) == "0 4 * * * cd /CHANGE-ME/path/to/checkout && ./scripts/backup-db.sh production"
    warnings = [f.message for r in result.validation for f in r.findings if f.severity == "warning"]
    assert any("CHANGE-ME placeholder is not filled in" in w for w in warnings)
    assert any("CHANGE-ME" in note for note in result.notes)


def test_directory_given_is_used_and_nothing_is_flagged(acme):
    result = generate_automation(acme, "crontab-line", {"schedule": "0 4 * * *", "directory": "/srv/acme-shop",
                                                        "command": {"argv": ["make", "backup-db"]}})
    assert line_of(result) == "0 4 * * * cd /srv/acme-shop && make backup-db"
    assert not any("CHANGE-ME" in f.message for r in result.validation for f in r.findings)


def test_absolute_command_needs_no_directory(acme):
    result = generate_automation(acme, "crontab-line", {"schedule": "0 4 * * *",
                                                        "command": {"argv": ["/opt/acme/scripts/rotate-logs.sh"]}})
    assert line_of(result) == "0 4 * * * /opt/acme/scripts/rotate-logs.sh"


@pytest.mark.parametrize("bad", ["relative/dir", "/srv/a b", "/srv/$(id)", "/srv/x;rm", "/" + "a" * 300])
def test_hostile_directory_is_refused(acme, bad):
    with pytest.raises(InputError):
        generate_automation(acme, "crontab-line", {"schedule": "0 4 * * *", "directory": bad,
                                                   "command": {"argv": ["make", "backup-db"]}})


def test_an_unfilled_placeholder_is_one_warning_per_use_with_its_line_in_any_kind():
    from orchestrator_kit.automation.validate import validate_text

    workflow = ("name: rollback\non: workflow_dispatch\npermissions: {}\njobs:\n  rollback:\n    runs-on: ubuntu-latest\n"
                "    environment: CHANGE_ME_ENVIRONMENT\n    env:\n"
                "      KUBECONFIG_DATA: ${{ secrets.CHANGE_ME_KUBECONFIG }}\n    steps:\n      - run: ./rollback.sh\n")
    report = validate_text(".github/workflows/rollback.yml", workflow, "github-workflow")
    found = [(f.line, f.severity, f.rule) for f in report.findings if f.validator == "placeholders"]
    assert found == [(7, "warning", "unfilled-placeholder"), (9, "warning", "unfilled-placeholder")]
    assert "CHANGE_ME_KUBECONFIG" in next(f.message for f in report.findings if f.line == 9)
    filled = validate_text(".github/workflows/rollback.yml", workflow.replace("CHANGE_ME_", ""), "github-workflow")
    assert not [f for f in filled.findings if f.validator == "placeholders"]
