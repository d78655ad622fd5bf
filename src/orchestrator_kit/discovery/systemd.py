"""systemd timers: one schedule per `On...=` setting of a `*.timer` unit, with what its service runs.

Unit files are read as systemd.syntax(7) describes them: `[Section]` headers, `Key=Value` lines, `#` and `;`
comments, a trailing backslash continuing a line (comment lines inside a continuation are skipped), and an
empty assignment (`OnCalendar=`) resetting the list built so far. From systemd.timer(5): `OnCalendar=` (a
calendar event, may repeat), the monotonic `OnActiveSec=`, `OnBootSec=`, `OnStartupSec=`, `OnUnitActiveSec=`,
`OnUnitInactiveSec=` (time spans), `Persistent=`, `RandomizedDelaySec=`, and `Unit=`, which defaults to the
service with the timer's name (`foo@.timer` activates instances of `foo@.service`). The service file, when it
is in the same folder, gives the `ExecStart=` command (redacted).

Calendar expressions (systemd.time(7), "Calendar Events": `[weekdays] [year-month-day] [hour:minute[:second]]
[timezone]`, and the shorthands minutely ... annually) are explained in words for the common forms; anything
else gets an honest "calendar expression <x> (see systemd.time(7))".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Schedule
from ..repo import FileText
from .base import DetectContext, Wants, basename, detector, directory_of

MONOTONIC = {
    "OnActiveSec": "after the timer itself is activated",
    "OnBootSec": "after boot",
    "OnStartupSec": "after the service manager starts",
    "OnUnitActiveSec": "after {unit} was last activated (so it repeats)",
    "OnUnitInactiveSec": "after {unit} last stopped (so it repeats)",
}
TRIGGERS = ("OnCalendar", *MONOTONIC)
DEFAULT_TIMEZONE = "system local time"

SHORTHANDS = {
    "minutely": "*-*-* *:*:00",
    "hourly": "*-*-* *:00:00",
    "daily": "*-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00",
    "weekly": "Mon *-*-* 00:00:00",
    "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00",
    "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00",
}
WEEKDAYS = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday", "sat": "Saturday",
    "sun": "Sunday",
}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
SPAN_UNITS = [
    (("usec", "us", "µs"), "microsecond"), (("msec", "ms"), "millisecond"),
    (("seconds", "second", "sec", "s"), "second"), (("minutes", "minute", "min", "m"), "minute"),
    (("hours", "hour", "hr", "h"), "hour"), (("days", "day", "d"), "day"), (("weeks", "week", "w"), "week"),
    (("months", "month", "M"), "month"), (("years", "year", "y"), "year"),
]
_SPAN_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-zµ]*)")
_TIME_FIELD = re.compile(r"\*|\d+(,\d+)*|\d+/\d+|\d+\.\.\d+")
_ZONE = re.compile(r"^(UTC|GMT|[A-Z][A-Za-z_]+(?:/[A-Za-z_+\-0-9]+)+)$")


TIMERS = Wants(globs=("*.timer",))


@dataclass
class Setting:
    """A `Key=Value` line of a unit file (continuations joined) with its first and last line."""

    section: str
    key: str
    value: str
    line: int
    end: int


def parse_unit(file: FileText) -> list[Setting]:
    """Settings of a unit file in order (systemd.syntax(7))."""
    settings: list[Setting] = []
    section = ""
    lines = file.lines[: file.line_count]
    index = 0
    while index < len(lines):
        start = index
        text = lines[index].strip()
        index += 1
        if not text or text[0] in "#;":
            continue
        while text.endswith("\\"):
            text = text[:-1].rstrip() + " "
            while index < len(lines) and lines[index].lstrip()[:1] in ("#", ";"):
                index += 1  # comment lines inside a continuation are dropped
            if index >= len(lines):
                break
            text += lines[index].strip()
            index += 1
        text = text.strip()
        if text.startswith("[") and text.endswith("]"):
            section = text[1:-1].strip()
        elif "=" in text:
            key, _, value = text.partition("=")
            settings.append(Setting(section, key.strip(), value.strip(), start + 1, index))
    return settings


@detector("systemd-timer", wants=TIMERS)
def detect_timer(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    timer = [s for s in parse_unit(file) if s.section == "Timer"]
    triggers: list[Setting] = []
    options: dict[str, str] = {}
    for setting in timer:
        if setting.key in TRIGGERS:
            if setting.value:
                triggers.append(setting)
            else:  # an empty assignment resets the list of this kind
                triggers = [t for t in triggers if t.key != setting.key]
        else:
            options[setting.key] = setting.value
    if not triggers:
        ctx.diagnostic(path, "timer has no OnCalendar= or On...Sec= setting in [Timer]; systemd refuses it", line=1)
        return
    unit = options.get("Unit") or _default_unit(basename(path))
    target = _target(ctx, directory_of(path), unit)
    suffix = _suffix(options)
    for setting in triggers:
        if setting.key == "OnCalendar":
            explanation, timezone = explain_calendar(setting.value)
        else:
            explanation = f"{_span_words(setting.value)} {MONOTONIC[setting.key].format(unit=unit)}"
            timezone = None
        ctx.add_schedule(Schedule(source="systemd-timer", expression=setting.value, explanation=explanation + suffix,
                                  timezone=timezone, target=target,
                                  evidence=ctx.evidence(path, setting.line, setting.end)))


def _default_unit(timer_name: str) -> str:
    stem = timer_name[: -len(".timer")]
    return f"{stem}.service"


def _target(ctx: DetectContext, folder: str, unit: str) -> str:
    """`<unit>: <ExecStart>` from the service file in the timer's folder, or a note when it is not there."""
    name = unit
    if "@" in unit:  # foo@instance.service is an instance of the template foo@.service
        prefix, _, rest = unit.partition("@")
        name = f"{prefix}@.{rest.rsplit('.', 1)[-1]}"
    service_path = name if folder == "." else f"{folder}/{name}"
    if not ctx.exists(service_path):
        return f"{unit} (unit file not in this folder of the repository)"
    service = ctx.read(service_path)
    if service is None:
        return f"{unit} (unit file could not be read)"
    commands = [s.value.lstrip("-@:+!") for s in parse_unit(service) if s.section == "Service" and s.key == "ExecStart"
                and s.value]
    if not commands:
        return f"{unit} (no ExecStart=)"
    return f"{unit}: " + " && ".join(ctx.redact(c, service_path) for c in commands)


def _suffix(options: dict[str, str]) -> str:
    parts = []
    if options.get("Persistent", "").lower() in ("yes", "true", "1", "on"):
        parts.append("runs a missed activation at the next boot (Persistent=true)")
    delay = options.get("RandomizedDelaySec")
    if delay:
        parts.append(f"with a random delay of up to {_span_words(delay)}")
    return ("; " + "; ".join(parts)) if parts else ""


def _span_words(text: str) -> str:
    """A systemd time span in words ("1h 30min" -> "1 hour 30 minutes"); a bare number is seconds."""
    stripped = text.strip()
    if re.fullmatch(r"\d+", stripped):
        try:
            return _plural(int(stripped), "second")
        except ValueError:  # past int()'s digit limit (sys.get_int_max_str_digits): left as written
            return stripped
    position, words = 0, []
    for match in _SPAN_PART.finditer(stripped):
        if stripped[position:match.start()].strip():
            return stripped
        position = match.end()
        unit = next((word for names, word in SPAN_UNITS if match.group(2) in names), None)
        if unit is None:
            return stripped
        number = float(match.group(1))
        words.append(_plural(int(number) if number.is_integer() else number, unit))
    if stripped[position:].strip() or not words:
        return stripped
    return " ".join(words)


def _plural(number: float, unit: str) -> str:
    return f"{number} {unit}" + ("" if number == 1 else "s")


# ------------------------------------------------------------------ calendar events


def explain_calendar(expression: str) -> tuple[str, str]:
    """(explanation, timezone) of an OnCalendar= value; the fallback names the expression and the man page."""
    fallback = f"calendar expression {expression} (see systemd.time(7))"
    words = expression.split()
    timezone = DEFAULT_TIMEZONE
    if len(words) > 1 and _ZONE.match(words[-1]):
        timezone = words.pop()
    if len(words) == 1 and words[0].lower() in SHORTHANDS:
        words = SHORTHANDS[words[0].lower()].split()
    weekdays: str | None = None
    if words and re.match(r"^[A-Za-z]", words[0]):
        weekdays = _weekdays(words.pop(0))
        if weekdays is None:
            return fallback, timezone
    date, time = "*-*-*", "00:00:00"
    if len(words) > 2:
        return fallback, timezone
    for word in words:
        if ":" in word:
            time = word
        elif "-" in word or "~" in word:
            date = word
        else:
            return fallback, timezone
    try:
        days = _date_words(date)
        clock = _time_words(time)
    except ValueError:
        # A number past int()'s digit limit (sys.get_int_max_str_digits, 4,300 by default): the words are a best
        # effort, so the fallback, not "internal error in detector" (found by a hostile-input hunt).
        return fallback, timezone
    if days is None or clock is None:
        return fallback, timezone
    if weekdays:
        days = f"on {weekdays}" if days == "every day" else f"{days}, when that is a {weekdays}"
    if days == "every day" and not re.match(r"at \d\d:", clock):
        return clock, timezone  # "every 15 minutes", not "every 15 minutes every day"
    return f"{clock} {days}", timezone


def _weekdays(text: str) -> str | None:
    """`Mon..Fri` -> "Monday to Friday", `Sat,Sun` -> "Saturday and Sunday"; None when not weekdays."""
    parts = []
    for piece in text.split(","):
        first, sep, last = piece.partition("..")
        names = [WEEKDAYS.get(p.lower()[:3]) for p in ([first, last] if sep else [first])]
        if None in names or not all(p.isalpha() for p in (first, last) if p):
            return None
        parts.append(" to ".join(n for n in names if n))
    return " and ".join(parts) if len(parts) <= 2 else ", ".join(parts)


def _date_words(date: str) -> str | None:
    """`*-*-*` -> "every day", `*-*-01` -> "on day 1 of every month", `*-01,07-01` -> "on day 1 of January and
    July", `2025-*-*` -> "every day of 2025", `*-*~01` -> "on the last day of every month"."""
    last_day = "~" in date
    parts = date.replace("~", "-").split("-")
    if len(parts) == 2:
        parts.insert(0, "*")
    if len(parts) != 3:
        return None
    year, month, day = parts
    if not all(re.fullmatch(r"\*|\d+(,\d+)*", p) for p in (year, month)) or not re.fullmatch(
            r"\*|\d+(,\d+)*|\d+\.\.\d+|\d+/\d+", day):
        return None
    if last_day:
        if day not in ("1", "01"):
            return None
        text = "on the last day of"
    elif day == "*":
        text = "every day of"
    elif ".." in day:
        first, last = day.split("..")
        text = f"on days {int(first)} to {int(last)} of"
    elif "/" in day:
        first, step = day.split("/")
        text = f"every {int(step)} days from day {int(first)} of"
    else:
        text = "on day " + ", ".join(str(int(d)) for d in day.split(",")) + " of"
    if month == "*":
        text += " every month"
    else:
        numbers = [int(m) for m in month.split(",")]
        if not all(1 <= m <= 12 for m in numbers):
            return None
        names = [MONTHS[m - 1] for m in numbers]
        text += " " + (" and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1])
    if year != "*":
        text += f" in {year.replace(',', ', ')}"
    if text == "every day of every month":
        return "every day"
    if text.startswith("on day ") and month != "*" and "," not in day and "," not in month and year == "*":
        return f"on {MONTHS[int(month) - 1]} {int(day)}"
    return text


def _time_words(time: str) -> str | None:
    """`02:00` -> "at 02:00", `*:0/15` -> "every 15 minutes", `*:00` -> "every hour at minute 0"."""
    parts = time.split(":")
    if len(parts) == 2:
        parts.append("00")
    if len(parts) != 3 or not all(_TIME_FIELD.fullmatch(p) for p in parts):
        return None
    hour, minute, second = parts
    if second == "*":
        return "every second" if hour == minute == "*" else None
    if not second.isdigit():
        return None
    seconds = int(second)
    if minute == "*":
        return ("every minute" + (f" at second {seconds}" if seconds else "")) if hour == "*" else None
    if seconds:
        if hour.isdigit() and minute.isdigit():
            return f"at {int(hour):02d}:{int(minute):02d}:{seconds:02d}"
        return None
    if "/" in minute:
        start, step = (int(x) for x in minute.split("/"))
        every = f"every {step} minutes" + (f" from minute {start}" if start else "")
        return every if hour == "*" else None
    if "," in minute or ".." in minute:
        return f"at minutes {minute.replace('..', ' to ')} of every hour" if hour == "*" else None
    at_minute = int(minute)
    if hour == "*":
        return f"every hour at minute {at_minute}"
    if "/" in hour:
        start, step = (int(x) for x in hour.split("/"))
        return f"at minute {at_minute} every {step} hours" + (f" from {start:02d}:00" if start else "")
    if ".." in hour:
        first, last = (int(x) for x in hour.split(".."))
        return f"at minute {at_minute} of hours {first} to {last}"
    return "at " + ", ".join(f"{int(h):02d}:{at_minute:02d}" for h in hour.split(","))
