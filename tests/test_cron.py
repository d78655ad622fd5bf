"""Cron parsing and explanation; counts checked by hand for a 365-day year that starts on a Monday."""

from __future__ import annotations

import pytest

from orchestrator_kit.cron import CronError, explain_cron, runs_per_year


@pytest.mark.parametrize(
    ("expr", "words", "per_year"),
    [
        ("0 2 * * *", "at 02:00 every day", 365),
        ("*/15 * * * *", "every 15 minutes", 365 * 96),
        ("0 */6 * * *", "at minute 0 every 6 hours every day", 365 * 4),
        ("30 4 * * 1-5", "at 04:30 on Monday to Friday", 261),  # 52 weeks x 5 + Monday Dec 31
        ("0 0 1 * *", "at 00:00 on day 1 of the month", 12),
        ("0 9 * * MON", "at 09:00 on Monday", 53),  # Jan 1 and Dec 31 are both Mondays
        ("0 0 * * 0", "at 00:00 on Sunday", 52),
        ("0 0 * * 7", "at 00:00 on Sunday", 52),
        ("0 0 1,15 * 1", "at 00:00 on day 1, 15 of the month or on Monday", 73),  # 24 + 53 - 4 overlaps
        ("5 8 * 1,7 *", "at 08:05 every day in January, July", 62),
        ("0 8,20 * * *", "at 08:00, 20:00 every day", 730),
        ("@daily", "at 00:00 every day", 365),
        ("@hourly", "every hour at minute 0", 365 * 24),
        ("@weekly", "at 00:00 on Sunday", 52),
        ("H 2 * * *", "at a hashed time in hour 2 (Jenkins H) every day", 365),
        ("0 0 29 2 *", "at 00:00 on day 29 of the month in February", 0),
    ],
)
def test_explain_and_count(expr, words, per_year):
    assert explain_cron(expr) == words
    assert runs_per_year(expr) == per_year


def test_reboot_has_no_yearly_count():
    assert explain_cron("@reboot") == "once at every system start (@reboot)"
    assert runs_per_year("@reboot") is None


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "empty"),
        ("61 * * * *", "out of range"),
        ("* * *", "expected 5 fields"),
        ("@often", "unknown macro"),
        ("a b c d e", "not a number"),
        ("5-1 * * * *", "backwards"),
        ("*/0 * * * *", "bad step"),
        ("1,,2 * * * *", "empty list item"),
        ("* * 0 * *", "out of range"),
        ("* * * 13 *", "out of range"),
        # str.isdigit() accepts these; cron reads the digits 0-9 only (and int() would refuse the first two, or read
        # Arabic-Indic 3 as 3); more than Python's 4,300-digit limit: int() refuses them
        ("\u00b2 * * * *", "'\u00b2' is not a number"),
        ("*/\u2460 * * * *", "bad step"),
        ("\u0663 * * * *", "'\u0663' is not a number"),
        ("*/\u0663 * * * *", "bad step"),
        ("H(0-\u00b2) * * * *", "bad hashed value"),
        ("*/" + "9" * 5000 + " * * * *", "has too many of them"),
        ("9" * 5000 + "-5 * * * *", "has too many of them"),
        ("* * * * 1-" + "9" * 5000, "has too many of them"),
    ],
)
def test_invalid_expressions_say_why(expr, message):
    with pytest.raises(CronError, match=message):
        explain_cron(expr)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("*/15 9-17 * * MON-FRI", "every 15 minutes from 09:00 to 17:59 on Monday to Friday"),
        ("0 9-17 * * *", "every hour from 09:00 to 17:00"),
        ("0,30 9-17 * * *", "at minutes 0, 30 from 09:00 to 17:59 every day"),
        ("5 1,3,5,7,9,11,13 * * *", "at minute 5 of hours 1, 3, 5, 7, 9, 11, 13 every day"),
    ],
)
def test_hour_ranges_read_as_ranges(expression, words):
    assert explain_cron(expression) == words


def test_a_long_field_is_quoted_short():
    field = "1" + "0" * 4000
    with pytest.raises(CronError) as info:
        explain_cron(f"{field} * * * *")
    message = str(info.value)
    assert len(message) < 300 and "(4,001 characters)" in message and field not in message
