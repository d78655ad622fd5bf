"""Cron expressions: parse, check and explain in words.

Accepts the five-field form of crontab(5) (minute hour day-of-month month day-of-week) with lists, ranges,
steps and month/day names, the `@daily`-style macros, and Jenkins' `H` (a hashed, fixed-per-job value,
optionally `H(a-b)` and `H/n`). Day-of-week 0 and 7 are both Sunday. When both day fields are restricted,
cron runs on days matching either (crontab(5)); the explanation says "or".

`runs_per_year(expr)` counts firing times over a non-leap year (365 days starting on a Monday), the figure
that frequency estimates use; `@reboot` has no count (None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

# (name, low, high, names for symbolic values)
_FIELDS = [
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
]


class CronError(ValueError):
    """An expression that is not valid cron; the message says which field and why."""


@dataclass(frozen=True)
class Field:
    """One parsed field: the matching values, whether it was `*`, a step when written `*/n`, and hashed (H)."""

    values: frozenset[int]
    any: bool
    step: int | None = None
    hashed: bool = False


@dataclass(frozen=True)
class CronSpec:
    expression: str
    minute: Field
    hour: Field
    day: Field
    month: Field
    weekday: Field
    reboot: bool = False


SHOWN_CHARACTERS = 40  # of a field quoted in an error: a hostile one can be thousands of characters long


def quote_short(text: str) -> str:
    """`text` in quotes for an error message, cut to SHOWN_CHARACTERS."""
    if len(text) <= SHOWN_CHARACTERS:
        return f"'{text}'"
    return f"'{text[:SHOWN_CHARACTERS]}...' ({len(text):,} characters)"


def _is_number(token: str) -> bool:
    """The digits 0-9 only, as cron reads them: `str.isdigit()` alone also takes other scripts' digits (Arabic-Indic
    `٣`, which int() reads as 3) and superscripts."""
    return token.isascii() and token.isdigit()


def _symbol(token: str, names: list[str] | None, low: int) -> int:
    if names is not None and token.upper()[:3] in names and token.isalpha():
        return names.index(token.upper()[:3]) + (low if names is MONTHS else 0)
    if not _is_number(token):
        raise CronError(f"{quote_short(token)} is not a number")
    return _int(token)


def _int(digits: str) -> int:
    """`digits` (0-9 only, `_is_number`) as an int. int() still refuses more than `sys.get_int_max_str_digits()` of
    them (4,300 by default), and callers that test with `str.isdigit()` alone pass it other scripts' digits. Either is
    a CronError here, not a bare ValueError: the schedule detectors and the generator catch CronError, and a
    crontab with `*/` and 5,000 nines was "internal error in detector" (found by a hostile-input hunt). The
    number is not quoted: it may be thousands of characters long."""
    try:
        return int(digits)
    except ValueError:
        raise CronError("a number that is not written with the digits 0-9, or has too many of them") from None


def _parse_field(text: str, index: int) -> Field:
    name, low, high, names = _FIELDS[index]
    values: set[int] = set()
    hashed = False
    step_of_any: int | None = None
    for part in text.split(","):
        if not part:
            raise CronError(f"empty list item in {name} field {quote_short(text)}")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not _is_number(step_text) or _int(step_text) == 0:
                raise CronError(f"bad step {quote_short('/' + step_text)} in {name} field")
            step = _int(step_text)
        if base == "*":
            start, end = low, high if index != 4 else 6
            if step_text:
                step_of_any = step
        elif base.startswith("H"):
            hashed = True
            match = re.fullmatch(r"H(?:\(([0-9]+)-([0-9]+)\))?", base)
            if not match:
                raise CronError(f"bad hashed value {quote_short(base)} in {name} field")
            start = _int(match.group(1)) if match.group(1) else low
            end = _int(match.group(2)) if match.group(2) else (high if index != 4 else 6)
            if step_text:
                step_of_any = step
            else:
                # H picks one value in the range; which one depends on the job name. Take the first for counting.
                values.add(start)
                continue
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _symbol(first, names, low), _symbol(last, names, low)
        else:
            start = _symbol(base, names, low)
            end = start if not step_text else high
        if not (low <= start <= high and low <= end <= high):
            raise CronError(f"{name} value out of range {low}-{high} in {quote_short(part)}")
        if start > end:
            raise CronError(f"{name} range {quote_short(part)} runs backwards")
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return Field(values=frozenset(values), any=text == "*" or text == "?", step=step_of_any, hashed=hashed)


def parse_cron(expression: str) -> CronSpec:
    """Parse a cron expression; raises CronError naming the bad field."""
    text = " ".join(expression.split())
    if not text:
        raise CronError("empty cron expression")
    if text.lower() == "@reboot":
        everything = Field(values=frozenset(), any=True)
        return CronSpec(text, everything, everything, everything, everything, everything, reboot=True)
    expanded = MACROS.get(text.lower(), text)
    if expanded.startswith("@"):
        raise CronError(f"unknown macro {quote_short(text)}")
    parts = [p.replace("?", "*") for p in expanded.split(" ")]
    if len(parts) != 5:
        raise CronError(f"expected 5 fields (minute hour day month weekday), got {len(parts)}")
    fields = []
    for index, part in enumerate(parts):
        try:
            fields.append(_parse_field(part, index))
        except CronError as exc:
            raise CronError(f"{_FIELDS[index][0]} field {quote_short(part)}: {exc}") from None
    return CronSpec(text, fields[0], fields[1], fields[2], fields[3], fields[4])


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def _names(values: frozenset[int], names: list[str], offset: int = 0) -> str:
    ordered = sorted(values)
    # A run of three or more consecutive values reads better as a range.
    if len(ordered) >= 3 and ordered[-1] - ordered[0] == len(ordered) - 1:
        return f"{names[ordered[0] - offset]} to {names[ordered[-1] - offset]}"
    return ", ".join(names[v - offset] for v in ordered)


def _numbers(values: frozenset[int]) -> str:
    return ", ".join(str(v) for v in sorted(values))


def _time_part(spec: CronSpec) -> str:
    m, h = spec.minute, spec.hour
    if m.hashed or h.hashed:
        hashed = "once an hour at a hashed minute" if h.any or h.step else "at a hashed time"
        if not h.any and not h.step:
            hashed += f" in hour {_numbers(h.values)}"
        elif h.step:
            hashed = f"at a hashed minute every {h.step} hours"
        if m.step:
            hashed = f"every {m.step} minutes (hashed offset)"
        return hashed + " (Jenkins H)"
    if m.any and h.any:
        return "every minute"
    if m.step and h.any:
        return f"every {m.step} minutes"
    if m.step and not h.step:
        return f"every {m.step} minutes {_hours(h.values)}"
    if len(m.values) == 1:
        minute = next(iter(m.values))
        if h.any:
            return f"every hour at minute {minute}"
        if h.step:
            return f"at minute {minute} every {h.step} hours"
        if len(h.values) <= 6:
            return "at " + ", ".join(_clock(hour, minute) for hour in sorted(h.values))
        ordered = sorted(h.values)
        if len(ordered) >= 3 and ordered[-1] - ordered[0] == len(ordered) - 1:
            return f"every hour from {_clock(ordered[0], minute)} to {_clock(ordered[-1], minute)}"
        return f"at minute {minute} {_hours(h.values)}"
    if h.any:
        return f"at minutes {_numbers(m.values)} of every hour"
    return f"at minutes {_numbers(m.values)} {_hours(h.values)}"


def _hours(values: frozenset[int]) -> str:
    """`from 09:00 to 17:59` for a run of three or more hours, else `of hours 1, 5`."""
    ordered = sorted(values)
    if len(ordered) >= 3 and ordered[-1] - ordered[0] == len(ordered) - 1:
        return f"from {_clock(ordered[0], 0)} to {_clock(ordered[-1], 59)}"
    return f"of hours {_numbers(values)}"


def _day_part(spec: CronSpec) -> str:
    d, w, mo = spec.day, spec.weekday, spec.month
    if d.any and w.any:
        days = "every day"
    elif w.any:
        days = f"on day {_numbers(d.values)} of the month"
    elif d.any:
        days = "on " + _names(w.values, DAY_NAMES)
    else:
        days = f"on day {_numbers(d.values)} of the month or on {_names(w.values, DAY_NAMES)}"
    if not mo.any:
        days += " in " + _names(mo.values, MONTH_NAMES, offset=1)
    return days


def explain_cron(expression: str) -> str:
    """In words, e.g. '30 4 * * 1-5' -> 'at 04:30 on Monday to Friday'. Raises CronError when invalid."""
    spec = parse_cron(expression)
    if spec.reboot:
        return "once at every system start (@reboot)"
    time, days = _time_part(spec), _day_part(spec)
    if days == "every day" and time.startswith("every"):
        return time
    return f"{time} {days}"


def runs_per_year(expression: str) -> int | None:
    """How many times the schedule fires in a 365-day year (Jan 1 a Monday); None for @reboot."""
    spec = parse_cron(expression)
    if spec.reboot:
        return None
    per_day = len(spec.minute.values) * len(spec.hour.values)
    days = 0
    weekday = 1  # Monday
    for month in range(1, 13):
        for day in range(1, _DAYS_IN_MONTH[month - 1] + 1):
            if month in spec.month.values:
                dom_ok = day in spec.day.values
                dow_ok = weekday in spec.weekday.values
                # crontab(5): with both day fields restricted, either one matching is enough.
                restricted_both = not (spec.day.any or spec.weekday.any)
                matches = (dom_ok or dow_ok) if restricted_both else (dom_ok and dow_ok)
                days += matches
            weekday = (weekday + 1) % 7
    return per_day * days
