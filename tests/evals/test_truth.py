"""Truth files are validated on load, with one-line errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator_kit import InputError
from orchestrator_kit.evals import load_truth, parse_truth
from orchestrator_kit.evals.truth import MAX_TRUTH_BYTES, sample_dir

CASES = Path(__file__).resolve().parents[2] / "evals" / "cases"


def test_every_shipped_truth_file_loads_and_names_an_existing_sample():
    files = sorted(CASES.glob("*.yaml"))
    assert files, "no truth files shipped"
    for file in files:
        truth = load_truth(file)
        assert truth.repo == file.stem
        assert (sample_dir(truth, file) / "history.yaml").is_file()


@pytest.mark.parametrize(("text", "message"), [
    ("repo: x\npipelines: [{system: github-actions, path: a.yml, jobs: [{id: b, needs: [nope]}]}]\n",
     r"pipelines\[0\]: Value error, job 'b' needs unknown job\(s\) nope in a.yml"),
    ("repo: x\ntasks: [{runner: make, path: Makefile, name: a, colour: red}]\n", r"tasks\[0\]\.colour: Extra inputs"),
    ("repo: x\ntasks: [{runner: Maven!, path: pom.xml, name: a}]\n", r"tasks\[0\]\.runner: String should match pattern"),
    ("repo: x\nschedules: [{source: crontab, path: c, expression: '* * * * *', target: t, line: 0}]\n",
     r"schedules\[0\]\.line: Input should be greater than or equal to 1"),
    ("repo: x\ntasks: [{runner: make, path: M, name: a}, {runner: make, path: M, name: a}]\n",
     "task listed twice: make M a"),
    ("repo: x\nforbidden: {secrets: [abc]}\n", "shorter than 8 characters"),
    ("repo: ../escape\n", r"repo: String should match pattern"),
    ("- a\n- b\n", "a truth file is a mapping"),
    ("", "not nothing"),
    ("repo: [unclosed\n", "invalid YAML"),
    ("tasks: 3\nschedules: 4\n", r"repo: Field required \(and 2 more problems\)"),
])
def test_bad_truth_files_get_one_clear_line(tmp_path, text, message):
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        load_truth(file)
    assert "\n" not in str(caught.value) and str(file) in str(caught.value)


def test_missing_huge_binary_and_directory_truth_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_truth(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="is not a file"):
        load_truth(tmp_path)
    huge = tmp_path / "huge.yaml"
    huge.write_text("repo: x\n# " + "x" * MAX_TRUTH_BYTES + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="a truth file is at most"):
        load_truth(huge)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"repo: \xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_truth(binary)


def test_parse_truth_refuses_what_is_not_a_mapping():
    with pytest.raises(InputError, match="<truth>: a truth file is a mapping"):
        parse_truth(["repo"])
    assert parse_truth({"repo": "ok"}).pipelines == []
