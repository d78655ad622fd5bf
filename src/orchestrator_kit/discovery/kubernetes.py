"""Kubernetes manifests: every YAML document with `apiVersion`, `kind` and `metadata.name`, and CronJob schedules.

Read as the Kubernetes API reference describes objects: multi-document files, `List`-style kinds with `items`,
`metadata.namespace` as written (absent means "the namespace kubectl applies to"), pod templates at
`spec.template.spec` (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, Argo Rollout), at
`spec.jobTemplate.spec.template.spec` (CronJob) and at `spec` (Pod); `spec.replicas`. A CronJob's
`spec.schedule` is a five-field cron expression evaluated in `spec.timeZone` or, without it, in the
kube-controller-manager's local time zone; `CRON_TZ=`/`TZ=` inside the schedule is rejected by the API server
since Kubernetes 1.27 (batch/v1 CronJob reference).

Most YAML in a repository is not a manifest, so files are filtered cheaply first (the text must mention both
`apiVersion` and `kind`), CI/tool configuration files are skipped by name, Helm `templates/` of a chart (a
folder with `Chart.yaml`) are Go templates and are never parsed, and a YAML syntax error is reported only for
files that are plainly manifests (under `k8s/`, `kubernetes/`, `manifests/`, `deploy/`, or with `kind:` and
`apiVersion:` keys at the start of lines). Objects annotated `config.kubernetes.io/local-config: "true"` (the KRM
functions specification's mark for configuration that is never applied: kpt and kustomize leave them out) and kpt's
own `kpt.dev` objects are not cluster objects and are not listed.
"""

from __future__ import annotations

import re
from typing import Any

from ..cron import CronError, explain_cron, quote_short
from ..models import InfraItem, Schedule
from ..repo import FileText
from ..yamlsrc import YamlDocument, YamlError, YMap, YSeq, go_yaml_v2_bool, load_yaml_lazily, scalar_text
from ._infra_common import unique
from .base import DetectContext, Wants, basename, detector, under

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod",
     "Rollout"}
)
MANIFEST_DIRS = ("k8s", "kubernetes", "manifests", "deploy")
DEFAULT_CRON_TIMEZONE = "controller's local time (usually UTC)"

# Files that mention apiVersion/kind but configure a tool, not a cluster.
_SKIPPED_NAMES = re.compile(
    r"^(\.gitlab-ci\.ya?ml|bitbucket-pipelines\.ya?ml|azure-pipelines.*\.ya?ml|taskfile(\..*)?\.ya?ml|"
    r"\.pre-commit-(config|hooks)\.ya?ml|mkdocs\.ya?ml|pnpm-lock\.yaml|(docker-)?compose(\..*)?\.ya?ml|"
    r"(openapi|swagger)(\..*)?\.ya?ml|chart\.ya?ml|chart\.lock|kustomization\.ya?ml|skaffold(\..*)?\.ya?ml|"
    r"catalog-info\.ya?ml|\.golangci\.ya?ml|codecov\.ya?ml|\.travis\.ya?ml|appveyor\.ya?ml)$",
    re.IGNORECASE,
)
_SKIPPED_DIRS = (".github", ".circleci", ".gitlab", ".azure-pipelines", ".buildkite")
# apiVersion groups of local tool configuration that looks like a Kubernetes object but is never applied.
_TOOL_API_GROUPS = (
    "backstage.io/", "skaffold/", "kustomize.config.k8s.io/", "kind.x-k8s.io/", "k3d.io/", "ctlptl.dev/",
    "kubeadm.k8s.io/", "kubelet.config.k8s.io/", "client.authentication.k8s.io/", "kpt.dev/",
)
# The KRM functions specification's annotation for configuration a tool reads and never applies to a cluster
# (kpt and kustomize drop such objects from their output): Google's BlueprintMetadata files, function configs.
LOCAL_CONFIG = "config.kubernetes.io/local-config"
_KEY_AT_LINE_START = re.compile(r"^(?:- )?(kind|apiVersion)\s*:", re.MULTILINE)


def _maybe_manifest(path: str) -> bool:
    return not _SKIPPED_NAMES.match(basename(path)) and not under(path, *_SKIPPED_DIRS)


MANIFESTS = Wants(globs=("*.yaml", "*.yml"), refine=_maybe_manifest)


def _in_helm_templates(ctx: DetectContext, path: str) -> bool:
    """Whether the file sits (at any depth) in the `templates/` folder of a folder holding Chart.yaml."""
    parts = path.split("/")[:-1]
    for index, part in enumerate(parts):
        if part == "templates":
            chart_dir = "/".join(parts[:index])
            if ctx.exists(f"{chart_dir}/Chart.yaml" if chart_dir else "Chart.yaml"):
                return True
    return False


@detector("kubernetes", wants=MANIFESTS)
def detect_manifests(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    if _in_helm_templates(ctx, path):
        return
    # What a manifest holds depends on its path and text alone: remembered across scans, the cheap check too (it
    # searches the whole text of every YAML file).
    ctx.remembered((file,), lambda: _read_manifests(ctx, path, file.text))


def _read_manifests(ctx: DetectContext, path: str, text: str) -> None:
    if "apiVersion" not in text or "kind" not in text:
        return  # cheap check first: most YAML files in a repository are not manifests
    try:
        # Values are built as `_object` reads them: a CustomResourceDefinition's schema (most of its lines), a
        # BlueprintMetadata's spec or a ConfigMap's data are never built (kube-prometheus: 359 -> 211 ms of YAML).
        for doc in load_yaml_lazily(text):
            if isinstance(doc, YamlDocument):
                _object(ctx, path, doc, doc.span)
    except YamlError as exc:
        # A syntax error anywhere, or a value read here that cannot be built; objects of the documents before it
        # are kept.
        if under(path, *MANIFEST_DIRS) or _looks_manifest(text):
            templated = "{{" in text and "}}" in text
            reason = str(exc) + (" (the file holds template markers {{ }}; render it before applying)"
                                 if templated else "")
            ctx.diagnostic(path, reason, line=exc.line)


def _looks_manifest(text: str) -> bool:
    """Both `kind:` and `apiVersion:` written as keys at the start of a line."""
    return set(_KEY_AT_LINE_START.findall(text)) == {"kind", "apiVersion"}


def _object(
    ctx: DetectContext, path: str, node: YMap | YamlDocument, span: tuple[int, int], depth: int = 0
) -> None:
    """One object, or the items of a List-style object (at most one level of nesting)."""
    kind, api_version = node.get("kind"), node.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str) or not kind or not api_version:
        return  # `kind: 2` is not an object kind
    if api_version.startswith(_TOOL_API_GROUPS):
        return
    if kind == "Config" and api_version == "v1":
        return  # a kubeconfig: client credentials, not a cluster object
    items = node.get("items")
    if kind.endswith("List") and isinstance(items, YSeq) and depth == 0:
        for index, item in enumerate(items):
            if isinstance(item, YMap):
                _object(ctx, path, item, items.item_span(index), depth + 1)
        return
    metadata = node.get("metadata")
    if not isinstance(metadata, YMap):
        return
    annotations = metadata.get("annotations")
    if isinstance(annotations, YMap) and (scalar_text(annotations.get(LOCAL_CONFIG)) or "").lower() == "true":
        return  # local configuration, never applied
    name = scalar_text(metadata.get("name"))
    if not name:
        generate = scalar_text(metadata.get("generateName"))
        if not generate:
            return
        name = f"{generate}*"
    attributes: dict[str, str | list[str]] = {"apiVersion": api_version, "kind": kind}
    namespace = scalar_text(metadata.get("namespace"))
    if namespace:
        attributes["namespace"] = namespace
    spec = node.get("spec") if kind in WORKLOAD_KINDS else None  # only a workload's spec is read
    if isinstance(spec, YMap):
        pod = _pod_spec(kind, spec)
        images, init_images = _images(pod, "containers"), _images(pod, "initContainers")
        if images:
            attributes["images"] = images
        if init_images:
            attributes["init_images"] = init_images
        replicas = scalar_text(spec.get("replicas"))
        if replicas is not None:
            attributes["replicas"] = replicas
        if kind == "CronJob":
            _cronjob(ctx, path, name, spec, pod, attributes)
    ctx.add_infra(InfraItem(kind="kubernetes", name=f"{kind}/{name}", path=path, attributes=attributes,
                            evidence=ctx.evidence(path, *span)))


def _pod_spec(kind: str, spec: YMap) -> YMap | None:
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        job = spec.get("jobTemplate")
        spec = job.get("spec") if isinstance(job, YMap) else None
        if not isinstance(spec, YMap):
            return None
    template = spec.get("template")
    pod = template.get("spec") if isinstance(template, YMap) else None
    return pod if isinstance(pod, YMap) else None


def _containers(pod: YMap | None, key: str) -> list[YMap]:
    if pod is None or not isinstance(pod.get(key), YSeq):
        return []
    return [c for c in pod[key] if isinstance(c, YMap)]


def _images(pod: YMap | None, key: str) -> list[str]:
    return unique([image for c in _containers(pod, key) if (image := scalar_text(c.get("image")))])


def _cronjob(
    ctx: DetectContext, path: str, name: str, spec: YMap, pod: YMap | None, attributes: dict[str, str | list[str]]
) -> None:
    raw = spec.get("schedule")
    line = spec.key_line("schedule") if "schedule" in spec else spec.span[0]
    expression = scalar_text(raw)
    if expression is None:
        ctx.diagnostic(path, f"CronJob '{name}' has no spec.schedule string", line=line)
        return
    attributes["schedule"] = expression
    timezone = scalar_text(spec.get("timeZone"))
    cron = expression.strip()
    match = re.match(r"^(CRON_TZ|TZ)=(\S+)\s+(.*)$", cron)
    if match:
        ctx.diagnostic(path, f"CronJob '{name}': {match.group(1)}= in spec.schedule is rejected since Kubernetes "
                             "1.27; use spec.timeZone", line=line)
        timezone = timezone or match.group(2)
        cron = match.group(3)
    try:
        explanation = explain_cron(cron)
    except CronError as exc:
        ctx.diagnostic(path, f"CronJob {quote_short(name)}: invalid schedule {quote_short(expression)}: {exc}",
                       line=line)
        explanation = "invalid cron expression"
    if go_yaml_v2_bool(spec.get("suspend")) is True:  # kubectl reads YAML 1.1 (go-yaml v2): `suspend: y` is true
        explanation += " (suspended: spec.suspend is true)"
    ctx.add_schedule(Schedule(source="kubernetes-cronjob", expression=expression, explanation=explanation,
                              timezone=timezone or DEFAULT_CRON_TIMEZONE,
                              target=ctx.redact(_target(name, pod), path),
                              evidence=ctx.evidence(path, *spec.key_span("schedule", (line, line)))))


def _target(name: str, pod: YMap | None) -> str:
    """`CronJob/<name>: <command args>` per container, or its image when the image's own entrypoint runs."""
    parts = []
    for container in _containers(pod, "containers"):
        words = _words(container.get("command")) + _words(container.get("args"))
        image = scalar_text(container.get("image")) or "?"
        parts.append(" ".join(words) if words else f"image {image}")
    return f"CronJob/{name}: " + ("; ".join(parts) if parts else "no containers")


def _words(value: Any) -> list[str]:
    if isinstance(value, YSeq):
        return [text for v in value if (text := scalar_text(v)) is not None]
    text = scalar_text(value)
    return [text] if text else []
