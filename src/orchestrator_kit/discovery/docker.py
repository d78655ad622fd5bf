"""Dockerfiles (and Containerfiles): build stages, base images, and what the final image runs.

Read as the Dockerfile reference describes the format:

* parser directives (`# syntax=`, `# escape=`, `# check=`) only at the very top, before any comment, blank
  line or instruction; `# escape=` picks the line-continuation character (`\\` or a backtick);
* a line ending with the escape character (trailing blanks allowed) continues on the next line; comment lines
  and blank lines inside a continued instruction are dropped;
* heredocs on RUN, COPY and ADD (`<<EOF`, `<<-EOF`, `<<"EOF"`, several per instruction): their bodies are
  skipped as data, so a `FROM` or a `#` inside one is never read as an instruction;
* `FROM [--platform=...] image[:tag|@digest] [AS name]` starts a stage; a FROM naming an earlier stage (names
  are case-insensitive) builds on that stage and is not a base image; `scratch` is the empty image;
* a stage built on an earlier stage inherits its USER, EXPOSE, ENTRYPOINT, CMD and HEALTHCHECK; an
  ENTRYPOINT set in a stage clears a CMD inherited from its parent (Docker's documented CMD/ENTRYPOINT rule);
* `ARG` before the first FROM declares build arguments usable in FROM lines; their defaults are substituted
  into `base_images_resolved` (`$VAR`, `${VAR}`, `${VAR:-default}`).

`runs_as_root` is "yes" when the final stage (with what it inherits from earlier stages) has no USER, or a
USER of root/0; the base image may still set its own user, which a scan without network cannot see.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from .. import shellwords
from ..datatext import load_json
from ..models import InfraItem
from ..repo import FileText
from ._infra_common import CODE_OR_DOC_EXTENSIONS, extension_of, unique
from .base import DetectContext, Wants, basename, detector

KNOWN_INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    }
)
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
PARSER_DIRECTIVES = frozenset({"syntax", "escape", "check"})

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
# `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`; not the shell's here-string `<<<`.
_HEREDOC = re.compile(r"(?<!<)<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def _not_code(path: str) -> bool:
    """Dockerfile.dev is a Dockerfile; dockerfile.go and Dockerfile.dockerignore are not."""
    name = basename(path).lower()
    if name.startswith(("dockerfile.", "containerfile.")):
        return extension_of(name) not in CODE_OR_DOC_EXTENSIONS
    return True


# Dockerfile, Containerfile, Dockerfile.<variant>, <variant>.Dockerfile, in any case; not vendored.
DOCKERFILES = Wants(globs=("dockerfile", "containerfile", "dockerfile.*", "containerfile.*", "*.dockerfile"),
                    refine=_not_code)


@dataclass
class Instruction:
    """One logical instruction: keyword (upper case), arguments (continuations joined), first and last line."""

    keyword: str
    args: str
    line: int
    end: int


@dataclass
class ImageConfig:
    """What a stage sets for containers started from it (inherited by stages built on it)."""

    user: str | None = None
    ports: list[str] = field(default_factory=list)
    entrypoint: str | None = None
    cmd: str | None = None
    healthcheck: bool = False

    def copy(self) -> ImageConfig:
        return ImageConfig(self.user, list(self.ports), self.entrypoint, self.cmd, self.healthcheck)


@dataclass
class Stage:
    """A build stage: its name (AS name, or its index), image as written and resolved, FROM line, config."""

    name: str
    image: str
    resolved: str
    line: int
    parent: Stage | None
    config: ImageConfig
    cmd_set: bool = False


@detector("docker", wants=DOCKERFILES)
def detect_dockerfile(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    directives, instructions = _instructions(ctx, file)
    global_args: list[str] = []
    defaults: dict[str, str] = {}
    stages: list[Stage] = []
    copy_from: list[str] = []
    for inst in instructions:
        if inst.keyword not in KNOWN_INSTRUCTIONS:
            ctx.diagnostic(path, f"unknown Dockerfile instruction '{inst.keyword}'", line=inst.line)
            continue
        if inst.keyword == "FROM":
            stage = _stage(ctx, path, inst, stages, defaults)
            if stage is not None:
                stages.append(stage)
            continue
        if not stages:
            if inst.keyword == "ARG":
                for name, default in _arg_pairs(inst.args):
                    global_args.append(name if default is None else f"{name}={default}")
                    if default is not None:
                        defaults[name] = default
            else:
                ctx.diagnostic(path, f"{inst.keyword} before the first FROM: only ARG may come before FROM",
                               line=inst.line)
            continue
        _apply(stages[-1], inst, copy_from, stages)
    if not stages:
        ctx.diagnostic(path, "no FROM instruction: a Dockerfile must start a build stage with FROM", line=1)
        return
    ctx.add_infra(InfraItem(kind="dockerfile", name=path, path=path,
                            attributes=_attributes(ctx, path, directives, global_args, stages, copy_from),
                            evidence=ctx.evidence(path, 1, file.line_count)))


def _attributes(
    ctx: DetectContext, path: str, directives: dict[str, str], global_args: list[str], stages: list[Stage],
    copy_from: list[str],
) -> dict[str, str | list[str]]:
    final = stages[-1]
    config = final.config
    external = [s for s in stages if s.parent is None and s.resolved.lower() != "scratch"]
    attributes: dict[str, str | list[str]] = {
        "stages": [f"{s.name}: {s.image}" for s in stages],
        "base_images": unique([s.image for s in external]),
        "from_lines": [str(s.line) for s in stages],
        "final_stage": final.name,
        "exposed_ports": config.ports,
        "runs_as_root": "yes" if _is_root(config.user) else "no",
        "healthcheck": "yes" if config.healthcheck else "no",
    }
    resolved = unique([s.resolved for s in external])
    if resolved != attributes["base_images"]:
        attributes["base_images_resolved"] = resolved
    if config.user is not None:
        attributes["user"] = ctx.redact(config.user, path)
    if config.entrypoint is not None:
        attributes["entrypoint"] = ctx.redact(config.entrypoint, path)
    if config.cmd is not None:
        attributes["cmd"] = ctx.redact(config.cmd, path)
    if global_args:
        attributes["args_before_from"] = [ctx.redact(a, path) for a in global_args]
    if copy_from:
        attributes["copy_from_images"] = unique(copy_from)
    if "syntax" in directives:
        attributes["syntax"] = directives["syntax"]
    return attributes


# ------------------------------------------------------------------ reading the file


def _instructions(ctx: DetectContext, file: FileText) -> tuple[dict[str, str], list[Instruction]]:
    """Parser directives and logical instructions (continuations joined, comments and heredocs skipped)."""
    lines = file.lines[: file.line_count]
    directives: dict[str, str] = {}
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index].strip())
        key = match.group(1).lower() if match else ""
        if not match or key not in PARSER_DIRECTIVES or key in directives:
            break  # a comment, a blank line or an instruction ends the directives
        directives[key] = match.group(2)
        index += 1
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        ctx.diagnostic(file.path, f"escape directive '{escape}' is not \\ or `; using \\", line=1)
        escape = "\\"
    result: list[Instruction] = []
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        text, index = _join_continuation(lines, index, escape)
        words = text.split(None, 1)
        if not words:
            continue  # a lone continuation character
        keyword, args = words[0], words[1] if len(words) > 1 else ""
        inst = Instruction(keyword=keyword.upper(), args=args.strip(), line=start + 1, end=index)
        if inst.keyword in HEREDOC_INSTRUCTIONS:
            index = _skip_heredocs(ctx, file.path, lines, inst, index)
        result.append(inst)
    return directives, result


def _join_continuation(lines: list[str], index: int, escape: str) -> tuple[str, int]:
    """The instruction starting at `index` with continued lines joined; returns it and the next line index."""
    parts: list[str] = []
    current = lines[index].rstrip()
    index += 1
    while current.endswith(escape):
        parts.append(current[:-1])
        # Comment and blank lines inside a continuation are removed before the instruction is read.
        while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
            index += 1
        if index >= len(lines):
            current = ""
            break
        current = lines[index].rstrip()
        index += 1
    parts.append(current)
    return " ".join(p.strip() for p in parts if p.strip()), index


def _skip_heredocs(ctx: DetectContext, path: str, lines: list[str], inst: Instruction, index: int) -> int:
    """Skip the bodies of the heredocs the instruction opens, in order; returns the next line index."""
    for match in _HEREDOC.finditer(inst.args):
        strip_tabs, word = match.group(1) == "-", match.group(3)
        while index < len(lines):
            candidate = lines[index].lstrip("\t") if strip_tabs else lines[index]
            index += 1
            if candidate.rstrip() == word:
                break
        else:
            ctx.diagnostic(path, f"heredoc <<{word} opened on line {inst.line} is never closed",
                           line=inst.line)
        inst.end = index
    return index


# ------------------------------------------------------------------ instructions


def _arg_pairs(args: str) -> list[tuple[str, str | None]]:
    """`ARG A=1 B` -> [("A", "1"), ("B", None)]; quotes around a default are dropped."""
    pairs: list[tuple[str, str | None]] = []
    for token in _split(args):
        name, eq, default = token.partition("=")
        if name:
            pairs.append((name, default if eq else None))
    return pairs


def _split(text: str) -> list[str]:
    """Shell-like words; falls back to whitespace splitting on unbalanced quotes."""
    try:
        return shellwords.split(text)
    except ValueError:
        return text.split()


def _substitute(text: str, defaults: dict[str, str]) -> str:
    """Replace `$VAR`, `${VAR}`, `${VAR:-x}` with the ARG default (or the inline default) when known."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in defaults:
            return defaults[name]
        if match.group(2) is not None:
            return match.group(2)
        return match.group(0)

    return _VARIABLE.sub(replace, text)


def _stage(
    ctx: DetectContext, path: str, inst: Instruction, stages: list[Stage], defaults: dict[str, str]
) -> Stage | None:
    words = [w for w in inst.args.split() if not w.startswith("--")]
    if not words:
        ctx.diagnostic(path, "FROM without an image", line=inst.line)
        return None
    image = words[0]
    name = str(len(stages))
    if len(words) >= 3 and words[1].lower() == "as":
        name = words[2]
        if any(s.name.lower() == name.lower() for s in stages):
            ctx.diagnostic(path, f"duplicate stage name '{name}'", line=inst.line)
    elif len(words) > 1:
        extra = " ".join(words[1:])
        ctx.diagnostic(path, f"FROM has unexpected words after the image: '{extra}'", line=inst.line)
    resolved = _substitute(image, defaults)
    parent = next((s for s in reversed(stages) if s.name.lower() == resolved.lower()), None)
    config = parent.config.copy() if parent is not None else ImageConfig()
    return Stage(name=name, image=image, resolved=resolved, line=inst.line, parent=parent, config=config)


def _command_text(args: str) -> str:
    """ENTRYPOINT/CMD/exec form `["a", "b c"]` as `a 'b c'`; the shell form as written."""
    if args.startswith("["):
        try:
            value = load_json(args)  # a lone surrogate escape comes back as U+FFFD (see datatext)
        except (ValueError, RecursionError):
            return args  # not valid JSON (or too deep to read): Docker runs it in the shell form
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return shlex.join(value)
    return args


def _apply(stage: Stage, inst: Instruction, copy_from: list[str], stages: list[Stage]) -> None:
    config = stage.config
    keyword, args = inst.keyword, inst.args
    if keyword == "USER":
        config.user = args or None
    elif keyword == "EXPOSE":
        config.ports.extend(p for p in args.split() if p not in config.ports)
    elif keyword == "ENTRYPOINT":
        config.entrypoint = _command_text(args)
        if not stage.cmd_set:
            config.cmd = None
    elif keyword == "CMD":
        config.cmd = _command_text(args)
        stage.cmd_set = True
    elif keyword == "HEALTHCHECK":
        config.healthcheck = args.split()[:1] != ["NONE"] if args else False
    elif keyword == "COPY":
        for word in args.split():
            if word.startswith("--from="):
                source = word.split("=", 1)[1]
                if not source.isdigit() and not any(s.name.lower() == source.lower() for s in stages):
                    copy_from.append(source)


def _is_root(user: str | None) -> bool:
    if user is None:
        return True
    return user.split(":", 1)[0].strip() in ("root", "0")
