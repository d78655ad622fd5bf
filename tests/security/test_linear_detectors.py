"""Every detector is linear in its input: each parser gets generated files at two sizes (many small units, and one
very long token or line), and a deterministic work counter (Python line events, counted with sys.settrace) must
grow about as the input does. 4x the input may cost at most 6x the work; a quadratic parser costs about 16x.

Wall time is never measured. What a line counter cannot see (a C-level quadratic such as shlex's per-character
string concatenation, which took a 2 MB Makefile token to 59 s) is ruled out by `test_no_parser_uses_shlex`.
A per-file time budget in the detector runner (`discovery._watchdog`) turns an overrun into a Diagnostic."""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import orchestrator_kit
from orchestrator_kit.discovery import _watchdog, discover
from orchestrator_kit.repo import Workspace

from ..conftest import write_files

SCALE = 4
MAX_RATIO = 6.0


def _yaml_jobs(n: int, job: str) -> str:
    return "".join(job.format(i=i) for i in range(n))


# detector -> (file name, many(n) units, one long(n)-character token)
CASES: dict[str, tuple[str, Callable[[int], str], Callable[[int], str]]] = {
    "make": ("Makefile",
             lambda n: "".join(f"t{i}: t{i - 1 if i else 0}\n\t@echo {i} $(X) && ./run.sh --n {i}\n" for i in range(n)),
             lambda n: "all:\n\techo " + "a" * n + " \"" + "b" * n + "\" $(shell " + "c" * n + ")\n"),
    "just": ("justfile",
             lambda n: "".join(f"r{i} arg='x':\n    echo {i} {{{{arg}}}}\n\n" for i in range(n)),
             lambda n: "build:\n    echo " + "a" * n + " '" + "b" * n + "'\n"),
    "jenkins": ("Jenkinsfile",
                lambda n: "pipeline {\n  agent any\n  stages {\n" + "".join(
                    f"    stage('s{i}') {{ steps {{ sh 'make t{i}' }} }}\n" for i in range(n)) + "  }\n}\n",
                lambda n: "pipeline {\n  agent any\n  stages {\n    stage('x') { steps { sh '" + "a" * n
                + "' } }\n  }\n}\n"),
    "markdown-procedures": ("docs/runbook.md",
                            lambda n: "# Release\n\n" + "".join(f"{i + 1}. Run `make step{i}` on the host\n"
                                                                for i in range(n)),
                            lambda n: "# Release\n\n1. Run `" + "a" * n + "`\n2. " + "word " * (n // 5) + "\n"),
    "terraform": ("main.tf",
                  lambda n: "".join(f'resource "aws_instance" "r{i}" {{\n  ami = "ami-{i}"\n  tags = {{ n = "{i}" }}\n}}\n'
                                    for i in range(n)),
                  lambda n: 'resource "aws_instance" "x" {\n  ami = "' + "a" * n + '"\n}\n'),
    "gitlab-ci": (".gitlab-ci.yml",
                  lambda n: "stages: [build]\n.base:\n  image: x\n" + _yaml_jobs(
                      n, "job{i}:\n  extends: .base\n  stage: build\n  script: [\"make t{i}\"]\n"),
                  lambda n: "build:\n  script:\n    - echo " + "a" * n + "\n"),
    "github-actions": (".github/workflows/ci.yml",
                       lambda n: "on: push\njobs:\n" + _yaml_jobs(
                           n, "  j{i}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make t{i}\n"),
                       lambda n: "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo " + "a" * n + "\n"),
    "circleci": (".circleci/config.yml",
                 lambda n: "version: 2.1\njobs:\n" + _yaml_jobs(
                     n, "  j{i}:\n    docker: [{{image: x}}]\n    steps: [checkout, {{run: make t{i}}}]\n"),
                 lambda n: "version: 2.1\njobs:\n  a:\n    docker: [{image: x}]\n    steps:\n      - run: " + "a" * n + "\n"),
    "azure-pipelines": ("azure-pipelines.yml",
                        lambda n: "steps:\n" + _yaml_jobs(n, "  - script: make t{i}\n    displayName: s{i}\n"),
                        lambda n: "steps:\n  - script: " + "a" * n + "\n"),
    "bitbucket-pipelines": ("bitbucket-pipelines.yml",
                            lambda n: "pipelines:\n  default:\n" + _yaml_jobs(
                                n, "    - step:\n        name: s{i}\n        script: [make t{i}]\n"),
                            lambda n: "pipelines:\n  default:\n    - step:\n        script:\n          - " + "a" * n + "\n"),
    "docker": ("Dockerfile",
               lambda n: "FROM python:3.12\n" + "".join(f"RUN pip install p{i} && make t{i}\n" for i in range(n)),
               lambda n: "FROM python:3.12\nRUN echo " + "a" * n + " '" + "b" * n + "'\n"),
    "crontab": ("ops/crontab",
                lambda n: "".join(f"{i % 60} 3 * * * /opt/run.sh {i}\n" for i in range(n)),
                lambda n: "0 3 * * * /opt/run.sh " + "a" * n + "\n"),
    "scripts": ("scripts/deploy.sh",
                lambda n: "#!/bin/sh\n" + "".join(f"kubectl apply -f k{i}.yml && make t{i}\n" for i in range(n)),
                lambda n: "#!/bin/sh\necho " + "a" * n + " \"" + "b" * n + "\"\n"),
    "npm-scripts": ("package.json",
                    lambda n: json.dumps({"scripts": {f"s{i}": f"npm run s{i - 1} && node x{i}.js" for i in range(n)}}),
                    lambda n: json.dumps({"scripts": {"build": "node " + "a" * n + " && npm run " + "b" * n}})),
    "pyproject-tasks": ("pyproject.toml",
                        lambda n: "[tool.poe.tasks]\n" + "".join(f't{i} = "pytest -k t{i}"\n' for i in range(n)),
                        lambda n: '[tool.poe.tasks]\nbuild = "' + "a" * n + '"\n'),
    "tox": ("tox.ini",
            lambda n: "[tox]\nenvlist = py\n" + "".join(f"[testenv:e{i}]\ncommands = pytest -k e{i}\n" for i in range(n)),
            lambda n: "[testenv]\ncommands = pytest " + "a" * n + "\n"),
    "compose": ("docker-compose.yml",
                lambda n: "services:\n" + _yaml_jobs(n, "  s{i}:\n    image: x:{i}\n    command: run {i}\n"),
                lambda n: "services:\n  a:\n    image: x\n    command: " + "a" * n + "\n"),
    "kubernetes": ("k8s/all.yaml",
                   lambda n: "".join(f"---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c{i}\nspec:\n"
                                     f"  schedule: '0 3 * * *'\n" for i in range(n)),
                   lambda n: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + "a" * n + "\n"),
    "taskfile": ("Taskfile.yml",
                 lambda n: "version: '3'\ntasks:\n" + _yaml_jobs(n, "  t{i}:\n    cmds: [make t{i}]\n"),
                 lambda n: "version: '3'\ntasks:\n  a:\n    cmds: [" + "a" * n + "]\n"),
    "pre-commit": (".pre-commit-config.yaml",
                   lambda n: "repos:\n- repo: local\n  hooks:\n" + _yaml_jobs(
                       n, "  - {{id: h{i}, name: h{i}, entry: run{i}, language: system}}\n"),
                   lambda n: "repos:\n- repo: local\n  hooks:\n  - {id: a, name: a, entry: " + "a" * n + ", language: system}\n"),
    "systemd-timer": ("ops/x.timer",
                      lambda n: "[Timer]\n" + "".join(f"OnCalendar=*-*-* {i % 24:02d}:00:00\n" for i in range(n)),
                      lambda n: "[Timer]\nOnCalendar=" + "a" * n + "\n"),
    "nox": ("noxfile.py",
            lambda n: "import nox\n" + "".join(f"@nox.session\ndef s{i}(session):\n    session.run('pytest', '-k', 's{i}')\n"
                                               for i in range(n)),
            lambda n: "import nox\n@nox.session\ndef s(session):\n    session.run('" + "a" * n + "')\n"),
    "ansible": ("playbook.yml",
                lambda n: "- hosts: all\n  tasks:\n" + _yaml_jobs(n, "    - name: t{i}\n      shell: make t{i}\n"),
                lambda n: "- hosts: all\n  tasks:\n    - shell: " + "a" * n + "\n"),
    "cargo": (".cargo/config.toml",
              lambda n: "[alias]\n" + "".join(f"a{i} = 'run --bin b{i}'\n" for i in range(n)),
              lambda n: "[alias]\nb = '" + "a" * n + "'\n"),
    "composer": ("composer.json",
                 lambda n: json.dumps({"scripts": {f"s{i}": [f"@s{i - 1}", f"php x{i}.php"] for i in range(n)}}),
                 lambda n: json.dumps({"scripts": {"build": "php " + "a" * n}})),
    "dotnet": ("app.csproj",
               lambda n: "<Project>\n" + "".join(f'  <Target Name="t{i}"><Exec Command="dotnet run {i}" /></Target>\n'
                                                 for i in range(n)) + "</Project>\n",
               lambda n: '<Project>\n  <Target Name="t"><Exec Command="' + "a" * n + '" /></Target>\n</Project>\n'),
    "gradle": ("build.gradle",
               lambda n: "".join(f"tasks.register('t{i}') {{\n  dependsOn 't{max(i - 1, 0)}'\n  doLast {{ exec {{ "
                                 f"commandLine 'make', 't{i}' }} }}\n}}\n" for i in range(n)),
               lambda n: "tasks.register('t') {\n  doLast { println '" + "a" * n + "' }\n}\n"),
    "maven": ("pom.xml",
              lambda n: "<project><build><plugins>" + "".join(
                  f"<plugin><artifactId>p{i}</artifactId><executions><execution><id>e{i}</id><phase>test</phase>"
                  "</execution></executions></plugin>" for i in range(n)) + "</plugins></build></project>\n",
              lambda n: "<project><build><plugins><plugin><artifactId>" + "a" * n
              + "</artifactId></plugin></plugins></build></project>\n"),
    "rake": ("Rakefile",
             lambda n: "".join(f"desc 'task {i}'\ntask :t{i} => [:t{max(i - 1, 0)}] do\n  sh 'make t{i}'\nend\n"
                               for i in range(n)),
             lambda n: "task :t do\n  sh '" + "a" * n + "'\nend\n"),
}
MANY, LONG = 150, 4000
# Nesting and continuation: n levels of one construct (a recursive parser must neither recurse n deep nor rescan).
DEEP: dict[str, tuple[str, Callable[[int], str]]] = {
    "terraform": ("main.tf", lambda n: "locals {\n  x = " + "{ a = " * n + "1" + " }" * n + "\n}\n"),
    "jenkins": ("Jenkinsfile", lambda n: "pipeline {\n agent any\n stages { stage('a') { steps { " + "script { " * n
                + "sh 'x'" + " }" * n + " } } }\n}\n"),
    "make": ("Makefile", lambda n: "X = a \\\n" + "b \\\n" * n + "c\nall:\n\techo $(X) \\\n" + "\tmore \\\n" * n + "\tend\n"),
    "gitlab-ci": (".gitlab-ci.yml", lambda n: ".b0:\n  script: [x]\n" + "".join(
        f".b{i}:\n  extends: .b{i - 1}\n" for i in range(1, n)) + f"job:\n  extends: .b{n - 1}\n"),
    "markdown-procedures": ("docs/r.md", lambda n: "# R\n\n" + "".join(
        "  " * min(i, 40) + f"- step {i} `make x`\n" for i in range(n))),
    "docker": ("Dockerfile", lambda n: "FROM x\nRUN a \\\n" + " && b \\\n" * n + " && c\n"),
}


def _work(tmp_path: Path, name: str, files: dict[str, str]) -> int:
    """Python line events executed while the one detector (and the finalizers) scan `files`."""
    root = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    root.mkdir()
    write_files(root, files)
    workspace = Workspace(root)
    workspace.files()  # listing is not the detector's work
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += 1
        return tracer

    sys.settrace(tracer)
    try:
        inventory = discover(workspace, only={name})
    finally:
        sys.settrace(None)
    assert not [d for d in inventory.diagnostics if "internal error" in d.reason or "budget" in d.reason]
    return count


@pytest.mark.parametrize("shape", ["many", "long"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_detector_work_grows_linearly(name, shape, tmp_path):
    path, many, long = CASES[name]
    make, size = (many, MANY) if shape == "many" else (long, LONG)
    # Warm-up on a smaller, different file: lazy imports are not the parser's work, and caches must not hold
    # the measured file already.
    _work(tmp_path, name, {path: make(size // 8)})
    small = _work(tmp_path, name, {path: make(size)})
    large = _work(tmp_path, name, {path: make(size * SCALE)})
    ratio = large / small
    assert ratio <= MAX_RATIO, f"{name} ({shape}): {SCALE}x input cost {ratio:.1f}x the work ({small} -> {large})"


@pytest.mark.parametrize("name", sorted(DEEP))
def test_nesting_costs_linear_work(name, tmp_path):
    path, make = DEEP[name]
    _work(tmp_path, name, {path: make(20)})
    small = _work(tmp_path, name, {path: make(150)})
    large = _work(tmp_path, name, {path: make(150 * SCALE)})
    ratio = large / small
    assert ratio <= MAX_RATIO, f"{name} (deep): {SCALE}x nesting cost {ratio:.1f}x the work ({small} -> {large})"


def test_every_detector_has_a_case():
    from orchestrator_kit.discovery import load_detectors

    # root-scripts reads the listing only; helm and kustomize parse a few fixed keys of one small file.
    untested = {"root-scripts", "helm", "kustomize", "github-actions-composite"}
    assert {d.name for d in load_detectors()} - untested == set(CASES)


def test_no_parser_uses_shlex():
    """shlex builds each token one character at a time (quadratic in a word's length): parsers use shellwords."""
    package = Path(orchestrator_kit.__file__).parent
    users = []
    for folder in ("discovery", "opportunities", "metrics"):
        for path in (package / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "shlex" \
                        and node.attr not in ("quote", "join"):
                    users.append(f"{path.name}: shlex.{node.attr}")
    assert users == []


def test_a_detector_over_its_budget_becomes_a_diagnostic(make_repo, monkeypatch):
    import orchestrator_kit.discovery as discovery
    from orchestrator_kit.discovery import base, load_detectors

    root = make_repo({"Makefile": "all:\n\techo ok\n", "slow.stuck": "x\n"})

    def stuck(ctx, file):
        while True:
            pass

    load_detectors()
    spec = base.Detector(name="stuck-test", wants=lambda path: path.endswith(".stuck"), detect=stuck)
    monkeypatch.setattr(discovery, "DETECTORS", [*discovery.DETECTORS, spec])
    monkeypatch.setattr(_watchdog, "FILE_SECONDS", 0.2)
    inventory = discover(Workspace(root))
    over = [d for d in inventory.diagnostics if d.path == "slow.stuck"]
    assert len(over) == 1 and "ran over its 0.2 s budget" in over[0].reason
    assert any(t.name == "all" for t in inventory.tasks)  # the rest of the scan went on


def test_a_terraform_line_of_many_values_costs_linear_work(tmp_path):
    # Values the detector reads (required_providers entries, object constructors) on one line: their text is cut
    # from the source by offsets found along the line, which must be walked once, not once per value.
    def make(n: int) -> str:
        entries = ", ".join(f"p{i} = {{ source = [\"s{i}\"], version = [{i}] }}" for i in range(n))
        return "terraform {\n  required_providers { " + entries + " }\n}\n"

    _work(tmp_path, "terraform", {"main.tf": make(MANY // 8)})
    small = _work(tmp_path, "terraform", {"main.tf": make(MANY)})
    large = _work(tmp_path, "terraform", {"main.tf": make(MANY * SCALE)})
    ratio = large / small
    assert ratio <= MAX_RATIO, f"terraform (one line): {SCALE}x values cost {ratio:.1f}x the work ({small} -> {large})"


@pytest.mark.parametrize("make", [
    lambda n: "/* c */ " * n + "x = 1\n",  # block comments one after another on one line
    lambda n: "".join(f"/* section {i}\n */\nresource \"a_b\" \"r{i}\" {{ x = 1 }}\n" for i in range(n)),
])
def test_terraform_block_comments_cost_linear_work(make, tmp_path):
    _work(tmp_path, "terraform", {"main.tf": make(MANY // 8)})
    small = _work(tmp_path, "terraform", {"main.tf": make(MANY * 4)})
    large = _work(tmp_path, "terraform", {"main.tf": make(MANY * 4 * SCALE)})
    ratio = large / small
    assert ratio <= MAX_RATIO, f"terraform (comments): {SCALE}x comments cost {ratio:.1f}x the work ({small} -> {large})"
