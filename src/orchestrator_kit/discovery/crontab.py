"""Crontabs: one schedule per job line.

Read as crontab(5) (Vixie cron / cronie) describes the file: blank lines and `#` comments are ignored; a line
`NAME = value` sets an environment variable for the lines after it (`CRON_TZ` and `TZ` set the time zone the
following schedules are read in); a job line is five time fields and a command, or an `@macro` (`@reboot`,
`@daily`, ...) and a command. System crontabs (`/etc/crontab` and files in `cron.d/`) have a user name between
the time and the command; it is recognised when the file is in such a place and the field looks like a user
name (POSIX portable user names). Crontab has no line continuation. `%` in a command is cron's newline/stdin
marker and is kept as written.

Files are picked by name (`crontab`, `crontab.*`, `*.crontab`, `*.cron`) or by folder (`cron.d/`,
`crontabs/`, `cron/`). Folders named `cron` often hold scripts, so a file picked only by its folder must
have at least one valid job line to be read as a crontab; otherwise it is left alone without diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..cron import CronError, explain_cron
from ..models import Schedule
from ..repo import FileText
from ._infra_common import CODE_OR_DOC_EXTENSIONS, extension_of
from .base import DetectContext, Wants, basename, detector, under

CRON_DIRS = ("cron.d", "crontabs", "cron")
DEFAULT_TIMEZONE = "cron daemon's local time"
# Files that sit in a `cron/` folder without being crontabs.
_NOT_CRONTABS = frozenset(
    {"dockerfile", "containerfile", "makefile", "readme", "license", "procfile", "jenkinsfile", "vagrantfile",
     "gemfile", "justfile", "codeowners", ".gitignore", ".dockerignore", ".gitkeep", ".keep", "owners"}
)
_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_MINUTE_LIKE = re.compile(r"^[0-9*][0-9*,/\-]*$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*\$?$")
_JENKINS_ONLY = re.compile(r"(^|[\s,/-])H|\?")
_JENKINS_FIRST = re.compile(r"^[0-9*?H][0-9*?H,/()\-]*$")


def _explicit(path: str) -> bool:
    """Named as a crontab: crontab, crontab.<env>, *.crontab, *.cron."""
    name = basename(path).lower()
    if name == "crontab" or name.endswith((".crontab", ".cron")):
        return True
    return name.startswith("crontab.") and (extension_of(name) == "txt"
                                             or extension_of(name) not in CODE_OR_DOC_EXTENSIONS)


def _in_cron_folder(path: str) -> bool:
    """In a cron folder, without a dot in the name (Debian cron skips cron.d files with dots) or as *.cron."""
    name = basename(path)
    return under(path, *CRON_DIRS) and "." not in name.strip(".") and name.lower() not in _NOT_CRONTABS


CRONTABS = Wants(globs=("crontab", "crontab.*", "*.crontab", "*.cron"), dirs=frozenset(CRON_DIRS),
                 refine=lambda path: _explicit(path) or _in_cron_folder(path))


def _system_crontab(path: str) -> bool:
    """Whether job lines carry a user column: /etc/crontab and cron.d files. Files in a `crontabs/` folder
    (the spool, or Alpine's /etc/crontabs/<user>) are per-user crontabs without one."""
    parts = path.split("/")
    folders = parts[:-1]
    if "crontabs" in folders:
        return False
    return "cron.d" in folders or (parts[-1] == "crontab" and "etc" in folders)


@dataclass
class Job:
    """One job line, parsed."""

    expression: str
    command: str
    user: str | None
    line: int
    timezone: str


@detector("crontab", wants=CRONTABS)
def detect_crontab(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    jobs, problems = _parse(file, system=_system_crontab(path))
    if not jobs and not _explicit(path):
        return  # a script or a note in a `cron/` folder, not a crontab
    for line, reason in problems:
        ctx.diagnostic(path, reason, line=line)
    for job in jobs:
        target = ctx.redact(job.command, path)
        if job.user:
            target += f" (as user {job.user}, system crontab)"
        ctx.add_schedule(Schedule(source="crontab", expression=job.expression,
                                  explanation=explain_cron(job.expression), timezone=job.timezone,
                                  target=target, evidence=ctx.evidence(path, job.line)))


def _parse(file: FileText, *, system: bool) -> tuple[list[Job], list[tuple[int, str]]]:
    jobs: list[Job] = []
    problems: list[tuple[int, str]] = []
    timezone = DEFAULT_TIMEZONE
    for number, raw in enumerate(file.lines[: file.line_count], start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        env = _ENV.match(line)
        if env:
            if env.group(1) in ("CRON_TZ", "TZ"):
                timezone = env.group(2).strip().strip("\"'") or DEFAULT_TIMEZONE
            continue
        job = _job(line, number, system=system, timezone=timezone)
        if isinstance(job, str):
            problems.append((number, job))
        else:
            jobs.append(job)
    return jobs, problems


def _job(line: str, number: int, *, system: bool, timezone: str) -> Job | str:
    """A Job, or the reason the line is not a valid job line."""
    if line.startswith("@"):
        words = line.split(None, 1)
        expression, rest = words[0], words[1].strip() if len(words) > 1 else ""
    else:
        words = line.split(None, 5)
        if _JENKINS_FIRST.match(words[0]) and _JENKINS_ONLY.search(" ".join(words[:5])):
            return f"invalid cron schedule '{' '.join(words[:5])}': H and ? are Jenkins/Quartz syntax, not cron's"
        if not _MINUTE_LIKE.match(words[0]):
            return ("not a cron line: expected five time fields and a command, an @macro and a command, "
                    "or NAME=value")
        if len(words) < 6:
            return f"cron line has {len(words)} fields; expected five time fields and a command"
        expression, rest = " ".join(words[:5]), words[5].strip()
    if not rest:
        return f"cron line '{expression}' has no command"
    try:
        explain_cron(expression)
    except CronError as exc:
        return f"invalid cron schedule '{expression}': {exc}"
    user = None
    words = rest.split(None, 1)
    if system and len(words) == 2 and _USER.match(words[0]):
        user, rest = words[0], words[1].strip()
    return Job(expression=expression, command=rest, user=user, line=number, timezone=timezone)
