"""The house keeps its shape: which parts of the package may import which, written as data and checked on the source.

A part is a top-level module or package of `orchestrator_kit` (`discovery`, `cli`, `repo`, ...). Every import counts,
also one inside a function or under TYPE_CHECKING: a lazy import is still a dependency. A new part must be added to
ALLOWED (with the parts it may import) before it can land, so the arrows are decided, not accumulated.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "orchestrator_kit"
ROOT = "__init__"  # the package's own __init__ (the version, `scan`)

BASE = {"errors", "limits", "models"}  # every part may import these (limits: the shared default sizes)
# part -> the parts (besides BASE) it may import. Lower layers first; an arrow up is a design decision.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "limits": set(),
    "models": set(),
    "usercache": set(),
    "yamltext": set(),
    "yamlsrc": set(),
    "datatext": set(),  # JSON and TOML text, every failure the parser's decode error with its line
    "gitlocation": set(),  # where a repository's git directory may lie
    "deadlines": set(),  # the watchdog that stops a call past its deadline (detector and MCP call budgets)
    "background": set(),  # a function run in a thread, its value or exception handed over (git reads side by side)
    "gitsafe": {"gitlocation"},
    "cron": set(),
    "jobgraph": set(),
    "terminal": set(),  # text a repository cannot take over a terminal with: control characters shown, not sent
    "fit": {"terminal"},  # the terminal table layout every face's tables share (columns by width, ids whole)
    "shellwords": set(),  # shell-like splitting of command text, for detectors and opportunities
    "regex_needs": set(),  # what text a regular expression needs (a necessary condition checked before a search)
    "redaction_rules": {"regex_needs"},  # the rules redaction applies (patterns, names, placeholders), as data
    "redaction": {"redaction_rules", "regex_needs"},
    "excludes": set(),  # the --exclude globs and the team config's excludes, as one matcher
    "beneath": set(),  # openat2 confinement under repo
    "repo": {"background", "beneath", "gitsafe", "redaction"},
    "config": {"datatext", "repo"},
    "samples": {"gitsafe", "yamlsrc"},
    "testing": set(),  # test doubles shipped with the package (the fake Messages API)
    # capabilities: each reads the repository and the models; none calls up into service, the faces or the server
    "discovery": {"cron", "datatext", "deadlines", "excludes", "repo", "shellwords", "usercache", "yamlsrc"},
    "metrics": {"background", "cron", "discovery", "excludes", "gitsafe", "jobgraph", "repo", "usercache"},
    "opportunities": {"config", "discovery", "jobgraph", "metrics", "repo", "shellwords"},
    "design": {"automation", "datatext", "fit", "yamlsrc", "yamltext"},  # the CI export writes and checks through automation
    "report": {"fit", "jobgraph", "metrics"},
    # compositions of capabilities
    "service": {"discovery", "excludes", "repo"},
    # assessment: the team config and excludes, and one `git rev-list --count` for the window it reports
    "assessment": {"config", "discovery", "excludes", "gitsafe", "metrics", "opportunities", "repo"},
    "automation": {"assessment", "cron", "datatext", "discovery", "opportunities", "redaction", "repo", "yamlsrc",
                   "yamltext"},
    # evals: the tool suite (assessment, metrics) and the agent suite (it runs the agent, grades designs and writes)
    "evals": {"agent", "assessment", "automation", "design", "fit", "metrics", "samples", "yamlsrc"},
    # the MCP adapters and server, the agent, the plugin
    "mcp_tools": {"assessment", "automation", "deadlines", "design", "gitsafe", "metrics", "repo", "service",
                  "terminal", "usercache"},  # terminal: uvicorn's own log handlers made printable (http.py)
    "server": {ROOT, "assessment", "automation", "mcp_tools", "repo"},
    "agent": {"automation", "mcp_tools", "terminal", "usercache"},  # usercache: its atomic write for the saved reports
    "plugin": {ROOT, "mcp_tools"},
    "install": {"datatext", "plugin"},  # datatext: the client's JSON config (a project's .mcp.json)
    # the faces
    "cli": {ROOT, "agent", "assessment", "automation", "design", "evals", "fit", "install", "metrics", "repo", "report",
            "samples", "server", "service", "terminal", "yamlsrc"},
    "clidoc": {"cli"},
    "__main__": {"cli"},
    ROOT: {"repo", "service"},
}
# Arrows that exist and should not, each with the reason and where it goes away. Never add one without a reason.
KNOWN: dict[tuple[str, str], str] = {
    ("opportunities", "service"): "opportunities.opportunities() composes a scan itself; assessment.assess "
                                  "replaces it (the module is being rewritten as a package in issue 12)",
}
NEVER_IMPORTED_BY_LOWER = {"cli", "server", "clidoc", "__main__"}


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def imports_of(path: Path) -> set[str]:
    """The orchestrator_kit modules `path` imports (absolute names), anywhere in the file."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    module = ".".join(relative.parts)
    package = module.removesuffix(".__init__") if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("orchestrator_kit")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("orchestrator_kit"):
                continue
            if target == "orchestrator_kit":
                # `from .. import shellwords` imports the part `shellwords`; it runs the package's __init__ only as
                # Python runs every parent package, not as a use of what __init__ exports.
                names = {f"orchestrator_kit.{a.name}" for a in node.names}
                parts = {n for n in names if _is_module(n)}
                found |= parts
                if names - parts:
                    found.add(target)  # a name __init__ defines: a real use of the package root
            else:
                found.add(target)
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


@functools.cache
def arrows() -> dict[tuple[str, str], list[str]]:
    """(from part, to part) -> the files that make the arrow."""
    known_parts = {p.stem if p.suffix == ".py" else p.name for p in PACKAGE.iterdir()
                   if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"}
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        source = part_of(".".join(relative.parts)) if relative.parts[-1] != "__init__" or len(relative.parts) > 2 \
            else ROOT
        for target in imports_of(path):
            to = part_of(target)
            if to != source and (to in known_parts or to == ROOT):
                found.setdefault((source, to), []).append(str(path.relative_to(PACKAGE)))
    return found


def test_every_part_is_in_the_table():
    parts = {source for source, _ in arrows()} | {
        p.stem if p.suffix == ".py" else p.name for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists()}
    assert sorted(parts - set(ALLOWED)) == [], "add the new part to ALLOWED in tests/test_layering.py"


def test_every_import_follows_an_allowed_arrow():
    wrong = [f"{source} -> {to} ({', '.join(files)})" for (source, to), files in sorted(arrows().items())
             if to not in BASE and to not in ALLOWED.get(source, set()) and (source, to) not in KNOWN]
    assert wrong == []


def test_no_lower_layer_imports_the_faces_or_the_server():
    faces = {"cli", "clidoc", "__main__"}
    wrong = [f"{source} -> {to}" for (source, to) in arrows()
             if to in NEVER_IMPORTED_BY_LOWER and source not in faces and not (to == "server" and source == "cli")]
    assert wrong == []


def test_known_exceptions_still_exist():
    """An exception that went away is taken off the list (so the list only shrinks)."""
    assert [k for k in KNOWN if k not in arrows()] == []


def test_lazy_and_type_checking_imports_count():
    """The check sees what a module imports inside a function and under TYPE_CHECKING, not only at the top."""
    found = imports_of(PACKAGE / "cli" / "scan.py")
    assert "orchestrator_kit.assessment" in found  # inside scan_extras()
    assert "orchestrator_kit.metrics.models" in found  # under TYPE_CHECKING
    assert "orchestrator_kit.cli.common" in found  # a relative import
    assert ("cli", "assessment") in arrows()
