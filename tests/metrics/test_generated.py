"""Hotspots, the churn list and coupling leave out generated files (lock files, linguist-generated, vendored and generated paths)
and coupling leaves out pairs of two test fixtures, saying how many and why; both come back when asked. On a real
git repository (helm/helm had go.sum as its first hotspot and testdata/ pairs as most of its coupling)."""

from __future__ import annotations

import json

import pytest

from orchestrator_kit.metrics.generated import path_reason
from orchestrator_kit.metrics.history import history_metrics

from .conftest import Scripted, lines

GENERATED = {"go.sum": 400, "package-lock.json": 300, "docs/big.txt": 200, "vendor/x/y.go": 150, "gen/api.pb.go": 120}
FIXTURES = {"pkg/testdata/a.txt": 5, "pkg/testdata/b.txt": 5, "pkg/testdata/out.txt": 5}
OTHERS = {"src/app.go": 50, "pkg/cmd.go": 40, "web/app.min.js": 30}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Scripted:
    """Six commits, each changing all eleven files (so every pair is coupled at 100%); `.gitattributes` marks
    docs/big.txt linguist-generated and keeps web/app.min.js with -linguist-generated."""
    repo = Scripted(tmp_path_factory.mktemp("generated"))
    repo.write({".gitattributes": "docs/big.txt linguist-generated\nweb/app.min.js -linguist-generated\n"})
    for n in range(6):
        files = {path: lines(size, f"r{n}") for path, size in {**GENERATED, **FIXTURES, **OTHERS}.items()}
        repo.commit(f"c{n}", f"2026-03-{n + 2:02d}T10:00:00+00:00", files=files)
    return repo


def test_generated_files_are_left_out_of_hotspots_and_listed(repo):
    hotspots = history_metrics(repo.root, top=100).hotspots
    # .gitattributes itself was committed once with c0: 1 revision x 2 lines
    assert [h.path for h in hotspots.items] == ["src/app.go", "pkg/cmd.go", "web/app.min.js", "pkg/testdata/a.txt",
                                                "pkg/testdata/b.txt", "pkg/testdata/out.txt", ".gitattributes"]
    assert hotspots.left_out == {".gitattributes linguist-generated": 1, "generated name": 1, "lock file": 2,
                                 "vendored path": 1}
    assert [(h.path, h.score, h.generated) for h in hotspots.left_out_items] == [
        ("go.sum", 2400, "lock file"), ("package-lock.json", 1800, "lock file"),
        ("docs/big.txt", 1200, ".gitattributes linguist-generated"), ("vendor/x/y.go", 900, "vendored path"),
        ("gen/api.pb.go", 720, "generated name")]
    assert not hotspots.generated_included


def test_generated_files_come_back_when_asked(repo):
    hotspots = history_metrics(repo.root, top=100, include_generated=True).hotspots
    assert hotspots.generated_included and hotspots.left_out == {} and hotspots.left_out_items == []
    assert [(h.path, h.generated) for h in hotspots.items[:2]] == [("go.sum", "lock file"),
                                                                   ("package-lock.json", "lock file")]
    assert len(hotspots.items) == 12


def test_coupling_leaves_out_generated_files_and_fixture_pairs(repo):
    coupling = history_metrics(repo.root, top=100).coupling
    # 11 files: 55 pairs; 55 - C(6, 2) = 40 have a generated file; C(3, 2) = 3 are two fixtures; 12 are kept
    assert coupling.pairs_left_out == {"a generated file": 40, "both test fixtures": 3}
    assert len(coupling.pairs) == 12
    kept = {frozenset((p.path, p.coupled)) for p in coupling.pairs}
    assert frozenset(("pkg/cmd.go", "pkg/testdata/out.txt")) in kept  # one fixture with code: kept
    assert frozenset(("pkg/testdata/a.txt", "pkg/testdata/b.txt")) not in kept
    assert all(p.degree == 100 and p.shared_revisions == 6 for p in coupling.pairs)

    everything = history_metrics(repo.root, top=100, include_generated=True, include_fixtures=True).coupling
    assert everything.pairs_left_out == {} and len(everything.pairs) == 55
    assert everything.generated_included and everything.fixtures_included


@pytest.mark.parametrize(
    ("path", "reason"),
    [("yarn.lock", "lock file"), ("web/pnpm-lock.yaml", "lock file"), ("Cargo.lock", "lock file"),
     ("poetry.lock", "lock file"), ("deploy/.terraform.lock.hcl", "lock file"), ("go.mod", None),
     ("third_party/lib/a.c", "vendored path"), ("pkg/node_modules/x/index.js", "vendored path"),
     ("api/zz_generated.deepcopy.go", "generated name"), ("proto/a_pb2.py", "generated name"),
     ("ui/schema.generated.ts", "generated name"), ("src/__generated__/q.ts", "generated name"),
     ("src/vendors.py", None), ("src/generated_by_hand.py", None), ("src/app.go", None)],
)
def test_path_reasons(path, reason):
    assert path_reason(path) == reason


@pytest.mark.parametrize("only", [[], ["--only", "history"]])
def test_the_cli_flags_keep_them(repo, only):
    from .test_cli_metrics import cli

    args = ["metrics", str(repo.root), *only, "--no-tokens", "-f", "json", "--top", "100", "-q"]
    default = json.loads(cli(*args).stdout)["history"]
    kept = json.loads(cli(*args, "--include-generated", "--include-fixtures").stdout)["history"]
    assert default["hotspots"]["left_out"]["lock file"] == 2 and kept["hotspots"]["left_out"] == {}
    assert default["coupling"]["pairs_left_out"] == {"a generated file": 40, "both test fixtures": 3}
    assert kept["coupling"]["pairs_left_out"] == {} and len(kept["coupling"]["pairs"]) == 55
    assert kept["options"]["include_generated"] and kept["options"]["include_fixtures"]


def test_the_reports_say_what_was_left_out(repo):
    from .test_cli_metrics import cli

    for output_format in ("markdown", "table"):
        text = cli("metrics", str(repo.root), "--only", "history", "-f", output_format, "-q", "--wide").stdout
        hint = "`--include-generated`" if output_format == "markdown" else "--include-generated"
        assert "Left out of the hotspots: 5 generated files (.gitattributes linguist-generated 1, generated name 1, " \
               f"lock file 2, vendored path 1); {hint} keeps them." in text
        assert "Left out of the coupling: 43 pairs (a generated file 40, both test fixtures 3)" in text


def test_the_churn_list_leaves_out_generated_files_and_the_totals_count_them(repo):
    churn = history_metrics(repo.root, top=100).churn
    assert [f.path for f in churn.files] == ["src/app.go", "pkg/cmd.go", "web/app.min.js", "pkg/testdata/a.txt",
                                             "pkg/testdata/b.txt", "pkg/testdata/out.txt", ".gitattributes"]
    assert churn.left_out == {".gitattributes linguist-generated": 1, "generated name": 1, "lock file": 2,
                              "vendored path": 1}
    assert all(f.generated is None for f in churn.files) and not churn.generated_included
    sizes = sum({**GENERATED, **FIXTURES, **OTHERS}.values())
    # every commit rewrites every file: 6 x size added, 5 x size deleted; .gitattributes adds 2 lines once
    assert (churn.files_total, churn.lines_added, churn.lines_deleted) == (12, 6 * sizes + 2, 5 * sizes)
    # directories count every file: the root holds go.sum, package-lock.json and .gitattributes
    assert [(d.path, d.churn) for d in churn.directories[:3]] == [(".", 11 * 400 + 11 * 300 + 2), ("docs", 11 * 200),
                                                                  ("vendor/x", 11 * 150)]


def test_the_churn_list_keeps_generated_files_when_asked_and_says_why(repo):
    churn = history_metrics(repo.root, top=3, include_generated=True).churn
    assert [(f.path, f.churn, f.generated) for f in churn.files] == [
        ("go.sum", 11 * 400, "lock file"), ("package-lock.json", 11 * 300, "lock file"),
        ("docs/big.txt", 11 * 200, ".gitattributes linguist-generated")]
    assert churn.generated_included and churn.left_out == {}


def test_the_markdown_report_says_what_the_churn_list_left_out(repo):
    from typer.testing import CliRunner

    from orchestrator_kit.cli import app

    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["metrics", str(repo.root), "--format", "markdown", "--only", "history"])
    assert result.exit_code == 0, result.output
    assert ("Left out of the churn list: 5 generated files (.gitattributes linguist-generated 1, generated name 1, "
            "lock file 2, vendored path 1); `--include-generated` keeps them.") in result.stdout
