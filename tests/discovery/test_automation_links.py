"""Linking procedure commands to tasks, scripts and CI jobs, and the automation coverage figure."""

from __future__ import annotations

import time

import pytest

from orchestrator_kit.discovery.automation_links import (
    AutomationIndex,
    invoked,
    link_procedures,
    normalize,
    script_lines,
)
from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.models import (
    Command,
    Evidence,
    Job,
    ManualProcedure,
    Pipeline,
    ProcedureStep,
    Step,
    Task,
)
from orchestrator_kit.repo import Workspace

from ..conftest import errors_of, run_detectors

WORKFLOW = ".github/workflows/release.yml"
PIPELINE_ID = f"github-actions:{WORKFLOW}"


def ev(path, start, end=None):
    return Evidence(path=path, line_start=start, line_end=end or start)


def task(runner, path, name, *, commands=(), invocation=None, attributes=None, line=1):
    return Task(
        id=f"{runner}:{path}#{name}",
        runner=runner,
        name=name,
        path=path,
        invocation=invocation or f"{runner} {name}",
        commands=[Command(text=text, evidence=ev(path, line + 1 + i)) for i, text in enumerate(commands)],
        attributes=attributes or {},
        evidence=ev(path, line, line + len(commands)),
    )


def script(path):
    return Task(id=f"script:{path}", runner="script", name=path.rsplit("/", 1)[-1], path=path,
                invocation=f"./{path}", evidence=ev(path, 1, 20))


def pipeline():
    build = Job(
        id="build",
        steps=[
            Step(kind="checkout", uses="actions/checkout@v4", evidence=ev(WORKFLOW, 8)),
            Step(kind="run", command="npm ci\n# no lint yet\nnpm run build\n", evidence=ev(WORKFLOW, 9, 12)),
        ],
        evidence=ev(WORKFLOW, 5, 12),
    )
    deploy = Job(
        id="deploy",
        needs=["build"],
        steps=[
            Step(kind="run", command="helm upgrade api ./chart \\\n  --install\nkubectl rollout status deploy/api",
                 evidence=ev(WORKFLOW, 16, 19)),
            Step(kind="run", command="docker build -t x:1 . && docker push x:1", evidence=ev(WORKFLOW, 20)),
        ],
        evidence=ev(WORKFLOW, 13, 20),
    )
    return Pipeline(id=PIPELINE_ID, system="github-actions", name="Release", path=WORKFLOW, jobs=[build, deploy],
                    evidence=ev(WORKFLOW, 1, 20))


TASKS = [
    task("make", "Makefile", "release", commands=["@./scripts/bump.sh", "git push origin v1"], line=10),
    task("make", "Makefile", "lint", commands=["-ruff check ."], line=20),
    task("make", "Makefile", "push-image", commands=["docker push $$IMAGE"], line=30),
    task("make", "services/api/Makefile", "deploy", commands=["kubectl apply -f k8s/"], line=3,
         invocation="make -C services/api deploy"),
    task("make", "mk/release.mk", "publish", commands=["twine upload dist/*"],
         attributes={"included_by": "Makefile"}, invocation="make publish"),
    task("just", "justfile", "deploy", commands=["echo deploying"]),
    task("task", "Taskfile.yml", "docker:build"),
    task("task", "Taskfile.yml", "test"),
    task("npm", "package.json", "build", commands=["tsc -p ."], invocation="npm run build"),
    task("npm", "package.json", "test", invocation="npm test"),
    task("npm", "package.json", "publish", invocation="npm run publish"),
    task("npm", "web/package.json", "build", invocation="npm --prefix web run build"),
    task("poe", "pyproject.toml", "release"),
    task("pdm", "pyproject.toml", "release", invocation="pdm run release"),
    task("hatch", "pyproject.toml", "test:cov", invocation="hatch run test:cov"),
    task("tox", "tox.ini", "lint", invocation="tox -e lint"),
    task("tox", "tox.ini", "py311", invocation="tox -e py311"),
    task("nox", "noxfile.py", "tests", invocation="nox -s tests"),
    task("nox", "noxfile.py", "lint", invocation="nox -s lint"),
    task("pre-commit", ".pre-commit-config.yaml", "all", invocation="pre-commit run --all-files"),
    script("scripts/smoke.sh"),
]


@pytest.fixture(scope="module")
def index():
    return AutomationIndex.build(TASKS, [pipeline()])


def refs(found):
    return [(r.kind, r.ref, r.match) for r in found]


# ------------------------------------------------------------------ "invokes"


@pytest.mark.parametrize(
    ("command", "doc_dir", "expected"),
    [
        ("make release", "", ["make:Makefile#release"]),
        ("$ make release", "", ["make:Makefile#release"]),
        ("sudo FOO=1 make release", "", ["make:Makefile#release"]),
        ("make release", "docs", ["make:Makefile#release"]),  # from docs/ up to the root Makefile
        ("make -C services/api deploy", "", ["make:services/api/Makefile#deploy"]),
        ("make --directory=services/api deploy", "", ["make:services/api/Makefile#deploy"]),
        ("make -Cservices/api deploy", "", ["make:services/api/Makefile#deploy"]),
        ("make -C services -C api deploy", "", ["make:services/api/Makefile#deploy"]),
        ("cd services/api && make deploy ENV=prod", "", ["make:services/api/Makefile#deploy"]),
        ("make deploy", "services/api", ["make:services/api/Makefile#deploy"]),
        ("make deploy", "", []),  # no deploy target at the root
        ("make -C services/api release", "", []),  # -C does not fall back to the root
        ("make -j4 release lint VERSION=1.2", "", ["make:Makefile#release", "make:Makefile#lint"]),
        ("make -j 4 release", "", ["make:Makefile#release"]),
        ("make -f mk/release.mk publish", "", ["make:mk/release.mk#publish"]),
        ("make publish", "", ["make:mk/release.mk#publish"]),  # included by the root Makefile
        ("just deploy prod", "", ["just:justfile#deploy"]),
        ("just --justfile justfile deploy", "", ["just:justfile#deploy"]),
        ("task docker:build test -- -v", "", ["task:Taskfile.yml#docker:build", "task:Taskfile.yml#test"]),
        ("npm test", "", ["npm:package.json#test"]),
        ("npm run build -- --prod", "", ["npm:package.json#build"]),
        ("yarn build", "", ["npm:package.json#build"]),
        ("yarn run build", "", ["npm:package.json#build"]),
        ("yarn install", "", []),
        ("yarn publish", "", []),  # yarn's own publish, not the script
        ("pnpm run build", "", ["npm:package.json#build"]),
        ("pnpm --dir web run build", "", ["npm:web/package.json#build"]),
        ("npm --prefix web run build", "", ["npm:web/package.json#build"]),
        ("npm run build", "web", ["npm:web/package.json#build"]),
        ("npm -w web run build", "", []),  # a workspace: which package is not known
        ("poe release", "", ["poe:pyproject.toml#release"]),
        ("poetry run poe release", "", ["poe:pyproject.toml#release"]),
        ("uv run poe release", "", ["poe:pyproject.toml#release"]),
        ("pdm run release", "", ["pdm:pyproject.toml#release"]),
        ("pdm run make release", "", ["make:Makefile#release"]),
        ("hatch run test:cov", "", ["hatch:pyproject.toml#test:cov"]),
        ("tox -e lint,py311", "", ["tox:tox.ini#lint", "tox:tox.ini#py311"]),
        ("tox run -e lint", "", ["tox:tox.ini#lint"]),
        ("tox -elint", "", ["tox:tox.ini#lint"]),
        ("tox", "", []),
        ("nox -s tests lint", "", ["nox:noxfile.py#tests", "nox:noxfile.py#lint"]),
        ("nox --session=tests", "", ["nox:noxfile.py#tests"]),
        ("./scripts/smoke.sh staging", "", ["script:scripts/smoke.sh"]),
        ("scripts/smoke.sh", "", ["script:scripts/smoke.sh"]),
        ("bash scripts/smoke.sh", "", ["script:scripts/smoke.sh"]),
        ("sh -x ./scripts/smoke.sh", "", ["script:scripts/smoke.sh"]),
        ("cd scripts && ./smoke.sh", "", ["script:scripts/smoke.sh"]),
        ("./smoke.sh", "scripts", ["script:scripts/smoke.sh"]),
        ("python -m scripts.smoke", "", []),
        ("../scripts/smoke.sh", "", []),  # leaves the repository
        ("/opt/scripts/smoke.sh", "", []),
        ("pre-commit run --all-files", "", ["pre-commit:.pre-commit-config.yaml#all"]),  # by its invocation
        ("make release && make lint", "", ["make:Makefile#release", "make:Makefile#lint"]),
        ("make 'unbalanced", "", []),
        ("", "", []),
    ],
)
def test_invokes(index, command, doc_dir, expected):
    found = invoked(index, command, doc_dir)
    ids = [r.ref for r in found]
    assert ids == expected
    assert all(r.match == "invokes" for r in found)


def test_invokes_refs_carry_the_task_kind_and_evidence(index):
    (ref,) = invoked(index, "./scripts/smoke.sh", "")
    assert (ref.kind, ref.evidence) == ("script", ev("scripts/smoke.sh", 1, 20))
    (ref,) = invoked(index, "make release", "")
    assert (ref.kind, ref.evidence) == ("task", ev("Makefile", 10, 12))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gh workflow run release.yml", [PIPELINE_ID]),
        ("gh workflow run .github/workflows/release.yml -f version=1.2", [PIPELINE_ID]),
        ("gh workflow run Release --ref main", [PIPELINE_ID]),
        ("gh workflow run release.yml -R other/repo", []),
        ("gh workflow run nightly.yml", []),
        ("gh workflow list", []),
        ("gh release create v1", []),
    ],
)
def test_gh_workflow_run(index, command, expected):
    found = invoked(index, command, "")
    assert [r.ref for r in found] == expected
    assert all(r.kind == "pipeline" for r in found)
    if found:
        assert [(r.evidence.path, r.evidence.line_start) for r in found] == [(WORKFLOW, 1)]


# ------------------------------------------------------------------ "same-command"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("npm ci", [("job", f"{PIPELINE_ID}/build", 9, 12)]),
        ("npm run build", [("job", f"{PIPELINE_ID}/build", 9, 12)]),
        ("helm upgrade api ./chart --install", [("job", f"{PIPELINE_ID}/deploy", 16, 19)]),
        ("helm  upgrade  api  ./chart  --install ;", [("job", f"{PIPELINE_ID}/deploy", 16, 19)]),
        ("docker push x:1", [("job", f"{PIPELINE_ID}/deploy", 20, 20)]),  # one part of a CI line
        ("cd api && docker push x:1", [("job", f"{PIPELINE_ID}/deploy", 20, 20)]),
        ("docker push $IMAGE", [("task", "make:Makefile#push-image", 31, 31)]),  # `$$` in the recipe
        ('docker push "$IMAGE"', [("task", "make:Makefile#push-image", 31, 31)]),
        ("ruff check .", [("task", "make:Makefile#lint", 21, 21)]),  # `-` recipe prefix
        ("git push origin v1", [("task", "make:Makefile#release", 12, 12)]),
        ("$ kubectl apply -f k8s/", [("task", "make:services/api/Makefile#deploy", 4, 4)]),
        ("twine upload dist/*", [("task", "make:mk/release.mk#publish", 2, 2)]),
        ("npm ci && docker push x:1", [("job", f"{PIPELINE_ID}/build", 9, 12), ("job", f"{PIPELINE_ID}/deploy", 20, 20)]),
        ("npm ci && make love", []),  # one part is automated, the other is not
        ("# no lint yet", []),  # a comment in the CI script is not a command
        ("echo deploying", []),  # trivial commands prove nothing
        ("cd api", []),
        ("docker build -t x:2 .", []),
        ("", []),
    ],
)
def test_same_command(index, command, expected):
    found = index.same_command(command)
    assert [(r.kind, r.ref, r.evidence.line_start, r.evidence.line_end) for r in found] == expected
    assert all(r.match == "same-command" for r in found)


@pytest.mark.parametrize(
    ("text", "make_recipe", "expected"),
    [
        ("  make   deploy  ", False, "make deploy"),
        ("$ make deploy", False, "make deploy"),
        ("% make deploy;", False, "make deploy"),
        ("@-echo $$HOME", True, "echo $HOME"),
        ("+$(MAKE) -C sub", True, "$(MAKE) -C sub"),
        ("git commit -m 'x y'", False, "git commit -m x y"),
        ('git commit -m "x y"', False, "git commit -m x y"),
    ],
)
def test_normalize(text, make_recipe, expected):
    assert normalize(text, make_recipe=make_recipe) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("npm ci\n\n# comment\nnpm test\n", ["npm ci", "npm test"]),
        ("docker run \\\n  -it \\\n  x\nls", ["docker run -it x", "ls"]),
        ("a \\", ["a"]),
        ("", []),
    ],
)
def test_script_lines(text, expected):
    assert script_lines(text) == expected


# ------------------------------------------------------------------ the finalizer and the coverage figure


def step(kind, line, *commands):
    return ProcedureStep(
        text=f"step at {line}",
        kind=kind,
        commands=[Command(text=c, evidence=ev("RELEASING.md", line + i)) for i, c in enumerate(commands)],
        evidence=ev("RELEASING.md", line, line + len(commands)),
    )


def context(tmp_path, procedures):
    ctx = DetectContext(Workspace(tmp_path), [])
    ctx.findings.tasks.extend(TASKS)
    ctx.findings.pipelines.append(pipeline())
    ctx.findings.procedures.extend(procedures)
    return ctx


def test_finalizer_fills_refs_and_coverage(tmp_path):
    release = ManualProcedure(
        id="RELEASING.md#release",
        title="Release",
        path="RELEASING.md",
        steps=[
            step("numbered", 3, "make release", "git push origin v1", "echo done"),
            step("code", 10, "npm run build", "cd services/api && make deploy ENV=prod", "./scripts/smoke.sh staging",
                 "kubectl rollout status deploy/api"),
            step("numbered", 20, "gh workflow run release.yml"),
            step("checklist", 25, "twine upload --repository testpypi dist/*"),
            step("checklist", 27),
        ],
        evidence=ev("RELEASING.md", 1, 30),
    )
    empty = ManualProcedure(id="RUNBOOK.md#call", title="Call", path="RUNBOOK.md",
                            steps=[step("numbered", 1)], evidence=ev("RUNBOOK.md", 1, 2))
    ctx = context(tmp_path, [release, empty])
    link_procedures(ctx)

    first, second, third, fourth, fifth = release.steps
    assert refs(first.automated_by) == [
        ("task", "make:Makefile#release", "invokes"),
        ("task", "make:Makefile#release", "same-command"),  # the recipe pushes the same tag
    ]
    assert [r.evidence for r in first.automated_by] == [ev("Makefile", 10, 12), ev("Makefile", 12)]
    assert refs(second.automated_by) == [
        ("task", "npm:package.json#build", "invokes"),
        ("job", f"{PIPELINE_ID}/build", "same-command"),
        ("task", "make:services/api/Makefile#deploy", "invokes"),
        ("script", "script:scripts/smoke.sh", "invokes"),
        ("job", f"{PIPELINE_ID}/deploy", "same-command"),
    ]
    assert refs(third.automated_by) == [("pipeline", PIPELINE_ID, "invokes")]
    assert fourth.automated_by == [] and fifth.automated_by == []
    # commands: 3 + 4 + 1 + 1 = 9; with a ref: make release, git push (not `echo done`), all 4 of step two,
    # the gh call; not the twine upload with other arguments. 7 / 9.
    assert release.automation_coverage == pytest.approx(7 / 9)
    assert empty.automation_coverage is None


def test_finalizer_is_idempotent_and_keeps_order(tmp_path):
    procedure = ManualProcedure(id="a.md#x", title="x", path="docs/a.md",
                                steps=[step("code", 1, "make release"), step("code", 5, "npm test")],
                                evidence=ev("docs/a.md", 1, 9))
    ctx = context(tmp_path, [procedure])
    link_procedures(ctx)
    once = procedure.model_dump()
    link_procedures(ctx)
    assert procedure.model_dump() == once
    assert [s.evidence.line_start for s in procedure.steps] == [1, 5]
    assert procedure.automation_coverage == 1.0


def test_finalizer_without_procedures_or_automation(tmp_path):
    ctx = DetectContext(Workspace(tmp_path), [])
    link_procedures(ctx)  # nothing to do, nothing raised
    procedure = ManualProcedure(id="a.md#x", title="x", path="a.md", steps=[step("code", 1, "make release")],
                                evidence=ev("a.md", 1, 2))
    ctx.findings.procedures.append(procedure)
    link_procedures(ctx)
    assert procedure.steps[0].automated_by == []
    assert procedure.automation_coverage == 0.0


def test_linking_is_fast_on_a_big_inventory(tmp_path):
    n = 4000
    tasks = [task("make", "Makefile", f"t{i}", commands=[f"tool{i} --run {i}"], line=1 + 3 * i) for i in range(n)]
    jobs = [Job(id=f"j{i}", steps=[Step(kind="run", command=f"step{i} a\nstep{i} b", evidence=ev(WORKFLOW, i + 1))],
                evidence=ev(WORKFLOW, i + 1)) for i in range(n)]
    big = Pipeline(id=PIPELINE_ID, system="github-actions", name="Big", path=WORKFLOW, jobs=jobs,
                   evidence=ev(WORKFLOW, 1, n))
    commands = [c for i in range(n) for c in (f"make t{i}", f"step{i} b", f"manual{i}")]
    procedure = ManualProcedure(id="R.md#r", title="r", path="R.md", steps=[step("code", 1, *commands)],
                                evidence=ev("R.md", 1, 2))
    ctx = DetectContext(Workspace(tmp_path), [])
    ctx.findings.tasks.extend(tasks)
    ctx.findings.pipelines.append(big)
    ctx.findings.procedures.append(procedure)
    started = time.perf_counter()
    link_procedures(ctx)
    elapsed = time.perf_counter() - started
    assert procedure.automation_coverage == pytest.approx(2 / 3)
    assert len(procedure.steps[0].automated_by) == 2 * n
    assert elapsed < 5


# ------------------------------------------------------------------ with the real detectors


def test_end_to_end_with_a_workflow(make_repo):
    root = make_repo(
        {
            "RELEASING.md": """
            # Releasing

            1. Trigger the release workflow: `gh workflow run release.yml`
            2. Or build by hand:
               ```sh
               python -m build
               twine upload dist/*
               ```
            3. Announce it in #releases.
            """,
            WORKFLOW: """
            name: Release
            on: workflow_dispatch
            jobs:
              publish:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: |
                      python -m build
                      twine upload dist/*
            """,
        }
    )
    inventory = run_detectors(root, "markdown-procedures", "github-actions")
    assert errors_of(inventory) == []
    (procedure,) = inventory.procedures
    trigger, by_hand, announce = procedure.steps
    assert refs(trigger.automated_by) == [("pipeline", PIPELINE_ID, "invokes")]
    assert trigger.automated_by[0].evidence == ev(WORKFLOW, 1, 10)  # the whole workflow file
    assert refs(by_hand.automated_by) == [("job", f"{PIPELINE_ID}/publish", "same-command")]
    assert by_hand.automated_by[0].evidence == ev(WORKFLOW, 8, 10)
    assert announce.automated_by == []
    assert procedure.automation_coverage == 1.0  # 3 commands, each automated


def test_end_to_end_with_a_makefile(make_repo):
    root = make_repo(
        {
            "Makefile": """
            .PHONY: release
            release:  ## Cut a release
            \t./scripts/bump.sh
            \tgit push --follow-tags
            """,
            "RELEASING.md": """
            # Releasing

            1. Run `make release`.
            2. Or by hand:
               ```sh
               ./scripts/bump.sh
               git push --follow-tags
               ```
            """,
        }
    )
    inventory = run_detectors(root, "markdown-procedures", "make")
    assert errors_of(inventory) == []
    (procedure,) = inventory.procedures
    by_make, by_hand = procedure.steps
    assert refs(by_make.automated_by) == [("task", "make:Makefile#release", "invokes")]
    assert by_make.automated_by[0].evidence.line_start == 2  # the rule line
    assert refs(by_hand.automated_by) == [("task", "make:Makefile#release", "same-command")] * 2
    assert [r.evidence.line_start for r in by_hand.automated_by] == [3, 4]  # each recipe line
    assert procedure.automation_coverage == 1.0


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("./gradlew migrateDb -Penv=production", ["gradle:build.gradle.kts#migrateDb"]),
        ("gradle :app:migrateDb", ["gradle:build.gradle.kts#migrateDb"]),
        ("bundle exec rake db:seed", ["rake:Rakefile#db:seed"]),
        ("bin/rails db:seed", ["rake:Rakefile#db:seed"]),
        ("cargo xtask dist", ["cargo:.cargo/config.toml#xtask"]),
        ("composer run-script test", ["composer:composer.json#test"]),
        ("composer test", ["composer:composer.json#test"]),
        ("./gradlew unknownTask", []),
    ],
)
def test_other_build_tools_are_linked(make_repo, command, expected):
    root = make_repo({
        "build.gradle.kts": 'tasks.register("migrateDb") {\n}\n',
        "gradlew": "#!/bin/sh\nexec java -jar gradle/wrapper.jar \"$@\"\n",
        "Rakefile": "namespace :db do\n  task :seed do\n  end\nend\n",
        ".cargo/config.toml": '[alias]\nxtask = "run --package xtask --"\n',
        "composer.json": '{"scripts": {"test": "phpunit"}}\n',
        "RUNBOOK.md": f"# Runbook\n\n```sh\n{command}\n```\n",
    })
    inventory = run_detectors(root)
    assert errors_of(inventory) == []
    assert not any(t.path == "gradlew" for t in inventory.tasks)  # the wrapper is how tasks run, not a task
    (procedure,) = inventory.procedures
    assert [a.ref for s in procedure.steps for a in s.automated_by] == expected
