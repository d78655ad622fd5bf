"""GNU make: `Makefile`, `makefile`, `GNUmakefile`, `*.mk` and `Makefile.*` files (such as
`Makefile.common`; not the automake templates `Makefile.am`/`Makefile.in`), one Task per user target.

Read as the GNU make manual describes makefile syntax:

* rules `t1 t2: prereqs | order-only` (one Task per target), grouped targets `t1 t2 &:`, double-colon rules
  `t::`, static pattern rules `objs: %.o: %.c`, and a recipe written after `;` on the rule line;
* recipe lines start with a TAB, or with the `.RECIPEPREFIX` character once it is set; the prefixes `@`, `-`
  and `+` are stripped from the command text; a recipe line ending in `\\` continues on the next line;
* outside recipes, `\\`-newline joins lines and `#` starts a comment (unless written `\\#`);
* variable assignments (`=`, `:=`, `::=`, `:::=`, `?=`, `+=`, `!=`) and target-specific variables
  (`deploy: ENV=prod`) are not rules; `define ... endef` bodies are skipped; conditional directives are
  read, and the rules inside every branch are kept as alternatives: a recipe in another branch of the same
  `ifeq`/`else` block is recorded in `alternative_recipes` (make reads only one branch, so it is no
  "overriding recipe"); `include`, `export`, `vpath` and friends are directives;
* target lists written as a variable (`CMDS := api worker` then `$(CMDS):` or `.PHONY: $(CMDS)`) are expanded
  when the value is simple (words and other simple variables; no function calls), and each name is a task
  (`listed_in`); so are prerequisites;
* build products are not tasks: a target that is not .PHONY and is a path (`bin/SHA256SUMS`), holds a variable
  (`x264$(EXE)`) or has a file extension (`config.mak`, `foo.o`);
* a recipe that runs a script path the repository does not have (`./scripts/deploy.sh`, `bash tools/x.sh`,
  relative to the makefile's folder, unless the recipe changes folder) is a Diagnostic;
* `.PHONY: a b` marks targets phony (several `.PHONY` lines add up); pattern rules (`%.o: %.c`) and special
  targets (names starting with `.`) are not user tasks; the default goal is `.DEFAULT_GOAL` or else the first
  ordinary target, as make chooses it;
* `$(MAKE) x` / `make x` in a recipe makes `x` a dependency (calls into another directory are kept in the
  `sub_make` attribute instead);
* descriptions come from `target: ## text` (the self-documenting Makefile idiom) or from the `#` comment
  lines right above the rule.

A target written in several rules (a recipe in one, extra prerequisites in another) is one Task with merged
prerequisites; for a single-colon target make keeps only the last recipe (and warns), which we follow.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import weakref
from dataclasses import dataclass, field

from .. import shellwords
from ..models import Command, Task
from ..repo import FileText
from .base import DESCRIPTION_LIMIT, DetectContext, Wants, basename, detector

MAKEFILE_NAMES = ("GNUmakefile", "makefile", "Makefile")
_CONDITIONAL = re.compile(r"^(?:ifeq|ifneq|ifdef|ifndef|else|endif)(?:\s|$)")
_DEFINE = re.compile(r"^(?:(?:override|export|private)\s+)*define(?:\s|$)")
_ENDEF = re.compile(r"^endef(?:\s|$|#)")
_DIRECTIVE = re.compile(
    r"^(?:-?include|sinclude|-?load|vpath|export|unexport|override|undefine|private)(?:\s|$)"
)
_INCLUDE = re.compile(r"^\s*(?:-|s)?include\s+(.*)$")
_MAKE_PROGRAMS = ("make", "gmake", "$(MAKE)", "${MAKE}", "$(make)", "${make}")
# make options that take a separate argument (GNU make manual, "Summary of Options").
_MAKE_OPTS_WITH_ARG = {"-C", "-f", "-I", "-o", "-W", "--directory", "--file", "--makefile",
                       "--include-dir", "--old-file", "--what-if", "--new-file", "--assume-old", "--assume-new"}
_SEPARATOR_LINE = re.compile(r"^[#=\-*_~\s]*$")


# `Makefile.common`, `Makefile.include`, ... are included makefiles too; `Makefile.am` and `Makefile.in` are
# automake/autoconf templates that make never reads.
_TEMPLATE_SUFFIXES = (".am", ".in", ".bak", ".orig", ".sample", ".example", ".md", ".txt")
MAKEFILES = Wants(
    names=frozenset(MAKEFILE_NAMES),
    globs=("*.mk", "makefile.*", "gnumakefile.*"),
    refine=lambda path: not basename(path).lower().endswith(_TEMPLATE_SUFFIXES),
)


@dataclass
class _Target:
    """Everything the makefile says about one target name, merged over all its rules."""

    name: str
    line: int
    span: tuple[int, int]
    prereqs: list[str] = field(default_factory=list)
    order_only: list[str] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    recipe_rules: list[int] = field(default_factory=list)
    description: str | None = None
    double_colon: bool = False
    static_pattern: str | None = None
    variables: list[str] = field(default_factory=list)
    sub_make: list[str] = field(default_factory=list)
    sub_targets: list[str] = field(default_factory=list)
    rule_lines: list[int] = field(default_factory=list)
    recipe_branches: list[tuple[tuple[int, int], ...]] = field(default_factory=list)  # conditional branch per recipe
    alternatives: list[int] = field(default_factory=list)  # lines of recipes in other ifeq/else branches
    from_variable: str | None = None  # the variable whose value listed this target (`$(CMDS):`)


@dataclass
class _Rule:
    """The rule being read: its targets (empty for special and pattern targets) and its recipe."""

    targets: list[_Target]
    line: int
    end: int
    double_colon: bool
    commands: list[Command] = field(default_factory=list)
    sub_make: list[str] = field(default_factory=list)
    sub_targets: list[str] = field(default_factory=list)
    branch: tuple[tuple[int, int], ...] = ()


@dataclass
class _Makefile:
    """The parse of one makefile."""

    targets: dict[str, _Target] = field(default_factory=dict)
    phony: set[str] = field(default_factory=set)
    default_goal: str | None = None
    first_target: str | None = None


@detector("make", wants=MAKEFILES)
def detect_makefile(ctx: DetectContext, file: FileText) -> None:
    parsed = _Parser(ctx, file).parse()
    invocation = _invocation_prefix(ctx, file.path)
    goal = parsed.default_goal or parsed.first_target
    targets = [t for t in parsed.targets.values() if not _is_file_target(t.name, parsed.phony)]
    tasks = [_task(ctx, file.path, target, parsed, invocation) for target in targets]
    _missing_scripts(ctx, file.path, targets)
    if goal and tasks:
        holder = next((t for t in tasks if t.name == goal), tasks[0])
        holder.attributes["default_goal"] = goal
    for task in tasks:
        ctx.add_task(task)


def _task(ctx: DetectContext, path: str, target: _Target, parsed: _Makefile, invocation: tuple[str, str]) -> Task:
    prefix, included_by = invocation
    depends = _unique([*target.prereqs, *target.order_only, *target.sub_targets])
    attributes: dict[str, str] = {}
    if target.order_only:
        attributes["order_only"] = " ".join(target.order_only)
    if target.double_colon:
        attributes["double_colon"] = "true"
    if target.static_pattern:
        attributes["static_pattern"] = target.static_pattern
    if target.variables:
        attributes["target_variables"] = "; ".join(target.variables)
    if target.sub_make:
        attributes["sub_make"] = "; ".join(_unique(target.sub_make))
    if len(target.rule_lines) > 1:
        attributes["rule_lines"] = ", ".join(str(n) for n in target.rule_lines)
    if included_by:
        attributes["included_by"] = included_by
    if target.from_variable:
        attributes["listed_in"] = f"$({target.from_variable})"
    if target.alternatives:
        attributes["alternative_recipes"] = ", ".join(str(n) for n in target.alternatives)
    return ctx.task(
        "make", path, target.name,
        invocation=f"{prefix} {target.name}",
        description=target.description,
        depends_on=depends,
        commands=target.commands,
        phony=target.name in parsed.phony,
        attributes=attributes,
        evidence=ctx.evidence(path, *target.span),
    )


class _Parser:
    """A line-by-line reader of one makefile (see the module docstring for what it understands)."""

    def __init__(self, ctx: DetectContext, file: FileText) -> None:
        self.ctx = ctx
        self.path = file.path
        self.lines = file.lines
        self.result = _Makefile()
        self.prefix = "\t"
        self.rule: _Rule | None = None
        self.comments: list[tuple[int, str]] = []  # the comment block right above the current line
        self.variables: dict[str, str] = {}  # simple values, to expand `$(VAR):` target lists
        self.conditionals: list[tuple[int, int]] = []  # open ifeq/ifdef blocks: (their line, the branch number)

    def parse(self) -> _Makefile:
        index = 0
        define_depth = 0
        while index < len(self.lines):
            raw = self.lines[index]
            if define_depth:
                stripped = raw.strip()
                if _DEFINE.match(stripped):
                    define_depth += 1
                elif _ENDEF.match(stripped):
                    define_depth -= 1
                index += 1
                continue
            if self.rule is not None and raw.startswith(self.prefix):
                index = self._recipe_line(index)
                continue
            end = _continued_end(self.lines, index)
            logical = _join_make_line(self.lines[index : end + 1])
            if _DEFINE.match(logical.strip()):
                self._close_rule()
                define_depth = 1
            else:
                self._make_line(index + 1, end + 1, logical, raw)
            index = end + 1
        self._close_rule()
        for name in [n for n, t in self.result.targets.items() if t.line == 0]:
            del self.result.targets[name]  # only a target-specific variable, never a rule
        return self.result

    # ---------------------------------------------------------------- recipe lines

    def _recipe_line(self, index: int) -> int:
        end = _continued_end(self.lines, index)
        parts = [self.lines[index][len(self.prefix) :]]
        for raw in self.lines[index + 1 : end + 1]:
            # make drops one recipe prefix from each continuation line before giving it to the shell
            parts.append(raw[len(self.prefix) :] if raw.startswith(self.prefix) else raw)
        self._add_command(" ".join(filter(None, (_strip_continuation(p) for p in parts))), index + 1, end + 1)
        return end + 1

    def _add_command(self, text: str, start: int, end: int) -> None:
        if self.rule is None:
            return
        command = _strip_recipe_prefixes(text)
        if not command or command.startswith("#"):
            return  # a shell comment: nothing runs
        self.rule.commands.append(self.ctx.command(command, self.path, start, end))
        self.rule.end = end
        calls, targets = _sub_make_calls(command)
        self.rule.sub_make.extend(calls)
        self.rule.sub_targets.extend(targets)

    # ---------------------------------------------------------------- other lines

    def _make_line(self, start: int, end: int, logical: str, raw: str) -> None:
        """Read one logical non-recipe line (physical lines start..end)."""
        stripped = logical.strip()
        if not stripped:
            self.comments = []
            return
        if stripped.startswith("#"):
            self.comments.append((start, stripped))
            return
        comments, self.comments = self.comments, []
        if _CONDITIONAL.match(stripped):
            self._conditional(stripped, start)
            return  # every branch is read: the rules in each are real, as alternatives
        head, comment, inline_recipe = _split_line(stripped)
        kind, data = _classify(head)
        directive = _DIRECTIVE.match(stripped) is not None
        if kind == "assign":
            self._close_rule()
            self._assignment(data)
        elif kind == "rule" and not directive:
            self._close_rule()
            self._rule(start, end, data, comment, inline_recipe, comments)
        elif directive:  # include, export, vpath, ...: not rules, and they end the recipe
            self._close_rule()
        elif self.rule is not None and raw[:1] == " " and not stripped.startswith("$"):
            self.ctx.diagnostic(
                self.path,
                "recipe line starts with spaces, not a TAB: make stops here with 'missing separator'",
                line=start,
            )
        # anything else is a bare function call such as $(eval ...) or $(info ...)

    def _conditional(self, stripped: str, line: int) -> None:
        word = stripped.split(None, 1)[0]
        if word.startswith("if"):
            self.conditionals.append((line, 0))
        elif word == "else" and self.conditionals:
            opened, branch = self.conditionals[-1]
            self.conditionals[-1] = (opened, branch + 1)
            if stripped.split()[1:2] and stripped.split()[1].startswith("if"):
                self.conditionals[-1] = (opened, branch + 1)  # `else ifeq ...` is one more branch of the same block
        elif word == "endif" and self.conditionals:
            self.conditionals.pop()

    def _assignment(self, data: tuple[str, str, str]) -> None:
        name, op, value = data
        name = name.split()[-1] if name.split() else name  # drop `export`, `override`, `private`
        if op == "+=":
            self.variables[name] = f"{self.variables.get(name, '')} {value.strip()}".strip()
        elif op in ("=", ":=", "::=", ":::=") or (op == "?=" and name not in self.variables):
            self.variables[name] = value.strip()
        if name == ".DEFAULT_GOAL" and op in ("=", ":=", "::=", ":::="):
            self.result.default_goal = value.strip() or None
        elif name == ".RECIPEPREFIX":
            self.prefix = value.strip()[:1] or "\t"

    def _rule(
        self,
        start: int,
        end: int,
        data: tuple[str, str, str],
        comment: str | None,
        inline_recipe: str | None,
        comments: list[tuple[int, str]],
    ) -> None:
        targets_text, colon, rest = data
        grouped = targets_text.rstrip().endswith("&")
        names, listed_in = self._expand(_split_words(targets_text.rstrip().rstrip("&") if grouped else targets_text))
        double = colon == "::"
        assignment_kind, assignment = _classify(rest)
        if assignment_kind == "assign":
            self._target_variable(names, assignment)
            self.rule = _Rule(targets=[], line=start, end=end, double_colon=double)
            return
        static_pattern = None
        if assignment_kind == "rule":  # `targets: target-pattern: prereq-patterns`
            static_pattern = assignment[0].strip()
            rest = assignment[2]
        normal, _, order_only = rest.partition("|") if _has_top_level(rest, "|") else (rest, "", "")
        prereqs = self._expand(_split_words(normal))[0]
        order = self._expand(_split_words(order_only))[0]
        if any(name == ".PHONY" for name in names):
            self.result.phony.update(prereqs + order)
        description = _description(comment, comments, start, names)
        kept: list[_Target] = []
        for name in names:
            if name.startswith(".") or "%" in name:
                continue  # special targets and pattern rules are make's machinery, not tasks
            target = self.result.targets.setdefault(name, _Target(name=name, line=0, span=(0, 0)))
            target.from_variable = target.from_variable or listed_in.get(name)
            if target.line == 0:
                target.line = start
                target.span = (start, end)
                if self.result.first_target is None:
                    self.result.first_target = name
            target.rule_lines.append(start)
            stem = _stem(name, static_pattern) if static_pattern else None
            own = [_with_stem(p, stem) for p in prereqs] if stem is not None else prereqs
            own_order = [_with_stem(p, stem) for p in order] if stem is not None else order
            target.prereqs = _unique([*target.prereqs, *own])
            target.order_only = _unique([*target.order_only, *own_order])
            target.double_colon = target.double_colon or double
            target.static_pattern = target.static_pattern or static_pattern
            if description and not target.description:
                target.description = description
            kept.append(target)
        self.rule = _Rule(targets=kept, line=start, end=end, double_colon=double, branch=tuple(self.conditionals))
        if inline_recipe is not None:
            self._add_command(inline_recipe, start, end)
            self.rule.end = end
        if names == [".PHONY"] and comments and comments[-1][0] == start - 1:
            # `# Run the tests` / `.PHONY: test` / `test:`: the comment documents the rule below
            self.comments = [*comments[:-1], (end, comments[-1][1])]

    def _expand(self, words: list[str]) -> tuple[list[str], dict[str, str]]:
        """Words with each `$(VAR)` / `${VAR}` that stands alone replaced by the words of its simple value (one
        level of nesting more is followed); the map says which variable listed each expanded name."""
        out: list[str] = []
        listed_in: dict[str, str] = {}
        for word in words:
            expanded = self._variable_words(word, depth=2)
            if expanded is None:
                out.append(word)
                continue
            variable = word[2:-1]
            for name in expanded:
                out.append(name)
                listed_in.setdefault(name, variable)
        return out, listed_in

    def _variable_words(self, word: str, depth: int) -> list[str] | None:
        match = _VARIABLE_REF.fullmatch(word)
        if match is None or depth == 0:
            return None
        value = self.variables.get(match.group(1) or match.group(2))
        if value is None or "%" in value:
            return None
        words: list[str] = []
        for part in value.split():
            nested = self._variable_words(part, depth - 1)
            if nested is None and "$" in part:
                return None  # a function call or a computed value: not known without running make
            words.extend(nested if nested is not None else [part])
        return words

    def _target_variable(self, names: list[str], assignment: tuple[str, str, str]) -> None:
        name, op, value = assignment
        text = f"{name.strip()} {op} {value.strip()}".strip()
        for target_name in names:
            if target_name.startswith(".") or "%" in target_name:
                continue
            target = self.result.targets.setdefault(target_name, _Target(name=target_name, line=0, span=(0, 0)))
            target.variables.append(text)

    def _close_rule(self) -> None:
        """Hand the finished rule's recipe to its targets (make's rules for several recipes apply)."""
        rule, self.rule = self.rule, None
        if rule is None:
            return
        for target in rule.targets:
            if not rule.commands:
                continue
            if target.recipe_branches and all(_exclusive(rule.branch, b) for b in target.recipe_branches):
                # `ifeq ... else ...`: another branch's recipe; only one of them is ever read by make
                target.alternatives.append(rule.line)
                continue
            if target.recipe_rules and not rule.double_colon:
                self.ctx.diagnostic(
                    self.path,
                    f"target '{target.name}' has recipes at lines {target.recipe_rules[-1]} and {rule.line}; "
                    "make uses the last one and warns 'overriding recipe'",
                    line=rule.line,
                )
                target.commands = []
                target.sub_make = []
                target.sub_targets = []
            if not target.recipe_rules or not rule.double_colon:
                target.span = (rule.line, rule.end)
            else:
                target.span = (target.span[0], max(target.span[1], rule.end))
            target.recipe_rules.append(rule.line)
            target.recipe_branches.append(rule.branch)
            target.commands = [*target.commands, *rule.commands]
            target.sub_make.extend(rule.sub_make)
            target.sub_targets.extend(rule.sub_targets)


# -------------------------------------------------------------------- what is a task


_VARIABLE_REF = re.compile(r"\$\(([A-Za-z_][\w.-]*)\)|\$\{([A-Za-z_][\w.-]*)\}")
_FILE_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")


def _exclusive(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    """Whether two conditional branch paths can never both be read: they differ inside the same ifeq block."""
    branches = dict(a)
    return any(line in branches and branches[line] != branch for line, branch in b)


def _is_file_target(name: str, phony: set[str]) -> bool:
    """A build product rather than a task a person runs: not .PHONY, and a path (`bin/SHA256SUMS`), a name with a
    variable in it (`x264$(EXE)`, `$(BINDIR)/$(NAME)`) or a file name with an extension (`config.mak`)."""
    if name in phony:
        return False
    return "/" in name or "$" in name or _FILE_SUFFIX.search(name) is not None


_SCRIPT_CALL = re.compile(
    r"(?:^|[;&|(]\s*|\b(?:bash|sh|zsh|python3?|ruby|perl|node|pwsh)\s+)((?:\./|\.\./)?[\w.-]+(?:/[\w.-]+)+"
    r"\.(?:sh|bash|py|rb|pl|js|ps1)|\./[\w.-]+(?:/[\w.-]+)*)(?=\s|$|;|\))"
)


def _missing_scripts(ctx: DetectContext, path: str, targets: list[_Target]) -> None:
    """A recipe that runs a script file the repository does not have fails when run: say so (paths are relative
    to the makefile's folder, where make runs recipes; paths with variables are not checked)."""
    folder = posixpath.dirname(path)
    for target in targets:
        for command in target.commands:
            if "cd " in command.text or "-C " in command.text:
                continue  # the recipe changes folder first: the path is relative to somewhere else
            for match in _SCRIPT_CALL.finditer(command.text):
                script = match.group(1)
                rel = posixpath.normpath(posixpath.join(folder, script))
                if rel.startswith("../") or ctx.exists(rel):
                    continue
                ctx.diagnostic(path, f"target '{target.name}' runs {script}, which is not in the repository",
                               line=command.evidence.line_start)


# -------------------------------------------------------------------- lexical helpers


def _continued_end(lines: list[str], index: int) -> int:
    """Index of the last physical line of the logical line starting at `index` (backslash-newline joins)."""
    end = index
    while end < len(lines) - 1 and _ends_with_continuation(lines[end]):
        end += 1
    return end


def _ends_with_continuation(line: str) -> bool:
    """A line ends in an odd number of backslashes (an even number is escaped backslashes)."""
    count = len(line) - len(line.rstrip("\\"))
    return count % 2 == 1


def _strip_continuation(part: str) -> str:
    part = part.rstrip("\n")
    if _ends_with_continuation(part):
        part = part[:-1]
    return part.strip()


def _join_make_line(parts: list[str]) -> str:
    """GNU make outside recipes: backslash-newline and the whitespace around it become one space."""
    return " ".join(p for p in (_strip_continuation(part) for part in parts) if p)


def _strip_recipe_prefixes(text: str) -> str:
    """Drop make's recipe prefixes: `@` (silent), `-` (ignore errors), `+` (run under -n), in any order."""
    text = text.strip()
    while text[:1] in ("@", "-", "+") and text:
        text = text[1:].lstrip()
    return text


def _scan(text: str) -> list[tuple[int, str]]:
    """(index, char) of the characters of `text` that sit outside `$(...)` / `${...}` references."""
    out: list[tuple[int, str]] = []
    depth = 0
    closers: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "$" and index + 1 < len(text) and text[index + 1] in "({":
            closers.append(")" if text[index + 1] == "(" else "}")
            depth += 1
            index += 2
            continue
        if depth:
            if char in "({":
                closers.append(")" if char == "(" else "}")
            elif closers and char == closers[-1]:
                closers.pop()
                depth = len(closers)
            index += 1
            continue
        if char == "\\" and index + 1 < len(text):
            index += 2  # an escaped character is never a separator
            continue
        out.append((index, char))
        index += 1
    return out


def _split_line(text: str) -> tuple[str, str | None, str | None]:
    """(head, comment, inline recipe): `#` starts a comment, `;` the recipe of a rule line, whichever comes first."""
    for index, char in _scan(text):
        if char == "#":
            return text[:index].rstrip(), text[index + 1 :], None
        if char == ";":
            return text[:index].rstrip(), None, text[index + 1 :].strip()
    return text, None, None


def _classify(text: str) -> tuple[str, tuple[str, str, str]]:
    """('assign', (name, op, value)) | ('rule', (targets, colon, rest)) | ('other', ('', '', ''))."""
    chars = _scan(text)
    for position, (index, char) in enumerate(chars):
        if char == "=":
            op_start = index
            while op_start > 0 and text[op_start - 1] in "?+!:":
                op_start -= 1
            return "assign", (text[:op_start].strip(), text[op_start : index + 1], text[index + 1 :])
        if char == ":":
            following = "".join(c for _, c in chars[position : position + 4])
            if re.match(r"^:{1,3}=", following):
                continue  # `:=`, `::=`, `:::=`: the `=` ahead decides
            if following.startswith("::"):
                return "rule", (text[:index], "::", text[index + 2 :])
            return "rule", (text[:index], ":", text[index + 1 :])
    return "other", ("", "", "")


def _has_top_level(text: str, char: str) -> bool:
    return any(c == char for _, c in _scan(text))


def _split_words(text: str) -> list[str]:
    """Whitespace-separated words, keeping `$(call a, b)` references whole."""
    words: list[str] = []
    start: int | None = None
    top = {index for index, _ in _scan(text)}
    for index, char in enumerate(text):
        if index in top and char.isspace():
            if start is not None:
                words.append(text[start:index])
                start = None
        elif start is None:
            start = index
    if start is not None:
        words.append(text[start:])
    return words


def _description(
    comment: str | None, comments: list[tuple[int, str]], rule_line: int, names: list[str]
) -> str | None:
    """`target: ## text` on the rule line, else the comment block that ends right above the rule."""
    if comment is not None:
        text = comment.lstrip("#").strip()
        if text:
            return text[:DESCRIPTION_LIMIT]
    if not comments or comments[-1][0] != rule_line - 1:
        return None
    texts = [c.lstrip("#").strip() for _, c in comments if not _SEPARATOR_LINE.match(c)]
    texts = [t for t in texts if t]
    if texts and names:  # `## build: Build the image` above the rule: drop the repeated name
        texts[0] = re.sub(rf"^{re.escape(names[0])}\s*:\s*", "", texts[0])
    text = " ".join(texts).strip()
    return text[:DESCRIPTION_LIMIT] or None


def _stem(name: str, pattern: str) -> str | None:
    """The part of `name` that the `%` of a static pattern matches (GNU make: "Static Pattern Rules")."""
    prefix, percent, suffix = pattern.partition("%")
    if not percent or len(name) < len(prefix) + len(suffix):
        return None
    if name.startswith(prefix) and name.endswith(suffix):
        return name[len(prefix) : len(name) - len(suffix)]
    return None


def _with_stem(prereq: str, stem: str) -> str:
    return prereq.replace("%", stem, 1)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _sub_make_calls(command: str) -> tuple[list[str], list[str]]:
    """Recursive make calls in a recipe command: (calls into other makefiles, targets of this makefile)."""
    calls: list[str] = []
    targets: list[str] = []
    other_dir = False
    for segment in re.split(r"&&|\|\||;|\|", command):
        words = _shell_words(segment)
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]  # leading VAR=value assignments
        if not words:
            continue
        if words[0] == "cd":
            other_dir = len(words) > 1 and words[1] not in (".", "./", "$(CURDIR)", "${CURDIR}")
            continue
        if words[0] not in _MAKE_PROGRAMS:
            continue
        goals, elsewhere = _make_goals(words[1:])
        if elsewhere or other_dir:
            calls.append(command.strip())
        else:
            targets.extend(goals)
    return calls, targets


def _make_goals(args: list[str]) -> tuple[list[str], bool]:
    """The goals named in make's arguments, and whether the call reads another makefile or directory."""
    goals: list[str] = []
    elsewhere = False
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in _MAKE_OPTS_WITH_ARG:
            if arg in ("-C", "--directory", "-f", "--file", "--makefile"):
                target_dir = args[index + 1] if index + 1 < len(args) else ""
                elsewhere = elsewhere or target_dir not in (".", "$(CURDIR)", "${CURDIR}")
            skip = True
            continue
        if arg.startswith(("-C", "-f")) and len(arg) > 2:
            elsewhere = True
            continue
        if arg.startswith(("--directory=", "--file=", "--makefile=")):
            elsewhere = True
            continue
        if arg in ("-j", "-l") and index + 1 < len(args) and args[index + 1].isdigit():
            skip = True
            continue
        if arg.startswith("-") or "=" in arg or arg.startswith("$"):
            continue  # options, variable overrides, and goals only known at run time
        goals.append(arg)
    return goals, elsewhere


def _shell_words(text: str) -> list[str]:
    try:
        return shellwords.split(text)
    except ValueError:
        return text.split()


# -------------------------------------------------------------------- how to run it


_include_cache: weakref.WeakKeyDictionary[DetectContext, dict[str, list[str]]] = weakref.WeakKeyDictionary()


def _invocation_prefix(ctx: DetectContext, path: str) -> tuple[str, str]:
    """(`make ...` without the goal, the makefile that includes this one or '').

    A makefile make finds by itself runs as `make` (or `make -C dir`); an included file (`*.mk`,
    `Makefile.common`) runs through the makefile that includes it, else with `make -f path`.
    """
    directory = posixpath.dirname(path)
    if basename(path) in MAKEFILE_NAMES:
        return (f"make -C {directory}" if directory else "make"), ""
    includer = _includer(ctx, path)
    if includer:
        includer_dir = posixpath.dirname(includer)
        return (f"make -C {includer_dir}" if includer_dir else "make"), includer
    return f"make -f {path}", ""


def _includer(ctx: DetectContext, path: str) -> str | None:
    """The nearest makefile (same folder or above) whose `include` lines name this file."""
    cache = _include_cache.setdefault(ctx, {})
    directory = posixpath.dirname(path)
    while True:
        for name in MAKEFILE_NAMES:
            candidate = posixpath.join(directory, name) if directory else name
            if not ctx.exists(candidate):
                continue
            if candidate not in cache:
                cache[candidate] = _include_patterns(ctx, candidate)
            relative = posixpath.relpath(path, directory or ".")
            if any(_include_matches(relative, pattern) for pattern in cache[candidate]):
                return candidate
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def _include_patterns(ctx: DetectContext, makefile: str) -> list[str]:
    """The file names and globs of a makefile's `include` lines, `$(wildcard ...)` unwrapped."""
    file = ctx.read(makefile)
    if file is None:
        return []
    patterns: list[str] = []
    for line in file.lines:
        match = _INCLUDE.match(line)
        if not match:
            continue
        text = match.group(1).split("#", 1)[0]
        for _ in range(3):  # `$(sort $(wildcard mk/*.mk))` nests
            text = re.sub(r"\$\((?:wildcard|sort)\s+([^()]*)\)", r"\1", text)
        patterns.extend(text.split())
    return patterns


def _include_matches(relative: str, pattern: str) -> bool:
    """Whether an include pattern names the file; a variable (`$(ROOT)`) matches any path part."""
    pattern = re.sub(r"\$\([^)]*\)|\$\{[^}]*\}|\$\w", "*", pattern).removeprefix("./")
    candidates = [pattern, pattern[2:]] if pattern.startswith("*/") else [pattern]
    return any(fnmatch.fnmatchcase(relative, p) for p in candidates)
