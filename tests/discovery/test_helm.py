"""Helm detector: Chart.yaml facts, dependencies, template kinds (regex, no YAML parse), values file."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.helm import detect_chart
from orchestrator_kit.repo import FileText, Workspace
from tests.conftest import errors_of, run_detectors

from .conftest import scanner

CHART = """\
apiVersion: v2
name: shop
description: The shop, on Kubernetes
type: application
version: 1.2.3
appVersion: "4.5.6"
dependencies:
  - name: postgresql
    version: 15.x.x
    repository: oci://registry-1.docker.io/bitnamicharts
    condition: postgresql.enabled
  - name: common
    version: "2.0.0"
    repository: https://charts.example.com
    alias: lib
  - name: local-sub
"""

DEPLOYMENT = """\
{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shop.fullname" . }}
spec:
  template:
    spec:
      serviceAccountName: {{ .Values.sa }}
---
kind: "Service"
{{- end }}
"""

RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
roleRef:
  kind: Role
subjects:
  - kind: ServiceAccount
"""

scan = scanner("helm")


def test_chart_with_dependencies_templates_and_values(make_repo):
    inventory = scan(make_repo, {
        "charts/shop/Chart.yaml": CHART,
        "charts/shop/values.yaml": "replicas: 2\n",
        "charts/shop/templates/deployment.yaml": DEPLOYMENT,
        "charts/shop/templates/rbac/binding.yml": RBAC,
        "charts/shop/templates/_helpers.tpl": "kind: NotAKind\n",
        "charts/shop/templates/NOTES.txt": "kind: AlsoNot\n",
        "charts/other/templates/x.yaml": "kind: ConfigMap\n",
    })
    [chart] = inventory.infrastructure
    assert chart.kind == "helm-chart"
    assert chart.name == "shop"
    assert chart.path == "charts/shop/Chart.yaml"
    assert chart.attributes == {
        "apiVersion": "v2",
        "version": "1.2.3",
        "appVersion": "4.5.6",
        "description": "The shop, on Kubernetes",
        "type": "application",
        "dependencies": [
            "postgresql@15.x.x (oci://registry-1.docker.io/bitnamicharts)",
            "common@2.0.0 (https://charts.example.com)",
            "local-sub@*",
        ],
        # Top-level kinds only (roleRef.kind and subjects[].kind are nested), files in sorted order.
        "templates": ["Deployment", "Service", "RoleBinding"],
        "template_files": "2",
        "values_file": "yes",
    }
    assert (chart.evidence.line_start, chart.evidence.line_end) == (1, 16)
    assert inventory.diagnostics == []


def test_root_chart_without_values_or_templates(make_repo):
    [chart] = scan(make_repo, {"Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n"}).infrastructure
    assert chart.attributes["type"] == "library"
    assert chart.attributes["templates"] == []
    assert chart.attributes["values_file"] == "no"
    assert "dependencies" not in chart.attributes


def test_helm2_requirements_file(make_repo):
    inventory = scan(make_repo, {
        "chart/Chart.yaml": "apiVersion: v1\nname: old\nversion: 0.0.1\n",
        "chart/requirements.yaml": "dependencies:\n  - name: redis\n    version: ~10.5.0\n"
                                   "    repository: '@stable'\n",
    })
    [chart] = inventory.infrastructure
    assert chart.attributes["apiVersion"] == "v1"
    assert chart.attributes["type"] == "application"
    assert chart.attributes["dependencies"] == ["redis@~10.5.0 (@stable)"]


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ("version: 1.0.0\n", "has no 'name'", 1),
        ("name: x\n", "has no 'version'", 1),
        ("- a\n- b\n", "not a mapping", 1),
        ("", "not a mapping", 1),
        ("name: x\nversion: 1\ndependencies: postgresql\n", "'dependencies' is not a list", 3),
        ("name: x\nversion: 1\ndependencies:\n  - postgresql\n", "dependency without a 'name'", 4),
        ("name: [x\n", "invalid YAML", 2),  # the parser notices at the end of input
    ],
)
def test_bad_charts(make_repo, text, reason, line):
    inventory = scan(make_repo, {"Chart.yaml": text})
    assert any(reason in d.reason and d.line == line for d in inventory.diagnostics), inventory.diagnostics


def test_name_falls_back_to_folder_and_numbers_are_text(make_repo):
    inventory = scan(make_repo, {"deploy/api/Chart.yaml": "version: 1.10\nappVersion: 2\n"})
    [chart] = inventory.infrastructure
    assert chart.name == "api"
    assert chart.attributes["version"] == "1.1"  # YAML reads 1.10 as a float: Helm requires quoting it
    assert chart.attributes["appVersion"] == "2"


def test_vendored_charts_are_skipped(make_repo):
    inventory = scan(make_repo, {"node_modules/x/Chart.yaml": "name: x\nversion: 1.0.0\n"})
    assert inventory.infrastructure == []


def test_bad_requirements_file(make_repo):
    inventory = scan(make_repo, {
        "Chart.yaml": "name: x\nversion: 1.0.0\n",
        "requirements.yaml": "dependencies: [\n",
    })
    assert len(inventory.infrastructure) == 1
    assert any(d.path == "requirements.yaml" and "invalid YAML" in d.reason for d in inventory.diagnostics)


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

SCALARS = ["v2", "app", "1.0.0", "library", "https://charts.example.com"]
KEYS = ["apiVersion", "name", "version", "appVersion", "type", "description", "dependencies", "repository",
        "alias", "condition"]


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
    run_direct(tmp_path, detect_chart, "Chart.yaml", yaml.safe_dump(doc))


CRONJOB_TEMPLATE = """\
{{- if .Values.reindex.enabled }}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ .Release.Name }}-reindex
spec:
  schedule: {{ .Values.reindex.schedule | quote }}
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: reindex
              args: ["reindex", "--all"]
{{- end }}
"""


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ("reindex:\n  enabled: true\n  # nightly\n  schedule: \"30 3 * * *\"\n", [("30 3 * * *", 4)]),
        ("reindex:\n  enabled: true\n", []),  # no default: a release must set it
        ("reindex: [not, a, mapping]\n", []),
    ],
)
def test_a_cronjob_schedule_from_values_is_a_schedule(make_repo, values, expected):
    root = make_repo({"chart/Chart.yaml": "apiVersion: v2\nname: search\nversion: 1.0.0\n",
                      "chart/templates/cron.yaml": CRONJOB_TEMPLATE, "chart/values.yaml": values})
    inventory = run_detectors(root, "helm")
    assert errors_of(inventory) == []
    found = [(s.expression, s.evidence.line_start) for s in inventory.schedules]
    assert found == expected
    for schedule in inventory.schedules:
        assert schedule.evidence.path == "chart/values.yaml" and schedule.source == "kubernetes-cronjob"
        assert "reindex --all" not in schedule.target or ".Values.reindex.schedule" in schedule.target
        assert "chart's default" in schedule.explanation
