"""Helm charts: `Chart.yaml`, its dependencies, the kinds its templates create, and its values file.

Read as the Helm chart documentation describes a chart: `Chart.yaml` with `apiVersion` (v2 for Helm 3, v1 for
Helm 2), `name`, `version`, `appVersion`, `type` (application, the default, or library) and `dependencies`
(name, version, repository, alias, condition); Helm 2 charts list dependencies in `requirements.yaml` next to
it. Templates under `templates/` (any depth) are Go templates, not YAML: their kinds are found with a regular
expression over top-level `kind:` lines, never by parsing them.

A CronJob template whose schedule comes from the values (`schedule: {{ .Values.reindex.schedule | quote }}`) runs
on the chart's default schedule: the value at that path of `values.yaml` becomes a Schedule (source
`kubernetes-cronjob`, evidence the line in `values.yaml`), with what the CronJob runs as its target.
"""

from __future__ import annotations

import re
from typing import Any

from ..cron import CronError, explain_cron
from ..models import InfraItem, Schedule
from ..repo import FileText
from ..yamlsrc import YamlError, YMap, YSeq, load_yaml_documents, scalar_text
from ._infra_common import unique
from .base import DetectContext, Wants, detector, directory_of

# A top-level `kind: Deployment` line (nested kinds such as roleRef.kind are indented); quotes allowed.
_VALUES_SCHEDULE = re.compile(r"^\s+schedule:\s*\{\{-?\s*\.Values\.([\w.]+)[^}]*\}\}", re.MULTILINE)
_TEMPLATE_NAME = re.compile(r"^\s+name:\s*(.+?)\s*$", re.MULTILINE)
_ARGS = re.compile(r"^\s+(?:command|args):\s*(\[.*\])\s*$", re.MULTILINE)
DEFAULT_CRON_TIMEZONE = "controller's local time (usually UTC)"
_TEMPLATE_KIND = re.compile(r"""^kind:\s*["']?([A-Za-z][A-Za-z0-9]*)["']?\s*(?:#.*)?$""", re.MULTILINE)
CHARTS = Wants(names=frozenset({"Chart.yaml"}))


@detector("helm", wants=CHARTS)
def detect_chart(ctx: DetectContext, file: FileText) -> None:
    docs = ctx.yaml_documents(file)
    if docs is None:
        return
    path = file.path
    folder = directory_of(path)
    prefix = "" if folder == "." else f"{folder}/"
    doc = docs[0] if docs else None
    if not isinstance(doc, YMap):
        ctx.diagnostic(path, "Chart.yaml is not a mapping", line=1)
        return
    name = scalar_text(doc.get("name"))
    if not name:
        ctx.diagnostic(path, "Chart.yaml has no 'name' (Helm requires it)", line=1)
        name = folder.rsplit("/", 1)[-1] if folder != "." else "chart"
    attributes: dict[str, str | list[str]] = {}
    for key in ("apiVersion", "version", "appVersion", "description"):
        value = scalar_text(doc.get(key))
        if value is not None:
            attributes[key] = value
    if "version" not in attributes:
        ctx.diagnostic(path, f"chart '{name}' has no 'version' (Helm requires it)", line=1)
    attributes["type"] = scalar_text(doc.get("type")) or "application"
    dependencies = _dependencies(ctx, path, doc.get("dependencies"), doc.key_line("dependencies"))
    requirements = f"{prefix}requirements.yaml"
    if not dependencies and ctx.exists(requirements):
        dependencies = _requirements(ctx, requirements)
    if dependencies:
        attributes["dependencies"] = dependencies
    templates = sorted(ctx.glob(f"{prefix}templates/**/*.yaml") + ctx.glob(f"{prefix}templates/**/*.yml"))
    attributes["templates"] = _template_kinds(ctx, templates)
    _default_schedules(ctx, name, prefix, templates)
    attributes["template_files"] = str(len(templates))
    attributes["values_file"] = "yes" if ctx.exists(f"{prefix}values.yaml") else "no"
    ctx.add_infra(InfraItem(kind="helm-chart", name=name, path=path, attributes=attributes,
                            evidence=ctx.evidence(path, 1, file.line_count)))


def _dependencies(ctx: DetectContext, path: str, value: Any, line: int = 1) -> list[str]:
    """`name@version (repository)`; without a repository the chart lives in `charts/`."""
    if value is None:
        return []
    if not isinstance(value, YSeq):
        ctx.diagnostic(path, "'dependencies' is not a list", line=line)
        return []
    result: list[str] = []
    for index, entry in enumerate(value):
        dep_name = scalar_text(entry.get("name")) if isinstance(entry, YMap) else None
        if not isinstance(entry, YMap) or not dep_name:
            ctx.diagnostic(path, "dependency without a 'name'", line=value.item_span(index)[0])
            continue
        text = f"{dep_name}@{scalar_text(entry.get('version')) or '*'}"
        repository = scalar_text(entry.get("repository"))
        if repository:
            text += f" ({ctx.redact(repository, path)})"
        result.append(text)
    return result


def _requirements(ctx: DetectContext, path: str) -> list[str]:
    """Helm 2's `requirements.yaml`: `{dependencies: [...]}` with the same entries."""
    file = ctx.read(path)
    if file is None:
        return []
    try:
        docs = load_yaml_documents(file.text)
    except YamlError as exc:
        ctx.diagnostic(path, str(exc), line=exc.line)
        return []
    if not docs or not isinstance(docs[0], YMap):
        return []
    return _dependencies(ctx, path, docs[0].get("dependencies"), docs[0].key_line("dependencies"))


def _template_kinds(ctx: DetectContext, templates: list[str]) -> list[str]:
    kinds: list[str] = []
    for template in templates:
        file = ctx.read(template)
        if file is not None:
            # Not forgotten: the scan reaches this file later and finds it cached instead of reading it again.
            kinds.extend(_TEMPLATE_KIND.findall(file.text))
    return unique(kinds)


def _default_schedules(ctx: DetectContext, chart: str, prefix: str, templates: list[str]) -> None:
    """Schedules of CronJob templates whose `schedule:` is a value, read from the chart's `values.yaml`."""
    values_path = f"{prefix}values.yaml"
    values: YMap | None = None
    for template in templates:
        file = ctx.read(template)
        if file is None or "CronJob" not in _TEMPLATE_KIND.findall(file.text):
            continue
        for match in _VALUES_SCHEDULE.finditer(file.text):
            if values is None:
                values = _values(ctx, values_path)
                if values is None:
                    return
            keys = match.group(1).split(".")
            node: Any = values
            for key in keys[:-1]:
                node = node.get(key) if isinstance(node, YMap) else None
            expression = scalar_text(node.get(keys[-1])) if isinstance(node, YMap) else None
            if expression is None or not isinstance(node, YMap):
                continue
            line = node.key_line(keys[-1])
            try:
                explanation = explain_cron(expression.strip())
            except CronError as exc:
                ctx.diagnostic(values_path, f"invalid default schedule '{expression}' for {template}: {exc}", line=line)
                explanation = "invalid cron expression"
            names = _TEMPLATE_NAME.findall(file.text)
            args = _ARGS.findall(file.text)
            target = f"CronJob {names[0] if names else template} (chart {chart}, .Values.{match.group(1)})"
            if args:
                target += f": {' '.join(args)}"
            ctx.add_schedule(Schedule(source="kubernetes-cronjob", expression=expression,
                                      explanation=explanation + " (the chart's default; a release may override it)",
                                      timezone=DEFAULT_CRON_TIMEZONE, target=ctx.redact(target, values_path),
                                      evidence=ctx.evidence(values_path, line)))


def _values(ctx: DetectContext, path: str) -> YMap | None:
    file = ctx.read(path)
    if file is None:
        return None
    try:
        docs = load_yaml_documents(file.text)
    except YamlError as exc:
        ctx.diagnostic(path, str(exc), line=exc.line)
        return None
    return docs[0] if docs and isinstance(docs[0], YMap) else None
