"""`--exclude GLOB` (repeatable) and the team config's `[scan] exclude` for scan, metrics and opportunities."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_kit.errors import InputError
from orchestrator_kit.excludes import MAX_EXCLUDES, check_excludes, exclude_pathspecs, excluded
from orchestrator_kit.samples import build_sample_repo

SAMPLE = Path(__file__).resolve().parents[1] / "evals" / "repos" / "acme-shop"


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("excludes") / "acme-shop").path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator_kit", *args, "--quiet"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "120"})


def test_a_glob_matches_the_path_or_a_folder_above_it():
    assert excluded("vendor/a/b.py", ["vendor"]) and excluded("vendor/a/b.py", ["vendor/*"])
    assert excluded("scripts/backup-db.sh", ["*.sh"]) and excluded("a/b/c.min.js", ["*.min.js"])
    assert not excluded("src/vendor.py", ["vendor"]) and not excluded("vendors/x", ["vendor"])
    assert exclude_pathspecs(["k8s"]) == [":(exclude,glob)k8s", ":(exclude,glob)k8s/**"]


@pytest.mark.parametrize("bad", ["", "  ", "a\x00b", ":(top)x", "/etc", "../up", "a/../../b", "-rf", "x" * 301])
def test_bad_globs_are_refused_with_one_line(bad):
    with pytest.raises(InputError) as err:
        check_excludes([bad])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("bad", "says"), [
    ("\\", "names nothing: it is empty, or only separators"),  # a Windows separator alone
    ("/", "names nothing"), (" ", "names nothing"),
    ("a\x00b", "contains a NUL character"),
    ("x" * 301, "is too long (over 300 characters)"),
])
def test_a_bad_glob_is_told_what_is_wrong_with_it(bad, says):
    with pytest.raises(InputError, match=re.escape(says)) as err:
        check_excludes([bad])
    assert "NUL" not in str(err.value) or "\x00" in bad  # one reason, the one that holds


def test_too_many_globs_are_refused():
    with pytest.raises(InputError, match=f"At most {MAX_EXCLUDES}"):
        check_excludes(["a"] * (MAX_EXCLUDES + 1))
    assert check_excludes(["vendor/", "a\\b"]) == ["vendor", "a/b"]


def test_scan_exclude_leaves_files_unread(acme):
    base = json.loads(cli("scan", str(acme), "-f", "json").stdout)
    proc = cli("scan", str(acme), "-f", "json", "--exclude", "k8s", "--exclude", "*.sh")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert not any(i["path"].startswith("k8s/") for i in data["infrastructure"])  # the three Kubernetes objects
    assert {t["name"] for t in base["tasks"]} - {t["name"] for t in data["tasks"]} == {"backup-db.sh",
                                                                                          "rotate-logs.sh"}
    assert data["files_read"] < base["files_read"]


def test_metrics_and_opportunities_exclude_history(acme):
    base = json.loads(cli("metrics", str(acme), "-f", "json", "--no-tokens").stdout)["history"]
    proc = cli("metrics", str(acme), "-f", "json", "--no-tokens", "--exclude", "src")
    assert proc.returncode == 0, proc.stderr
    history = json.loads(proc.stdout)["history"]
    assert history["commits"] < base["commits"]
    assert not any(h["path"].startswith("src/") for h in history["hotspots"]["items"])
    assert ":(exclude,glob)src" in history["query"]
    proc = cli("opportunities", str(acme), "-f", "json", "--exclude", ".github")
    assert proc.returncode == 0, proc.stderr
    assert not any(e["path"].startswith(".github/") for o in json.loads(proc.stdout)["opportunities"]
                   for e in o["evidence"])


def test_team_config_excludes(acme, tmp_path):
    repo = tmp_path / "acme"
    shutil.copytree(acme, repo, symlinks=True)
    (repo / ".orchestrator-kit.toml").write_text('[scan]\nexclude = ["k8s"]\n', encoding="utf-8")
    data = json.loads(cli("scan", str(repo), "-f", "json").stdout)
    assert not any(i["path"].startswith("k8s/") for i in data["infrastructure"])
    (repo / ".orchestrator-kit.toml").write_text('[scan]\nexclude = "k8s"\n', encoding="utf-8")
    proc = cli("scan", str(repo), "-f", "json", "--opportunities")  # invalid settings: reported, never a crash
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert any(i["path"].startswith("k8s/") for i in data["inventory"]["infrastructure"])
    assert any(".orchestrator-kit.toml" in d["reason"] or ".orchestrator-kit.toml" in d["path"]
               for d in data["opportunities"]["diagnostics"])


@pytest.mark.parametrize("command", ["scan", "metrics", "opportunities"])
def test_bad_exclude_on_the_command_line(acme, command):
    proc = cli(command, str(acme), "--exclude", "../outside")
    assert proc.returncode == 2 and proc.stderr.startswith("Error: Exclude glob") and "Traceback" not in proc.stderr
