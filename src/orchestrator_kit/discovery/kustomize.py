"""Kustomize: `kustomization.yaml`, `kustomization.yml` and `Kustomization` files.

Read as the Kustomize reference describes the file (kind Kustomization or Component): `resources`, `bases`
(deprecated, still read), `components`, `namespace`, `namePrefix`/`nameSuffix`, `images` (name -> newName,
newTag or digest), patches of every flavour (`patches`, `patchesStrategicMerge`, `patchesJson6902`), and
`helmCharts` (name, version, repo). One item per file, named after its folder.
"""

from __future__ import annotations

from typing import Any

from ..models import InfraItem
from ..repo import FileText
from ..yamlsrc import YMap, YSeq, scalar_text, string_list
from .base import DetectContext, Wants, detector, directory_of

PATCH_KEYS = ("patches", "patchesStrategicMerge", "patchesJson6902")
KUSTOMIZATIONS = Wants(names=frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"}))


@detector("kustomize", wants=KUSTOMIZATIONS)
def detect_kustomization(ctx: DetectContext, file: FileText) -> None:
    docs = ctx.yaml_documents(file)
    if docs is None:
        return
    path = file.path
    if not docs:
        ctx.diagnostic(path, "empty kustomization", line=1)
        return
    doc = docs[0]
    if not isinstance(doc, YMap):
        ctx.diagnostic(path, "kustomization is not a mapping", line=1)
        return
    attributes: dict[str, str | list[str]] = {"kind": scalar_text(doc.get("kind")) or "Kustomization"}
    for key in ("resources", "bases", "components"):
        values = _list(ctx, path, doc, key)
        if values:
            attributes[key] = values
    for key in ("namespace", "namePrefix", "nameSuffix"):
        value = scalar_text(doc.get(key))
        if value:
            attributes[key] = value
    images = _images(ctx, path, doc)
    if images:
        attributes["images"] = images
    patches = 0
    for key in PATCH_KEYS:
        value = doc.get(key)
        if isinstance(value, YSeq):
            patches += len(value)
        elif value is not None:
            ctx.diagnostic(path, f"'{key}' is not a list", line=doc.key_line(key))
    attributes["patches"] = str(patches)
    charts = _helm_charts(ctx, path, doc)
    if charts:
        attributes["helmCharts"] = charts
    ctx.add_infra(InfraItem(kind="kustomization", name=directory_of(path), path=path, attributes=attributes,
                            evidence=ctx.evidence(path, 1, file.line_count)))


def _list(ctx: DetectContext, path: str, doc: YMap, key: str) -> list[str]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, YSeq):
        ctx.diagnostic(path, f"'{key}' is not a list", line=doc.key_line(key))
        return []
    return string_list(value)


def _entries(ctx: DetectContext, path: str, doc: YMap, key: str) -> list[YMap]:
    value: Any = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, YSeq):
        ctx.diagnostic(path, f"'{key}' is not a list", line=doc.key_line(key))
        return []
    return [entry for entry in value if isinstance(entry, YMap)]


def _images(ctx: DetectContext, path: str, doc: YMap) -> list[str]:
    """`name -> newName:newTag`, `name -> newName@digest`; an unchanged name or tag is kept from `name`."""
    result: list[str] = []
    for entry in _entries(ctx, path, doc, "images"):
        name = scalar_text(entry.get("name"))
        if not name:
            continue
        new_name = scalar_text(entry.get("newName")) or name
        digest, tag = scalar_text(entry.get("digest")), scalar_text(entry.get("newTag"))
        if digest:
            result.append(f"{name} -> {new_name}@{digest}")
        elif tag:
            result.append(f"{name} -> {new_name}:{tag}")
        elif new_name != name:
            result.append(f"{name} -> {new_name}")
        else:
            result.append(name)
    return result


def _helm_charts(ctx: DetectContext, path: str, doc: YMap) -> list[str]:
    """`name@version (repo)` for each helmCharts entry."""
    result: list[str] = []
    for entry in _entries(ctx, path, doc, "helmCharts"):
        name = scalar_text(entry.get("name"))
        if not name:
            continue
        text = f"{name}@{scalar_text(entry.get('version')) or '*'}"
        repo = scalar_text(entry.get("repo"))
        if repo:
            text += f" ({ctx.redact(repo, path)})"
        result.append(text)
    return result
