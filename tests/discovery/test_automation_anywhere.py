"""Automation in files the fixed name rules never read: Jenkinsfile variants and shared-library pipelines,
GitLab CI files written to be included, Azure pipelines found by content, folder names in any case."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

DECLARATIVE = """\
pipeline {
  agent any
  stages {
    stage('Build') { steps { sh 'make' } }
    stage('Ship') {
      input { message 'Ship it?' }
      steps { sh 'make deploy' }
    }
  }
}
"""


@pytest.mark.parametrize(
    "path",
    ["Jenkinsfile", "Jenkinsfile-nightly", "Jenkinsfile_release", "ci/deploy.jenkinsfile", "JENKINSFILE.prod"],
)
def test_jenkinsfile_variants(make_repo, path):
    inventory = run_detectors(make_repo({path: DECLARATIVE}), "jenkins")
    (pipeline,) = inventory.pipelines
    assert (pipeline.path, pipeline.kind) == (path, "pipeline")
    assert [(j.id, j.manual) for j in pipeline.jobs] == [("Build", False), ("Ship", True)]


@pytest.mark.parametrize("path", ["Jenkinsfile.md", "docs/Jenkinsfile-guide.txt"])
def test_jenkinsfile_look_alikes_that_are_documents(make_repo, path):
    assert run_detectors(make_repo({path: DECLARATIVE}), "jenkins").pipelines == []


def test_shared_library_steps_that_define_pipelines(make_repo):
    call = "def call(Map config = [:]) {\n" + DECLARATIVE + "}\n"
    helper = "def call(String text) {\n  echo \"hello ${text}\"\n}\n"
    inventory = run_detectors(make_repo({"vars/deployService.groovy": call, "vars/sayHello.groovy": helper,
                                         "src/org/x/Util.groovy": call}), "jenkins")
    assert errors_of(inventory) == []
    (pipeline,) = inventory.pipelines
    assert (pipeline.path, pipeline.kind, pipeline.name) == (
        "vars/deployService.groovy", "template", "shared library step deployService")
    assert [(j.id, j.manual, j.evidence.line_start) for j in pipeline.jobs] == [("Build", False, 5), ("Ship", True, 6)]


MAIN_CI = """\
include:
  - local: /ci/build.gitlab-ci.yml
stages: [build, deploy]
"""
INCLUDED = """\
build:
  stage: build
  script: [make]
"""
FOR_OTHERS = """\
.deploy:
  script: [helm upgrade app ./chart]
deploy:
  extends: .deploy
  stage: deploy
  when: manual
"""


def test_gitlab_ci_files_written_to_be_included(make_repo):
    inventory = run_detectors(make_repo({
        ".gitlab-ci.yml": MAIN_CI,
        "ci/build.gitlab-ci.yml": INCLUDED,  # read through the main pipeline: no second copy
        "templates/deploy.gitlab-ci.yml": FOR_OTHERS,  # only other projects include it
        ".gitlab/ci/hidden-only.yml": ".base:\n  script: [true]\n",  # no job: nothing to report
        ".gitlab/agents/prod/config.yaml": "gitops:\n  manifest_projects: []\n",  # not CI
    }), "gitlab-ci")
    assert errors_of(inventory) == [] and inventory.diagnostics == []
    assert [(p.path, p.kind, [j.id for j in p.jobs], [t.event for t in p.triggers]) for p in inventory.pipelines] == [
        (".gitlab-ci.yml", "pipeline", ["build"], ["push"]),
        ("templates/deploy.gitlab-ci.yml", "template", ["deploy"], []),
    ]
    assert inventory.pipelines[1].jobs[0].manual


def test_folder_names_match_in_any_case(make_repo):
    inventory = run_detectors(make_repo({"Scripts/Deploy.sh": "#!/bin/sh\nkubectl apply -f k8s/\n",
                                         "Tools/release": "#!/usr/bin/env bash\ngh release create\n"}), "scripts")
    assert [t.path for t in inventory.tasks] == ["Scripts/Deploy.sh", "Tools/release"]


@pytest.mark.parametrize(
    ("path", "content", "reason"),
    [
        ("ci/build.yml", "trigger: [main]\nsteps:\n  - script: make\n  bad: [\n", "line"),  # Azure by content, broken YAML
        ("templates/deploy.gitlab-ci.yml", "deploy:\n  script: [make\n", "line"),
        ("Jenkinsfile-nightly", b"\x00\x01binary", "binary"),
        ("vars/release.groovy", "def call() {\n  pipeline {\n    stages {\n      stage('x') { steps { sh 'a' }\n",
         "brace"),
    ],
)
def test_look_alikes_that_cannot_be_read_are_diagnostics(make_repo, path, content, reason):
    from orchestrator_kit.discovery import discover
    from orchestrator_kit.repo import Workspace

    inventory = discover(Workspace(make_repo({path: content})))
    assert errors_of(inventory) == []
    found = [d for d in inventory.diagnostics if d.path == path]
    assert found, inventory.diagnostics
    assert any(reason in d.reason.lower() or (reason == "line" and d.line) for d in found), found
