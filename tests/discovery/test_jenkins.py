"""Jenkins: Jenkinsfiles, declarative and scripted, as people write them, and the broken ones they also write.

Expected values were worked out by hand from the Jenkins Pipeline syntax reference and the fixture text;
line numbers count from the first line of the dedented fixture (the margin numbers in DECLARATIVE and
SCRIPTED are for the reader, they are not in the file).
"""

from __future__ import annotations

import time

import pytest

from orchestrator_kit.cron import explain_cron

from ..conftest import errors_of, run_detectors
from .conftest import lines, scanner

DECLARATIVE = """
#!groovy
@Library('shared-lib@v2') _

def helper = "x" // not a step { brace in comment
/* block { comment
   } */
pipeline {
    agent { docker { image 'node:20'; label 'linux' } }
    options {
        timeout(time: 1, unit: 'HOURS')
        disableConcurrentBuilds(abortPrevious: true)
    }
    triggers {
        cron('H 2 * * 1-5')
        pollSCM('H/15 * * * *')
        upstream(upstreamProjects: 'lib-a,lib-b', threshold: hudson.model.Result.SUCCESS)
    }
    parameters {
        string(name: 'TARGET', defaultValue: 'staging')
        booleanParam(name: 'DRY_RUN', defaultValue: true)
    }
    environment { REGISTRY = 'ghcr.io/acme' }
    stages {
        stage('Checkout') {
            steps {
                checkout scm
            }
        }
        stage('Build') {
            options { timeout(time: 30, unit: 'MINUTES') }
            steps {
                sh 'npm ci'
                sh label: 'Compile', script: \"\"\"
                    npm run build -- --env=${params.TARGET}
                    echo "done }"
                \"\"\"
                script {
                    def version = sh(script: 'git describe --tags', returnStdout: true).trim()
                    echo "version ${version}"
                }
            }
        }
        stage('Tests') {
            parallel {
                stage('Unit') {
                    steps { sh 'npm test' }
                }
                stage('Lint') {
                    agent { label 'small' }
                    steps {
                        withCredentials([string(credentialsId: 'x', variable: 'T')]) {
                            bat 'lint.cmd'
                        }
                    }
                }
            }
        }
        stage('Deploy') {
            when { branch 'main' }
            input {
                message 'Deploy to production?'
                ok 'Ship it'
            }
            steps {
                sh '''
                    ./deploy.sh prod
                    curl -X POST https://hooks.example.com/deploy
                '''
            }
            post {
                failure { echo 'deploy failed' }
            }
        }
    }
    post {
        always { junit 'reports/**/*.xml' }
    }
}
"""

SCRIPTED = """
properties([
    pipelineTriggers([cron('H H(0-5) * * *')]),
    buildDiscarder(logRotator(numToKeepStr: '10'))
])

node('linux') {
    stage('Checkout') {
        checkout scm
    }
    stage('Build') {
        timeout(time: 20, unit: 'MINUTES') {
            sh "./gradlew build"
        }
    }
    stage('Test') {
        parallel(
            'unit': {
                sh './gradlew test'
            },
            'integration': {
                sh './gradlew integrationTest'
            }
        )
    }
    stage('Publish') {
        if (env.BRANCH_NAME == 'main') {
            def ok = input(message: 'Publish?', ok: 'Yes')
            sh './gradlew publish'
        }
    }
}
"""


scan = scanner("jenkins")




def reasons(inventory) -> list[str]:
    return [d.reason for d in inventory.diagnostics]


def jobs_of(inventory) -> dict:
    [pipeline] = inventory.pipelines
    return {job.id: job for job in pipeline.jobs}


def declarative(stages: str, head: str = "agent any") -> str:
    """A pipeline around `stages` (given without indentation); `head` goes before `stages`."""
    body = "\n".join("        " + line if line else "" for line in stages.strip("\n").split("\n"))
    return f"pipeline {{\n    {head}\n    stages {{\n{body}\n    }}\n}}\n"


# ------------------------------------------------------------------ declarative


def test_declarative_pipeline_identity_includes_and_options(make_repo):
    inventory = scan(make_repo, {"Jenkinsfile": DECLARATIVE})
    [pipeline] = inventory.pipelines
    assert (pipeline.id, pipeline.system, pipeline.name, pipeline.path) == (
        "jenkins:Jenkinsfile", "jenkins", "Jenkinsfile", "Jenkinsfile")
    assert lines(pipeline) == (7, 78)
    assert pipeline.includes == ["library:shared-lib@v2"]
    assert pipeline.concurrency == "disableConcurrentBuilds (abortPrevious)"
    assert inventory.diagnostics == []


def test_declarative_stages_become_jobs_in_sequence_and_parallel(make_repo):
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": DECLARATIVE}))
    assert list(jobs) == ["Checkout", "Build", "Tests/Unit", "Tests/Lint", "Deploy", "post"]
    needs = {job_id: (job.needs, job.needs_source) for job_id, job in jobs.items()}
    assert needs == {
        "Checkout": ([], "none"),
        "Build": (["Checkout"], "sequence"),
        "Tests/Unit": (["Build"], "sequence"),  # parallel stages all need the stage before the group
        "Tests/Lint": (["Build"], "sequence"),
        "Deploy": (["Tests/Unit", "Tests/Lint"], "sequence"),  # and the next stage needs all of them
        "post": (["Deploy"], "sequence"),
    }
    spans = {job_id: lines(job) for job_id, job in jobs.items()}
    assert spans == {"Checkout": (24, 28), "Build": (29, 42), "Tests/Unit": (45, 47), "Tests/Lint": (48, 55),
                     "Deploy": (58, 73), "post": (75, 77)}
    assert (jobs["Tests/Unit"].name, jobs["Tests/Unit"].stage) == ("Unit", "Tests")


def test_agents_and_timeouts_inherit_and_override(make_repo):
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": DECLARATIVE}))
    assert (jobs["Checkout"].runs_on, jobs["Checkout"].image) == (["linux"], "node:20")
    assert (jobs["Tests/Lint"].runs_on, jobs["Tests/Lint"].image) == (["small"], None)  # its own agent
    assert jobs["Build"].timeout_minutes == 30  # stage options
    assert jobs["Checkout"].timeout_minutes == 60  # the pipeline's 1 hour bounds every stage


def test_run_steps_with_strings_of_every_quoting(make_repo):
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": DECLARATIVE}))
    build = [(s.kind, s.name, s.command, s.shell, lines(s)) for s in jobs["Build"].steps]
    assert build == [
        ("run", None, "npm ci", "sh", (32, 32)),
        ("run", "Compile", 'npm run build -- --env=${params.TARGET}\necho "done }"', "sh", (33, 36)),
        ("other", "script", None, None, (37, 40)),
        ("run", None, "git describe --tags", "sh", (38, 38)),
        ("other", "echo", None, None, (39, 39)),
    ]
    assert [(s.kind, s.name, lines(s)) for s in jobs["Checkout"].steps] == [("checkout", "checkout", (26, 26))]
    lint = [(s.kind, s.name, s.command, s.shell, lines(s)) for s in jobs["Tests/Lint"].steps]
    assert lint == [("other", "withCredentials", None, None, (51, 53)), ("run", None, "lint.cmd", "bat", (52, 52))]


def test_input_when_and_post(make_repo):
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": DECLARATIVE}))
    deploy = jobs["Deploy"]
    assert deploy.condition == "branch 'main'"
    assert deploy.manual is True and deploy.blocking is True
    steps = [(s.kind, s.name, s.command, lines(s)) for s in deploy.steps]
    assert steps == [
        ("approval", "input: Deploy to production?", None, (60, 63)),
        ("run", None, "./deploy.sh prod\ncurl -X POST https://hooks.example.com/deploy", (65, 68)),
        ("other", "post failure: echo", None, (71, 71)),
    ]
    post = jobs["post"]
    assert post.condition == "post: always"
    assert [(s.name, lines(s)) for s in post.steps] == [("post always: junit", (76, 76))]
    assert jobs["Build"].manual is False and jobs["Build"].blocking is None


def test_triggers_parameters_and_schedules(make_repo):
    inventory = scan(make_repo, {"Jenkinsfile": DECLARATIVE})
    triggers = [(t.kind, t.event, t.cron, t.filters, lines(t)) for t in inventory.pipelines[0].triggers]
    assert triggers == [
        ("schedule", "cron", "H 2 * * 1-5", {}, (14, 14)),
        ("push", "pollSCM", "H/15 * * * *", {}, (15, 15)),
        ("pipeline", "upstream", None, {"upstreamProjects": ["lib-a", "lib-b"]}, (16, 16)),
        ("manual", "parameters", None, {"parameters": ["TARGET", "DRY_RUN"]}, (18, 21)),
    ]
    cron = inventory.pipelines[0].triggers[0]
    assert cron.cron_explained == explain_cron("H 2 * * 1-5")
    assert "Monday to Friday" in (cron.cron_explained or "")
    schedules = [(s.source, s.expression, s.timezone, s.target, lines(s)) for s in inventory.schedules]
    assert schedules == [
        ("jenkins", "H 2 * * 1-5", None, "pipeline 'Jenkinsfile'", (14, 14)),
        ("jenkins", "H/15 * * * *", None, "poll SCM for changes, then build pipeline 'Jenkinsfile'", (15, 15)),
    ]


def test_cron_specs_with_time_zone_comments_several_lines_and_parameters(make_repo):
    text = """
        pipeline {
            agent any
            triggers {
                cron('''TZ=Europe/London
        # nightly and Saturday afternoon
        H 2 * * *
        H 14 * * 6''')
                parameterizedCron('''
                    H 4 * * * %ENV=prod
                ''')
                pollSCM('')
                githubPush()
                GenericTrigger(genericVariables: [[key: 'ref', value: '$.ref']], token: 'abc')
            }
            stages { stage('x') { steps { echo 'x' } } }
        }
        """
    inventory = scan(make_repo, {"ci/nightly.jenkinsfile": text})
    triggers = [(t.kind, t.event, t.cron, lines(t)) for t in inventory.pipelines[0].triggers]
    assert triggers == [
        ("schedule", "cron", "H 2 * * *", (6, 6)),
        ("schedule", "cron", "H 14 * * 6", (7, 7)),
        ("schedule", "parameterizedCron", "H 4 * * *", (9, 9)),
        ("push", "pollSCM", None, (11, 11)),  # an empty spec: polling only on a webhook's notification
        ("push", "githubPush", None, (12, 12)),
        ("api", "GenericTrigger", None, (13, 13)),
    ]
    zones = [(s.expression, s.timezone) for s in inventory.schedules]
    assert zones == [("H 2 * * *", "Europe/London"), ("H 14 * * 6", "Europe/London"), ("H 4 * * *", None)]


def test_nested_sequential_stages_and_matrix(make_repo):
    text = """
        pipeline {
            agent none
            stages {
                stage('Prepare') {
                    agent any
                    steps { sh 'make deps' }
                }
                stage('Platforms') {
                    matrix {
                        agent { label "${PLATFORM}" }
                        axes {
                            axis {
                                name 'PLATFORM'
                                values 'linux', 'windows', 'mac'
                            }
                            axis {
                                name 'BROWSER'
                                values 'firefox', 'chrome', 'safari'
                            }
                        }
                        excludes {
                            exclude {
                                axis {
                                    name 'PLATFORM'
                                    values 'linux'
                                }
                                axis {
                                    name 'BROWSER'
                                    values 'safari'
                                }
                            }
                            exclude {
                                axis {
                                    name 'PLATFORM'
                                    notValues 'windows'
                                }
                                axis {
                                    name 'BROWSER'
                                    values 'chrome'
                                }
                            }
                        }
                        stages {
                            stage('Build') {
                                steps { sh "make PLATFORM=${PLATFORM}" }
                            }
                            stage('Test') {
                                steps { sh 'make test' }
                            }
                        }
                    }
                }
                stage('Release') {
                    stages {
                        stage('Tag') {
                            steps { sh 'git tag v1' }
                        }
                        stage('Publish') {
                            steps { sh 'make publish' }
                        }
                    }
                }
            }
        }
        """
    inventory = scan(make_repo, {"Jenkinsfile": text})
    jobs = jobs_of(inventory)
    assert {k: v.needs for k, v in jobs.items()} == {
        "Prepare": [],
        "Platforms/Build": ["Prepare"],
        "Platforms/Test": ["Platforms/Build"],
        "Release/Tag": ["Platforms/Test"],
        "Release/Publish": ["Release/Tag"],
    }
    matrix = jobs["Platforms/Build"].matrix
    assert matrix is not None
    assert matrix.dimensions == {"PLATFORM": ["linux", "windows", "mac"], "BROWSER": ["firefox", "chrome", "safari"]}
    # 9 cells - (linux, safari) - (linux, chrome) - (mac, chrome): notValues 'windows' matches linux and mac
    assert (matrix.exclude, matrix.fan_out) == (2, 6)
    assert jobs["Platforms/Test"].matrix == matrix
    assert jobs["Prepare"].runs_on == ["any"]
    assert jobs["Platforms/Build"].runs_on == ["${PLATFORM}"]
    assert jobs["Release/Tag"].runs_on == []  # `agent none` and no agent of its own
    assert jobs["Platforms/Build"].steps[0].command == "make PLATFORM=${PLATFORM}"
    assert inventory.diagnostics == []


def test_parent_condition_applies_to_parallel_children_and_one_line_directives(make_repo):
    text = declarative("""
stage('Deploy') {
    when { branch 'main' }
    parallel {
        stage('EU') { when { environment name: 'EU', value: 'on' } steps { sh 'deploy eu' } }
        stage('US') { steps { sh 'deploy us' } }
    }
}
""")
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": text}))
    assert jobs["Deploy/EU"].condition == "branch 'main'; environment name: 'EU', value: 'on'"
    assert jobs["Deploy/US"].condition == "branch 'main'"
    assert [s.command for s in jobs["Deploy/EU"].steps] == ["deploy eu"]


@pytest.mark.parametrize(
    ("step", "command", "shell", "name"),
    [
        ("sh 'make'", "make", "sh", None),
        ('sh "make ${TARGET}"', "make ${TARGET}", "sh", None),
        ("sh('make')", "make", "sh", None),
        ("sh(script: 'make', returnStatus: true)", "make", "sh", None),
        ("sh script: 'make', label: 'Build'", "make", "sh", "Build"),
        ("sh label: 'Build', script: 'make'", "make", "sh", "Build"),
        ("sh 'make ' + 'all'", "make all", "sh", None),
        (r'sh "echo \"quoted\" \$HOME"', 'echo "quoted" $HOME', "sh", None),
        ("sh cmd", "cmd", "sh", None),
        ("def out = sh(script: 'git rev-parse HEAD', returnStdout: true).trim()", "git rev-parse HEAD", "sh", None),
        ("env.SHA = sh(returnStdout: true, script: 'git rev-parse HEAD').trim()", "git rev-parse HEAD", "sh", None),
        ("bat 'build.cmd'", "build.cmd", "bat", None),
        ("powershell 'Get-ChildItem'", "Get-ChildItem", "powershell", None),
        ("pwsh(script: 'Write-Host hi')", "Write-Host hi", "pwsh", None),
        ("sh '''\n    make \\\\\n      all\n'''", "make \\\n  all", "sh", None),
        ("sh \"\"\"\n    #!/bin/bash -e\n    echo ${'hi'}\n\"\"\".stripIndent()", "#!/bin/bash -e\necho ${'hi'}", "sh", None),
    ],
)
def test_shell_step_forms(make_repo, step, command, shell, name):
    text = declarative("stage('Build') {\n    steps {\n" + "\n".join("        " + x for x in step.split("\n"))
                       + "\n    }\n}")
    inventory = scan(make_repo, {"Jenkinsfile": text})
    [run] = [s for s in jobs_of(inventory)["Build"].steps if s.kind == "run"]
    assert (run.command, run.shell, run.name) == (command, shell, name)
    assert lines(run)[0] == 6  # the line the string (or argument) starts on
    assert inventory.diagnostics == []


def test_input_step_inside_timeout_makes_the_stage_manual(make_repo):
    text = declarative("""
stage('Approve') {
    steps {
        timeout(time: 1, unit: 'DAYS') {
            input message: 'Release?', submitter: 'release-managers'
        }
    }
}
stage('Release') {
    steps { sh './release.sh' }
}
""")
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": text}))
    approve = jobs["Approve"]
    assert approve.manual is True and approve.blocking is True
    assert [(s.kind, s.name, lines(s)) for s in approve.steps] == [
        ("other", "timeout", (6, 8)), ("approval", "input: Release?", (7, 7))]
    assert jobs["Release"].manual is False and jobs["Release"].needs == ["Approve"]


@pytest.mark.parametrize(
    ("agent", "runs_on", "image"),
    [
        ("agent any", ["any"], None),
        ("agent none", [], None),
        ("agent { label 'linux && docker' }", ["linux && docker"], None),
        ("agent { node { label 'big'; customWorkspace '/ws' } }", ["big"], None),
        ("agent { docker 'maven:3.9' }", ["docker"], "maven:3.9"),
        ("agent { docker { image 'python:3.12'; args '-v /tmp:/tmp' } }", ["docker"], "python:3.12"),
        ("agent { dockerfile true }", ["docker"], "dockerfile:Dockerfile"),
        ("agent { dockerfile { filename 'ci/Dockerfile'; label 'builder' } }", ["builder"], "dockerfile:ci/Dockerfile"),
        ("agent { kubernetes { inheritFrom 'jnlp'\n yaml '''\nkind: Pod\n''' } }", ["kubernetes", "jnlp"], None),
        ("agent { label params.AGENT }", ["params.AGENT"], None),
    ],
)
def test_agent_forms(make_repo, agent, runs_on, image):
    inventory = scan(make_repo, {"Jenkinsfile": declarative("stage('x') { steps { echo 'x' } }", head=agent)})
    job = jobs_of(inventory)["x"]
    assert (job.runs_on, job.image) == (runs_on, image)


@pytest.mark.parametrize(
    ("timeout", "minutes"),
    [
        ("timeout(30)", 30.0),
        ("timeout(time: 90, unit: 'SECONDS')", 1.5),
        ("timeout(time: 2, unit: 'HOURS', activity: true)", 120.0),
        ("timeout(time: 1, unit: 'DAYS')", 1440.0),
        ("timeout(unit: 'MINUTES', time: 45)", 45.0),
        ("timeout(time: 5, unit: 'FORTNIGHTS')", None),
        ("timeout(time: params.MINUTES)", None),
    ],
)
def test_timeout_forms(make_repo, timeout, minutes):
    text = declarative(f"stage('x') {{\n    options {{ {timeout} }}\n    steps {{ echo 'x' }}\n}}")
    inventory = run_detectors(make_repo({"Jenkinsfile": text}), "jenkins")
    assert errors_of(inventory) == []
    assert jobs_of(inventory)["x"].timeout_minutes == minutes
    if "FORTNIGHTS" in timeout:
        assert reasons(inventory) == ["unknown timeout unit 'FORTNIGHTS'"]


# ------------------------------------------------------------------ scripted


def test_scripted_pipeline_stages_node_timeout_and_properties(make_repo):
    inventory = scan(make_repo, {"Jenkinsfile": SCRIPTED})
    [pipeline] = inventory.pipelines
    assert lines(pipeline) == (1, 31)  # the whole file
    jobs = {job.id: job for job in pipeline.jobs}
    assert {k: v.needs for k, v in jobs.items()} == {
        "Checkout": [], "Build": ["Checkout"], "Test": ["Build"], "Publish": ["Test"]}
    assert all(job.runs_on == ["linux"] for job in jobs.values())
    assert jobs["Build"].timeout_minutes == 20
    assert [(s.kind, s.command, lines(s)) for s in jobs["Build"].steps] == [
        ("other", None, (11, 13)), ("run", "./gradlew build", (12, 12))]
    assert [(s.kind, s.name, s.command) for s in jobs["Test"].steps] == [
        ("other", "parallel", None), ("run", None, "./gradlew test"), ("run", None, "./gradlew integrationTest")]
    publish = jobs["Publish"]
    assert publish.manual is True and publish.blocking is True
    assert [(s.kind, s.name, lines(s)) for s in publish.steps] == [
        ("approval", "input: Publish?", (27, 27)), ("run", None, (28, 28))]
    [trigger] = pipeline.triggers
    assert (trigger.kind, trigger.cron, lines(trigger)) == ("schedule", "H H(0-5) * * *", (2, 2))
    assert [s.expression for s in inventory.schedules] == ["H H(0-5) * * *"]
    assert inventory.diagnostics == []


def test_scripted_parallel_branches_with_and_without_stages(make_repo):
    text = """
        stage('Build') {
            node { sh 'make' }
        }
        parallel linux: {
            node('linux') {
                stage('Test on Linux') {
                    sh 'make test'
                }
            }
        }, windows: {
            node('windows') {
                stage('Test on Windows') {
                    bat 'make test'
                }
            }
        }, failFast: true
        stage('Checks') {
            parallel(
                unit: { sh 'make unit' },
                "lint": { sh 'make lint' }
            )
        }
        parallel(
            unit: { node { sh 'make unit' } },
            lint: { node { sh 'make lint' } }
        )
        stage('Deploy') {
            node { sh './deploy' }
        }
        """
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": text}))
    assert {k: (v.needs, v.runs_on) for k, v in jobs.items()} == {
        "Build": ([], ["any"]),
        "Test on Linux": (["Build"], ["linux"]),
        "Test on Windows": (["Build"], ["windows"]),
        "Checks": (["Test on Linux", "Test on Windows"], []),
        "unit": (["Checks"], []),
        "lint": (["Checks"], []),
        "Deploy": (["unit", "lint"], ["any"]),
    }
    assert lines(jobs["unit"]) == (24, 24)
    assert [s.command for s in jobs["lint"].steps if s.kind == "run"] == ["make lint"]


def test_library_call_only_jenkinsfile(make_repo):
    inventory = scan(make_repo, {"Jenkinsfile": "buildPlugin(useContainerAgent: true, configurations: [\n"
                                                "  [platform: 'linux', jdk: 21],\n])\n"})
    [job] = inventory.pipelines[0].jobs
    assert job.id == "(no stage)"
    assert [(s.kind, s.name, lines(s)) for s in job.steps] == [("other", "buildPlugin", (1, 3))]


def test_groovy_that_trips_naive_brace_counting(make_repo):
    text = """
        @Library(['common@main', 'deploy']) _
        def branches = "${env.BRANCH_NAME.split('/').collect { "${it}" }.join('-')}"
        def half = total / 2 // division, then a brace: {
        def re = /release\\/.*{1}/
        def other = $/C:\\path\\{x}/$
        pipeline {
            agent any
            stages {
                stage('A') {
                    when { expression { env.BRANCH_NAME ==~ /release\\/.*/ } }
                    steps {
                        sh "echo '}' \\"{\\" ${'}'}"
                        echo '''{{{'''
                    }
                }
                stage('B') {
                    steps {
                        script {
                            if (x) {
                                sh 'one'
                            }
                            else {
                                sh 'two'
                            }
                            try { sh 'three' } catch (err) { echo "failed: ${err}" } finally { sh 'four' }
                        }
                    }
                }
            }
        }
        """
    inventory = scan(make_repo, {"Jenkinsfile": text})
    assert inventory.diagnostics == []
    [pipeline] = inventory.pipelines
    assert pipeline.includes == ["library:common@main", "library:deploy"]
    jobs = {job.id: job for job in pipeline.jobs}
    assert list(jobs) == ["A", "B"]
    assert jobs["A"].condition == "expression { env.BRANCH_NAME ==~ /release\\/.*/ }"
    assert [s.command for s in jobs["A"].steps if s.kind == "run"] == ["echo '}' \"{\" ${'}'}"]
    assert [s.command for s in jobs["B"].steps if s.kind == "run"] == ["one", "two", "three", "four"]
    assert lines(pipeline) == (6, 30)


def test_secrets_in_scripts_are_redacted(make_repo):
    text = declarative("stage('x') {\n    steps {\n        sh 'aws s3 ls --profile x AKIAIOSFODNN7EXAMPLF'\n    }\n}")
    command = jobs_of(scan(make_repo, {"Jenkinsfile": text}))["x"].steps[0].command
    assert command is not None and "AKIAIOSFODNN7EXAMPLF" not in command and "[REDACTED" in command


@pytest.mark.parametrize(
    ("path", "read"),
    [
        ("Jenkinsfile", True),
        ("ci/Jenkinsfile.release", True),
        ("deploy.jenkinsfile", True),
        ("jenkins/Build.Jenkinsfile", True),
        ("jenkins/Jenkinsfile.groovy", True),
        ("JENKINSFILE", True),
        ("Jenkinsfile.md", False),
        ("node_modules/lib/Jenkinsfile", False),
        ("docs/jenkinsfile-guide.txt", False),
        ("Jenkinsfiles/README", False),
    ],
)
def test_which_files_are_read(make_repo, path, read):
    inventory = scan(make_repo, {path: declarative("stage('x') { steps { echo 'x' } }")})
    assert [p.path for p in inventory.pipelines] == ([path] if read else [])


# ------------------------------------------------------------------ mistakes and bad input


def test_missing_closing_brace_keeps_what_was_read(make_repo):
    text = """
        pipeline {
            agent any
            stages {
                stage('Build') {
                    steps { sh 'make' }
                }
                stage('Test') {
                    steps {
                        sh 'make test'
                }
            }
        }
        """
    inventory = scan(make_repo, {"Jenkinsfile": text})
    [problem] = [d for d in inventory.diagnostics if "never closed" in d.reason]
    assert problem.line == 1 and problem.detector == "jenkins"
    assert "1 block(s) open" in problem.reason
    jobs = jobs_of(inventory)
    assert list(jobs) == ["Build", "Test"]
    assert [s.command for s in jobs["Test"].steps] == ["make test"]


def test_extra_closing_brace(make_repo):
    text = declarative("stage('x') { steps { echo 'x' } }") + "}\n"
    inventory = scan(make_repo, {"Jenkinsfile": text})
    assert [(d.line, d.reason.split(" (")[0]) for d in inventory.diagnostics] == [
        (7, "unbalanced braces: '}' without a matching '{'")]
    assert list(jobs_of(inventory)) == ["x"]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("pipeline {\n  agent any\n  stages {\n    stage('x') {\n      steps { sh 'make }\n    }\n  }\n}\n", 5,
         "unterminated string starting with '"),
        ("node {\n  stage('x') {\n    sh '''make\n  }\n}\n", 3, "unterminated string starting with '''"),
        ("node {\n  /* stage('x') {\n}\n", 2, "unterminated /* comment */"),
    ],
)
def test_unterminated_strings_and_comments(make_repo, text, line, reason):
    inventory = scan(make_repo, {"Jenkinsfile": text})
    assert any(d.line == line and reason in d.reason for d in inventory.diagnostics), reasons(inventory)


def test_unterminated_single_line_string_keeps_what_was_read(make_repo):
    text = "pipeline {\n  agent any\n  stages {\n    stage('x') {\n      steps { sh 'make }\n    }\n" \
           "    stage('y') {\n      steps { sh 'make y' }\n    }\n  }\n}\n"
    inventory = scan(make_repo, {"Jenkinsfile": text})
    # The string eats the `}` of `steps {`, so stage('y') lands inside stage('x'): only 'x' is a stage of
    # `stages`, and both problems are reported with their lines.
    assert list(jobs_of(inventory)) == ["x"]
    assert [s.command for s in jobs_of(inventory)["x"].steps] == ["make }"]
    assert [d.line for d in inventory.diagnostics] == [1, 5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pipeline {\n  stages { stage('x') { steps { echo 'x' } } }\n}\n", "declarative pipeline without 'agent'"),
        ("pipeline {\n  agent any\n}\n", "declarative pipeline without 'stages { }'"),
        ("pipeline {\n  agent any\n  stages { stage('x') { echo 'x' } }\n}\n",
         "stage 'x' has no 'steps', 'parallel', 'stages' or 'matrix'"),
        ("pipeline {\n  agent any\n  stages { stage('x') }\n}\n", "stage 'x' has no { } body"),
        ("pipeline {\n  agent any\n  stages {\n    stage('x') { steps { echo 'a' } }\n"
         "    stage('x') { steps { echo 'b' } }\n  }\n}\n", "stage name 'x' is used twice"),
        ("", "no pipeline { }, stage or step found"),
        ("// only a comment\n", "no pipeline { }, stage or step found"),
        ("node {\n  parallel branches\n  stage('x') { sh 'x' }\n}\n", "parallel branches built at run time"),
        ("pipeline {\n agent any\n triggers { cron('H 25 * * *') }\n stages { stage('x') { steps { echo 'x' } } }\n}\n",
         "invalid cron 'H 25 * * *'"),
        ("node { sh() }\n", "'sh' step without a script"),
    ],
)
def test_mistakes_become_diagnostics(make_repo, text, expected):
    inventory = scan(make_repo, {"Jenkinsfile": text})
    assert any(expected in r for r in reasons(inventory)), reasons(inventory)


def test_duplicate_stage_names_get_distinct_ids(make_repo):
    text = declarative("stage('x') { steps { echo 'a' } }\nstage('x') { steps { echo 'b' } }")
    jobs = jobs_of(scan(make_repo, {"Jenkinsfile": text}))
    assert list(jobs) == ["x", "x (2)"]
    assert jobs["x (2)"].needs == ["x"]


@pytest.mark.parametrize(
    "text",
    [
        "{" * 5000,
        "}" * 5000,
        "(" * 5000 + "\n" + "stage('x') { sh 'y' }",
        "stage(" * 2000,
        "pipeline " + "{ stages " * 3000,
        "node {" + " stage('s') {" * 3000 + " sh 'deep' ",
        "\x00\x01\x02 binary-ish \ufffd text { ' \" ''' \"\"\" /* $/",
        "sh",
        "pipeline",
        "stage('a') {} " * 500,
        "'" * 9 + '"' * 9 + "/" * 9,
        "def x = 1 /\n2 /\n3 { sh 'a' }",
        "parallel(a: {, b: })",
    ],
)
def test_odd_and_hostile_files_never_crash(make_repo, text):
    root = make_repo({"Jenkinsfile": text})
    started = time.perf_counter()
    inventory = run_detectors(root, "jenkins")
    assert time.perf_counter() - started < 5
    assert errors_of(inventory) == []


def test_big_jenkinsfile_is_fast(make_repo):
    stages = "\n".join(f"stage('s{i}') {{\n    steps {{\n        sh '''\n            make part{i}\n        '''\n"
                       f"        echo \"done {i}\"\n    }}\n}}" for i in range(2000))
    root = make_repo({"Jenkinsfile": declarative(stages)})
    started = time.perf_counter()
    inventory = run_detectors(root, "jenkins")
    assert time.perf_counter() - started < 5
    assert errors_of(inventory) == []
    jobs = inventory.pipelines[0].jobs
    assert len(jobs) == 2000
    assert jobs[-1].needs == ["s1998"]
    assert jobs[-1].steps[0].command == "make part1999"
    assert lines(jobs[-1]) == (4 + 8 * 1999, 4 + 8 * 1999 + 7)  # each stage is 8 lines, the first on line 4


def test_many_stray_closing_braces_are_one_diagnostic(make_repo):
    inventory = scan(make_repo, {"Jenkinsfile": "node { sh 'make' }\n}\n}}\n"})
    assert [(d.line, d.reason.split(" (")[0]) for d in inventory.diagnostics] == [
        (2, "unbalanced braces: '}' without a matching '{'; 2 more after it")]
    assert [s.command for s in inventory.pipelines[0].jobs[0].steps if s.kind == "run"] == ["make"]


def test_checkout_and_other_steps_are_named_after_the_call(make_repo):
    text = declarative("""
stage('x') {
    steps {
        git url: 'https://example.com/repo.git', branch: 'main'
        checkout([$class: 'GitSCM', branches: [[name: '*/main']]])
        echo "hello"
        archiveArtifacts artifacts: 'dist/**', fingerprint: true
        build job: 'deploy', parameters: [string(name: 'ENV', value: 'prod')]
        docker.image('node:20').inside { sh 'npm test' }
        myLibraryStep(flag: true)
        def ignored = 1
        currentBuild.result = 'SUCCESS'
    }
}
""")
    steps = jobs_of(scan(make_repo, {"Jenkinsfile": text}))["x"].steps
    assert [(s.kind, s.name, s.command, lines(s)) for s in steps] == [
        ("checkout", "git", None, (6, 6)),
        ("checkout", "checkout", None, (7, 7)),
        ("other", "echo", None, (8, 8)),
        ("other", "archiveArtifacts", None, (9, 9)),
        ("other", "build", None, (10, 10)),
        ("other", "docker.image", None, (11, 11)),
        ("run", None, "npm test", (11, 11)),
        ("other", "myLibraryStep", None, (12, 12)),
    ]


class _CountingTokens(list):
    """A token list that counts the elements every index or slice hands out: the work a C-level copy does, which
    the line-counting linearity battery cannot see."""

    touched = 0

    def __getitem__(self, key):  # type: ignore[override]
        got = super().__getitem__(key)
        _CountingTokens.touched += len(got) if isinstance(key, slice) else 1
        return got


@pytest.mark.parametrize("blank_lines", [0, 50])
def test_the_statement_parser_touches_each_token_a_bounded_number_of_times(blank_lines):
    """A slice of the remaining tokens at every newline made the parse quadratic (a 448 KB Jenkinsfile of 1,600
    stages took 1.8 s, 0.5 s after the fix). Counted, not timed: elements handed out per token stay below a constant
    at two sizes, with long runs of blank lines too."""
    from orchestrator_kit.discovery._groovy import GroovyScanner, parse_groovy

    per_token = []
    for stages in (200, 800):
        stage = "    stage('s{i}') {{\n      steps {{\n        sh 'make t{i}'\n      }}\n    }}\n" + "\n" * blank_lines
        text = "pipeline {\n  stages {\n" + "".join(stage.format(i=i) for i in range(stages)) + "  }\n}\n"
        tokens = _CountingTokens(GroovyScanner(text).run())
        _CountingTokens.touched = 0
        block = parse_groovy(tokens, [])
        assert block.stmts  # the parse produced the pipeline statement
        per_token.append(_CountingTokens.touched / len(tokens))
    assert per_token[1] <= 2.0, per_token
    assert per_token[1] <= per_token[0] * 1.5 + 0.1, per_token
