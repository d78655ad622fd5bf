"""The Writer: confinement, no surprise overwrites, reviewed plans, audit and undo. Zero bytes outside the root."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.automation.writer import AUDIT_LOG, ProposedFile, Writer
from orchestrator_kit.errors import ConfinementError, InputError, OrchestratorError


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (not following symlinks) and its bytes."""
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                out[str(path.relative_to(folder))] = path.read_bytes()
    return out


@pytest.fixture
def world(tmp_path):
    """root/ (the repository) beside outside/ (must never change)."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("keep me\n")
    (root / "existing.txt").write_text("old\n")
    (root / ".git" / "hooks").mkdir(parents=True)
    return root, outside


def write(root: Path, path: str, content: str = "new\n", mode: int | None = None) -> Writer:
    writer = Writer(root)
    plan = writer.plan([ProposedFile(path, content, mode)])
    writer.apply(plan, plan.hash)
    return writer


@pytest.mark.parametrize(
    "path",
    ["../x", "../outside/secret.txt", "/etc/passwd", "a/../../x", "./x", "a//b", "", ".git/hooks/pre-commit",
     ".git/config", "sub/.git/hooks/x", ".GIT/hooks/x", ".Git/config", "x\x00y", "a\\..\\b", "x\ny",
     ".orchestrator-kit/audit.jsonl", "C:/windows", "a/" + "b" * 300],
)
def test_bad_paths_are_refused_and_nothing_is_written(world, path):
    root, outside = world
    before_out, before_in = snapshot(outside), snapshot(root)
    with pytest.raises(ConfinementError):
        write(root, path)
    assert snapshot(outside) == before_out
    assert snapshot(root) == before_in


def test_a_symlinked_directory_pointing_outside_is_refused(world):
    root, outside = world
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfinementError):
        write(root, "link/new.txt")
    assert snapshot(outside) == {"secret.txt": b"keep me\n"}


def test_a_symlink_inside_the_root_is_not_followed_either(world):
    root, _ = world
    (root / "real").mkdir()
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    with pytest.raises(ConfinementError, match="symlink"):
        write(root, "alias/x.txt")
    assert not (root / "real" / "x.txt").exists()


def test_a_file_that_is_a_symlink_is_never_written_through(world):
    root, outside = world
    (root / "target.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(ConfinementError, match="symlink"):
        write(root, "target.txt")
    assert (outside / "secret.txt").read_text() == "keep me\n"


def test_a_file_swapped_for_a_symlink_between_plan_and_apply_is_refused(world):
    root, outside = world
    writer = Writer(root)
    plan = writer.plan([ProposedFile("existing.txt", "changed\n")])
    (root / "existing.txt").unlink()
    (root / "existing.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(ConfinementError, match="outside the repository"):
        writer.apply(plan, plan.hash)
    assert (outside / "secret.txt").read_text() == "keep me\n"
    # A symlink to a file inside the root is refused too: the Writer never writes through a symlink.
    (root / "other.txt").write_text("old\n")
    (root / "existing.txt").unlink()
    (root / "existing.txt").symlink_to(root / "other.txt")
    with pytest.raises(ConfinementError, match="symlink"):
        writer.apply(plan, plan.hash)
    assert (root / "other.txt").read_text() == "old\n"


def test_a_directory_swapped_for_a_symlink_between_plan_and_apply_is_refused(world):
    root, outside = world
    (root / "d").mkdir()
    writer = Writer(root)
    plan = writer.plan([ProposedFile("d/new.txt", "x\n")])
    (root / "d").rmdir()
    (root / "d").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfinementError):
        writer.apply(plan, plan.hash)
    assert snapshot(outside) == {"secret.txt": b"keep me\n"}


def test_a_file_created_between_plan_and_apply_is_not_overwritten(world):
    root, _ = world
    writer = Writer(root)
    plan = writer.plan([ProposedFile("fresh.txt", "mine\n")])
    (root / "fresh.txt").write_text("theirs\n")
    with pytest.raises(InputError, match="was created since the plan"):
        writer.apply(plan, plan.hash)
    assert (root / "fresh.txt").read_text() == "theirs\n"


def test_overwrite_needs_the_reviewed_hash(world):
    root, _ = world
    writer = Writer(root)
    plan = writer.plan([ProposedFile("existing.txt", "changed\n")])
    assert plan.changes[0].old_sha256 == hashlib.sha256(b"old\n").hexdigest()
    for wrong in ("", "0" * 64):
        with pytest.raises(InputError):
            writer.apply(plan, wrong)
    assert (root / "existing.txt").read_text() == "old\n"


def test_a_stale_plan_is_refused_when_the_file_changed(world):
    root, _ = world
    writer = Writer(root)
    plan = writer.plan([ProposedFile("existing.txt", "changed\n")])
    (root / "existing.txt").write_text("edited by someone\n")
    with pytest.raises(InputError, match="changed since the plan"):
        writer.apply(plan, plan.hash)
    assert (root / "existing.txt").read_text() == "edited by someone\n"


def test_expected_base_hash_mismatch_is_refused(world):
    root, _ = world
    with pytest.raises(InputError, match="changed since the automation was generated"):
        Writer(root).plan([ProposedFile("existing.txt", "x\n")], expected={"existing.txt": "f" * 64})


def test_huge_content_is_refused(world):
    root, _ = world
    with pytest.raises(InputError, match="over the"):
        Writer(root, max_bytes=1000).plan([ProposedFile("big.txt", "x" * 1001)])
    assert not (root / "big.txt").exists()


def test_an_unchanged_file_is_not_a_change_and_an_empty_plan_is_refused(world):
    root, _ = world
    with pytest.raises(InputError, match="Nothing to write"):
        Writer(root).plan([ProposedFile("existing.txt", "old\n")])
    with pytest.raises(InputError, match="empty"):
        Writer(root).plan([])


def test_a_root_inside_dot_git_is_refused(world):
    root, _ = world
    with pytest.raises(ConfinementError):
        Writer(root / ".git" / "hooks")


def test_a_symlinked_audit_folder_stops_the_apply_before_any_write(world):
    root, outside = world
    (root / ".orchestrator-kit").symlink_to(outside, target_is_directory=True)
    writer = Writer(root)
    plan = writer.plan([ProposedFile("new.txt", "x\n")])
    with pytest.raises(ConfinementError, match="audit"):
        writer.apply(plan, plan.hash)
    assert not (root / "new.txt").exists()
    assert snapshot(outside) == {"secret.txt": b"keep me\n"}


def test_create_is_exclusive_and_atomic_update_keeps_the_mode_and_other_hard_links(world):
    root, outside = world
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "run.sh", 0o750)  # noqa: S103 - a mode to keep
    os.link(root / "run.sh", outside / "twin.sh")
    write(root, "run.sh", "#!/bin/sh\necho new\n")
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o750
    assert (outside / "twin.sh").read_text() == "#!/bin/sh\n"  # the other name keeps the old content
    write(root, "scripts/new.sh", "#!/bin/sh\n", mode=0o755)
    assert stat.S_IMODE((root / "scripts/new.sh").stat().st_mode) == 0o755
    assert [p.name for p in root.iterdir() if "orchestrator-kit-" in p.name] == []  # no temporary file left


def test_diff_shows_new_and_changed_files(world):
    root, _ = world
    plan = Writer(root).plan([ProposedFile("existing.txt", "old\nmore\n"), ProposedFile("n/new.sh", "x\n", 0o755)])
    assert "--- a/existing.txt\n+++ b/existing.txt\n" in plan.diff and "+more\n" in plan.diff
    assert "new file mode 100755\n--- /dev/null\n+++ b/n/new.sh\n@@ -0,0 +1 @@\n+x\n" in plan.diff
    view = plan.view()
    assert view.plan_hash == plan.hash and [c.action for c in view.changes] == ["update", "create"]


def test_diff_redacts_secrets(world):
    root, _ = world
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    plan = Writer(root).plan([ProposedFile("creds.txt", f"aws_access_key_id = {key}\n")])
    assert key not in plan.diff and "REDACTED" in plan.diff


def test_undo_round_trip_restores_content_and_mode_and_removes_created_files(world):
    root, _ = world
    os.chmod(root / "existing.txt", 0o640)
    writer = Writer(root)
    plan = writer.plan([ProposedFile("existing.txt", "changed\n"), ProposedFile("deep/er/new.txt", "new\n")])
    applied = writer.apply(plan, plan.hash)
    assert [c.path for c in applied.applied] == ["existing.txt", "deep/er/new.txt"]
    entries = [json.loads(line) for line in (root / AUDIT_LOG).read_text().splitlines()]
    assert [e["op"] for e in entries] == ["apply", "apply"]
    assert (root / ".orchestrator-kit" / ".gitignore").read_text() == "*\n"

    preview = writer.undo(2, dry_run=True)
    assert [u.action for u in preview.undone] == ["removed", "restored"]
    assert (root / "deep/er/new.txt").exists()

    result = writer.undo(2)
    assert [(u.path, u.action) for u in result.undone] == [("deep/er/new.txt", "removed"), ("existing.txt", "restored")]
    assert (root / "existing.txt").read_text() == "old\n"
    assert stat.S_IMODE((root / "existing.txt").stat().st_mode) == 0o640
    assert not (root / "deep").exists()  # directories the apply created are removed when empty
    with pytest.raises(InputError, match="Nothing to undo"):
        writer.undo()


def test_undo_refuses_when_the_file_was_edited_after_the_apply(world):
    root, _ = world
    writer = write(root, "notes.txt", "generated\n")
    (root / "notes.txt").write_text("generated\nplus my edits\n")
    with pytest.raises(InputError, match="changed after"):
        writer.undo()
    assert (root / "notes.txt").read_text() == "generated\nplus my edits\n"


def test_a_tampered_audit_log_cannot_make_undo_write_outside(world):
    root, outside = world
    write(root, "a.txt")
    log = root / AUDIT_LOG
    entry = json.loads(log.read_text().splitlines()[0])
    entry.update({"id": "evil", "path": "../outside/secret.txt", "action": "update",
                  "new_sha256": hashlib.sha256(b"keep me\n").hexdigest(), "old_content_b64": "cHduZWQ="})
    with log.open("a") as fh:
        fh.write(json.dumps(entry) + "\n")
    result = Writer(root).undo()  # the forged entry (newest, unsigned) is ignored; the real one is undone
    assert [u.path for u in result.undone] == ["a.txt"] and result.ignored_entries == 1
    assert (outside / "secret.txt").read_text() == "keep me\n"
    log.write_text("not json\n")
    with pytest.raises(InputError, match="1 entries were ignored because they are not signed"):
        Writer(root).undo()
    # json.loads raised RecursionError and a bare ValueError for these: undo said "Internal error" (a cloned
    # repository can hold any audit log)
    log.write_text("[" * 100_000 + "]" * 100_000 + '\n{"op": ' + "9" * 5000 + "}\n")
    with pytest.raises(InputError, match="2 entries were ignored because they are not signed"):
        Writer(root).undo()


SEGMENTS = st.sampled_from(["..", ".", "", "a", "b", "link_out", "link_in", "file_link", ".git", "ünï", "日本",
                            "\u202e", "x" * 40, "-rf", " ", ".orchestrator-kit", "existing.txt"])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(SEGMENTS, min_size=1, max_size=5), leading_slash=st.booleans())
def test_property_no_path_escapes_the_root(tmp_path_factory, parts, leading_slash):
    base = tmp_path_factory.mktemp("prop")
    root, outside = base / "root", base / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("keep me\n")
    (root / "existing.txt").write_text("old\n")
    (root / "a").mkdir()
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "link_in").symlink_to(root / "a", target_is_directory=True)
    (root / "file_link").symlink_to(outside / "secret.txt")
    before = snapshot(outside)
    path = ("/" if leading_slash else "") + "/".join(parts)
    try:
        writer = Writer(root)
        plan = writer.plan([ProposedFile(path, "payload\n")])
        writer.apply(plan, plan.hash)
    except OrchestratorError:
        pass
    else:
        written = Path(os.path.realpath(root / path))
        assert written.is_relative_to(root.resolve())
        assert ".git" not in [p.lower() for p in Path(path).parts]
        assert not any((root / Path(*Path(path).parts[:i])).is_symlink() for i in range(1, len(Path(path).parts) + 1))
    after = snapshot(outside)
    assert after == before
    assert sum(len(v) for v in after.values()) == sum(len(v) for v in before.values())  # 0 bytes written outside
