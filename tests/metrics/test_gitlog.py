"""The `git log -z --numstat` record parser: exact on well-formed records, never raising on damaged ones."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator_kit.metrics.gitlog import FileChange, LogRequest, parse_numstat, parse_record

END = b"\x1fNONCE\x1f"


def test_a_record_with_a_rename_a_binary_file_and_a_path_with_a_tab():
    record = (b"abc123\x1fp1 p2\x1f1700000000\x1f1700000100\x1fa@x\x00A\x00Subject\n\nBody\x1e\x1f" + END
              + b"\x00\n3\t1\tsrc/a.py\x00-\t-\tlogo.png\x000\t0\t\x00old name.txt\x00new\tname.txt\x00")
    commit = parse_record(record, END)
    assert commit is not None
    assert (commit.sha, commit.parents, commit.author_time, commit.commit_time) == ("abc123", ("p1", "p2"),
                                                                                    1700000000, 1700000100)
    assert commit.subject == "Subject" and commit.message == "Subject\n\nBody\x1e\x1f"  # separators in a message are kept
    assert commit.files == [FileChange("src/a.py", 3, 1), FileChange("logo.png", None, None),
                            FileChange("new\tname.txt", 0, 0, "old name.txt")]


def test_a_commit_without_changes_and_an_incomplete_header():
    assert parse_record(b"s\x1f\x1f1\x1f2\x1fe\x00n\x00m" + END + b"\x00", END).files == []
    assert parse_record(b"s\x1f\x1f1\x1f2", END) is None
    assert parse_record(b"s\x1f\x1fnot-a-time\x1f2\x1fe\x00n\x00m" + END, END) is None


def test_a_rename_cut_short_is_left_out():
    assert parse_numstat(b"1\t2\ta\x000\t0\t\x00old") == [FileChange("a", 1, 2)]


@given(st.binary(max_size=400))
def test_damaged_bytes_never_raise(data):
    parse_record(data, END)
    parse_record(b"s\x1f\x1f1\x1f2\x1fe\x00n\x00m" + END + data, END)
    parse_numstat(data)


def test_the_query_shown_names_what_was_run():
    request = LogRequest(revisions=("--max-count=5", "HEAD"), renames=False, relative=True, pathspecs=(".",))
    assert request.display() == "git log --numstat --no-renames --diff-merges=off --relative --max-count=5 HEAD -- ."
    options = request.diff_options()
    for flag in ("--no-ext-diff", "--no-textconv", "--no-show-signature", "--diff-merges=off", "-z"):
        assert flag in options
