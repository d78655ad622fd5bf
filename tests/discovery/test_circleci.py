"""CircleCI: `.circleci/config.yml` in the forms people write it, and the broken ones they also write.

Expected values were worked out by hand from the CircleCI configuration reference and the fixture text;
line numbers count from the first line of the dedented fixture (MAIN carries them in a margin comment
where it helps).
"""

from __future__ import annotations

import time

import pytest

from ..conftest import errors_of, run_detectors
from .conftest import lines, scanner

CONFIG = ".circleci/config.yml"

MAIN = """
version: 2.1
orbs:
  node: circleci/node@5.1.0
  aws-ecr: circleci/aws-ecr@9.0.0
executors:
  py:
    docker:
      - image: cimg/python:3.12
    resource_class: large
commands:
  deps:
    steps:
      - restore_cache:
          keys:
            - v1-{{ checksum "poetry.lock" }}
            - v1-
      - run: poetry install
      - save_cache:
          key: v1-{{ checksum "poetry.lock" }}
          paths: [~/.cache/pypoetry]
jobs:
  build:
    executor: py
    steps:
      - checkout
      - deps
      - run:
          name: Test
          command: |
            pytest -q
            coverage xml
  web:
    docker:
      - image: cimg/node:20.1
      - image: postgres:16
    steps:
      - checkout
      - node/install-packages:
          pkg-manager: yarn
      - when:
          condition:
            equal: [main, << pipeline.git.branch >>]
          steps:
            - run: yarn deploy
  mac:
    macos:
      xcode: 15.2.0
    resource_class: macos.m1.medium.gen1
    steps:
      - run: xcodebuild test
workflows:
  version: 2
  ci:
    jobs:
      - build
      - web:
          requires: [build]
          matrix:
            parameters:
              node: ["18", "20"]
              os: [linux, mac]
            exclude:
              - {node: "18", os: mac}
      - mac:
          name: mac-tests
          requires: [build]
      - hold:
          type: approval
          requires: [web, mac-tests]
      - aws-ecr/build-and-push-image:
          requires: [hold]
          context: aws-prod
          filters:
            branches:
              only: main
            tags:
              only: /^v.*/
  nightly:
    triggers:
      - schedule:
          cron: "0 3 * * 1-5"
          filters:
            branches:
              only: [main]
    jobs: [build]
"""


scan = scanner("circleci")




def reasons(inventory) -> list[str]:
    return [d.reason for d in inventory.diagnostics]


def pipeline(inventory, name: str):
    return next(p for p in inventory.pipelines if p.name == name)


# ------------------------------------------------------------------ the main fixture


def test_one_pipeline_per_workflow_with_orbs_as_includes(make_repo):
    inventory = scan(make_repo, {CONFIG: MAIN})
    assert [p.name for p in inventory.pipelines] == ["ci", "nightly"]  # `version: 2` is no workflow
    ci = pipeline(inventory, "ci")
    assert ci.id == "circleci:.circleci/config.yml#ci"
    assert ci.system == "circleci"
    assert lines(ci) == (53, 77)
    assert ci.includes == ["orb:circleci/node@5.1.0", "orb:circleci/aws-ecr@9.0.0"]
    assert inventory.diagnostics == []


def test_workflow_jobs_needs_and_ids(make_repo):
    ci = pipeline(scan(make_repo, {CONFIG: MAIN}), "ci")
    jobs = {job.id: job for job in ci.jobs}
    assert list(jobs) == ["build", "web", "mac-tests", "hold", "aws-ecr/build-and-push-image"]
    assert jobs["build"].needs == [] and jobs["build"].needs_source == "none"
    assert jobs["web"].needs == ["build"] and jobs["web"].needs_source == "declared"
    assert jobs["mac-tests"].name == "mac"  # `name:` renames the job in the workflow
    assert jobs["hold"].needs == ["web", "mac-tests"]
    assert jobs["aws-ecr/build-and-push-image"].needs == ["hold"]


def test_executor_docker_machine_and_resource_class(make_repo):
    jobs = {job.id: job for job in pipeline(scan(make_repo, {CONFIG: MAIN}), "ci").jobs}
    build = jobs["build"]
    assert build.runs_on == ["docker", "resource_class:large"]  # through the `py` executor
    assert build.image == "cimg/python:3.12"
    assert lines(build) == (22, 31)
    assert jobs["web"].image == "cimg/node:20.1"  # the first image is the primary container
    assert jobs["web"].runs_on == ["docker"]
    assert jobs["mac-tests"].runs_on == ["macos:xcode 15.2.0", "resource_class:macos.m1.medium.gen1"]
    assert jobs["mac-tests"].image is None
    assert lines(jobs["mac-tests"]) == (45, 50)


def test_steps_with_kinds_commands_and_lines(make_repo):
    jobs = {job.id: job for job in pipeline(scan(make_repo, {CONFIG: MAIN}), "ci").jobs}
    build = [(s.kind, s.name, s.command, s.uses, lines(s)) for s in jobs["build"].steps]
    assert build == [
        ("checkout", "checkout", None, None, (25, 25)),
        ("uses", "deps", None, "deps", (26, 26)),  # a reusable command
        ("run", "Test", "pytest -q\ncoverage xml", None, (27, 31)),
    ]
    web = [(s.kind, s.name, s.command, lines(s)) for s in jobs["web"].steps]
    assert web == [
        ("checkout", "checkout", None, (37, 37)),
        ("uses", "node/install-packages", None, (38, 39)),
        ("other", "when equal(main, << pipeline.git.branch >>)", None, (40, 44)),
        ("run", None, "yarn deploy", (44, 44)),
    ]


def test_caches_from_cache_steps_inside_commands_and_orb_commands(make_repo):
    jobs = {job.id: job for job in pipeline(scan(make_repo, {CONFIG: MAIN}), "ci").jobs}
    build = [(c.via, c.key, c.paths, lines(c)) for c in jobs["build"].caches]
    assert build == [
        ("restore_cache", 'v1-{{ checksum "poetry.lock" }}, v1-', [], (13, 16)),
        ("save_cache", 'v1-{{ checksum "poetry.lock" }}', ["~/.cache/pypoetry"], (18, 20)),
    ]
    web = [(c.via, lines(c)) for c in jobs["web"].caches]
    assert web == [("node/install-packages", (38, 39))]  # the node orb caches by default


def test_matrix_fan_out_counts_exclusions(make_repo):
    web = next(j for j in pipeline(scan(make_repo, {CONFIG: MAIN}), "ci").jobs if j.id == "web")
    assert web.matrix is not None
    assert web.matrix.dimensions == {"node": ["18", "20"], "os": ["linux", "mac"]}
    assert web.matrix.exclude == 1
    assert web.matrix.fan_out == 3  # 2 x 2 - (18, mac)
    assert web.matrix.dynamic is False


def test_approval_job_is_manual_blocking_and_has_no_steps(make_repo):
    hold = next(j for j in pipeline(scan(make_repo, {CONFIG: MAIN}), "ci").jobs if j.id == "hold")
    assert hold.manual is True and hold.blocking is True
    assert hold.steps == []
    assert lines(hold) == (67, 69)


def test_orb_job_filters_and_tag_trigger(make_repo):
    ci = pipeline(scan(make_repo, {CONFIG: MAIN}), "ci")
    deploy = ci.jobs[-1]
    assert deploy.uses == "aws-ecr/build-and-push-image (circleci/aws-ecr@9.0.0)"
    assert deploy.condition == "branches.only: main; tags.only: /^v.*/"
    assert lines(deploy) == (70, 77)
    triggers = [(t.kind, t.event, t.filters, lines(t)) for t in ci.triggers]
    assert triggers == [
        ("push", "push", {}, (53, 53)),
        ("tag", "tag", {"tags": ["/^v.*/"]}, (70, 77)),  # jobs run for tags only when a filter names them
    ]


def test_scheduled_workflow_gives_trigger_and_utc_schedule(make_repo):
    inventory = scan(make_repo, {CONFIG: MAIN})
    nightly = pipeline(inventory, "nightly")
    assert [j.id for j in nightly.jobs] == ["build"]
    [trigger] = nightly.triggers  # a workflow with triggers runs on its schedule only
    assert (trigger.kind, trigger.cron, trigger.cron_explained) == ("schedule", "0 3 * * 1-5",
                                                                    "at 03:00 on Monday to Friday")
    assert trigger.filters == {"branches.only": ["main"]}
    assert lines(trigger) == (80, 84)
    [schedule] = inventory.schedules
    assert schedule.source == "circleci"
    assert schedule.timezone == "UTC"
    assert schedule.expression == "0 3 * * 1-5"
    assert schedule.target == "workflow 'nightly' (.circleci/config.yml)"
    assert lines(schedule) == (81, 81)  # the cron line; the trigger spans the whole `- schedule:` item


# ------------------------------------------------------------------ variants people write


def test_no_workflows_runs_the_build_job(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2
        jobs:
          build:
            docker:
              - image: circleci/ruby:2.7
            steps:
              - checkout
              - run: bundle exec rspec
        """})
    [only] = inventory.pipelines
    assert (only.id, only.name) == ("circleci:.circleci/config.yml#build", "build")
    [job] = only.jobs
    assert job.id == "build" and job.image == "circleci/ruby:2.7"
    assert [(s.kind, s.command) for s in job.steps] == [("checkout", None), ("run", "bundle exec rspec")]
    assert [(t.kind, lines(t)) for t in only.triggers] == [("push", (3, 8))]
    assert inventory.diagnostics == []


def test_no_workflows_and_no_build_job_is_reported(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          test:
            docker: [{image: cimg/base:stable}]
            steps: [checkout]
        """})
    assert inventory.pipelines == []
    assert any("neither 'workflows' nor a job named 'build'" in r for r in reasons(inventory))


def test_setup_config_and_continuation_config(make_repo):
    inventory = scan(make_repo, {
        CONFIG: """
            version: 2.1
            setup: true
            orbs:
              path-filtering: circleci/path-filtering@1.0.0
            workflows:
              generate-config:
                jobs:
                  - path-filtering/filter:
                      base-revision: main
                      config-path: .circleci/continue_config.yml
                      mapping: |
                        src/.* run-build true
            """,
        ".circleci/continue_config.yml": """
            version: 2.1
            parameters:
              run-build:
                type: boolean
                default: false
            jobs:
              build:
                docker: [{image: cimg/go:1.22}]
                steps: [checkout, {run: go test ./...}]
            workflows:
              build:
                when: << pipeline.parameters.run-build >>
                jobs: [build]
            """,
        ".circleci/images.yml": "images:\n  - cimg/go\n",  # some other YAML kept in the folder
    })
    setup = pipeline(inventory, "generate-config")
    assert [(j.id, j.uses) for j in setup.jobs] == [
        ("path-filtering/filter", "path-filtering/filter (circleci/path-filtering@1.0.0)")]
    assert setup.includes == ["orb:circleci/path-filtering@1.0.0"]
    continued = next(p for p in inventory.pipelines if p.path == ".circleci/continue_config.yml")
    assert continued.id == "circleci:.circleci/continue_config.yml#build"
    assert [(t.kind, t.filters) for t in continued.triggers] == [
        ("push", {"when": ["<< pipeline.parameters.run-build >>"]})]
    assert [s.command for s in continued.jobs[0].steps] == [None, "go test ./..."]
    assert len(inventory.pipelines) == 2
    assert inventory.diagnostics == []


def test_scheduled_pipeline_condition_is_a_schedule_without_cron(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            steps: [checkout]
        workflows:
          nightly:
            when:
              and:
                - equal: [scheduled_pipeline, << pipeline.trigger_source >>]
                - equal: ["nightly", << pipeline.schedule.name >>]
            jobs: [build]
          commit:
            when:
              not:
                equal: [scheduled_pipeline, << pipeline.trigger_source >>]
            jobs: [build]
        """})
    nightly = pipeline(inventory, "nightly")
    [trigger] = nightly.triggers
    assert (trigger.kind, trigger.event, trigger.cron) == ("schedule", "scheduled_pipeline", None)
    assert trigger.filters == {"when": [
        "and(equal(scheduled_pipeline, << pipeline.trigger_source >>), equal(nightly, << pipeline.schedule.name >>))"]}
    assert lines(trigger) == (8, 11)
    assert [t.kind for t in pipeline(inventory, "commit").triggers] == ["push"]
    assert inventory.schedules == []  # the schedule itself lives in CircleCI, not in the file


@pytest.mark.parametrize(
    ("environment", "runs_on", "image"),
    [
        ("machine: true", ["machine"], None),
        ("machine:\n      image: ubuntu-2204:current\n      docker_layer_caching: true",
         ["machine:ubuntu-2204:current"], None),
        ("executor: node/default", ["executor:node/default"], None),
        ("executor:\n      name: py\n    resource_class: xlarge", ["docker", "resource_class:xlarge"], "cimg/python:3.12"),
        ("docker:\n      - image: cimg/base:stable\n        auth: {username: u, password: $P}", ["docker"],
         "cimg/base:stable"),
        ("macos:\n      xcode: '15.0'", ["macos:xcode 15.0"], None),
    ],
)
def test_execution_environments(make_repo, environment, runs_on, image):
    config = (
        "version: 2.1\norbs:\n  node: circleci/node@5\nexecutors:\n  py:\n    docker: [{image: cimg/python:3.12}]\n"
        "    resource_class: large\njobs:\n  build:\n    " + environment + "\n    steps: [checkout]\n"
    )
    inventory = scan(make_repo, {CONFIG: config})
    [job] = inventory.pipelines[0].jobs
    assert (job.runs_on, job.image) == (runs_on, image)
    assert inventory.diagnostics == []


def test_pre_and_post_steps_requires_status_and_filter_expression(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            steps: [{run: make}]
          cleanup:
            docker: [{image: cimg/base:stable}]
            steps: [{run: make clean}]
        workflows:
          main:
            jobs:
              - build:
                  pre-steps:
                    - run: echo before
                  post-steps:
                    - run: echo after
              - cleanup:
                  requires:
                    - build: [success, failed]
                  filters: pipeline.git.branch == "main"
        """})
    build, cleanup = pipeline(inventory, "main").jobs
    assert [s.command for s in build.steps] == ["echo before", "make", "echo after"]
    assert cleanup.needs == ["build"]
    assert cleanup.condition == 'pipeline.git.branch == "main"'
    assert inventory.diagnostics == []


def test_matrix_alias_and_instance_requires(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          test:
            parameters:
              python: {type: string}
            docker: [{image: "cimg/python:<< parameters.python >>"}]
            steps: [checkout]
          report:
            docker: [{image: cimg/base:stable}]
            steps: [checkout]
        workflows:
          main:
            jobs:
              - test:
                  name: test-<< matrix.python >>
                  matrix:
                    alias: tests
                    parameters:
                      python: ["3.10", "3.11", "3.12"]
              - report:
                  requires: [tests, tests-3.12]
        """})
    test, report = pipeline(inventory, "main").jobs
    assert test.id == "tests" and test.name == "test"
    assert test.matrix is not None and test.matrix.fan_out == 3
    assert test.matrix.dimensions == {"python": ["3.10", "3.11", "3.12"]}
    assert report.needs == ["tests", "tests-3.12"]
    assert inventory.diagnostics == []


def test_dynamic_matrix_has_no_fan_out(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          test:
            docker: [{image: cimg/base:stable}]
            steps: [checkout]
        workflows:
          main:
            jobs:
              - test:
                  matrix:
                    parameters:
                      version: << pipeline.parameters.versions >>
        """})
    matrix = inventory.pipelines[0].jobs[0].matrix
    assert matrix is not None and matrix.dynamic is True and matrix.fan_out is None


@pytest.mark.parametrize(
    ("settings", "cached"),
    [
        ("node/install-packages", True),
        ("node/install-packages:\n          with-cache: false", False),
        ("python/install-packages:\n          pkg-manager: poetry", True),
        ("node/install", False),  # installs Node itself: no dependency cache
    ],
)
def test_orb_commands_with_built_in_caching(make_repo, settings, cached):
    config = (
        "version: 2.1\norbs:\n  node: circleci/node@5.2.0\n  python: circleci/python@2.1.1\njobs:\n  build:\n"
        "    docker: [{image: cimg/base:stable}]\n    steps:\n      - " + settings + "\n"
    )
    job = scan(make_repo, {CONFIG: config}).pipelines[0].jobs[0]
    assert job.steps[0].kind == "uses"
    assert bool(job.caches) is cached
    if cached:
        assert job.caches[0].via == settings.split(":", 1)[0]
        assert lines(job.caches[0]) == lines(job.steps[0])


def test_commands_that_call_each_other_and_themselves_terminate(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        commands:
          outer:
            steps:
              - inner
              - outer
          inner:
            steps:
              - save_cache: {key: k1, paths: [a]}
              - outer
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            steps: [outer, inner]
        """})
    job = inventory.pipelines[0].jobs[0]
    assert [s.uses for s in job.steps] == ["outer", "inner"]
    assert [(c.via, c.key, lines(c)) for c in job.caches] == [("save_cache", "k1", (9, 9))] * 2


def test_secrets_in_commands_are_redacted(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            steps:
              - run: aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLF
        """})
    command = inventory.pipelines[0].jobs[0].steps[0].command
    assert command is not None and "AKIAIOSFODNN7EXAMPLF" not in command and "[REDACTED" in command


# ------------------------------------------------------------------ mistakes and bad input


@pytest.mark.parametrize(
    ("text", "expected", "line"),
    [
        ("version: 2.1\njobs: {}\nworkflows:\n  main:\n    jobs: [lint]\n", "runs job 'lint', which is not defined", 5),
        ("version: 2.1\njobs:\n  a: {docker: [{image: x}], steps: [checkout]}\nworkflows:\n  main:\n    jobs:\n"
         "      - a:\n        requires: [b]\n", "they probably belong indented under 'a'", 7),
        ("version: 2.1\njobs:\n  a: {docker: [{image: x}], steps: [checkout]}\nworkflows:\n  main:\n    jobs:\n"
         "      - a: {requires: [b]}\n", "requires 'b', which is not a job of this workflow", 3),
        ("version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n    steps:\n      - run:\n          name: x\n",
         "'run' step without a command", 6),
        ("version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n    steps: [checkout, mystery]\n",
         "step 'mystery' is neither a built-in step nor a command", 5),
        ("version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n    steps: [slack/notify]\n",
         "refers to orb 'slack', which is not declared under 'orbs'", 5),
        ("version: 2.1\njobs:\n  build:\n    executor: nowhere\n    steps: [checkout]\n",
         "executor 'nowhere' is not defined under 'executors'", 4),
        ("version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n    steps: [checkout]\nworkflows:\n  main:\n"
         "    triggers:\n      - schedule:\n          cron: '61 * * * *'\n    jobs: [build]\n",
         "invalid cron '61 * * * *'", 9),
        ("version: 2.1\njobs:\n  a: {docker: [{image: x}], steps: [checkout]}\nworkflows:\n  main:\n    jobs: [a, a]\n",
         "lists job 'a' twice", 3),
        ("jobs:\n  build:\n    docker: [{image: x}]\n    steps: [checkout]\n", "has no 'version' key", 1),
        ("version: 2.1\nworkflows:\n  - main\n", "'workflows' is not a mapping", 2),
        ("version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n", "job 'build' has no 'steps'", 3),
        ("version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n    steps: checkout\n", "'steps' is not a list",
         None),
        ("version: 2.1\nworkflows:\n  main:\n    triggers: [{schedule: {}}]\n    jobs: []\n",
         "trigger without a 'schedule' holding a 'cron'", 4),
        ("version: 2.1\nworkflows:\n  main: [build]\n", "workflow 'main' is not a mapping", 3),
        ("version: 2.1\nworkflows:\n  main:\n    jobs:\n      - 123\n", "neither a job name nor a mapping", 5),
        ("version: 2.1\nworkflows:\n  main: {}\n", "workflow 'main' has no 'jobs' list", 3),
        ("version: 2.1\norbs: [node]\njobs: {}\n", "'orbs' is not a mapping", 2),
        ("version: 2.1\njobs: [build]\n", "'jobs' is not a mapping", 2),
    ],
)
def test_mistakes_become_diagnostics_with_lines(make_repo, text, expected, line):
    inventory = scan(make_repo, {CONFIG: text})
    found = [d for d in inventory.diagnostics if expected in d.reason]
    assert found, reasons(inventory)
    assert found[0].line == line
    assert found[0].detector == "circleci"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 2.1\njobs:\n  build: [\n", "invalid YAML"),
        ("", "empty CircleCI config"),
        ("# only a comment\n", "empty CircleCI config"),
        ("- version: 2.1\n", "top level is not a mapping"),
        ("just a string\n", "top level is not a mapping"),
    ],
)
def test_unreadable_configs(make_repo, text, expected):
    inventory = scan(make_repo, {CONFIG: text})
    assert inventory.pipelines == []
    assert any(expected in r for r in reasons(inventory)), reasons(inventory)


def test_wrong_types_everywhere_do_not_crash(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        orbs:
          node: 5
          inline-orb:
            commands: {hello: {steps: [{run: echo hi}]}}
          empty:
        executors: {py: [1, 2]}
        commands: {deps: 7}
        jobs:
          build:
            executor: {name: py}
            docker: notalist
            machine: false
            macos: 1
            resource_class: 42
            steps:
              - 12
              - run: 3.5
              - run: {command: [a, b]}
              - save_cache: [k]
              - restore_cache: {keys: k}
              - when: {condition: true, steps: {run: x}}
              - deps
              - {}
          other: 17
        workflows:
          main:
            triggers: {schedule: nope}
            when: [1, {a: b}]
            jobs:
              - build:
                  requires: {x: y}
                  matrix: [1]
                  filters: [branches]
                  type: 7
              - other
              - other2: 5
              - {}
              - [nested]
        """})
    main = pipeline(inventory, "main")
    ids = [j.id for j in main.jobs]
    assert ids == ["build", "other", "other2"]
    build = main.jobs[0]
    assert build.runs_on == ["executor:py", "resource_class:42"]  # `py` is not a usable executor mapping
    assert build.matrix is not None and build.matrix.dynamic is True
    assert [s.kind for s in build.steps] == ["run", "run", "cache", "cache", "other", "uses"]
    assert build.steps[0].command == "3.5"
    assert [c.key for c in build.caches] == [None, "k"]
    assert "orb:inline-orb@inline" in main.includes and "orb:5" in main.includes
    assert any("job 'other' is not a mapping" in r for r in reasons(inventory))


def test_deep_when_nesting_is_bounded(make_repo):
    depth = 40
    body = "      - run: top\n"
    indent = "      "
    for level in range(depth):
        body += f"{indent}- when:\n{indent}    condition: c{level}\n{indent}    steps:\n"
        indent += "        "
    body += f"{indent}- run: deepest\n"
    config = "version: 2.1\njobs:\n  build:\n    docker: [{image: x}]\n    steps:\n" + body
    job = scan(make_repo, {CONFIG: config}).pipelines[0].jobs[0]
    assert job.steps[0].command == "top"
    assert "deepest" not in [s.command for s in job.steps]  # past the nesting bound
    assert len(job.steps) == 1 + 9  # the top run and the `when` blocks up to the bound (depth 0..8)


def test_big_config_is_fast(make_repo):
    jobs = "".join(f"  job{i}:\n    docker: [{{image: cimg/base:stable}}]\n    steps:\n"
                   f"      - checkout\n      - run: make part{i}\n" for i in range(400))
    workflow = "".join(f"      - job{i}:\n          requires: [job{i - 1}]\n" for i in range(1, 400))
    config = f"version: 2.1\njobs:\n{jobs}workflows:\n  main:\n    jobs:\n      - job0\n{workflow}"
    root = make_repo({CONFIG: config})
    started = time.perf_counter()
    inventory = run_detectors(root, "circleci")
    assert time.perf_counter() - started < 5
    assert errors_of(inventory) == []
    main = inventory.pipelines[0]
    assert len(main.jobs) == 400
    assert main.jobs[-1].needs == ["job398"]
    assert inventory.diagnostics == []


def test_files_outside_the_circleci_folder_are_not_read(make_repo):
    inventory = scan(make_repo, {
        "docs/.circleci/config.yml": MAIN,
        ".circleci/orb/src/config.yml": MAIN,
        "config.yml": MAIN,
    })
    assert inventory.pipelines == [] and inventory.diagnostics == []


def test_unless_block_and_built_in_steps(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            steps:
              - checkout:
                  path: ~/src
              - setup_remote_docker:
                  docker_layer_caching: true
              - unless:
                  condition: << pipeline.parameters.skip-tests >>
                  steps:
                    - run:
                        name: Tests
                        command: make test
                        no_output_timeout: 30m
              - store_test_results: {path: reports}
              - persist_to_workspace: {root: ., paths: [dist]}
        """})
    steps = [(s.kind, s.name, s.command, lines(s)) for s in inventory.pipelines[0].jobs[0].steps]
    assert steps == [
        ("checkout", "checkout", None, (6, 7)),
        ("other", "setup_remote_docker", None, (8, 9)),
        ("other", "unless << pipeline.parameters.skip-tests >>", None, (10, 16)),
        ("run", "Tests", "make test", (13, 16)),
        ("other", "store_test_results", None, (17, 17)),
        ("other", "persist_to_workspace", None, (18, 18)),
    ]
    assert inventory.diagnostics == []


# ------------------------------------------------------------------ Job.attributes

ATTRIBUTES = """
version: 2.1
executors:
  big:
    docker: [{image: cimg/base:stable}]
    resource_class: xlarge
commands:
  slow-tests:
    steps:
      - run:
          command: make slow
          no_output_timeout: 1.5h
jobs:
  test:
    executor: big
    parallelism: 4
    steps:
      - checkout
      - run:
          command: make unit
          no_output_timeout: 20m
      - run:
          command: make integration
          no_output_timeout: 45m
      - run: make lint
  e2e:
    docker: [{image: cimg/node:20.1}]
    resource_class: medium+
    steps:
      - slow-tests
      - run:
          command: make report
          no_output_timeout: 30m
  deploy:
    docker: [{image: cimg/base:stable}]
    steps:
      - run: ./deploy.sh
workflows:
  main:
    jobs:
      - test
      - e2e:
          context: [org-global, aws-prod]
          requires: [test]
      - hold:
          type: approval
          context: release-approvers
          requires: [e2e]
      - deploy:
          context: aws-prod
          requires: [hold]
          pre-steps:
            - run:
                command: ./warm.sh
                no_output_timeout: 2h
"""


def test_attributes_context_parallelism_resource_class_and_largest_timeout(make_repo):
    inventory = scan(make_repo, {CONFIG: ATTRIBUTES})
    found = {job.id: job.attributes for job in inventory.pipelines[0].jobs}
    assert found == {
        # resource_class through the `big` executor; 45m is the longest of 20m and 45m
        "test": {"parallelism": "4", "resource_class": "xlarge", "no_output_timeout": "45m"},
        # context given as a list; 1.5h (90 min, in the reusable command) beats the job's own 30m
        "e2e": {"context": "org-global, aws-prod", "resource_class": "medium+", "no_output_timeout": "1.5h"},
        "hold": {"context": "release-approvers"},  # who may approve
        "deploy": {"context": "aws-prod", "no_output_timeout": "2h"},  # the timeout of a pre-step
    }
    assert inventory.diagnostics == []


def test_attributes_of_the_main_fixture_keep_absent_keys_absent(make_repo):
    inventory = scan(make_repo, {CONFIG: MAIN})
    found = {job.id: job.attributes for job in pipeline(inventory, "ci").jobs}
    assert found == {
        "build": {"resource_class": "large"},  # from the `py` executor; no parallelism, context or timeout
        "web": {},
        "mac-tests": {"resource_class": "macos.m1.medium.gen1"},
        "hold": {},
        "aws-ecr/build-and-push-image": {"context": "aws-prod"},  # an orb job: only what the entry says
    }
    assert [job.attributes for job in pipeline(inventory, "nightly").jobs] == [{"resource_class": "large"}]


def test_attributes_of_the_build_job_without_workflows(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            parallelism: 2
            steps:
              - run: {command: make, no_output_timeout: 15m}
        """})
    [job] = inventory.pipelines[0].jobs
    assert job.attributes == {"parallelism": "2", "no_output_timeout": "15m"}


@pytest.mark.parametrize(
    ("timeouts", "largest"),
    [
        (["90s", "2m"], "2m"),  # 120 s
        (["1h30m", "95m"], "95m"),  # 5400 s < 5700 s: a Go duration sum
        (["10m", "600s"], "10m"),  # equal: the first one written
        (["1.25h", "75m", "4500s"], "1.25h"),  # all 4500 s
        (["500ms", "0"], "500ms"),
        (["<< parameters.t >>"], "<< parameters.t >>"),  # nothing to compare: as written
        (["<< parameters.t >>", "5m"], "5m"),
    ],
)
def test_largest_no_output_timeout(make_repo, timeouts, largest):
    runs = "".join(f"      - run:\n          command: step{i}\n          no_output_timeout: \"{t}\"\n"
                   for i, t in enumerate(timeouts))
    config = ("version: 2.1\njobs:\n  build:\n    parameters:\n      t: {type: string, default: 5m}\n"
              "    docker: [{image: cimg/base:stable}]\n    steps:\n" + runs)
    inventory = scan(make_repo, {CONFIG: config})
    assert inventory.pipelines[0].jobs[0].attributes == {"no_output_timeout": largest}
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("soon", "run step: no_output_timeout 'soon' is not a duration with a unit such as 20m, 1.25h or 90s"),
        ("600", "run step: no_output_timeout '600' is not a duration with a unit such as 20m, 1.25h or 90s"),
        ("20 m", "run step: no_output_timeout '20 m' is not a duration with a unit such as 20m, 1.25h or 90s"),
        ("-5m", "run step: no_output_timeout '-5m' is not a duration with a unit such as 20m, 1.25h or 90s"),
        ("", "run step: no_output_timeout holds no duration (expected a duration with a unit such as 20m, "
             "1.25h or 90s)"),
        ("[20m]", "run step: no_output_timeout holds no duration (expected a duration with a unit such as 20m, "
                  "1.25h or 90s)"),
    ],
)
def test_bad_no_output_timeout_is_reported_and_left_out(make_repo, value, reason):
    inventory = scan(make_repo, {CONFIG: f"""
        version: 2.1
        jobs:
          build:
            docker: [{{image: cimg/base:stable}}]
            steps:
              - run:
                  command: make
                  no_output_timeout: {value}
        """})
    assert inventory.pipelines[0].jobs[0].attributes == {}
    assert [(d.reason, d.line) for d in inventory.diagnostics] == [(reason, 8)]


def test_attributes_as_written_and_odd_types(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          sized:
            parameters:
              n: {type: integer, default: 2}
              size: {type: string, default: large}
            docker: [{image: cimg/base:stable}]
            parallelism: << parameters.n >>
            resource_class: << parameters.size >>
            steps: [checkout]
          odd:
            docker: [{image: cimg/base:stable}]
            parallelism: [1, 2]
            resource_class: {name: large}
            steps: [checkout]
        workflows:
          main:
            jobs:
              - sized:
                  context: 42
              - odd:
                  context: {name: aws}
        """})
    sized, odd = inventory.pipelines[0].jobs
    assert sized.attributes == {"context": "42", "parallelism": "<< parameters.n >>",
                                "resource_class": "<< parameters.size >>"}
    assert odd.attributes == {}  # collections where a name or number belongs are not facts
    assert [(d.reason, d.line) for d in inventory.diagnostics] == [
        ("job 'odd': 'parallelism' is not a number", 13),
        ("'context' is not a context name or a list of names", 22),
    ]


def test_context_list_with_a_non_name_keeps_the_names(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            steps: [checkout]
        workflows:
          main:
            jobs:
              - build:
                  context:
                    - org-global
                    - {name: x}
                    - aws-prod
        """})
    assert inventory.pipelines[0].jobs[0].attributes == {"context": "org-global, aws-prod"}
    assert [(d.reason, d.line) for d in inventory.diagnostics] == [
        ("'context' is not a context name or a list of names", 10)]


def test_attribute_values_are_redacted(make_repo):
    inventory = scan(make_repo, {CONFIG: """
        version: 2.1
        jobs:
          build:
            docker: [{image: cimg/base:stable}]
            steps: [checkout]
        workflows:
          main:
            jobs:
              - build:
                  context: AKIAIOSFODNN7EXAMPLF
        """})
    context = inventory.pipelines[0].jobs[0].attributes["context"]
    assert "AKIAIOSFODNN7EXAMPLF" not in context and "[REDACTED" in context


def test_orb_job_parameters_carry_their_meaning(make_repo):
    from tests.conftest import run_detectors

    config = """\
version: 2.1
orbs:
  aws-ecs: circleci/aws-ecs@4.0.0
workflows:
  deploy:
    jobs:
      - aws-ecs/deploy-service-update:
          name: deploy-staging
          environment: staging
          cluster: web-staging
          family: web
          context: aws
      - aws-ecs/deploy-service-update:
          name: deploy-prod
          stage: production
          requires: [deploy-staging]
"""
    inventory = run_detectors(make_repo({".circleci/config.yml": config}), "circleci")
    jobs = {j.id: j for p in inventory.pipelines for j in p.jobs}
    staging, prod = jobs["deploy-staging"], jobs["deploy-prod"]
    assert staging.environment == "staging" and prod.environment == "production"
    assert staging.attributes["parameters"] == "environment=staging; cluster=web-staging; family=web"
    assert staging.attributes["context"] == "aws"
    assert prod.attributes["parameters"] == "stage=production"


def test_plain_yes_no_on_off_are_booleans_as_circlecis_yaml_reads_them(make_repo):
    # CircleCI's config compiler reads YAML 1.1 (SnakeYAML): a plain yes/no/on/off is a boolean, a quoted one a
    # string, y/n strings
    config = """
        version: 2.1
        orbs:
          node: circleci/node@5.2.0
        jobs:
          build:
            machine: no
            docker: [{image: cimg/base:stable}]
            steps:
              - node/install-packages:
                  with-cache: off
              - when:
                  condition: yes
                  steps: [checkout]
          test:
            docker: [{image: cimg/base:stable}]
            steps: [checkout]
        workflows:
          main:
            jobs:
              - build
              - test:
                  coverage: on
                  quoted: "yes"
                  short: y
                  matrix:
                    parameters:
                      strict: [yes, no]
                    exclude:
                      - strict: no
        """
    inventory = scan(make_repo, {CONFIG: config})
    build, test = (job for job in inventory.pipelines[0].jobs)
    assert build.runs_on == ["docker"]  # `machine: no` asks for no machine
    assert build.caches == []  # the orb's cache is off
    assert [s.name for s in build.steps][:2] == ["node/install-packages", "when true"]
    assert test.attributes["parameters"] == "coverage=true; quoted=yes; short=y"
    assert test.matrix is not None
    assert (test.matrix.dimensions, test.matrix.fan_out) == ({"strict": ["true", "false"]}, 1)
