"""A repeat scan of a folder where nothing the last scan looked at changed is answered with that scan's Inventory
(`discovery._unchanged`); any change to what it depends on makes a scan that finds it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import orchestrator_kit.discovery as discovery_package
from orchestrator_kit.discovery import _memo, _unchanged, discover
from orchestrator_kit.models import Inventory
from orchestrator_kit.repo import Workspace

from ..conftest import git, write_files

FILES = {
    "docs/runbooks/rollback.md": "# Ops\n\n## Roll back\n\n1. Run `kubectl rollout undo deployment/api`\n2. Tell on-call.\n",
    "Makefile": "test:\n\tpytest -q\n",
    "ops/rotate.sh": "echo rotate\n",  # no shebang, not executable: not a task until its executable bit is set
    "infra/main.tf": 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n',
    "src/app.py": "print('app')\n",  # read by no detector
}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    write_files(folder, FILES)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "initial")
    return folder


def scan(root: Path, remember: bool = True, **options: Any) -> Inventory:
    return discover(Workspace(root, **({"max_file_bytes": options.pop("max_file_bytes")}
                                       if "max_file_bytes" in options else {})), remember=remember, **options)


def as_json(inventory: Inventory) -> str:
    return json.dumps(inventory.model_dump(mode="json"), sort_keys=True)


def detectors_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make running any detector fail: a scan that still answers reused the record."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("detectors ran")

    monkeypatch.setattr(discovery_package, "_read_all", refuse)


def test_an_unchanged_folder_gets_the_last_scans_inventory_without_running_a_detector(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = as_json(scan(root, remember=False))
    assert as_json(scan(root)) == expected
    detectors_refuse(monkeypatch)
    assert as_json(scan(root)) == expected


def test_a_change_to_a_file_no_detector_reads_keeps_the_record(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(root)
    (root / "src" / "app.py").write_text("print('changed')\n")
    expected = as_json(scan(root, remember=False))
    detectors_refuse(monkeypatch)
    assert as_json(scan(root)) == expected


def test_the_git_facts_are_read_again(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = scan(root)
    (root / "src" / "app.py").write_text("print('changed')\n")
    git(root, "commit", "-q", "-am", "change an unread file")
    detectors_refuse(monkeypatch)
    again = scan(root)
    assert again.git is not None and first.git is not None and again.git.head != first.git.head
    assert again.git.head == git(root, "rev-parse", "HEAD").strip()


Change = Callable[[Path], None]
CHANGES: dict[str, Change] = {
    "a read file's text": lambda r: (r / "Makefile").write_text("test:\n\tpytest -q\nlint:\n\truff check\n"),
    "a file added": lambda r: write_files(r, {"docs/runbooks/restore.md": "# Restore\n\n1. Run `pg_restore db.dump`\n"}),
    "a file removed": lambda r: (r / "infra" / "main.tf").unlink(),
    "an executable bit set": lambda r: (r / "ops" / "rotate.sh").chmod(0o755),
    "a file grown past the size cap": lambda r: (r / "Makefile").write_text("test:\n\tpytest -q\n" + "#" * 5000),
    "a read file turned binary": lambda r: (r / "Makefile").write_bytes(b"test:\n\x00\n"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_to_what_the_scan_depends_on_is_found(change: str, root: Path) -> None:
    before = as_json(scan(root, max_file_bytes=4096))
    CHANGES[change](root)
    after = as_json(scan(root, max_file_bytes=4096))
    assert after != before  # the change shows in the Inventory
    assert after == as_json(scan(root, remember=False, max_file_bytes=4096))


OPTIONS: dict[str, dict[str, Any]] = {
    "fixtures kept": {"include_fixtures": True},
    "a path excluded": {"exclude": ["infra/**"]},
    "some detectors only": {"only": {"make"}},
    "another size cap": {"max_file_bytes": 20},
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_other_options_do_not_reuse_the_record(option: str, root: Path) -> None:
    scan(root)
    options = OPTIONS[option]
    assert as_json(scan(root, **options)) == as_json(scan(root, remember=False, **dict(options)))


def test_a_record_made_with_more_stack_headroom_is_not_reused(root: Path) -> None:
    scan(root)
    memo = _memo.ScanMemo.load(root)
    files = Workspace(root).listing()
    assert _unchanged.reuse(memo.record, Workspace(root), options=_options(root), listing=_listing(root),
                            headroom=memo.headroom, preread={}, progress=None, total=len(files.files)) is not None
    assert _unchanged.reuse(memo.record, Workspace(root), options=_options(root), listing=_listing(root),
                            headroom=memo.headroom - 1000, preread={}, progress=None, total=0) is None


def _options(root: Path) -> str:
    return _unchanged.options_key(only=None, include_fixtures=False, exclude=(),
                                  max_file_bytes=Workspace(root).max_file_bytes,
                                  code=discovery_package._code(discovery_package.load_detectors()))


def _listing(root: Path) -> str:
    listing = Workspace(root).listing()
    return _unchanged.listing_key(listing.files, listing)


@pytest.mark.parametrize("record", [
    b"not json", b"[]\n{}", b'{"options": 1}\n{}', b'{"options":"","listing":"","headroom":0,"reads":[],"modes":[]}',
    b'{"options":"","listing":"","headroom":0,"reads":[["a"]],"modes":[]}\n{}',
    b'{"options":"","listing":"","headroom":0,"reads":[],"modes":[]}\n{"root": 1}',
])
def test_a_damaged_record_is_not_reused(record: bytes, root: Path) -> None:
    assert _unchanged.reuse(record, Workspace(root), options="", listing="", headroom=10_000, preread={},
                            progress=None, total=0) is None


def test_a_forged_inventory_in_the_record_is_refused_by_the_model(root: Path) -> None:
    scan(root)
    memo = _memo.ScanMemo.load(root)
    head, _, body = (memo.record or b"").partition(b"\n")
    fields = json.loads(head)
    assert _unchanged.reuse(memo.record, Workspace(root), options=fields["options"], listing=fields["listing"],
                            headroom=memo.headroom, preread={}, progress=None, total=0) is not None
    inventory = json.loads(body)
    inventory["files_read"] = "many"  # not a number: the Inventory model refuses it
    forged = head + b"\n" + json.dumps(inventory).encode()
    assert _unchanged.reuse(forged, Workspace(root), options=fields["options"], listing=fields["listing"],
                            headroom=memo.headroom, preread={}, progress=None, total=0) is None


def test_when_the_record_fails_no_file_is_read_twice(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(root)
    (root / "infra" / "main.tf").write_text('resource "aws_s3_bucket" "other" {\n  bucket = "other"\n}\n')
    reads: list[str] = []
    real = Workspace.read_text

    def counted(self: Workspace, rel: str, **kwargs: Any) -> Any:
        reads.append(rel)
        return real(self, rel, **kwargs)

    monkeypatch.setattr(Workspace, "read_text", counted)
    again = scan(root)
    assert len(reads) == len(set(reads))  # the files read to check the record are the scan's own reads
    monkeypatch.setattr(Workspace, "read_text", real)
    assert as_json(again) == as_json(scan(root, remember=False))


def test_a_file_that_changed_between_two_reads_of_one_scan_is_not_recorded_as_read_once(root: Path) -> None:
    # The Makefile is read for its own targets, then again (after `forget`) when common.mk looks for the makefile
    # that includes it. Edited in between, the scan's targets come from the first text: a record of the second
    # outcome alone let the next scan return those targets for a Makefile that no longer has them.
    write_files(root, {"Makefile": "include common.mk\nbuild:\n\techo build\n", "common.mk": "lint:\n\truff check\n"})
    order = Workspace(root).listing().files
    after_makefile = order.index("Makefile") + 1

    def edit(done: int, total: int) -> None:
        if done == after_makefile:
            (root / "Makefile").write_text("include common.mk\ndeploy:\n\techo deploy\n")

    first = scan(root, progress=edit)
    assert "build" in {task.name for task in first.tasks}  # the text before the edit
    expected = as_json(scan(root, remember=False))
    assert "deploy" in expected
    assert as_json(scan(root)) == expected


def test_a_scan_in_which_a_call_ran_over_its_budget_is_not_reused(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An overrun depends on the machine's load, not on the files: the next scan must run the call again.
    from orchestrator_kit.discovery import _watchdog, make

    slow = [True]
    real_scan = make._scan

    def stalling(text: str) -> Any:
        for _ in range(500):  # stopped by the watchdog long before the end
            if not slow[0]:
                break
            time.sleep(0.01)
        return real_scan(text)

    budget = _watchdog.FILE_SECONDS
    monkeypatch.setattr(make, "_scan", stalling)
    monkeypatch.setattr(_watchdog, "FILE_SECONDS", 0.05)
    first = scan(root)
    assert any("ran over" in d.reason for d in first.diagnostics)
    slow[0] = False
    monkeypatch.setattr(_watchdog, "FILE_SECONDS", budget)  # the usual budget: no call of a loaded machine runs over
    expected = as_json(scan(root, remember=False))
    assert "ran over" not in expected
    assert as_json(scan(root)) == expected


def _custom_detector(reason: str) -> Any:
    from orchestrator_kit.discovery.base import Detector, Wants

    def detect(ctx: Any, file: Any) -> None:
        ctx.diagnostic(file.path, reason, severity="info")

    return Detector(name="custom-makefiles", wants=Wants(names=frozenset({"Makefile"})), detect=detect)


def test_a_detector_registered_since_the_record_runs(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `discovery.detector` is public: a library user's own detector, registered after a remembering scan of the
    # folder, was left out (its name and findings) by every following one, the folder being unchanged.
    discovery_package.load_detectors()
    scan(root)
    monkeypatch.setattr(discovery_package, "DETECTORS", [*discovery_package.DETECTORS, _custom_detector("seen")])
    expected = as_json(scan(root, remember=False))
    assert "custom-makefiles" in expected and "seen" in expected
    assert as_json(scan(root)) == expected


def test_a_detector_from_outside_the_package_keeps_no_record(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its code is not in the store's fingerprint (the package's files): a change to it would not be seen.
    discovery_package.load_detectors()
    known = list(discovery_package.DETECTORS)
    monkeypatch.setattr(discovery_package, "DETECTORS", [*known, _custom_detector("first version")])
    scan(root)
    monkeypatch.setattr(discovery_package, "DETECTORS", [*known, _custom_detector("second version")])
    expected = as_json(scan(root, remember=False))
    assert "second version" in expected
    assert as_json(scan(root)) == expected


def test_a_detector_taken_out_since_the_record_is_left_out(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    discovery_package.load_detectors()
    scan(root)
    monkeypatch.setattr(discovery_package, "DETECTORS", [d for d in discovery_package.DETECTORS if d.name != "make"])
    expected = as_json(scan(root, remember=False))
    assert '"make"' not in expected
    assert as_json(scan(root)) == expected


def _deeper(frames: int, call: Callable[[], Inventory]) -> Inventory:
    """`call` made `frames` nested calls further down the stack (an MCP worker thread's scan starts deeper, or
    shallower, than the CLI's)."""
    return call() if frames == 0 else _deeper(frames - 1, call)


def _deep_texts(room: int) -> dict[str, str]:
    # Within reach of a scan started here, beyond that of one started 300 calls deeper: json.loads nests one call per
    # level, ast.parse one per three unary minus signs.
    depth = room - 150
    return {
        "web/package.json": '{"scripts": {"build": "tsc"}, "deep": ' + "[" * depth + "]" * depth + "}\n",
        "noxfile.py": "import nox\n\nx = " + "-" * (3 * depth) + "1\n\n\n@nox.session\ndef tests(session):\n"
                      "    session.run('pytest')\n",
    }


@pytest.mark.parametrize("kind", ["npm", "nox"])
def test_a_file_too_deep_for_a_deeper_scan_is_read_by_a_shallower_one(kind: str, root: Path) -> None:
    # A scan deeper in its stack met the recursion limit in json.loads or ast.parse; npm and nox turned it into a
    # diagnostic without counting it (`limits.note_exhausted`), so its record (and memo entries) were kept and a
    # scan with more headroom, which reads the file, got them.
    texts = _deep_texts(_memo.stack_headroom())
    path = "web/package.json" if kind == "npm" else "noxfile.py"
    write_files(root, {path: texts[path]})
    deep = _deeper(300, lambda: scan(root))
    assert any(d.path == path and ("too deep" in d.reason or "RecursionError" in d.reason) for d in deep.diagnostics)
    expected = scan(root, remember=False)
    assert {task.runner for task in expected.tasks} >= {kind}
    assert as_json(scan(root)) == as_json(expected)


def test_the_calls_of_a_detector_from_outside_the_package_are_not_remembered(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The memo's entries are keyed by the detector's name and its inputs under the package's fingerprint: a library
    # user's detector that remembers its calls got the findings of its previous version after a change elsewhere.
    from orchestrator_kit.discovery.base import Detector, Wants

    def remembering(reason: str) -> Detector:
        def detect(ctx: Any, file: Any) -> None:
            ctx.remembered([file], lambda: ctx.diagnostic(file.path, reason, severity="info"))

        return Detector(name="custom-makefiles", wants=Wants(names=frozenset({"Makefile"})), detect=detect)

    discovery_package.load_detectors()
    known = list(discovery_package.DETECTORS)
    monkeypatch.setattr(discovery_package, "DETECTORS", [*known, remembering("first version")])
    scan(root)
    monkeypatch.setattr(discovery_package, "DETECTORS", [*known, remembering("second version")])
    (root / "src" / "app.py").write_text("print('changed')\n")
    expected = as_json(scan(root, remember=False))
    assert "second version" in expected
    assert as_json(scan(root)) == expected
