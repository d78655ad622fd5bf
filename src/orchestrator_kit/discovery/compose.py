"""Docker Compose files: one item per service.

Read as the Compose specification describes them: `services` (or, in the legacy version-1 format, services at
the top level), each with `image`, `build` (a context string, or a map with `context`, `dockerfile`,
`dockerfile_inline`, `target`), `depends_on` (a list of names, or a map of name -> {condition, ...}),
`ports` (short syntax strings or numbers, or long syntax maps with target/published/host_ip/protocol),
`profiles`, `healthcheck` (`disable: true` or `test: ["NONE"]` turns an image's check off), `restart`
(or `deploy.restart_policy.condition`), `command` and `entrypoint`. Anchors and `<<` merge keys are
resolved by the YAML loader; `${VAR}` interpolation is kept as written.
"""

from __future__ import annotations

from typing import Any

from ..models import InfraItem
from ..repo import FileText
from ..yamlsrc import YMap, YSeq, scalar_text, string_list, word_bool
from .base import DetectContext, Wants, detector, directory_of

COMPOSE_FILES = Wants(globs=(
    "docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml",
    "docker-compose.*.yml", "docker-compose.*.yaml", "compose.*.yml", "compose.*.yaml",
))
# Top-level keys of the Compose specification that are not services (for the legacy format check).
TOP_LEVEL_KEYS = frozenset({"version", "name", "services", "networks", "volumes", "configs", "secrets", "include"})
SERVICE_SHAPE_KEYS = frozenset({"image", "build", "command", "ports", "links", "environment", "volumes"})


@detector("compose", wants=COMPOSE_FILES)
def detect_compose(ctx: DetectContext, file: FileText) -> None:
    docs = ctx.yaml_documents(file)
    if docs is None:
        return
    if not docs:
        return  # an empty file: nothing to report
    doc = docs[0]
    path = file.path
    if not isinstance(doc, YMap):
        ctx.diagnostic(path, "not a Compose file: the top level is not a mapping", line=1)
        return
    services = doc.get("services")
    if services is None:
        services = _legacy_services(doc)
        if services is None:
            if "include" not in doc and not all(str(k).startswith("x-") for k in doc):
                ctx.diagnostic(path, "Compose file has no 'services' mapping", line=doc.span[0])
            return
    elif not isinstance(services, YMap):
        ctx.diagnostic(path, "'services' is not a mapping of service names to definitions",
                       line=doc.key_line("services"))
        return
    for name, node in services.items():
        span = services.key_span(name)
        if node is None:
            node = YMap()  # `web:` with nothing under it is a (useless but valid) service
        if not isinstance(node, YMap):
            ctx.diagnostic(path, f"service '{name}' is not a mapping", line=span[0])
            continue
        ctx.add_infra(InfraItem(kind="compose-service", name=str(name), path=path,
                                attributes=_service(ctx, path, str(name), node),
                                evidence=ctx.evidence(path, *span)))


def _legacy_services(doc: YMap) -> YMap | None:
    """Version-1 Compose files put services at the top level; recognize them by their keys."""
    candidates = {k: v for k, v in doc.items() if k not in TOP_LEVEL_KEYS and not str(k).startswith("x-")}
    if not candidates or not all(isinstance(v, YMap) and SERVICE_SHAPE_KEYS & set(v) for v in candidates.values()):
        return None
    legacy = YMap(candidates)
    legacy.span = doc.span
    legacy.key_spans = {k: doc.key_span(k) for k in candidates}
    return legacy


def _service(ctx: DetectContext, path: str, name: str, node: YMap) -> dict[str, str | list[str]]:
    attributes: dict[str, str | list[str]] = {}
    image = scalar_text(node.get("image"))
    if image:
        attributes["image"] = image
    attributes.update(_build(node.get("build"), path))
    depends, conditions = _depends_on(node.get("depends_on"))
    if depends:
        attributes["depends_on"] = depends
    if conditions:
        attributes["depends_on_conditions"] = conditions
    ports = _ports(node.get("ports"))
    if ports:
        attributes["ports"] = ports
    profiles = string_list(node.get("profiles"))
    if profiles:
        attributes["profiles"] = profiles
    attributes["healthcheck"] = _healthcheck(node.get("healthcheck"))
    restart = scalar_text(node.get("restart"))
    deploy = node.get("deploy")
    if restart is None and isinstance(deploy, YMap) and isinstance(deploy.get("restart_policy"), YMap):
        condition = scalar_text(deploy["restart_policy"].get("condition"))
        restart = f"{condition} (deploy.restart_policy)" if condition else None
    if restart:
        attributes["restart"] = restart
    for key in ("command", "entrypoint"):
        text = _command(node.get(key))
        if text:
            attributes[key] = ctx.redact(text, path)
    container_name = scalar_text(node.get("container_name"))
    if container_name:
        attributes["container_name"] = container_name
    return attributes


def _build(value: Any, path: str) -> dict[str, str | list[str]]:
    """`build: ./dir` or `build: {context, dockerfile, dockerfile_inline, target}`. The Dockerfile path is
    given relative to the repository root when the context is a local folder (Compose resolves it that way)."""
    if value is None:
        return {}
    if isinstance(value, YMap):
        context = scalar_text(value.get("context")) or "."
        dockerfile = scalar_text(value.get("dockerfile"))
        if dockerfile is None:
            dockerfile = "(inline)" if "dockerfile_inline" in value else "Dockerfile"
        result: dict[str, str | list[str]] = {"build_context": context, "build_dockerfile": dockerfile}
        target = scalar_text(value.get("target"))
        if target:
            result["build_target"] = target
    else:
        context = scalar_text(value) or "."
        dockerfile = "Dockerfile"
        result = {"build_context": context, "build_dockerfile": dockerfile}
    local = "://" not in context and not context.startswith(("git@", "$")) and dockerfile != "(inline)"
    if local and not dockerfile.startswith("/"):
        result["build_dockerfile_path"] = _join(directory_of(path), context, dockerfile)
    return result


def _join(*parts: str) -> str:
    """Join repository-relative parts, folding `.` and `..` (never above the root)."""
    out: list[str] = []
    for part in parts:
        for piece in part.split("/"):
            if piece in ("", "."):
                continue
            if piece == "..":
                if out:
                    out.pop()
                continue
            out.append(piece)
    return "/".join(out) or "."


def _depends_on(value: Any) -> tuple[list[str], list[str]]:
    """Service names (list form or map form) and, for the map form, `name: condition` entries."""
    if isinstance(value, YMap):
        names: list[str] = []
        conditions: list[str] = []
        for dep, config in value.items():
            names.append(str(dep))
            condition = scalar_text(config.get("condition")) if isinstance(config, YMap) else None
            if condition:
                conditions.append(f"{dep}: {condition}")
        return names, conditions
    return string_list(value), []


def _ports(value: Any) -> list[str]:
    """Short syntax as written (`"8080:80"`, `9000`, `"127.0.0.1:5432:5432/tcp"`); long syntax as
    `[host_ip:]published:target/protocol`."""
    if not isinstance(value, YSeq):
        return string_list(value)
    ports: list[str] = []
    for item in value:
        if isinstance(item, YMap):
            target = scalar_text(item.get("target"))
            if target is None:
                continue
            published = scalar_text(item.get("published"))
            host_ip = scalar_text(item.get("host_ip"))
            protocol = scalar_text(item.get("protocol"))
            text = f"{published}:{target}" if published else target
            if host_ip:
                text = f"{host_ip}:{text}"
            if protocol:
                text += f"/{protocol}"
            ports.append(text)
        else:
            text = scalar_text(item)
            if text is not None:
                ports.append(text)
    return ports


def _healthcheck(value: Any) -> str:
    if not isinstance(value, YMap):
        return "no"
    # compose-go casts `healthcheck.disable` with its toBoolean (compose-spec/compose-go loader/interpolate.go):
    # y/yes/on/true in any casing, quoted or not, is true there; go-yaml v3 left a plain `yes` a string.
    if word_bool(value.get("disable")) is True or string_list(value.get("test"))[:1] == ["NONE"]:
        return "no"
    return "yes"


def _command(value: Any) -> str | None:
    if isinstance(value, YSeq):
        return " ".join(string_list(value)) or None
    return scalar_text(value)

