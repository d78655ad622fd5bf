"""Cargo: command aliases in `.cargo/config.toml` (or the older `.cargo/config`) and the `xtask` pattern.

`[alias]` entries (`b = "build"`, `ci = ["clippy", "--", "-D", "warnings"]`) are tasks run as `cargo <alias>`
(Cargo reference, "Configuration", `[alias]`). An `xtask` crate (a `Cargo.toml` in a folder named `xtask`, the
convention of matklad/cargo-xtask) is the project's own task runner, usually reached through the alias
`xtask = "run --package xtask --"`: it is one task, `cargo xtask`, with the subcommands its `src/main.rs` matches
on (string patterns such as `"dist" =>` or clap `#[command]` variants) in the `subcommands` attribute.
"""

from __future__ import annotations

import re

from ..repo import FileText
from ._locate import key_lines, line_of
from ._python_common import load_toml
from .base import DetectContext, Wants, detector, directory_of

_SUBCOMMAND_ARM = re.compile(r"""^\s*(?:Some\()?\s*"([a-z][\w-]*)"\s*\)?\s*(?:\|[^=]*)?=>""", re.MULTILINE)
_CLAP_VARIANT = re.compile(r"^\s{4}([A-Z][A-Za-z0-9]*)\s*(?:\{|\(|,)", re.MULTILINE)


def _wanted(path: str) -> bool:
    parts = path.split("/")
    if parts[-1] in ("config.toml", "config") and len(parts) >= 2 and parts[-2] == ".cargo":
        return True
    return parts[-1] == "Cargo.toml" and len(parts) >= 2 and parts[-2] == "xtask"


CARGO_FILES = Wants(names=frozenset({"config.toml", "config", "Cargo.toml"}), refine=_wanted)


@detector("cargo", wants=CARGO_FILES)
def detect_cargo(ctx: DetectContext, file: FileText) -> None:
    if file.path.endswith("Cargo.toml"):
        _xtask(ctx, file)
        return
    data = load_toml(ctx, file)
    aliases = data.get("alias") if isinstance(data, dict) else None
    if not isinstance(aliases, dict):
        return
    lines = file.lines
    table = line_of(lines, re.compile(r"^\s*\[alias\]"), default=1)
    written = key_lines(lines, re.compile(r"""^\s*["']?([^"'=\s]+)["']?\s*="""), table - 1, re.compile(r"^\s*\["))
    for name, value in aliases.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            command = " ".join(value)
        elif isinstance(value, str):
            command = value
        else:
            ctx.diagnostic(file.path, f"cargo alias '{name}' is neither a string nor a list of strings", line=table)
            continue
        line = written.get(name, table)
        ctx.add_task(ctx.task(
            "cargo", file.path, name, invocation=f"cargo {name}",
            commands=[ctx.command(f"cargo {command}", file.path, line)],
            attributes={"alias_of": command}, evidence=ctx.evidence(file.path, line),
        ))


def _xtask(ctx: DetectContext, file: FileText) -> None:
    folder = directory_of(file.path)
    attributes: dict[str, str] = {"crate": folder}
    main = ctx.read(f"{folder}/src/main.rs")
    if main is not None:
        names = list(dict.fromkeys(_SUBCOMMAND_ARM.findall(main.text)))
        if not names:
            names = [re.sub(r"(?<!^)([A-Z])", r"-\1", v).lower() for v in _CLAP_VARIANT.findall(main.text)]
        if names:
            attributes["subcommands"] = ", ".join(dict.fromkeys(names))
    ctx.add_task(ctx.task(
        "cargo", file.path, "xtask", invocation="cargo xtask",
        description="The project's own task runner (an xtask crate)", attributes=attributes,
        evidence=ctx.evidence(file.path, 1, max(1, file.line_count)),
    ))
