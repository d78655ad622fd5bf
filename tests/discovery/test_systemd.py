"""systemd timer detector: OnCalendar and monotonic triggers, options, and the service's ExecStart."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.systemd import detect_timer, explain_calendar
from orchestrator_kit.repo import FileText, Workspace

from .conftest import scanner

TIMER = """\
[Unit]
Description=Nightly backup

[Timer]
# every night, and a full one on Saturdays
OnCalendar=*-*-* 02:00:00
OnCalendar=Sat *-*-* 04:00:00 Europe/Berlin
; and shortly after boot, then every 90 minutes
OnBootSec=15min
OnUnitActiveSec=1h 30min
Persistent=true
RandomizedDelaySec=30m

[Install]
WantedBy=timers.target
"""

SERVICE = """\
[Unit]
Description=Backup

[Service]
Type=oneshot
ExecStart=-/usr/local/bin/backup \\
    --target s3://acme-backups/nightly
ExecStart=/usr/bin/logger "backup done"
"""

scan = scanner("systemd-timer")


def test_timer_with_service(make_repo):
    inventory = scan(make_repo, {"deploy/systemd/backup.timer": TIMER, "deploy/systemd/backup.service": SERVICE})
    target = 'backup.service: /usr/local/bin/backup --target s3://acme-backups/nightly && /usr/bin/logger "backup done"'
    suffix = "; runs a missed activation at the next boot (Persistent=true); with a random delay of up to 30 minutes"
    got = [(s.expression, s.explanation, s.timezone, s.target, s.evidence.line_start, s.evidence.line_end)
           for s in inventory.schedules]
    assert got == [
        ("*-*-* 02:00:00", "at 02:00 every day" + suffix, "system local time", target, 6, 6),
        ("Sat *-*-* 04:00:00 Europe/Berlin", "at 04:00 on Saturday" + suffix, "Europe/Berlin", target, 7, 7),
        ("15min", "15 minutes after boot" + suffix, None, target, 9, 9),
        ("1h 30min", "1 hour 30 minutes after backup.service was last activated (so it repeats)" + suffix, None,
         target, 10, 10),
    ]
    assert all(s.source == "systemd-timer" for s in inventory.schedules)
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("expression", "explanation", "timezone"),
    [
        ("minutely", "every minute", "system local time"),
        ("hourly", "every hour at minute 0", "system local time"),
        ("daily", "at 00:00 every day", "system local time"),
        ("weekly", "at 00:00 on Monday", "system local time"),
        ("monthly", "at 00:00 on day 1 of every month", "system local time"),
        ("yearly", "at 00:00 on January 1", "system local time"),
        ("annually", "at 00:00 on January 1", "system local time"),
        ("quarterly", "at 00:00 on day 1 of January, April, July and October", "system local time"),
        ("semiannually", "at 00:00 on day 1 of January and July", "system local time"),
        ("*-*-* 02:00:00", "at 02:00 every day", "system local time"),
        ("Mon..Fri *-*-* 09:00", "at 09:00 on Monday to Friday", "system local time"),
        ("Sat *-*-* 04:00:00", "at 04:00 on Saturday", "system local time"),
        ("Sat,Sun 10:30", "at 10:30 on Saturday and Sunday", "system local time"),
        ("*:0/15", "every 15 minutes", "system local time"),
        ("*:5/20", "every 20 minutes from minute 5", "system local time"),
        ("*-*-* *:00:00", "every hour at minute 0", "system local time"),
        ("*-*-* 0/6:00", "at minute 0 every 6 hours", "system local time"),
        ("*-*-* 8..18:30", "at minute 30 of hours 8 to 18", "system local time"),
        ("*-*-* 06,18:00", "at 06:00, 18:00 every day", "system local time"),
        ("*-*-01 03:15", "at 03:15 on day 1 of every month", "system local time"),
        ("*-*~01 23:00", "at 23:00 on the last day of every month", "system local time"),
        ("*-12-25 08:00", "at 08:00 on December 25", "system local time"),
        ("2026-03-01 12:00:30", "at 12:00:30 on day 1 of March in 2026", "system local time"),
        ("Mon *-*-1..7 03:00", "at 03:00 on days 1 to 7 of every month, when that is a Monday", "system local time"),
        ("*-*-* 02:00:00 UTC", "at 02:00 every day", "UTC"),
        ("daily America/Sao_Paulo", "at 00:00 every day", "America/Sao_Paulo"),
        # Honest fallbacks for what the explainer does not cover.
        ("Mon..Fri *-*-* 9..17:0/30", "calendar expression Mon..Fri *-*-* 9..17:0/30 (see systemd.time(7))",
         "system local time"),
        ("*-02..04-* 00:00", "calendar expression *-02..04-* 00:00 (see systemd.time(7))", "system local time"),
        ("Funday 10:00", "calendar expression Funday 10:00 (see systemd.time(7))", "system local time"),
        ("*-*-* 02:00 03:00", "calendar expression *-*-* 02:00 03:00 (see systemd.time(7))", "system local time"),
    ],
)
def test_calendar_explanations(expression, explanation, timezone):
    assert explain_calendar(expression) == (explanation, timezone)


@pytest.mark.parametrize(
    ("setting", "explanation"),
    [
        ("OnBootSec=90", "90 seconds after boot"),
        ("OnStartupSec=1min", "1 minute after the service manager starts"),
        ("OnActiveSec=2h", "2 hours after the timer itself is activated"),
        ("OnUnitActiveSec=1d", "1 day after job.service was last activated (so it repeats)"),
        ("OnUnitInactiveSec=30s", "30 seconds after job.service last stopped (so it repeats)"),
        ("OnBootSec=1h30min", "1 hour 30 minutes after boot"),
        ("OnBootSec=1.5h", "1.5 hours after boot"),
        ("OnBootSec=5 parsecs", "5 parsecs after boot"),
    ],
)
def test_monotonic_triggers(make_repo, setting, explanation):
    inventory = scan(make_repo, {"job.timer": f"[Timer]\n{setting}\n"})
    [schedule] = inventory.schedules
    assert schedule.explanation == explanation
    assert schedule.timezone is None
    assert schedule.target == "job.service (unit file not in this folder of the repository)"


def test_unit_option_and_template_units(make_repo):
    inventory = scan(make_repo, {
        "units/renew.timer": "[Timer]\nOnCalendar=daily\nUnit=certbot-renew.service\n",
        "units/certbot-renew.service": "[Service]\nExecStart=/usr/bin/certbot renew\n",
        "units/sync@.timer": "[Timer]\nOnCalendar=hourly\n",
        "units/sync@.service": "[Service]\nExecStart=/usr/bin/rsync -a /data %i:/backup\n",
        "units/noexec.timer": "[Timer]\nOnCalendar=weekly\n",
        "units/noexec.service": "[Service]\nType=oneshot\n",
    })
    targets = {s.evidence.path: s.target for s in inventory.schedules}
    assert targets == {
        "units/renew.timer": "certbot-renew.service: /usr/bin/certbot renew",
        "units/sync@.timer": "sync@.service: /usr/bin/rsync -a /data %i:/backup",
        "units/noexec.timer": "noexec.service (no ExecStart=)",
    }


def test_empty_assignment_resets_and_continuation(make_repo):
    text = "[Timer]\nOnCalendar=hourly\nOnCalendar=\nOnCalendar=Mon..Fri \\\n  *-*-* 07:00\n"
    inventory = scan(make_repo, {"x.timer": text})
    [schedule] = inventory.schedules
    assert schedule.expression == "Mon..Fri *-*-* 07:00"
    assert schedule.explanation == "at 07:00 on Monday to Friday"
    assert (schedule.evidence.line_start, schedule.evidence.line_end) == (4, 5)


def test_secrets_in_exec_start_are_redacted(make_repo):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    inventory = scan(make_repo, {
        "job.timer": "[Timer]\nOnCalendar=daily\n",
        "job.service": f"[Service]\nExecStart=/usr/bin/curl -H 'Authorization: token {token}' https://x\n",
    })
    [schedule] = inventory.schedules
    assert token not in schedule.target


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[Unit]\nDescription=nothing\n",
        "[Timer]\nPersistent=true\n",
        "[Service]\nOnCalendar=daily\n",  # a trigger outside [Timer] does not count
        "[Timer]\nOnCalendar=daily\nOnCalendar=\n",
        "not an ini file at all\n\x7f\n",
    ],
)
def test_timers_without_triggers(make_repo, text):
    inventory = scan(make_repo, {"odd.timer": text})
    assert inventory.schedules == []
    assert [d.reason for d in inventory.diagnostics] == [
        "timer has no OnCalendar= or On...Sec= setting in [Timer]; systemd refuses it"
    ]


def test_vendored_timers_are_skipped(make_repo):
    inventory = scan(make_repo, {"vendor/pkg/x.timer": "[Timer]\nOnCalendar=daily\n"})
    assert inventory.schedules == []


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

FRAGMENTS = ["[Timer]", "[Unit]", "OnCalendar=", "OnCalendar=daily", "OnBootSec=", "OnBootSec=1h x", "Unit=",
             "Unit=a@b.service", "Persistent=yes", "RandomizedDelaySec=abc", "\\", "; c", "# c", "=", "["]
CALENDAR = ["*", "-", ":", "..", ",", "/", "~", " ", "Mon", "Fri", "0", "12", "99", "UTC", "daily", "Europe/Paris"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=15)), max_size=15))
def test_any_text_never_raises(tmp_path, lines):
    run_direct(tmp_path, detect_timer, "x.timer", "\n".join(lines))


@given(parts=st.lists(st.sampled_from(CALENDAR), max_size=12))
def test_calendar_explainer_never_raises(parts):
    explanation, timezone = explain_calendar("".join(parts))
    assert explanation and timezone
