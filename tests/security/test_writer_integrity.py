"""undo trusts only what this machine's Writer signed, and concurrent applies lose nothing (issue 10, items 7 and 8).

A hostile repository commits its own `.orchestrator-kit/audit.jsonl` whose entries would make `undo` write attacker
content into a file, delete a file, remove a folder and set mode 06777. None of them is signed with the audit key
(kept in the user's state folder, outside every repository), so `undo_automation`, called through the real server
over stdio, ignores them all and changes nothing. A log signed for another repository, or with another machine's key,
is ignored the same way. Then many applies race on one file, from threads and from processes: every apply that
reports success must have its change in the final file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import stat
import threading
from pathlib import Path

import pytest

from orchestrator_kit.automation.writer import AUDIT_LOG, ProposedFile, Writer
from orchestrator_kit.errors import InputError

from ..conftest import write_files
from .stdio import server_client, text_of

pytestmark = pytest.mark.anyio

SPEC = {"name": "release", "description": "Cut a release",
        "steps": [{"name": "Build", "commands": [{"argv": ["make", "build"]}]}]}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _forged_log(root: Path) -> list[dict[str, object]]:
    """Entries an attacker commits: each matches the current file, so only the signature check can stop it."""
    victim, config = (root / "victim.txt").read_bytes(), (root / "config.yml").read_bytes()
    base = {"op": "apply", "time": "2026-01-01T00:00:00+00:00", "plan_hash": "x" * 64, "created_dirs": []}
    return [
        {**base, "id": "overwrite", "path": "config.yml", "action": "update", "new_sha256": _sha(config),
         "old_sha256": None, "old_mode": 0o644, "new_mode": 0o644,
         "old_content_b64": base64.b64encode(b"pwned: true\n").decode()},
        {**base, "id": "delete", "path": "victim.txt", "action": "create", "new_sha256": _sha(victim),
         "created_dirs": ["docs"]},
        {**base, "id": "setuid", "path": "victim.txt", "action": "update", "new_sha256": _sha(victim),
         "old_mode": 0o6777, "new_mode": 0o644, "old_content_b64": base64.b64encode(victim).decode()},
        {**base, "id": "signed-by-guess", "path": "victim.txt", "action": "create", "new_sha256": _sha(victim),
         "mac": "0" * 64},
    ]


def _hostile_repo(make_repo) -> Path:
    root = make_repo({"victim.txt": "keep me\n", "config.yml": "safe: true\n", "docs/readme.md": "# docs\n"},
                     git_repo=True)
    write_files(root, {AUDIT_LOG: "".join(json.dumps(e) + "\n" for e in _forged_log(root)) + "not json\n"})
    return root


def _state(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts and p.name != "lock"}  # undo may create its lock file


async def test_undo_ignores_every_entry_it_did_not_sign(make_repo):
    root = _hostile_repo(make_repo)
    before = _state(root)
    async with server_client(root) as client:
        refused = await client.call_tool("undo_automation", {"last": 5})
        dry = await client.call_tool("undo_automation", {"last": 5, "dry_run": True})
    assert refused.is_error and "5 entries were ignored because they are not signed" in text_of(refused)
    assert dry.is_error
    assert _state(root) == before  # nothing written, deleted or chmod-ed
    assert not any(mode & 0o7000 for _data, mode in _state(root).values())


async def test_a_log_signed_for_another_repository_or_key_is_ignored(make_repo, tmp_path, monkeypatch):
    root = make_repo({"README.md": "# shop\n"}, git_repo=True)
    other = tmp_path / "other"
    other.mkdir()
    Writer(other).apply(plan := Writer(other).plan([ProposedFile("notes.txt", "hello\n")]), plan.hash)
    # The same file name and content in the target repository, and the other repository's genuine log copied in.
    (root / "notes.txt").write_text("hello\n")
    (root / ".orchestrator-kit").mkdir()
    (root / AUDIT_LOG).write_bytes((other / AUDIT_LOG).read_bytes())
    with pytest.raises(InputError, match="1 entries were ignored"):
        Writer(root).undo()
    assert (root / "notes.txt").read_text() == "hello\n"
    # Signed here, but by a machine with another key: ignored too.
    Writer(root).apply(plan := Writer(root).plan([ProposedFile("more.txt", "x\n")]), plan.hash)
    monkeypatch.setenv("ORCHESTRATOR_KIT_STATE_DIR", str(tmp_path / "another-machine"))
    with pytest.raises(InputError, match="2 entries were ignored"):
        Writer(root).undo()
    assert (root / "more.txt").exists()


async def test_a_genuine_apply_is_undone_and_modes_never_carry_special_bits(make_repo):
    root = make_repo({"README.md": "# shop\n", "tool.sh": "#!/bin/sh\n"}, git_repo=True)
    os.chmod(root / "tool.sh", 0o4755)  # noqa: S103 - the setuid file the Writer must not keep setuid
    async with server_client(root) as client:
        plan = await client.call_tool("generate_automation", {"kind": "shell-script", "spec": SPEC})
        assert not plan.is_error, text_of(plan)
        applied = await client.call_tool("apply_automation", plan.structured_content["apply_with"])
        assert not applied.is_error, text_of(applied)
        undone = await client.call_tool("undo_automation", {})
    assert not undone.is_error and undone.structured_content["undone"][0]["action"] == "removed"
    assert not (root / "scripts/release.sh").exists()
    writer = Writer(root)
    made = writer.plan([ProposedFile("suid.sh", "#!/bin/sh\n", mode=0o6755), ProposedFile("tool.sh", "#!/bin/sh\n\n")])
    writer.apply(made, made.hash)
    assert stat.S_IMODE((root / "suid.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "tool.sh").stat().st_mode) == 0o755  # the update dropped the setuid bit


# ---------------------------------------------------------------- concurrent applies on one file


def _append_target(root: str, name: str, applied: list[str] | None = None) -> list[str]:
    """Append a target to the Makefile, planning again whenever another writer got there first."""
    done = [] if applied is None else applied
    for _attempt in range(200):
        writer = Writer(root)
        current = (Path(root) / "Makefile").read_bytes()
        # `expected`: the base this content was made from; without it, a writer landing between this read and the
        # plan's own read would be planned away (the plan's diff would show it, but nobody reads it here)
        try:
            plan = writer.plan([ProposedFile("Makefile", current.decode() + f"{name}:\n\techo {name}\n")],
                               expected={"Makefile": hashlib.sha256(current).hexdigest()})
            writer.apply(plan, plan.hash)
        except InputError as exc:
            assert any(why in str(exc) for why in ("since the plan was made", "while the plan was being applied",
                                                    "since the automation was generated from it")), str(exc)
            continue
        done.append(name)
        return done
    raise AssertionError(f"{name} was never applied")


def _process_worker(root: str, names: list[str], queue: multiprocessing.Queue) -> None:
    applied: list[str] = []
    for name in names:
        _append_target(root, name, applied)
    queue.put(applied)


def test_concurrent_applies_from_threads_and_processes_lose_no_update(make_repo):
    root = make_repo({"Makefile": "all:\n\techo all\n"})
    applied: list[str] = []
    threads = [threading.Thread(target=_append_target, args=(str(root), f"thread{i}", applied)) for i in range(12)]
    context = multiprocessing.get_context("spawn")  # fork would copy a thread's lock descriptor into the child
    queue = context.Queue()
    processes = [context.Process(target=_process_worker, args=(str(root), [f"proc{p}_{i}" for i in range(3)], queue))
                 for p in range(4)]
    for worker in [*threads, *processes]:
        worker.start()
    for thread in threads:
        thread.join(timeout=120)
    for _ in processes:
        applied.extend(queue.get(timeout=120))
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    final = (root / "Makefile").read_text()
    assert len(applied) == 12 + 4 * 3
    lost = [name for name in applied if f"\n{name}:\n\techo {name}\n" not in final]
    assert lost == [], f"{len(lost)} of {len(applied)} applied changes were lost"
    entries, ignored = Writer(root).verified_entries()
    assert len([e for e in entries if e["op"] == "apply"]) == len(applied) and ignored == 0
