"""The cron day-of-month / day-of-week OR rule, checked over schedules from every source."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors


@pytest.mark.parametrize(
    ("path", "text", "line"),
    [
        ("crontab", "30 9 1-7 * 1 /usr/local/bin/report\n", 1),
        (".github/workflows/r.yml", "on:\n  schedule:\n    - cron: '30 9 1-7 * 1'\njobs:\n  a:\n    runs-on: x\n"
                                    "    steps: [{run: make}]\n", 3),
        ("k8s/job.yaml", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: r}\nspec:\n  schedule: '30 9 1-7 * 1'\n"
                         "  jobTemplate: {spec: {template: {spec: {containers: [{name: r, image: r}]}}}}\n", 5),
    ],
)
def test_both_day_fields_restricted_is_warned(make_repo, path, text, line):
    inventory = run_detectors(make_repo({path: text}))
    assert errors_of(inventory) == []
    (warning,) = [d for d in inventory.diagnostics if "EITHER" in d.reason]
    assert (warning.path, warning.line, warning.severity) == (path, line, "warning")
    assert "about 125 days a year" in warning.reason


@pytest.mark.parametrize("expression", ["30 9 * * 1", "30 9 1-7 * *", "0 0 1 1 *", "@reboot", "*/5 * * * *"])
def test_one_day_field_or_none_is_not_warned(make_repo, expression):
    inventory = run_detectors(make_repo({"crontab": f"{expression} /bin/true\n"}))
    assert not any("EITHER" in d.reason for d in inventory.diagnostics)
