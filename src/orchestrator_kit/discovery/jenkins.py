"""Jenkins: `Jenkinsfile`, `Jenkinsfile.*`, `*.jenkinsfile` (any case), declarative or scripted.

Groovy has no parser here, so this reads in two passes, never running anything:

1. `GroovyScanner` turns the text into tokens: identifiers, numbers, operators, newlines and strings of every
   Groovy quoting ('...', "...", '''...''', \"\"\"...\"\"\", /slashy/, $/dollar-slashy/$, with `${...}`
   interpolation followed to its closing brace). Comments (`//`, `/* */`, a `#!` first line) are skipped, so
   a brace inside a string or a comment never counts. String content keeps its text; only the escapes
   \\\\ \\' \\" \\$ are decoded (what the shell receives).
2. `parse_groovy` groups tokens into statements and `{ }` blocks (a newline ends a statement unless a bracket is
   open or the line obviously continues), keeping what it read when braces do not balance.

On that tree, following the Jenkins Pipeline syntax reference: a declarative `pipeline { }` with `agent`,
`options` (`timeout`, `disableConcurrentBuilds`), `triggers` (`cron`, `pollSCM`, `upstream`, ...),
`parameters`, `stages`, `post`; stages with `steps`, `agent`, `when`, `input`, `options`, `post`, nested
`parallel`, sequential `stages` and `matrix` (axes and excludes); scripted pipelines (`node { stage('x')
{ ... } }`, `parallel a: { }, b: { }`, `properties([pipelineTriggers([cron(...)])])`). Each stage is a Job
(nested ones `Parent/Child`); stages need the stage(s) before them (needs_source="sequence"). Steps:
`sh`/`bat`/`powershell`/`pwsh` with a string or `script:` are `run` steps with the string's lines;
`checkout`/`git` are `checkout`; `input` is an `approval` that makes the stage manual and blocking;
other calls (`echo`, `withCredentials`, `script`, library steps) are `other` steps named after the call.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field, replace

from ..cron import CronError, explain_cron
from ..models import Evidence, Job, Matrix, Schedule, Step, Trigger, TriggerKind
from ..repo import FileText
from ._groovy import (
    CHECKOUT_STEPS,
    CONTROL_WORDS,
    JENKINS_FILES,
    MAX_DEPTH,
    SHELL_STEPS,
    TIME_UNITS_IN_MINUTES,
    TRIGGER_KINDS,
    Block,
    GroovyScanner,
    Stmt,
    Tok,
    call_args,
    find_calls,
    first_string,
    is_jenkinsfile,
    is_op,
    item_end,
    item_end_line,
    item_line,
    item_start,
    parse_groovy,
    split_args,
    statement_blocks,
    statement_head,
    string_tokens,
    trailing_block,
)
from ._matrix import matrix_combinations, matrix_size
from .base import DetectContext, basename, detector

# ------------------------------------------------------------------ the detector


@dataclass
class _Scope:
    """What a stage inherits from where it sits: agent, timeout, condition, approval, matrix."""

    runs_on: list[str] = field(default_factory=list)
    image: str | None = None
    timeout: float | None = None
    condition: str | None = None
    manual: bool = False
    matrix: Matrix | None = None


# What a shared library step needs to define a pipeline: a declarative block, a stage or a node.
_PIPELINE_SNIFF = re.compile(r"\bpipeline\s*\{|\bstage\s*\(|\bnode\s*[({]")


@detector("jenkins", wants=JENKINS_FILES)
def detect_jenkinsfile(ctx: DetectContext, file: FileText) -> None:
    """One Pipeline per Jenkinsfile: its stages as jobs, its triggers, schedules and libraries. A shared library's
    `vars/<name>.groovy` that builds a pipeline (`def call(...) { pipeline { ... } }`) is one too, as a template:
    it runs when a Jenkinsfile calls `<name>(...)`. Other library steps (helpers) are left alone."""
    if not is_jenkinsfile(file.path):
        if _PIPELINE_SNIFF.search(file.text) is None:
            return
        _Reader(ctx, file, template=True).read()
        return
    _Reader(ctx, file).read()


class _Reader:
    def __init__(self, ctx: DetectContext, file: FileText, *, template: bool = False) -> None:
        self.ctx = ctx
        self.template = template
        self.path = file.path
        self.text = file.text
        self.line_count = file.line_count
        self.jobs: list[Job] = []
        self.ids: set[str] = set()
        self.next_number: dict[str, int] = {}  # the next suffix to try for a repeated stage name
        self.triggers: list[Trigger] = []
        self.includes: list[str] = []
        self.concurrency: str | None = None

    # -------------------------------------------------------------- plumbing

    def evidence(self, start: int, end: int | None = None) -> Evidence:
        return self.ctx.evidence(self.path, start, end)

    def source(self, items: list[Tok | Block]) -> str:
        """The file text the items were read from, with runs of whitespace made single spaces."""
        if not items:
            return ""
        return " ".join(self.text[item_start(items[0]):item_end(items[-1])].split())

    def value(self, items: list[Tok | Block]) -> tuple[str, int, int] | None:
        """An argument's text and lines: string content (strings joined by `+` concatenated), else the source."""
        if not items:
            return None
        strings = string_tokens(items)
        if strings and all(isinstance(i, Tok) and (i.kind == "str" or is_op(i, "+")) for i in items):
            text = "".join(s.text for s in strings)
        elif isinstance(items[0], Tok) and items[0].kind == "str":
            text = items[0].text  # `'''...'''.stripIndent()` and the like
        else:
            text = self.source(items)
        return text, item_line(items[0]), item_end_line(items[-1])

    def unique(self, wanted: str, line: int) -> str:
        job_id = wanted
        number = self.next_number.get(wanted, 2)
        while job_id in self.ids:
            job_id = f"{wanted} ({number})"
            number += 1
        self.next_number[wanted] = number
        if job_id != wanted:
            self.ctx.diagnostic(self.path, f"stage name '{wanted}' is used twice; Jenkins needs unique stage names",
                                line=line)
        self.ids.add(job_id)
        return job_id

    # -------------------------------------------------------------- top level

    def read(self) -> None:
        scanner = GroovyScanner(self.text)
        tokens = scanner.run()
        problems = scanner.problems
        root = parse_groovy(tokens, problems)
        for line, reason in sorted(problems):
            self.ctx.diagnostic(self.path, f"{reason} (what was read before it is kept)", line=line)
        self._libraries(tokens)
        pipeline_stmt = self._find_pipeline(root)
        evidence = self.evidence(1, max(1, self.line_count))
        if pipeline_stmt is not None:
            block = trailing_block(pipeline_stmt)
            if block is not None:
                self._declarative(block)
            evidence = self.evidence(pipeline_stmt.line, pipeline_stmt.end_line)
        else:
            self._scripted(root, [], "", _Scope(), 0)
            if not self.jobs:
                steps = self._steps(root, 0)
                if steps:
                    self.jobs.append(Job(id="(no stage)", name="steps outside any stage", steps=steps,
                                         evidence=self.evidence(steps[0].evidence.line_start,
                                                                steps[-1].evidence.line_end)))
        if not self.jobs and not self.triggers:
            self.ctx.diagnostic(self.path, "no pipeline { }, stage or step found in this Jenkinsfile",
                                severity="info", line=1)
            return
        self.ctx.add_pipeline(
            DetectContext.pipeline(
                "jenkins", self.path,
                kind="template" if self.template else "pipeline",
                name=f"shared library step {basename(self.path).removesuffix('.groovy')}" if self.template
                else self.path,
                triggers=self.triggers,
                jobs=self.jobs,
                concurrency=self.concurrency,
                includes=self.includes,
                evidence=evidence,
            )
        )

    def _find_pipeline(self, root: Block) -> Stmt | None:
        """The declarative `pipeline { }`: at the top level, else anywhere (e.g. inside `def call() { }`)."""
        pending: list[tuple[Block, int]] = [(root, 0)]
        while pending:
            block, depth = pending.pop(0)
            for stmt in block.stmts:
                if statement_head(stmt) == "pipeline" and trailing_block(stmt) is not None:
                    return stmt
                if depth < 3:
                    pending.extend((b, depth + 1) for b in statement_blocks(stmt))
        return None

    def _libraries(self, tokens: list[Tok]) -> None:
        """`@Library('name@version') _` and `library 'name'` / `libraries { lib('name') }`."""
        for index, tok in enumerate(tokens):
            if tok.kind != "id" or tok.text not in ("Library", "library", "lib"):
                continue
            previous = tokens[index - 1] if index > 0 else None
            if tok.text == "Library" and not is_op(previous, "@"):
                continue
            if tok.text != "Library" and is_op(previous, ".", "?.", "@"):
                continue
            following = tokens[index + 1:index + 40]
            if not following or not (is_op(following[0], "(") or following[0].kind == "str"):
                continue
            for item in following[1:] if is_op(following[0], "(") else following[:1]:
                if is_op(item, ")") or item.kind == "nl":
                    break
                if item.kind == "str" and f"library:{item.text}" not in self.includes:
                    self.includes.append(f"library:{item.text}")

    # -------------------------------------------------------------- declarative

    def _declarative(self, block: Block) -> None:
        scope = _Scope()
        stages: Stmt | None = None
        post: Stmt | None = None
        has_agent = False
        for stmt in block.stmts:
            head = statement_head(stmt)
            if head == "agent":
                has_agent = True
                scope.runs_on, scope.image = self._agent(stmt)
            elif head == "options":
                scope.timeout = self._options(stmt, pipeline_level=True)
            elif head == "triggers":
                self._triggers_block(stmt)
            elif head == "parameters":
                self._parameters(stmt)
            elif head == "stages":
                stages = stmt
            elif head == "post":
                post = stmt
        if not has_agent:
            self.ctx.diagnostic(self.path, "declarative pipeline without 'agent'; Jenkins refuses it",
                                line=block.open.line if block.open else 1)
        last: list[str] = []
        stages_block = trailing_block(stages) if stages is not None else None
        if stages_block is None:
            self.ctx.diagnostic(self.path, "declarative pipeline without 'stages { }'",
                                line=block.open.line if block.open else 1)
        else:
            last = self._sequence(self._stage_stmts(stages_block), [], "", scope, 0)
        if post is not None:
            steps = self._post_steps(post)
            if steps:
                conditions = [h for s in (trailing_block(post) or Block(None)).stmts if (h := statement_head(s))]
                self.jobs.append(Job(id=self.unique("post", post.line), name="post",
                                     condition=f"post: {', '.join(conditions)}", needs=last,
                                     needs_source="sequence" if last else "none", runs_on=scope.runs_on,
                                     image=scope.image, steps=steps,
                                     evidence=self.evidence(post.line, post.end_line)))

    @staticmethod
    def _stage_stmts(block: Block) -> list[Stmt]:
        return [s for s in block.stmts if statement_head(s) == "stage"]

    def _sequence(self, stages: list[Stmt], prev: list[str], prefix: str, scope: _Scope, depth: int) -> list[str]:
        for stmt in stages:
            prev = self._stage(stmt, prev, prefix, scope, depth)
        return prev

    def _stage_name(self, stmt: Stmt) -> str:
        args = call_args(stmt.items, 0)
        name = first_string(args)
        if name is None:
            positional, _ = split_args([a for a in args if not isinstance(a, Block)])
            name = self.source(positional[0]) if positional else None
        return name or f"stage@{stmt.line}"

    def _stage(self, stmt: Stmt, prev: list[str], prefix: str, scope: _Scope, depth: int) -> list[str]:
        """One declarative stage: a Job, or the stages it groups (`parallel`, `stages`, `matrix`)."""
        name = self._stage_name(stmt)
        qualified = prefix + name
        body = trailing_block(stmt)
        if body is None or depth > MAX_DEPTH:
            self.ctx.diagnostic(self.path, f"stage '{name}' has no {{ }} body", line=stmt.line)
            return prev
        directives = self._directives(body)
        own = self._stage_scope(directives, scope)
        for group in ("parallel", "stages", "matrix"):
            if group in directives:
                block = trailing_block(directives[group])
                if block is None:
                    continue
                if group == "parallel":
                    last: list[str] = []
                    for child in self._stage_stmts(block):
                        last.extend(self._stage(child, prev, qualified + "/", own, depth + 1))
                    return last or prev
                if group == "stages":
                    return self._sequence(self._stage_stmts(block), prev, qualified + "/", own, depth + 1)
                return self._matrix_stage(block, prev, qualified + "/", own, depth + 1)
        steps_stmt = directives.get("steps")
        steps_block = trailing_block(steps_stmt) if steps_stmt is not None else None
        steps = self._steps(steps_block, depth + 1) if steps_block is not None else []
        if steps_block is None:
            self.ctx.diagnostic(self.path, f"stage '{name}' has no 'steps', 'parallel', 'stages' or 'matrix'",
                                line=stmt.line)
        if "input" in directives and trailing_block(directives["input"]) is not None:
            message = self._setting(self._directives(trailing_block(directives["input"])).get("message"))
            label = f"input: {self.ctx.redact(message, self.path)}" if message else "input"
            steps.insert(0, Step(kind="approval", name=label,
                                 evidence=self.evidence(directives["input"].line, directives["input"].end_line)))
        if "post" in directives:
            steps.extend(self._post_steps(directives["post"]))
        manual = own.manual or any(step.kind == "approval" for step in steps)
        self.jobs.append(
            Job(
                id=self.unique(qualified, stmt.line),
                name=name,
                stage=prefix.rstrip("/") or None,
                needs=list(prev),
                needs_source="sequence" if prev else "none",
                runs_on=own.runs_on,
                image=own.image,
                timeout_minutes=own.timeout,
                matrix=own.matrix,
                condition=self.ctx.redact(own.condition, self.path) if own.condition else None,
                manual=manual,
                blocking=True if manual else None,
                steps=steps,
                evidence=self.evidence(stmt.line, stmt.end_line),
            )
        )
        return [self.jobs[-1].id]

    @staticmethod
    def _directives(block: Block | None) -> dict[str, Stmt]:
        """The statements of a block by their leading word (the first one wins)."""
        directives: dict[str, Stmt] = {}
        for inner in block.stmts if block else []:
            head = statement_head(inner)
            if head and head not in directives:
                directives[head] = inner
        return directives

    def _stage_scope(self, directives: dict[str, Stmt], scope: _Scope) -> _Scope:
        own = replace(scope, runs_on=list(scope.runs_on))
        if "agent" in directives:
            runs_on, image = self._agent(directives["agent"])
            if runs_on or image:  # `agent none` on a stage keeps nothing new
                own.runs_on, own.image = runs_on, image
        if "options" in directives:
            timeout = self._options(directives["options"], pipeline_level=False)
            own.timeout = timeout if timeout is not None else own.timeout
        when = directives.get("when")
        when_block = trailing_block(when) if when is not None else None
        if when_block is not None and when_block.stmts:
            text = "; ".join(self.source(s.items) for s in when_block.stmts)
            own.condition = f"{scope.condition}; {text}" if scope.condition else text
        if "input" in directives and trailing_block(directives["input"]) is not None:
            own.manual = True
        return own

    def _matrix_stage(self, block: Block, prev: list[str], prefix: str, scope: _Scope, depth: int) -> list[str]:
        """`matrix { axes { axis { name 'X'; values 'a', 'b' } } excludes { exclude { axis {...} } } stages {...} }`."""
        directives = self._directives(block)
        own = self._stage_scope(directives, scope)
        dimensions: dict[str, list[str]] = {}
        excludes: list[dict[str, tuple[set[str], bool]]] = []
        axes = trailing_block(directives["axes"]) if "axes" in directives else None
        for axis in self._axis_blocks(axes):
            name, values, _ = self._axis(axis)
            if name:
                dimensions[name] = values
        excludes_block = trailing_block(directives["excludes"]) if "excludes" in directives else None
        for exclude in (excludes_block.stmts if excludes_block else []):
            rule: dict[str, tuple[set[str], bool]] = {}
            for axis in self._axis_blocks(trailing_block(exclude)):
                name, values, negated = self._axis(axis)
                if name:
                    rule[name] = (set(values), negated)
            excludes.append(rule)
        own.matrix = _matrix(dimensions, excludes)
        stages = trailing_block(directives["stages"]) if "stages" in directives else None
        if stages is None:
            self.ctx.diagnostic(self.path, "matrix without 'stages'", line=block.open.line if block.open else 1)
            return prev
        return self._sequence(self._stage_stmts(stages), prev, prefix, own, depth)

    @staticmethod
    def _axis_blocks(block: Block | None) -> list[Block]:
        if block is None:
            return []
        return [b for s in block.stmts if statement_head(s) == "axis" and (b := trailing_block(s)) is not None]

    @staticmethod
    def _axis(block: Block) -> tuple[str | None, list[str], bool]:
        name: str | None = None
        values: list[str] = []
        negated = False
        for stmt in block.stmts:
            head = statement_head(stmt)
            if head == "name":
                strings = string_tokens(stmt.items)
                name = strings[0].text if strings else None
            elif head in ("values", "notValues"):
                values = [s.text for s in string_tokens(stmt.items)]
                negated = head == "notValues"
        return name, values, negated

    def _agent(self, stmt: Stmt) -> tuple[list[str], str | None]:
        """`agent any|none|{ label 'x' }|{ node { label 'x' } }|{ docker 'img' | { image 'img' } }|
        { dockerfile ... }|{ kubernetes { ... } }` as (runs_on labels, container image)."""
        block = trailing_block(stmt)
        if block is None:
            args = call_args(stmt.items, 0)
            positional, named = split_args(args)
            if "label" in named:
                text = self.value(named["label"])
                return ([text[0]] if text else []), None
            word = self.source(positional[0]) if positional else ""
            return ([] if word in ("none", "") else [word]), None
        runs_on: list[str] = []
        image: str | None = None
        for inner in block.stmts:
            head = statement_head(inner)
            positional, _ = split_args(call_args(inner.items, 0))
            sub = trailing_block(inner)
            text = self.value(positional[0]) if positional else None
            if head == "label" and text:
                runs_on.append(text[0])
            elif head in ("node", "docker", "dockerfile", "kubernetes") and sub is not None:
                settings = self._directives(sub)
                label = self._setting(settings.get("label")) or self._setting(settings.get("inheritFrom"))
                if head == "docker":
                    image = self._setting(settings.get("image"))
                elif head == "dockerfile":
                    image = f"dockerfile:{self._setting(settings.get('filename')) or 'Dockerfile'}"
                elif head == "kubernetes":
                    runs_on.append("kubernetes")
                if label:
                    runs_on.append(label)
            elif head == "docker" and text:
                image = text[0]
            elif head == "dockerfile":
                image = "dockerfile:Dockerfile"
            elif head in ("any", "none"):
                runs_on.extend(["any"] if head == "any" else [])
        if image and not runs_on:
            runs_on = ["docker"]
        return runs_on, image

    def _setting(self, stmt: Stmt | None) -> str | None:
        if stmt is None:
            return None
        positional, _ = split_args(call_args(stmt.items, 0))
        found = self.value(positional[0]) if positional else None
        return found[0] if found else None

    def _options(self, stmt: Stmt, *, pipeline_level: bool) -> float | None:
        """`options { timeout(time: 30, unit: 'MINUTES') disableConcurrentBuilds() }`: the timeout in minutes."""
        block = trailing_block(stmt)
        timeout: float | None = None
        for inner in block.stmts if block else []:
            head = statement_head(inner)
            if head == "timeout":
                timeout = self._timeout(inner)
            elif head == "disableConcurrentBuilds" and pipeline_level:
                _, named = split_args(call_args(inner.items, 0))
                abort = "abortPrevious" in named and self.source(named["abortPrevious"]) == "true"
                self.concurrency = "disableConcurrentBuilds" + (" (abortPrevious)" if abort else "")
        return timeout

    def _timeout(self, stmt: Stmt) -> float | None:
        """`timeout(time: 2, unit: 'HOURS')` or `timeout(30)` (the unit defaults to minutes) in minutes."""
        positional, named = split_args(call_args(stmt.items, 0))
        amount_items = named.get("time") or (positional[0] if positional else [])
        amount = amount_items[0] if amount_items else None
        if not (isinstance(amount, Tok) and amount.kind == "num"):
            return None
        try:
            number = float(amount.text.rstrip("LlGgDdFfIi").replace("_", ""))
        except ValueError:
            return None
        unit_items = named.get("unit") or []
        unit = "MINUTES"
        if unit_items and isinstance(unit_items[-1], Tok):
            unit = unit_items[-1].text.upper()
        factor = TIME_UNITS_IN_MINUTES.get(unit)
        if factor is None:
            self.ctx.diagnostic(self.path, f"unknown timeout unit '{unit}'", line=stmt.line)
            return None
        return round(number * factor, 6)

    def _parameters(self, stmt: Stmt) -> None:
        """`parameters { string(name: 'X') ... }`: people start the job with these (Build with Parameters)."""
        block = trailing_block(stmt)
        names: list[str] = []
        for inner in block.stmts if block else []:
            _, named = split_args(call_args(inner.items, 0))
            found = self.value(named["name"]) if "name" in named else None
            if found:
                names.append(found[0])
        self.triggers.append(Trigger(kind="manual", event="parameters", filters={"parameters": names},
                                     evidence=self.evidence(stmt.line, stmt.end_line)))

    # -------------------------------------------------------------- triggers and schedules

    def _triggers_block(self, stmt: Stmt) -> None:
        block = trailing_block(stmt)
        for inner in block.stmts if block else []:
            head = statement_head(inner)
            if head:
                self._trigger(head, inner.items, 0, inner.line, inner.end_line)

    def _trigger(self, name: str, items: list[Tok | Block], at: int, line: int, end_line: int) -> None:
        args = call_args(items, at)
        positional, named = split_args(args)
        kind = TRIGGER_KINDS.get(name, "other")
        if name in ("cron", "parameterizedCron", "pollSCM"):
            spec_items = named.get("spec") or named.get("parameterizedSpecification") or (
                positional[0] if positional else [])
            spec = next(iter(string_tokens(spec_items)), None)
            entries = self._cron_entries(spec, parameterized=name == "parameterizedCron") if spec else []
            if not entries:
                self.triggers.append(Trigger(kind=kind, event=name, evidence=self.evidence(line, end_line)))
            for expression, timezone, at_line in entries:
                self._cron_trigger(name, kind, expression, timezone, at_line)
            return
        filters: dict[str, list[str]] = {}
        if name == "upstream":
            projects = self.value(named.get("upstreamProjects") or (positional[0] if positional else []))
            if projects:
                filters["upstreamProjects"] = [p.strip() for p in projects[0].split(",") if p.strip()]
        self.triggers.append(Trigger(kind=kind, event=name, filters=filters, evidence=self.evidence(line, end_line)))

    @staticmethod
    def _cron_entries(spec: Tok, *, parameterized: bool) -> list[tuple[str, str | None, int]]:
        """Jenkins cron specs: one schedule a line, `#` comments, `TZ=Zone` for the lines after it."""
        entries: list[tuple[str, str | None, int]] = []
        timezone: str | None = None
        for offset, raw in enumerate(spec.text.split("\n")):
            line = raw.strip()
            if parameterized:
                line = line.split("%", 1)[0].strip()  # `H 2 * * * %ENV=prod`: parameters after %
            if not line or line.startswith("#"):
                continue
            if line.startswith("TZ="):
                timezone = line[3:].strip() or None
                continue
            entries.append((line, timezone, spec.line + offset))
        return entries

    def _cron_trigger(self, name: str, kind: TriggerKind, expression: str, timezone: str | None, line: int) -> None:
        try:
            explained: str | None = explain_cron(expression)
        except CronError as exc:
            explained = None
            self.ctx.diagnostic(self.path, f"invalid cron '{expression}': {exc}", line=line)
        evidence = self.evidence(line)
        self.triggers.append(Trigger(kind=kind, event=name, cron=expression, cron_explained=explained,
                                     evidence=evidence))
        target = f"pipeline '{self.path}'"
        if name == "pollSCM":
            target = f"poll SCM for changes, then build pipeline '{self.path}'"
        self.ctx.add_schedule(
            Schedule(source="jenkins", expression=expression,
                     explanation=explained or "invalid cron expression",
                     timezone=timezone,  # None: the Jenkins controller's time zone
                     target=target, evidence=evidence)
        )

    # -------------------------------------------------------------- scripted

    def _scripted(self, block: Block, prev: list[str], prefix: str, scope: _Scope, depth: int) -> list[str]:
        """Stages of a scripted pipeline, in the order they run; wrappers (`node`, `timeout`, ...) are followed."""
        if depth > MAX_DEPTH:
            return prev
        for stmt in block.stmts:
            head = statement_head(stmt)
            body = trailing_block(stmt)
            if head == "stage":
                if body is None:
                    continue  # the old `stage 'name'` marker has no body to read
                prev = self._scripted_stage(stmt, body, prev, prefix, scope, depth)
            elif head == "parallel":
                prev = self._scripted_parallel(stmt, prev, prefix, scope, depth)
            elif head == "properties":
                # properties([pipelineTriggers([cron('H 4 * * *'), pollSCM('')])])
                tokens = [item for item in stmt.items if isinstance(item, Tok)]
                for name, index in list(find_calls(tokens, frozenset(TRIGGER_KINDS))):
                    self._trigger(name, tokens, index, stmt.line, stmt.end_line)
            else:
                inner = self._wrapper_scope(head, stmt, scope)
                for nested in statement_blocks(stmt):
                    if self._has_stage(nested, depth):
                        prev = self._scripted(nested, prev, prefix, inner, depth + 1)
        return prev

    def _wrapper_scope(self, head: str | None, stmt: Stmt, scope: _Scope) -> _Scope:
        """`node('label') { }`, `timeout(...) { }`, `docker.image('x').inside { }` around stages."""
        inner = replace(scope, runs_on=list(scope.runs_on))
        if head == "node":
            label = first_string(call_args(stmt.items, 0))
            inner.runs_on = [label] if label else ["any"]
        elif head == "timeout":
            inner.timeout = self._timeout(stmt) or scope.timeout
        elif head == "docker":
            for index, item in enumerate(stmt.items[:-2]):
                if isinstance(item, Tok) and item.text == "image" and is_op(stmt.items[index + 1], "("):
                    found = first_string(call_args(stmt.items, index))
                    inner.image = found or inner.image
                    break
        return inner

    def _has_stage(self, block: Block, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        for stmt in block.stmts:
            if statement_head(stmt) == "stage" and trailing_block(stmt) is not None:
                return True
            if any(self._has_stage(b, depth + 1) for b in statement_blocks(stmt)):
                return True
        return False

    def _scripted_stage(
        self, stmt: Stmt, body: Block, prev: list[str], prefix: str, scope: _Scope, depth: int
    ) -> list[str]:
        name = self._stage_name(stmt)
        if self._has_stage(body, depth + 1):
            return self._scripted(body, prev, prefix + name + "/", scope, depth + 1)
        own = replace(scope, runs_on=list(scope.runs_on))
        for inner in body.stmts:  # a timeout or node wrapping the whole stage body applies to the stage
            if statement_head(inner) in ("timeout", "node"):
                own = self._wrapper_scope(statement_head(inner), inner, own)
        steps = self._steps(body, depth + 1)
        return [self._scripted_job(prefix + name, name, prefix, steps, prev, own, stmt)]

    def _scripted_job(
        self, qualified: str, name: str, prefix: str, steps: list[Step], prev: list[str], scope: _Scope, stmt: Stmt
    ) -> str:
        manual = any(step.kind == "approval" for step in steps)
        job = Job(id=self.unique(qualified, stmt.line), name=name, stage=prefix.rstrip("/") or None,
                  needs=list(prev), needs_source="sequence" if prev else "none", runs_on=scope.runs_on,
                  image=scope.image, timeout_minutes=scope.timeout, manual=manual,
                  blocking=True if manual else None, steps=steps,
                  evidence=self.evidence(stmt.line, stmt.end_line))
        self.jobs.append(job)
        return job.id

    def _scripted_parallel(self, stmt: Stmt, prev: list[str], prefix: str, scope: _Scope, depth: int) -> list[str]:
        """`parallel 'a': { ... }, b: { ... }` (or inside parentheses): each branch runs after `prev`."""
        last: list[str] = []
        items = stmt.items
        # a branch map built at run time (`parallel branches`) cannot be read without running the script
        found = False
        for index, item in enumerate(items):
            if not isinstance(item, Block) or index < 2 or not is_op(items[index - 1], ":"):
                continue
            label_tok = items[index - 2]
            if not (isinstance(label_tok, Tok) and label_tok.kind in ("id", "str")):
                continue
            found = True
            label = label_tok.text
            if self._has_stage(item, depth + 1):
                last.extend(self._scripted(item, prev, prefix, scope, depth + 1))
            else:
                steps = self._steps(item, depth + 1)
                branch = Stmt([label_tok, items[index - 1], item])
                last.append(self._scripted_job(prefix + label, label, prefix, steps, prev, scope, branch))
        if not found:
            self.ctx.diagnostic(self.path, "parallel branches built at run time are not read", severity="info",
                                line=stmt.line)
        return last or prev

    # -------------------------------------------------------------- steps

    def _post_steps(self, stmt: Stmt) -> list[Step]:
        """`post { always { ... } failure { ... } }`: the steps, named `post <condition>`."""
        block = trailing_block(stmt)
        steps: list[Step] = []
        for inner in block.stmts if block else []:
            condition = statement_head(inner)
            body = trailing_block(inner)
            if condition is None or body is None:
                continue
            for step in self._steps(body, 1):
                label = f"post {condition}" + (f": {step.name}" if step.name else "")
                steps.append(step.model_copy(update={"name": label}))
        return steps

    def _steps(self, block: Block, depth: int) -> list[Step]:
        steps: list[Step] = []
        if depth > MAX_DEPTH:
            return steps
        for stmt in block.stmts:
            self._statement_steps(stmt, steps, depth)
        return steps

    def _statement_steps(self, stmt: Stmt, steps: list[Step], depth: int) -> None:
        head = statement_head(stmt)
        found = self._shell_and_input(stmt)
        if found:
            steps.extend(found)
        elif head is None or head in CONTROL_WORDS or self._is_assignment(stmt) or head in SHELL_STEPS:
            pass
        elif head in CHECKOUT_STEPS:
            steps.append(Step(kind="checkout", name=head, evidence=self.evidence(stmt.line, stmt.end_line)))
        elif head != "stage":
            steps.append(Step(kind="other", name=self._dotted(stmt),
                              evidence=self.evidence(stmt.line, stmt.end_line)))
        for block in statement_blocks(stmt):
            steps.extend(self._steps(block, depth + 1))

    @staticmethod
    def _dotted(stmt: Stmt) -> str:
        """`docker.image` for `docker.image('x').inside { }`: the leading identifiers of a call."""
        parts: list[str] = []
        items = stmt.items
        for index, item in enumerate(items):
            if isinstance(item, Tok) and item.kind == "id" and (index == 0 or is_op(items[index - 1], ".", "?.")):
                parts.append(item.text)
                continue
            if is_op(item, ".", "?."):
                continue
            break
        return ".".join(parts)

    @staticmethod
    def _is_assignment(stmt: Stmt) -> bool:
        return any(is_op(item, "=", "+=", "-=") for item in stmt.items)

    def _shell_and_input(self, stmt: Stmt) -> list[Step]:
        """`sh`/`bat`/`powershell`/`pwsh` calls (run steps) and `input` calls (approvals) in one statement."""
        found: list[Step] = []
        items = stmt.items
        for name, index in find_calls(items, SHELL_STEPS | {"input"}):
            args = call_args(items, index)
            positional, named = split_args(args)
            if name == "input":
                message = self.value(named.get("message") or (positional[0] if positional else []))
                label = f"input: {self.ctx.redact(message[0], self.path)}" if message else "input"
                found.append(Step(kind="approval", name=label, evidence=self.evidence(stmt.line, stmt.end_line)))
                continue
            script = self.value(named.get("script") or (positional[0] if positional else []))
            if script is None:
                self.ctx.diagnostic(self.path, f"'{name}' step without a script", line=item_line(items[index]))
                continue
            text, start, end = script
            label = self.value(named.get("label", []))
            found.append(Step(kind="run", name=self.ctx.redact(label[0], self.path) if label else None,
                              command=self.ctx.redact(_script_text(text), self.path), shell=name,
                              evidence=self.evidence(start, end)))
        return found


def _script_text(text: str) -> str:
    """A shell script as written: without the empty first line of `'''` strings, trailing blanks, or the
    indentation common to all its lines (Groovy keeps it, the shell ignores it)."""
    lines = text.split("\n")
    if len(lines) > 1 and not lines[0].strip():
        lines = lines[1:]
    return textwrap.dedent("\n".join(lines)).rstrip()


def _matrix(dimensions: dict[str, list[str]], excludes: list[dict[str, tuple[set[str], bool]]]) -> Matrix:
    """fan_out = axis combinations that no `exclude` matches (an exclude matches when every axis it names
    matches: `values` lists the values, `notValues` the values it does not match)."""
    combos = matrix_combinations(dimensions)
    if combos is None:
        size = matrix_size(dimensions)
        return Matrix(dimensions=dimensions, exclude=len(excludes), fan_out=max(0, size - len(excludes)))
    kept = 0
    for chosen in combos:
        excluded = any(
            rule and all(name in chosen and ((chosen[name] in values) != negated)
                         for name, (values, negated) in rule.items())
            for rule in excludes
        )
        kept += not excluded
    return Matrix(dimensions=dimensions, exclude=len(excludes), fan_out=kept)

