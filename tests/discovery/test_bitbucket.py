"""Bitbucket Pipelines: `bitbucket-pipelines.yml` as people write it, and the broken ones they also write.

Expected values were worked out by hand from the Bitbucket Pipelines configuration reference and the fixture
text; line numbers count from the first line of the dedented fixture.
"""

from __future__ import annotations

import time

import pytest

from ..conftest import errors_of, run_detectors
from .conftest import lines, scanner

FILE = "bitbucket-pipelines.yml"

MAIN = """
image:
  name: python:3.12
  username: $DOCKER_USER
  password: $DOCKER_PASS
clone:
  depth: 50
options:
  max-time: 30
definitions:
  services:
    postgres:
      image: postgres:16
  caches:
    poetry:
      key:
        files:
          - poetry.lock
      path: ~/.cache/pypoetry
    bundler: vendor/bundle
  steps:
    - step: &test
        name: Test
        caches: [pip, poetry]
        services: [postgres]
        script:
          - poetry install
          - poetry run pytest
        after-script:
          - ./collect-logs.sh
pipelines:
  default:
    - step: *test
    - parallel:
        fail-fast: true
        steps:
          - step:
              name: Lint
              script: [ruff check .]
          - step:
              name: Types
              image: node:20
              script: [npx pyright]
    - step:
        name: Build
        runs-on: [self.hosted, linux]
        size: 2x
        script:
          - docker build -t app .
          - pipe: atlassian/bitbucket-upload-file:0.7.1
            variables:
              FILENAME: dist/app.tar
  branches:
    main:
      - step:
          <<: *test
          name: Test main
      - stage:
          name: Deploy to production
          deployment: production
          trigger: manual
          condition:
            changesets:
              includePaths: ["src/**", "deploy/**"]
          steps:
            - step:
                name: Migrate
                script: [./migrate.sh]
            - step:
                name: Release
                max-time: 10
                script:
                  - |
                    ./release.sh
                    ./notify.sh
    'feature/*':
      - step: *test
  tags:
    'v*':
      - step:
          script: [./publish.sh]
      - step:
          script: [./announce.sh]
  pull-requests:
    '**':
      - step:
          name: PR checks
          condition:
            changesets:
              excludePaths: [docs/**]
          script: [make check]
  custom:
    deploy-staging:
      - variables:
          - name: VERSION
            default: latest
          - name: REGION
            allowed-values: [eu, us]
      - step:
          name: Deploy staging
          deployment: staging
          script: [./deploy.sh staging $VERSION]
    # run every night by the schedule set up in Repository settings > Schedules
    e2e:
      - step:
          name: E2E
          trigger: manual
          script: [npm run e2e]
    shared:
      import: shared-pipelines:main:python-release
"""


scan = scanner("bitbucket-pipelines")




def reasons(inventory) -> list[str]:
    return [d.reason for d in inventory.diagnostics]


def pipeline(inventory, name: str):
    return next(p for p in inventory.pipelines if p.name == name)


def jobs(inventory, name: str) -> dict:
    return {job.id: job for job in pipeline(inventory, name).jobs}


# ------------------------------------------------------------------ the main fixture


def test_one_pipeline_per_start_condition(make_repo):
    inventory = scan(make_repo, {FILE: MAIN})
    found = [(p.name, p.id, lines(p)) for p in inventory.pipelines]
    assert found == [
        ("default", "bitbucket-pipelines:bitbucket-pipelines.yml#default", (31, 51)),
        ("branches: main", "bitbucket-pipelines:bitbucket-pipelines.yml#branches: main", (53, 74)),
        ("branches: feature/*", "bitbucket-pipelines:bitbucket-pipelines.yml#branches: feature/*", (75, 76)),
        ("tags: v*", "bitbucket-pipelines:bitbucket-pipelines.yml#tags: v*", (78, 82)),
        ("pull-requests: **", "bitbucket-pipelines:bitbucket-pipelines.yml#pull-requests: **", (84, 90)),
        ("custom: deploy-staging", "bitbucket-pipelines:bitbucket-pipelines.yml#custom: deploy-staging", (92, 101)),
        ("custom: e2e", "bitbucket-pipelines:bitbucket-pipelines.yml#custom: e2e", (103, 107)),
        ("custom: shared", "bitbucket-pipelines:bitbucket-pipelines.yml#custom: shared", (108, 109)),
    ]
    assert all(p.system == "bitbucket-pipelines" for p in inventory.pipelines)
    assert inventory.diagnostics == []
    assert inventory.schedules == []  # schedules are kept in the Bitbucket UI


def test_triggers_of_each_section(make_repo):
    inventory = scan(make_repo, {FILE: MAIN})
    found = {p.name: [(t.kind, t.event, t.cron, t.filters, lines(t)) for t in p.triggers]
             for p in inventory.pipelines}
    assert found == {
        "default": [("push", "default", None, {}, (31, 31))],
        "branches: main": [("push", "branches", None, {"branches": ["main"]}, (53, 53))],
        "branches: feature/*": [("push", "branches", None, {"branches": ["feature/*"]}, (75, 75))],
        "tags: v*": [("tag", "tags", None, {"tags": ["v*"]}, (78, 78))],
        "pull-requests: **": [("pull_request", "pull-requests", None, {"source_branches": ["**"]}, (84, 84))],
        "custom: deploy-staging": [("manual", "custom", None, {"variables": ["VERSION", "REGION"]}, (92, 92))],
        "custom: e2e": [
            ("manual", "custom", None, {}, (103, 103)),
            ("schedule", "schedule (set in the Bitbucket UI)", None, {}, (102, 102)),  # the comment says so
        ],
        "custom: shared": [("manual", "custom", None, {}, (108, 108))],
    }


def test_default_sequence_and_parallel_needs(make_repo):
    found = jobs(scan(make_repo, {FILE: MAIN}), "default")
    assert {k: (v.needs, v.needs_source, lines(v)) for k, v in found.items()} == {
        "Test": ([], "none", (32, 32)),
        "Lint": (["Test"], "sequence", (36, 38)),  # parallel steps need the step before the group
        "Types": (["Test"], "sequence", (39, 42)),
        "Build": (["Lint", "Types"], "sequence", (43, 51)),  # and the next step needs all of them
    }


def test_anchored_step_script_caches_and_after_script(make_repo):
    test = jobs(scan(make_repo, {FILE: MAIN}), "default")["Test"]
    assert test.name == "Test"
    assert (test.image, test.timeout_minutes) == ("python:3.12", 30.0)  # global image and options.max-time
    steps = [(s.kind, s.name, s.command, lines(s)) for s in test.steps]
    assert steps == [  # the lines of the anchored definition, where the commands are written
        ("script", None, "poetry install", (26, 26)),
        ("script", None, "poetry run pytest", (27, 27)),
        ("script", "after-script", "./collect-logs.sh", (29, 29)),
    ]
    caches = [(c.via, c.key, c.paths, lines(c)) for c in test.caches]
    assert caches == [
        ("cache 'pip' (predefined)", None, ["~/.cache/pip"], (23, 23)),
        ("cache 'poetry' (definitions)", "files: poetry.lock", ["~/.cache/pypoetry"], (23, 23)),
    ]


def test_step_image_runs_on_size_and_pipe(make_repo):
    found = jobs(scan(make_repo, {FILE: MAIN}), "default")
    assert found["Types"].image == "node:20"
    build = found["Build"]
    assert build.runs_on == ["self.hosted", "linux", "size:2x"]
    steps = [(s.kind, s.name, s.command, s.uses, lines(s)) for s in build.steps]
    assert steps == [
        ("script", None, "docker build -t app .", None, (48, 48)),
        ("uses", "atlassian/bitbucket-upload-file:0.7.1", None, "atlassian/bitbucket-upload-file:0.7.1", (49, 51)),
    ]


def test_merged_anchor_stage_deployment_manual_and_changesets(make_repo):
    inventory = scan(make_repo, {FILE: MAIN})
    main = pipeline(inventory, "branches: main")
    assert main.stages == ["Deploy to production"]
    found = {job.id: job for job in main.jobs}
    assert list(found) == ["Test main", "Migrate", "Release"]
    assert [s.command for s in found["Test main"].steps] == ["poetry install", "poetry run pytest", "./collect-logs.sh"]
    migrate, release = found["Migrate"], found["Release"]
    assert (migrate.stage, migrate.environment, migrate.needs) == ("Deploy to production", "production", ["Test main"])
    assert migrate.manual is True and migrate.blocking is True  # a manual stage waits before its first step
    assert release.manual is False and release.blocking is None
    assert release.needs == ["Migrate"]
    assert release.environment == "production"
    assert release.timeout_minutes == 10
    assert migrate.condition == release.condition == "changesets.includePaths: src/**, deploy/**"
    assert [(s.command, lines(s)) for s in release.steps] == [("./release.sh\n./notify.sh", (72, 74))]
    assert lines(release) == (68, 74)


def test_unnamed_steps_custom_pipelines_and_import(make_repo):
    inventory = scan(make_repo, {FILE: MAIN})
    tags = jobs(inventory, "tags: v*")
    assert {k: v.needs for k, v in tags.items()} == {"step-1": [], "step-2": ["step-1"]}
    assert jobs(inventory, "pull-requests: **")["PR checks"].condition == "changesets.excludePaths: docs/**"
    deploy = jobs(inventory, "custom: deploy-staging")["Deploy staging"]
    assert deploy.environment == "staging"
    assert deploy.steps[0].command == "./deploy.sh staging $VERSION"
    e2e = jobs(inventory, "custom: e2e")["E2E"]
    assert e2e.manual is True and e2e.blocking is True
    shared = pipeline(inventory, "custom: shared")
    assert shared.includes == ["import:shared-pipelines:main:python-release"]
    assert shared.jobs == []


# ------------------------------------------------------------------ variants


def test_repeated_and_missing_names_are_suffixed_with_their_position(make_repo):
    inventory = scan(make_repo, {FILE: """
        pipelines:
          default:
            - step:
                name: Build
                script: [make]
            - step:
                script: [make test]
            - step:
                name: Build
                script: [make again]
        """})
    found = jobs(inventory, "default")
    assert {k: (v.name, v.needs) for k, v in found.items()} == {
        "Build-1": ("Build", []),
        "step-2": (None, ["Build-1"]),
        "Build-3": ("Build", ["step-2"]),
    }


def test_an_empty_name_is_no_name(make_repo):
    # found by a type-confusion hunt: `name: ''` was "internal error in detector" (KeyError)
    inventory = scan(make_repo, {FILE: """
        pipelines:
          default:
            - step:
                name: ''
                script: [make]
            - step:
                name: Test
                script: [make test]
        """})
    assert errors_of(inventory) == []
    assert {k: v.needs for k, v in jobs(inventory, "default").items()} == {"step-1": [], "Test": ["step-1"]}


def test_parallel_groups_back_to_back_and_first(make_repo):
    inventory = scan(make_repo, {FILE: """
        pipelines:
          default:
            - parallel:
                - step: {name: a, script: [a]}
                - step: {name: b, script: [b]}
            - parallel:
                steps:
                  - step: {name: c, script: [c]}
                  - step: {name: d, script: [d]}
            - step: {name: e, script: [e]}
        """})
    assert {k: v.needs for k, v in jobs(inventory, "default").items()} == {
        "a": [], "b": [], "c": ["a", "b"], "d": ["a", "b"], "e": ["c", "d"]}
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("custom", "line"),
    [
        ("    nightly-build:\n      - step: {script: [make]}\n", 3),  # the name says so
        ("    report:  # scheduled weekly in the UI\n      - step: {script: [make]}\n", 3),
        ("    # Scheduled via Pipelines > Schedules (cron 0 2 * * *)\n    report:\n      - step: {script: [make]}\n", 3),
        ("    report:\n      - step: {script: [make]}\n", None),
        ("    # deploys a tag by hand\n    report:\n      - step: {script: [make]}\n", None),
    ],
)
def test_schedule_note_only_where_the_file_shows_it(make_repo, custom, line):
    inventory = scan(make_repo, {FILE: "pipelines:\n  custom:\n" + custom})
    [only] = inventory.pipelines
    notes = [lines(t)[0] for t in only.triggers if t.kind == "schedule"]
    assert notes == ([line] if line else [])
    assert all(t.cron is None for t in only.triggers)
    assert inventory.schedules == []


@pytest.mark.parametrize(
    ("cache", "via", "paths"),
    [
        ("node", "cache 'node' (predefined)", ["node_modules"]),
        ("docker", "cache 'docker' (predefined)", []),
        ("maven", "cache 'maven' (predefined)", ["~/.m2/repository"]),
        ("gradle", "cache 'gradle' (predefined)", ["~/.gradle/caches"]),
        ("composer", "cache 'composer' (predefined)", ["~/.composer/cache"]),
        ("bundler", "cache 'bundler' (definitions)", ["vendor/bundle"]),
        ("pip", "cache 'pip' (predefined)", ["~/.cache/pip"]),
    ],
)
def test_cache_names(make_repo, cache, via, paths):
    text = ("definitions:\n  caches:\n    bundler: vendor/bundle\npipelines:\n  default:\n    - step:\n"
            f"        caches:\n          - {cache}\n        script: [make]\n")
    [job] = scan(make_repo, {FILE: text}).pipelines[0].jobs
    assert [(c.via, c.paths, lines(c)) for c in job.caches] == [(via, paths, (8, 8))]


def test_definitions_options_image_and_clone_are_not_pipelines(make_repo):
    inventory = scan(make_repo, {FILE: """
        image: atlassian/default-image:4
        clone: {lfs: true}
        options: {docker: true, size: 2x}
        definitions:
          steps:
            - step: &lint
                name: Lint
                script: [make lint]
          pipelines:
            shared-release:
              - step: {script: [make release]}
        export: true
        pipelines:
          default:
            - step: *lint
        """})
    assert [p.name for p in inventory.pipelines] == ["default"]
    assert [j.id for j in inventory.pipelines[0].jobs] == ["Lint"]
    assert inventory.diagnostics == []


def test_secrets_in_scripts_are_redacted(make_repo):
    inventory = scan(make_repo, {FILE: "pipelines:\n  default:\n    - step:\n        script:\n"
                                       "          - aws s3 ls --profile AKIAIOSFODNN7EXAMPLF\n"})
    command = inventory.pipelines[0].jobs[0].steps[0].command
    assert command is not None and "AKIAIOSFODNN7EXAMPLF" not in command and "[REDACTED" in command


@pytest.mark.parametrize(
    ("path", "read"),
    [
        ("bitbucket-pipelines.yml", True),
        ("sub/bitbucket-pipelines.yml", False),  # Bitbucket reads only the root file
        ("bitbucket-pipelines.yaml", False),
    ],
)
def test_only_the_root_file_is_read(make_repo, path, read):
    inventory = scan(make_repo, {path: "pipelines:\n  default:\n    - step: {script: [make]}\n"})
    assert len(inventory.pipelines) == (1 if read else 0)


# ------------------------------------------------------------------ mistakes and bad input


@pytest.mark.parametrize(
    ("text", "expected", "line"),
    [
        ("image: x\n", "no 'pipelines' section", 1),
        ("pipelines:\n  - step: {script: [a]}\n", "'pipelines' is not a mapping", 1),
        ("pipelines:\n  branch:\n    main: []\n", "unknown pipelines section 'branch'", 2),
        ("pipelines:\n  default:\n    step: {script: [a]}\n", "pipeline 'default' is not a list of steps", 2),
        ("pipelines:\n  branches: [main]\n", "'branches' is not a mapping of patterns to pipelines", 2),
        ("pipelines:\n  default:\n    - steps: {script: [a]}\n", "unknown item 'steps'", 3),
        ("pipelines:\n  default:\n    - step: [make]\n", "'step' is not a mapping", 3),
        ("pipelines:\n  default:\n    - step:\n", "'step' is not a mapping", 3),
        ("pipelines:\n  default:\n    - make\n", "item 1 is not a step, parallel or stage mapping", 3),
        ("pipelines:\n  default:\n    - parallel:\n        - script: [a]\n", "expected '- step:' here", 4),
        ("pipelines:\n  default:\n    - parallel: 3\n", "expected a list of steps", 3),
        ("pipelines:\n  default:\n    - stage: [a]\n", "'stage' is not a mapping", 3),
        ("pipelines:\n  default:\n    - step:\n        name: x\n", "step 'x' has no 'script'", 3),
        ("pipelines:\n  default:\n    - step:\n        script: make all\n", "'script' is not a list of commands", 3),
        ("pipelines:\n  default:\n    - step:\n        script:\n          - {echo: hi}\n",
         "a script item is neither a command nor a pipe", 5),
        ("pipelines:\n  default:\n    - step:\n        caches: node\n        script: [a]\n",
         "'caches' is not a list of cache names", 3),
        ("pipelines:\n  default:\n    - step:\n        caches:\n          - nodejs\n        script: [a]\n",
         "cache 'nodejs' is neither predefined nor defined under 'definitions.caches'", 5),
        ("pipelines:\n  default:\n    - step:\n        caches:\n          - [a]\n        script: [a]\n",
         "a cache entry is not a name", 5),
    ],
)
def test_mistakes_become_diagnostics_with_lines(make_repo, text, expected, line):
    inventory = scan(make_repo, {FILE: text})
    found = [d for d in inventory.diagnostics if expected in d.reason]
    assert found, reasons(inventory)
    assert found[0].line == line
    assert found[0].detector == "bitbucket-pipelines"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pipelines:\n  default: [\n", "invalid YAML"),
        ("", "empty Bitbucket Pipelines file"),
        ("# nothing\n", "empty Bitbucket Pipelines file"),
        ("- step: {script: [a]}\n", "the top level is not a mapping"),
    ],
)
def test_unreadable_files(make_repo, text, expected):
    inventory = scan(make_repo, {FILE: text})
    assert inventory.pipelines == []
    assert any(expected in r for r in reasons(inventory)), reasons(inventory)


def test_script_written_as_a_string_is_still_one_step(make_repo):
    inventory = scan(make_repo, {FILE: "pipelines:\n  default:\n    - step:\n        script: make all\n"})
    [step] = inventory.pipelines[0].jobs[0].steps
    assert (step.kind, step.command, lines(step)) == ("script", "make all", (3, 4))


def test_odd_values_do_not_crash(make_repo):
    inventory = scan(make_repo, {FILE: """
        image: 42
        options: {max-time: "10"}
        definitions:
          caches: [not, a, map]
        pipelines:
          default:
            - variables: [1]
            - step:
                name: 123
                max-time: "5"
                size: 2
                deployment: 5
                runs-on: self.hosted
                trigger: true
                condition: {changesets: [a]}
                image: {username: u}
                script:
                  - 7
                  - null
                  - pipe: null
            - stage:
                steps: {step: x}
            - parallel: {steps: [{step: {script: [x]}}, 5]}
          custom:
            empty: []
            weird:
              import:
          tags: {}
        """})
    default = pipeline(inventory, "default")
    [job, parallel_job] = default.jobs
    assert job.id == "123"
    assert (job.image, job.timeout_minutes, job.runs_on, job.environment) == ("42", None, ["self.hosted", "size:2"], "5")
    assert job.manual is False and job.condition is None
    assert [(s.kind, s.command, s.uses) for s in job.steps] == [("script", "7", None), ("uses", None, None)]
    assert parallel_job.needs == ["123"]
    assert default.stages == ["stage 1"]
    assert pipeline(inventory, "custom: empty").jobs == []
    assert pipeline(inventory, "custom: weird").includes == []
    assert "pipeline 'custom: weird': 'import' names no shared pipeline" in reasons(inventory)


def test_big_file_is_fast(make_repo):
    steps = "".join(f"    - step:\n        name: s{i}\n        script:\n          - make part{i}\n" for i in range(3000))
    root = make_repo({FILE: "pipelines:\n  default:\n" + steps})
    started = time.perf_counter()
    inventory = run_detectors(root, "bitbucket-pipelines")
    assert time.perf_counter() - started < 5
    assert errors_of(inventory) == []
    found = inventory.pipelines[0].jobs
    assert len(found) == 3000
    assert found[-1].needs == ["s2998"]
    assert lines(found[-1].steps[0]) == (3 + 4 * 2999 + 3, 3 + 4 * 2999 + 3)  # 4 lines a step, from line 3


def test_bookmarks_section_for_mercurial_repositories(make_repo):
    inventory = scan(make_repo, {FILE: "pipelines:\n  bookmarks:\n    release-*:\n      - step: {script: [make]}\n"})
    [only] = inventory.pipelines
    assert only.name == "bookmarks: release-*"
    assert [(t.kind, t.event, t.filters, lines(t)) for t in only.triggers] == [
        ("push", "bookmarks", {"bookmarks": ["release-*"]}, (3, 3))]


# ------------------------------------------------------------------ Job.attributes


def test_attributes_of_the_main_fixture_keep_absent_keys_absent(make_repo):
    inventory = scan(make_repo, {FILE: MAIN})
    default = jobs(inventory, "default")
    assert {k: v.attributes for k, v in default.items()} == {
        "Test": {"services": "postgres"},  # from the anchored step
        "Lint": {},
        "Types": {},
        "Build": {"size": "2x"},  # its runs-on labels are in runs_on, so no 'runs-on' attribute
    }
    assert default["Build"].runs_on == ["self.hosted", "linux", "size:2x"]
    assert jobs(inventory, "branches: main")["Test main"].attributes == {"services": "postgres"}  # merged `<<: *test`
    assert jobs(inventory, "custom: e2e")["E2E"].attributes == {}


def test_attributes_services_size_and_oidc_with_global_options(make_repo):
    inventory = scan(make_repo, {FILE: """
        options:
          docker: true
          size: 2x
        definitions:
          services:
            redis:
              image: redis:7
            docker:
              memory: 2048
        pipelines:
          default:
            - step:
                name: Integration
                services: [redis, docker]
                size: 4x
                oidc: true
                runs-on: [self.hosted, linux]
                script: [make it]
            - step:
                name: Plain
                oidc: false
                script: [make]
        """})
    found = jobs(inventory, "default")
    assert found["Integration"].attributes == {"services": "redis, docker", "size": "4x", "oidc": "true"}
    assert found["Integration"].runs_on == ["self.hosted", "linux", "size:4x"]
    # options.docker gives every step a Docker service; options.size is every step's default size
    assert found["Plain"].attributes == {"services": "docker", "size": "2x"}
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("step", "attributes"),
    [
        ("services: [docker]", {"services": "docker"}),  # built in, needs no definition
        ("services: [postgres, postgres]", {"services": "postgres"}),
        ("size: 8x", {"size": "8x"}),
        ("oidc: true", {"oidc": "true"}),
        ("oidc: \"true\"", {}),  # a string, not the boolean Bitbucket asks for
        ("runs-on: self.hosted", {}),
    ],
)
def test_attribute_variants(make_repo, step, attributes):
    text = ("definitions:\n  services:\n    postgres:\n      image: postgres:16\npipelines:\n  default:\n"
            f"    - step:\n        {step}\n        script: [make]\n")
    [job] = scan(make_repo, {FILE: text}).pipelines[0].jobs
    assert job.attributes == attributes


@pytest.mark.parametrize(
    ("step", "reason", "line", "attributes"),
    [
        ("services: postgres", "step 'step-1': 'services' is not a list of service names", 4, {}),
        ("services:\n          - mysql", "step 'step-1': service 'mysql' is not defined under 'definitions.services'",
         5, {"services": "mysql"}),
        ("services:\n          - [a]", "step 'step-1': a service entry is not a name", 5, {}),
        ("runs-on: {labels: linux}", "step 'step-1': 'runs-on' is not a list of runner labels", 4, {}),
    ],
)
def test_attribute_mistakes_become_diagnostics(make_repo, step, reason, line, attributes):
    text = f"pipelines:\n  default:\n    - step:\n        {step}\n        script: [make]\n"
    inventory = scan(make_repo, {FILE: text})
    assert [(d.reason, d.line) for d in inventory.diagnostics] == [(reason, line)]
    assert inventory.pipelines[0].jobs[0].attributes == attributes


def test_plain_yes_and_on_are_true_as_bitbuckets_yaml_reads_them(make_repo):
    # Bitbucket reads its file with a YAML 1.1 parser: a plain `docker: yes` or `oidc: on` is true there, a quoted
    # "yes" a string
    inventory = scan(make_repo, {FILE: """
        options:
          docker: yes
        pipelines:
          default:
            - step:
                name: Deploy
                oidc: on
                script: [make deploy]
            - step:
                name: Quoted
                oidc: "yes"
                script: [make]
            - step:
                name: Plain
                oidc: no
                script: [make]
        """})
    found = jobs(inventory, "default")
    assert found["Deploy"].attributes == {"services": "docker", "oidc": "true"}
    assert found["Quoted"].attributes == {"services": "docker"}
    assert found["Plain"].attributes == {"services": "docker"}
