"""A critical path through a person's wait is labelled as such, never as CI time: CircleCI approval holds, GitLab
manual jobs that block, and GitHub deploys to a production environment (whose reviewers the repository cannot show).
Minutes below are worked out by hand from STEP_MINUTES: overhead 0.5, checkout 0.5, build 3, deploy 3, test 5."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from orchestrator_kit import scan
from orchestrator_kit.metrics.pipelines import pipeline_metrics
from orchestrator_kit.report.metrics import critical_path_cells, pipelines_markdown

from .test_pipelines import GITLAB  # build_job, then deploy_prod: `when: manual`, `allow_failure: false`

CIRCLECI = """\
version: 2.1
jobs:
  build:
    docker: [{image: cimg/base:stable}]
    steps:
      - checkout
      - run: make build
  deploy:
    docker: [{image: cimg/base:stable}]
    steps:
      - checkout
      - run: make deploy
workflows:
  release:
    jobs:
      - build
      - hold:
          type: approval
          requires: [build]
      - deploy:
          requires: [hold]
"""
GITHUB = """\
name: Ship
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make build
  release:
    needs: build
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: make deploy
"""
PLAIN = """\
name: Plain
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""


def _write(root, files: dict[str, str]):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    root = _write(tmp_path_factory.mktemp("gates"), {
        ".circleci/config.yml": CIRCLECI, ".gitlab-ci.yml": GITLAB, ".github/workflows/ship.yml": GITHUB,
        ".github/workflows/plain.yml": PLAIN})
    return {g.system + ":" + g.name: g for g in pipeline_metrics(scan(root)).pipelines}


def test_a_circleci_approval_hold(graphs):
    graph = graphs["circleci:release"]
    assert graph.critical_path == ["build", "hold", "deploy"]
    assert {e.id: e.minutes for e in graph.job_estimates} == {"build": 4.0, "hold": 0.0, "deploy": 4.0}
    assert graph.critical_path_minutes == 8.0  # the hold adds nothing: no runner, and the wait is not CI time
    assert graph.critical_path_waits_for_people == "yes"
    assert [(g.job, g.kind, g.waits) for g in graph.critical_path_gates] == [("hold", "manual-job", "yes")]
    # Without the hold the chain breaks: build (4) and deploy (4) are each the longest automated chain; the first wins.
    assert (graph.automated_critical_path_minutes, graph.automated_critical_path) == (4.0, ["build"])
    assert graph.critical_path_note is not None
    assert "hold (waits for a person)" in graph.critical_path_note
    assert "8 estimated minutes are CI time only; the wait for a person is not measured" in graph.critical_path_note
    assert critical_path_cells(graph) == ("build → hold (person) → deploy", "8 + a person's wait")


def test_a_gitlab_manual_job_that_blocks(graphs):
    graph = graphs["gitlab-ci:.gitlab-ci.yml"]
    assert graph.critical_path == ["build_job", "deploy_prod"]
    # build_job: 0.5 + 3 (make build); deploy_prod: 0.5 + 3 (make deploy, run once a person starts it: CI time)
    assert graph.critical_path_minutes == 7.0
    assert graph.critical_path_waits_for_people == "yes"
    [gate] = graph.critical_path_gates
    assert (gate.job, gate.kind) == ("deploy_prod", "manual-job")
    assert gate.note == "blocks the jobs after it until a person acts"
    assert (graph.automated_critical_path_minutes, graph.automated_critical_path) == (3.5, ["build_job"])


def test_a_github_production_environment_may_wait_for_reviewers(graphs):
    graph = graphs["github-actions:Ship"]
    assert graph.critical_path == ["build", "release"] and graph.critical_path_minutes == 7.5  # 4 + 3.5
    assert graph.critical_path_waits_for_people == "maybe"
    [gate] = graph.critical_path_gates
    assert (gate.job, gate.kind, gate.waits) == ("release", "environment", "maybe")
    assert "not in the repository" in gate.note
    # Nothing is manual, so the automated chain is the whole path; the note still says a wait may sit in it.
    assert (graph.automated_critical_path_minutes, graph.automated_critical_path) == (7.5, ["build", "release"])
    assert "release (may wait for reviewers)" in (graph.critical_path_note or "")
    assert critical_path_cells(graph) == ("build → release (reviewers?)", "7.5 + reviewers?")


def test_a_path_without_people_is_plain_ci_time(graphs):
    graph = graphs["github-actions:Plain"]
    assert graph.critical_path_waits_for_people == "no" and graph.critical_path_gates == []
    assert graph.critical_path_note is None
    assert (graph.automated_critical_path_minutes, graph.automated_critical_path) == (5.5, ["test"])
    assert critical_path_cells(graph) == ("test", "5.5")


def test_the_markdown_view_marks_the_wait(tmp_path):
    root = _write(tmp_path, {".circleci/config.yml": CIRCLECI})
    text = "\n".join(pipelines_markdown(pipeline_metrics(scan(root))))
    assert "build → hold (person) → deploy" in text and "8 + a person's wait" in text


@pytest.mark.anyio
async def test_pipeline_metrics_through_the_mcp_client_says_so(tmp_path):
    from orchestrator_kit.server import build_server

    root = _write(tmp_path, {".circleci/config.yml": CIRCLECI})
    async with Client(build_server([root])) as client:
        result = await client.call_tool("pipeline_metrics", {})
    assert not result.is_error
    [graph] = json.loads(result.content[0].text)["metrics"]["pipelines"]
    assert graph["critical_path_waits_for_people"] == "yes"
    assert graph["critical_path_gates"] == [
        {"job": "hold", "kind": "manual-job", "waits": "yes", "note": "blocks the jobs after it until a person acts"}]
    assert graph["automated_critical_path_minutes"] == 4.0
    assert "not measured and not in them" in graph["critical_path_note"]
