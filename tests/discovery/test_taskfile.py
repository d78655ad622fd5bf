"""The taskfile detector (go-task v3), checked by hand against the Taskfile schema reference."""

from __future__ import annotations

import pytest

from orchestrator_kit.models import Task
from tests.conftest import errors_of, run_detectors

from .conftest import command_lines as lines
from .conftest import task_scanner

TASKFILE = """\
version: '3'

includes:
  docs: ./docs
  infra:
    taskfile: ./deploy/Taskfile.yml
    dir: ./deploy

vars:
  IMAGE: ghcr.io/acme/app

tasks:
  default:
    cmds:
      - task: build

  build:
    desc: Build the binary
    deps: [generate, {task: lint, vars: {STRICT: "true"}}]
    sources: ["**/*.go"]
    generates: [bin/app]
    cmds:
      - go build -o bin/app ./cmd/app
      - cmd: echo built
        silent: true

  generate: go generate ./...

  lint:
    - golangci-lint run
    - task: fmt

  fmt:
    internal: true
    cmd: gofmt -w .

  release:
    summary: |
      Publish a release.

      Tags and pushes the image.
    prompt: Release to production?
    dir: deploy
    aliases: [rel]
    cmds:
      - defer: rm -rf tmp/
      - defer: {task: cleanup}
      - |
        docker build -t {{.IMAGE}} .
        docker push {{.IMAGE}}
      - for: [a, b]
        cmd: echo {{.ITEM}}

  cleanup:
  db:migrate:
    cmds: [migrate up]
"""

INCLUDES = "docs=./docs, infra=./deploy/Taskfile.yml"


scan = task_scanner("taskfile", key=lambda t: t.name, path="Taskfile.yml")


def span(task: Task) -> tuple[int, int]:
    return task.evidence.line_start, task.evidence.line_end


def test_realistic_taskfile(make_repo):
    tasks, diagnostics = scan(make_repo, {"Taskfile.yml": TASKFILE})
    assert diagnostics == []
    assert list(tasks) == ["default", "build", "generate", "lint", "fmt", "release", "cleanup", "db:migrate"]

    default = tasks["default"]
    assert default.id == "task:Taskfile.yml#default"
    assert default.runner == "task"
    assert default.invocation == "task default"
    assert default.depends_on == ["build"]
    assert default.commands == []
    assert span(default) == (13, 15)

    build = tasks["build"]
    assert build.description == "Build the binary"
    assert build.depends_on == ["generate", "lint"]
    assert lines(build) == [("go build -o bin/app ./cmd/app", 23, 23), ("echo built", 24, 25)]
    assert build.attributes == {"sources": "**/*.go", "generates": "bin/app", "includes": INCLUDES}
    assert span(build) == (17, 25)

    assert lines(tasks["generate"]) == [("go generate ./...", 27, 27)]
    assert span(tasks["generate"]) == (27, 27)

    lint = tasks["lint"]
    assert lines(lint) == [("golangci-lint run", 30, 30)]
    assert lint.depends_on == ["fmt"]
    assert span(lint) == (29, 31)

    fmt = tasks["fmt"]
    assert fmt.attributes == {"internal": "true", "includes": INCLUDES}
    assert lines(fmt) == [("gofmt -w .", 35, 35)]

    release = tasks["release"]
    assert release.description == "Publish a release."
    assert release.hooks == ["cleanup"]
    assert lines(release) == [
        ("rm -rf tmp/", 46, 46),
        ("docker build -t {{.IMAGE}} .\ndocker push {{.IMAGE}}", 48, 50),
        ("echo {{.ITEM}}", 51, 52),
    ]
    assert release.attributes == {
        "dir": "deploy",
        "prompt": "Release to production?",
        "aliases": "rel",
        "summary": "Publish a release.\n\nTags and pushes the image.",
        "deferred_lines": "46",
        "includes": INCLUDES,
    }
    assert span(release) == (37, 52)

    assert tasks["cleanup"].commands == []
    assert span(tasks["cleanup"]) == (54, 54)
    assert lines(tasks["db:migrate"]) == [("migrate up", 56, 56)]
    assert tasks["db:migrate"].invocation == "task db:migrate"


@pytest.mark.parametrize(
    ("files", "path", "invocation"),
    [
        pytest.param({"Taskfile.yml": "version: '3'\ntasks: {x: echo}\n"}, "Taskfile.yml", "task x", id="root"),
        pytest.param({"taskfile.yaml": "tasks: {x: echo}\n"}, "taskfile.yaml", "task x", id="lowercase-yaml"),
        pytest.param({"Taskfile.dist.yml": "tasks: {x: echo}\n"}, "Taskfile.dist.yml", "task x", id="dist"),
        pytest.param({"tools/Taskfile.yml": "tasks: {x: echo}\n"}, "tools/Taskfile.yml", "task -d tools x",
                     id="folder-not-included"),
        pytest.param({"Taskfile.yml": "includes:\n  docs: ./docs\n", "docs/Taskfile.yml": "tasks: {x: echo}\n"},
                     "docs/Taskfile.yml", "task docs:x", id="included-folder"),
        pytest.param({"Taskfile.yml": "includes:\n  infra: {taskfile: ./deploy/Taskfile.yml, dir: ./deploy}\n",
                      "deploy/Taskfile.yml": "tasks: {x: echo}\n"},
                     "deploy/Taskfile.yml", "task infra:x", id="included-file"),
        pytest.param({"Taskfile.yml": "includes:\n  lib: {taskfile: lib/Taskfile.yml, flatten: true}\n",
                      "lib/Taskfile.yml": "tasks: {x: echo}\n"},
                     "lib/Taskfile.yml", "task x", id="flattened"),
        pytest.param({"Taskfile.yml": "includes:\n  a: ./a\n", "a/Taskfile.yml": "includes:\n  b: ./b\n",
                      "a/b/Taskfile.yml": "tasks: {x: echo}\n"},
                     "a/b/Taskfile.yml", "task a:b:x", id="nested-includes"),
        pytest.param({"Taskfile.yml": "includes:\n  t: '{{.ROOT}}/t'\n", "t/Taskfile.yml": "tasks: {x: echo}\n"},
                     "t/Taskfile.yml", "task -d t x", id="templated-include-not-resolved"),
        pytest.param({"Taskfile.yml": "includes: [\n", "t/Taskfile.yml": "tasks: {x: echo}\n"},
                     "t/Taskfile.yml", "task -d t x", id="broken-includer"),
    ],
)
def test_file_names_and_invocations(make_repo, files, path, invocation):
    tasks, _ = scan(make_repo, files, path=path)
    assert tasks["x"].invocation == invocation


def test_included_files_with_other_names_are_read_through_the_includer(make_repo):
    files = {
        "Taskfile.yml": "version: '3'\nincludes:\n  docker: ./taskfiles/docker.yml\n"
                        "  lib: {taskfile: ./taskfiles/lib.yaml, flatten: true}\n"
                        "  remote: https://example.com/Taskfile.yml\n  tpl: '{{.DIR}}/x.yml'\n"
                        "  missing: ./nope.yml\n  self: ./Taskfile.yml\n",
        "taskfiles/docker.yml": "version: '3'\nincludes:\n  inner: ./inner.yml\ntasks:\n  build:\n"
                                "    cmds: [docker build .]\n",
        "taskfiles/inner.yml": "tasks:\n  x: echo\n  loop: echo\nincludes:\n  back: ./docker.yml\n",
        "taskfiles/lib.yaml": "tasks:\n  fmt: gofmt -w .\n",
        "other/Taskfile.yml": "includes:\n  again: ../taskfiles/lib.yaml\n",
    }
    inventory = run_detectors(make_repo(files), "taskfile")
    assert errors_of(inventory) == []
    got = {t.id: (t.invocation, [(c.text, c.evidence.line_start) for c in t.commands]) for t in inventory.tasks}
    assert got == {
        "task:taskfiles/docker.yml#build": ("task docker:build", [("docker build .", 6)]),
        "task:taskfiles/inner.yml#x": ("task docker:inner:x", [("echo", 2)]),
        "task:taskfiles/inner.yml#loop": ("task docker:inner:loop", [("echo", 3)]),
        "task:taskfiles/lib.yaml#fmt": ("task fmt", [("gofmt -w .", 2)]),
    }


def test_vendored_taskfiles_are_ignored(make_repo):
    inventory = run_detectors(make_repo({"vendor/x/Taskfile.yml": "tasks: {x: echo}\n"}), "taskfile")
    assert inventory.tasks == []


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        pytest.param("tasks:\n  build: [\n", 3, "invalid YAML", id="invalid-yaml"),
        pytest.param("- a\n- b\n", 1, "top level is not a mapping", id="top-level-list"),
        pytest.param("tasks:\n  - build\n", 1, "'tasks' is not a mapping", id="tasks-list"),
        pytest.param("tasks:\n  build: 42\n", 2, "neither a mapping", id="task-number"),
        pytest.param("tasks:\n  build:\n    cmds: go build\n", 3, "'cmds' is not a list", id="cmds-string"),
        pytest.param("tasks:\n  build:\n    deps: lint\n", 3, "'deps' is not a list", id="deps-string"),
        pytest.param("version: '2'\ntasks: {}\n", 1, "version '2'", id="version-2"),
    ],
)
def test_bad_content_becomes_a_diagnostic(make_repo, content, line, reason):
    _, diagnostics = scan(make_repo, {"Taskfile.yml": content})
    assert [(d.line, reason in d.reason) for d in diagnostics] == [(line, True)]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("", id="empty"),
        pytest.param("# just a comment\n", id="comment"),
        pytest.param("version: '3'\n", id="no-tasks"),
        pytest.param("tasks:\n  a:\n    cmds: [1, true, null, [x], {}]\n", id="odd-cmd-items"),
        pytest.param("tasks:\n  a:\n    deps: [1, {vars: {}}, [x]]\n    desc: [not, text]\n", id="odd-deps"),
        pytest.param("tasks:\n  a: &x\n    cmds: [echo]\n  b: *x\n", id="anchors"),
        pytest.param("tasks:\n  ? [a, b]\n  : echo\n", id="complex-key"),
        pytest.param("tasks:\n  a:\n    cmds:\n      - defer: [x]\n      - cmd: {nested: map}\n", id="odd-defer"),
        pytest.param("tasks:\n  a: !!binary aGVsbG8=\n", id="binary-tag"),
    ],
)
def test_odd_input_never_crashes(make_repo, content):
    inventory = run_detectors(make_repo({"Taskfile.yml": content}), "taskfile")
    assert errors_of(inventory) == []


def test_odd_command_items_are_kept_as_text(make_repo):
    tasks, _ = scan(make_repo, {"Taskfile.yml": "tasks:\n  a:\n    cmds: [1, true, null, [x], {}]\n"})
    assert [c.text for c in tasks["a"].commands] == ["1", "true"]


def test_secrets_are_redacted(make_repo):
    token = "glpat-" + "Ab3dE6gH9jK2mN5pQ8sT"
    text = f"tasks:\n  push:\n    cmds:\n      - \"curl -H 'PRIVATE-TOKEN: {token}' x\"\n"
    tasks, _ = scan(make_repo, {"Taskfile.yml": text})
    assert token not in tasks["push"].commands[0].text
    assert "[REDACTED" in tasks["push"].commands[0].text


@pytest.mark.parametrize(
    ("internal", "attributes"),
    [("yes", {"internal": "true"}), ("'on'", {"internal": "true"}), ("Y", {"internal": "true"}),
     ("true", {"internal": "true"}), ("no", {}), ("off", {}), ("YeS", {})],
)
def test_internal_is_read_as_go_yaml_decodes_a_bool(make_repo, internal, attributes):
    # Task decodes `internal` into a Go bool with go-yaml, which takes y/yes/on (quoted or not, in its casings) as
    # true and n/no/off as false; "YeS" is none of them
    tasks, _ = scan(make_repo, {"Taskfile.yml": f"version: '3'\ntasks:\n  x:\n    internal: {internal}\n    cmds: [echo]\n"})
    assert tasks["x"].attributes == attributes


@pytest.mark.parametrize(("flatten", "invocation"), [("yes", "task x"), ("'on'", "task x"), ("no", "task lib:x")])
def test_include_flatten_is_read_as_go_yaml_decodes_a_bool(make_repo, flatten, invocation):
    inventory = run_detectors(make_repo({
        "Taskfile.yml": f"includes:\n  lib: {{taskfile: lib/Taskfile.yml, flatten: {flatten}}}\n",
        "lib/Taskfile.yml": "tasks: {x: echo}\n"}), "taskfile")
    assert errors_of(inventory) == []
    assert [t.invocation for t in inventory.tasks if t.path == "lib/Taskfile.yml"] == [invocation]
