"""Link the commands of manual procedures to the automation that already exists.

Runs once after every detector (a finalizer). For each command of each procedure step it looks for:

* **invokes**: the command starts existing automation. Read as each tool documents its command line:
  `make [-C dir] [-f file] target...` (GNU make manual, "Summary of Options"), `just [-f file] recipe`,
  `task [-t file] [-d dir] name...` (go-task), `npm run|test|start X` / `yarn [run] X` / `pnpm [run] X` /
  `bun run X` (a package.json script), `poe X`, `pdm run X`, `hatch run X`, `tox [run] -e a,b`,
  `nox -s a b`, `./gradlew a :sub:b`, `rake x` / `bin/rails x`, `cargo alias`, `composer [run-script] x`,
  a script path (`./scripts/x.sh`, `bash scripts/x.sh`, `python tools/release.py`) that is a
  Task with runner "script", and `gh workflow run <file or name>` (GitHub CLI manual) for a workflow.
  `cd dir && ...` moves the directory later parts are resolved in. Where a doc's commands run is not
  written down, so a runner's file is looked for in the procedure's folder, then its ancestors up to the
  root (right for npm, just, poe, ...; for make, which does not search upwards, it stands for "run from
  wherever the doc is"); `-C`, `--prefix`, `-f` and friends are exact. A runner this module does not parse
  still counts when the command equals a Task's own `invocation` (e.g. `pre-commit run --all-files`).
* **same-command**: a Task command or a CI step command line is the same command once normalized (prompt,
  make-recipe prefixes `@ - +`, `$$`, quotes, extra blanks and a trailing `;` ignored). CI `run`/`script`
  texts are split into lines (continuations joined, comments and blank lines dropped) and each line, and each
  `&&`/`;` part of it, is indexed. Bare `cd`, `export`, `echo`, ... never count: they are not automation.

Then `ManualProcedure.automation_coverage` = (commands with at least one AutomationRef) / (all commands),
None when the procedure has no command. All lookups go through dicts built once, so the cost is linear in
the number of commands plus the size of the automation.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .. import shellwords
from ..models import AutomationRef, Pipeline, ProcedureStep, Task
from .base import DetectContext, finalizer
from .procedures import PROMPT

# Commands that set up a shell rather than do work: matching them proves nothing is automated.
TRIVIAL_WORDS = frozenset(
    {"cd", "pushd", "popd", "set", "export", "unset", "echo", "printf", "source", ".", "true", "false", "exit",
     "shift", "sleep", "clear", "ls", "pwd", ":"}
)
# Words that run the rest of the line as the real command.
WRAPPERS = {
    ("poetry", "run"), ("uv", "run"), ("pipenv", "run"), ("bundle", "exec"), ("rye", "run"), ("pixi", "run"),
}
INTERPRETERS = frozenset(
    {"bash", "sh", "zsh", "ksh", "dash", "fish", "python", "python3", "py", "node", "ruby", "perl", "pwsh",
     "powershell", "deno", "bun", "tsx", "ts-node"}
)
# Sub-commands of yarn and pnpm that are the tool's own, not a package.json script of that name.
_YARN_OWN = """
    add audit autoclean bin cache check config create dedupe dlx exec generate-lock-entry global help import
    info init install licenses link list login logout npm outdated owner pack patch plugin policies publish
    rebuild remove set tag team unlink unplug up upgrade upgrade-interactive version versions why workspace
    workspaces
"""
_PNPM_OWN = """
    add audit bin config create dedupe deploy dlx env exec fetch help import i install install-test link list
    ls licenses outdated pack patch patch-commit prune publish rebuild remove rm root server setup store
    unlink up update why
"""
YARN_BUILTINS = frozenset(_YARN_OWN.split())
PNPM_BUILTINS = frozenset(_PNPM_OWN.split())
NPM_SCRIPT_COMMANDS = {"test": "test", "t": "test", "tst": "test", "start": "start", "stop": "stop",
                       "restart": "restart"}
# `a && b; c` runs three commands; a pipe `a | b` is one command for comparison, but its parts may each start a task.
SEQUENCE_SPLIT = re.compile(r"\s*(?:&&|\|\||;)\s*")
PIPE_SPLIT = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")


# ------------------------------------------------------------------ normalizing commands


def normalize(text: str, *, make_recipe: bool = False) -> str:
    """The comparable form of a command: prompt, recipe prefixes, quotes, extra blanks and trailing `;` removed."""
    text = PROMPT.sub("", text.strip(), count=1)
    if make_recipe:
        text = text.lstrip("@+- \t").replace("$$", "$")  # recipe prefixes; `$$` is make's escaped `$`
    text = text.replace('"', "").replace("'", "")
    text = " ".join(text.split())
    return text.rstrip("; ").strip()


def script_lines(text: str) -> list[str]:
    """The command lines of a multi-line run/script text: continuations joined, comments and blanks dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.split("\n"):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        line = f"{pending} {line}".strip() if pending else line
        if line.endswith("\\"):
            pending = line[:-1].rstrip()
            continue
        pending = ""
        lines.append(line)
    if pending:
        lines.append(pending)
    return lines


def _segments(normalized: str, splitter: re.Pattern[str] = SEQUENCE_SPLIT) -> list[str]:
    return [s for s in splitter.split(normalized) if s]


def _trivial(text: str) -> bool:
    """Whether every part of a command only sets up the shell (`cd x`, `export A=b && echo hi`)."""
    return all(not words or words[0] in TRIVIAL_WORDS for words in (part.split() for part in _segments(text)))


def _words(segment: str) -> list[str]:
    try:
        return shellwords.split(segment)
    except ValueError:  # unbalanced quotes in a hand-written doc
        return segment.split()


# ------------------------------------------------------------------ the index


@dataclass
class AutomationIndex:
    """Tasks, scripts, workflows and command lines of the inventory, keyed for dict lookups."""

    tasks: dict[tuple[str, str, str], list[Task]] = field(default_factory=dict)  # (runner, dir, name)
    task_files: dict[tuple[str, str, str], list[Task]] = field(default_factory=dict)  # (runner, file, name)
    scripts: dict[str, list[Task]] = field(default_factory=dict)  # path
    invocations: dict[str, list[Task]] = field(default_factory=dict)  # normalized Task.invocation
    workflows: dict[str, list[Pipeline]] = field(default_factory=dict)  # path, file name, name (lower case)
    commands: dict[str, list[AutomationRef]] = field(default_factory=dict)  # normalized command

    @classmethod
    def build(cls, tasks: Iterable[Task], pipelines: Iterable[Pipeline]) -> AutomationIndex:
        index = cls()
        for task in tasks:
            index._add_task(task)
        for pipeline in pipelines:
            index._add_pipeline(pipeline)
        return index

    def _add_task(self, task: Task) -> None:
        if task.runner == "script":
            self.scripts.setdefault(_clean_path(task.path), []).append(task)
        # A target of an included makefile (`include mk/release.mk`) is run from the including file's folder.
        files = [task.path] + ([task.attributes["included_by"]] if task.attributes.get("included_by") else [])
        for file in files:
            self.tasks.setdefault((task.runner, _run_from(file), task.name), []).append(task)
            self.task_files.setdefault((task.runner, _clean_path(file), task.name), []).append(task)
        if task.invocation.strip():
            self.invocations.setdefault(normalize(task.invocation), []).append(task)
        kind = "script" if task.runner == "script" else "task"
        for command in task.commands:
            for line in script_lines(command.text):
                self._add_command(normalize(line, make_recipe=task.runner == "make"),
                                  AutomationRef(kind=kind, ref=task.id, match="same-command",
                                                evidence=command.evidence))

    def _add_pipeline(self, pipeline: Pipeline) -> None:
        if pipeline.system == "github-actions" and pipeline.kind == "pipeline":
            for key in {pipeline.path.lower(), posixpath.basename(pipeline.path).lower(), pipeline.name.lower()}:
                self.workflows.setdefault(key, []).append(pipeline)
        for job in pipeline.jobs:
            for step in job.steps:
                if step.command is None or step.kind not in ("run", "script"):
                    continue
                ref = AutomationRef(kind="job", ref=f"{pipeline.id}/{job.id}", match="same-command",
                                    evidence=step.evidence)
                for line in script_lines(step.command):
                    self._add_command(normalize(line), ref)

    def _add_command(self, normalized: str, ref: AutomationRef) -> None:
        """Index a command line and each of its `&&`/`;` parts (a doc often runs one part alone)."""
        keys = {normalized, *_segments(normalized)}
        for key in keys:
            if key and not _trivial(key):
                refs = self.commands.setdefault(key, [])
                if not refs or refs[-1] != ref:
                    refs.append(ref)

    # -------------------------------------------------------------- lookups

    def same_command(self, text: str) -> list[AutomationRef]:
        """Automation that runs this very command (or, for `a && b`, every non-trivial part of it)."""
        normalized = normalize(text)
        segments = _segments(normalized)
        commands = self.commands
        if normalized not in commands and not any(s in commands for s in segments):
            return []  # most commands of a runbook: nothing to find, and no need to tell the trivial parts
        parts = [s for s in segments if not _trivial(s)]
        if not parts:
            return []
        if normalized in self.commands:
            return list(self.commands[normalized])
        if any(p not in self.commands for p in parts):
            return []
        return [ref for part in parts for ref in self.commands[part]]

    def find_task(self, runner: str, name: str, dirs: list[str], *, upwards: bool = True) -> list[Task]:
        """Tasks of `runner` named `name` in the first of `dirs` (or, `upwards`, their ancestors) that has one."""
        for directory in dirs:
            for candidate in _ancestors(directory) if upwards else [directory]:
                found = self.tasks.get((runner, candidate, name))
                if found:
                    return found
        return []

    def find_task_file(self, runner: str, file: str, name: str, dirs: list[str]) -> list[Task]:
        for directory in dirs:
            found = self.task_files.get((runner, _join(directory, file), name))
            if found:
                return found
        return []

    def find_script(self, path: str, dirs: list[str]) -> list[Task]:
        for directory in dirs:
            found = self.scripts.get(_join(directory, path))
            if found:
                return found
        return []


def _run_from(file: str) -> str:
    """The folder a task file's tasks run from: its own, or the project's for `.cargo/config.toml` and
    `.config/dotnet-tools.json`."""
    folder = posixpath.dirname(file)
    if posixpath.basename(folder) in (".cargo", ".config"):
        return posixpath.dirname(folder)
    return folder


def _clean_path(path: str) -> str:
    cleaned = posixpath.normpath(path)
    return "" if cleaned == "." else cleaned


def _join(directory: str, path: str) -> str:
    """`path` resolved in `directory` (both relative to the root); "" for the root, "!" when it leaves it."""
    if path.startswith("/"):
        return "!"
    joined = _clean_path(posixpath.join(directory, path))
    return "!" if joined == ".." or joined.startswith("../") else joined


def _ancestors(directory: str) -> list[str]:
    chain = [directory]
    while directory:
        directory = posixpath.dirname(directory)
        chain.append(directory)
    return chain


# ------------------------------------------------------------------ "invokes"


@dataclass
class _Call:
    """One `&&`-part of a command, with the directories it may run in (most likely first)."""

    words: list[str]
    dirs: list[str]


def invoked(index: AutomationIndex, text: str, doc_dir: str) -> list[AutomationRef]:
    """Automation that `text` starts: tasks, scripts and workflows, in the order the command names them."""
    dirs = list(dict.fromkeys([doc_dir, ""]))
    refs: list[AutomationRef] = []
    for segment in _segments(normalize_for_words(text), PIPE_SPLIT):
        if not _dispatchable(segment.split(" ", 1)[0]):
            # Only the task-invocation fallback below can match: no need to split the words.
            refs.extend(_task_refs(index.invocations.get(normalize(segment), [])))
            continue
        words = _unwrap(_words(segment))
        if not words:
            continue
        if words[0] == "cd" and len(words) > 1:
            moved = [_join(d, words[1]) for d in dirs]
            dirs = [d for d in moved if d != "!"] or dirs
            continue
        found = _dispatch(index, _Call(words, dirs))
        if not found:  # a runner we do not parse: the task's own invocation, as written, still counts
            found = _task_refs(index.invocations.get(normalize(segment), []))
        refs.extend(found)
    return refs


_UNWRAPPED_FIRST = frozenset({"sudo", "env", "time", "cd", *(first for first, _ in WRAPPERS)})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_QUOTING = re.compile(r"['\"\\]")


def _dispatchable(first: str) -> bool:
    """Whether a segment whose first blank-separated word is `first` may start a task, script or workflow (or
    change folder) as `_dispatch` and `_unwrap` read it: False only when its shell words need not be looked at.
    (Segments come from `normalize_for_words`: words are separated by single spaces.)"""
    return (first in HANDLERS or first in INTERPRETERS or first in _UNWRAPPED_FIRST or "/" in first
            or first.endswith((".sh", ".ps1", ".py")) or _QUOTING.search(first) is not None
            or _ASSIGNMENT.match(first) is not None)


def normalize_for_words(text: str) -> str:
    """Like `normalize`, but keeps quotes so that `shlex` can split arguments correctly."""
    text = PROMPT.sub("", text.strip(), count=1)
    return " ".join(text.split()).rstrip("; ")


def _unwrap(words: list[str]) -> list[str]:
    """Drop `VAR=x`, `sudo`, `env`, and wrappers like `poetry run` that run the rest as the real command."""
    changed = True
    while words and changed:
        changed = False
        while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or words[0] in ("sudo", "env", "time")):
            words = words[1:]
            changed = True
        if len(words) >= 2 and (words[0], words[1]) in WRAPPERS:
            words = words[2:]
            changed = True
    return words


def _dispatch(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    handler = HANDLERS.get(call.words[0])
    if handler is not None:
        return handler(index, call)
    if call.words[0] in INTERPRETERS:
        return _interpreter(index, call)
    if "/" in call.words[0] or call.words[0].endswith((".sh", ".ps1", ".py")):
        return _task_refs(index.find_script(call.words[0], call.dirs))
    return []


def _task_refs(tasks: list[Task]) -> list[AutomationRef]:
    return [
        AutomationRef(kind="script" if t.runner == "script" else "task", ref=t.id, match="invokes", evidence=t.evidence)
        for t in tasks
    ]


def _options(words: list[str], with_value: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """Split argv into options (`-C dir`, `-Cdir`, `--directory=dir`; named by `with_value`) and positionals.

    Options not in `with_value` are flags. Everything after `--` is left out: it is passed to the task.
    """
    options: dict[str, list[str]] = {}
    positionals: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            break
        if not word.startswith("-") or word == "-":
            positionals.append(word)
            continue
        name, eq, value = word.partition("=")
        if name in with_value:
            if not eq:
                if index >= len(words):
                    break
                value = words[index]
                index += 1
            options.setdefault(with_value[name], []).append(value)
            continue
        short = next((o for o in with_value if len(o) == 2 and word.startswith(o) and len(word) > 2), None)
        if short is not None:  # the value glued to a short option: -Cdir
            options.setdefault(with_value[short], []).append(word[2:])
    return options, positionals


def _make(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    options, positionals = _options(call.words[1:], {
        "-C": "dir", "--directory": "dir", "-f": "file", "--file": "file", "--makefile": "file",
        "-I": "include", "--include-dir": "include", "-o": "old", "--old-file": "old", "--assume-old": "old",
        "-W": "new", "--what-if": "new", "--new-file": "new", "--assume-new": "new",
    })
    targets = [w for w in positionals if "=" not in w and not w.isdigit()]  # `-j 4` leaves a bare number
    dirs = call.dirs
    for directory in options.get("dir", []):  # each -C is relative to the previous one
        dirs = [_join(d, directory) for d in dirs]
    refs: list[AutomationRef] = []
    for target in targets:
        if options.get("file"):
            found = index.find_task_file("make", options["file"][-1], target, dirs)
        else:
            found = index.find_task("make", target, dirs, upwards="dir" not in options)
        refs.extend(_task_refs(found))
    return refs


def _just(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    options, positionals = _options(call.words[1:], {
        "-f": "file", "--justfile": "file", "-d": "dir", "--working-directory": "dir", "--shell": "x",
        "--dotenv-filename": "x", "--dotenv-path": "x", "--color": "x", "--chooser": "x",
    })
    names = [w for w in positionals if "=" not in w]
    if not names:
        return []
    recipe = names[0]  # later words are the recipe's arguments
    if options.get("file"):
        return _task_refs(index.find_task_file("just", options["file"][-1], recipe, call.dirs))
    return _task_refs(index.find_task("just", recipe, call.dirs))


def _go_task(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    options, positionals = _options(call.words[1:], {
        "-t": "file", "--taskfile": "file", "-d": "dir", "--dir": "dir", "-o": "x", "--output": "x",
        "-C": "x", "--concurrency": "x",
    })
    dirs = [_join(d, options["dir"][-1]) for d in call.dirs] if options.get("dir") else call.dirs
    refs: list[AutomationRef] = []
    for name in (w for w in positionals if "=" not in w):
        if options.get("file"):
            refs.extend(_task_refs(index.find_task_file("task", options["file"][-1], name, dirs)))
        else:
            refs.extend(_task_refs(index.find_task("task", name, dirs)))
    return refs


def _package_script(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    """npm, yarn, pnpm and bun running a package.json script (a Task of runner "npm")."""
    tool = call.words[0]
    options, positionals = _options(call.words[1:], {
        "--prefix": "dir", "--cwd": "dir", "-C": "dir", "--dir": "dir", "-w": "workspace", "--workspace": "workspace",
        "--filter": "workspace", "-F": "workspace",
    })
    if options.get("workspace") or not positionals:
        return []  # a workspace package: which package.json is not known from the doc
    sub = positionals[0]
    if sub in ("run", "run-script", "rum", "urn"):
        name = positionals[1] if len(positionals) > 1 else None
    elif tool == "npm":
        name = NPM_SCRIPT_COMMANDS.get(sub)
    elif tool == "bun":
        name = sub if sub in ("test",) else None  # `bun x.ts` runs a file, not a script
    else:
        builtins = YARN_BUILTINS if tool == "yarn" else PNPM_BUILTINS
        name = None if sub in builtins else sub
    if name is None:
        return []
    dirs = [_join(d, options["dir"][-1]) for d in call.dirs] if options.get("dir") else call.dirs
    return _task_refs(index.find_task("npm", name, [d for d in dirs if d != "!"]))


def _poe(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    options, positionals = _options(call.words[1:], {"-C": "dir", "--directory": "dir", "--root": "dir",
                                                     "-e": "x", "--executor": "x"})
    if not positionals:
        return []
    dirs = [_join(d, options["dir"][-1]) for d in call.dirs] if options.get("dir") else call.dirs
    return _task_refs(index.find_task("poe", positionals[0], dirs))


def _runner_run(runner: str) -> Callable[[AutomationIndex, _Call], list[AutomationRef]]:
    """`pdm run X` / `hatch run X`: a script of that runner when one is named X, else X is the real command."""

    def handle(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
        if len(call.words) < 3 or call.words[1] != "run":
            return []
        name = call.words[2]
        found = index.find_task(runner, name, call.dirs)
        if found:
            return _task_refs(found)
        return _dispatch(index, _Call(_unwrap(call.words[2:]), call.dirs)) if call.words[2:] else []

    return handle


def _tox(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    words = call.words[1:]
    if words and words[0] in ("run", "r", "run-parallel", "p"):  # tox 4 sub-commands
        words = words[1:]
    options, _ = _options(words, {"-e": "env", "--env": "env", "-c": "x", "--conf": "x", "--root": "x",
                                  "--workdir": "x", "-f": "x"})
    names = [name for value in options.get("env", []) for name in value.split(",") if name]
    return [ref for name in names for ref in _task_refs(index.find_task("tox", name, call.dirs))]


def _nox(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    words = call.words[1:]
    names: list[str] = []
    taking = False
    for word in words:
        if word == "--":
            break
        if word in ("-s", "-e", "--session", "--sessions"):
            taking = True
            continue
        if word.startswith(("--session=", "--sessions=")):
            names.append(word.split("=", 1)[1])
            taking = True
            continue
        if word.startswith("-"):
            taking = False
            continue
        if taking:
            names.append(word)
    return [ref for name in names for ref in _task_refs(index.find_task("nox", name, call.dirs))]


def _interpreter(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    """`bash scripts/release.sh`, `python tools/bump.py`: the first non-option word is the script."""
    for word in call.words[1:]:
        if word in ("-m", "-c", "-e", "--eval", "-Command"):
            return []  # a module or inline code, not a file
        if word.startswith("-"):
            continue
        return _task_refs(index.find_script(word, call.dirs))
    return []


def _gh(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
    """`gh workflow run <workflow>`: that workflow as a whole (found by file name, path or name)."""
    if call.words[1:3] != ["workflow", "run"]:
        return []
    options, positionals = _options(call.words[3:], {"-R": "repo", "--repo": "repo", "-r": "x", "--ref": "x",
                                                     "-f": "x", "--raw-field": "x", "-F": "x", "--field": "x"})
    if options.get("repo") or not positionals:
        return []  # another repository's workflow
    workflow = positionals[0].lower()
    pipelines = index.workflows.get(workflow) or index.workflows.get(posixpath.basename(workflow)) or []
    return [AutomationRef(kind="pipeline", ref=p.id, match="invokes", evidence=p.evidence) for p in pipelines]


def _named_tasks(runner: str, skip: tuple[str, ...] = ()) -> Callable[[AutomationIndex, _Call], list[AutomationRef]]:
    """`./gradlew a :sub:b -Pk=v`, `rake db:migrate`, `cargo xtask dist`, `composer [run-script] test`: the
    first positional word names a task of `runner` (Gradle: every positional, a `:project:` path's last part)."""

    def handle(index: AutomationIndex, call: _Call) -> list[AutomationRef]:
        positionals = [w for w in call.words[1:] if not w.startswith("-") and "=" not in w and w not in skip]
        if runner != "gradle":
            positionals = positionals[:1]
        refs: list[AutomationRef] = []
        for word in positionals:
            name = word.rsplit(":", 1)[-1] if runner == "gradle" else word
            refs.extend(_task_refs(index.find_task(runner, name, call.dirs)))
        return refs

    return handle


HANDLERS: dict[str, Callable[[AutomationIndex, _Call], list[AutomationRef]]] = {
    "./gradlew": _named_tasks("gradle"), "gradlew": _named_tasks("gradle"), "gradle": _named_tasks("gradle"),
    "rake": _named_tasks("rake"), "bin/rails": _named_tasks("rake"), "rails": _named_tasks("rake"),
    "cargo": _named_tasks("cargo"), "composer": _named_tasks("composer", ("run-script", "run")),
    "make": _make, "gmake": _make, "just": _just, "task": _go_task, "npm": _package_script,
    "yarn": _package_script, "pnpm": _package_script, "bun": _package_script, "poe": _poe,
    "pdm": _runner_run("pdm"), "hatch": _runner_run("hatch"), "tox": _tox, "nox": _nox, "gh": _gh,
}


# ------------------------------------------------------------------ the finalizer


def link_step(index: AutomationIndex, step: ProcedureStep, doc_dir: str) -> int:
    """Fill `step.automated_by`; return how many of its commands have at least one reference."""
    refs: list[AutomationRef] = []
    seen: set[tuple[str, str, str, str, int, int]] = set()
    linked = 0
    for command in step.commands:
        found = invoked(index, command.text, doc_dir) + index.same_command(command.text)
        if found:
            linked += 1
        for ref in found:
            where = ref.evidence
            key = (ref.kind, ref.ref, ref.match, where.path, where.line_start, where.line_end)
            if key not in seen:
                seen.add(key)
                refs.append(ref)
    step.automated_by = refs
    return linked


@finalizer("automation-links", order=900)
def link_procedures(ctx: DetectContext) -> None:
    """For every procedure, link each step's commands to tasks, scripts and CI jobs, then set the coverage."""
    procedures = ctx.findings.procedures
    if not procedures:
        return
    index = AutomationIndex.build(ctx.findings.tasks, ctx.findings.pipelines)
    for procedure in procedures:
        doc_dir = posixpath.dirname(procedure.path)
        total = sum(len(step.commands) for step in procedure.steps)
        linked = sum(link_step(index, step, doc_dir) for step in procedure.steps)
        procedure.automation_coverage = linked / total if total else None
