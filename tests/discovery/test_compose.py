"""Compose detector: services with image, build, depends_on, ports, profiles, healthcheck, restart."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.compose import detect_compose
from orchestrator_kit.repo import FileText, Workspace

from .conftest import scanner

COMPOSE = """\
name: shop
x-defaults: &defaults
  restart: unless-stopped
  env_file: .env

services:
  web:
    <<: *defaults
    build: ./web
    ports:
      - "8080:80"
      - 9000
      - target: 443
        published: "8443"
        host_ip: 127.0.0.1
        protocol: tcp
    depends_on:
      - api
      - cache

  api:
    build:
      context: ./services/api
      dockerfile: docker/Dockerfile.prod
      target: runtime
    image: registry.example.com/shop/api:${TAG:-latest}
    command: ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
        restart: true
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
      interval: 10s
    deploy:
      restart_policy:
        condition: on-failure

  db:
    image: postgres:16
    healthcheck:
      test: ["CMD-SHELL", "pg_isready"]
    restart: always

  migrate:
    image: registry.example.com/shop/api:${TAG:-latest}
    profiles: [tools, ci]
    healthcheck:
      disable: true

  cache:
"""

scan = scanner("compose")


def by_name(inventory):
    return {item.name: item for item in inventory.infrastructure}


def test_services_and_their_facts(make_repo):
    inventory = scan(make_repo, {"deploy/compose.yaml": COMPOSE})
    services = by_name(inventory)
    assert list(services) == ["web", "api", "db", "migrate", "cache"]
    web = services["web"].attributes
    assert web["build_context"] == "./web"
    assert web["build_dockerfile"] == "Dockerfile"
    assert web["build_dockerfile_path"] == "deploy/web/Dockerfile"
    assert web["ports"] == ["8080:80", "9000", "127.0.0.1:8443:443/tcp"]
    assert web["depends_on"] == ["api", "cache"]
    assert "depends_on_conditions" not in web
    assert web["restart"] == "unless-stopped"  # from the merged anchor
    assert web["healthcheck"] == "no"
    assert "image" not in web

    api = services["api"].attributes
    assert api["image"] == "registry.example.com/shop/api:${TAG:-latest}"
    assert api["build_context"] == "./services/api"
    assert api["build_dockerfile"] == "docker/Dockerfile.prod"
    assert api["build_dockerfile_path"] == "deploy/services/api/docker/Dockerfile.prod"
    assert api["build_target"] == "runtime"
    assert api["depends_on"] == ["db", "migrate"]
    assert api["depends_on_conditions"] == ["db: service_healthy", "migrate: service_completed_successfully"]
    assert api["healthcheck"] == "yes"
    assert api["restart"] == "on-failure (deploy.restart_policy)"
    assert api["command"] == "gunicorn -b 0.0.0.0:8000 app:app"

    assert services["db"].attributes["restart"] == "always"
    assert services["db"].attributes["healthcheck"] == "yes"
    assert services["migrate"].attributes["profiles"] == ["tools", "ci"]
    assert services["migrate"].attributes["healthcheck"] == "no"
    assert services["cache"].attributes == {"healthcheck": "no"}

    spans = {name: (i.evidence.line_start, i.evidence.line_end) for name, i in services.items()}
    assert spans == {"web": (7, 19), "api": (21, 39), "db": (41, 45), "migrate": (47, 51), "cache": (53, 53)}
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("docker-compose.yml", True),
        ("docker-compose.yaml", True),
        ("compose.yml", True),
        ("compose.yaml", True),
        ("docker-compose.override.yml", True),
        ("ops/docker-compose.prod.yaml", True),
        ("compose.dev.yml", True),
        ("docker-compose.json", False),
        ("my-compose.yml", False),
        ("node_modules/x/docker-compose.yml", False),
    ],
)
def test_which_files_are_compose_files(make_repo, path, found):
    inventory = scan(make_repo, {path: "services:\n  app:\n    image: nginx\n"})
    assert [i.path for i in inventory.infrastructure] == ([path] if found else [])


def test_legacy_version_1_format(make_repo):
    text = "web:\n  build: .\n  links:\n    - redis\nredis:\n  image: redis:7\n"
    services = by_name(scan(make_repo, {"docker-compose.yml": text}))
    assert list(services) == ["web", "redis"]
    assert services["web"].attributes["build_context"] == "."
    assert services["web"].attributes["build_dockerfile_path"] == "Dockerfile"
    assert (services["redis"].evidence.line_start, services["redis"].evidence.line_end) == (5, 6)


def test_inline_and_remote_build_contexts(make_repo):
    text = """\
    services:
      inline:
        build:
          dockerfile_inline: |
            FROM alpine
      remote:
        build: https://github.com/org/repo.git#main
    """
    services = by_name(scan(make_repo, {"compose.yaml": text}))
    assert services["inline"].attributes["build_dockerfile"] == "(inline)"
    assert "build_dockerfile_path" not in services["inline"].attributes
    assert services["remote"].attributes["build_context"] == "https://github.com/org/repo.git#main"
    assert "build_dockerfile_path" not in services["remote"].attributes


def test_secrets_in_commands_are_redacted(make_repo):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = f"services:\n  job:\n    image: curlimages/curl\n    command: \"curl -H 'Authorization: token {token}' x\"\n"
    job = by_name(scan(make_repo, {"compose.yaml": text}))["job"]
    assert token not in job.attributes["command"]
    assert job.attributes["command"].startswith("curl -H 'Authorization: token [REDACTED")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("services: [web, db]\n", "'services' is not a mapping"),
        ("- web\n- db\n", "top level is not a mapping"),
        ("services:\n  web: nginx\n", "service 'web' is not a mapping"),
        ("services:\n  web:\n    image: [unclosed\n", "invalid YAML"),
        ("networks:\n  default: {}\n", "no 'services' mapping"),
    ],
)
def test_bad_compose_files(make_repo, text, reason):
    inventory = scan(make_repo, {"compose.yaml": text})
    assert any(reason in d.reason for d in inventory.diagnostics), inventory.diagnostics
    assert inventory.infrastructure == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x-common: &c\n  image: base\n",
        "include:\n  - other/compose.yaml\n",
    ],
)
def test_files_without_services_are_quiet(make_repo, text):
    inventory = scan(make_repo, {"compose.yaml": text})
    assert inventory.infrastructure == []
    assert inventory.diagnostics == []


def test_odd_value_types(make_repo):
    text = """\
    services:
      web:
        image: 42
        ports: "8080:80"
        profiles: debug
        depends_on: db
        restart: 3
        healthcheck: yes
        build: {context: 7}
        command: [echo, 1, true]
    """
    web = by_name(scan(make_repo, {"compose.yaml": text}))["web"].attributes
    assert web["image"] == "42"
    assert web["ports"] == ["8080:80"]
    assert web["profiles"] == ["debug"]
    assert web["depends_on"] == ["db"]
    assert web["restart"] == "3"
    assert web["healthcheck"] == "no"
    assert web["build_context"] == "7"
    assert web["command"] == "echo 1 true"


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

SCALARS = ["nginx", "./app", "8080:80", "service_healthy", "always", "NONE", "."]
KEYS = ["services", "version", "image", "build", "context", "dockerfile", "dockerfile_inline", "depends_on",
        "condition", "ports", "target", "published", "host_ip", "protocol", "profiles", "healthcheck", "test",
        "disable", "restart", "deploy", "restart_policy", "command", "entrypoint", "web", "db", "x-common"]


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
@given(doc=st.dictionaries(st.sampled_from(KEYS), yaml_documents(KEYS), max_size=5))
def test_any_shape_never_raises(tmp_path, doc):
    run_direct(tmp_path, detect_compose, "compose.yaml", yaml.safe_dump(doc))


def test_unquoted_port_mappings_are_the_strings_compose_reads(make_repo):
    # YAML 1.1 (PyYAML's default) reads `22:22` as the base-60 number 1342 and `5:30` as 330; Compose reads strings
    text = "services:\n  ssh:\n    image: sshd\n    ports:\n      - 22:22\n      - 5:30\n      - 8080:80\n"
    ssh = by_name(scan(make_repo, {"compose.yaml": text}))["ssh"].attributes
    assert ssh["ports"] == ["22:22", "5:30", "8080:80"]


@pytest.mark.parametrize(
    ("disable", "healthcheck"),
    [("yes", "no"), ("'yes'", "no"), ("on", "no"), ("Y", "no"), ('"TRUE"', "no"), ("true", "no"),
     ("no", "yes"), ("off", "yes"), ("'false'", "yes"), ("maybe", "yes")],
)
def test_healthcheck_disable_is_read_as_compose_casts_it(make_repo, disable, healthcheck):
    # compose-go casts healthcheck.disable with toBoolean (loader/interpolate.go): y/yes/on/true in any casing,
    # quoted or not, turn the check off; go-yaml v3 gave it the plain `yes` as a string
    text = f"services:\n  web:\n    image: nginx\n    healthcheck:\n      disable: {disable}\n"
    [web] = scan(make_repo, {"compose.yaml": text}).infrastructure
    assert web.attributes["healthcheck"] == healthcheck
