"""Azure Pipelines YAML in the forms people write it, and the broken files they also write.

Expected values were worked out by hand from the Azure Pipelines YAML schema reference and the fixture text;
line numbers count from the first line of the dedented fixture.
"""

from __future__ import annotations

import pytest

from .conftest import scanner

MAIN = """
trigger:
  branches:
    include: [main, releases/*]
    exclude: [releases/old*]
  paths:
    exclude: [docs/*]
  tags:
    include: ['v*']

pr:
  - main

schedules:
  - cron: "0 3 * * 1-5"
    displayName: Nightly
    branches:
      include: [main]
    always: true

resources:
  pipelines:
    - pipeline: upstream
      source: Upstream-CI
      trigger:
        branches: [main]

pool:
  vmImage: ubuntu-latest

stages:
  - stage: Build
    jobs:
      - job: Compile
        displayName: Compile it
        timeoutInMinutes: 30
        strategy:
          matrix:
            linux: {imageName: ubuntu-latest}
            mac: {imageName: macos-latest}
        steps:
          - checkout: self
          - task: Cache@2
            inputs:
              key: 'npm | "$(Agent.OS)" | package-lock.json'
              path: $(npm_config_cache)
          - script: npm ci
            displayName: Install
          - bash: |
              npm run build
              npm test
          - ${{ if eq(parameters.lint, true) }}:
            - pwsh: ./lint.ps1
          - template: steps/publish.yml
      - job: Package
        dependsOn: Compile
        steps:
          - script: npm pack
  - stage: Test
    pool: {name: SelfHosted}
    jobs:
      - job: E2E
        continueOnError: true
        steps:
          - powershell: ./e2e.ps1
  - stage: Deploy
    dependsOn: [Build, Test]
    condition: and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))
    jobs:
      - job: Approve
        pool: server
        steps:
          - task: ManualValidation@0
            inputs: {notifyUsers: ops@example.com}
      - deployment: Prod
        dependsOn: Approve
        environment:
          name: production
          resourceType: Kubernetes
        strategy:
          runOnce:
            preDeploy:
              steps:
                - script: ./migrate.sh
            deploy:
              steps:
                - script: ./deploy.sh
            on:
              failure:
                steps:
                  - script: ./rollback.sh
"""


scan = scanner("azure-pipelines")


def only_pipeline(make_repo, text, path="azure-pipelines.yml"):
    inventory = scan(make_repo, {path: text})
    assert len(inventory.pipelines) == 1
    return inventory, inventory.pipelines[0]


def jobs_by_id(pipeline):
    return {job.id: job for job in pipeline.jobs}


def reasons(inventory):
    return [(d.line, d.reason) for d in inventory.diagnostics]


def test_stages_jobs_and_their_order(make_repo):
    inventory, pipeline = only_pipeline(make_repo, MAIN)
    assert inventory.diagnostics == []
    assert (pipeline.id, pipeline.system, pipeline.kind) == (
        "azure-pipelines:azure-pipelines.yml", "azure-pipelines", "pipeline")
    assert pipeline.stages == ["Build", "Test", "Deploy"]
    assert [(j.id, j.stage, j.needs, j.needs_source) for j in pipeline.jobs] == [
        ("Build.Compile", "Build", [], "none"),
        ("Build.Package", "Build", ["Build.Compile"], "declared"),
        # Test has no dependsOn: it follows Build, so its job waits for every Build job
        ("Test.E2E", "Test", ["Build.Compile", "Build.Package"], "stage-order"),
        ("Deploy.Approve", "Deploy", ["Build.Compile", "Build.Package", "Test.E2E"], "stage-order"),
        ("Deploy.Prod", "Deploy", ["Deploy.Approve"], "declared"),
    ]
    assert [(j.evidence.line_start, j.evidence.line_end) for j in pipeline.jobs] == [
        (33, 53), (54, 57), (61, 64), (69, 73), (74, 90)
    ]
    assert pipeline.includes == ["steps/publish.yml"]


def test_steps_kinds_and_lines(make_repo):
    _, pipeline = only_pipeline(make_repo, MAIN)
    jobs = jobs_by_id(pipeline)
    compile_ = jobs["Build.Compile"]
    assert [(s.kind, s.name, s.command, s.uses, s.shell, s.evidence.line_start, s.evidence.line_end)
            for s in compile_.steps] == [
        ("checkout", None, None, "self", None, 41, 41),
        ("cache", None, None, "Cache@2", None, 42, 45),
        ("script", "Install", "npm ci", None, None, 46, 47),
        ("run", None, "npm run build\nnpm test", None, "bash", 48, 50),
        ("run", None, "./lint.ps1", None, "pwsh", 52, 52),  # read through the ${{ if }} insertion
        ("template", None, None, "steps/publish.yml", None, 53, 53),
    ]
    assert [(c.via, c.key, c.paths, c.evidence.line_start) for c in compile_.caches] == [
        ("Cache@2", 'npm | "$(Agent.OS)" | package-lock.json', ["$(npm_config_cache)"], 42)
    ]
    assert [(s.kind, s.shell, s.command) for s in jobs["Test.E2E"].steps] == [("run", "powershell", "./e2e.ps1")]
    # deployment lifecycle hooks in the order they run
    assert [(s.command, s.evidence.line_start) for s in jobs["Deploy.Prod"].steps] == [
        ("./migrate.sh", 83), ("./deploy.sh", 86), ("./rollback.sh", 90)
    ]


def test_job_attributes(make_repo):
    _, pipeline = only_pipeline(make_repo, MAIN)
    jobs = jobs_by_id(pipeline)
    compile_, e2e, approve, prod = (jobs[k] for k in ("Build.Compile", "Test.E2E", "Deploy.Approve", "Deploy.Prod"))
    assert (compile_.name, compile_.timeout_minutes, compile_.runs_on) == ("Compile it", 30, ["ubuntu-latest"])
    assert (compile_.matrix.dimensions, compile_.matrix.fan_out) == ({"leg": ["linux", "mac"]}, 2)
    assert (e2e.runs_on, e2e.allow_failure) == (["SelfHosted"], True)  # stage pool overrides the pipeline's
    # ManualValidation@0 makes the job manual and blocking
    assert (approve.runs_on, approve.manual, approve.blocking) == (["server"], True, True)
    assert [s.kind for s in approve.steps] == ["approval"]
    assert approve.condition == "stage: and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))"
    # a deployment job's approvals live in Azure DevOps, not in the file: environment, not manual
    assert (prod.environment, prod.manual, prod.blocking) == ("production", False, None)


def test_triggers_and_schedules(make_repo):
    inventory, pipeline = only_pipeline(make_repo, MAIN)
    assert [(t.kind, t.event, t.evidence.line_start, t.evidence.line_end) for t in pipeline.triggers] == [
        ("push", "trigger", 1, 8),
        ("tag", "trigger", 1, 8),
        ("pull_request", "pr", 10, 11),
        ("schedule", "schedules", 14, 18),
        ("pipeline", "resources.pipelines", 22, 25),
    ]
    push, tag, pr, schedule, upstream = pipeline.triggers
    assert push.filters == {"branches.include": ["main", "releases/*"], "branches.exclude": ["releases/old*"],
                            "paths.exclude": ["docs/*"]}
    assert tag.filters == {"tags.include": ["v*"]}
    assert pr.filters == {"branches.include": ["main"]}
    assert (schedule.cron, schedule.cron_explained) == ("0 3 * * 1-5", "at 03:00 on Monday to Friday")
    assert schedule.filters == {"branches.include": ["main"], "always": ["true"], "displayName": ["Nightly"]}
    assert upstream.filters == {"pipeline": ["Upstream-CI"], "branches.include": ["main"]}
    assert [(s.source, s.expression, s.timezone, s.target, s.evidence.line_start) for s in inventory.schedules] == [
        ("azure-pipelines", "0 3 * * 1-5", "UTC", "pipeline 'azure-pipelines.yml' (Nightly)", 14)
    ]


STEPS = "steps:\n  - script: make\n"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("trigger: none\n", []),
        ("trigger: [main, develop]\n", [("push", {"branches.include": ["main", "develop"]})]),
        ("trigger:\n  - main\n", [("push", {"branches.include": ["main"]})]),
        ("trigger: main\n", [("push", {"branches.include": ["main"]})]),
        ("trigger:\n  batch: true\n  branches:\n    include: ['*']\n",
         [("push", {"branches.include": ["*"], "batch": ["true"]})]),
        ("trigger:\n  tags:\n    include: [v*]\n    exclude: [v0*]\n",
         [("tag", {"tags.include": ["v*"], "tags.exclude": ["v0*"]})]),
        ("trigger: none\npr: none\n", []),
        ("trigger: none\npr:\n  autoCancel: false\n  branches:\n    include: [main]\n  paths:\n    exclude: [docs]\n"
         "  drafts: false\n",
         [("pull_request", {"branches.include": ["main"], "paths.exclude": ["docs"], "drafts": ["false"],
                            "autoCancel": ["false"]})]),
        ("trigger: none\nresources:\n  repositories:\n    - repository: tools\n      type: git\n"
         "      name: Proj/tools\n      trigger: [main]\n",
         [("other", {"repository": ["Proj/tools"], "branches.include": ["main"]})]),
        ("trigger: none\nresources:\n  pipelines:\n    - pipeline: up\n      source: Up\n      trigger: none\n"
         "    - pipeline: up2\n      source: Up2\n      trigger: true\n",
         [("pipeline", {"pipeline": ["Up2"]})]),
    ],
)
def test_trigger_forms(make_repo, head, expected):
    _, pipeline = only_pipeline(make_repo, head + STEPS)
    assert [(t.kind, t.filters) for t in pipeline.triggers] == expected


def test_no_trigger_key_means_the_implied_ci_trigger(make_repo):
    _, pipeline = only_pipeline(make_repo, "pool: {vmImage: windows-latest}\n" + STEPS)
    assert [(t.kind, t.event, t.evidence.line_start, t.evidence.line_end) for t in pipeline.triggers] == [
        ("push", "trigger", 1, 3)
    ]
    assert "push to any branch" in pipeline.triggers[0].filters["default"][0]


def test_steps_only_pipeline_has_one_implicit_job(make_repo):
    text = """
    trigger: [main]
    pool:
      vmImage: ubuntu-22.04
    container: python:3.12
    timeoutInMinutes: 20
    steps:
      - script: pip install tox
      - script: tox -e py312
    """
    _, pipeline = only_pipeline(make_repo, text)
    assert pipeline.stages == []
    job = pipeline.jobs[0]
    assert (job.id, job.stage, job.runs_on, job.image, job.timeout_minutes) == (
        "job", None, ["ubuntu-22.04"], "python:3.12", 20)
    assert (job.evidence.line_start, job.evidence.line_end) == (6, 8)
    assert [(s.command, s.evidence.line_start) for s in job.steps] == [("pip install tox", 7), ("tox -e py312", 8)]


def test_jobs_without_stages_keep_plain_ids(make_repo):
    text = """
    jobs:
      - job: lint
        steps: [{script: make lint}]
      - job: test
        steps: [{script: make test}]
      - job: report
        dependsOn: [lint, test]
        condition: succeededOrFailed()
        steps: [{script: make report}]
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    assert [(j.id, j.needs, j.needs_source, j.condition) for j in pipeline.jobs] == [
        ("lint", [], "none", None),
        ("test", [], "none", None),
        ("report", ["lint", "test"], "declared", "succeededOrFailed()"),
    ]
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("deploy_depends", "job_depends", "expected"),
    [
        ("", "", (["B.b"], "stage-order")),  # default: the previous stage
        ("    dependsOn: A\n", "", (["A.a"], "stage-order")),
        ("    dependsOn: [A, B]\n", "", (["A.a", "B.b"], "stage-order")),
        ("    dependsOn: []\n", "", ([], "none")),  # runs in parallel with the others
        ("", "        dependsOn: []\n", (["B.b"], "stage-order")),  # no job dependency: still waits for B
        ("", "        dependsOn: first\n", (["C.first"], "declared")),
    ],
)
def test_stage_dependencies(make_repo, deploy_depends, job_depends, expected):
    text = (
        "stages:\n"
        "  - stage: A\n    jobs: [{job: a, steps: [{script: a}]}]\n"
        "  - stage: B\n    jobs: [{job: b, steps: [{script: b}]}]\n"
        f"  - stage: C\n{deploy_depends}    jobs:\n"
        "      - job: first\n        steps: [{script: c}]\n"
        f"      - job: second\n{job_depends}        steps: [{{script: d}}]\n"
    )
    inventory, pipeline = only_pipeline(make_repo, text)
    second = jobs_by_id(pipeline)["C.second"]
    assert (second.needs, second.needs_source) == expected
    assert inventory.diagnostics == []


def test_unknown_dependencies_are_diagnostics(make_repo):
    text = """
    stages:
      - stage: Build
        jobs:
          - job: compile
            steps: [{script: make}]
      - stage: Deploy
        dependsOn: Biuld
        jobs:
          - job: ship
            dependsOn: compile
            steps: [{script: make ship}]
    """
    inventory, _ = only_pipeline(make_repo, text)
    assert reasons(inventory) == [
        (6, "stage 'Deploy' depends on 'Biuld', which is not a stage of this pipeline"),
        (9, "job 'Deploy.ship' depends on 'compile', which is not a job of stage 'Deploy'"),
    ]


def test_templates_are_placeholders_and_includes(make_repo):
    text = """
    variables:
      - template: vars/common.yml
      - name: A
        value: b
    stages:
      - stage: Build
        jobs:
          - template: jobs/build.yml
            parameters: {os: linux}
          - job: Docs
            steps: [{script: make docs}]
      - template: stages/deploy.yml@templates
      - stage: Verify
        jobs:
          - job: smoke
            steps: [{script: ./smoke.sh}]
    """
    _, pipeline = only_pipeline(make_repo, text)
    assert pipeline.includes == ["vars/common.yml", "jobs/build.yml", "stages/deploy.yml@templates"]
    assert pipeline.stages == ["Build", "template:stages/deploy.yml@templates", "Verify"]
    assert [(j.id, j.uses, j.needs, j.evidence.line_start) for j in pipeline.jobs] == [
        ("Build.template:jobs/build.yml", "jobs/build.yml", [], 8),
        ("Build.Docs", None, [], 10),
        ("template:stages/deploy.yml@templates", "stages/deploy.yml@templates",
         ["Build.template:jobs/build.yml", "Build.Docs"], 12),
        ("Verify.smoke", None, ["template:stages/deploy.yml@templates"], 15),
    ]
    assert pipeline.jobs[0].steps[0].kind == "template"


def test_extends_template(make_repo):
    text = "trigger: [main]\nextends:\n  template: pipelines/secure.yml@templates\n  parameters:\n    x: 1\n"
    _, pipeline = only_pipeline(make_repo, text)
    assert pipeline.includes == ["pipelines/secure.yml@templates"]
    assert pipeline.jobs == []
    assert [t.kind for t in pipeline.triggers] == ["push"]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [("environment: staging", "staging"), ("environment: prod.web-vm", "prod.web-vm"),
     ("environment:\n      name: prod\n      resourceName: web", "prod")],
)
def test_deployment_environment_forms(make_repo, environment, expected):
    text = (f"jobs:\n  - deployment: Deploy\n    {environment}\n    strategy:\n      rolling:\n        maxParallel: 2\n"
            "        deploy:\n          steps:\n            - script: ./roll.sh\n")
    _, pipeline = only_pipeline(make_repo, text)
    job = pipeline.jobs[0]
    assert (job.id, job.environment, job.manual, [s.command for s in job.steps]) == (
        "Deploy", expected, False, ["./roll.sh"])


def test_canary_hooks_and_manual_intervention(make_repo):
    text = """
    jobs:
      - deployment: Canary
        environment: prod
        strategy:
          canary:
            increments: [10, 20]
            deploy:
              steps: [{script: ./canary.sh}]
            routeTraffic:
              steps: [{script: ./route.sh}]
            postRouteTraffic:
              steps:
                - task: ManualIntervention@8
            on:
              success:
                steps: [{script: ./promote.sh}]
    """
    _, pipeline = only_pipeline(make_repo, text)
    job = pipeline.jobs[0]
    assert [(s.kind, s.command or s.uses) for s in job.steps] == [
        ("script", "./canary.sh"), ("script", "./route.sh"), ("approval", "ManualIntervention@8"),
        ("script", "./promote.sh"),
    ]
    assert (job.manual, job.blocking, job.environment, job.matrix) == (True, True, "prod", None)


@pytest.mark.parametrize(
    ("strategy", "fan_out", "dynamic"),
    [
        ("strategy:\n      matrix:\n        py311: {v: '3.11'}\n        py312: {v: '3.12'}\n        py313: {v: '3.13'}\n"
         "      maxParallel: 2", 3, False),
        ("strategy:\n      matrix: $[ dependencies.gen.outputs['legs.json'] ]", None, True),
        ("strategy:\n      parallel: 4", 4, False),
    ],
)
def test_matrix_forms(make_repo, strategy, fan_out, dynamic):
    _, pipeline = only_pipeline(make_repo, f"jobs:\n  - job: t\n    {strategy}\n    steps: [{{script: x}}]\n")
    matrix = pipeline.jobs[0].matrix
    assert (matrix.fan_out, matrix.dynamic) == (fan_out, dynamic)


def test_each_insertion_in_jobs_and_job_pool_forms(make_repo):
    text = """
    jobs:
      - ${{ each os in parameters.oses }}:
        - job: build_${{ os }}
          pool:
            name: Azure Pipelines
            vmImage: ${{ os }}
          steps: [{script: make}]
      - job: agent
        pool: Linux-Pool
        timeoutInMinutes: 0
        steps: [{script: make}]
    """
    _, pipeline = only_pipeline(make_repo, text)
    assert [(j.id, j.runs_on, j.timeout_minutes) for j in pipeline.jobs] == [
        ("build_${{ os }}", ["${{ os }}", "Azure Pipelines"], None),
        ("agent", ["Linux-Pool"], None),  # 0 means the longest the agent allows
    ]


@pytest.mark.parametrize(("value", "minutes"), [("45", 45), ("'45'", 45), ("0", None), ("-5", None), ("inf", None),
                                               ("nan", None), ("${{ parameters.t }}", None), ("true", None)])
def test_timeout_values(make_repo, value, minutes):
    _, pipeline = only_pipeline(make_repo, f"timeoutInMinutes: {value}\n" + STEPS)
    assert pipeline.jobs[0].timeout_minutes == minutes


def test_secret_in_a_script_is_redacted(make_repo):
    token = "ghp_" + "Zx8vQ2mN4kL7pR1sT9wYa3Bc5De7Fg9Hi1Jk"
    _, pipeline = only_pipeline(make_repo, f"steps:\n  - bash: git clone https://x:{token}@github.com/o/r\n")
    command = pipeline.jobs[0].steps[0].command or ""
    assert token not in command and "REDACTED" in command


# ------------------------------------------------------------------ which files


def test_which_files_are_read(make_repo):
    files = {
        ".azure-pipelines/ci.yml": "trigger: [main]\n" + STEPS,
        ".azure-pipelines/variables.yml": "variables:\n  A: b\n",  # a variables template: not a pipeline
        ".azure-pipelines/templates/build.yml": "parameters:\n  - name: os\nsteps:\n  - script: make\n",
        ".azure-pipelines/templates/notes.md": "# not yaml\n",
        "azure-pipelines/release.yaml": "trigger: none\nstages:\n  - stage: R\n    jobs: [{job: r, steps: [{script: r}]}]\n",
        "services/api/azure-pipelines.yaml": STEPS,
        "ci/build.yml": "trigger: [main]\n" + STEPS,  # found by its content: a hinted folder, Azure keys
        "Build/Release-Pipeline.yaml": "schedules:\n  - cron: '0 3 * * *'\n    branches: {include: [main]}\n"
                                       "pool: {vmImage: ubuntu-latest}\nsteps:\n  - bash: make\n",
        "deploy/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",  # hinted, not Azure
        "ci/lint.yml": "stages: [test]\nlint:\n  script: [make lint]\n",  # GitLab-like content, not Azure
        "node_modules/pkg/azure-pipelines.yml": STEPS,
    }
    inventory = scan(make_repo, files)
    assert [(p.path, p.kind, [t.kind for t in p.triggers]) for p in inventory.pipelines] == [
        (".azure-pipelines/ci.yml", "pipeline", ["push"]),
        (".azure-pipelines/templates/build.yml", "template", []),
        ("Build/Release-Pipeline.yaml", "pipeline", ["push", "schedule"]),
        ("azure-pipelines/release.yaml", "pipeline", []),
        ("ci/build.yml", "pipeline", ["push"]),
        ("services/api/azure-pipelines.yaml", "pipeline", ["push"]),
    ]
    assert inventory.diagnostics == []


def test_template_folder_file_with_trigger_is_a_pipeline(make_repo):
    _, pipeline = only_pipeline(make_repo, "trigger: [main]\n" + STEPS, ".azure-pipelines/templates/ci.yml")
    assert pipeline.kind == "pipeline"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("steps:\n  - script: [unclosed\n", None, "invalid YAML"),
        ("- a\n- b\n", 1, "not an Azure pipeline: the top level is not a mapping"),
        ("name: x\nvariables: {a: b}\n", 1, "not an Azure pipeline: no trigger, pr, schedules, stages, jobs"),
        ("jobs: not-a-list\n", 1, "'jobs' is not a list"),
        ("stages:\n  - stage: A\n    jobs: {job: a}\n", 3, "'jobs' is not a list"),
        ("jobs:\n  - build\n", 2, "an entry of 'jobs' is not a mapping"),
        ("jobs:\n  - pool: x\n    steps: []\n", 2, "job entry has neither 'job', 'deployment' nor 'template'"),
        ("steps:\n  - checkoutt: self\n", 2, "step has none of script"),
        ("steps:\n  - script:\n      - a\n      - b\n", 2, "'script' step is not a string"),
        ("schedules: '0 3 * * *'\n" + STEPS, 1, "'schedules' is not a list"),
        ("schedules:\n  - displayName: x\n" + STEPS, 2, "schedule entry without a 'cron' string"),
        ("schedules:\n  - cron: '0 25 * * *'\n" + STEPS, 2, "invalid cron '0 25 * * *'"),
        ("stages:\n  - jobs: []\n", 2, "stage entry without a 'stage' name"),
        ("stages:\n  - stage: A\n", 2, "stage 'A' has no jobs"),
        ("stages:\n  - stage: A\n    jobs: []\n  - stage: A\n    jobs: []\n", 4, "stage 'A' is defined twice"),
        ("jobs:\n  - job: a\n    steps: []\n  - job: a\n    steps: []\n", 4, "job 'a' is defined twice"),
        ("pr: 5\n" + STEPS, 1, "'pr' is neither none, a branch list nor a mapping"),
        ("extends: secure.yml\n", 1, "'extends' is not a mapping with a 'template'"),
    ],
)
def test_bad_input_becomes_a_diagnostic(make_repo, text, line, expected):
    inventory = scan(make_repo, {"azure-pipelines.yml": text})
    found = [(d.line, d.reason) for d in inventory.diagnostics if expected in d.reason]
    assert found, reasons(inventory)
    if line is not None:
        assert found[0][0] == line


def test_invalid_cron_still_lists_the_schedule(make_repo):
    inventory = scan(make_repo, {"azure-pipelines.yml": "schedules:\n  - cron: '0 25 * * *'\n" + STEPS})
    assert [(s.expression, s.explanation) for s in inventory.schedules] == [("0 25 * * *", "invalid cron expression")]


def test_empty_named_file(make_repo):
    inventory = scan(make_repo, {"azure-pipelines.yml": "# todo\n"})
    assert inventory.pipelines == []
    assert reasons(inventory) == [(1, "not an Azure pipeline: empty file")]


def test_odd_types_do_not_crash(make_repo):
    text = """
    trigger: {branches: 5, tags: [1, 2]}
    pr: [1, 2]
    pool: [a, b]
    resources: [x]
    variables: 7
    stages:
      - stage: 5
        dependsOn: {a: b}
        pool: {vmImage: [x]}
        jobs:
          - job: [x]
            timeoutInMinutes: '30'
            strategy: [matrix]
            environment: {name: [x]}
            container: {image: 5}
            steps:
              - task: 5
              - checkout: {a: b}
              - template: [x]
              - ${{ if true }}: not-a-list
              - bash: 12
    """
    inventory = scan(make_repo, {"azure-pipelines.yml": text})
    job = inventory.pipelines[0].jobs[0]
    assert (job.id, job.timeout_minutes, job.image, job.matrix) == ("5.job", 30, "5", None)
    assert [(s.kind, s.command) for s in job.steps] == [("uses", None), ("checkout", None), ("template", None),
                                                         ("run", "12")]


def test_many_stages_are_fast(make_repo):
    import time

    text = "stages:\n" + "".join(
        f"  - stage: s{i}\n    jobs:\n" + "".join(f"      - job: j{k}\n        steps: [{{script: x}}]\n" for k in range(5))
        for i in range(400)
    )
    started = time.monotonic()
    inventory = scan(make_repo, {"azure-pipelines.yml": text})
    assert time.monotonic() - started < 5
    pipeline = inventory.pipelines[0]
    assert len(pipeline.jobs) == 2000
    assert pipeline.jobs[-1].needs == [f"s398.j{k}" for k in range(5)]


@pytest.mark.parametrize(
    ("task", "kind"),
    [("Cache@2", "cache"), ("CacheBeta@1", "cache"),
     ("1ESLighthouseEng.PipelineArtifactCaching.RestoreCacheV1.RestoreCache@1", "cache"),
     ("ManualValidation@0", "approval"), ("manualvalidation@1", "approval"), ("NodeTool@0", "uses"),
     ("AzureCLI@2", "uses")],
)
def test_task_kinds(make_repo, task, kind):
    _, pipeline = only_pipeline(make_repo, f"steps:\n  - task: {task}\n    inputs: {{keyfile: a.lock, targetfolder: b}}\n")
    job = pipeline.jobs[0]
    assert (job.steps[0].kind, job.steps[0].uses) == (kind, task)
    assert job.manual is (kind == "approval")
    if kind == "cache":
        assert [(c.key, c.paths) for c in job.caches] == [("a.lock", ["b"])]


def test_stages_handed_to_an_extends_template(make_repo):
    # the governed-template pattern (1ES pipeline templates): stages are parameters of the extended template
    text = """
    trigger:
      branches:
        include: [main]
    resources:
      repositories:
        - repository: 1esPipelines
          type: git
          name: 1ESPipelineTemplates/1ESPipelineTemplates
          ref: refs/tags/release
    extends:
      template: v1/1ES.Official.PipelineTemplate.yml@1esPipelines
      parameters:
        pool:
          name: Azure-Pipelines-1ESPT-ExDShared
          os: windows
        stages:
          - stage: Build
            jobs:
              - job: Build
                steps:
                  - script: dotnet build
          - stage: Release
            jobs:
              - deployment: Publish
                environment: nuget
                strategy:
                  runOnce:
                    deploy:
                      steps:
                        - script: dotnet nuget push
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    assert pipeline.includes == ["v1/1ES.Official.PipelineTemplate.yml@1esPipelines"]
    assert [(t.kind, t.evidence.line_start) for t in pipeline.triggers] == [("push", 1)]  # no repository trigger
    assert pipeline.stages == ["Build", "Release"]
    assert [(j.id, j.needs, j.runs_on, j.environment, [(s.command, s.evidence.line_start) for s in j.steps])
            for j in pipeline.jobs] == [
        ("Build.Build", [], ["Azure-Pipelines-1ESPT-ExDShared"], None, [("dotnet build", 21)]),
        ("Release.Publish", ["Build.Build"], ["Azure-Pipelines-1ESPT-ExDShared"], "nuget",
         [("dotnet nuget push", 30)]),
    ]
    assert inventory.diagnostics == []


def test_variables_lists_with_groups_and_templates(make_repo):
    text = """
    variables:
      - group: release-secrets
      - name: configuration
        value: Release
      - ${{ if eq(variables['Build.SourceBranchName'], 'main') }}:
        - template: vars/main.yml
    stages:
      - stage: A
        variables:
          - template: vars/stage-a.yml
        jobs:
          - job: a
            variables: {X: y}
            steps: [{script: echo $(configuration)}]
    """
    inventory, pipeline = only_pipeline(make_repo, text)
    assert pipeline.includes == ["vars/main.yml", "vars/stage-a.yml"]
    assert inventory.diagnostics == []


def test_files_pulled_in_as_templates_are_templates(make_repo):
    files = {
        "build/azure-pipelines/ci.yml": "trigger: [main]\njobs:\n  - template: jobs/build.yml\n",
        # alone, these look like pipelines; ci.yml and build.yml pull them in, so they are templates
        "build/azure-pipelines/jobs/build.yml": "jobs:\n  - job: build\n    steps:\n      - template: ../common/setup.yml\n",
        "build/azure-pipelines/common/setup.yml": "steps:\n  - script: npm ci\n",
        "build/azure-pipelines/common/unused.yml": "steps:\n  - script: echo\n",
        "build/azure-pipelines/release.yml": "pr: none\nstages:\n  - template: /build/azure-pipelines/stages/rel.yml\n",
        "build/azure-pipelines/stages/rel.yml": "stages:\n  - stage: R\n    jobs: [{job: r, steps: [{script: r}]}]\n",
    }
    inventory = scan(make_repo, files)
    assert [(p.path, p.kind, [t.kind for t in p.triggers]) for p in inventory.pipelines] == [
        ("build/azure-pipelines/ci.yml", "pipeline", ["push"]),
        ("build/azure-pipelines/common/setup.yml", "template", []),
        ("build/azure-pipelines/common/unused.yml", "pipeline", ["push"]),  # nothing says otherwise
        ("build/azure-pipelines/jobs/build.yml", "template", []),
        ("build/azure-pipelines/release.yml", "pipeline", ["push"]),
        ("build/azure-pipelines/stages/rel.yml", "template", []),
    ]


TEST_TEMPLATE = """\
parameters:
  - name: shards
    type: number
    default: 2
  - name: minutes
    default: 30
jobs:
  - job: test
    timeoutInMinutes: ${{ parameters.minutes }}
    strategy:
      parallel: ${{ parameters.shards }}
    steps:
      - script: make test
"""


@pytest.mark.parametrize(
    ("entry", "fan_out", "timeout", "parameters"),
    [
        ("  - template: templates/test.yml\n    parameters:\n      shards: 4\n", 4, 30, "shards=4"),
        ("  - template: /templates/test.yml\n", 2, 30, None),  # the declared defaults
        ("  - template: templates/test.yml@other-repo\n    parameters: {shards: 8}\n", None, None, "shards=8"),
        ("  - template: templates/missing.yml\n", None, None, None),
    ],
)
def test_local_job_templates_are_expanded_for_parallel_and_timeout(make_repo, entry, fan_out, timeout, parameters):
    from tests.conftest import run_detectors

    inventory = run_detectors(make_repo({"azure-pipelines.yml": "trigger: [main]\njobs:\n" + entry,
                                         "templates/test.yml": TEST_TEMPLATE}), "azure-pipelines")
    pipeline = next(p for p in inventory.pipelines if p.path == "azure-pipelines.yml")
    (job,) = pipeline.jobs
    assert (job.matrix.fan_out if job.matrix else None, job.timeout_minutes) == (fan_out, timeout)
    assert job.attributes.get("parameters") == parameters


@pytest.mark.parametrize(
    ("flag", "value"),
    [("yes", "true"), ("'Y'", "true"), ("ON", "true"), ("true", "true"), ("no", "false"), ("'Off'", "false"),
     ("maybe", None)],
)
def test_booleans_are_read_as_azure_reads_them(make_repo, flag, value):
    # Azure Pipelines takes true/y/yes/on and false/n/no/off as booleans, quoted or not, in any casing (YAML schema,
    # "boolean"): a plain `yes` is not the text "yes", and `enabled: no` turns a resource trigger off
    text = (f"trigger: none\npr:\n  autoCancel: {flag}\n  branches:\n    include: [main]\n"
            f"resources:\n  pipelines:\n    - pipeline: up\n      source: Up\n      trigger:\n        enabled: {flag}\n"
            f"jobs:\n  - job: build\n    continueOnError: {flag}\n    steps:\n      - script: make\n")
    _, pipeline = only_pipeline(make_repo, text)
    assert pipeline.jobs[0].allow_failure is (value == "true")
    assert [t.kind for t in pipeline.triggers] == ["pull_request"] + ([] if value == "false" else ["pipeline"])
    assert pipeline.triggers[0].filters["autoCancel"] == [value or "maybe"]
