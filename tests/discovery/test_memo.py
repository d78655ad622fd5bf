"""Findings kept from one scan to the next (`discovery._memo`): a repeat scan gives the same Inventory, skips the
work of the calls whose inputs did not change, redoes the others, and never trusts a store it should not."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator_kit.discovery import _mdtree, _memo, discover, terraform
from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.models import Diagnostic, Inventory
from orchestrator_kit.repo import Workspace
from orchestrator_kit.samples import build_sample_repo
from orchestrator_kit.yamlsrc import YamlError, load_yaml_documents

from ..conftest import git, write_files

SAMPLES = Path(__file__).resolve().parents[2] / "evals" / "repos"

RUNBOOK = """# Operations

## Roll back a release

1. Find the previous tag: `git describe --tags --abbrev=0 HEAD^`
2. Deploy it:

   ```sh
   kubectl rollout undo deployment/api -n prod
   ```
3. Tell the on-call channel.
"""
MAIN_TF = """terraform {
  backend "s3" {
    bucket = "state"
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
"""
VARIABLES_TF = """variable "region" {
  default = "eu-west-1"
}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: api:1.0
"""
WORKFLOW = """name: ci
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""
SCRIPT = "#!/bin/sh\nset -eu\nkubectl apply -f k8s/\n"
PYPROJECT = """[project]
name = "api"

[project.scripts]
api-admin = "api.admin:main"
"""
TOX = """[tox]
env_list = py312

[testenv]
commands = pytest
"""
PRE_COMMIT = """repos:
  - repo: local
    hooks:
      - id: lint
        name: lint
        entry: ruff check
        language: system
"""
PLAYBOOK = """- hosts: web
  tasks:
    - name: restart
      service:
        name: api
        state: restarted
"""
FILES = {
    "docs/runbooks/rollback.md": RUNBOOK,
    "infra/main.tf": MAIN_TF,
    "infra/variables.tf": VARIABLES_TF,
    "k8s/deploy.yaml": DEPLOYMENT,
    ".github/workflows/ci.yml": WORKFLOW,
    "scripts/deploy.sh": SCRIPT,
    "pyproject.toml": PYPROJECT,
    "tox.ini": TOX,
    ".pre-commit-config.yaml": PRE_COMMIT,
    "ansible/site.yml": PLAYBOOK,
}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(folder))
    return folder


def scan(root: Path, remember: bool = True) -> Inventory:
    return discover(Workspace(root), remember=remember)


def as_json(inventory: Inventory) -> str:
    return json.dumps(inventory.model_dump(mode="json"), sort_keys=True)


def repo(tmp_path: Path, files: dict[str, str] = FILES) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_files(root, files)
    (root / "scripts" / "deploy.sh").chmod(0o755)
    return root


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every Markdown and HCL parse fail: a scan that still finds the documents' and folders' findings did
    not parse them."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsed again")

    monkeypatch.setattr(_mdtree, "parse", refuse)
    monkeypatch.setattr(terraform._ParseMemo, "parse", refuse)


@pytest.mark.parametrize("sample", ["acme-shop", "k8s-platform", "terraform-by-hand", "hostile"])
def test_a_repeat_scan_of_a_sample_is_the_same_inventory_without_parsing_again(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build_sample_repo(SAMPLES / sample, tmp_path / sample).path
    assert as_json(scan(root)) == as_json(scan(root, remember=False))  # the first scan fills the store
    # A file no detector reads changes the listing: the last scan's record is not reused (`_unchanged`), every call
    # is replayed from the memo.
    (root / "unrelated.dat").write_bytes(b"\x00\x01")
    expected = as_json(scan(root, remember=False))
    no_parsing(monkeypatch)
    assert as_json(scan(root)) == expected
    assert "internal error" not in expected


def test_the_repeat_scan_replays_every_remembered_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    first = scan(root)
    assert first.procedures and first.infrastructure and first.pipelines and first.tasks  # each kind is there
    (root / "unrelated.dat").write_bytes(b"\x00\x01")  # the record is not reused: the calls are replayed
    expected = as_json(scan(root, remember=False))
    no_parsing(monkeypatch)
    assert as_json(scan(root)) == expected
    store = _memo.ScanMemo.load(root)
    # the runbook, the Terraform folder, the workflow, the script, pyproject.toml, tox.ini, the pre-commit
    # configuration; the Kubernetes detector's two YAML files (the manifest, the playbook) and the Ansible one's
    # three (the manifest, the pre-commit configuration, the playbook); and the scan's record
    assert len(store.stored) == 13 and _memo.RECORD_KEY in store.stored


# Each edit changes what one remembered call reads; the repeat scan must see it. The Terraform case edits the
# second file of the folder: the call is keyed by the folder's files, not by the file that started it.
EDITS: dict[str, tuple[str, str]] = {
    "runbook": ("docs/runbooks/rollback.md", RUNBOOK.replace("deployment/api", "deployment/web")),
    "terraform sibling": ("infra/variables.tf", VARIABLES_TF + '\nresource "aws_sqs_queue" "jobs" {\n  name = "j"\n}\n'),
    "manifest": ("k8s/deploy.yaml", DEPLOYMENT.replace("name: api\nspec", "name: worker\nspec")),
    "workflow": (".github/workflows/ci.yml", WORKFLOW.replace("make test", "make lint")),
    "script": ("scripts/deploy.sh", SCRIPT.replace("k8s/", "manifests/")),
    "pyproject": ("pyproject.toml", PYPROJECT.replace("api-admin", "api-ops")),
    "tox": ("tox.ini", TOX.replace("py312", "py313")),
    "pre-commit": (".pre-commit-config.yaml", PRE_COMMIT.replace("ruff check", "ruff format")),
    "playbook": ("ansible/site.yml", PLAYBOOK.replace("hosts: web", "hosts: db")),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_changed_file_is_read_again(edit: str, tmp_path: Path) -> None:
    root = repo(tmp_path)
    before = as_json(scan(root))
    path, text = EDITS[edit]
    (root / path).write_text(text)
    after = as_json(scan(root))
    assert after != before  # the edit shows
    assert after == as_json(scan(root, remember=False))


def test_a_removed_file_and_an_added_one(tmp_path: Path) -> None:
    root = repo(tmp_path)
    scan(root)
    (root / "infra" / "variables.tf").unlink()
    (root / "docs" / "runbooks" / "restore.md").write_text(RUNBOOK.replace("Roll back a release", "Restore"))
    assert as_json(scan(root)) == as_json(scan(root, remember=False))


def test_the_store_keeps_only_the_last_scans_calls(tmp_path: Path) -> None:
    root = repo(tmp_path)
    scan(root)
    first = set(_memo.ScanMemo.load(root).stored)
    (root / "k8s" / "deploy.yaml").write_text(DEPLOYMENT.replace("api:1.0", "api:2.0"))
    scan(root)
    second = set(_memo.ScanMemo.load(root).stored)
    # the old manifest's entries are gone: the Kubernetes detector's and the Ansible one's (each remembers every YAML
    # file it is offered, its cheap text check included)
    assert len(second) == len(first) and len(first - second) == 2


def test_other_code_starts_an_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    scan(root)
    assert _memo.ScanMemo.load(root).stored
    monkeypatch.setattr(_memo, "code_fingerprint", lambda: "other code")
    assert _memo.ScanMemo.load(root).stored == {}


def test_the_fingerprint_follows_the_package_files(tmp_path: Path) -> None:
    before = _memo.code_fingerprint()
    _memo.code_fingerprint.cache_clear()
    source = Path(_memo.__file__)
    stat = source.stat()
    try:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert _memo.code_fingerprint() != before
    finally:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        _memo.code_fingerprint.cache_clear()
    assert _memo.code_fingerprint() == before


def test_without_remember_nothing_is_written(tmp_path: Path, _own_cache: Path) -> None:
    scan(repo(tmp_path), remember=False)
    assert not _own_cache.exists()


# ------------------------------------------------------------------ stores not to trust


class Boom:
    """Unpickling this would create the marker file (code run by a forged store)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return (Path.touch, (self.marker,))


def forged_stores(root: Path, marker: Path) -> dict[str, bytes]:
    """Stores made to run code: as the envelope, and as an entry in a valid envelope."""
    good = _memo.store_path(root).read_bytes()
    envelope = pickle.loads(good)  # noqa: S301 (the test's own store)
    with_bad_entries = {**envelope, "entries": {key: pickle.dumps(Boom(marker)) for key in envelope["entries"]}}
    return {
        "envelope": pickle.dumps(Boom(marker)),
        "entries": pickle.dumps(with_bad_entries),
        "truncated": good[: len(good) // 2],
        "garbage": b"\x00not a pickle" * 100,
        "another format": pickle.dumps({**envelope, "format": 999}),
        "entry of the wrong shape": pickle.dumps(
            {**envelope, "entries": dict.fromkeys(envelope["entries"], b'["x"]')}),
        "entry of the wrong kinds": pickle.dumps(
            {**envelope, "entries": dict.fromkeys(envelope["entries"], b"0:" + json.dumps([["abc"]] * 6).encode())}),
        # Findings of the right kinds whose values the models refuse (a Diagnostic without a path): replayed, the
        # first made the scan fail when it sorted the diagnostics.
        "entry with a value the models refuse": pickle.dumps(
            {**envelope, "entries": dict.fromkeys(envelope["entries"], b"0:" + json.dumps(
                [None] * 5 + [[{"path": None, "reason": 5, "severity": "warning", "line": "x"}]]).encode())}),
        "pickled models built without validation": pickle.dumps(
            {**envelope, "entries": dict.fromkeys(envelope["entries"], pickle.dumps(
                (None,) * 5 + ([Diagnostic.model_construct(path=None, reason="r", severity="warning", line=None)],)))}),
    }


@pytest.mark.parametrize("kind", ["envelope", "entries", "truncated", "garbage", "another format",
                                  "entry of the wrong shape", "entry of the wrong kinds",
                                  "entry with a value the models refuse", "pickled models built without validation"])
def test_a_damaged_or_forged_store_runs_nothing_and_changes_nothing(kind: str, tmp_path: Path) -> None:
    root = repo(tmp_path)
    expected = as_json(scan(root))
    marker = tmp_path / "code-ran"
    store = _memo.store_path(root)
    store.write_bytes(forged_stores(root, marker)[kind])
    assert as_json(scan(root)) == expected
    assert not marker.exists()
    assert _memo.ScanMemo.load(root).stored  # and the next scan wrote a good store again


def forged_replay(root: Path) -> None:
    """A store whose every entry says the call found one pipeline named 'forged'."""
    inventory = scan(root)
    store = _memo.store_path(root)
    envelope = pickle.loads(store.read_bytes())  # noqa: S301 (the test's own store)
    fake = inventory.pipelines[0].model_copy(update={"name": "forged"})
    entry = b"0:" + json.dumps([[fake.model_dump()], None, None, None, None, None]).encode()  # made with no headroom
    store.write_bytes(pickle.dumps({**envelope, "entries": dict.fromkeys(envelope["entries"], entry)}))
    store.chmod(0o600)


def test_a_store_is_trusted_as_written_by_this_user(tmp_path: Path) -> None:
    root = repo(tmp_path)
    forged_replay(root)
    assert "forged" in {p.name for p in scan(root).pipelines}  # what the next tests refuse is read otherwise


@pytest.mark.parametrize("how", ["writable by others", "a symbolic link"])
def test_a_store_others_could_have_written_is_not_read(how: str, tmp_path: Path) -> None:
    root = repo(tmp_path)
    forged_replay(root)
    store = _memo.store_path(root)
    if how == "writable by others":
        store.chmod(0o666)
    else:
        elsewhere = tmp_path / "elsewhere.pickle"
        store.rename(elsewhere)
        store.symlink_to(elsewhere)
    assert "forged" not in {p.name for p in scan(root).pipelines}


def test_the_store_file_is_private(tmp_path: Path) -> None:
    root = repo(tmp_path)
    scan(root)
    assert _memo.store_path(root).stat().st_mode & 0o077 == 0


def test_at_most_max_stores_folders_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memo, "MAX_STORES", 2)
    roots = []
    for index in range(3):
        root = tmp_path / f"r{index}"
        root.mkdir()
        write_files(root, {"docs/runbooks/rollback.md": RUNBOOK})
        roots.append(root)
        scan(root)
        stamp = 1_000_000_000 + index
        os.utime(_memo.store_path(root), (stamp, stamp))  # the order they were written in, whatever the clock
    assert [_memo.store_path(r).exists() for r in roots] == [False, True, True]


def test_a_store_that_cannot_be_written_leaves_the_scan_alone(tmp_path: Path, _own_cache: Path) -> None:
    _own_cache.write_text("a file where the cache folder should be")
    root = repo(tmp_path)
    assert as_json(scan(root)) == as_json(scan(root, remember=False))


def test_scans_of_one_folder_at_once_agree(tmp_path: Path) -> None:
    root = repo(tmp_path)
    expected = as_json(scan(root, remember=False))
    results: list[str] = []

    def worker() -> None:
        for _ in range(3):
            results.append(as_json(scan(root)))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 9


# ------------------------------------------------------------------ one call


def context(tmp_path: Path, memo: _memo.ScanMemo) -> DetectContext:
    ctx = DetectContext(Workspace(tmp_path), [])
    ctx.memo = memo
    ctx.current_detector = "test-detector"
    return ctx


def test_a_call_that_raises_stores_nothing(tmp_path: Path) -> None:
    memo = _memo.ScanMemo()
    ctx = context(tmp_path, memo)

    def fails() -> None:
        ctx.diagnostic("a.md", "half done")
        raise RuntimeError("detector bug")

    with pytest.raises(RuntimeError):
        ctx.remembered(("a.md", "text"), fails)
    assert memo.kept == {}


def test_a_remembered_call_adds_what_it_found_and_does_not_run(tmp_path: Path) -> None:
    memo = _memo.ScanMemo()
    first = context(tmp_path, memo)
    first.remembered(("a.md", "text"), lambda: first.diagnostic("a.md", "found once", line=3))
    second = context(tmp_path, _memo.ScanMemo(stored=memo.kept))
    ran: list[bool] = []
    second.remembered(("a.md", "text"), lambda: ran.append(True))
    assert ran == [] and [(d.reason, d.line, d.detector) for d in second.findings.diagnostics] == [
        ("found once", 3, "test-detector")]
    second.remembered(("a.md", "other text"), lambda: ran.append(True))
    assert ran == [True]


def test_inputs_are_told_apart_by_their_boundaries() -> None:
    assert _memo.call_key("d", ("ab", "c")) != _memo.call_key("d", ("a", "bc"))
    assert _memo.call_key("d", ("a",)) != _memo.call_key("e", ("a",))
    assert _memo.call_key("d", ("\udcff",)) == _memo.call_key("d", ("\udcff",))  # lone surrogates hash too


# ------------------------------------------------------------------ the command


def cli_scan(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator_kit", "scan", str(root), "-f", "json", *options],
                          capture_output=True, text=True, timeout=120, env=os.environ)


def test_the_scan_command_remembers_and_no_cache_reads_everything(tmp_path: Path, _own_cache: Path) -> None:
    root = repo(tmp_path)
    cold = cli_scan(root, "--no-cache")
    assert cold.returncode == 0, cold.stderr
    assert not _own_cache.exists()  # --no-cache: nothing read, nothing written
    first = cli_scan(root)
    assert first.returncode == 0 and first.stdout == cold.stdout
    assert _memo.store_path(root).is_file()
    again = cli_scan(root)
    assert again.returncode == 0 and again.stdout == cold.stdout


def test_a_file_that_depends_on_another_sees_it_change(tmp_path: Path) -> None:
    # tox reads tox.ini before tox.toml: the tox.toml's environments count only once tox.ini is gone.
    root = repo(tmp_path, {**FILES, "tox.toml": 'env_list = ["lint"]\n\n[env.lint]\ncommands = [["ruff", "check"]]\n'})
    before = scan(root)
    assert not any(t.path == "tox.toml" for t in before.tasks)
    (root / "tox.ini").unlink()
    after = scan(root)
    assert any(t.path == "tox.toml" for t in after.tasks)
    assert as_json(after) == as_json(scan(root, remember=False))


def test_a_model_pickles_as_its_values_and_comes_back_equal() -> None:
    from orchestrator_kit.models import Command, Evidence, Task

    task = Task(id="make:Makefile#test", runner="make", name="test", path="Makefile", invocation="make test",
                commands=[Command(text="pytest -q", evidence=Evidence(path="Makefile", line_start=2, line_end=2))],
                evidence=Evidence(path="Makefile", line_start=1, line_end=2))
    again = pickle.loads(pickle.dumps(task))  # noqa: S301 (the test's own pickle)
    assert again == task and again is not task
    assert again.model_dump(exclude_unset=True) == task.model_dump(exclude_unset=True)  # the set fields too
    assert again.model_dump_json() == task.model_dump_json()


def test_a_fifo_at_the_stores_path_does_not_hang_the_scan(tmp_path: Path, _own_cache: Path) -> None:
    # Opening a FIFO for reading waits for a writer: the scan waited for good (killed by the timeout here).
    root = repo(tmp_path)
    store = _memo.store_path(root)
    store.parent.mkdir(parents=True, mode=0o700)
    os.mkfifo(store, 0o600)
    cold = cli_scan(root, "--no-cache")
    scanned = cli_scan(root)
    assert scanned.returncode == 0 and scanned.stdout == cold.stdout


def test_a_store_written_under_another_integer_digit_limit_is_not_used(tmp_path: Path, _own_cache: Path) -> None:
    # Past the digit limit (4,300 by default) the workflow is invalid YAML; with no limit it is a pipeline. A store
    # written without a limit made the next default scan report the pipeline, where --no-cache reports the error.
    number = "9" * 5000
    root = repo(tmp_path, {**FILES, ".github/workflows/ci.yml": WORKFLOW.replace("on: push", f"on: push\nenv:\n  N: {number}")})

    def cli(*options: str, digits: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONINTMAXSTRDIGITS"}
        if digits is not None:
            env["PYTHONINTMAXSTRDIGITS"] = digits
        return subprocess.run([sys.executable, "-m", "orchestrator_kit", "scan", str(root), "-f", "json", *options],
                              capture_output=True, text=True, timeout=120, env=env)

    unlimited = cli(digits="0")
    assert json.loads(unlimited.stdout)["pipelines"]
    cold = cli("--no-cache")
    assert not json.loads(cold.stdout)["pipelines"] and "more than 4300 digits" in cold.stdout
    assert cli().stdout == cold.stdout
    assert cli(digits="0").stdout == unlimited.stdout


@pytest.mark.parametrize("inside", ["a folder of the repository", "the repository itself"])
def test_a_cache_folder_inside_the_scanned_folder_is_neither_written_nor_read(
    inside: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    expected = as_json(scan(root, remember=False))
    # A store the repository ships where the memo would look: what a scan made, its findings renamed.
    forged_replay(root)
    shipped = _memo.store_path(root).read_bytes()
    cache = root / ".cache" if inside == "a folder of the repository" else root
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(cache))
    planted = _memo.store_path(root)
    planted.parent.mkdir(parents=True)
    planted.write_bytes(shipped)
    planted.chmod(0o644)  # as a checkout leaves it: the user's, not writable by others
    expected_with_plant = as_json(scan(root, remember=False))  # the planted file is listed, like any other
    assert as_json(scan(root)) == expected_with_plant
    planted.unlink()
    assert as_json(scan(root)) == as_json(scan(root)) == expected  # and nothing was written into the repository
    assert list(planted.parent.iterdir()) == []


def _deeper(frames: int, call: Callable[[], Any]) -> Any:
    """`call()` run `frames` Python frames deeper than here (as a scan in the MCP server's worker threads runs
    deeper than the CLI's)."""
    return call() if frames == 0 else _deeper(frames - 1, call)


def test_a_result_the_recursion_limit_decided_is_not_kept(tmp_path: Path) -> None:
    # The deepest flow sequence the YAML reader takes from here (found by bisection), inside a workflow: read here,
    # "nesting too deep" 150 frames down. The scan here kept the pipeline, and the deeper scan replayed it where a
    # deeper scan without the memo reports invalid YAML.
    def reads(depth: int, frames: int) -> bool:
        try:
            _deeper(frames, lambda: load_yaml_documents("a: " + "[" * depth + "]" * depth))
        except YamlError:
            return False
        return True

    low, high = 1, 5000
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if reads(middle, 0) else (low, middle - 1)
    assert not reads(low, 150)
    nested = "[" * (low - 3) + "]" * (low - 3)  # under `env: X:` (two more levels, and one of margin)
    workflow = WORKFLOW.replace("on: push", f"on: push\nenv:\n  X: {nested}")
    root = repo(tmp_path, {**FILES, ".github/workflows/ci.yml": workflow})
    assert scan(root).pipelines  # read at this depth, and kept
    cold = _deeper(150, lambda: as_json(scan(root, remember=False)))
    assert '"pipelines": []' in cold and "nesting too deep" in cold
    assert _deeper(150, lambda: as_json(scan(root))) == cold
    assert as_json(scan(root)) == as_json(scan(root, remember=False))  # and back up here, read again


def test_a_terraform_copy_the_recursion_limit_cut_short_is_read_again_in_each_folder(tmp_path: Path) -> None:
    # A scan parses a text once (`terraform._ParseMemo`): the copy in the second folder took the first's parse,
    # without the note that the recursion limit decided it, so that folder's call was kept and replayed up here.
    def reads(depth: int, frames: int) -> bool:
        text = '{"locals": {"x": ' + "[" * depth + "]" * depth + "}}"
        return not _deeper(frames, lambda: terraform.parse_tf_json(text)[1])

    low, high = 1, 5000
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if reads(middle, 0) else (low, middle - 1)
    assert not reads(low, 150)
    # One level per call: 50 levels fewer leave room for the frames between a scan and the parser.
    nested = "[" * (low - 50) + "]" * (low - 50)
    text = '{"resource": {"aws_s3_bucket": {"b": {}}}, "locals": {"x": ' + nested + "}}"
    root = repo(tmp_path, {**FILES, "a/main.tf.json": text, "b/main.tf.json": text})
    assert "nesting too deep" not in as_json(scan(root, remember=False))
    deep_cold = _deeper(150, lambda: as_json(scan(root, remember=False)))
    assert "nesting too deep" in deep_cold
    assert _deeper(150, lambda: as_json(scan(root))) == deep_cold
    assert as_json(scan(root)) == as_json(scan(root, remember=False))


def test_a_symlink_loop_in_the_cache_folders_path_leaves_the_scan_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path.resolve() raised RuntimeError ("Symlink loop") on the way to the store: the scan failed.
    root = repo(tmp_path)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(loop / "cache"))
    assert as_json(scan(root)) == as_json(scan(root, remember=False))


def test_what_a_killed_writer_left_is_removed_once_stale(tmp_path: Path) -> None:
    # A writer killed between writing its temporary file and renaming it left the file for good.
    root = repo(tmp_path)
    scan(root)
    store = _memo.store_path(root)
    left = store.parent / f".{store.name}.killed.tmp"
    fresh = store.parent / f".{store.name}.running.tmp"
    left.write_bytes(store.read_bytes())
    fresh.write_bytes(b"being written")
    stamp = left.stat().st_mtime - 2 * 24 * 3600  # two days old
    os.utime(left, (stamp, stamp))
    write_files(root, {"docs/runbooks/rollback.md": RUNBOOK + "\n4. Close the incident.\n"})  # the store is written
    scan(root)
    assert fresh.exists() and store.exists()
    assert not left.exists()
    assert _memo.STALE_SECONDS < 2 * 24 * 3600  # (what makes it stale)


# ------------------------------------------------------------------ any sequence of edits

# What each place may hold: texts for the remembered detectors and the files their outcome depends on (a chart's
# Chart.yaml hides its templates from the Kubernetes detector, an __init__.py makes a script folder's .py a module,
# tox reads tox.ini before tox.toml), invalid ones among them.
VARIANTS: dict[str, list[str]] = {
    "k8s/app.yaml": [DEPLOYMENT, "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n"
                     "  schedule: '0 3 * * *'\n", "apiVersion: v1\nkind: [\n"],
    "charts/web/templates/deploy.yaml": [DEPLOYMENT],
    "charts/web/Chart.yaml": ["apiVersion: v2\nname: web\nversion: 0.1.0\n"],
    "infra/main.tf": [MAIN_TF, 'provider "aws" {\n  region = "eu-west-1"\n}\n', 'resource "x" {\n'],
    "infra/variables.tf": [VARIABLES_TF, 'module "m" {\n  source = "./m"\n}\n'],
    "infra/extra.tf.json": ['{"resource": {"aws_s3_bucket": {"b": {}}}}', "{"],
    "docs/runbooks/rollback.md": [RUNBOOK, "# Notes\n\nNothing to run.\n", RUNBOOK.replace("kubectl", "helm")],
    ".github/workflows/ci.yml": [WORKFLOW, WORKFLOW.replace("on: push", "on:\n  schedule:\n    - cron: '0 0 * * *'"),
                                 "on: [\n"],
    "scripts/deploy.sh": [SCRIPT, "deploy() { kubectl apply -f k8s/; }\n", "#!/usr/bin/env python3\nprint(1)\n"],
    "scripts/tool.py": ['"""Rotate the keys."""\nprint("rotating")\n', "import os\n"],
    "scripts/__init__.py": [""],
    "tox.ini": [TOX, TOX.replace("pytest", "pytest -x")],
    "tox.toml": ['env_list = ["lint"]\n\n[env.lint]\ncommands = [["ruff", "check"]]\n'],
    "pyproject.toml": [PYPROJECT, '[tool.hatch.envs.default.scripts]\ntest = "pytest"\n', "[project\n"],
    ".pre-commit-config.yaml": [PRE_COMMIT, "repos: [\n"],
    "ansible/site.yml": [PLAYBOOK, "- import_playbook: other.yml\n"],
}


def _encoded(text: str, rnd: random.Random) -> bytes:
    """The text as UTF-8 mostly; sometimes Latin-1 (read with a note), binary (not read) or past the size cap."""
    roll = rnd.random()
    if roll < 0.1:
        return (text + "# caf\u00e9\n").encode("latin-1")
    if roll < 0.15:
        return b"\x00" + text.encode()
    if roll < 0.2:
        return text.encode() + b"#" * 5000
    return text.encode()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_after_any_sequence_of_edits_a_scan_with_the_memo_is_a_scan_without(seed: int, tmp_path: Path) -> None:
    rnd = random.Random(seed)  # noqa: S311 (seeded: the same edits on every run)
    root = tmp_path / "repo"
    root.mkdir()
    for path, texts in VARIANTS.items():
        if rnd.random() < 0.6:
            write_files(root, {path: _encoded(rnd.choice(texts), rnd)})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    options: list[dict[str, Any]] = [{}, {"include_fixtures": True}, {"exclude": ["infra/variables.tf"]}]
    for step in range(60):
        present = sorted(path for path in VARIANTS if (root / path).is_file())
        path = rnd.choice(list(VARIANTS))
        edit = rnd.choice(["change", "change", "delete", "chmod", "rename", "commit"])
        if edit == "change" or not present:
            write_files(root, {path: _encoded(rnd.choice(VARIANTS[path]), rnd)})
            if rnd.random() < 0.5:  # and one more place, so that a step often changes a file the last scan kept
                other = rnd.choice(present or [path])
                write_files(root, {other: _encoded(rnd.choice(VARIANTS[other]), rnd)})
        elif edit == "delete":
            (root / rnd.choice(present)).unlink()
        elif edit == "chmod":
            target = root / rnd.choice(present)
            target.chmod(target.stat().st_mode ^ 0o111)
        elif edit == "rename":
            source = rnd.choice(present)
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / source).replace(root / path)
        else:
            git(root, "add", "-A")
            git(root, "commit", "-q", "--allow-empty", "-m", f"step {step}")
        chosen = rnd.choice(options)
        cap = rnd.choice([4096, 2_000_000])  # the size cap decides which files are read: not part of a store
        with_memo = discover(Workspace(root, max_file_bytes=cap), remember=True, **chosen)
        without = discover(Workspace(root, max_file_bytes=cap), remember=False, **chosen)
        assert as_json(with_memo) == as_json(without), f"seed {seed}, step {step}: {edit} {path} {chosen}"



# Files no detector reads, and where a type change may point.
UNREAD = ["src/app.py", "notes.txt", "infra/README.txt"]


def _replace_kind(root: Path, path: str, kind: str, rnd: random.Random) -> None:
    """Put something other than a regular file at `path`: a folder (empty, or holding a file), a symlink (to another
    file of the folder, out of it, to nothing), or a FIFO."""
    target = root / path
    _clear(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "folder":
        target.mkdir()
        if rnd.random() < 0.5:
            (target / "inside.yml").write_text("on: push\n")
    elif kind == "symlink":
        others = [p for p in [*VARIANTS, *UNREAD] if p != path and (root / p).is_file()]
        target.symlink_to(os.path.relpath(root / rnd.choice(others), target.parent) if others else "nowhere")
    elif kind == "outside":
        target.symlink_to(root.parent / "outside.txt")
    elif kind == "dangling":
        target.symlink_to("nowhere")
    else:
        os.mkfifo(target)


def _clear(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


@pytest.mark.parametrize("seed,in_git", [(11, True), (12, True), (13, False), (14, False)])
def test_after_any_sequence_of_edits_a_scan_that_may_reuse_its_record_is_a_scan_without(
    seed: int, in_git: bool, tmp_path: Path
) -> None:
    # The record (`_unchanged`) is used when nothing the last scan read changed: many steps here change nothing it
    # read (a file no detector reads, a commit, nothing), others change a file's kind, mode or the ignore rules.
    rnd = random.Random(seed)  # noqa: S311 (seeded: the same edits on every run)
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("apiVersion: v1\nkind: Secret\n")
    # and a script that is a task only while executable (no shebang) or with a shebang
    places = {**VARIANTS, "ops/rotate.sh": ["echo rotate\n", "#!/bin/sh\necho rotate\n"]}
    for path, texts in places.items():
        if rnd.random() < 0.6:
            write_files(root, {path: _encoded(rnd.choice(texts), rnd)})
    write_files(root, {path: "print(1)\n" for path in UNREAD})
    if in_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
    options: list[dict[str, Any]] = [{}, {"include_fixtures": True}, {"exclude": ["infra/**"]}, {"only": {"terraform"}}]
    everything = [*places, *UNREAD]
    chosen, cap = options[0], 2_000_000
    for step in range(50):
        present = sorted(path for path in everything if (root / path).is_file() and not (root / path).is_symlink())
        path = rnd.choice(everything)
        edit = rnd.choice(["unread", "unread", "nothing", "change", "kind", "kind", "chmod", "ignore", "commit"])
        if edit == "unread":
            _clear(root / (unread := rnd.choice(UNREAD)))
            write_files(root, {unread: f"print({step})\n"})
        elif edit == "change" or (edit in ("chmod", "kind") and not present):
            _clear(root / path)
            texts = places.get(path, ["print(2)\n"])
            write_files(root, {path: _encoded(rnd.choice(texts), rnd)})
        elif edit == "kind":
            path = rnd.choice(present)
            _replace_kind(root, path, rnd.choice(["folder", "symlink", "outside", "dangling", "fifo"]), rnd)
        elif edit == "chmod":
            target = root / ("ops/rotate.sh" if "ops/rotate.sh" in present and rnd.random() < 0.5
                              else rnd.choice(present))
            target.chmod(target.stat().st_mode ^ 0o111)
        elif edit == "ignore":
            write_files(root, {".gitignore": "".join(f"{p}\n" for p in rnd.sample(everything, 2))})
        elif edit == "commit" and in_git:
            with contextlib.suppress(subprocess.CalledProcessError):  # git adds no FIFO: the others are added
                git(root, "add", "-A", "--ignore-errors")
            git(root, "commit", "-q", "--allow-empty", "-m", f"step {step}")
        if rnd.random() < 0.2:  # the record holds the last scan's options: they change now and then
            chosen, cap = rnd.choice(options), rnd.choice([4096, 2_000_000])
        with_memo = discover(Workspace(root, max_file_bytes=cap), remember=True, **chosen)
        without = discover(Workspace(root, max_file_bytes=cap), remember=False, **chosen)
        assert as_json(with_memo) == as_json(without), f"seed {seed}, step {step}: {edit} {path} {chosen}"


def test_another_copy_of_the_package_with_the_same_sizes_and_times_does_not_share_a_store(
    tmp_path: Path, _own_cache: Path
) -> None:
    # Installs that stamp every file with one time (Nix, reproducible images) tell two versions apart by size only:
    # a copy of the package whose scripts detector says "SHEBANG" for "shebang" (same size, time restored) took
    # the stores of this one, and reported "shebang".
    package = Path(_memo.__file__).resolve().parents[1]
    copy = tmp_path / "other-version"
    shutil.copytree(package, copy / "orchestrator_kit", ignore=shutil.ignore_patterns("__pycache__"))
    scripts = copy / "orchestrator_kit" / "discovery" / "scripts.py"
    stamp = scripts.stat()
    source = scripts.read_text(encoding="utf-8")
    assert source.count('"shebang" if shebang') == 1
    scripts.write_text(source.replace('"shebang" if shebang', '"SHEBANG" if shebang'), encoding="utf-8")
    os.utime(scripts, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    root = repo(tmp_path)
    assert cli_scan(root).returncode == 0  # this package fills the store

    def other(*options: str) -> str:
        env = {**os.environ, "PYTHONPATH": str(copy)}
        return subprocess.run([sys.executable, "-m", "orchestrator_kit", "scan", str(root), "-f", "json", *options],
                              capture_output=True, text=True, timeout=120, env=env, check=True).stdout

    cold = other("--no-cache")
    assert '"interpreter_source": "SHEBANG"' in cold
    assert other() == cold


def test_a_store_too_large_to_be_loaded_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A store over MAX_STORE_BYTES is never loaded, yet every scan wrote it (a repository's findings make its size).
    root = repo(tmp_path)
    scan(root)
    store = _memo.store_path(root)
    size = store.stat().st_size
    monkeypatch.setattr(_memo, "MAX_STORE_BYTES", size - 1)
    write_files(root, {"docs/runbooks/rollback.md": RUNBOOK + "\n4. Close the incident.\n"})  # the store is written
    assert as_json(scan(root)) == as_json(scan(root, remember=False))
    assert not store.exists()


def test_a_store_over_the_limit_is_not_read(tmp_path: Path, _own_cache: Path) -> None:
    # A 10 GB (sparse) file at the store's path was read up to the 256 MiB limit before being refused: the scan's
    # peak memory grew by that much. Measured as the scan process's peak resident size.
    root = repo(tmp_path)
    cold = cli_scan(root, "--no-cache")
    store = _memo.store_path(root)
    store.parent.mkdir(parents=True, mode=0o700)
    with open(store, "wb") as fh:
        fh.truncate(10 * 1024**3)
    store.chmod(0o600)
    # The peak is the scan program's own: VmHWM, the high-water mark of its address space. On Linux, ru_maxrss keeps
    # the resident size the process had before exec, which for a child of pytest is pytest's own: 594 MiB after the
    # whole suite ran in CI, failing this test with the fix in place.
    probe = ("import resource, runpy, sys; sys.argv = ['orchestrator-kit', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('orchestrator_kit', run_name='__main__')\n"
             "finally:\n"
             "    try:\n"
             "        peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
             "    except (OSError, StopIteration):\n"
             "        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
             "        peak = peak // 1024 if sys.platform == 'darwin' else peak\n"
             "    print(peak, file=sys.stderr)\n")  # KiB
    scanned = subprocess.run([sys.executable, "-c", probe, "scan", str(root), "-f", "json"], capture_output=True,
                             text=True, timeout=120, env=os.environ)
    assert scanned.stdout == cold.stdout
    peak_kib = int(scanned.stderr.strip().splitlines()[-1])
    assert peak_kib < _memo.MAX_STORE_BYTES // 1024  # a scan of this folder needs a fraction of it


def test_an_infinite_or_nan_timeout_comes_back_as_it_was(tmp_path: Path) -> None:
    # pydantic-core's JSON writes inf and NaN as null, which `timeout_minutes: float | None` reads back as None: the
    # table showed no timeout for these jobs on a repeat scan ("infm" and "nanm" without the memo).
    workflow = WORKFLOW + "    timeout-minutes: .inf\n  nightly:\n    runs-on: x\n    timeout-minutes: .nan\n" \
        "    steps:\n      - run: make lint\n"
    root = repo(tmp_path, {**FILES, ".github/workflows/ci.yml": workflow})

    def timeouts(inventory: Inventory) -> list[str]:
        return [repr(job.timeout_minutes) for pipeline in inventory.pipelines for job in pipeline.jobs]

    assert timeouts(scan(root, remember=False)) == ["inf", "nan"]
    scan(root)
    assert timeouts(scan(root)) == ["inf", "nan"]  # nothing changed: the last scan's Inventory
    write_files(root, {"docs/runbooks/rollback.md": RUNBOOK + "\n4. Close the incident.\n"})
    assert timeouts(scan(root)) == ["inf", "nan"]  # another file changed: the workflow's call is replayed


def test_another_installed_version_of_any_distribution_starts_an_empty_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parsers' own modules are fingerprinted by their files; what they import in turn (markdown-it's mdurl) only
    # through the installed distributions' names, which carry their versions.
    site = tmp_path / "site"
    (site / "mdurl-0.1.2.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    _memo.code_fingerprint.cache_clear()
    try:
        before = _memo.code_fingerprint()
        (site / "mdurl-0.1.2.dist-info").rename(site / "mdurl-0.2.0.dist-info")
        _memo.code_fingerprint.cache_clear()
        assert _memo.code_fingerprint() != before
    finally:
        _memo.code_fingerprint.cache_clear()
