"""Bad input through the whole scan: every problem becomes a Diagnostic with path and reason; nothing crashes."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path

import pytest

from orchestrator_kit import InputError, scan

from .conftest import write_files

WORKFLOW = """
name: CI
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make build
"""


def reasons(inventory, path):
    return [d.reason for d in inventory.diagnostics if d.path == path]


def test_a_path_that_does_not_exist(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        scan(tmp_path / "nope")


def test_a_directory_that_is_not_a_git_repo(make_repo):
    root = make_repo({".github/workflows/ci.yml": WORKFLOW})
    inventory = scan(root)
    assert inventory.git is None
    assert [p.name for p in inventory.pipelines] == ["CI"]


def test_an_empty_git_repo(make_repo):
    root = make_repo({}, git_repo=True)
    inventory = scan(root)
    assert inventory.git is not None and inventory.git.empty
    assert inventory.files_listed == 0 and inventory.pipelines == [] and inventory.diagnostics == []


def test_invalid_yaml_is_a_diagnostic_with_its_line_and_the_scan_goes_on(make_repo):
    root = make_repo(
        {
            ".github/workflows/broken.yml": "name: x\non: push\njobs:\n  a: [unclosed\n  b: c\n",
            ".github/workflows/ci.yml": WORKFLOW,
        }
    )
    inventory = scan(root)
    assert [p.path for p in inventory.pipelines] == [".github/workflows/ci.yml"]
    (diag,) = [d for d in inventory.diagnostics if d.path == ".github/workflows/broken.yml"]
    assert diag.reason.startswith("invalid YAML") and diag.line == 5


def test_a_value_that_does_not_fit_its_tag_is_invalid_yaml_not_an_internal_error(make_repo):
    root = make_repo({
        ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: !!int abc\n    steps:\n      - run: make\n",
        "k8s/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  replicas: !!bool maybe\n",
    })
    inventory = scan(root)
    found = {(d.path, d.line, d.severity, d.reason) for d in inventory.diagnostics}
    assert found == {
        (".github/workflows/ci.yml", 4, "warning", "invalid YAML: a value tagged !!int is not an integer (line 4)"),
        ("k8s/pod.yaml", 6, "warning", "invalid YAML: a value tagged !!bool is not a boolean (true or false) (line 6)"),
    }


def test_numbers_int_refuses_are_findings_not_internal_errors(make_repo):
    # str.isdigit() and regex \\d+ pass these, but int() raises ValueError: a superscript digit, and more digits than
    # Python's limit (sys.get_int_max_str_digits, 4,300 by default). Each was "internal error in detector".
    nines = "9" * 5000
    root = make_repo({
        "crontab": f"*/{nines} * * * * /bin/a\n0 5 * * * /bin/b\n",
        ".github/workflows/nightly.yml": "on:\n  schedule:\n    - cron: '\u00b2 * * * *'\njobs:\n  a:\n"
                                         "    runs-on: x\n    steps: [{run: make}]\n",
        "deploy/backup.timer": f"[Timer]\nOnCalendar=*-*-{nines} 02:00\nOnBootSec={nines}\n",
        "tox.ini": f"[tox]\nenvlist = py{{{nines}-{nines}}}, py{{311-312}}\n[testenv]\ncommands = pytest\n",
    })
    inventory = scan(root)
    assert [d.severity for d in inventory.diagnostics] == ["warning", "warning"]
    assert [(d.path, d.line) for d in inventory.diagnostics] == [(".github/workflows/nightly.yml", 3), ("crontab", 1)]
    assert ["not written with the digits 0-9, or has too many" in d.reason for d in inventory.diagnostics] == [
        False, True]  # the workflow's superscript 2 is "not a number" for cron, the crontab's 5,000 nines too many
    assert "'\u00b2' is not a number" in inventory.diagnostics[0].reason
    calendar, boot = sorted((s for s in inventory.schedules if s.source == "systemd-timer"),
                            key=lambda s: s.evidence.line_start)
    assert calendar.explanation.startswith("calendar expression *-*-9") and boot.explanation.startswith(nines)
    assert [s.explanation for s in inventory.schedules if s.source == "crontab"] == ["at 05:00 every day"]
    assert sorted(e.name for e in inventory.tasks if e.name in ("py311", "py312")) == ["py311", "py312"]
    assert any(e.name == f"py{nines}-{nines}" for e in inventory.tasks)  # no range: kept as written


def test_json_and_toml_past_the_parser_are_invalid_with_their_line(make_repo):
    # json.loads and tomllib let a bare ValueError out for an integer past Python's 4,300-digit limit, and tomllib
    # reads a hexadecimal one that str() then refuses: each was "internal error in detector"
    nines = "9" * 5000
    root = make_repo({
        "pyproject.toml": f"[project]\nname = 'x'\nversion = {nines}\n",
        "package.json": '{\n  "name": "x",\n  "scripts": {"test": "jest"},\n  "version": ' + nines + "\n}\n",
        "composer.json": '{"scripts": {"t": "phpunit"},\n "x": [' + nines + "]}",
        ".config/dotnet-tools.json": '{"version": 1,\n\n "n": ' + nines + "}",
        ".cargo/config.toml": "[alias]\nb = 'build'\nx = 0x" + "f" * 5000 + "\n",
        "infra/main.tf.json": '{"resource": {},\n "n": ' + nines + "}",
    })
    inventory = scan(root)
    assert [(d.path, d.line, d.severity, d.reason) for d in inventory.diagnostics] == [
        (".cargo/config.toml", 3, "warning", "invalid TOML: Integer of more than 4300 decimal digits (at line 3, column 5)"),
        (".config/dotnet-tools.json", 3, "warning", "invalid JSON: Integer of more than 4300 digits: line 3 column 7 (char 22)"),
        ("composer.json", 2, "warning", "invalid JSON: Integer of more than 4300 digits: line 2 column 8 (char 37)"),
        ("infra/main.tf.json", 2, "warning", "invalid JSON: Integer of more than 4300 digits: line 2 column 7 (char 23)"),
        ("package.json", 4, "warning", "invalid JSON: Integer of more than 4300 digits (line 4, column 14)"),
        ("pyproject.toml", 3, "warning", "invalid TOML: Integer of more than 4300 digits (at line 3, column 11)"),
    ]


def test_yaml_integers_python_will_not_write_and_misplaced_collection_tags(make_repo):
    # each was "internal error in detector": str() of a 0x integer of 5,000 digits (ValueError), `!!seq x`
    # (AttributeError), `!!int ''` (IndexError)
    big = "0x" + "f" * 5000
    root = make_repo({
        "kustomization.yaml": f"resources:\n  - {big}\n",
        "charts/a/Chart.yaml": f"apiVersion: v2\nname: a\nversion: {big}\n",
        ".circleci/config.yml": "version: 2.1\njobs:\n  a:\n    docker: !!seq x\n",
        "azure-pipelines.yml": "steps:\n  - script: make\n    timeoutInMinutes: !!int ''\n",
    })
    inventory = scan(root)
    assert sorted((d.path, d.line, d.severity, d.reason) for d in inventory.diagnostics) == [
        (".circleci/config.yml", 4, "warning", "invalid YAML: a value tagged !!seq is not a sequence (line 4)"),
        ("azure-pipelines.yml", 3, "warning", "invalid YAML: a value tagged !!int is not an integer (line 3)"),
        ("charts/a/Chart.yaml", 3, "warning", "invalid YAML: an integer of more than 4300 decimal digits (line 3)"),
        ("kustomization.yaml", 2, "warning", "invalid YAML: an integer of more than 4300 decimal digits (line 2)"),
    ]


def test_a_base_60_integer_is_invalid_yaml_not_an_internal_error(make_repo):
    # YAML 1.1's base 60 through an explicit tag: 2,500 parts made an integer of 4,446 digits, which str() refuses
    # ("internal error in detector" at the first f-string of it)
    root = make_repo({"kustomization.yaml": "resources:\n  - !!int 1" + ":59" * 2500 + "\n"})
    inventory = scan(root)
    assert [(d.path, d.line, d.severity, d.reason) for d in inventory.diagnostics] == [
        ("kustomization.yaml", 2, "warning", "invalid YAML: a value tagged !!int is not an integer (line 2)")]


def test_a_binary_file_named_yml(make_repo):
    root = make_repo({".github/workflows/logo.yml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00"})
    inventory = scan(root)
    assert reasons(inventory, ".github/workflows/logo.yml") == ["binary file (contains NUL bytes); not read as text"]
    assert inventory.pipelines == []


def test_a_file_over_the_size_cap(make_repo):
    root = make_repo({".github/workflows/huge.yml": WORKFLOW + "#" * 5000, ".github/workflows/ci.yml": WORKFLOW})
    inventory = scan(root, max_file_bytes=1024)
    (reason,) = reasons(inventory, ".github/workflows/huge.yml")
    assert "over the 1024-byte cap" in reason
    assert len(inventory.pipelines) == 1


def test_non_utf8_text_is_read_with_a_note(make_repo):
    root = make_repo({".github/workflows/ci.yml": WORKFLOW.replace("name: CI", "name: Caf\xe9").encode("latin-1")})
    inventory = scan(root)
    assert [p.name for p in inventory.pipelines] == ["Café"]
    (reason,) = reasons(inventory, ".github/workflows/ci.yml")
    assert "decoded as Latin-1" in reason


def test_a_symlink_loop(make_repo):
    root = make_repo({".github/workflows/ci.yml": WORKFLOW})
    (root / ".github" / "workflows" / "loop.yml").symlink_to("loop.yml")
    inventory = scan(root)
    assert reasons(inventory, ".github/workflows/loop.yml") == ["symlink loop (too many levels of symbolic links)"]
    assert len(inventory.pipelines) == 1


def _scan_as_nobody(root: Path) -> bytes:
    """Scan in a forked child that dropped root's privileges (root can read any file), return the pickled result."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = scan(root).model_dump()
            os.write(write_fd, pickle.dumps(result))
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def test_an_unreadable_file():
    # tmp_path lives under a 0700 folder that an unprivileged user cannot enter, so build under /tmp directly.
    root = Path(tempfile.mkdtemp(prefix="ok-unreadable-"))
    try:
        root.chmod(0o755)
        write_files(root, {".github/workflows/ci.yml": WORKFLOW, ".github/workflows/secret.yml": WORKFLOW})
        for folder in (root / ".github", root / ".github" / "workflows"):
            folder.chmod(0o755)
        (root / ".github" / "workflows" / "ci.yml").chmod(0o644)
        (root / ".github" / "workflows" / "secret.yml").chmod(0o000)
        if os.geteuid() == 0:
            data = _scan_as_nobody(root)
            assert data, "the unprivileged child produced no result"
            inventory = pickle.loads(data)  # noqa: S301 - our own child's output
            diagnostics = inventory["diagnostics"]
            pipelines = inventory["pipelines"]
        else:
            result = scan(root).model_dump()
            diagnostics, pipelines = result["diagnostics"], result["pipelines"]
        assert [(d["path"], d["reason"]) for d in diagnostics] == [
            (".github/workflows/secret.yml", "permission denied")
        ]
        assert [p["path"] for p in pipelines] == [".github/workflows/ci.yml"]
    finally:
        for path in root.rglob("*"):
            path.chmod(0o700)
        import shutil

        shutil.rmtree(root)


def test_every_problem_at_once_still_gives_an_inventory(make_repo):
    root = make_repo(
        {
            ".github/workflows/ci.yml": WORKFLOW,
            ".github/workflows/bad.yml": ":\n  - [\n",
            ".github/workflows/bin.yml": b"\x00\x01\x02",
            ".github/workflows/list.yml": "- just\n- a list\n",
            ".github/workflows/empty.yml": "",
            ".github/workflows/types.yml": "on: 42\njobs: [1, 2]\n",
        },
        git_repo=True,
    )
    inventory = scan(root)
    assert [p.path for p in inventory.pipelines] == [".github/workflows/ci.yml", ".github/workflows/types.yml"]
    paths = {d.path for d in inventory.diagnostics}
    assert {".github/workflows/bad.yml", ".github/workflows/bin.yml", ".github/workflows/list.yml"} <= paths
    assert not [d for d in inventory.diagnostics if "internal error" in d.reason]
    json.loads(inventory.model_dump_json())
