"""GitHub Actions workflows and composite actions, in the forms people write them."""

from __future__ import annotations

import pytest

from ..conftest import errors_of, run_detectors


def only_pipeline(root):
    inventory = run_detectors(root, "github-actions", "github-actions-composite")
    assert errors_of(inventory) == []
    assert len(inventory.pipelines) == 1
    return inventory, inventory.pipelines[0]


@pytest.mark.parametrize(
    ("on", "events", "kinds"),
    [
        ("on: push", ["push"], ["push"]),
        ("on: [push, pull_request]", ["push", "pull_request"], ["push", "pull_request"]),
        ("on:\n  - workflow_dispatch\n  - release", ["workflow_dispatch", "release"], ["manual", "release"]),
        ("on:\n  push:\n    tags: ['v*']", ["push"], ["tag"]),
        ("on:\n  push:\n    branches: [main]\n    tags: ['v*']", ["push"], ["push"]),
        ("on:\n  workflow_call:\n  repository_dispatch:\n    types: [deploy]", ["workflow_call", "repository_dispatch"],
         ["reusable", "api"]),
        ('"on": pull_request_target', ["pull_request_target"], ["pull_request"]),
    ],
)
def test_on_as_string_list_or_map(make_repo, on, events, kinds):
    root = make_repo({".github/workflows/w.yml": f"{on}\njobs:\n  a:\n    runs-on: x\n    steps: [{{run: echo}}]\n"})
    _, pipeline = only_pipeline(root)
    assert [t.event for t in pipeline.triggers] == events
    assert [t.kind for t in pipeline.triggers] == kinds


def test_schedules_become_triggers_and_schedules(make_repo):
    root = make_repo(
        {
            ".github/workflows/nightly.yaml": """
            name: Nightly
            on:
              schedule:
                - cron: "0 2 * * *"
                - cron: '30 4 * * 1-5'
              workflow_dispatch:
                inputs:
                  dry_run:
                    type: boolean
            jobs:
              run:
                runs-on: ubuntu-latest
                steps:
                  - run: make nightly
            """
        }
    )
    inventory, pipeline = only_pipeline(root)
    assert [(t.kind, t.cron, t.evidence.line_start) for t in pipeline.triggers] == [
        ("schedule", "0 2 * * *", 4),
        ("schedule", "30 4 * * 1-5", 5),
        ("manual", None, 6),
    ]
    assert pipeline.triggers[2].filters == {"inputs": ["dry_run"]}
    assert [(s.expression, s.explanation, s.timezone, s.evidence.line_start) for s in inventory.schedules] == [
        ("0 2 * * *", "at 02:00 every day", "UTC", 4),
        ("30 4 * * 1-5", "at 04:30 on Monday to Friday", "UTC", 5),
    ]
    assert inventory.schedules[0].target == "workflow 'Nightly' (.github/workflows/nightly.yaml)"


def test_invalid_cron_is_a_diagnostic(make_repo):
    root = make_repo({".github/workflows/w.yml": "on:\n  schedule:\n    - cron: '61 * * * *'\njobs: {}\n"})
    inventory = run_detectors(root, "github-actions")
    assert any("invalid cron '61 * * * *'" in d.reason and d.line == 3 for d in inventory.diagnostics)


WORKFLOW = """\
name: CI
on: push
concurrency:
  group: ci-${{ github.ref }}
  cancel-in-progress: true
permissions:
  contents: read
jobs:
  lint:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - name: Lint
        run: npm run lint
  test:
    needs: lint
    runs-on: [self-hosted, linux]
    strategy:
      matrix:
        node: [18, 20, 22]
        os: [ubuntu, windows]
        exclude:
          - node: 18
            os: windows
        include:
          - node: 22
            os: ubuntu
            experimental: true
          - node: 23
            os: macos
    steps:
      - uses: actions/cache@v4
        with:
          path: |
            ~/.npm
            node_modules
          key: npm-${{ hashFiles('package-lock.json') }}
      - run: |
          npm ci
          npm test
        shell: bash
  deploy:
    needs: [lint, test]
    if: github.ref == 'refs/heads/main'
    runs-on:
      group: deployers
      labels: [linux]
    environment:
      name: production
      url: https://example.com
    permissions: write-all
    concurrency: deploy
    container: node:20
    continue-on-error: true
    steps:
      - run: make deploy
  reuse:
    needs: deploy
    uses: ./.github/workflows/notify.yml
"""


def test_jobs_in_detail(make_repo):
    root = make_repo({".github/workflows/ci.yml": WORKFLOW})
    _, pipeline = only_pipeline(root)
    assert pipeline.concurrency == "ci-${{ github.ref }} (cancel-in-progress)"
    assert pipeline.permissions == {"contents": "read"}
    lint, test, deploy, reuse = pipeline.jobs
    assert (lint.id, lint.needs, lint.needs_source, lint.runs_on, lint.timeout_minutes) == (
        "lint", [], "none", ["ubuntu-latest"], 10.0)
    assert [(s.kind, s.uses, s.command, s.name, s.evidence.line_start, s.evidence.line_end) for s in lint.steps] == [
        ("checkout", "actions/checkout@v4", None, None, 13, 13),
        ("uses", "actions/setup-node@v4", None, None, 14, 17),
        ("run", None, "npm run lint", "Lint", 18, 19),
    ]
    assert [(c.via, c.key) for c in lint.caches] == [("actions/setup-node@v4 (cache: npm)", "npm")]
    assert (lint.evidence.line_start, lint.evidence.line_end) == (9, 19)

    assert test.needs == ["lint"] and test.needs_source == "declared"
    assert test.runs_on == ["self-hosted", "linux"]
    # 3 x 2 = 6, minus (18, windows) = 5; (22, ubuntu) extends an existing job; (23, macos) adds one: 6.
    assert test.matrix is not None
    assert (test.matrix.fan_out, test.matrix.include, test.matrix.exclude) == (6, 2, 1)
    assert test.matrix.dimensions == {"node": ["18", "20", "22"], "os": ["ubuntu", "windows"]}
    assert [(c.via, c.paths) for c in test.caches] == [("actions/cache@v4", ["~/.npm", "node_modules"])]
    assert test.steps[1].command == "npm ci\nnpm test" and test.steps[1].shell == "bash"

    assert deploy.needs == ["lint", "test"]
    assert deploy.condition == "github.ref == 'refs/heads/main'"
    assert deploy.runs_on == ["group:deployers", "linux"]
    assert (deploy.environment, deploy.permissions, deploy.concurrency, deploy.image, deploy.allow_failure) == (
        "production", "write-all", "deploy", "node:20", True)
    assert reuse.uses == "./.github/workflows/notify.yml" and reuse.steps == []


def test_dynamic_matrix(make_repo):
    root = make_repo(
        {".github/workflows/m.yml": "on: push\njobs:\n  t:\n    strategy:\n      matrix: ${{ fromJSON(needs.a.outputs.m) }}\n"
                                    "    steps: [{run: echo}]\n"}
    )
    _, pipeline = only_pipeline(root)
    matrix = pipeline.jobs[0].matrix
    assert matrix is not None and matrix.dynamic and matrix.fan_out is None


def test_setup_go_caches_by_default_unless_turned_off(make_repo):
    root = make_repo(
        {
            ".github/workflows/go.yml": """
            on: push
            jobs:
              a:
                steps:
                  - uses: actions/setup-go@v5
              b:
                steps:
                  - uses: actions/setup-go@v5
                    with:
                      cache: false
            """
        }
    )
    _, pipeline = only_pipeline(root)
    assert [len(j.caches) for j in pipeline.jobs] == [1, 0]


def test_dangling_needs_and_bad_shapes_are_diagnostics(make_repo):
    root = make_repo(
        {
            ".github/workflows/w.yml": """
            on: push
            jobs:
              a:
                needs: ghost
                steps: [{run: echo}]
              b: [not, a, map]
            """,
            ".github/workflows/no-on.yml": "jobs:\n  a:\n    steps: []\n",
        }
    )
    inventory = run_detectors(root, "github-actions")
    assert errors_of(inventory) == []
    reasons = {(d.path, d.reason) for d in inventory.diagnostics}
    assert (".github/workflows/w.yml", "job 'a' needs 'ghost', which is not a job of this workflow") in reasons
    assert (".github/workflows/w.yml", "job 'b' is not a mapping") in reasons
    assert (".github/workflows/no-on.yml", "workflow has no 'on' trigger; GitHub will not run it") in reasons


def test_only_top_level_workflow_files(make_repo):
    root = make_repo(
        {
            ".github/workflows/sub/x.yml": "on: push\njobs: {}\n",
            ".github/workflows/README.md": "# docs",
            "ci/.github/workflows/y.yml": "on: push\njobs: {}\n",
        }
    )
    assert run_detectors(root, "github-actions").pipelines == []


def test_composite_action(make_repo):
    root = make_repo(
        {
            ".github/actions/setup/action.yml": """
            name: Setup toolchain
            description: Install tools
            runs:
              using: composite
              steps:
                - uses: actions/setup-python@v5
                  with:
                    python-version: "3.12"
                - run: pip install -r requirements.txt
                  shell: bash
            """,
            ".github/actions/js/action.yml": "name: JS\nruns:\n  using: node20\n  main: index.js\n",
        }
    )
    _, pipeline = only_pipeline(root)
    assert (pipeline.kind, pipeline.name, pipeline.path) == (
        "composite-action", "Setup toolchain", ".github/actions/setup/action.yml")
    assert [(s.kind, s.evidence.line_start) for s in pipeline.jobs[0].steps] == [("uses", 6), ("run", 9)]


@pytest.mark.parametrize(
    ("cancel", "concurrency"),
    [("true", "ci (cancel-in-progress)"), ("${{ github.ref != 'refs/heads/main' }}", "ci (cancel-in-progress)"),
     ("yes", "ci"), ("on", "ci"), ("'true'", "ci"), ("false", "ci")],
)
def test_cancel_in_progress_is_a_yaml_1_2_boolean_or_an_expression(make_repo, cancel, concurrency):
    # GitHub reads workflows as YAML 1.2: a plain `yes` or `on` is a string, which cancel-in-progress (a boolean
    # or an expression) does not take
    text = (f"on: push\nconcurrency:\n  group: ci\n  cancel-in-progress: {cancel}\n"
            "jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n")
    _, pipeline = only_pipeline(make_repo({".github/workflows/ci.yml": text}))
    assert pipeline.concurrency == concurrency


@pytest.mark.parametrize(
    ("uses", "setting", "cached"),
    [("actions/setup-go@v5", "cache: no", False),  # "no" to GitHub; getBooleanInput refuses it: the step fails
     ("actions/setup-go@v5", "cache: 'FALSE'", False), ("actions/setup-go@v5", "cache: TRUE", True),
     ("actions/setup-go@v5", "cache: ${{ inputs.cache }}", True),
     ("ruby/setup-ruby@v1", "bundler-cache: yes", False), ("ruby/setup-ruby@v1", "bundler-cache: 'True'", False),
     ("ruby/setup-ruby@v1", "bundler-cache: true", True),
     ("actions/setup-node@v4", "cache: npm", True), ("actions/setup-node@v4", "cache: false", False)],
)
def test_cache_inputs_are_read_as_each_action_reads_them(make_repo, uses, setting, cached):
    text = f"on: push\njobs:\n  a:\n    steps:\n      - uses: {uses}\n        with:\n          {setting}\n"
    _, pipeline = only_pipeline(make_repo({".github/workflows/ci.yml": text}))
    assert bool(pipeline.jobs[0].caches) is cached
