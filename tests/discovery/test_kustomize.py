"""Kustomize detector: resources, bases, components, images, namespace, patches, helmCharts."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.kustomize import detect_kustomization
from orchestrator_kit.repo import FileText, Workspace

from .conftest import scanner

OVERLAY = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop-prod
namePrefix: prod-
resources:
  - ../../base
  - ingress.yaml
  - https://github.com/acme/infra//monitoring?ref=v1.2.0
components:
  - ../../components/tls
images:
  - name: ghcr.io/acme/web
    newTag: "1.4.2"
  - name: nginx
    newName: registry.example.com/mirror/nginx
    newTag: 1.27-alpine
  - name: redis
    digest: sha256:24a8d0c1e1ab
  - name: envoy
    newName: registry.example.com/envoy
  - name: unchanged
patches:
  - path: replicas.yaml
  - target:
      kind: Deployment
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 3
patchesStrategicMerge:
  - memory.yaml
patchesJson6902:
  - target: {kind: Service, name: web}
    path: svc.json
helmCharts:
  - name: cert-manager
    repo: https://charts.jetstack.io
    version: v1.14.0
    releaseName: cm
  - name: local-chart
"""

scan = scanner("kustomize")


def test_overlay(make_repo):
    inventory = scan(make_repo, {"overlays/prod/kustomization.yaml": OVERLAY})
    [item] = inventory.infrastructure
    assert item.kind == "kustomization"
    assert item.name == "overlays/prod"
    assert item.attributes == {
        "kind": "Kustomization",
        "namespace": "shop-prod",
        "namePrefix": "prod-",
        "resources": ["../../base", "ingress.yaml", "https://github.com/acme/infra//monitoring?ref=v1.2.0"],
        "components": ["../../components/tls"],
        "images": [
            "ghcr.io/acme/web -> ghcr.io/acme/web:1.4.2",
            "nginx -> registry.example.com/mirror/nginx:1.27-alpine",
            "redis -> redis@sha256:24a8d0c1e1ab",
            "envoy -> registry.example.com/envoy",
            "unchanged",
        ],
        "patches": "4",  # 2 patches + 1 strategic merge + 1 JSON 6902
        "helmCharts": ["cert-manager@v1.14.0 (https://charts.jetstack.io)", "local-chart@*"],
    }
    assert (item.evidence.line_start, item.evidence.line_end) == (1, 40)
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    "path", ["kustomization.yaml", "base/kustomization.yml", "legacy/Kustomization"],
)
def test_file_names(make_repo, path):
    inventory = scan(make_repo, {path: "bases:\n  - ../common\n"})
    [item] = inventory.infrastructure
    assert item.attributes["bases"] == ["../common"]
    assert item.attributes["patches"] == "0"
    assert item.name == (path.rsplit("/", 1)[0] if "/" in path else ".")


def test_component_kind(make_repo):
    text = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: tls.yaml\n"
    [item] = scan(make_repo, {"components/tls/kustomization.yaml": text}).infrastructure
    assert item.attributes["kind"] == "Component"
    assert item.attributes["patches"] == "1"


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ("", "empty kustomization", 1),
        ("- a\n", "not a mapping", 1),
        ("resources: ../base\n", "'resources' is not a list", 1),
        ("namespace: x\nimages: {name: nginx}\n", "'images' is not a list", 2),
        ("patches: replicas.yaml\n", "'patches' is not a list", 1),
        ("helmCharts: 3\n", "'helmCharts' is not a list", 1),
        ("resources: [\n", "invalid YAML", 2),
    ],
)
def test_bad_kustomizations(make_repo, text, reason, line):
    inventory = scan(make_repo, {"kustomization.yaml": text})
    assert any(reason in d.reason and d.line == line for d in inventory.diagnostics), inventory.diagnostics


def test_odd_entries_are_skipped(make_repo):
    text = "images:\n  - nginx\n  - {newTag: x}\n  - name: 5\n    newTag: 6\nresources:\n  - 1\n  - [x]\n"
    [item] = scan(make_repo, {"kustomization.yaml": text}).infrastructure
    assert item.attributes["images"] == ["5 -> 5:6"]
    assert item.attributes["resources"] == ["1"]


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

SCALARS = ["../base", "nginx", "1.2.3", "sha256:abc", "prod"]
KEYS = ["resources", "bases", "components", "namespace", "namePrefix", "nameSuffix", "images", "name",
        "newName", "newTag", "digest", "patches", "patchesStrategicMerge", "patchesJson6902", "helmCharts",
        "repo", "version", "kind"]


def yaml_documents(keys):
    """Random YAML built from the format's own keys, with values of every type in every place."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6),
                        st.sampled_from(SCALARS))
    values = st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=3),
                                   st.dictionaries(st.sampled_from(keys), children, max_size=4)),
        max_leaves=25,
    )
    return values


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=yaml_documents(KEYS))
def test_any_shape_never_raises(tmp_path, doc):
    run_direct(tmp_path, detect_kustomization, "kustomization.yaml", yaml.safe_dump(doc))
