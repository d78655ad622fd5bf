"""Azure Pipelines job templates in the repository, read far enough to know what a `- template:` job entry runs as.

A job entry `- template: jobs/test.yml` with `parameters: {shards: 4}` runs the template's job(s) with those
parameters ("Template usage reference": template expressions `${{ parameters.x }}` are expanded when the
pipeline is compiled). For a local template holding one job, the job's `timeoutInMinutes` and
`strategy.parallel` are read after substituting the parameters passed (or the template's declared defaults) into
`${{ parameters.name }}`; anything more dynamic stays unknown. Nothing is run; a template that cannot be read or
parsed gives nothing (its own file's scan reports the problem).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from ..yamlsrc import YamlError, YMap, load_yaml_documents, scalar_text
from .base import DetectContext

_PARAMETER = re.compile(r"^\s*\$\{\{\s*parameters\.([\w.-]+)\s*\}\}\s*$")


@dataclass(frozen=True)
class TemplateJob:
    timeout: Any
    parallel: Any


def passed_parameters(node: Any) -> dict[str, str]:
    """The scalar parameters a template entry passes (`parameters: {shards: 4, env: prod}`)."""
    if not isinstance(node, YMap):
        return {}
    found = {}
    for key, value in node.items():
        text = scalar_text(value)
        if isinstance(key, str) and text is not None:
            found[key] = text
    return found


def template_path(including: str, target: str) -> str | None:
    """The repository path of a template reference: relative to the including file's folder, or to the root when
    it starts with `/`; None for `path@repository` (another repository) and expressions."""
    if "@" in target or "$" in target:
        return None
    rel = target.lstrip("/") if target.startswith("/") else posixpath.join(posixpath.dirname(including), target)
    rel = posixpath.normpath(rel)
    return None if rel.startswith("..") else rel


def single_job(ctx: DetectContext, including: str, target: str, passed: dict[str, str]) -> TemplateJob | None:
    """The timeout and parallel setting of a local one-job template, parameters substituted (see the module doc)."""
    rel = template_path(including, target)
    if rel is None or not ctx.exists(rel):
        return None
    file = ctx.read(rel)
    if file is None:
        return None
    try:
        docs = load_yaml_documents(file.text)
    except YamlError:
        return None
    doc = docs[0] if docs else None
    if not isinstance(doc, YMap):
        return None
    jobs = doc.get("jobs")
    if not isinstance(jobs, list) or len(jobs) != 1 or not isinstance(jobs[0], YMap):
        return None
    values = {**_defaults(doc.get("parameters")), **passed}
    job = jobs[0]
    strategy = job.get("strategy")
    parallel = strategy.get("parallel") if isinstance(strategy, YMap) else None
    return TemplateJob(timeout=_substitute(job.get("timeoutInMinutes"), values),
                       parallel=_substitute(parallel, values))


def _defaults(node: Any) -> dict[str, str]:
    """Declared parameter defaults: a list of `{name, type, default}` or the older `name: default` mapping."""
    found: dict[str, str] = {}
    if isinstance(node, list):
        for item in node:
            if isinstance(item, YMap):
                name, default = scalar_text(item.get("name")), scalar_text(item.get("default"))
                if name and default is not None:
                    found[name] = default
    elif isinstance(node, YMap):
        found = passed_parameters(node)
    return found


def _substitute(value: Any, values: dict[str, str]) -> Any:
    text = scalar_text(value)
    if text is None:
        return value
    match = _PARAMETER.match(text)
    if match is None:
        return value
    return values.get(match.group(1), value)
