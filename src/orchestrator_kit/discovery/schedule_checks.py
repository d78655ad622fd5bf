"""Checks over every schedule found, whatever its source: cron's day-of-month / day-of-week OR rule.

crontab(5): "If both fields are restricted (i.e., do not contain `*`), the command will be run when either field
matches the current time." People write `30 9 1-7 * 1` meaning "the first Monday of the month" and get every day
from the 1st to the 7th plus every Monday, about 125 runs a year instead of 12. GitHub Actions, GitLab, Kubernetes
and Jenkins follow the same rule, so a schedule with both fields restricted gets a warning saying what it does.
"""

from __future__ import annotations

from ..cron import CronError, parse_cron, runs_per_year
from .base import DetectContext, finalizer


@finalizer("cron-or-rule", order=80)
def warn_day_of_month_or_day_of_week(ctx: DetectContext) -> None:
    for schedule in ctx.findings.schedules:
        expression = schedule.expression.strip()
        try:
            spec = parse_cron(expression)
            runs = runs_per_year(expression)
        except CronError:
            continue  # invalid expressions were reported by the detector that read them
        if spec.reboot or spec.day.any or spec.weekday.any or runs is None:
            continue
        per_day = len(spec.minute.values) * len(spec.hour.values)
        days = runs // per_day if per_day else 0
        ctx.diagnostic(
            schedule.evidence.path,
            f"cron '{expression}' restricts both day of month and day of week: cron runs it when EITHER matches "
            f"(about {days} days a year), not only on days matching both; for 'the first Monday' run on the "
            "weekday and test the date in the command",
            line=schedule.evidence.line_start,
        )
