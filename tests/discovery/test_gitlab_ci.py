"""GitLab CI: `.gitlab-ci.yml` files in the forms people write them, and the broken ones they also write.

Every expected value below was worked out by hand from the GitLab CI YAML reference and the fixture text; line
numbers count from the first line of the dedented fixture.
"""

from __future__ import annotations

import time

import pytest

from orchestrator_kit.discovery.gitlab_ci import parse_duration

from .conftest import scanner

MAIN = """
stages:
  - build
  - test
  - deploy

variables:
  PIP_CACHE_DIR: .cache/pip

default:
  image: python:3.12-slim
  tags: [docker]
  cache:
    key: pip
    paths: [.cache/pip]

.install: &install
  - pip install -r requirements.txt
  - pip install -e .

.python:
  before_script:
    - *install
  variables:
    LEVEL: base
    KEEP: yes

build-wheel:
  stage: build
  extends: .python
  script:
    - python -m build

lint:
  extends: .python
  needs: []
  script:
    - ruff check .

unit:
  extends: .python
  variables:
    LEVEL: unit
  script:
    - pytest -q
    - !reference [.python, variables, KEEP]

deploy-prod:
  stage: deploy
  image:
    name: alpine:3.20
    entrypoint: [""]
  script: ./deploy.sh production
  environment:
    name: production
    url: https://example.com
  when: manual
  resource_group: production
  timeout: 1h 30m
"""


scan = scanner("gitlab-ci")


def only_pipeline(make_repo, text, extra=None):
    inventory = scan(make_repo, {".gitlab-ci.yml": text, **(extra or {})})
    assert len(inventory.pipelines) == 1
    return inventory, inventory.pipelines[0]


def jobs_by_id(pipeline):
    return {job.id: job for job in pipeline.jobs}


def reasons(inventory):
    return [(d.path, d.line, d.reason) for d in inventory.diagnostics]


def test_main_pipeline_jobs_stages_and_order(make_repo):
    inventory, pipeline = only_pipeline(make_repo, MAIN)
    assert pipeline.id == "gitlab-ci:.gitlab-ci.yml"
    assert pipeline.system == "gitlab-ci"
    assert pipeline.stages == ["build", "test", "deploy"]
    assert (pipeline.evidence.line_start, pipeline.evidence.line_end) == (1, 58)
    # hidden keys (.install, .python) and global keywords are not jobs
    assert [j.id for j in pipeline.jobs] == ["build-wheel", "lint", "unit", "deploy-prod"]
    assert [(j.stage, j.needs, j.needs_source) for j in pipeline.jobs] == [
        ("build", [], "none"),  # first stage: nothing before it
        ("test", [], "declared"),  # needs: [] starts at once
        ("test", ["build-wheel"], "stage-order"),  # default stage is test
        ("deploy", ["lint", "unit"], "stage-order"),  # every job of the previous non-empty stage
    ]
    assert [(j.evidence.line_start, j.evidence.line_end) for j in pipeline.jobs] == [
        (27, 31), (33, 37), (39, 45), (47, 58)
    ]
    assert inventory.diagnostics == []


def test_scripts_extends_anchors_and_reference(make_repo):
    _, pipeline = only_pipeline(make_repo, MAIN)
    jobs = jobs_by_id(pipeline)
    # before_script comes from .python via extends, and is an anchored list nested in a list: flattened,
    # each line with the line of the anchor's item.
    assert [(s.kind, s.name, s.command, s.evidence.line_start) for s in jobs["build-wheel"].steps] == [
        ("script", "before_script", "pip install -r requirements.txt", 17),
        ("script", "before_script", "pip install -e .", 18),
        ("script", "script", "python -m build", 31),
    ]
    # !reference [.python, variables, KEEP] is the string "yes", written on line 45
    assert [(s.command, s.evidence.line_start) for s in jobs["unit"].steps][2:] == [("pytest -q", 44), ("yes", 45)]
    assert jobs["unit"].extends == [".python"]
    assert [(s.command, s.evidence.line_start) for s in jobs["deploy-prod"].steps] == [("./deploy.sh production", 52)]


def test_defaults_manual_environment_timeout(make_repo):
    _, pipeline = only_pipeline(make_repo, MAIN)
    jobs = jobs_by_id(pipeline)
    unit, deploy = jobs["unit"], jobs["deploy-prod"]
    assert unit.image == "python:3.12-slim"  # from default:
    assert unit.runs_on == ["docker"]  # default: tags
    assert [(c.key, c.paths, c.evidence.line_start, c.evidence.line_end) for c in unit.caches] == [
        ("pip", [".cache/pip"], 12, 14)
    ]
    assert unit.manual is False and unit.blocking is None
    assert deploy.image == "alpine:3.20"  # image: {name: ...} overrides the default
    assert deploy.environment == "production"
    assert deploy.timeout_minutes == 90
    assert deploy.concurrency == "production"
    # when: manual on the job: allow_failure defaults to true, so the pipeline does not wait for it
    assert (deploy.manual, deploy.allow_failure, deploy.blocking) == (True, True, False)
    assert deploy.condition == "when: manual"


def test_default_push_trigger_without_workflow_rules(make_repo):
    inventory, pipeline = only_pipeline(make_repo, MAIN)
    assert [(t.kind, t.event) for t in pipeline.triggers] == [("push", "push")]
    assert pipeline.triggers[0].filters["from"][0].startswith("default:")
    assert inventory.schedules == []


# ------------------------------------------------------------------ manual and blocking


@pytest.mark.parametrize(
    ("body", "manual", "allow_failure", "blocking"),
    [
        ("  when: manual\n", True, True, False),
        ("  when: manual\n  allow_failure: false\n", True, False, True),
        # when: manual inside rules defaults to allow_failure: false (GitLab reference, allow_failure)
        ("  rules:\n    - when: manual\n", True, False, True),
        ("  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n      allow_failure: true\n", True, True, False),
        ("  allow_failure: true\n  rules:\n    - when: manual\n", True, True, False),
        # job-level when: manual with rules that do not say manual keeps the job-level default (gitlab#362225)
        ("  when: manual\n  rules:\n    - exists: [Dockerfile]\n", True, True, False),
        ("  allow_failure:\n    exit_codes: [137]\n", False, True, None),
        # GitLab reads YAML 1.1 (Ruby's Psych): a plain yes/no or on/off is a boolean there
        ("  when: manual\n  allow_failure: no\n", True, False, True),
        ("  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n      allow_failure: yes\n", True, True, False),
        ("  when: delayed\n  start_in: 30 minutes\n", False, False, None),
        ("  when: always\n", False, False, None),
    ],
)
def test_manual_and_blocking(make_repo, body, manual, allow_failure, blocking):
    _, pipeline = only_pipeline(make_repo, "job:\n  script: [make]\n" + body)
    job = pipeline.jobs[0]
    assert (job.manual, job.allow_failure, job.blocking) == (manual, allow_failure, blocking)


@pytest.mark.parametrize(
    ("body", "condition"),
    [
        ("  when: delayed\n  start_in: 30 minutes\n", "when: delayed (start_in: 30 minutes)"),
        ('  rules:\n    - if: $CI_COMMIT_BRANCH == "main"\n      changes: [src/**/*]\n    - when: never\n',
         'rules: if $CI_COMMIT_BRANCH == "main" and changes src/**/* | always -> never'),
        ("  rules:\n    - exists:\n        paths: [Dockerfile]\n      when: manual\n",
         "rules: exists Dockerfile -> manual"),
        ("  only: [main, tags]\n  except: [schedules]\n", "only: main, tags; except: schedules"),
        ("  only:\n    refs: [main]\n    variables: [$RELEASE]\n", "only: refs=main, variables=$RELEASE"),
    ],
)
def test_condition_text(make_repo, body, condition):
    _, pipeline = only_pipeline(make_repo, "job:\n  script: [make]\n" + body)
    assert pipeline.jobs[0].condition == condition


# ------------------------------------------------------------------ needs and stage order


@pytest.mark.parametrize(
    ("needs", "expected"),
    [
        ("needs: []", []),
        ("needs: [build]", ["build"]),
        ("needs:\n    - job: build\n      artifacts: false", ["build"]),
        ("needs:\n    - build\n    - job: ghost\n      optional: true", ["build"]),  # optional and absent: dropped
        ("needs:\n    - job: build\n      optional: true", ["build"]),
        # cross-pipeline and cross-project needs are not jobs of this pipeline
        ("needs:\n    - pipeline: $PARENT_PIPELINE_ID\n      job: gen\n    - project: g/p\n      job: x\n"
         "      ref: main", []),
    ],
)
def test_needs_forms(make_repo, needs, expected):
    text = f"build:\n  stage: build\n  script: [make]\ntest:\n  {needs}\n  script: [make test]\n"
    inventory, pipeline = only_pipeline(make_repo, text)
    job = jobs_by_id(pipeline)["test"]
    assert (job.needs, job.needs_source) == (expected, "declared")
    assert inventory.diagnostics == []


def test_needs_on_a_missing_job_is_a_diagnostic(make_repo):
    inventory, pipeline = only_pipeline(make_repo, "test:\n  needs: [biuld]\n  script: [make]\n")
    assert pipeline.jobs[0].needs == ["biuld"]
    assert reasons(inventory) == [
        (".gitlab-ci.yml", 1, "job 'test' needs 'biuld', which is not a job of this pipeline")
    ]


def test_stage_order_defaults_pre_post_and_empty_stages(make_repo):
    text = """
    stages: [build, test, qa, deploy]
    prep:
      stage: .pre
      script: [echo prep]
    compile:
      stage: build
      script: [make]
    ship:
      stage: deploy
      script: [make ship]
    cleanup:
      stage: .post
      script: [make clean]
    """
    _, pipeline = only_pipeline(make_repo, text)
    # test and qa are empty: deploy waits for the build stage
    assert [(j.id, j.needs, j.needs_source) for j in pipeline.jobs] == [
        ("prep", [], "none"),
        ("compile", ["prep"], "stage-order"),
        ("ship", ["compile"], "stage-order"),
        ("cleanup", ["ship"], "stage-order"),
    ]
    assert pipeline.stages == [".pre", "build", "test", "qa", "deploy", ".post"]


def test_default_stages_when_not_declared(make_repo):
    text = "a:\n  stage: deploy\n  script: [x]\nb:\n  script: [y]\nc:\n  stage: build\n  script: [z]\n"
    _, pipeline = only_pipeline(make_repo, text)
    assert pipeline.stages == ["build", "test", "deploy"]
    assert [(j.id, j.stage, j.needs) for j in pipeline.jobs] == [("a", "deploy", ["b"]), ("b", "test", ["c"]),
                                                                  ("c", "build", [])]


def test_unknown_stage_is_a_diagnostic(make_repo):
    inventory, pipeline = only_pipeline(make_repo, "stages: [build]\njob:\n  stage: tset\n  script: [x]\n")
    assert pipeline.jobs[0].needs_source == "none"
    assert reasons(inventory) == [
        (".gitlab-ci.yml", 2, "job 'job' uses stage 'tset', which is not in stages (build); GitLab refuses this")
    ]


# ------------------------------------------------------------------ extends


def test_extends_deep_merges_maps_and_replaces_arrays_in_order(make_repo):
    text = """
    .base:
      image: node:20
      tags: [small]
      variables: {A: base, B: base}
      script: [npm ci, npm test]
    .big:
      tags: [large, gpu]
      variables: {B: big, C: big}
    .chain:
      extends: .base
      environment: staging
    job:
      extends: [.chain, .big]
      variables: {C: job}
      script:
        - npm run e2e
    """
    _, pipeline = only_pipeline(make_repo, text)
    job = pipeline.jobs[0]
    assert job.extends == [".chain", ".big"]
    assert job.image == "node:20"  # from .base through .chain
    assert job.environment == "staging"
    assert job.runs_on == ["large", "gpu"]  # array replaced by the later parent, not concatenated
    assert [(s.command, s.evidence.line_start) for s in job.steps] == [("npm run e2e", 16)]


def test_extends_cycle_and_missing_parent(make_repo):
    text = """
    .a:
      extends: .b
      script: [echo a]
    .b:
      extends: .a
    job:
      extends: [.a, .nope]
    self:
      extends: self
      script: [x]
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    assert [j.id for j in pipeline.jobs] == ["job", "self"]
    assert [s.command for s in pipeline.jobs[0].steps] == ["echo a"]
    found = reasons(inventory)
    # the cycle is reported where it closes: .b extends .a while .a is being resolved
    assert (".gitlab-ci.yml", 4, "extends cycle job -> .a -> .b -> .a; the repeated parent is ignored") in found
    assert (".gitlab-ci.yml", 6, "'job' extends '.nope', which is not defined") in found
    assert (".gitlab-ci.yml", 8, "extends cycle self -> self; the repeated parent is ignored") in found
    assert all(d.severity == "error" for d in inventory.diagnostics if "cycle" in d.reason)


def test_extends_deeper_than_gitlab_allows(make_repo):
    chain = "".join(f".t{i}:\n  extends: .t{i + 1}\n" for i in range(15)) + ".t15:\n  script: [deep]\n"
    inventory, pipeline = only_pipeline(make_repo, chain + "job:\n  extends: .t0\n")
    assert pipeline.jobs[0].id == "job"
    assert any("extends more than 11 levels deep" in d.reason for d in inventory.diagnostics)


def test_missing_parent_with_a_remote_include_is_only_info(make_repo):
    text = "include:\n  - template: Jobs/Build.gitlab-ci.yml\njob:\n  extends: .auto-build\n"
    inventory, pipeline = only_pipeline(make_repo, text)
    assert pipeline.includes == ["template:Jobs/Build.gitlab-ci.yml"]
    assert [(d.severity, d.reason) for d in inventory.diagnostics] == [
        ("info", "'job' extends '.auto-build', which is not defined in this repository "
                 "(it may come from a remote, project or template include)")
    ]


# ------------------------------------------------------------------ !reference


def test_reference_in_script_and_rules_and_unresolved(make_repo):
    text = """
    .setup:
      script:
        - apt-get update
        - apt-get install -y make
    .rules:
      mr:
        - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    job:
      script:
        - !reference [.setup, script]
        - make
        - !reference [.elsewhere, script]
      rules:
        - !reference [.rules, mr]
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    job = pipeline.jobs[0]
    assert [(s.command, s.evidence.line_start) for s in job.steps] == [
        ("apt-get update", 3),
        ("apt-get install -y make", 4),
        ("make", 11),
        ("!reference [.elsewhere, script]", 12),
    ]
    assert job.condition == 'rules: if $CI_PIPELINE_SOURCE == "merge_request_event"'
    assert [(t.kind, t.evidence.line_start) for t in pipeline.triggers] == [("push", 1), ("pull_request", 7)]
    assert [(d.severity, d.line, d.reason) for d in inventory.diagnostics] == [
        ("info", 12, "cannot resolve !reference [.elsewhere, script] in job 'job'")
    ]


def test_whole_value_reference_and_yaml_merge_key(make_repo):
    text = """
    .defaults: &defaults
      image: ruby:3.3
      tags: [shared]
    .scripts:
      test: [bundle exec rspec]
    job:
      <<: *defaults
      script: !reference [.scripts, test]
    """
    _, pipeline = only_pipeline(make_repo, text)
    job = pipeline.jobs[0]
    assert (job.image, job.runs_on) == ("ruby:3.3", ["shared"])
    assert [(s.command, s.evidence.line_start) for s in job.steps] == [("bundle exec rspec", 5)]


# ------------------------------------------------------------------ includes


def test_includes_listed_and_local_include_merged(make_repo):
    files = {
        ".gitlab-ci.yml": """
        include:
          - local: /ci/build.yml
          - 'ci/lint.yml'
          - project: my-group/ci-templates
            ref: v2.1.0
            file: [/python.yml, /docker.yml]
          - remote: https://example.com/ci/shared.yml
          - template: Security/SAST.gitlab-ci.yml
          - component: $CI_SERVER_FQDN/my-org/components/secret-detection@1.0
        stages: [build, test]
        build:
          variables:
            EXTRA: "1"
        """,
        "ci/build.yml": """
        build:
          stage: build
          script:
            - make build
        """,
        "ci/lint.yml": """
        include: ci/build.yml
        lint:
          script: [make lint]
        """,
    }
    inventory, pipeline = only_pipeline(make_repo, files[".gitlab-ci.yml"], {k: v for k, v in files.items()
                                                                                if k != ".gitlab-ci.yml"})
    assert pipeline.includes == [
        "local:/ci/build.yml",
        "local:ci/lint.yml",
        "project:my-group/ci-templates@v2.1.0:/python.yml,/docker.yml",
        "remote:https://example.com/ci/shared.yml",
        "template:Security/SAST.gitlab-ci.yml",
        "component:$CI_SERVER_FQDN/my-org/components/secret-detection@1.0",
        "local:ci/build.yml",
    ]
    jobs = jobs_by_id(pipeline)
    assert list(jobs) == ["build", "lint"]
    # the main file deep-merges into the included job: the job keeps its script from ci/build.yml,
    # and its evidence is the main file's definition, which GitLab applies last
    assert jobs["build"].evidence.path == ".gitlab-ci.yml"
    assert [(s.command, s.evidence.path, s.evidence.line_start) for s in jobs["build"].steps] == [
        ("make build", "ci/build.yml", 4)
    ]
    assert (jobs["lint"].evidence.path, jobs["lint"].evidence.line_start) == ("ci/lint.yml", 2)
    assert jobs["lint"].needs == ["build"]
    assert inventory.diagnostics == []


def test_include_cycle_wildcards_and_missing_files(make_repo):
    files = {
        "ci/a.yml": "include: ci/b.yml\na:\n  script: [a]\n",
        "ci/b.yml": "include: ci/a.yml\nb:\n  script: [b]\n",
        "ci/jobs/one.yml": "one:\n  script: [one]\n",
        "ci/jobs/two.yml": "two:\n  script: [two]\n",
    }
    text = "include:\n  - local: ci/a.yml\n  - local: 'ci/jobs/*.yml'\n  - local: ci/missing.yml\n"
    inventory, pipeline = only_pipeline(make_repo, text, files)
    assert sorted(j.id for j in pipeline.jobs) == ["a", "b", "one", "two"]
    assert reasons(inventory) == [
        (".gitlab-ci.yml", 4, "local include 'ci/missing.yml' is not a file of this repository")
    ]


def test_include_outside_the_repository_is_never_read(make_repo):
    inventory, pipeline = only_pipeline(make_repo, "include: ../../etc/passwd\njob:\n  script: [x]\n")
    assert pipeline.includes == ["local:../../etc/passwd"]
    assert reasons(inventory) == [
        (".gitlab-ci.yml", 1, "local include '../../etc/passwd' is not a file of this repository")
    ]


def test_include_path_with_a_variable(make_repo):
    text = "include:\n  - local: ci/$CI_PROJECT_NAME.yml\njob:\n  extends: .from-include\n"
    inventory, pipeline = only_pipeline(make_repo, text)
    assert pipeline.includes == ["local:ci/$CI_PROJECT_NAME.yml"]
    # the included file may define .from-include: both findings are only information
    assert [(d.severity, d.line) for d in inventory.diagnostics] == [("info", 2), ("info", 3)]
    assert inventory.diagnostics[0].reason == "local include 'ci/$CI_PROJECT_NAME.yml' depends on a variable; not read"


def test_included_file_with_invalid_yaml(make_repo):
    inventory, pipeline = only_pipeline(make_repo, "include: ci/bad.yml\njob:\n  script: [x]\n",
                                        {"ci/bad.yml": "a: [unclosed\n"})
    assert [j.id for j in pipeline.jobs] == ["job"]
    assert [d.path for d in inventory.diagnostics] == ["ci/bad.yml"]
    assert "invalid YAML" in inventory.diagnostics[0].reason


# ------------------------------------------------------------------ triggers


@pytest.mark.parametrize(
    ("rules", "kind", "event"),
    [
        ('$CI_PIPELINE_SOURCE == "schedule"', "schedule", "schedule"),
        ("$CI_PIPELINE_SOURCE == 'merge_request_event'", "pull_request", "merge_request_event"),
        ("$CI_COMMIT_TAG", "tag", "tag"),
        ("$CI_COMMIT_TAG =~ /^v\\d+/", "tag", "tag"),
        ('$CI_PIPELINE_SOURCE == "web"', "manual", "web"),
        ('$CI_PIPELINE_SOURCE == "api"', "api", "api"),
        ('$CI_PIPELINE_SOURCE == "parent_pipeline"', "pipeline", "parent_pipeline"),
        ("$CI_MERGE_REQUEST_IID", "pull_request", "merge_request_event"),
    ],
)
def test_rule_triggers(make_repo, rules, kind, event):
    text = f"job:\n  script: [x]\n  rules:\n    - if: '{rules}'\n" if "'" not in rules else \
        f'job:\n  script: [x]\n  rules:\n    - if: "{rules}"\n'
    inventory, pipeline = only_pipeline(make_repo, text)
    assert [(t.kind, t.event) for t in pipeline.triggers] == [("push", "push"), (kind, event)]
    trigger = pipeline.triggers[1]
    assert (trigger.cron, trigger.evidence.line_start) == (None, 4)
    assert trigger.filters["from"] == ["rules of job 'job'"]
    assert trigger.filters["if"] == [rules]
    assert inventory.schedules == []  # a GitLab schedule's cron is not in the repository


def test_schedule_trigger_says_where_it_comes_from(make_repo):
    text = 'nightly:\n  script: [make nightly]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "schedule"\n'
    _, pipeline = only_pipeline(make_repo, text)
    schedule = pipeline.triggers[1]
    assert schedule.kind == "schedule" and schedule.cron is None
    assert "configured in the GitLab UI" in schedule.filters["schedule"][0]


@pytest.mark.parametrize(
    "expression",
    ["$CI_COMMIT_TAG == null", '$CI_PIPELINE_SOURCE != "schedule"', "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"],
)
def test_rules_that_add_no_trigger(make_repo, expression):
    _, pipeline = only_pipeline(make_repo, f"job:\n  script: [x]\n  rules:\n    - if: '{expression}'\n")
    assert [t.kind for t in pipeline.triggers] == ["push"]


def test_never_rules_add_no_trigger(make_repo):
    text = 'job:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "schedule"\n      when: never\n'
    _, pipeline = only_pipeline(make_repo, text)
    assert [t.kind for t in pipeline.triggers] == ["push"]


def test_regex_on_pipeline_source(make_repo):
    text = "job:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE =~ /^(schedule|web)$/\n"
    _, pipeline = only_pipeline(make_repo, text)
    assert [(t.kind, t.event) for t in pipeline.triggers] == [("push", "push"), ("schedule", "schedule"),
                                                              ("manual", "web")]


def test_only_refs_keywords(make_repo):
    text = "a:\n  script: [x]\n  only: [schedules, tags, main]\nb:\n  script: [y]\n  only:\n    refs: [merge_requests]\n"
    _, pipeline = only_pipeline(make_repo, text)
    assert [(t.kind, t.event, t.evidence.line_start) for t in pipeline.triggers] == [
        ("push", "push", 1), ("schedule", "schedule", 3), ("tag", "tag", 3),
        ("pull_request", "merge_request_event", 6)
    ]


def test_workflow_rules_decide_the_pipeline_triggers(make_repo):
    text = """
    workflow:
      name: 'Pipeline for $CI_COMMIT_REF_NAME'
      rules:
        - if: $CI_PIPELINE_SOURCE == "merge_request_event"
        - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
          when: never
        - if: $CI_COMMIT_TAG
    job:
      script: [x]
      rules:
        - if: $CI_PIPELINE_SOURCE == "schedule"
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    assert pipeline.name == "Pipeline for $CI_COMMIT_REF_NAME"
    # no default push trigger: workflow:rules lets only merge request and tag pipelines through
    assert [(t.kind, t.evidence.line_start) for t in pipeline.triggers] == [("pull_request", 4), ("tag", 7)]
    assert pipeline.triggers[0].filters == {
        "from": ["workflow:rules"], "if": ['$CI_PIPELINE_SOURCE == "merge_request_event"']
    }
    # the job's schedule rule never fires: workflow:rules creates no schedule pipeline
    assert [(d.severity, d.line) for d in inventory.diagnostics] == [("info", 11)]
    assert "workflow:rules never creates schedule pipelines" in inventory.diagnostics[0].reason


def test_workflow_branch_rule_lets_schedules_through(make_repo):
    # a scheduled pipeline runs on a branch, so `$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH` admits it
    text = """
    workflow:
      rules:
        - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
    nightly:
      script: [x]
      rules:
        - if: $CI_PIPELINE_SOURCE == "schedule"
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    assert [(t.kind, t.evidence.line_start) for t in pipeline.triggers] == [("push", 3), ("schedule", 7)]
    assert pipeline.triggers[0].filters["if"] == ["$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"]
    assert inventory.diagnostics == []


def test_workflow_catch_all_rule_keeps_job_triggers(make_repo):
    text = """
    workflow:
      rules:
        - if: $CI_COMMIT_MESSAGE =~ /^wip/
          when: never
        - when: always
    job:
      script: [x]
      rules:
        - if: $CI_PIPELINE_SOURCE == "schedule"
    """
    _, pipeline = only_pipeline(make_repo, text)
    assert [(t.kind, t.evidence.line_start) for t in pipeline.triggers] == [("push", 5), ("schedule", 9)]


# ------------------------------------------------------------------ other job keywords


def test_caches(make_repo):
    text = """
    cache:
      key: global
      paths: [vendor/]
    a:
      script: [x]
    b:
      script: [y]
      cache:
        - key:
            files: [package-lock.json]
            prefix: npm
          paths: [.npm/]
          policy: pull
        - key: $CI_COMMIT_REF_SLUG
          paths: [dist/]
    c:
      script: [z]
      cache: []
    """
    _, pipeline = only_pipeline(make_repo, text)
    jobs = jobs_by_id(pipeline)
    assert [(c.via, c.key, c.paths, c.evidence.line_start) for c in jobs["a"].caches] == [
        ("cache", "global", ["vendor/"], 1)
    ]
    assert [(c.via, c.key, c.paths, c.evidence.line_start, c.evidence.line_end) for c in jobs["b"].caches] == [
        ("cache (policy: pull)", "npm-files:package-lock.json", [".npm/"], 9, 13),
        ("cache", "$CI_COMMIT_REF_SLUG", ["dist/"], 14, 15),
    ]
    assert jobs["c"].caches == []


def test_inherit_default_false_or_list(make_repo):
    text = """
    default:
      image: golang:1.22
      tags: [linux]
      before_script: [go version]
    a:
      inherit:
        default: false
      script: [x]
    b:
      inherit:
        default: [tags]
      script: [y]
    """
    _, pipeline = only_pipeline(make_repo, text)
    a, b = pipeline.jobs
    assert (a.image, a.runs_on, [s.command for s in a.steps]) == (None, [], ["x"])
    assert (b.image, b.runs_on, [s.command for s in b.steps]) == (None, ["linux"], ["y"])


@pytest.mark.parametrize(("default", "image"), [("no", None), ("off", None), ("yes", "golang:1.22"),
                                                ("'no'", "golang:1.22")])
def test_inherit_default_is_read_as_gitlab_s_yaml_1_1_reads_it(make_repo, default, image):
    # GitLab parses with Ruby's Psych (YAML 1.1): a plain `no`/`off` is false, a quoted 'no' a string (not a
    # boolean nor a list: GitLab rejects it; read as inheriting, as before)
    text = f"default:\n  image: golang:1.22\na:\n  inherit:\n    default: {default}\n  script: [x]\n"
    _, pipeline = only_pipeline(make_repo, text)
    assert pipeline.jobs[0].image == image


@pytest.mark.parametrize(
    ("trigger", "uses"),
    [
        ("trigger: my-group/deployer", "multi-project:my-group/deployer"),
        ("trigger:\n    project: my-group/deployer\n    branch: stable\n    strategy: depend",
         "multi-project:my-group/deployer@stable"),
        ("trigger:\n    include: ci/child.yml", "child:ci/child.yml"),
        ("trigger:\n    include:\n      - local: ci/a.yml\n      - template: Jobs/X.yml",
         "child:ci/a.yml,Jobs/X.yml"),
        ("trigger:\n    include:\n      - artifact: generated.yml\n        job: generate", "child:generated.yml"),
    ],
)
def test_trigger_jobs(make_repo, trigger, uses):
    _, pipeline = only_pipeline(make_repo, f"downstream:\n  stage: deploy\n  {trigger}\n")
    job = pipeline.jobs[0]
    assert (job.uses, job.steps) == (uses, [])


def test_parallel_and_matrix(make_repo):
    text = """
    shards:
      script: [pytest --shard=$CI_NODE_INDEX]
      parallel: 4
    matrix:
      script: [make]
      parallel:
        matrix:
          - PROVIDER: [aws, gcp]
            STACK: [web, db, cache]
          - PROVIDER: azure
    """
    _, pipeline = only_pipeline(make_repo, text)
    shards, matrix = pipeline.jobs
    assert shards.matrix.fan_out == 4
    # 2 x 3 combinations in the first entry + 1 in the second
    assert matrix.matrix.fan_out == 7
    assert matrix.matrix.dimensions == {"PROVIDER": ["aws", "gcp", "azure"], "STACK": ["web", "db", "cache"]}


def test_multiline_script_and_number_and_colon(make_repo):
    text = """
    job:
      script:
        - |
          echo one
          echo two
        - 42
        - echo key: value
        - - nested one
          - - nested two
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    steps = pipeline.jobs[0].steps
    assert [(s.command, s.evidence.line_start, s.evidence.line_end) for s in steps] == [
        ("echo one\necho two", 3, 5),
        ("42", 6, 6),
        ("echo key: value", 7, 7),
        ("nested one", 8, 8),
        ("nested two", 9, 9),
    ]
    assert [(d.line, d.reason) for d in inventory.diagnostics] == [
        (6, "a script line of job 'job' is a number, not a string (GitLab refuses this)"),
        (7, "a script line of job 'job' parses as a mapping ('echo key: ...'); quote lines that contain ': ' "
            "(GitLab refuses this)"),
    ]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("1h 30m", 90), ("3 hours 30 minutes", 210), ("2h30m", 150), ("45 minutes", 45), ("1d", 1440),
     ("90", 1.5), ("1 hour and 15 min", 75), ("1w", 10080)],
)
def test_durations(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["", "soon", "1 fortnight", "h1", "1h x"])
def test_invalid_durations(text):
    assert parse_duration(text) is None


def test_secret_in_a_script_is_redacted(make_repo):
    token = "glpat-" + "Zx8vQ2mN4kL7pR1sT9wY"
    _, pipeline = only_pipeline(make_repo, f"job:\n  script:\n    - curl -H 'PRIVATE-TOKEN: {token}' https://x\n")
    assert token not in (pipeline.jobs[0].steps[0].command or "")
    assert "REDACTED" in (pipeline.jobs[0].steps[0].command or "")


# ------------------------------------------------------------------ where the files are


def test_files_at_depth_not_vendored_and_component_header(make_repo):
    inventory = scan(make_repo, {
        "services/api/.gitlab-ci.yml": "api:\n  script: [make api]\n",
        "vendor/lib/.gitlab-ci.yml": "lib:\n  script: [make lib]\n",
        "node_modules/x/.gitlab-ci.yml": "x:\n  script: [x]\n",
        ".gitlab-ci.yml": "spec:\n  inputs:\n    env:\n      default: dev\n---\njob:\n  script:\n    - echo $[[ inputs.env ]]\n",
    })
    assert [(p.path, [j.id for j in p.jobs]) for p in inventory.pipelines] == [
        (".gitlab-ci.yml", ["job"]), ("services/api/.gitlab-ci.yml", ["api"])
    ]
    assert inventory.pipelines[0].jobs[0].evidence.line_start == 6


def test_monorepo_child_pipelines_are_started_by_their_parent(make_repo):
    inventory = scan(make_repo, {
        ".gitlab-ci.yml": """
        api:
          trigger:
            include: services/api/.gitlab-ci.yml
            strategy: depend
          rules:
            - changes: [services/api/**/*]
        web:
          trigger:
            include:
              - local: /services/web/.gitlab-ci.yml
        """,
        "services/api/.gitlab-ci.yml": "test:\n  script: [make -C services/api test]\n",
        "services/web/.gitlab-ci.yml": "test:\n  script: [npm test]\n",
        "tools/.gitlab-ci.yml": "lint:\n  script: [make lint]\n",
    })
    triggers = {p.path: [(t.kind, t.event, t.evidence.path, t.evidence.line_start, t.filters.get("from"))
                         for t in p.triggers] for p in inventory.pipelines}
    assert triggers["services/api/.gitlab-ci.yml"] == [
        ("pipeline", "parent_pipeline", ".gitlab-ci.yml", 1, ["trigger job 'api' of .gitlab-ci.yml"])
    ]
    assert triggers["services/web/.gitlab-ci.yml"] == [
        ("pipeline", "parent_pipeline", ".gitlab-ci.yml", 7, ["trigger job 'web' of .gitlab-ci.yml"])
    ]
    # nothing starts tools/.gitlab-ci.yml from here: it keeps GitLab's default
    assert [t.kind for t in next(p for p in inventory.pipelines if p.path == "tools/.gitlab-ci.yml").triggers] == [
        "push"
    ]


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("job:\n  script: [unclosed\n", "invalid YAML"),
        ("- just\n- a list\n", "not a GitLab CI configuration: the top level is not a mapping"),
        ("build:\n  - make\n", "job 'build' is a list, not a mapping of job keywords; skipped"),
        ("build: make\n", "top-level key 'build' is neither a GitLab CI keyword nor a job"),
        ("stages: build\njob:\n  script: [x]\n", "'stages' is not a list of stage names"),
        ("job:\n  stage: test\n", "job 'job' has no script, run or trigger; GitLab refuses it"),
        ("job:\n  script: [x]\n  parallel: lots\n", "parallel is neither a number nor a mapping"),
        ("job:\n  script: [x]\n  needs: 3\n", "needs of job 'job' is not a list of job names"),
        ("job:\n  script: [x]\n  timeout: whenever\n", "timeout 'whenever' of job"),
        ("include:\n  - 42\njob:\n  script: [x]\n", "include entry is neither a path nor a mapping"),
        ("job:\n  script: [true]\n", "is a boolean, not a string"),
    ],
)
def test_bad_input_becomes_a_diagnostic(make_repo, text, expected):
    inventory = scan(make_repo, {".gitlab-ci.yml": text})
    assert any(expected in d.reason for d in inventory.diagnostics), reasons(inventory)
    assert all(d.path == ".gitlab-ci.yml" and d.line is not None for d in inventory.diagnostics)


def test_empty_file(make_repo):
    inventory = scan(make_repo, {".gitlab-ci.yml": "# nothing yet\n"})
    assert inventory.pipelines == []
    assert [(d.severity, d.reason) for d in inventory.diagnostics] == [
        ("info", "empty .gitlab-ci.yml: GitLab creates no pipeline from it")
    ]


def test_odd_types_everywhere_do_not_crash(make_repo):
    text = """
    default: [not, a, map]
    workflow: 12
    stages: [build, 3, null]
    job:
      stage: build
      script: {a: b, c: d}
      image: [x]
      environment: [prod]
      tags: {a: b}
      rules: not-a-list
      needs: [{job: null}, [], 5]
      cache: 7
      trigger: [x]
      extends: [[.x]]
      timeout: 3.5
      allow_failure: maybe
      when: [manual]
    """
    inventory = scan(make_repo, {".gitlab-ci.yml": text})
    job = inventory.pipelines[0].jobs[0]
    assert job.id == "job" and job.stage == "build"
    assert job.timeout_minutes == pytest.approx(3.5 / 60, abs=1e-3)  # a bare number is seconds
    assert (job.image, job.environment, job.runs_on, job.needs, job.caches, job.uses) == (None, None, [], [], [], None)
    assert any("is a mapping, not a string" in d.reason for d in inventory.diagnostics)


def test_billion_laughs_aliases_stay_bounded(make_repo):
    # .a9 is 9**9 script lines and .m7 a mapping 9**7 leaves wide, written in 20 short lines
    lines = [".a0: &a0 [echo lol]"]
    lines += [f".a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines += [".m0: &m0 {x: 1}"]
    lines += [f".m{i}: &m{i} {{{', '.join(f'k{j}: *m{i - 1}' for j in range(9))}}}" for i in range(1, 8)]
    text = "\n".join(lines) + "\n"
    text += ".base:\n  variables: *m7\njob:\n  extends: .base\n  variables: *m7\n  script: *a9\n"
    started = time.monotonic()
    inventory = scan(make_repo, {".gitlab-ci.yml": text})
    assert time.monotonic() - started < 5
    job = inventory.pipelines[0].jobs[0]
    assert len(job.steps) == 5000
    assert any("more than 5000 script lines" in d.reason for d in inventory.diagnostics)


def test_many_jobs_are_fast(make_repo):
    text = "stages: [a, b, c]\n" + "".join(
        f"job{i}:\n  stage: {'abc'[i % 3]}\n  script: [make {i}]\n" for i in range(1500)
    )
    started = time.monotonic()
    inventory = scan(make_repo, {".gitlab-ci.yml": text})
    assert time.monotonic() - started < 5
    assert len(inventory.pipelines[0].jobs) == 1500
    assert len(inventory.pipelines[0].jobs[2].needs) == 500  # stage c waits for all 500 jobs of stage b


def test_global_keywords_are_not_jobs_but_pages_is(make_repo):
    text = """
    image: node:20
    services: [postgres:16]
    before_script: [npm ci]
    after_script: [echo done]
    cache: {key: npm, paths: [.npm/]}
    variables: {A: b}
    workflow: {name: site}
    pages:
      script: [npm run build]
      artifacts: {paths: [public]}
    """
    _, pipeline = only_pipeline(make_repo, text)
    assert [j.id for j in pipeline.jobs] == ["pages"]
    pages = pipeline.jobs[0]
    # the deprecated global keywords act as defaults
    assert pages.image == "node:20"
    assert [(s.name, s.command, s.evidence.line_start) for s in pages.steps] == [
        ("before_script", "npm ci", 3), ("script", "npm run build", 9), ("after_script", "echo done", 4)
    ]
    assert [(c.key, c.evidence.line_start) for c in pages.caches] == [("npm", 5)]
    assert pipeline.name == "site"


def test_classic_anchor_style_with_aliased_jobs(make_repo):
    # the pre-`extends` style: several `<<:` merges per job, and jobs that are just an alias of a template
    text = """
    image: registry.example.com/build-images:ruby-3.2
    .runner: &runner
      retry: 1
      tags: [org-runner]
    .cache: &cache
      key: ruby-3.2
      paths: [vendor/ruby]
    .pull-cache: &pull-cache
      cache:
        <<: *cache
        policy: pull
    .except-docs: &except-docs
      except:
        - /(^docs[\\/-].*|.*-docs$)/
    before_script:
      - bundle --version
    stages: [prepare, test]
    .rspec: &rspec
      <<: *runner
      <<: *except-docs
      <<: *pull-cache
      stage: test
      script:
        - knapsack rspec
    setup:
      <<: *runner
      stage: prepare
      script: [bundle exec rake setup]
    rspec 0 2: *rspec
    rspec 1 2: *rspec
    docs lint:
      <<: *runner
      before_script: []
      cache: {}
      script:
        - docker run
            --volume "$PWD:/code"
            lint
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    assert inventory.diagnostics == []
    jobs = jobs_by_id(pipeline)
    assert list(jobs) == ["setup", "rspec 0 2", "rspec 1 2", "docs lint"]
    rspec = jobs["rspec 1 2"]
    # an aliased job's evidence is its own line; its steps point into the template
    assert (rspec.evidence.line_start, rspec.evidence.line_end) == (30, 30)
    assert (rspec.stage, rspec.needs, rspec.runs_on) == ("test", ["setup"], ["org-runner"])
    assert rspec.condition == "except: /(^docs[\\/-].*|.*-docs$)/"
    assert [(s.command, s.evidence.line_start) for s in rspec.steps] == [("bundle --version", 16),
                                                                        ("knapsack rspec", 24)]
    assert [(c.via, c.key, c.evidence.line_start, c.evidence.line_end) for c in rspec.caches] == [
        ("cache (policy: pull)", "ruby-3.2", 9, 11)
    ]
    lint = jobs["docs lint"]
    assert lint.caches == []  # cache: {} turns the cache off
    # a plain scalar folded over three lines is one command
    assert [(s.command, s.evidence.line_start, s.evidence.line_end) for s in lint.steps] == [
        ('docker run --volume "$PWD:/code" lint', 36, 38)
    ]
