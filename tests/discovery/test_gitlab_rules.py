"""GitLab rules: when a job is manual (always, sometimes, never), with the variables it gets."""

from __future__ import annotations

import pytest

from orchestrator_kit.discovery._gitlab_rules import RuleView, evaluate, manual_mode
from tests.conftest import errors_of, run_detectors


@pytest.mark.parametrize(
    ("expression", "variables", "expected"),
    [
        ('$MODE == "manual"', {"MODE": "manual"}, True),
        ('$MODE == "manual"', {"MODE": "auto"}, False),
        ("$MODE != 'auto'", {"MODE": "auto"}, False),
        ('$MODE == "manual"', {}, None),  # could be set in the UI or by a trigger
        ("$CI_COMMIT_TAG", {}, None),
        ("$FLAG", {"FLAG": ""}, False),
        ("$FLAG", {"FLAG": "1"}, True),
        ("$FLAG == null", {"FLAG": "x"}, False),
        ('$CI_COMMIT_TAG && $MODE == "auto"', {"MODE": "manual"}, False),
        ('$CI_COMMIT_TAG || $MODE == "auto"', {"MODE": "auto"}, True),
        ('($A == "1" || $B == "2") && $C =~ /^rel/i', {"A": "1", "C": "Release"}, True),
        ('$C !~ /^rel/', {"C": "release"}, False),
        ('$A == "x" &&', {"A": "x"}, None),  # malformed: unknown, never an exception
        ("(((", {}, None),
        ("$A =~ /[/", {"A": "x"}, False),  # an invalid regex matches nothing
        ("&& " * 1000, {}, None),
    ],
)
def test_evaluate(expression, variables, expected):
    assert evaluate(expression, variables) is expected


def rule(condition=None, when="on_success", other=False):
    return RuleView(condition=condition, other_clauses=other, when=when)


@pytest.mark.parametrize(
    ("rules", "variables", "mode"),
    [
        ([rule("$CI_COMMIT_TAG", "manual")], {}, "always"),  # in the pipeline only when manual
        ([rule("$CI_COMMIT_TAG", "manual"), rule()], {}, "sometimes"),
        ([rule(), rule("$CI_COMMIT_TAG", "manual")], {}, "never"),  # hidden behind a rule that always matches
        ([rule('$DEPLOY == "manual"', "manual"), rule()], {"DEPLOY": "auto"}, "never"),
        ([rule('$DEPLOY == "manual"', "manual"), rule()], {"DEPLOY": "manual"}, "always"),
        ([rule(None, "manual", other=True), rule()], {}, "sometimes"),  # changes: decides at run time
        ([rule("$CI_MERGE_REQUEST_IID", "never"), rule(None, "manual")], {}, "always"),  # never, or manual
    ],
)
def test_manual_mode(rules, variables, mode):
    assert manual_mode(rules, variables)[0] == mode


PIPELINE = """\
variables:
  DEPLOY_MODE: auto
.manual-on-tags:
  rules:
    - if: $CI_COMMIT_TAG
      when: manual
    - when: on_success
.gated:
  rules:
    - if: $DEPLOY_MODE == "manual"
      when: manual
    - when: on_success
build:
  script: [make]
release:
  extends: .manual-on-tags
  script: [make release]
deploy:
  extends: .gated
  script: [make deploy]
deploy-prod:
  extends: .gated
  variables:
    DEPLOY_MODE: manual
  script: [make deploy-prod]
docs:
  extends: .manual-on-tags
  when: manual
  rules:
    - if: $CI_COMMIT_BRANCH
  script: [make docs]
"""


def test_jobs_are_manual_always_sometimes_or_never(make_repo):
    inventory = run_detectors(make_repo({".gitlab-ci.yml": PIPELINE}), "gitlab-ci")
    assert errors_of(inventory) == []
    (pipeline,) = inventory.pipelines
    modes = {j.id: (j.manual, j.attributes.get("manual"), j.attributes.get("manual_when")) for j in pipeline.jobs}
    assert modes == {
        "build": (False, None, None),
        "release": (True, "sometimes", "$CI_COMMIT_TAG"),
        "deploy": (False, None, None),  # DEPLOY_MODE is auto: the manual rule never matches
        "deploy-prod": (True, "always", None),  # its own variables win over the global ones
        "docs": (True, "always", None),  # a rule without `when` takes the job's `when: manual`
    }


def test_dependencies_are_artifact_edges(make_repo):
    text = ("stages: [build, test]\nbuild:\n  stage: build\n  script: [make]\nunit:\n  stage: test\n"
            "  dependencies: [build]\n  script: [make test]\nlint:\n  stage: test\n  dependencies: []\n"
            "  script: [make lint]\n")
    (pipeline,) = run_detectors(make_repo({".gitlab-ci.yml": text}), "gitlab-ci").pipelines
    deps = {j.id: j.attributes.get("dependencies") for j in pipeline.jobs}
    assert deps == {"build": None, "unit": "build", "lint": ""}
