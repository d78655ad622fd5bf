"""Kubernetes detector: objects of multi-document manifests, List items, workload images, CronJob schedules."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.kubernetes import detect_manifests
from orchestrator_kit.repo import FileText, Workspace

from .conftest import scanner

APP = """\
# the web application
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  template:
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/web:1.4.2
      containers:
        - name: web
          image: ghcr.io/acme/web:1.4.2
        - name: proxy
          image: envoyproxy/envoy:v1.30
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - port: 80
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-report
spec:
  schedule: "30 2 * * 1-5"
  timeZone: Europe/Paris
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: report
              image: ghcr.io/acme/report:2.0
              command: ["python", "-m", "report"]
              args: ["--since", "1d"]
          restartPolicy: OnFailure
"""

scan = scanner("kubernetes")


def by_name(inventory):
    return {item.name: item for item in inventory.infrastructure}


def test_multi_document_manifest(make_repo):
    inventory = scan(make_repo, {"k8s/app.yaml": APP})
    items = by_name(inventory)
    assert list(items) == ["Deployment/web", "Service/web", "CronJob/nightly-report"]
    deployment = items["Deployment/web"]
    assert deployment.kind == "kubernetes"
    assert deployment.attributes == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": "shop",
        "images": ["ghcr.io/acme/web:1.4.2", "envoyproxy/envoy:v1.30"],
        "init_images": ["ghcr.io/acme/web:1.4.2"],
        "replicas": "3",
    }
    assert (deployment.evidence.line_start, deployment.evidence.line_end) == (2, 18)
    assert items["Service/web"].attributes == {"apiVersion": "v1", "kind": "Service", "namespace": "shop"}
    assert (items["Service/web"].evidence.line_start, items["Service/web"].evidence.line_end) == (20, 27)
    cron = items["CronJob/nightly-report"]
    assert cron.attributes["images"] == ["ghcr.io/acme/report:2.0"]
    assert cron.attributes["schedule"] == "30 2 * * 1-5"
    assert "namespace" not in cron.attributes
    assert (cron.evidence.line_start, cron.evidence.line_end) == (29, 45)

    [schedule] = inventory.schedules
    assert schedule.source == "kubernetes-cronjob"
    assert schedule.expression == "30 2 * * 1-5"
    assert schedule.explanation == "at 02:30 on Monday to Friday"
    assert schedule.timezone == "Europe/Paris"
    assert schedule.target == "CronJob/nightly-report: python -m report --since 1d"
    assert (schedule.evidence.line_start, schedule.evidence.line_end) == (34, 34)
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("kind", "pod_path", "expected_images"),
    [
        ("Pod", "spec", ["busybox:1.36"]),
        ("Job", "spec.template.spec", ["busybox:1.36"]),
        ("StatefulSet", "spec.template.spec", ["busybox:1.36"]),
        ("DaemonSet", "spec.template.spec", ["busybox:1.36"]),
        ("ReplicaSet", "spec.template.spec", ["busybox:1.36"]),
        ("Rollout", "spec.template.spec", ["busybox:1.36"]),
        ("Service", "spec.template.spec", None),  # not a workload: no images reported
    ],
)
def test_workload_images(make_repo, kind, pod_path, expected_images):
    lines = [f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\n"]
    indent = ""
    for part in pod_path.split("."):
        lines.append(f"{indent}{part}:\n")
        indent += "  "
    lines.append(f"{indent}containers:\n{indent}  - name: c\n{indent}    image: busybox:1.36\n")
    item = by_name(scan(make_repo, {"manifests/x.yaml": "".join(lines)}))[f"{kind}/x"]
    assert item.attributes.get("images") == expected_images


def test_local_configuration_is_not_a_cluster_object(make_repo):
    blueprint = """\
apiVersion: blueprints.cloud.google.com/v1alpha1
kind: BlueprintMetadata
metadata:
  name: terraform-google-kubernetes-engine
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  info:
    title: Kubernetes Engine
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    config.kubernetes.io/local-config: 'false'
---
apiVersion: fn.kpt.dev/v1alpha1
kind: SetLabels
metadata:
  name: labels
  annotations: {config.kubernetes.io/local-config: "True"}
---
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: package
"""
    inventory = scan(make_repo, {"deploy/metadata.yaml": blueprint})
    assert list(by_name(inventory)) == ["ConfigMap/settings"]  # annotated "false": applied like any other


def test_list_kind_items(make_repo):
    text = """\
    apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
      - apiVersion: v1
        kind: Secret
        metadata:
          name: creds
        stringData:
          password: hunter2
      - not-an-object
    """
    items = by_name(scan(make_repo, {"deploy/list.yaml": text}))
    assert list(items) == ["ConfigMap/settings", "Secret/creds"]
    assert (items["Secret/creds"].evidence.line_start, items["Secret/creds"].evidence.line_end) == (8, 13)
    assert "hunter2" not in str(items["Secret/creds"].attributes)


@pytest.mark.parametrize(
    ("schedule_lines", "expression", "explanation", "timezone", "reason"),
    [
        ('schedule: "0 * * * *"', "0 * * * *", "every hour at minute 0", "controller's local time (usually UTC)",
         None),
        ("schedule: '@daily'", "@daily", "at 00:00 every day", "controller's local time (usually UTC)", None),
        ('schedule: "CRON_TZ=UTC 0 3 * * *"', "CRON_TZ=UTC 0 3 * * *", "at 03:00 every day", "UTC",
         "rejected since Kubernetes 1.27"),
        ('schedule: "61 * * * *"', "61 * * * *", "invalid cron expression", "controller's local time (usually UTC)",
         "invalid schedule"),
        ('schedule: "*/5 * * * *"\n  suspend: true', "*/5 * * * *", "every 5 minutes (suspended: spec.suspend is true)",
         "controller's local time (usually UTC)", None),
        # kubectl reads manifests with go-yaml v2 (YAML 1.1): a plain `suspend: yes` is true, a quoted one is not a bool
        ('schedule: "*/5 * * * *"\n  suspend: yes', "*/5 * * * *", "every 5 minutes (suspended: spec.suspend is true)",
         "controller's local time (usually UTC)", None),
        ('schedule: "*/5 * * * *"\n  suspend: "yes"', "*/5 * * * *", "every 5 minutes",
         "controller's local time (usually UTC)", None),
        # go-yaml v2's booleans include y/Y and n/N (resolve.go), which PyYAML's do not
        ('schedule: "*/5 * * * *"\n  suspend: Y', "*/5 * * * *", "every 5 minutes (suspended: spec.suspend is true)",
         "controller's local time (usually UTC)", None),
        ('schedule: "*/5 * * * *"\n  suspend: "y"', "*/5 * * * *", "every 5 minutes",
         "controller's local time (usually UTC)", None),
        ('schedule: "*/5 * * * *"\n  suspend: n', "*/5 * * * *", "every 5 minutes",
         "controller's local time (usually UTC)", None),
    ],
)
def test_cronjob_schedules(make_repo, schedule_lines, expression, explanation, timezone, reason):
    text = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: tick\nspec:\n"
        f"  {schedule_lines}\n"
        "  jobTemplate:\n    spec:\n      template:\n        spec:\n"
        "          containers:\n            - name: c\n              image: alpine:3\n"
    )
    inventory = scan(make_repo, {"k8s/cron.yaml": text})
    [schedule] = inventory.schedules
    assert schedule.expression == expression
    assert schedule.explanation == explanation
    assert schedule.timezone == timezone
    assert schedule.target == "CronJob/tick: image alpine:3"  # no command: the image's entrypoint runs
    assert schedule.evidence.line_start == 6
    if reason is None:
        assert inventory.diagnostics == []
    else:
        assert any(reason in d.reason and d.line == 6 for d in inventory.diagnostics), inventory.diagnostics


def test_cronjob_without_schedule(make_repo):
    text = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: tick\nspec:\n  jobTemplate: {}\n"
    inventory = scan(make_repo, {"k8s/cron.yaml": text})
    assert inventory.schedules == []
    assert [d.reason for d in inventory.diagnostics] == ["CronJob 'tick' has no spec.schedule string"]
    assert list(by_name(inventory)) == ["CronJob/tick"]


def test_helm_templates_are_not_parsed(make_repo):
    template = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: {{ include "app.fullname" . }}
    spec:
      {{- if .Values.replicas }}
      replicas: {{ .Values.replicas }}
      {{- end }}
    """
    inventory = scan(make_repo, {
        "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        "charts/app/templates/deployment.yaml": template,
        "charts/app/templates/sub/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
        # Not in a chart: plain manifests in a folder that happens to be called templates.
        "deploy/templates/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    })
    assert [i.name for i in inventory.infrastructure] == ["Namespace/shop"]
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/deploy.yml",
        ".gitlab-ci.yml",
        ".circleci/config.yml",
        "docker-compose.yml",
        "compose.prod.yaml",
        "bitbucket-pipelines.yml",
        "azure-pipelines.yml",
        "Taskfile.yml",
        ".pre-commit-config.yaml",
        "mkdocs.yml",
        "pnpm-lock.yaml",
        "api/openapi.yaml",
        "swagger.yml",
        "overlays/prod/kustomization.yaml",
        "node_modules/pkg/deploy.yaml",
    ],
)
def test_non_kubernetes_files_are_skipped(make_repo, path):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nbroken: [\n"
    inventory = scan(make_repo, {path: text})
    assert inventory.infrastructure == []
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    "text",
    [
        # Backstage entities, kind cluster configs and kubeconfigs look like objects but are not applied.
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: shop\n",
        "apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nmetadata:\n  name: dev\n",
        "apiVersion: v1\nkind: Config\nmetadata:\n  name: admin\nusers: []\n",
        "apiVersion: skaffold/v4beta6\nkind: Config\nmetadata:\n  name: app\n",
    ],
)
def test_tool_configs_are_not_objects(make_repo, text):
    inventory = scan(make_repo, {"config/tool.yaml": text})
    assert inventory.infrastructure == []


@pytest.mark.parametrize(
    ("path", "text", "diagnosed"),
    [
        # Not obviously a manifest: a YAML error is none of our business.
        ("config/settings.yaml", "# apiVersion and kind of thing\nitems: [\n", False),
        ("app/values.yml", "description: which kind of apiVersion\nbad: : :\n", False),
        # Obviously a manifest: the error is reported with its line.
        ("deploy/app.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: [\n", True),
        ("k8s/base/svc.yml", "metadata:\n  kind: x\n  apiVersion: y\n a: b\n", True),
        ("ops/thing.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [x}\n", True),
    ],
)
def test_yaml_errors_only_for_manifests(make_repo, path, text, diagnosed):
    inventory = scan(make_repo, {path: text})
    assert inventory.infrastructure == []
    assert bool(inventory.diagnostics) is diagnosed
    if diagnosed:
        assert inventory.diagnostics[0].reason.startswith("invalid YAML")
        assert inventory.diagnostics[0].line is not None


def test_template_markers_are_named_in_the_error(make_repo):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .name }}-config\n"
    inventory = scan(make_repo, {"k8s/cm.yaml": text})
    assert len(inventory.diagnostics) == 1
    assert "template markers" in inventory.diagnostics[0].reason


def test_wrong_types_do_not_crash(make_repo):
    text = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: [web]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: odd
    spec:
      replicas: "2"
      template:
        spec:
          containers:
            name: not-a-list
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: weird
    spec:
      schedule: [0, 1]
      jobTemplate: [1]
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      generateName: worker-
    spec:
      containers:
        - image: 12
        - just-a-string
    ---
    - a list document
    ---
    plain scalar
    ---
    apiVersion: 1
    kind: 2
    metadata:
      name: 3
    """
    inventory = scan(make_repo, {"k8s/odd.yaml": text})
    items = by_name(inventory)
    # kind and apiVersion must be strings: `kind: 2` is not an object.
    assert list(items) == ["Deployment/odd", "CronJob/weird", "Pod/worker-*"]
    assert items["Deployment/odd"].attributes["replicas"] == "2"
    assert "images" not in items["Deployment/odd"].attributes
    assert items["Pod/worker-*"].attributes["images"] == ["12"]
    assert [d.reason for d in inventory.diagnostics] == ["CronJob 'weird' has no spec.schedule string"]


def test_empty_and_comment_only_files(make_repo):
    inventory = scan(make_repo, {"k8s/empty.yaml": "", "k8s/comment.yaml": "# apiVersion: v1\n# kind: Pod\n"})
    assert inventory.infrastructure == []
    assert inventory.diagnostics == []


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

SCALARS = ["apps/v1", "v1", "Deployment", "CronJob", "List", "Pod", "web", "*/5 * * * *", "CRON_TZ=UTC 0 1 * * *",
           "nginx:1", "Config", "backstage.io/v1"]
KEYS = ["apiVersion", "kind", "metadata", "name", "generateName", "namespace", "spec", "items", "replicas",
        "template", "jobTemplate", "containers", "initContainers", "image", "command", "args", "schedule",
        "timeZone", "suspend"]


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


# Objects with a real kind and a random spec reach the workload and CronJob code; random maps reach the rest.
OBJECTS = st.fixed_dictionaries({
    "apiVersion": st.sampled_from(["v1", "apps/v1", "batch/v1"]),
    "kind": st.sampled_from(["Deployment", "CronJob", "Pod", "List", "Job"]),
    "metadata": st.fixed_dictionaries({"name": st.sampled_from(["x", "y"])}),
    "spec": yaml_documents(KEYS),
    "items": yaml_documents(KEYS),
})


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(st.one_of(OBJECTS, st.dictionaries(st.sampled_from(KEYS), yaml_documents(KEYS), max_size=6)),
                     max_size=3))
def test_any_shape_never_raises(tmp_path, docs):
    run_direct(tmp_path, detect_manifests, "k8s/x.yaml", yaml.safe_dump_all(docs) + "# apiVersion kind\n")


def test_a_crd_whose_enum_lists_an_equals_sign_is_an_object(make_repo):
    # PyYAML reads a plain `=` as YAML 1.1's "value" type and cannot construct it: the whole file was "invalid YAML"
    # (kube-prometheus's AlertmanagerConfig CRD: `enum: ['!=', =, =~, '!~']`)
    text = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
            "  name: matchers.example.com\nspec:\n  enum:\n  - '!='\n  - =\n  - =~\n")
    inventory = scan(make_repo, {"manifests/crd.yaml": text})
    assert list(by_name(inventory)) == ["CustomResourceDefinition/matchers.example.com"]
    assert inventory.diagnostics == []


def test_a_workload_whose_spec_holds_a_plain_shift_operator_is_an_object(make_repo):
    # A plain `<<` anywhere but as a key was YAML 1.1's merge type, which PyYAML cannot build there: "invalid YAML"
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: calc\nspec:\n  template:\n    spec:\n"
            "      containers:\n      - name: calc\n        image: calc:1\n        args: [--op, <<]\n")
    inventory = scan(make_repo, {"k8s/calc.yaml": text})
    assert by_name(inventory)["Deployment/calc"].attributes["images"] == ["calc:1"]
    assert inventory.diagnostics == []


def test_values_never_read_are_not_built_and_a_bad_value_read_is_reported(make_repo):
    # A CRD's schema is never read: a value in it that cannot be built does not hide the object. A Deployment's
    # spec is read: the same value there is reported as invalid YAML, and the documents before it are kept.
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n"
           "spec:\n  versions:\n  - schema:\n      maximum: !!int many\n")
    apps = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n"
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: !!int many\n")
    inventory = scan(make_repo, {"k8s/crd.yaml": crd, "k8s/apps.yaml": apps})
    assert sorted(by_name(inventory)) == ["CustomResourceDefinition/a.example.com", "Service/web"]
    assert [(d.path, d.line, d.reason) for d in inventory.diagnostics] == [
        ("k8s/apps.yaml", 11, "invalid YAML: a value tagged !!int is not an integer (line 11)")]


def test_a_bad_value_read_is_reported_at_its_own_line_not_at_one_never_read(make_repo):
    # The CRD's schema (never read) holds a value that cannot be built, and so does the Deployment's spec (read):
    # the diagnostic is the spec's line. It was the schema's: the error was looked for from the top of the stream.
    text = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n"
            "spec:\n  maximum: !!int many\n---\n"
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: !!int lots\n")
    inventory = scan(make_repo, {"k8s/all.yaml": text})
    assert sorted(by_name(inventory)) == ["CustomResourceDefinition/a.example.com"]
    assert [(d.path, d.line, d.reason) for d in inventory.diagnostics] == [
        ("k8s/all.yaml", 13, "invalid YAML: a value tagged !!int is not an integer (line 13)")]
