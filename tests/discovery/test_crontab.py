"""Crontab detector: job lines, @macros, environment lines and CRON_TZ, system crontabs' user column."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.crontab import detect_crontab
from orchestrator_kit.repo import FileText, Workspace

from .conftest import scanner

USER_CRONTAB = """\
# m h  dom mon dow   command
SHELL=/bin/bash
MAILTO=""

*/15 * * * *  /usr/local/bin/sync-feeds --quiet
30 4 * * 1-5\t/opt/app/bin/report >> /var/log/report.log 2>&1
@reboot /opt/app/bin/warm-cache
CRON_TZ=Europe/Berlin
0 9 1 * *     /opt/app/bin/invoice % monthly
@weekly       /opt/app/bin/cleanup
TZ = "America/New_York"
0 0 1 1 *     /opt/app/bin/new-year
"""

scan = scanner("crontab")


def rows(inventory):
    return [(s.expression, s.explanation, s.timezone, s.target, s.evidence.line_start) for s in inventory.schedules]


def test_user_crontab(make_repo):
    inventory = scan(make_repo, {"deploy/crontab": USER_CRONTAB})
    local = "cron daemon's local time"
    assert rows(inventory) == [
        ("*/15 * * * *", "every 15 minutes", local, "/usr/local/bin/sync-feeds --quiet", 5),
        ("30 4 * * 1-5", "at 04:30 on Monday to Friday", local,
         "/opt/app/bin/report >> /var/log/report.log 2>&1", 6),
        ("@reboot", "once at every system start (@reboot)", local, "/opt/app/bin/warm-cache", 7),
        ("0 9 1 * *", "at 09:00 on day 1 of the month", "Europe/Berlin", "/opt/app/bin/invoice % monthly", 9),
        ("@weekly", "at 00:00 on Sunday", "Europe/Berlin", "/opt/app/bin/cleanup", 10),
        ("0 0 1 1 *", "at 00:00 on day 1 of the month in January", "America/New_York", "/opt/app/bin/new-year", 12),
    ]
    assert all(s.source == "crontab" for s in inventory.schedules)
    assert all(s.evidence.line_end == s.evidence.line_start for s in inventory.schedules)
    assert inventory.diagnostics == []


def test_system_crontab_user_column(make_repo):
    text = """\
    SHELL=/bin/sh
    PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
    17 *    * * *   root    cd / && run-parts --report /etc/cron.hourly
    @daily  www-data  /usr/bin/php /var/www/artisan schedule:run
    5 0 * * * backup$ /usr/local/bin/nightly-backup
    """
    inventory = scan(make_repo, {"etc/cron.d/app": text})
    assert [s.target for s in inventory.schedules] == [
        "cd / && run-parts --report /etc/cron.hourly (as user root, system crontab)",
        "/usr/bin/php /var/www/artisan schedule:run (as user www-data, system crontab)",
        "/usr/local/bin/nightly-backup (as user backup$, system crontab)",
    ]
    assert [s.evidence.line_start for s in inventory.schedules] == [3, 4, 5]


def test_user_column_only_where_system_crontabs_live(make_repo):
    # A user crontab: "root" would be the command, and there is no user column to strip.
    inventory = scan(make_repo, {"ops/app.cron": "0 * * * * root-cleanup --all\n"})
    assert [s.target for s in inventory.schedules] == ["root-cleanup --all"]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("etc/crontab", "run-parts /etc/periodic/15min (as user root, system crontab)"),
        ("docker/etc/cron.d/periodic", "run-parts /etc/periodic/15min (as user root, system crontab)"),
        # Alpine's /etc/crontabs/<user> and the spool hold per-user crontabs: no user column.
        ("etc/crontabs/root", "root run-parts /etc/periodic/15min"),
        ("var/spool/cron/crontabs/root", "root run-parts /etc/periodic/15min"),
        ("etc/app/crontab", "run-parts /etc/periodic/15min (as user root, system crontab)"),
        ("config/crontab", "root run-parts /etc/periodic/15min"),
    ],
)
def test_where_the_user_column_is_read(make_repo, path, target):
    inventory = scan(make_repo, {path: "*/15 * * * * root run-parts /etc/periodic/15min\n"})
    assert [s.target for s in inventory.schedules] == [target]


def test_system_crontab_line_whose_sixth_field_is_a_path(make_repo):
    inventory = scan(make_repo, {"etc/crontab": "0 3 * * * /usr/bin/backup\n"})
    assert [s.target for s in inventory.schedules] == ["/usr/bin/backup"]


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("crontab", True),
        ("docker/crontab", True),
        ("crontab.txt", True),
        ("crontab.prod", True),
        ("jobs/backup.crontab", True),
        ("jobs/backup.cron", True),
        ("etc/cron.d/backup", True),
        ("var/spool/cron/crontabs/deploy", True),
        ("cron/nightly", True),
        ("crontab.py", False),
        ("cron/nightly.py", False),
        ("cron/README.md", False),
        ("cron.d/backup.dpkg-old", False),  # Debian cron ignores cron.d files with dots
        ("node_modules/x/crontab", False),
    ],
)
def test_which_files_are_crontabs(make_repo, path, found):
    inventory = scan(make_repo, {path: "0 1 * * * /bin/true\n"})
    assert [s.evidence.path for s in inventory.schedules] == ([path] if found else [])


def test_cron_folder_with_scripts_is_quiet(make_repo):
    inventory = scan(make_repo, {
        "app/cron/Dockerfile": "FROM alpine\nRUN apk add dcron\n",
        "app/cron/run": "#!/bin/sh\nexec crond -f\n",
        "app/cron/LICENSE": "MIT License\n\nCopyright 2026\n",
    })
    assert inventory.schedules == []
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("61 * * * * cmd", "invalid cron schedule '61 * * * *': minute field '61'"),
        ("* * * * *", "cron line has 5 fields"),
        ("0 0 * *", "cron line has 4 fields"),
        ("@fortnightly cmd", "unknown macro '@fortnightly'"),
        ("@daily", "has no command"),
        ("H 2 * * * cmd", "Jenkins/Quartz syntax"),
        ("0 0 ? * MON cmd", "Jenkins/Quartz syntax"),
        ("echo hello", "not a cron line"),
        ("echo Hello ? world now", "not a cron line"),
        ("0 0 31 2 x cmd", "day of week field 'x'"),
    ],
)
def test_bad_lines(make_repo, line, reason):
    inventory = scan(make_repo, {"crontab": f"# header\n{line}\n0 1 * * * /bin/ok\n"})
    assert [(d.line, reason in d.reason) for d in inventory.diagnostics] == [(2, True)], inventory.diagnostics
    assert [s.expression for s in inventory.schedules] == ["0 1 * * *"]


def test_bad_lines_in_a_folder_crontab_with_good_lines(make_repo):
    inventory = scan(make_repo, {"cron.d/jobs": "0 1 * * * root /bin/ok\nnonsense here\n"})
    assert len(inventory.schedules) == 1
    assert [d.line for d in inventory.diagnostics] == [2]


def test_secrets_in_commands_are_redacted(make_repo):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    inventory = scan(make_repo, {"crontab": f"0 * * * * curl -H 'Authorization: token {token}' https://x\n"})
    [schedule] = inventory.schedules
    assert token not in schedule.target
    assert schedule.target.startswith("curl -H 'Authorization: token [REDACTED")


def test_empty_and_comment_only(make_repo):
    inventory = scan(make_repo, {"crontab": "", "jobs.cron": "# nothing yet\n\n"})
    assert inventory.schedules == []
    assert inventory.diagnostics == []


def test_backslash_is_not_a_continuation(make_repo):
    inventory = scan(make_repo, {"crontab": "0 1 * * * /bin/run \\\n--flag\n"})
    assert [s.target for s in inventory.schedules] == ["/bin/run \\"]
    assert [d.line for d in inventory.diagnostics] == [2]


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

FRAGMENTS = ["*/5 * * * * cmd", "@daily", "@reboot x", "CRON_TZ=", "TZ=UTC", "0 0 * * * root cmd", "H * * * * x",
             "a=b", "# x", "61 * * * * x", "* * * * *", "0 0 1 1 MON-FRI x", "@", "0", "*/0 * * * * x"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=15)), max_size=20))
def test_any_text_never_raises(tmp_path, lines):
    text = "\n".join(lines)
    findings = run_direct(tmp_path, detect_crontab, "etc/cron.d/x", text)
    assert all(s.evidence.line_start <= text.count("\n") + 1 for s in findings.schedules)
