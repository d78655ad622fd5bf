"""Test fixtures and copies of other projects: counted in `skipped_fixtures`, left out unless asked for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from orchestrator_kit.cli import app
from orchestrator_kit.discovery import discover
from orchestrator_kit.discovery._fixtures import FixtureFilter, foreign_roots, is_fixture_path, split_fixtures
from orchestrator_kit.discovery.base import Findings
from orchestrator_kit.models import Diagnostic, Evidence, InfraItem
from orchestrator_kit.repo import Workspace

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers: [{name: web, image: web:1}]
"""
MAKEFILE = "build:\n\tgo build ./...\n"


@pytest.mark.parametrize(
    ("path", "fixture"),
    [
        ("pkg/cmd/testdata/deployment.yaml", True),
        ("internal/chart/v3/testdata/charts/x/templates/job.yaml", True),
        ("src/__fixtures__/ci.yml", True),
        ("spec/Fixtures/Makefile", True),  # folder names are compared case-insensitively
        ("test/manifests/deploy.yaml", True),
        ("tests/e2e/../charts/ok.yaml", False),  # `..` is not a test folder
        ("testing/charts/app/Chart.yaml", True),
        ("deploy/manifests/deployment.yaml", False),  # manifests of the project itself
        ("manifests/deployment.yaml", False),
        ("testdata.yaml", False),  # a file, not a folder
        ("docs/testing/guide.md", False),
    ],
)
def test_fixture_paths(path: str, fixture: bool) -> None:
    assert is_fixture_path(path) is fixture


def test_foreign_roots_need_a_licence_a_build_file_and_an_external_parent() -> None:
    files = [
        "LICENSE", "Makefile",  # the root is the project itself
        "external/zlib/LICENSE", "external/zlib/Makefile", "external/zlib/zlib.c",
        "deps/lua/COPYING", "deps/lua/CMakeLists.txt",
        "packages/web/LICENSE", "packages/web/package.json",  # a monorepo package is the project's own
        "contrib/half/LICENSE",  # no build file: not a project copy
    ]
    assert foreign_roots(files) == ["deps/lua", "external/zlib"]


def _repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({
        "Makefile": "test:\n\tgo test ./...\n",
        "deploy/deployment.yaml": DEPLOYMENT,
        "pkg/cmd/testdata/deployment.yaml": DEPLOYMENT,
        "pkg/cmd/testdata/broken.yaml": "apiVersion: v1\nkind: Service\nmetadata: [unclosed\n",
        "internal/testdata/src/plugin/Makefile": MAKEFILE,
        "external/lib/LICENSE": "MIT",
        "external/lib/Makefile": MAKEFILE,
        "test/manifests/job.yaml": DEPLOYMENT.replace("Deployment", "Job").replace("web", "job"),
    })


def test_fixture_findings_are_counted_and_left_out(make_repo: Callable[..., Path]) -> None:
    inventory = discover(Workspace(_repo(make_repo)))
    assert [(t.path, t.name) for t in inventory.tasks] == [("Makefile", "test")]
    assert [i.path for i in inventory.infrastructure] == ["deploy/deployment.yaml"]
    assert not any("testdata" in d.path for d in inventory.diagnostics)
    skipped = inventory.skipped_fixtures
    assert skipped.included is False
    assert skipped.by_kind["tasks"] == 2 and skipped.by_kind["infrastructure"] == 2
    assert skipped.by_kind.get("diagnostics", 0) >= 1
    assert skipped.items == 4
    assert skipped.files == 5
    assert "pkg/cmd/testdata" in skipped.folders
    note = skipped.note()
    assert note is not None and "4 items" in note and "--include-fixtures" in note


def test_include_fixtures_keeps_them_and_still_counts(make_repo: Callable[..., Path]) -> None:
    inventory = discover(Workspace(_repo(make_repo)), include_fixtures=True)
    assert len(inventory.tasks) == 3 and len(inventory.infrastructure) == 3
    assert inventory.skipped_fixtures.included and inventory.skipped_fixtures.items == 4


def test_a_repository_without_fixtures_says_nothing(make_repo: Callable[..., Path]) -> None:
    inventory = discover(Workspace(make_repo({"Makefile": MAKEFILE})))
    assert inventory.skipped_fixtures.items == 0 and inventory.skipped_fixtures.note() is None


@pytest.mark.parametrize("flag", [[], ["--include-fixtures"]])
def test_cli_json_and_table(make_repo: Callable[..., Path], flag: list[str]) -> None:
    root = _repo(make_repo)
    result = CliRunner().invoke(app, ["scan", str(root), "-f", "json", *flag])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["skipped_fixtures"]["items"] == 4
    assert len(data["tasks"]) == (3 if flag else 1)
    table = CliRunner().invoke(app, ["scan", str(root), "--no-metrics", "--no-opportunities", *flag])
    assert table.exit_code == 0
    assert ("included on request" if flag else "4 items in test fixtures") in " ".join(table.output.split())


def test_mcp_scan_repository_counts_and_includes_on_request(make_repo: Callable[..., Path]) -> None:
    from orchestrator_kit.mcp_tools import inventory as tools
    from orchestrator_kit.mcp_tools.state import ServerState

    root = _repo(make_repo)
    state = ServerState.create([root])
    summary = tools.scan_repository(state, str(root), max_tokens=4000)
    assert summary.skipped_fixtures.items == 4 and summary.counts.tasks == 1
    summary = tools.scan_repository(state, str(root), max_tokens=4000, include_fixtures=True)
    assert summary.cached is False and summary.counts.tasks == 3
    # The list tools show what the last scan chose.
    _root, _folder, scan = state.scan(str(root))
    assert len(scan.inventory.tasks) == 3


def _item(path: str) -> InfraItem:
    return InfraItem(kind="dockerfile", name=path, path=path, evidence=Evidence(path=path, line_start=1, line_end=1))


@pytest.mark.parametrize("include", [False, True])
def test_split_counts_each_fixture_item_under_the_folder_that_makes_it_one(include: bool) -> None:
    paths = ["a/testdata/x/Dockerfile", "a/testdata/y/Dockerfile", "Dockerfile", "b/TestData/Dockerfile",
             "a/testdata/x/sub/Dockerfile", "tests/charts/c/Dockerfile", "b/testdata/Dockerfile", "charts/Dockerfile",
             "b/TestData/Dockerfile.dev"]
    findings = Findings(infrastructure=[_item(p) for p in paths],
                        diagnostics=[Diagnostic(path="a/testdata/x/Dockerfile", reason="odd"),
                                     Diagnostic(path="Dockerfile", reason="odd")])
    skipped = split_fixtures(findings, FixtureFilter(paths), include=include)
    assert skipped.items == 7 and skipped.files == 7 and skipped.included is include
    assert skipped.by_kind == {"diagnostics": 1, "infrastructure": 7}
    # most items first; equal counts in the order first met
    assert skipped.folders == ["a/testdata", "b/TestData", "tests/charts", "b/testdata"]
    kept = paths if include else ["Dockerfile", "charts/Dockerfile"]
    assert [item.path for item in findings.infrastructure] == kept
    assert [d.path for d in findings.diagnostics] == (["a/testdata/x/Dockerfile", "Dockerfile"] if include
                                                     else ["Dockerfile"])


_PARTS = ["testdata", "TestData", "tests", "test", "charts", "Manifests", "src", "external", "lib", "a", "fixtures",
          "e2e", "configs", "vendored", "x"]


@given(st.lists(st.lists(st.sampled_from(_PARTS), min_size=0, max_size=5), min_size=1, max_size=30))
def test_the_filter_decides_each_folder_as_the_whole_path_test_does(folders: list[list[str]]) -> None:
    """One filter over many paths, in any order (each folder decided once, on top of its parent's answer): the
    answer of testing the whole path, and of the foreign roots as prefixes."""
    files = ["external/lib/LICENSE", "external/lib/Makefile", "a/vendored/x/COPYING", "a/vendored/x/go.mod"]
    files += ["/".join([*parts, "f.yml"]) for parts in folders]
    fixture = FixtureFilter(files)
    assert fixture.foreign == ("a/vendored/x/", "external/lib/")
    for path in files:
        expected = "/" in path and (is_fixture_path(path) or path.startswith(fixture.foreign))
        assert fixture(path) is expected, path
