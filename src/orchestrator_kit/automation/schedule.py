"""Crontab line and systemd service + timer generators.

Cron runs the command with /bin/sh, so the command is quoted shell text with every `%` escaped (crontab(5):
an unescaped `%` ends the command). systemd runs no shell: ExecStart= words use systemd's own quoting, with
`%` and `$` doubled so that specifiers and variables are not expanded (systemd.service(5), "Command lines").

`cron_to_on_calendar` converts the cron forms that have an exact OnCalendar equivalent (systemd.time(7)):
values, lists, `a-b` ranges and `*/n` or `a/n` steps. It refuses the rest with the reason, rather than
writing a timer that fires at other times: ranges with steps, both day fields restricted (cron fires on
either, OnCalendar needs both), `@reboot`, and Jenkins' `H`.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ..cron import DAYS, MACROS, MONTHS
from ..errors import InputError
from .artifact import HEADER, Artifact, Generated, append_block
from .context import RepoContext, unique_name
from .shellsafe import for_cron, quote_word, render_command, systemd_word
from .spec import CrontabLineSpec, SystemdTimerSpec

# Where a crontab line cds when the spec names no directory: a path that cannot exist, so the line fails loudly
# (cron mails the error) instead of running in the home folder, and the validator flags it (see validate).
CRON_DIRECTORY_PLACEHOLDER = "/CHANGE-ME/path/to/checkout"
_SYSTEMD_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]


def generate_crontab_line(ctx: RepoContext, spec: CrontabLineSpec) -> Generated:
    notes: list[str] = []
    path = spec.file or next(iter(ctx.schedule_files("crontab")), "ops/crontab")
    existing = ctx.read(path) or ""
    if spec.command.unless is not None:
        raise InputError("A crontab line runs one command; put an 'unless' check in a script and schedule it.")
    command = render_command(spec.command.argv, (), spec.command.env)
    # A relative command (`make backup`, `./scripts/x.sh`) means the checkout: cron starts in the home folder.
    first = spec.command.argv[0]
    relative = not (first if isinstance(first, str) else first.template).startswith("/")
    directory = spec.directory or (CRON_DIRECTORY_PLACEHOLDER if relative else None)
    if spec.directory is None and relative:
        notes.append(f"The line cds to {CRON_DIRECTORY_PLACEHOLDER}: replace it with the checkout's path on the host "
                     "(or give `directory` in the spec); cron starts in the home folder.")
    if spec.lock_file:
        command = f"flock -n {quote_word(spec.lock_file)} {command}" if not spec.command.env else (
            f"flock -n {quote_word(spec.lock_file)} env {command}")
    if spec.log_file:
        command += f" >> {quote_word(spec.log_file)} 2>&1"
    if directory is not None:
        command = f"cd {quote_word(directory)} && {command}"
    line = f"{' '.join(spec.schedule.split())} {for_cron(command)}"
    for number, old in enumerate(existing.splitlines(), start=1):
        if " ".join(old.split()) == " ".join(line.split()):
            raise InputError(f"{path}:{number} already has this exact line; nothing to add.")
    comment = spec.comment or "scheduled command"
    block = f"# {comment} ({HEADER})\n{line}\n"
    content = append_block(existing, block)
    if not existing:
        notes.append(f"{path} does not exist yet; it is created. Install it with `crontab {path}` on the host "
                     "(that replaces the user's crontab) or copy the line into the existing one.")
    if spec.schedule.strip().startswith("@reboot"):
        notes.append("@reboot runs once when cron starts, not on a schedule.")
    effective = spec.model_copy(update={"file": path})
    return Generated([Artifact(path, "crontab", "append" if existing else "create", content, block,
                               base=existing or None)], effective, notes)


def generate_systemd_timer(ctx: RepoContext, spec: SystemdTimerSpec) -> Generated:
    notes: list[str] = []
    existing_dirs = sorted({str(PurePosixPath(p).parent) for p in ctx.schedule_files("systemd-timer")})
    directory = spec.directory or (existing_dirs[0] if existing_dirs else "ops/systemd")
    taken = {name for name in (spec.name, *(f"{spec.name}-{n}" for n in range(2, 50)))
             if ctx.exists(f"{directory}/{name}.service") or ctx.exists(f"{directory}/{name}.timer")}
    name, note = unique_name(spec.name, taken, spec.on_conflict, f"Unit in {directory}")
    if note:
        notes.append(note)
    if spec.on_calendar is not None:
        calendar = spec.on_calendar
    else:
        calendar = cron_to_on_calendar(spec.schedule or "")
        notes.append(f"Cron '{spec.schedule}' is OnCalendar={calendar} (systemd timers use the host's time zone "
                     "unless a zone is appended).")
    description = _unit_text(spec.description or name)
    exec_start = " ".join(systemd_word(str(w)) for w in spec.command.argv)
    service = [f"# {HEADER}: the job that {name}.timer starts.", "[Unit]", f"Description={description}", "",
               "[Service]", "Type=oneshot", f"ExecStart={exec_start}"]
    if spec.working_directory:
        service.append(f"WorkingDirectory={spec.working_directory}")
    if spec.user:
        service.append(f"User={spec.user}")
    # Hardening that a batch job rarely needs to give up (systemd.exec(5)); relax by hand if it must write
    # outside /var, /run and /tmp.
    service += ["NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=full"]
    timer = [f"# {HEADER}: schedule for {name}.service.", "[Unit]", f"Description=Schedule: {description}", "",
             "[Timer]", f"OnCalendar={calendar}", f"Persistent={'true' if spec.persistent else 'false'}"]
    if spec.randomized_delay_sec:
        timer.append(f"RandomizedDelaySec={spec.randomized_delay_sec}")
    timer += [f"Unit={name}.service", "", "[Install]", "WantedBy=timers.target"]
    service_text = "\n".join(service) + "\n"
    timer_text = "\n".join(timer) + "\n"
    notes.append(f"Install with: cp {directory}/{name}.service {directory}/{name}.timer /etc/systemd/system/ && "
                 f"systemctl daemon-reload && systemctl enable --now {name}.timer")
    effective = spec.model_copy(update={"name": name, "directory": directory})
    return Generated([
        Artifact(f"{directory}/{name}.service", "systemd-unit", "create", service_text, service_text),
        Artifact(f"{directory}/{name}.timer", "systemd-unit", "create", timer_text, timer_text),
    ], effective, notes)


def _unit_text(text: str) -> str:
    return text.replace("%", "%%")


# ------------------------------------------------------------------ cron -> OnCalendar


def cron_to_on_calendar(expression: str) -> str:
    """The OnCalendar= equivalent of a five-field cron expression; InputError when there is none."""
    text = " ".join(expression.split())
    if text.lower() == "@reboot":
        raise InputError("@reboot has no OnCalendar form; use OnBootSec= in a timer written by hand.")
    text = MACROS.get(text.lower(), text)
    fields = text.split(" ")
    if len(fields) != 5:
        raise InputError(f"'{expression}' is not a five-field cron expression.")
    if "H" in text:
        raise InputError("Jenkins 'H' values have no OnCalendar form.")
    minute, hour, dom, month, dow = fields
    if dom not in ("*", "?") and dow not in ("*", "?"):
        raise InputError(f"'{expression}' restricts both day of month and day of week: cron runs when either "
                         "matches, OnCalendar only when both do. Give on_calendar instead.")
    date = f"*-{_field(month, 1, 12, MONTHS)}-{_field(dom, 1, 31, None)}"
    clock = f"{_field(hour, 0, 23, None, pad=True)}:{_field(minute, 0, 59, None, pad=True)}:00"
    weekdays = _weekdays(dow)
    return f"{weekdays} {date} {clock}" if weekdays else f"{date} {clock}"


def _number(token: str, names: list[str] | None, low: int) -> int:
    if names and token.upper()[:3] in names and token.isalpha():
        return names.index(token.upper()[:3]) + low
    if not token.isdigit():
        raise InputError(f"'{token}' is not a number")
    return int(token)


def _field(text: str, low: int, high: int, names: list[str] | None, pad: bool = False) -> str:
    if text in ("*", "?"):
        return "*"
    parts = []
    for part in text.split(","):
        base, _, step = part.partition("/")
        if "-" in base and step:
            raise InputError(f"Cron '{part}' (a range with a step) has no exact OnCalendar form.")
        if base == "*":
            start = str(low).zfill(2 if pad else 1)
            parts.append(f"{start}/{step}" if step else "*")
            continue
        if "-" in base:
            first, _, last = base.partition("-")
            a, b = _number(first, names, low), _number(last, names, low)
            parts.append(f"{_fmt(a, pad)}..{_fmt(b, pad)}")
        else:
            value = _number(base, names, low)
            parts.append(f"{_fmt(value, pad)}/{step}" if step else _fmt(value, pad))
    return ",".join(parts)


def _fmt(value: int, pad: bool) -> str:
    return f"{value:02d}" if pad else str(value)


def _weekdays(text: str) -> str:
    if text in ("*", "?"):
        return ""
    parts = []
    for part in text.split(","):
        if "/" in part:
            raise InputError(f"Cron day of week '{part}' with a step has no exact OnCalendar form.")
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _number(first, DAYS, 0) % 7, _number(last, DAYS, 0)
            if b == 7:
                b = 0 if a == 0 else 7
            if b == 7:  # e.g. 5-7: Fri..Sat plus Sun
                parts.append(f"{_SYSTEMD_DAYS[a]}..Sat,Sun")
            else:
                parts.append(f"{_SYSTEMD_DAYS[a]}..{_SYSTEMD_DAYS[b]}")
        else:
            parts.append(_SYSTEMD_DAYS[_number(part, DAYS, 0) % 7])
    if not all(re.fullmatch(r"[A-Za-z.,]+", p) for p in parts):
        raise InputError(f"Cron day of week '{text}' could not be converted.")
    return ",".join(parts)
