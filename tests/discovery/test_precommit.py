"""The pre-commit detector, checked by hand against pre-commit's configuration reference."""

from __future__ import annotations

import pytest

from orchestrator_kit.models import Task
from tests.conftest import errors_of, run_detectors

from .conftest import task_scanner

CONFIG = """\
default_stages: [pre-commit, pre-push]
exclude: ^vendor/
ci:
  skip: [mypy-local]
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
      - id: trailing-whitespace
      - id: check-yaml
        args: [--allow-multiple-documents]
        exclude: ^charts/
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: "v0.4.4"  # pinned
    hooks:
      - id: ruff
        args: [--fix]
      - id: ruff
        alias: ruff-check-only
        stages: [manual]
      - id: ruff-format
  - repo: local
    hooks:
      - id: mypy-local
        name: mypy (strict)
        entry: mypy --strict
        language: system
        types: [python]
        pass_filenames: false
        args: [src]
      - id: terraform-fmt
        name: terraform fmt
        entry: terraform fmt -check
        language: system
        files: \\.tf$
        stages: [manual]
  - repo: meta
    hooks:
      - id: check-useless-excludes
  - repo: https://github.com/psf/black
    rev: 22.10
    hooks:
      - id: black
      - id: black
"""

PATH = ".pre-commit-config.yaml"
HOOKS_REPO = "https://github.com/pre-commit/pre-commit-hooks"
DEFAULT_STAGES = "pre-commit, pre-push"


scan = task_scanner("pre-commit", key=lambda t: t.id.split("#", 1)[1])


def span(task: Task) -> tuple[int, int]:
    return task.evidence.line_start, task.evidence.line_end


def test_realistic_config(make_repo):
    tasks, diagnostics = scan(make_repo, {PATH: CONFIG})
    assert list(tasks) == ["trailing-whitespace", "check-yaml", "ruff", "ruff-check-only", "ruff-format", "mypy-local",
                           "terraform-fmt", "check-useless-excludes", "black", "black[2]"]
    trailing = tasks["trailing-whitespace"]
    assert trailing.id == f"pre-commit:{PATH}#trailing-whitespace"
    assert (trailing.runner, trailing.invocation, span(trailing)) == (
        "pre-commit", "pre-commit run trailing-whitespace --all-files", (9, 9)
    )
    assert trailing.attributes == {"repo": HOOKS_REPO, "rev": "v4.6.0", "stages": DEFAULT_STAGES}
    assert trailing.commands == []  # a remote hook's command lives in its own repository

    check_yaml = tasks["check-yaml"]
    assert span(check_yaml) == (10, 12)
    assert check_yaml.attributes == {"repo": HOOKS_REPO, "rev": "v4.6.0", "exclude": "^charts/",
                                     "args": "--allow-multiple-documents", "stages": DEFAULT_STAGES}

    assert tasks["ruff"].attributes["rev"] == "v0.4.4"
    alias = tasks["ruff-check-only"]
    assert (alias.name, span(alias)) == ("ruff-check-only", (18, 20))
    assert alias.invocation == "pre-commit run ruff-check-only --hook-stage manual --all-files"
    assert alias.attributes["stages"] == "manual"

    mypy = tasks["mypy-local"]
    assert (mypy.description, span(mypy)) == ("mypy (strict)", (24, 30))
    assert [(c.text, c.evidence.line_start) for c in mypy.commands] == [("mypy --strict src", 26)]
    assert mypy.attributes == {
        "repo": "local", "language": "system", "types": "python", "args": "src", "stages": DEFAULT_STAGES,
        "pass_filenames": "false", "ci_skip": "true",
    }
    terraform = tasks["terraform-fmt"]
    assert terraform.invocation == "pre-commit run terraform-fmt --hook-stage manual --all-files"
    assert terraform.attributes["files"] == "\\.tf$"
    assert [c.text for c in terraform.commands] == ["terraform fmt -check"]
    assert tasks["check-useless-excludes"].attributes == {"repo": "meta", "stages": DEFAULT_STAGES}

    assert (span(tasks["black"]), span(tasks["black[2]"])) == ((43, 43), (44, 44))
    assert tasks["black[2]"].name == "black"
    assert tasks["black"].attributes["rev"] == "22.10"  # as written, not YAML's float 22.1
    assert [(d.line, d.reason) for d in diagnostics] == [
        (41, "rev '22.10' is read by YAML as a float, not text; quote it")
    ]


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        pytest.param("repos:\n  - repo: x\n    hooks: [\n", 4, "invalid YAML", id="invalid-yaml"),
        pytest.param("- a\n", 1, "top level is not a mapping", id="top-level-list"),
        pytest.param("default_stages: [pre-commit]\n", 1, "'repos' is missing", id="no-repos"),
        pytest.param("repos: {a: 1}\n", 1, "not a list of repositories", id="repos-map"),
        pytest.param("repos:\n  - just-a-string\n", 2, "repos item 1 is not a mapping", id="repo-string"),
        pytest.param("repos:\n  - rev: v1\n    hooks: []\n", 2, "has no 'repo'", id="repo-missing"),
        pytest.param("repos:\n  - repo: https://x\n    hooks: []\n", 2, "has no 'rev'", id="rev-missing"),
        pytest.param("repos:\n  - repo: local\n    hooks: x\n", 3, "no list of hooks", id="hooks-string"),
        pytest.param("repos:\n  - repo: local\n    hooks:\n      - name: no id\n", 4, "has no 'id'", id="hook-no-id"),
        pytest.param("repos:\n  - repo: local\n    hooks:\n      - 42\n", 4, "is not a mapping", id="hook-number"),
        pytest.param("repos:\n  - repo: https://x\n    rev: 1\n    hooks: []\n", 3, "read by YAML as a int",
                     id="rev-int"),
    ],
)
def test_bad_config_becomes_a_diagnostic(make_repo, content, line, reason):
    _, diagnostics = scan(make_repo, {PATH: content})
    assert [(d.line, reason in d.reason) for d in diagnostics] == [(line, True)]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("", id="empty"),
        pytest.param("# comment only\n", id="comment"),
        pytest.param("repos: []\n", id="no-repos"),
        pytest.param("repos:\n  - repo: local\n    hooks:\n      - id: [a, b]\n        entry: {x: 1}\n", id="odd-types"),
        pytest.param("repos:\n  - repo: local\n    hooks:\n      - id: x\n        stages: manual\n        args: 5\n",
                     id="scalar-lists"),
        pytest.param("ci: [1]\nrepos:\n  - repo: local\n    hooks:\n      - id: y\n", id="ci-not-map"),
    ],
)
def test_odd_input_never_crashes(make_repo, content):
    inventory = run_detectors(make_repo({PATH: content}), "pre-commit")
    assert errors_of(inventory) == []


def test_scalar_stages_and_args_are_read_as_lists(make_repo):
    content = "repos:\n  - repo: local\n    hooks:\n      - id: x\n        entry: ./check.sh\n        stages: manual\n" \
              "        args: --strict\n"
    tasks, _ = scan(make_repo, {PATH: content})
    assert tasks["x"].invocation == "pre-commit run x --hook-stage manual --all-files"
    assert [c.text for c in tasks["x"].commands] == ["./check.sh --strict"]


def test_yml_spelling_and_vendored(make_repo):
    root = make_repo({".pre-commit-config.yml": "repos:\n  - repo: meta\n    hooks:\n      - id: identity\n",
                      "vendor/x/.pre-commit-config.yaml": "repos:\n  - repo: meta\n    hooks:\n      - id: other\n"})
    inventory = run_detectors(root, "pre-commit")
    assert [t.id for t in inventory.tasks] == ["pre-commit:.pre-commit-config.yml#identity"]


def test_secrets_in_entries_are_redacted(make_repo):
    token = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    content = f"repos:\n  - repo: local\n    hooks:\n      - id: notify\n        entry: \"curl -H 'X: {token}' x\"\n"
    tasks, _ = scan(make_repo, {PATH: content})
    assert token not in tasks["notify"].commands[0].text
    assert "[REDACTED" in tasks["notify"].commands[0].text


@pytest.mark.parametrize("rev", ["yes", "off"])
def test_a_plain_yes_or_off_rev_is_the_boolean_pre_commits_yaml_reads(make_repo, rev):
    # pre-commit loads its config with PyYAML (YAML 1.1), where a plain yes/off is a boolean, not a rev
    content = f"repos:\n  - repo: https://example.com/hooks\n    rev: {rev}\n    hooks:\n      - id: lint\n"
    tasks, diagnostics = scan(make_repo, {PATH: content})
    assert [(d.line, d.reason) for d in diagnostics] == [(3, f"rev '{rev}' is read by YAML as a bool, not text; quote it")]
    assert tasks["lint"].attributes["rev"] == rev
