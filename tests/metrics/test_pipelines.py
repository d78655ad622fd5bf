"""Pipeline metrics from a scanned Inventory; expected numbers worked out by hand from the YAML below and the
assumed step minutes (checkout 0.5, setup 0.5, install 2, lint 1, test 5, build 3, deploy 3, command 0.5, job 0.5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator_kit import scan
from orchestrator_kit.metrics.pipelines import STEP_MINUTES, argument_differences, line_kind, pipeline_metrics
from orchestrator_kit.samples import build_sample_repo

CI = """\
name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  setup:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
  lint:
    needs: setup
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          cache: pip
      - run: |
          pip install -r requirements.txt
          ruff check .
  test:
    needs: setup
    runs-on: ${{ matrix.os }}
    timeout-minutes: 15
    strategy:
      matrix:
        python: ["3.11", "3.12"]
        os: [ubuntu-latest, macos-latest]
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: pytest -q
  build:
    needs: [lint, test]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: docker build -t app .
  deploy:
    needs: build
    environment: production
    runs-on: ubuntu-latest
    steps:
      - run: kubectl apply -f k8s/
  orphan:
    needs: [missing-job]
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
"""
CYCLE = """\
name: Cycle
on:
  schedule:
    - cron: "0 3 * * 1-5"
concurrency: cycle
jobs:
  a:
    needs: b
    runs-on: ubuntu-latest
    steps:
      - run: make a
  b:
    needs: a
    runs-on: ubuntu-latest
    steps:
      - run: make b
"""
GITLAB = """\
stages: [build, deploy]
build_job:
  stage: build
  script:
    - make build
deploy_prod:
  stage: deploy
  when: manual
  allow_failure: false
  script:
    - make deploy
"""


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipes")
    for rel, text in {".github/workflows/ci.yml": CI, ".github/workflows/cycle.yml": CYCLE,
                      ".gitlab-ci.yml": GITLAB, "ops/crontab": "*/15 * * * * /usr/local/bin/sync.sh\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return pipeline_metrics(scan(root))


def graph(metrics, name):
    return next(g for g in metrics.pipelines if g.name == name)


def test_job_graph_critical_paths_and_width(metrics):
    ci = graph(metrics, "CI")
    assert ci.levels == [["setup", "orphan"], ["lint", "test"], ["build"], ["deploy"]]
    assert [(d.job, d.missing) for d in ci.dangling_needs] == [("orphan", "missing-job")]
    assert ci.cycles == []
    assert ci.critical_path == ["setup", "lint", "build", "deploy"]  # 4 jobs; lint and test tie, lint is first
    minutes = {j.id: j.minutes for j in ci.job_estimates}
    assert minutes == {"setup": 3.0, "lint": 4.5, "test": 8.0, "build": 4.0, "deploy": 3.5, "orphan": 1.0}
    assert ci.critical_path_by_minutes == ["setup", "test", "build", "deploy"]
    assert ci.critical_path_minutes == 18.5  # 3 + 8 + 4 + 3.5
    assert (ci.jobs, ci.instances) == (6, 9)  # test's matrix runs 4 instances
    assert (ci.max_parallel_width, ci.max_parallel_instances) == (2, 5)  # level 1: lint + 4 x test
    assert ci.concurrency_control == "none"
    cycle = graph(metrics, "Cycle")
    assert cycle.cycles == ["a", "b"] and cycle.critical_path == [] and cycle.concurrency_control == "pipeline"


def test_step_kinds_of_a_job(metrics):
    lint = next(j for j in graph(metrics, "CI").job_estimates if j.id == "lint")
    assert lint.step_kinds == {"checkout": 1, "setup": 1, "install": 1, "lint": 1}
    assert lint.minutes == 0.5 + STEP_MINUTES["checkout"] + STEP_MINUTES["setup"] + STEP_MINUTES["install"] + 1.0


def test_findings(metrics):
    ci_id = "github-actions:.github/workflows/ci.yml"
    assert [(m.pipeline, m.job, m.fan_out, m.dimensions) for m in metrics.matrices] == [
        (ci_id, "test", 4, {"python": 2, "os": 2})]
    no_timeout = {(j.pipeline.split(":")[0], j.job, j.note) for j in metrics.jobs_without_timeout}
    assert no_timeout == {
        *(("github-actions", job, "the default applies: 360 minutes")
          for job in ("setup", "lint", "build", "deploy", "orphan", "a", "b")),
        ("gitlab-ci", "build_job", "the default applies: 60 minutes"),
    }  # test has a timeout; the manual deploy_prod waits for a person
    assert ci_id in metrics.pipelines_without_concurrency
    assert "github-actions:.github/workflows/cycle.yml" not in metrics.pipelines_without_concurrency
    assert [(m.job, m.install_commands, m.instances) for m in metrics.missing_caches] == [
        ("setup", ["pip install -r requirements.txt"], 1), ("test", ["pip install -r requirements.txt"], 4)]
    [repeated] = metrics.repeated_steps
    assert (repeated.command, repeated.kind, repeated.instances) == ("pip install -r requirements.txt", "install", 6)
    assert repeated.jobs == [f"{ci_id}/{j}" for j in ("lint", "setup", "test")]
    gates = {(g.job, g.kind, g.blocking) for g in metrics.manual_gates}
    assert gates == {("deploy_prod", "manual-job", True), ("deploy", "environment", None)}
    deploys = {(d.job, d.environment, d.on_tags, tuple(d.on_push_branches)) for d in metrics.deploy_signals}
    assert ("deploy", "production", False, ("main",)) in deploys


def test_schedules_with_runs_per_year(metrics):
    runs = {s.expression: s.runs_per_year for s in metrics.schedules}
    # Weekdays of a 365-day year that starts on a Monday: 52 x 5 + 1; every 15 minutes: 4 x 24 x 365.
    assert runs == {"0 3 * * 1-5": 261, "*/15 * * * *": 35040}


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("pip install -e '.[dev]'", "install"), ("npm ci", "install"), ("yarn", "install"), ("go mod download", "install"),
        ("pytest -q tests", "test"), ("make test", "test"), ("npm run test", "test"), ("go test ./...", "test"),
        ("docker build -t x .", "build"), ("make docker-build VERSION=1", "build"), ("npm run build", "build"),
        ("kubectl apply -f k8s/", "deploy"), ("helm upgrade --install x .", "deploy"), ("make deploy ENV=prod", "deploy"),
        ("make docker-push", "deploy"), ("terraform apply -auto-approve", "deploy"),
        ("ruff check .", "lint"), ("make lint", "lint"), ("echo done", "command"), ("cd src && ls", "command"),
    ],
)
def test_line_kinds(line, kind):
    assert line_kind(line) == kind


@pytest.mark.parametrize(
    ("by_hand", "in_ci", "differences"),
    [
        ("make deploy ENV=production", "make deploy ENV=staging", ["ENV: 'production' by hand, 'staging' in CI"]),
        ("make push VERSION=v1.4.0", "make push VERSION=${GITHUB_REF_NAME}", []),  # a CI parameter matches any value
        ("make push VERSION=v1", "make push", []),  # CI leaves it to the default: not a literal difference
    ],
)
def test_argument_differences(by_hand, in_ci, differences):
    assert argument_differences(by_hand, in_ci) == differences


def test_the_sample_repository(tmp_path):
    sample = Path(__file__).resolve().parents[2] / "evals" / "repos" / "acme-shop"
    root = build_sample_repo(sample, tmp_path / "acme").path
    metrics = pipeline_metrics(scan(root))
    ci = graph(metrics, "CI")
    # lint 0.5+0.5+0.5+2+1 = 4.5, test 0.5+0.5+0.5+2+5 = 8.5, build-image 0.5+0.5+3 = 4, deploy-staging 0.5+0.5+3 = 4
    assert ci.critical_path == ["lint", "test", "build-image", "deploy-staging"] and ci.critical_path_minutes == 21.0
    assert [(m.pipeline.rsplit("/", 1)[-1], m.job, m.instances) for m in metrics.missing_caches] == [
        ("ci.yml", "test", 2), ("nightly.yml", "integration", 1)]  # lint has setup-python's `cache: pip`
    duplicates = [(d.step_command, d.automation.rsplit("/", 1)[-1], d.same_arguments) for d in
                  metrics.procedure_duplicates]
    assert duplicates == [
        ("make docker-build VERSION=v1.4.0", "publish", True),
        ("make docker-push VERSION=v1.4.0", "publish", True),
        ("make deploy ENV=production VERSION=v1.4.0", "deploy-staging", False),  # CI deploys staging only
    ]
    assert {(d.job, d.on_tags) for d in metrics.deploy_signals} == {("deploy-staging", False), ("publish", True)}
    shutil.rmtree(root)


def test_a_long_chain_a_self_need_and_unknown_needs(tmp_path):
    jobs = "".join(
        f"  j{i}:\n    runs-on: x\n" + (f"    needs: j{i - 1}\n" if i else "") + "    steps:\n      - run: make test\n"
        for i in range(300)
    )
    jobs += "  selfish:\n    needs: selfish\n    runs-on: x\n    steps:\n      - run: echo\n"
    jobs += "  lost:\n    needs: [nowhere, j0]\n    runs-on: x\n    steps:\n      - run: echo\n"
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "long.yml").write_text("on: push\njobs:\n" + jobs)
    [long] = pipeline_metrics(scan(tmp_path)).pipelines
    assert len(long.critical_path) == 300 and long.critical_path[0] == "j0" and long.critical_path[-1] == "j299"
    assert long.critical_path_minutes == 300 * (0.5 + 5.0)  # each job: overhead + one test command
    assert long.cycles == ["selfish"]
    assert [(d.job, d.missing) for d in long.dangling_needs] == [("lost", "nowhere")]
    assert long.max_parallel_width == 2  # j1 and lost both wait for j0 only


def test_an_inventory_without_pipelines(tmp_path):
    metrics = pipeline_metrics(scan(tmp_path))
    assert metrics.pipelines == [] and metrics.repeated_steps == [] and metrics.formulas
