"""Workspace: listing, confinement and safe reading, on real folders and real git repositories."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from orchestrator_kit.errors import ConfinementError, InputError, ReadError
from orchestrator_kit.repo import Workspace, _read_upto, decode

from .conftest import git, write_files


def test_git_listing_has_tracked_and_untracked_but_not_ignored(make_repo):
    root = make_repo({"a.txt": "a", ".gitignore": "*.log\nbuild/\n", "src/b.py": "b"}, git_repo=True)
    write_files(root, {"new.txt": "untracked", "debug.log": "ignored", "build/out.txt": "ignored"})
    ws = Workspace(root)
    assert ws.listing().source == "git"
    assert ws.files() == [".gitignore", "a.txt", "new.txt", "src/b.py"]


def test_git_listing_from_a_subdirectory_is_relative_to_it(make_repo):
    root = make_repo({"svc/Makefile": "all:\n", "other/x": "x"}, git_repo=True)
    assert Workspace(root / "svc").files() == ["Makefile"]


def test_empty_git_repository_lists_untracked_files(make_repo):
    root = make_repo({"Makefile": "all:\n"}, git_repo=True, commit=False)
    ws = Workspace(root)
    info = ws.git_info()
    assert info is not None and info.empty and info.head is None
    assert ws.files() == ["Makefile"]


def test_git_info_reports_head_branch_and_shallow(make_repo, tmp_path):
    root = make_repo({"a": "1"}, git_repo=True)
    git(root, "commit", "-q", "--allow-empty", "-m", "second")
    head = git(root, "rev-parse", "HEAD").strip()
    info = Workspace(root).git_info()
    assert info is not None
    assert (info.head, info.branch, info.shallow, info.empty) == (head, "main", False, False)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{root}", str(clone)], check=True)
    shallow = Workspace(clone).git_info()
    assert shallow is not None and shallow.shallow


def test_walk_honours_nested_gitignore_and_skips_dependency_folders(tmp_path):
    write_files(
        tmp_path,
        {
            ".gitignore": "*.tmp\n/dist/\n",
            "keep.txt": "k",
            "x.tmp": "ignored",
            "dist/app.js": "ignored (root-anchored)",
            "pkg/dist/app.js": "kept: /dist/ is anchored to the root",
            "pkg/.gitignore": "secret.txt\n!important.tmp\n",
            "pkg/secret.txt": "ignored by the nested file",
            "pkg/important.tmp": "re-included by the nested file",
            "node_modules/lib/index.js": "skipped",
        },
    )
    ws = Workspace(tmp_path)
    assert ws.listing().source == "walk"
    assert ws.files() == [
        ".gitignore", "keep.txt", "pkg/.gitignore", "pkg/dist/app.js", "pkg/important.tmp",
    ]


def test_walk_survives_symlink_loops_and_does_not_follow_directory_links(tmp_path):
    write_files(tmp_path, {"a/file.txt": "x"})
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "self").symlink_to("self")
    ws = Workspace(tmp_path)
    files = ws.files()
    assert "a/file.txt" in files
    assert not any(f.startswith("a/loop/") for f in files)
    with pytest.raises(ReadError, match="symlink loop"):
        ws.read_text("self")


@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/passwd", "a/../../x", "-rf", "", "a\x00b"])
def test_resolve_refuses_paths_outside_the_root(tmp_path, bad):
    ws = Workspace(tmp_path)
    with pytest.raises(ConfinementError):
        ws.resolve(bad)


def test_symlink_leaving_the_root_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "dirlink").symlink_to(outside)
    ws = Workspace(root)
    with pytest.raises(ConfinementError, match="outside the repository"):
        ws.read_text("link.txt")
    with pytest.raises(ConfinementError):
        ws.read_text("dirlink/secret.txt")


def test_symlink_inside_the_root_is_followed(tmp_path):
    write_files(tmp_path, {"real.yml": "a: 1\n"})
    (tmp_path / "alias.yml").symlink_to("real.yml")
    assert Workspace(tmp_path).read_text("alias.yml").text == "a: 1\n"


def test_size_cap(tmp_path):
    write_files(tmp_path, {"big.txt": "x" * 2000, "small.txt": "y" * 100})
    ws = Workspace(tmp_path, max_file_bytes=1000)
    with pytest.raises(ReadError, match="2000 bytes, over the 1000-byte cap"):
        ws.read_text("big.txt")
    assert ws.read_text("small.txt").size == 100


def test_a_file_of_exactly_the_cap_is_read_whole_and_one_byte_more_is_not(tmp_path):
    write_files(tmp_path, {"at.txt": "a" * 1000, "over.txt": "b" * 1001, "empty.txt": ""})
    ws = Workspace(tmp_path, max_file_bytes=1000)
    assert ws.read_text("at.txt").text == "a" * 1000
    assert ws.read_text("empty.txt").text == ""
    with pytest.raises(ReadError, match="1001 bytes, over the 1000-byte cap"):
        ws.read_text("over.txt")


@pytest.mark.parametrize("size_hint", [0, 10, 50_000, 200_000])
def test_reading_goes_on_past_the_size_the_file_had_up_to_the_limit(size_hint):
    """`_read_upto` reads what the descriptor holds, whatever size `stat` gave (a file that grew since, or one
    that reports 0), and never more than the limit."""
    data = bytes(range(256)) * 200  # 51,200 bytes: more than one read of the size hint, less than a pipe holds
    for limit, expected in ((10**6, data), (30_000, data[:30_000]), (len(data), data)):
        read_end, write_end = os.pipe()
        os.write(write_end, data)
        os.close(write_end)
        try:
            assert _read_upto(read_end, limit, size_hint) == expected
        finally:
            os.close(read_end)


@pytest.mark.parametrize("path", [".git/config", "sub/.git/hooks/x", ".GIT/HEAD", "a/.Git/config",
                                  "\uff0e\uff47\uff49\uff54/config", "a/.\uff27\uff29\uff34/x"])
def test_paths_inside_git_are_refused_in_any_spelling(tmp_path, path):
    with pytest.raises(ConfinementError, match=r"inside \.git"):
        Workspace(tmp_path).resolve(path)


def test_names_that_only_start_like_git_are_not_refused(tmp_path):
    write_files(tmp_path, {".github/workflows/ci.yml": "on: push\n", ".gitignore": "x\n", "a/.git.d/f": "y\n"})
    ws = Workspace(tmp_path)
    for path in (".github/workflows/ci.yml", ".gitignore", "a/.git.d/f"):
        assert ws.read_text(path).path == path


def test_binary_file_is_refused(tmp_path):
    write_files(tmp_path, {"image.yml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    with pytest.raises(ReadError, match="binary"):
        Workspace(tmp_path).read_text("image.yml")


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ("héllo\n".encode(), "héllo\n", "utf-8"),
        (b"\xef\xbb\xbfname: x\r\n", "name: x\n", "utf-8-sig"),
        ("a: ü\n".encode("utf-16-le"), "a: ü\n", "utf-16-le"),
        (b"\xff\xfe" + "a: ü\n".encode("utf-16-le"), "a: ü\n", "utf-16-le"),
        (b"caf\xe9 \x80\n", "café \x80\n", "latin-1"),
        (b"old\rmac\r", "old\nmac\n", "utf-8"),
    ],
)
def test_decode(data, text, encoding):
    if encoding == "utf-16-le" and not data.startswith(b"\xff\xfe"):
        # UTF-16 without a BOM is full of NUL bytes: it is indistinguishable from binary, and refused as such.
        assert decode(data)[0] is None
        return
    decoded, used, _ = decode(data)
    assert (decoded, used) == (text, encoding)


def test_latin1_fallback_says_where_utf8_failed(tmp_path):
    write_files(tmp_path, {"notes.md": b"# Caf\xe9\n"})
    file = Workspace(tmp_path).read_text("notes.md")
    assert file.text == "# Café\n"
    assert file.note == "not valid UTF-8 (byte 0xe9 at offset 5); decoded as Latin-1"


def test_fifo_and_socket_are_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.yml")
    sock = socket.socket(socket.AF_UNIX)
    sock_path = tmp_path / "s.yml"
    try:
        sock.bind(str(sock_path))
        ws = Workspace(tmp_path)
        with pytest.raises(ReadError, match="not a regular file"):
            ws.read_text("pipe.yml")  # would block forever if opened
        with pytest.raises(ReadError, match="not a regular file"):
            ws.read_text("s.yml")
    finally:
        sock.close()


def test_directory_is_not_read(tmp_path):
    (tmp_path / "dir.yml").mkdir()
    with pytest.raises(ReadError, match="is a directory"):
        Workspace(tmp_path).read_text("dir.yml")


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_workspace_root_must_be_a_directory(tmp_path, kind):
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("x")
    with pytest.raises(InputError, match="does not exist" if kind == "missing" else "is not a directory"):
        Workspace(target)


def test_hostile_git_config_cannot_run_a_program(make_repo, tmp_path):
    """A repository's .git/config may name programs (fsmonitor); listing it must not start them."""
    root = make_repo({"a.txt": "a"}, git_repo=True)
    marker = tmp_path / "pwned"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    git(root, "config", "core.fsmonitor", str(hook))
    git(root, "config", "core.pager", f"sh -c 'touch {marker}'")
    write_files(root, {"b.txt": "b"})
    assert Workspace(root).files() == ["a.txt", "b.txt"]
    assert not marker.exists()


def test_git_failure_falls_back_to_a_walk_with_a_problem(make_repo):
    root = make_repo({"a.txt": "a"}, git_repo=True)
    (root / ".git" / "index").write_bytes(b"garbage, not an index")
    listing = Workspace(root).listing()
    assert listing.source == "walk"
    assert listing.files == ["a.txt"]
    assert listing.problems and "git ls-files failed" in listing.problems[0][1]


def test_listing_is_capped(tmp_path):
    write_files(tmp_path, {f"f{i:03d}.txt": "x" for i in range(30)})
    listing = Workspace(tmp_path, max_files=10).listing()
    assert len(listing.files) == 10
    assert "30 files listed; only the first 10" in listing.problems[0][1]


def test_invalid_gitignore_lines_are_skipped_and_reported(tmp_path):
    # A lone "!" (seen in a real project's sdist) is a pattern git ignores and pathspec refuses.
    write_files(tmp_path, {".gitignore": "*.log\n!\nbuild/\n", "a.log": "x", "keep.txt": "k", "build/x": "x"})
    listing = Workspace(tmp_path).listing()
    assert listing.files == [".gitignore", "keep.txt"]
    assert listing.problems == [(".gitignore", "line 2: invalid pattern '!' ignored (Invalid git pattern: '!')")]


def test_a_file_in_merge_conflict_is_listed_once(make_repo):
    root = make_repo({"Makefile": "all:\n\techo base\n"}, git_repo=True)
    git(root, "checkout", "-q", "-b", "other")
    write_files(root, {"Makefile": "all:\n\techo other\n"})
    git(root, "commit", "-qam", "other")
    git(root, "checkout", "-q", "main")
    write_files(root, {"Makefile": "all:\n\techo main\n"})
    git(root, "commit", "-qam", "main")
    subprocess.run(["git", "-C", str(root), "merge", "-q", "other"], capture_output=True, check=False)
    assert "UU Makefile" in git(root, "status", "--porcelain")
    assert Workspace(root).files() == ["Makefile"]


def test_relative_confines_paths_a_person_typed(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Makefile").write_text("x")
    root = tmp_path / "repo"
    (root / "ci").mkdir(parents=True)
    (root / "ci" / "build.yml").write_text("x")
    (root / "escape").symlink_to(outside)
    ws = Workspace(root)
    monkeypatch.chdir(root / "ci")
    assert ws.relative("ci/build.yml") == "ci/build.yml"  # relative to the repository when it is there
    assert ws.relative("build.yml") == "ci/build.yml"  # else relative to the working directory
    assert ws.relative(root / "ci" / "build.yml") == "ci/build.yml"
    assert ws.relative(root) == "."
    for hostile in ("../../outside/Makefile", str(outside / "Makefile"), "escape/Makefile", "/etc/passwd",
                    "../" * 50 + "etc"):
        with pytest.raises(ConfinementError, match="outside the repository"):
            ws.relative(hostile)


@pytest.mark.parametrize("in_git", [True, False])
def test_a_name_that_is_not_utf8_is_listed_as_text_and_still_read(tmp_path, in_git):
    # Python lists it with surrogates, which open the file but no JSON can hold: a repository with one file named
    # in Latin-1 made scan, metrics and tokens --format json (and most MCP tools) fail with "Internal error"
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / os.fsdecode(b"docs/caf\xe9.txt")).write_bytes(b"hello\n")
    (root / os.fsdecode(b"docs/caf\xe8.txt")).write_bytes(b"shadowed\n")  # shows alike: the first is kept
    (root / "docs/caf\u00e9-utf8.txt").write_text("utf-8\n", encoding="utf-8")
    if in_git:
        git(root, "init", "-q")
        git(root, "add", "-A")
    workspace = Workspace(root)
    assert workspace.files() == ["docs/caf\u00e9-utf8.txt", "docs/caf\ufffd.txt"]
    assert workspace.read_text("docs/caf\ufffd.txt").text == "shadowed\n"  # the first by name on disk
    assert workspace.read_text("docs/caf\u00e9-utf8.txt").text == "utf-8\n"
    assert workspace.resolve("docs/caf\ufffd.txt") == root / os.fsdecode(b"docs/caf\xe8.txt")


def test_a_typed_path_that_is_not_utf8_is_given_as_listed_and_opens_in_a_new_workspace(tmp_path):
    # `validate PATH` turned a typed path into one with surrogates: its JSON report was "Internal error"
    (tmp_path / os.fsdecode(b"caf\xe9.mk")).write_bytes(b"all:\n")
    rel = Workspace(tmp_path).relative(os.fsdecode(b"caf\xe9.mk"))
    assert rel == "caf\ufffd.mk"
    assert Workspace(tmp_path).read_text(rel).text == "all:\n"  # looked up in the listing of that workspace
